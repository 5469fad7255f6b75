#!/bin/sh
# make deb's package, on this machine for real (root): built with cpack from
# the release tree, linted (no lintian error), installed with dpkg -i, its
# programs run from /usr/bin, its manual pages and units checked (systemd-
# analyze verify, offline: no systemd needs to run here), a room initialised
# and served as the examroom user the way the manual says, then dpkg --purge
# and nothing of the package left behind but the room's data, which the
# package keeps by policy (packaging/debian/postrm). Skipped (77) with the
# reason when not root, when a tool is missing, or when examroom is already
# installed here (a real installation is never touched).
#   deb.sh BUILD_DIR SOURCE_DIR NOTIFYD
set -u
build=$1 src=$2 notifyd=$3
tmp=$(mktemp -d /tmp/examroom-deb-XXXXXX)
chmod 755 "$tmp" # the examroom user reads the center's public files here
. "$src/tests/lib.sh"

skip() {
    echo "SKIP deb_package: $*"
    rm -rf "$tmp"
    exit 77
}
[ "$(id -u)" -eq 0 ] || skip "not root: installing a package needs root (make test as root runs it)"
for tool in dpkg dpkg-deb cpack lintian systemd-analyze adduser setpriv zcat; do
    command -v "$tool" >/dev/null 2>&1 ||
        skip "$tool is not installed (packaging/deps.sh test installs what make test needs)"
done
if dpkg-query -W -f='${db:Status-Abbrev}' examroom 2>/dev/null | grep -q '^.[^n]'; then
    skip "the package examroom is installed on this machine: not replaced by a test build"
fi
for f in /usr/bin/examroom /usr/bin/examcenter /usr/bin/examroom-kiosk /etc/examroom /etc/examcenter; do
    [ -e "$f" ] && skip "$f exists (not from the package): not overwritten, nor purged, by a test build"
done

