#!/bin/sh
# powerloss_commands (issue 17): the one-shot commands cut by the power at
# every point where it matters. plfs (tests/powerloss/plfs.c) mounted with
# CUT_AT = 1, 2, 3, ... cuts the power at that sync or name change and kills
# the command at the same instant; the disk then holds only what was synced.
# After each cut, mounted again, the next commands must find the data
# directory as before the command or complete: `examroom status` works or
# says clearly what is not done yet, the command run again completes, and
# the next step of the flow works. Never a crash, never a "corrupt" error.
#   - examroom init, register, fetch, fetch --from (the room's data
#     directory on the mount; the center off it), then the roster, verify,
#     and serve reaching ready;
#   - examroom export (a bundle on the stick is whole or absent);
#   - examcenter import of a USB bundle (the center's data directory and
#     the stick on the mount): the receipt, when there is one, only says
#     what the center's store holds; the import run again gives the same
#     receipt byte for byte; the store passes integrity_check;
#   - examroom import-receipt (the room on the mount);
#   - the center's store taking an online upload (examcenter serve on the
#     mount, examroom sync off it): every record the room saw acknowledged
#     is in the center's store after the cut.
# Root and /dev/fuse, else SKIP (77).
#   commands.sh EXAMROOM EXAMCENTER PLFS MKRESULTS SQLQ
set -u
room=$1 center=$2 plfs=$3 mkresults=$4 sqlq=$5
. "$(dirname "$0")/plfs.sh"
plfs_or_skip
tmp=$(mktemp -d /tmp/examroom-plcmd-XXXXXX)
cpid="" fpid="" spid=""
cleanup() {
    [ -n "$spid" ] && kill -9 "$spid" 2>/dev/null
    [ -n "$cpid" ] && kill "$cpid" 2>/dev/null
    plfs_cleanup
}
trap cleanup EXIT
. "$(dirname "$0")/../lib.sh"

plfs_first_mount
# plfs's own cut: the first name change is not made, its caller is killed.
sh -c "exec touch $tmp/mnt/x" 2>/dev/null
check "CUT_AT kills the caller at that operation" [ $? -eq 0 ]
unmount_plfs
mount_plfs 1
sh -c "exec touch $tmp/mnt/x" 2>/dev/null
got=$?
unmount_plfs
check "CUT_AT 1: touch killed ($got) and the cut noted" \
    sh -c "[ $got -eq 137 ] && grep -q 'plfs: cut at 1' $tmp/plfs.err"
mount_plfs
check "CUT_AT 1: the file was never made" [ ! -e "$tmp/mnt/x" ]
unmount_plfs
rm -rf "$tmp/disk" "$tmp/disk.upper" "$tmp/disk.shadow"
mkdir "$tmp/disk"

# What a command may say after a cut, besides succeeding: that a step is
# not done yet. Anything else (a crash, "corrupt", a key that does not
# load) is a half state misread.
NOT_YET='尚未初始化\|尚未注册\|还没有试卷包\|尚未下载'
# ok_or_not_yet WHAT CMD...: CMD exits 0, or 1 with a "not done yet" message.
ok_or_not_yet() {
    what=$1
    shift
    "$@" >"$tmp/out" 2>&1
    got=$?
    if [ "$got" -eq 0 ] || { [ "$got" -eq 1 ] && grep -q "$NOT_YET" "$tmp/out"; }; then
        pass=$((pass + 1))
        return "$got"
    fi
    fail=$((fail + 1))
    echo "FAIL: $what: $* -> exit $got:"
    sed 's/^/    /' "$tmp/out"
    return 2
}

