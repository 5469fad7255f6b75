# Sourced by the power-cut scripts (commands.sh, serve.sh): plfs mounted
# and unmounted. They set $plfs (the program) and $tmp (holding disk/ and
# mnt/); the running plfs is $fpid, its messages in $tmp/plfs.err (from the
# latest mount: "plfs: cut at N").

# mount_plfs [CUT_AT]: the disk in $tmp/disk on $tmp/mnt, once mounted.
mount_plfs() {
    : >"$tmp/plfs.err"
    "$plfs" "$tmp/disk" "$tmp/mnt" "$@" >/dev/null 2>"$tmp/plfs.err" &
    fpid=$!
    for _ in $(seq 500); do
        grep -q " $tmp/mnt fuse.plfs " /proc/mounts && return 0
        kill -0 "$fpid" 2>/dev/null || break
        sleep 0.01
    done
    echo "plfs did not mount"
    return 1
}

unmount_plfs() {
    umount -l "$tmp/mnt"
    wait "$fpid"
    fpid=""
}
