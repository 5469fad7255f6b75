#!/bin/sh
# The command-line contract of PRODUCT.md §3 that exists so far: --help and
# --version, exit statuses (0 ok, 1 failure with a sentence, 2 bad usage),
# every command in the table, and typed codes checked before anything else.
#   cli.sh EXAMROOM EXAMCENTER
set -u
room=$1 center=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/../lib.sh"

for prog in "$room" "$center"; do
    expect 0 "用法" "$prog" --help
    expect 0 "^$(basename "$prog") [0-9][0-9.]*$" "$prog" --version
    expect 2 "没有“frobnicate”这个命令" "$prog" frobnicate
    expect 2 "未知的选项“--frob”" "$prog" --frob
    expect 2 "用法" "$prog"
done

# Every command of PRODUCT.md §3 is in the table, with its own --help.
for c in init register fetch verify serve status unlock roster pair extend move absent \
    incident submit sync export report; do
    expect 0 "用法: examroom $c" "$room" "$c" --help
done
for c in init plan serial pack unlock-code serve scores import; do
    expect 0 "用法: examcenter $c" "$center" "$c" --help
done

# The USB fallback needs an initialised room, and says so.
expect 0 "用法: examroom import-receipt" "$room" import-receipt --help
expect 1 "尚未初始化" "$room" --data "$tmp/d" export "$tmp/bundle"
expect 1 "尚未初始化" "$room" --data "$tmp/d" import-receipt "$tmp/bundle.receipt"
expect 2 "用法" "$room" --data "$tmp/d" export

# --help lists only what works: every command either program's --help lists,
# run with an option it does not know (so that none does anything), answers
# its own way (a usage error, say), never "not yet provided".
for prog in "$room" "$center"; do
    "$prog" --help | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p' >"$tmp/commands"
    check "$(basename "$prog") --help lists commands" test -s "$tmp/commands"
    while read -r c; do
        "$prog" --data "$tmp/listed" "$c" --no-such-option </dev/null >"$tmp/out" 2>&1
        check "$(basename "$prog") $c, listed in --help, is provided: $(cat "$tmp/out")" \
            sh -c '! grep -q "尚未提供" "$1"' - "$tmp/out"
    done <"$tmp/commands"
done

# examcenter: errors a center's engineer meets first.
expect 1 "无法读取或写入密钥文件" "$center" --data "$tmp/nothing" pack
expect 2 "用法" "$center" --data "$tmp/c" serial issue
expect 0 "考试中心已初始化" "$center" --data "$tmp/c/deep/dir" init
expect 1 "没有找到该考试计划" "$center" --data "$tmp/c/deep/dir" serial issue --room R01
expect 1 "没有找到该考试计划" "$center" --data "$tmp/c/deep/dir" scores
# Packing a room that has not registered: exit 1 with the room named (the
# name once came from freed memory; an ASan report would show below, and an
# abort would not exit 1).
expect 0 "" "$center" --data "$tmp/c/deep/dir" plan sample "$tmp/cplan" --candidates 6 --rooms 2
expect 0 "" "$center" --data "$tmp/c/deep/dir" plan import "$tmp/cplan"
expect 1 "考场 R01 的试卷包未能生成" "$center" --data "$tmp/c/deep/dir" pack --room R01
check "that refusal says why" grep -q "尚未用注册码注册" "$tmp/out"
check "no sanitizer report from it" sh -c '! grep -q "Sanitizer" "$1"' - "$tmp/out"
expect 1 "尚未用注册码注册" "$center" --data "$tmp/c/deep/dir" pack
expect 1 "考场 R09 的试卷包未能生成" "$center" --data "$tmp/c/deep/dir" pack --room R09

# A serial with a typo is refused locally as a typo; a good one gets further.
expect 1 "校验位不符" "$room" register 04HM-ASW9-NF6Y-Y09X
expect 1 "校验位不符" "$room" register 04HM-ASW9-NF6Y-Y0W9
expect 1 "长度不对" "$room" register 04HM-ASW9-NF6Y
expect 1 "无效字符" "$room" register 04HM-ASW9-NF6Y-Y0U9
expect 1 "尚未初始化" "$room" --data "$tmp/d" register 04hm-asw9-nf6y-yo9w
expect 2 "用法: examroom register SERIAL" "$room" register
expect 1 "开考密码输入有误" "$room" unlock S1 VTPVX-VYAZT-XBW4H-MASG=
expect 1 "尚未初始化" "$room" --data "$tmp/d" unlock S1 vtpvx-vyazt-xbw4h-masg~
expect 2 "用法" "$room" unlock S1
# Commands that need a room leave a directory without one untouched.
for c in status "roster" "serve --listen 127.0.0.1:0" "pair list" "sync"; do
    # shellcheck disable=SC2086
    expect 1 "尚未初始化" "$room" --data "$tmp/typo" $c
done
check "no data directory (nor room.db) made by them" test ! -e "$tmp/typo"

finish
