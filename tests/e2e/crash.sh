#!/bin/sh
# The crash test (issue 7): `examroom serve` answering 50 simulated terminals
# as fast as they save is killed with SIGKILL 10 times and restarted. Checks:
# no acknowledged answer is lost (tests/e2e/terminals.c logs every 200 and
# reads the answers back); each candidate's remaining time is what it was
# less the time that went by, within 2 s, though the system's wall clock is
# moved an hour while the daemon is down; candidates whose time ran out
# while it was down are submitted, scored, when it comes back, and the
# others (extended by the proctor before the kills) carry on.
#   crash.sh EXAMROOM EXAMCENTER TERMINALS CLOCKSHIFT_SO
set -u
room=$1 center=$2 terminals=$3 clockshift=$4
tmp=$(mktemp -d /tmp/examroom-crash-XXXXXX)
cpid="" rpid="" tpid=""
cleanup() {
    [ -n "$tpid" ] && kill "$tpid" 2>/dev/null
    [ -n "$rpid" ] && kill -9 "$rpid" 2>/dev/null
    [ -n "$cpid" ] && kill "$cpid" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
. "$(dirname "$0")/../lib.sh"

# Photos of 20 KiB: records of the photos section across chunk edges.
center_and_room --candidates 120 --rooms 1 --start-in 10 --photo-kib 20
$C pack >/dev/null && $R fetch >/dev/null || exit 1

# serve OFFSET: starts the daemon, its exam clock OFFSET seconds ahead (S1
# starts 10 minutes from now), its wall clock shifted by the seconds in
# $tmp/shift; on $port once the first start has chosen one.
echo 0 >"$tmp/shift"
port=0
serve() {
    t0=$(date +%s%N)
    : >"$tmp/room.out"
    env LD_PRELOAD="$clockshift" CLOCKSHIFT_FILE="$tmp/shift" EXAMROOM_CLOCK_OFFSET="$1" \
        EXAMROOM_LOG=warn $R serve --listen "127.0.0.1:$port" >"$tmp/room.out" 2>>"$tmp/room.log" &
    rpid=$!
    wait_ready "$tmp/room.out" "$rpid" >/dev/null
    if ! grep -q 'listening on' "$tmp/room.out"; then
        echo "serve did not start:"
        tail -n 5 "$tmp/room.log"
        return 1
    fi
    port=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$tmp/room.out")
    u="http://127.0.0.1:$port"
    echo "$(((($(date +%s%N) - t0) / 1000000))) ms" >>"$tmp/starts"
}
# Two hours before S1, no exam under way: the server's time is an hour
# fast; the proctor sets it right and restarts serve, which then reads the
# corrected time (the saved anchor is kept only while an exam is under way).
skew() { echo $(($(curl -s "$u/api/v1/time" | sed -n 's/.*"server_time":\([0-9]*\).*/\1/p') / 1000 - $(date +%s) - $1)); }
echo 3600 >"$tmp/shift"
check "serve starts with the clock an hour fast" serve -7200
fast=$(skew -7200)
kill -TERM "$rpid" && wait "$rpid"
echo 0 >"$tmp/shift"
serve -7200
fixed=$(skew -7200)
check "set right between sessions, a restart takes the right time ($fast s, then $fixed s)" \
    test "$fast" -ge 3598 -a "$fast" -le 3602 -a "$fixed" -ge -2 -a "$fixed" -le 2
kill -TERM "$rpid" && wait "$rpid"
: >"$tmp/starts"

offset=720
check "serve starts" serve $offset
for _ in $(seq 100); do $R status | grep -q "场次 S1: 已解锁" && break; sleep 0.1; done

# 50 candidates of S1, each at their seat's paired terminal, signed in.
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
$R roster --session S1 --format csv | tail -n +2 | head -n 50 | cut -d, -f1,6 | tr , ' ' |
    while read -r ticket seat; do
        id=$(grep "^$ticket," "$tmp/plan/candidates.csv" | cut -d, -f5)
        asked=$(curl -s -X POST "$u/api/v1/terminals")
        code=$(echo "$asked" | field pairing_code)
        $R pair approve "$code" --seat "$seat" >/dev/null
        t=$(curl -s -H "Authorization: Bearer $(echo "$asked" | field pairing_secret)" \
            "$u/api/v1/terminals/$code" | field terminal_token)
        tok=$(curl -s -H "Authorization: Bearer $t" --data "{\"ticket\":\"$ticket\",\"id_number\":\"$id\"}" \
            "$u/api/v1/signin" | field candidate_token)
        [ -n "$tok" ] && echo "$tok" >>"$tmp/tokens" && echo "$ticket" >>"$tmp/tickets"
    done
check "50 candidates signed in" [ "$(wc -l <"$tmp/tokens")" -eq 50 ]
# Each one's photo, decrypted on request from the package: the plan's bytes.
same=0
paste -d' ' "$tmp/tokens" "$tmp/tickets" >"$tmp/pairs"
while read -r tok ticket; do
    curl -s -o "$tmp/photo" -H "Authorization: Bearer $tok" "$u/api/v1/photo" &&
        cmp -s "$tmp/photo" "$tmp/plan/photos/$ticket.jpg" && same=$((same + 1))
done <"$tmp/pairs"
check "50 photos, each the plan's own ($same)" [ "$same" -eq 50 ]
# The first 25 get 30 more minutes from the proctor, before any kill.
for ticket in $(head -n 25 "$tmp/tickets"); do
    $R extend "$ticket" 30 >/dev/null || echo "extend $ticket failed"
done
"$terminals" state "$u" "$tmp/tokens" >"$tmp/state0"
check "all 50 running" [ "$(grep -c ' running ' "$tmp/state0")" -eq 50 ]

# The terminals answer; the daemon is killed 10 times under them.
"$terminals" run "$u" "$tmp/tokens" "$tmp/acks" "$tmp/stop" >"$tmp/run.out" 2>&1 &
tpid=$!
restarted=0
for i in $(seq 10); do
    sleep "0.$(shuf -i 300-999 -n 1)"
    kill -9 "$rpid"
    wait "$rpid" 2>/dev/null
    # Halfway, the system's time jumps an hour while the daemon is down.
    [ "$i" -eq 5 ] && echo 3600 >"$tmp/shift"
    serve $offset && restarted=$((restarted + 1))
done
sleep 1
touch "$tmp/stop"
wait "$tpid"
tpid=""
cat "$tmp/run.out"
check "10 kills, 10 restarts on the same port" [ "$restarted" -eq 10 ]
echo "serve, start to ready: $(sort -n "$tmp/starts" | tr '\n' ' ')"
check "thousands of answers acknowledged across the kills" [ "$(wc -l <"$tmp/acks")" -ge 1000 ]
expect 0 " 0 lost" "$terminals" check "$u" "$tmp/tokens" "$tmp/acks" "$tmp/room/room.db"

# Remaining time: what it was, less the time that went by (this process's
# clock, not shifted), within 2 s, despite the hour the wall clock jumped.
"$terminals" state "$u" "$tmp/tokens" >"$tmp/state1"
bad=$(join "$tmp/state0" "$tmp/state1" |
    awk '{ d = ($3 - $6) - ($7 - $4) / 1000; if (d < -2 || d > 2 || $5 != "running") print }')
check "remaining time within 2 s for all 50 after 10 kills and a wall-clock jump" [ -z "$bad" ]
[ -n "$bad" ] && echo "$bad"

# Down past the end of the 25 not extended: killed, then started with the
# exam clock moved beyond their end. What each should score is computed
# first, from the answers the room holds (every acknowledged one, checked
# above) and the papers' keys.
"$terminals" score "$u" "$tmp/tokens" "$tmp/plan/papers" >"$tmp/want"
left=$(awk '$1 >= 25 { print $3; exit }' "$tmp/state1")
kill -9 "$rpid"
wait "$rpid" 2>/dev/null
offset=$((offset + left + 60))
check "serve restarts after the end" serve $offset
for _ in $(seq 50); do
    [ "$($R roster --session S1 --format csv | grep -c ',已交卷,')" -ge 25 ] && break
    sleep 0.2
done
"$terminals" state "$u" "$tmp/tokens" >"$tmp/state2"
check "the 25 whose time ran out are submitted at restart" \
    [ "$(awk '$1 >= 25 && $2 == "submitted"' "$tmp/state2" | wc -l)" -eq 25 ]
check "the 25 extended still run" \
    [ "$(awk '$1 < 25 && $2 == "running"' "$tmp/state2" | wc -l)" -eq 25 ]
bad=$(join "$tmp/state1" "$tmp/state2" | awk -v jump=$((left + 60)) \
    '$1 < 25 { d = ($3 - $6) - ($7 - $4) / 1000 - jump; if (d < -2 || d > 2) print }')
check "the extended 25 lost exactly the time the daemon was down" [ -z "$bad" ]
$R roster --session S1 --format csv >"$tmp/roster.csv"
i=0 scored=0
while read -r ticket; do
    want=$(awk -v i=$i '$1 == i { print $2 }' "$tmp/want")
    got=$(grep "^$ticket," "$tmp/roster.csv" | awk -F, '$(NF - 1) == "已交卷" { print $NF }')
    [ "$i" -ge 25 ] && [ "$got" = "$want" ] && scored=$((scored + 1))
    [ "$i" -ge 25 ] && [ "$got" != "$want" ] && echo "$ticket: room scored '$got', answers held score $want"
    i=$((i + 1))
done <"$tmp/tickets"
check "their results are sealed, scored on every answer the room held" [ "$scored" -eq 25 ]
# SECURITY.md "At rest": whatever serve, fetch and the restarts wrote is
# the room's alone (files 0600, directories 0700).
loose=$(find "$tmp/room" \( -type f ! -perm 600 \) -o \( -type d ! -perm 700 \) | tr '\n' ' ')
check "every file in the data directory is 0600, every directory 0700 ($loose)" test -z "$loose"
if grep -q "ERROR\|AddressSanitizer\|runtime error" "$tmp/room.log"; then
    fail=$((fail + 1))
    echo "FAIL: the daemon's log has errors:"
    grep "ERROR\|AddressSanitizer\|runtime error" "$tmp/room.log" | head
fi
finish