# What was there before, so that the cleanup takes away only what the test
# made: the users and data directories the package leaves by policy.
users_before=$(getent passwd examroom examcenter | cut -d: -f1)
had_lib_room=$([ -e /var/lib/examroom ] && echo 1)
had_lib_center=$([ -e /var/lib/examcenter ] && echo 1)
installed="" serve="" listener=""
cleanup() {
    [ -n "$listener" ] && kill "$listener" 2>/dev/null
    [ -n "$serve" ] && kill -TERM "$serve" 2>/dev/null && wait "$serve"
    [ -n "$installed" ] && dpkg --purge examroom >/dev/null 2>&1
    rm -f /etc/examroom/deb-test.conf /etc/examroom/card-reader.conf # should a failed purge have left them
    rmdir /etc/examroom 2>/dev/null
    if [ -n "$had_lib_room" ]; then rm -rf /var/lib/examroom/deb-test; else rm -rf /var/lib/examroom; fi
    [ -n "$had_lib_center" ] || rm -rf /var/lib/examcenter
    for u in examroom examcenter; do
        echo "$users_before" | grep -qx "$u" || userdel "$u" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Every name under the trees a package may touch (dpkg's own records in
# /var/lib/dpkg included: its files for examroom must go on purge too).
snapshot() {
    find /etc /usr /var/lib /opt /srv -xdev 2>/dev/null | LC_ALL=C sort
}
snapshot >"$tmp/before"

# The package, into a directory of its own (make deb's stays as it is).
cpack --config "$build/CPackConfig.cmake" -B "$tmp/pkg" >"$tmp/cpack.out" 2>&1
rc=$?
check "cpack builds the package: $(tail -5 "$tmp/cpack.out")" test $rc -eq 0
deb=$(ls "$tmp"/pkg/examroom_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || {
    echo "FAIL: no examroom_*.deb in $tmp/pkg"
    cat "$tmp/cpack.out"
    exit 1
}

# Lintian: no error (warnings are shown; overrides carry their reasons in
# packaging/debian/lintian-overrides).
lintian --no-cfg --fail-on error --display-level '>=warning' "$deb" >"$tmp/lintian.out" 2>&1
rc=$?
grep -v 'running with root privileges' "$tmp/lintian.out" | sed 's/^/    lintian: /'
check "lintian finds no error in $(basename "$deb")" test $rc -eq 0

dpkg-deb -f "$deb" Depends >"$tmp/depends"
check "Depends: computed by shlibdeps, and adduser: $(cat "$tmp/depends")" \
    sh -c 'grep -q "libuv1" "$1" && grep -q "libmicrohttpd" "$1" && grep -q "adduser" "$1"' - "$tmp/depends"

dpkg -i "$deb" >"$tmp/install.out" 2>&1
rc=$?
installed=1
check "dpkg -i installs it: $(cat "$tmp/install.out")" test $rc -eq 0

# The programs, from /usr/bin.
expect 0 "^examroom [0-9][0-9.]*$" /usr/bin/examroom --version
expect 0 "^examcenter [0-9][0-9.]*$" /usr/bin/examcenter --version
expect 1 "没有考场服务地址" env EXAMROOM_KIOSK_CONF="$tmp/none.conf" /usr/bin/examroom-kiosk

# The manual pages: found by man, and naming every command --help lists.
if command -v man >/dev/null 2>&1; then
    expect 0 "/usr/share/man/man1/examroom.1.gz" man -w examroom
    expect 0 "/usr/share/man/man1/examcenter.1.gz" man -w examcenter
fi
for prog in examroom examcenter; do
    page=/usr/share/man/man1/$prog.1.gz
    check "$page is gzip'd" gzip -t "$page"
    zcat "$page" >"$tmp/$prog.1" 2>/dev/null
    "/usr/bin/$prog" --help | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p' >"$tmp/$prog.commands"
    check "$prog --help lists commands" test -s "$tmp/$prog.commands"
    while read -r c; do
        check "$prog(1) documents the command $c" grep -q "^\\\\fB$c\\\\fR" "$tmp/$prog.1"
    done <"$tmp/$prog.commands"
    for word in "$(echo "$prog" | tr a-z A-Z)_DATA" "/etc/$prog"; do
        check "$prog(1) names $word" grep -q -- "$word" "$tmp/$prog.1"
    done
done

# The units, as systemd reads them (the commands they start exist, the
# manual pages of Documentation= too): no complaint at all.
cp /etc/examroom/room.conf.example /etc/examroom/deb-test.conf
cp /etc/examroom/card-reader.conf.example /etc/examroom/card-reader.conf
systemd-analyze verify examroom@deb-test.service examcenter.service \
    examroom-card-reader.service >"$tmp/verify.out" 2>&1
rc=$?
check "systemd-analyze verify examroom@deb-test.service examcenter.service examroom-card-reader.service: $(cat "$tmp/verify.out")" \
    sh -c "[ $rc -eq 0 ] && ! grep -q . '$tmp/verify.out'"
unit=/usr/lib/systemd/system/examroom@.service
for line in Type=notify User=examroom StateDirectory=examroom/%i EnvironmentFile=/etc/examroom/%i.conf \
    NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes CapabilityBoundingSet= \
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" SystemCallFilter=@system-service UMask=0077; do
    check "examroom@.service has $line" grep -qx -- "$line" "$unit"
done
check "the kiosk's user unit starts /usr/bin/examroom-kiosk" \
    grep -qx "ExecStart=/usr/bin/examroom-kiosk" /usr/lib/systemd/user/examroom-kiosk.service
mkdir -m 700 "$tmp/xdg"
if XDG_RUNTIME_DIR=$tmp/xdg systemd-analyze verify --user \
    /usr/lib/systemd/user/examroom-kiosk.service >"$tmp/verify.out" 2>&1; then
    check "systemd-analyze verify --user examroom-kiosk.service: $(cat "$tmp/verify.out")" \
        sh -c "! grep -q . '$tmp/verify.out'"
else
    echo "SKIP systemd-analyze verify --user: $(cat "$tmp/verify.out")"
fi
check "nothing enabled on install" sh -c '! ls /etc/systemd/system/*.wants/examroom@* \
    /etc/systemd/system/*.wants/examcenter.service 2>/dev/null | grep -q .'

# The services' system users.
for u in examroom examcenter; do
    entry=$(getent passwd "$u")
    check "the system user $u exists: $entry" test -n "$entry"
    uid=$(echo "$entry" | cut -d: -f3)
    check "$u is a system user without a login shell" \
        sh -c "[ '${uid:-1000}' -lt 1000 ] && echo '$entry' | grep -q ':/usr/sbin/nologin$'"
done

# A room the way the manual says: its data directory made for examroom,
# init as that user, then the unit's command with the unit's environment,
# as that user, with systemd's notify socket: READY=1 once it listens.
"$build/center/examcenter" --data "$tmp/center" init >/dev/null
chmod 755 "$tmp/center"
chmod 644 "$tmp/center/center-key.pub" "$tmp/center/ca.pem"
install -d -o examroom -g examroom -m 700 /var/lib/examroom/deb-test
as_room() {
    env EXAMROOM_DATA=/var/lib/examroom/deb-test \
        setpriv --reuid examroom --regid examroom --init-groups -- "$@"
}
expect 0 "考场已初始化" as_room /usr/bin/examroom init --center https://127.0.0.1:9 \
    --center-key "$tmp/center/center-key.pub" --center-ca "$tmp/center/ca.pem"
check "the room's files are the examroom user's alone" \
    sh -c 'test -z "$(find /var/lib/examroom/deb-test ! -user examroom -o -perm /077)"'
"$notifyd" "$tmp/notify" "$tmp/notify.out" 30 &
listener=$!
for _ in $(seq 100); do
    [ -S "$tmp/notify" ] && break
    sleep 0.05
done
# Not through as_room: $! must be serve itself (env and setpriv exec).
env EXAMROOM_DATA=/var/lib/examroom/deb-test NOTIFY_SOCKET="$tmp/notify" \
    setpriv --reuid examroom --regid examroom --init-groups -- \
    /usr/bin/examroom serve --listen 127.0.0.1:0 >"$tmp/serve.out" 2>&1 &
serve=$!
port=$(wait_ready "$tmp/serve.out")
wait "$listener"
listener=""
check "serve, as examroom, listens: $(cat "$tmp/serve.out")" test -n "$port"
check "serve tells systemd READY=1 ($(cat "$tmp/notify.out" 2>/dev/null))" \
    grep -qx "READY=1" "$tmp/notify.out"
kill -TERM "$serve"
wait "$serve"
rc=$?
serve=""
check "serve stops cleanly on SIGTERM" test $rc -eq 0

# Purge: every file of the package and the configuration goes, the room's
# data stays (it may hold results the center has not acknowledged), the
# users stay (Debian practice).
dpkg --purge examroom >"$tmp/purge.out" 2>&1
rc=$?
check "dpkg --purge removes it: $(cat "$tmp/purge.out")" test $rc -eq 0
[ $rc -eq 0 ] && installed=""
check "/etc/examroom is gone, with the room's configuration" test ! -e /etc/examroom
check "/etc/examcenter is gone" test ! -e /etc/examcenter
check "the room's data is kept" test -s /var/lib/examroom/deb-test/room.db
check "the users are kept" sh -c "getent passwd examroom examcenter >/dev/null"
snapshot | grep -v '^/var/lib/examroom/deb-test' >"$tmp/after"
[ -n "$had_lib_room" ] || sed -i '\|^/var/lib/examroom$|d' "$tmp/after"
diff "$tmp/before" "$tmp/after" >"$tmp/left"
check "nothing else left behind or taken away: $(cat "$tmp/left")" test ! -s "$tmp/left"

finish