# cuts NAME SNAPSHOT RUN AFTER: for CUT_AT = 1, 2, ... until RUN completes
# before the cut: the disk as in SNAPSHOT, RUN under the cut, then AFTER on
# the disk as the cut left it (mounted again, no cut). AFTER also runs once
# after RUN completed ($cut is 0 then, else 1): what the command said it
# did must then be on the disk. Counts the cuts in $cuts.
cuts() {
    name=$1 snap=$2 run=$3 after=$4
    n=1
    cuts=0
    while [ "$n" -le 300 ]; do
        rm -rf "$tmp/disk" "$tmp/disk.upper" "$tmp/disk.shadow"
        cp -a "$snap" "$tmp/disk"
        mount_plfs "$n" || return 1
        $run >"$tmp/run.out" 2>&1
        got=$?
        unmount_plfs
        cut=0
        grep -q "plfs: cut at $n" "$tmp/plfs.err" && cut=1
        if [ "$cut" -eq 0 ] && [ "$got" -ne 0 ]; then
            fail=$((fail + 1))
            echo "FAIL: $name without a cut (CUT_AT $n) -> exit $got:"
            sed 's/^/    /' "$tmp/run.out"
            return 1
        fi
        mount_plfs || return 1
        before=$fail
        $after
        [ "$fail" -ne "$before" ] && echo "    (the checks above: after $name, CUT_AT $n, cut $cut)"
        unmount_plfs
        [ "$cut" -eq 0 ] && break
        cuts=$((cuts + 1))
        n=$((n + 1))
    done
    echo "$name: $cuts cuts (every sync and name change), then completed"
    summary="$summary $name=$cuts"
}
summary=""

# ---- init, register, fetch ----------------------------------------------
room_data=$tmp/mnt/room
C="$center --data $tmp/center"
R="$room --data $room_data"
$C init >/dev/null || exit 1
$C plan sample "$tmp/plan" --candidates 30 --rooms 1 --start-in 10 >/dev/null || exit 1
$C plan import "$tmp/plan" >/dev/null || exit 1
s1=$(grep -c ',S1,R01,' "$tmp/plan/candidates.csv")
serial=$($C serial issue --room R01)
$C serve --listen 127.0.0.1:0 >"$tmp/center.out" 2>/dev/null &
cpid=$!
cport=$(wait_ready "$tmp/center.out")
echo "proctor-secret-1" >"$tmp/pw"
init() {
    $R init --center "https://localhost:$cport" --center-key "$tmp/center/center-key.pub" \
        --center-ca "$tmp/center/ca.pem" --proctor-password-file "$tmp/pw"
}
register() { $R register "$serial"; }
fetch() { $R fetch; }
# run_whole SNAPSHOT RUN NAME: RUN on the disk as in SNAPSHOT, no cut; the
# disk it leaves is the snapshot NAME.
run_whole() {
    rm -rf "$tmp/disk" "$tmp/disk.upper" "$tmp/disk.shadow"
    cp -a "$tmp/snap.$1" "$tmp/disk"
    mount_plfs || exit 1
    $2 >/dev/null || exit 1
    unmount_plfs
    cp -a "$tmp/disk" "$tmp/snap.$3"
}

