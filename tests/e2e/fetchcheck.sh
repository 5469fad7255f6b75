#!/bin/sh
# What fetch must refuse, and what it must take, from the reference center
# (issue 16's room bugs), with packages and records changed the way only a
# faulty or replaced center would (tests/e2e/repack):
#  1. a package that verifies but whose roster does not load (no room.json;
#     room.json without its sessions) is refused naming what is missing, and
#     is never recorded as verified: status shows no package, and once the
#     center sends a good one the next fetch installs it;
#  2. the center replaces v1 by another package under the same version: the
#     room installs it while no session has started (and keeps its own when
#     the new one does not load), and refuses (keeping its own) once one is
#     unlocked;
#  3. a signed manifest naming another room, or another plan: refused with
#     its own message, nothing downloaded.
#   fetchcheck.sh EXAMROOM EXAMCENTER REPACK
set -u
room=$1 center=$2 repack=$3
. "$(dirname "$0")/../lib.sh"
scratch fetchcheck

C="$center --data $tmp/center"
R="$room --data $tmp/room"
db=$tmp/center/center.db
$C init >/dev/null || exit 1
$C plan sample "$tmp/plan" --candidates 20 --rooms 2 --start-in 60 >/dev/null || exit 1
$C plan import "$tmp/plan" >/dev/null || exit 1
serial=$($C serial issue --room R01)
$C serve --listen 127.0.0.1:0 >"$tmp/center.out" 2>"$tmp/center.log" &
cpid=$!
cport=$(wait_ready "$tmp/center.out")
$R init --center "https://localhost:$cport" --center-key "$tmp/center/center-key.pub" \
    --center-ca "$tmp/center/ca.pem" >/dev/null || exit 1
$R register "$serial" >/dev/null || exit 1
pkg=$($C pack --room R01) || exit 1
q() { $repack sql "$db" "$1" || exit 1; }
good_id=$(q "SELECT hex(package_id) FROM packages WHERE room_id = 'R01'")
cp "$pkg" "$tmp/good.pkg"
packages() { grep -c 'GET /v1/packages' "$tmp/center.log"; }

# Two packages the center signed that the room cannot load.
$repack cat "$tmp/center" "$tmp/room" "$pkg" room.json >"$tmp/room.json" || exit 1
sed 's/,"sessions":\[.*\]}$/}/' "$tmp/room.json" >"$tmp/nosessions.json"
check "room.json lost its sessions" sh -c "! grep -q sessions '$tmp/nosessions.json'"
bad_id=$($repack pkg "$tmp/center" "$tmp/room" "$pkg" "$tmp/noroster.pkg" -room.json) || exit 1
$repack pkg "$tmp/center" "$tmp/room" "$pkg" "$tmp/nosessions.pkg" \
    "room.json=$tmp/nosessions.json" >/dev/null || exit 1

# 1. Brought on a USB stick: refused, naming what is missing; nothing kept.
expect 1 "试卷包中缺少考场名单（room.json）" $R fetch --from "$tmp/noroster.pkg"
expect 1 "试卷包中缺少考场名单中的场次列表" $R fetch --from "$tmp/nosessions.pkg"
expect 0 "试卷包: 尚无" $R status
# Served by the center as v1: refused the same, not recorded as verified.
cp "$tmp/noroster.pkg" "$pkg"
q "UPDATE packages SET package_id = X'$bad_id', size = $(stat -c %s "$pkg") WHERE room_id = 'R01'"
expect 1 "试卷包中缺少考场名单（room.json）" $R fetch
expect 0 "试卷包: 尚无" $R status
expect 1 "" $R verify
# The center puts the good v1 back: the next fetch downloads and installs it.
cp "$tmp/good.pkg" "$pkg"
q "UPDATE packages SET package_id = X'$good_id', size = $(stat -c %s "$pkg") WHERE room_id = 'R01'"
expect 0 "第 1 版已校验通过并保存" $R fetch
expect 0 "试卷包: 第 1 版，已校验" $R status
expect 0 "考场 R01，第 1 版" $R verify

# 2. The center packs R01 again from scratch: another package, version 1.
repack_center() {
    q "DELETE FROM packages WHERE room_id = 'R01'"
    pkg=$($C pack --room R01) || exit 1
}
repack_center
check "the new v1 is another package" sh -c "! cmp -s '$pkg' '$tmp/good.pkg'"
expect 0 "换发了第 1 版试卷包" $R fetch
check "the room now holds the center's new v1" cmp -s "$pkg" "$tmp/room/packages/"*.v1.pkg
expect 0 "已是最新" $R fetch
expect 0 "考场 R01，第 1 版" $R verify
# A replacement that does not load: refused, the package in use kept.
cp "$pkg" "$tmp/inuse.pkg"
bad_id=$($repack pkg "$tmp/center" "$tmp/room" "$pkg" "$tmp/noroster2.pkg" -room.json) || exit 1
cp "$tmp/noroster2.pkg" "$pkg"
q "UPDATE packages SET package_id = X'$bad_id', size = $(stat -c %s "$pkg") WHERE room_id = 'R01'"
expect 1 "试卷包中缺少考场名单（room.json）" $R fetch
expect 0 "试卷包: 第 1 版，已校验" $R status
check "the room keeps the package it had" cmp -s "$tmp/inuse.pkg" "$tmp/room/packages/"*.v1.pkg
expect 0 "考场 R01，第 1 版" $R verify
# Once a session is unlocked, the package in use is kept.
expect 0 "场次 S1 已解锁" $R unlock S1 "$($C unlock-code --session S1)"
repack_center
before=$(packages)
expect 1 "考试已经开始" $R fetch
check "that refusal names the version" grep -q "第 1 版试卷包换成了另一份" "$tmp/out"
check "nothing was downloaded for it" [ "$(packages)" -eq "$before" ]
check "the room keeps the package in use" cmp -s "$tmp/inuse.pkg" "$tmp/room/packages/"*.v1.pkg
expect 0 "场次 S1: 已解锁" $R status

# 3. A manifest (signed) for another room, then for another plan.
q "UPDATE registrations SET room_id = 'R02'"
before=$(packages)
expect 1 "清单写的是考场 R02，本机注册的是考场 R01" $R fetch
check "it says it downloaded nothing" grep -q "不是给本考场或本场考试的" "$tmp/out"
check "nothing was downloaded" [ "$(packages)" -eq "$before" ]
q "UPDATE registrations SET room_id = 'R01', plan_id = 'another-plan'"
expect 1 "清单写的是考试计划 another-plan" $R fetch
check "nothing was downloaded" [ "$(packages)" -eq "$before" ]
finish
