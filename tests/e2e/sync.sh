#!/bin/sh
# End to end against the reference center over HTTPS on loopback, from a
# generated plan: init -> register -> fetch -> verify -> status, and the
# failures a proctor meets on the way, each with its own one-line message.
#   sync.sh EXAMROOM EXAMCENTER MKRESULTS
set -u
room=$1 center=$2 mkresults=$3
tmp=$(mktemp -d /tmp/examroom-e2e-XXXXXX)
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
. "$(dirname "$0")/../lib.sh"

C="$center --data $tmp/center"
R1="$room --data $tmp/r01"
R2="$room --data $tmp/r02"

$C init >/dev/null || exit 1
$C plan sample "$tmp/plan" --candidates 40 --rooms 2 --start-in 60 >/dev/null || exit 1
$C plan import "$tmp/plan" >/dev/null || exit 1
serial1=$($C serial issue --room R01)
serial2=$($C serial issue --room R02)

start_center() {
    : >"$tmp/serve.out"
    $C serve --listen 127.0.0.1:0 >"$tmp/serve.out" 2>"$tmp/serve.log" &
    pid=$!
    port=$(wait_ready "$tmp/serve.out")
}
start_center
url="https://localhost:$port"
key="$tmp/center/center-key.pub"
ca="$tmp/center/ca.pem"

expect 0 "考场已初始化" $R1 init --center "$url" --center-key "$key" --center-ca "$ca" --name 第一考场
expect 1 "已经初始化过" $R1 init --center "$url" --center-key "$key" --center-ca "$ca"
expect 2 "用法" $R1 init --center "$url"
expect 2 "https://" $room --data "$tmp/x" init --center "http://localhost:$port" --center-key "$key"
expect 1 "尚未初始化" $room --data "$tmp/none" fetch

# A typo is caught before any network call: the center saw no register.
# One substituted symbol: the check symbol always catches it (several at once
# could cancel out).
first=$(printf %s "$serial1" | cut -c1)
if [ "$first" = 0 ]; then other=1; else other=0; fi
expect 1 "校验位不符" $R1 register "$other$(printf %s "$serial1" | cut -c2-)"
if grep -q 'POST /v1/register' "$tmp/serve.log"; then
    fail=$((fail + 1))
    echo "FAIL: a mistyped serial reached the center"
fi
expect 1 "尚未注册" $R1 fetch
expect 1 "没有这个注册码" $R1 register 0000-0000-0000-0000
expect 0 "注册成功：R01" $R1 register "$serial1"
expect 0 "注册成功：R01" $R1 register "$serial1"

# Another room cannot take R01's serial.
expect 0 "考场已初始化" $R2 init --center "$url" --center-key "$key" --center-ca "$ca"
expect 1 "已被其他考场服务器使用" $R2 register "$serial1"
expect 0 "注册成功：R02" $R2 register "$serial2"

expect 1 "还没有为本考场生成试卷包" $R1 fetch
$C pack >"$tmp/packed" || fail=$((fail + 1))
expect 0 "已校验通过并保存" $R1 fetch
expect 0 "已是最新" $R1 fetch
expect 0 "试卷包校验通过：计划 .*考场 R01，第 1 版" $R1 verify
expect 0 '"backlog": 0' $R1 status --json
expect 0 "未解锁，未签到" $R1 status
expect 0 "时钟偏差" $R1 status

# Unlocking offline with the code the center gives by phone: a wrong one (the
# other session's) is named as wrong; the right one unlocks and says so.
code1=$($C unlock-code --session S1)
code2=$($C unlock-code --session S2)
expect 1 "开考密码不正确" $R1 unlock S1 "$code2"
expect 1 "没有这个场次" $R1 unlock S9 "$code1"
expect 0 "场次 S1 已解锁" $R1 unlock S1 "$code1"
expect 0 "场次 S1: 已解锁" $R1 status
expect 0 "场次 S2: 未解锁" $R1 status
if $R1 --verbose status 2>&1 | grep -qF "$code1"; then
    fail=$((fail + 1))
    echo "FAIL: the unlock code appears in the output"
fi

