#!/bin/sh
# The daemon's token cache (agent/cache.c, issue 15): a candidate's requests
# are answered from memory, but whatever ends a candidate token, or what the
# candidate may still do, reaches the very next request. Each candidate
# saves twice (the second from the cache), then the proctor (or a sign-in)
# changes the store, then the old token saves once more, at once:
#   - the seat's terminal revoked: 401 terminal_revoked;
#   - the candidate moved to another seat: 401 moved;
#   - signed in again: the old token 401 replaced, the new one 200;
#   - submitted by the proctor: 409 submitted.
# And a stale rev still gets 409 with the stored answer.
#   cache.sh EXAMROOM EXAMCENTER
set -u
room=$1 center=$2
tmp=$(mktemp -d /tmp/examroom-cache-XXXXXX)
cpid="" rpid=""
cleanup() {
    [ -n "$rpid" ] && kill "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null
    [ -n "$cpid" ] && kill "$cpid" 2>/dev/null && wait "$cpid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
. "$(dirname "$0")/../lib.sh"

center_and_room --candidates 12 --rooms 1 --start-in 10
$C pack >/dev/null && $R fetch >/dev/null || exit 1
# The exam clock 12 minutes on: S1 is running (its key from the center).
EXAMROOM_CLOCK_OFFSET=720 $R serve --listen 127.0.0.1:0 >"$tmp/room.out" 2>"$tmp/room.log" &
rpid=$!
u="http://127.0.0.1:$(wait_ready "$tmp/room.out")"
for _ in $(seq 100); do $R status | grep -q "场次 S1: 已解锁" && break; sleep 0.1; done

field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
$R roster --session S1 --format csv | tail -n +2 | head -n 6 | cut -d, -f1,6 | tr , ' ' >"$tmp/seats"
# signin N: candidate N (line N of seats) signs in at their seat's terminal
# (paired the first time); sets ticket, seat, token.
signin() {
    ticket=$(sed -n "$1p" "$tmp/seats" | cut -d' ' -f1)
    seat=$(sed -n "$1p" "$tmp/seats" | cut -d' ' -f2)
    [ -s "$tmp/term$1" ] || pair "$seat" >"$tmp/term$1"
    id=$(grep "^$ticket," "$tmp/plan/candidates.csv" | cut -d, -f5)
    token=$(curl -s -H "Authorization: Bearer $(cat "$tmp/term$1")" \
        --data "{\"ticket\":\"$ticket\",\"id_number\":\"$id\"}" "$u/api/v1/signin" | field candidate_token)
}
# save TOKEN [REV]: one answer with REV (by default a rev above any
# before: the time in nanoseconds); prints the status, the body in
# $tmp/body.
save() {
    rev=${2:-$(date +%s%N)}
    curl -s -o "$tmp/body" -w '%{http_code}' -X PUT -H "Authorization: Bearer $1" \
        --data "{\"answer\":\"A\",\"rev\":$rev}" "$u/api/v1/answers/1"
}
# twice TOKEN: two saves (the second with the candidate from the cache) 200.
quiet() { "$@" >/dev/null; }
twice() { [ "$(save "$1")" = 200 ] && [ "$(save "$1")" = 200 ]; }
refused() { # refused STATUS ERROR TOKEN [REV]: the next save gets STATUS with ERROR
    [ "$(save "$3" "${4:-}")" = "$1" ] && grep -q "\"error\":\"$2\"" "$tmp/body"
}

signin 1
check "candidate 1 saves (twice)" twice "$token"
check "its terminal revoked" quiet $R pair revoke "$seat"
check "its terminal revoked: the very next save 401 terminal_revoked" refused 401 terminal_revoked "$token"

signin 2
check "candidate 2 saves" twice "$token"
# A seat of the room nobody of S1 has.
free=$(($($R roster --session S1 --format csv | tail -n +2 | cut -d, -f6 | sort -n | tail -n 1) + 1))
check "moved to seat $free" quiet $R move "$ticket" "$free"
check "moved: the very next save 401 moved" refused 401 moved "$token"

signin 3
old=$token
check "candidate 3 saves" twice "$old"
signin 3
check "signed in again: the old token's very next save 401 replaced" refused 401 replaced "$old"
check "and the new token saves" twice "$token"

signin 4
check "candidate 4 saves" twice "$token"
check "submitted by the proctor" quiet $R submit "$ticket"
check "submitted by the proctor: the very next save 409 submitted" refused 409 submitted "$token"

signin 5
check "candidate 5 saves" twice "$token"
check "a stale rev: 409 stale_rev" refused 409 stale_rev "$token" 1
check "with the stored answer and rev" grep -q '"answer":"A"' "$tmp/body"

finish