# After init: either not initialised (init again completes) or whole: the
# keys load (status loads them), the password is there.
after_init() {
    ok_or_not_yet "status after an init cut" $R status
    st=$?
    [ "$cut" -eq 0 ] && check "init said it was done: the disk kept it all" [ "$st" -eq 0 ]
    case $st in
    1) expect 0 "考场已初始化" init ;;
    0) expect 1 "已经初始化过" init ;;
    *) return ;;
    esac
    check "the proctor's password is there" test -s "$room_data/proctor-password"
    expect 0 "尚未注册" $R status
}
after_register() {
    ok_or_not_yet "status after a register cut" $R status
    [ $? -eq 2 ] && return
    [ "$cut" -eq 0 ] && expect 0 "注册: 计划" $R status
    expect 0 "注册成功" register
    # The center packs for a registered room: after the first register.
    [ -s "$tmp/packed" ] || $C pack >"$tmp/packed"
    expect 0 "已校验通过" fetch
}
# after_fetch [--from FILE]
after_fetch() {
    ok_or_not_yet "status after a fetch cut" $R status
    [ $? -eq 2 ] && return
    [ "$cut" -eq 0 ] && expect 0 "试卷包校验通过" $R verify
    expect 0 "已校验通过\|已是最新" $R fetch "$@"
    expect 0 "第 1 版" $R status
    expect 0 "试卷包校验通过" $R verify
    check "the roster lists the session's $s1 candidates" \
        [ "$($R roster --session S1 --format csv 2>&1 | tail -n +2 | grep -c .)" -eq "$s1" ]
}
cp -a "$tmp/disk" "$tmp/snap.empty"
cuts init "$tmp/snap.empty" init after_init
run_whole empty init inited
cuts register "$tmp/snap.inited" register after_register
run_whole inited register registered
cuts fetch "$tmp/snap.registered" fetch after_fetch
run_whole registered fetch fetched
# The package from a USB stick: copied in, then installed as a download is.
pkg=$(grep '\.R01\.' "$tmp/packed")
fetch_usb() { $R fetch --from "$pkg"; }
after_fetch_usb() { after_fetch --from "$pkg"; }
cuts "fetch --from" "$tmp/snap.registered" fetch_usb after_fetch_usb

# The last fetch cut, fetched again, serves: the daemon gets ready.
mount_plfs
fetch >/dev/null
$R serve --listen 127.0.0.1:0 >"$tmp/serve.out" 2>"$tmp/serve.log" &
spid=$!
check "serve starts after the fetch cuts" [ -n "$(wait_ready "$tmp/serve.out")" ]
kill "$spid"
wait "$spid"
spid=""
unmount_plfs

# ---- the USB round trip: export, examcenter import, import-receipt -------
# The center stops; its data directory and the stick go on the disk too.
kill "$cpid"
wait "$cpid" 2>/dev/null
cpid=""
rm -rf "$tmp/disk" "$tmp/disk.upper" "$tmp/disk.shadow"
cp -a "$tmp/snap.fetched" "$tmp/disk"
cp -a "$tmp/center" "$tmp/disk/center"
mkdir "$tmp/disk/stick"
mount_plfs || exit 1
$mkresults "$room_data" 12 30 4 >/dev/null || exit 1
unmount_plfs
cp -a "$tmp/disk" "$tmp/snap.results"
# examroom export: a bundle on the stick after a cut is whole (a center
# imports all 16 records from it), and export marks nothing.
export_() { $R export "$tmp/mnt/stick/r01.usb"; }
after_export() {
    expect 0 "待上传: 16 条" $R status
    [ "$cut" -eq 0 ] && check "export said it wrote the bundle: it is there" \
        test -e "$tmp/mnt/stick/r01.usb"
    if [ -e "$tmp/mnt/stick/r01.usb" ]; then
        rm -rf "$tmp/center-try"
        cp -a "$tmp/mnt/center" "$tmp/center-try"
        expect 0 "成绩：12 条已在考试中心" $center --data "$tmp/center-try" import \
            "$tmp/mnt/stick/r01.usb" --receipt "$tmp/receipt.try"
    fi
    expect 0 "成绩 12 条，记录 4 条" export_
}
cuts "examroom export" "$tmp/snap.results" export_ after_export
run_whole results export_ exported
# The receipt this bundle gets (the same bundle gives the same receipt).
cp -a "$tmp/disk/center" "$tmp/center-ref"
$center --data "$tmp/center-ref" import "$tmp/disk/stick/r01.usb" --receipt "$tmp/receipt.ref" \
    >/dev/null || exit 1

