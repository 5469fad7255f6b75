#!/bin/sh
# examroom serve on its own (issue 6): the upload engine and the session keys
# in the daemon. The center is down when the daemon starts and comes back:
# the backlog goes up by itself and the session about to start is unlocked
# with the key the center releases; the daemon killed with SIGKILL and
# started again goes on; SIGTERM stops it cleanly (exit 0).
#   serve.sh EXAMROOM EXAMCENTER MKRESULTS
set -u
room=$1 center=$2 mkresults=$3
. "$(dirname "$0")/../lib.sh"
scratch serve
C="$center --data $tmp/center"
R="$room --data $tmp/room"

start_center() { # start_center PORT
    : >"$tmp/center.out"
    $C serve --listen "127.0.0.1:$1" --key-lead 120 >"$tmp/center.out" 2>>"$tmp/center.log" &
    cpid=$!
    cport=$(wait_ready "$tmp/center.out")
}
stop_center() { kill "$cpid" && wait "$cpid" 2>/dev/null; cpid=""; }
start_room() {
    : >"$tmp/room.out"
    $R serve --listen 127.0.0.1:0 >"$tmp/room.out" 2>>"$tmp/room.log" &
    rpid=$!
    wait_ready "$tmp/room.out" >/dev/null
}
# until SECONDS CMD...: CMD succeeds within SECONDS.
until_ok() {
    n=$(($1 * 10))
    shift
    for _ in $(seq "$n"); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}
backlog_is() { $R status --json | grep -q "\"backlog\": $1\$\|\"backlog\": $1,"; }

$C init >/dev/null || exit 1
$C plan sample "$tmp/plan" --candidates 40 --rooms 2 --start-in 5 >/dev/null || exit 1
$C plan import "$tmp/plan" >/dev/null || exit 1
serial=$($C serial issue --room R01)
start_center 0
$R init --center "https://localhost:$cport" --center-key "$tmp/center/center-key.pub" \
    --center-ca "$tmp/center/ca.pem" >/dev/null || exit 1
$R register "$serial" >/dev/null && $C pack >/dev/null && $R fetch >/dev/null || exit 1
$mkresults "$tmp/room" 10 20 2 >/dev/null || exit 1

# The center goes down; the daemon starts; the center comes back (on its
# port: the daemon, listening on port 0, may have been given that very port,
# then it starts again elsewhere).
stop_center
start_room
while [ "$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$tmp/room.out")" = "$cport" ]; do
    kill "$rpid" && wait "$rpid" 2>/dev/null
    start_room
done
check "the daemon says it is ready" grep -q 'listening on http://127.0.0.1:' "$tmp/room.out"
check "the daemon answers /api/v1/time" sh -c "curl -sf http://127.0.0.1:$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$tmp/room.out")/api/v1/time | grep -q server_time"
sleep 2
check "with the center down, the backlog waits" backlog_is 12
start_center "$cport"
check "the center back, the backlog goes up by itself" until_ok 30 backlog_is 0
check "the session about to start is unlocked with the center's key" \
    until_ok 20 sh -c "$R status | grep -q '场次 S1: 已解锁'"
expect 0 "场次 S2: 未解锁" $R status

# Killed with SIGKILL, new results pending, started again.
kill -9 "$rpid" && wait "$rpid" 2>/dev/null
rpid=""
$mkresults "$tmp/room" 5 20 0 >/dev/null || exit 1
start_room
check "after kill -9 and a restart, the rest goes up" until_ok 30 backlog_is 0
n=$($C scores --format json | grep -c '"ticket"')
check "the center holds exactly the room's 15 results ($n)" test "$n" -eq 15

# SIGTERM: a clean stop.
kill -TERM "$rpid"
wait "$rpid"
status=$?
rpid=""
check "SIGTERM stops the daemon with exit 0 ($status)" test "$status" -eq 0
finish