# Results and events reach the center once, acknowledged by verified receipts.
expect 0 "15 results, 3 events" "$mkresults" "$tmp/r01" 15 100 3
expect 0 "待上传: 18 条" $R1 status
expect 0 "确认：18 条；尚待上传：0 条" $R1 sync
expect 0 '"backlog": 0' $R1 status --json
expect 0 "确认：0 条；尚待上传：0 条" $R1 sync --wait
n=$($C scores --format json | grep -c '"ticket"')
if [ "$n" -ne 15 ]; then
    fail=$((fail + 1))
    echo "FAIL: the center holds $n results, not 15"
fi

# R02's package file is refused by R01, and a damaged copy by anyone.
r02pkg=$(grep '\.R02\.' "$tmp/packed")
expect 1 "属于其他考场" $R1 verify "$r02pkg"
cp "$r02pkg" "$tmp/damaged.pkg"
printf 'X' | dd of="$tmp/damaged.pkg" bs=1 seek=5000 conv=notrunc 2>/dev/null
expect 1 "内容与签名不符" $R2 verify "$tmp/damaged.pkg"

# A new version replaces the old; the old file no longer passes the check.
r01v1=$(grep '\.R01\.' "$tmp/packed")
$C pack --room R01 >/dev/null
expect 0 "第 2 版已校验通过并保存" $R1 fetch
expect 1 "比本机已有的版本旧" $R1 verify "$r01v1"
expect 0 "考场 R01，第 2 版" $R1 verify

# The center's clock 1000 s ahead of ours: the first request is refused as
# skewed, the room signs again with the center's time, and status shows the
# offset it measured.
kill "$pid" && wait "$pid" 2>/dev/null
: >"$tmp/serve.out"
EXAMCENTER_NOW=$(($(date +%s) + 1000)) $C serve --listen "127.0.0.1:$port" >"$tmp/serve.out" \
    2>>"$tmp/serve.log" &
pid=$!
wait_ready "$tmp/serve.out" >/dev/null
expect 0 "已是最新" $R1 fetch
expect 0 "时钟偏差 +\(99[0-9]\|100[0-9]\) 秒" $R1 status
kill "$pid" && wait "$pid" 2>/dev/null
start_center_on() {
    : >"$tmp/serve.out"
    $C serve --listen "127.0.0.1:$1" >"$tmp/serve.out" 2>>"$tmp/serve.log" &
    pid=$!
    wait_ready "$tmp/serve.out" >/dev/null
}
start_center_on "$port"

# A center whose certificate is not from the pinned CA: refused.
$center --data "$tmp/other" init >/dev/null
expect 0 "考场已初始化" $room --data "$tmp/r03" init --center "$url" --center-key "$key" --center-ca "$tmp/other/ca.pem"
expect 1 "证书无法验证" $room --data "$tmp/r03" register "$serial2"

# R02 moved to another machine: a second serial for it needs --replace; once
# the new machine registers with it, the old one is told its key is retired
# (not a protocol error, nor 'serial used').
R4="$room --data $tmp/r04"
expect 0 "考场已初始化" $R4 init --center "$url" --center-key "$key" --center-ca "$tmp/center/ca.pem"
expect 2 "replace" $C serial issue --room R02
serial4=$($C serial issue --replace R02)
expect 1 "用另一个注册码注册过" $R2 register "$serial4"
expect 0 "注册成功：R02" $R4 register "$serial4"
expect 1 "本机的密钥已停用" $R2 fetch
expect 1 "本机的密钥已停用" $R2 register "$serial2"

# The center down: fetch and sync say so; a package brought on a USB stick works.
kill "$pid" && wait "$pid" 2>/dev/null
pid=""
expect 1 "无法连接考试中心" $R2 fetch
expect 0 "5 results, 0 events" "$mkresults" "$tmp/r01" 5 10 0
expect 1 "无法连接考试中心" $R1 sync
expect 0 "待上传: 5 条" $R1 status
expect 0 "已校验通过并保存" $R2 fetch --from "$r02pkg"
expect 0 "考场 R02，第 1 版" $R2 verify

finish
