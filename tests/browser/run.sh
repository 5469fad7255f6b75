#!/bin/sh
# The web pages in a real browser (issue 12): a center and a room (with a
# proctor password) and a fetched plan whose session starts in 10 minutes;
# then node's test runner drives Debian's chromium through playwright-core
# (TEST: terminal.test.js, proctor.test.js, reports.test.js; the plan has
# $BROWSER_CANDIDATES candidates, 16 unless set), which runs `examroom serve`
# itself (it may kill and restart it, and move its exam clock with
# EXAMROOM_CLOCK_OFFSET) and plays the proctor's CLI, terminals or candidates
# as it needs. Screenshots go to ARTIFACTS.
#   run.sh EXAMROOM EXAMCENTER ARTIFACTS TEST
set -u
room=$1 center=$2 artifacts=$3 test=$4
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/examroom-browser-XXXXXX)
cpid=""
cleanup() {
    [ -n "$cpid" ] && kill "$cpid" 2>/dev/null && wait "$cpid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
. "$here/../lib.sh"

chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ] || ! command -v node >/dev/null 2>&1; then
    echo "$test: chromium or node missing: run packaging/deps.sh test" >&2
    exit 1
fi
# playwright-core from the committed lockfile, installed when node_modules is
# missing or older than the lockfile (the npm registry is reachable in CI).
# A lock so that two runs (make test runs two suites at once) never install
# at once, and the second finds the first's install done rather than wiping
# the node_modules the first is using.
stamp="$here/node_modules/.package-lock.json"
fresh() { [ -f "$stamp" ] && ! [ "$here/package-lock.json" -nt "$stamp" ]; }
if ! fresh; then
    (flock 9 && { fresh || npm ci --prefix "$here" --no-audit --no-fund --loglevel=error; }) \
        9>"$here/.npm-ci.lock" || exit 1
fi

password=console-pass-7
printf '%s\n' "$password" >"$tmp/pw"
room_init_args="--proctor-password-file $tmp/pw"
center_and_room --candidates "${BROWSER_CANDIDATES:-16}" --rooms 1 --start-in 10 --photo-kib 20
$C pack >/dev/null && $R fetch >/dev/null || exit 1

mkdir -p "$artifacts"
EXAMROOM="$room" ROOM_DATA="$tmp/room" PLAN="$tmp/plan" ARTIFACTS="$artifacts" \
    EXAMCENTER="$center" CENTER_DATA="$tmp/center" \
    CHROMIUM="$chromium" WORK="$tmp" PROCTOR_PASSWORD="$password" \
    node --test --test-reporter=spec "$here/$test"
