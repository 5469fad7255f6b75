#!/bin/sh
# The room PC's kiosk (packaging/kiosk): examroom-kiosk run with a stand-in
# `chromium` first on PATH (a script that records its arguments and exits:
# no browser is started), and the systemd user unit checked by
# systemd-analyze when that can run here.
#   kiosk.sh SOURCE_DIR
set -u
src=${1:-.}
kiosk=$src/packaging/kiosk/examroom-kiosk
unit=$src/packaging/kiosk/examroom-kiosk.service
tmp=$(mktemp -d /tmp/examroom-kiosk-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$src/tests/lib.sh"

# The stand-in: each run appends its arguments, one a line, then "--" to
# $tmp/runs; the first run exits 1 (as a crash), the others 0.
mkdir -p "$tmp/bin" "$tmp/home"
cat >"$tmp/bin/chromium" <<'STUB'
#!/bin/sh
for a in "$@"; do echo "$a"; done >>"$KIOSK_RUNS"
echo -- >>"$KIOSK_RUNS"
[ "$(grep -c '^--$' "$KIOSK_RUNS")" -gt 1 ]
STUB
chmod +x "$tmp/bin/chromium"
# run [ARGS]: the kiosk with the stand-in, HOME in $tmp, the config
# $tmp/kiosk.conf, $restarts restarts at most (none unless set); its output
# in $tmp/out.
restarts=0
run() {
    : >"$tmp/runs"
    env PATH="$tmp/bin:$PATH" HOME="$tmp/home" XDG_STATE_HOME= KIOSK_RUNS="$tmp/runs" \
        EXAMROOM_KIOSK_CONF="$tmp/kiosk.conf" EXAMROOM_KIOSK_MAX_RESTARTS=$restarts \
        "$kiosk" "$@" >"$tmp/out" 2>&1
}
has() { grep -qx -- "$1" "$tmp/runs"; }
runs() { grep -c '^--$' "$tmp/runs"; }

cat >"$tmp/kiosk.conf" <<'CONF'
# the room server
EXAMROOM_URL=http://10.1.2.3:9000/wrong
EXAMROOM_URL="http://127.0.0.1:8080/"
CONF
restarts=2
run
check "the kiosk exits once its test bound of restarts is reached" test $? -eq 0
check "the URL from the config's last EXAMROOM_URL line, unquoted" has "http://127.0.0.1:8080/"
check "the other EXAMROOM_URL line is not used" sh -c "! grep -q 10.1.2.3 '$tmp/runs'"
for flag in --kiosk --no-first-run --noerrdialogs --disable-translate --disable-pinch \
    --overscroll-history-navigation=0 --disable-features=TranslateUI \
    "--user-data-dir=$tmp/home/.local/state/examroom-kiosk"; do
    check "chromium is given $flag" has "$flag"
done
check "never incognito (localStorage must survive a restart)" sh -c "! grep -q incognito '$tmp/runs'"
check "the profile directory is made" test -d "$tmp/home/.local/state/examroom-kiosk"
check "chromium started 3 times (2 restarts): $(runs)" test "$(runs)" -eq 3
check "the first exit (status 1) is told and followed by a restart" \
    grep -q '浏览器已退出（状态 1），2 秒后重新打开' "$tmp/out"
check "each run is given the same URL" test "$(grep -c '^http://127.0.0.1:8080/$' "$tmp/runs")" -eq 3

# The argument wins over the config.
restarts=0
run "http://127.0.0.2:8081/"
check "the URL from the argument" has "http://127.0.0.2:8081/"
check "not the config's then" sh -c "! grep -q 127.0.0.1:8080 '$tmp/runs'"

# A crashed browser's profile is marked as cleanly exited before the next
# start (no "restore pages" bubble over the exam).
mkdir -p "$tmp/home/.local/state/examroom-kiosk/Default"
echo '{"profile":{"exit_type":"Crashed","exited_cleanly":false}}' \
    >"$tmp/home/.local/state/examroom-kiosk/Default/Preferences"
run
check "the crash is forgotten before the start" grep -q '"exit_type":"Normal","exited_cleanly":true' \
    "$tmp/home/.local/state/examroom-kiosk/Default/Preferences"

# No URL, a bad URL: refused with what to do, chromium never started.
rm "$tmp/kiosk.conf"
expect 1 "EXAMROOM_URL=http://考场服务器地址:8080/" run
check "no URL: chromium not started" test "$(runs)" -eq 0
echo 'EXAMROOM_URL=10.0.0.1:8080' >"$tmp/kiosk.conf"
expect 1 "应以 http:// 或 https:// 开头" run
check "a bad URL: chromium not started" test "$(runs)" -eq 0

# The unit, as systemd reads it, its ExecStart pointed at the script here
# (installed, it is /usr/local/bin/examroom-kiosk). A user manager needs
# XDG_RUNTIME_DIR (not set under ctest as root). Whether systemd-analyze can
# verify user units here at all is asked first with a unit known good.
if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "SKIP systemd-analyze verify: systemd-analyze is not installed"
else
    mkdir -p "$tmp/units" "$tmp/xdg"
    chmod 700 "$tmp/xdg"
    export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$tmp/xdg}"
    printf '[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\n' >"$tmp/units/probe.service"
    if ! systemd-analyze verify --user "$tmp/units/probe.service" >"$tmp/probe.out" 2>&1; then
        echo "SKIP systemd-analyze verify --user: it cannot verify even a minimal unit here:"
        sed 's/^/    /' "$tmp/probe.out"
    else
        sed "s|^ExecStart=.*|ExecStart=$(cd "$(dirname "$kiosk")" && pwd)/examroom-kiosk|" "$unit" \
            >"$tmp/units/examroom-kiosk.service"
        systemd-analyze verify --user "$tmp/units/examroom-kiosk.service" >"$tmp/verify.out" 2>&1
        check "systemd-analyze verify --user examroom-kiosk.service: $(cat "$tmp/verify.out")" \
            sh -c "[ $? -eq 0 ] && ! grep -q . '$tmp/verify.out'"
        check "the unit restarts always, in the graphical session" \
            sh -c "grep -qx 'Restart=always' '$unit' && grep -qx 'WantedBy=graphical-session.target' '$unit'"
    fi
fi
finish
