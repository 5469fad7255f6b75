# Sourced by the power-cut scripts (commands.sh, serve.sh): plfs mounted
# and unmounted. They set $plfs (the program) and, before mounting, $tmp
# (holding disk/ and mnt/); the running plfs is $fpid, its messages in $tmp/plfs.err (from the
# latest mount: "plfs: cut at N").

# plfs_or_skip: the script skipped (77) unless a FUSE mount can be made
# here (root and /dev/fuse). Before $tmp exists.
plfs_or_skip() {
    if [ "$(id -u)" -ne 0 ] || [ ! -w /dev/fuse ]; then
        echo "SKIP: a FUSE mount needs root and /dev/fuse"
        exit 77
    fi
}

# plfs_first_mount: $tmp/disk and $tmp/mnt made and plfs mounted, or the
# script skipped (77) when plfs cannot mount.
plfs_first_mount() {
    mkdir "$tmp/disk" "$tmp/mnt"
    mount_plfs && return 0
    echo "SKIP: plfs could not mount (FUSE unusable here)"
    exit 77
}

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

# plfs_cleanup: at exit, after the script's own processes are killed: plfs
# unmounted and stopped, every child waited for, $tmp removed.
plfs_cleanup() {
    umount -l "$tmp/mnt" 2>/dev/null
    [ -n "$fpid" ] && kill "$fpid" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$tmp"
}

unmount_plfs() {
    umount -l "$tmp/mnt"
    wait "$fpid"
    fpid=""
}
