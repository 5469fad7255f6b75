#!/bin/sh
# Disk full at fetch: the room's data directory on a 12 MiB tmpfs, a package
# of about 12 MB. fetch says before writing a byte that there is not room
# (how much it needs, how much there is) and exits 1; the room is as it was
# (status works, no package, no half file); once the disk is bigger, fetch
# completes and verifies. The tmpfs is mounted in a private mount namespace,
# so nothing outside the test sees it. Needs root (CI and make test run as
# root); elsewhere it reports SKIP (exit 77).
#   fetchfull.sh EXAMROOM EXAMCENTER
set -u
room=$1 center=$2
if [ -z "${FETCHFULL_NS:-}" ]; then
    if [ "$(id -u)" -ne 0 ] || ! unshare -m true 2>/dev/null; then
        echo "SKIP: a private tmpfs needs root (unshare -m, mount)"
        exit 77
    fi
    exec env FETCHFULL_NS=1 unshare -m sh "$0" "$@"
fi
tmp=$(mktemp -d /tmp/examroom-fetchfull-XXXXXX)
cpid=""
cleanup() {
    [ -n "$cpid" ] && kill "$cpid" 2>/dev/null && wait "$cpid" 2>/dev/null
    umount "$tmp/disk" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
. "$(dirname "$0")/../lib.sh"

mkdir "$tmp/disk"
mount -t tmpfs -o size=12m,mode=0700 tmpfs "$tmp/disk" || exit 1
room_data=$tmp/disk/room
center_and_room --candidates 600 --rooms 1 --start-in 60 --photo-kib 20
size=$(stat -c %s "$($C pack | head -n 1)")

expect 1 "磁盘空间不足" $R fetch
check "the package ($size bytes) does not fit on 12 MiB beside the room" [ "$size" -gt 6000000 ]
check "it says how much it needs and how much there is" \
    grep -q '下载试卷包还需要约 [0-9.]* MB 的磁盘空间，现在只有 [0-9.]* MB' "$tmp/out"
check "nothing half-written is left" sh -c "! ls '$tmp/disk/room/packages/' | grep -q ."
expect 0 "试卷包: 尚无" $R status

mount -o remount,size=64m "$tmp/disk" || exit 1
expect 0 "校验通过" $R fetch
expect 0 "试卷包: 第 1 版，已校验" $R status
finish
