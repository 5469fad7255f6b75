#!/bin/sh
# Runs the disk-full test (diskfull.c) on a real file system that fills up:
# a 16 MiB tmpfs mounted in a private mount namespace, so nothing outside the
# test sees it and it goes away with the test. Needs root (CI and make test
# run as root); elsewhere it reports SKIP (exit 77) and ctest shows it
# skipped, not passed. The max_page_count variant in test_commit.c runs
# everywhere.
#   diskfull.sh PATH/TO/store_diskfull
set -eu
prog=$1
if [ "$(id -u)" -ne 0 ] || ! unshare -m true 2>/dev/null; then
    echo "SKIP: a private tmpfs needs root (unshare -m, mount)"
    exit 77
fi
exec unshare -m sh -eu -c '
mnt=$(mktemp -d /tmp/examroom-diskfull-XXXXXX)
mount -t tmpfs -o size=16m,mode=0700 tmpfs "$mnt"
rc=0
"$1" "$mnt" || rc=$?
umount "$mnt"
rmdir "$mnt"
exit $rc
' sh "$prog"