MC="$center --data $tmp/mnt/center"
bundle=$tmp/mnt/stick/r01.usb
held() { # the room's records the center holds
    "$sqlq" "$tmp/mnt/center/center.db" \
        "SELECT (SELECT count(*) FROM results) + (SELECT count(*) FROM events)"
}
integrity() { # DB: the store passes integrity_check
    check "$1 passes integrity_check" \
        sh -c "[ \"\$('$sqlq' '$1' 'PRAGMA integrity_check')\" = ok ]"
}
import() { $MC import "$bundle"; }
after_import() {
    integrity "$tmp/mnt/center/center.db"
    [ "$cut" -eq 0 ] && check "import said the receipt was written: it is there" test -e "$bundle.receipt"
    if [ -e "$bundle.receipt" ]; then
        check "a receipt after the cut is the whole receipt" cmp -s "$bundle.receipt" "$tmp/receipt.ref"
        check "what the receipt acknowledges is in the center's store ($(held))" [ "$(held)" -eq 16 ]
    fi
    expect 0 "成绩：12 条已在考试中心" import
    check "the import run again gives the same receipt" cmp -s "$bundle.receipt" "$tmp/receipt.ref"
    check "the center holds the bundle once ($(held))" [ "$(held)" -eq 16 ]
}
cuts "examcenter import" "$tmp/snap.exported" import after_import
run_whole exported import imported

take() { $R import-receipt "$bundle.receipt"; }
after_take() {
    integrity "$room_data/room.db"
    ok_or_not_yet "status after an import-receipt cut" $R status
    [ "$cut" -eq 0 ] && expect 0 "待上传: 0 条" $R status
    expect 0 "待上传: 16 条\|待上传: 0 条" $R status
    expect 0 "已由考试中心确认\|没有任何更改" take
    expect 0 "待上传: 0 条" $R status
}
cuts "examroom import-receipt" "$tmp/snap.imported" take after_take

# ---- the center's store taking an online upload -------------------------
# examcenter serve on the disk, the room (off it) uploading its 16 records:
# the power cut at each of the center's syncs. Every record the room saw
# acknowledged must be in the center's store.
RO="$room --data $tmp/room-online"
online() {
    rm -rf "$tmp/room-online"
    cp -a "$tmp/snap.exported/room" "$tmp/room-online"
    : >"$tmp/center.out"
    $MC serve --listen "127.0.0.1:$cport" >"$tmp/center.out" 2>/dev/null &
    cpid=$!
    wait_ready "$tmp/center.out" "$cpid" >/dev/null
    EXAMROOM_SYNC_TIMEOUT=2 $RO sync
    got=$?
    kill "$cpid" 2>/dev/null
    wait "$cpid"
    cpid=""
    return "$got"
}
# A result by its chain hash, an event by its id, on either side.
acked() {
    "$sqlq" "$tmp/room-online/room.db" "SELECT lower(hex(coalesce(r.hash, o.id))) FROM outbox o \
        LEFT JOIN results r ON r.id = o.id WHERE o.acked_at IS NOT NULL" | sort
}
stored() {
    "$sqlq" "$tmp/mnt/center/center.db" \
        "SELECT lower(hex(hash)) FROM results UNION ALL SELECT lower(id) FROM events" | sort
}
after_online() {
    integrity "$tmp/mnt/center/center.db"
    acked | comm -23 - "$tmp/stored" >"$tmp/lost"
    check "every record acknowledged ($(acked | grep -c .)) is in the center's store" \
        [ ! -s "$tmp/lost" ]
    [ -s "$tmp/lost" ] && sed 's/^/    not in it: /' "$tmp/lost"
    $MC serve --listen "127.0.0.1:$cport" >"$tmp/center.out" 2>/dev/null &
    cpid=$!
    wait_ready "$tmp/center.out" >/dev/null
    expect 0 "" $RO sync
    expect 0 "待上传: 0 条" $RO status
    kill "$cpid"
    wait "$cpid"
    cpid=""
    check "the center holds the 16 records once ($(held))" [ "$(held)" -eq 16 ]
}
# acked() reads the room after the cut; stored() the center's disk as the
# cut left it (before after_online's own sync adds to it).
after_online_first() {
    stored >"$tmp/stored"
    after_online
}
cuts "examcenter serve (upload)" "$tmp/snap.exported" online after_online_first

finish_summary() {
    echo "cuts:$summary"
    finish
}
finish_summary
