#!/bin/sh
# powerloss_serve (issue 17): `examroom serve` with its data directory on
# plfs (tests/powerloss/plfs.c), 50 simulated terminals answering, and the
# power cut 10 times: plfs forgets all that was not fsync'd and the daemon
# is killed (SIGKILL) at the same instant; then mounted again and restarted.
# Checks: every answer that got a 200 is there (tests/e2e/terminals.c);
# remaining time is what it was less the time that went by, within 2 s;
# every outbox row (the sign-ins' events) made before the cuts is still
# there, and the center acknowledges the outbox to its end afterwards.
# init, register and fetch also ran on the mount. Root and /dev/fuse, else
# SKIP (77).
#   serve.sh EXAMROOM EXAMCENTER TERMINALS PLFS SQLQ
set -u
room=$1 center=$2 terminals=$3 plfs=$4 sqlq=$5
. "$(dirname "$0")/plfs.sh"
plfs_or_skip
tmp=$(mktemp -d /tmp/examroom-plserve-XXXXXX)
cpid="" rpid="" tpid="" fpid=""
cleanup() {
    [ -n "$tpid" ] && kill "$tpid" 2>/dev/null
    [ -n "$rpid" ] && kill -9 "$rpid" 2>/dev/null
    [ -n "$cpid" ] && kill "$cpid" 2>/dev/null
    plfs_cleanup
}
trap cleanup EXIT
. "$(dirname "$0")/../lib.sh"

plfs_first_mount
# The power fails: the disk forgets, the daemon dies, together.
power_cut() {
    kill -USR1 "$fpid"
    if [ -n "$rpid" ]; then
        kill -9 "$rpid"
        wait "$rpid" 2>/dev/null
    fi
    for _ in $(seq 100); do stat "$tmp/mnt" >/dev/null 2>&1 || break; sleep 0.01; done
    unmount_plfs
    mount_plfs
}

room_data=$tmp/mnt/room
center_and_room --candidates 120 --rooms 1 --start-in 10
# A cut right after init and register: the room is whole (its keys, the
# proctor's password, its registration), not a half state.
power_cut
check "after a cut right after init and register, the proctor's password is there" \
    test -s "$room_data/proctor-password"
expect 0 "R01" $R status
$C pack >/dev/null && $R fetch >/dev/null || exit 1

port=0
serve() {
    : >"$tmp/room.out"
    env EXAMROOM_CLOCK_OFFSET="$1" EXAMROOM_LOG=warn $R serve --listen "127.0.0.1:$port" \
        >"$tmp/room.out" 2>>"$tmp/room.log" &
    rpid=$!
    for _ in $(seq 600); do
        grep -q 'listening on' "$tmp/room.out" && break
        kill -0 "$rpid" 2>/dev/null || break
        sleep 0.05
    done
    if ! grep -q 'listening on' "$tmp/room.out"; then
        echo "serve did not start:"
        tail -n 5 "$tmp/room.log"
        return 1
    fi
    port=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$tmp/room.out")
    u="http://127.0.0.1:$port"
}

# init, register and fetch wrote the data directory on the mount: a cut now
# keeps all of it (each command's files were synced before it returned).
check "serve starts on the mount" serve 720
power_cut
check "after a cut right after fetch, serve starts from what the disk kept" serve 720
for _ in $(seq 100); do $R status | grep -q "场次 S1: 已解锁" && break; sleep 0.1; done

field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
$R roster --session S1 --format csv | tail -n +2 | head -n 50 | cut -d, -f1,6 | tr , ' ' |
    while read -r ticket seat; do
        id=$(grep "^$ticket," "$tmp/plan/candidates.csv" | cut -d, -f5)
        t=$(pair "$seat")
        tok=$(curl -s -H "Authorization: Bearer $t" --data "{\"ticket\":\"$ticket\",\"id_number\":\"$id\"}" \
            "$u/api/v1/signin" | field candidate_token)
        [ -n "$tok" ] && echo "$tok" >>"$tmp/tokens"
    done
check "50 candidates signed in" [ "$(wc -l <"$tmp/tokens")" -eq 50 ]
"$terminals" state "$u" "$tmp/tokens" >"$tmp/state0"
check "all 50 running" [ "$(grep -c ' running ' "$tmp/state0")" -eq 50 ]
"$sqlq" "$room_data/room.db" "SELECT hex(id) FROM outbox ORDER BY 1" >"$tmp/outbox0"
check "the sign-ins are in the outbox ($(wc -l <"$tmp/outbox0"))" [ "$(wc -l <"$tmp/outbox0")" -ge 50 ]

"$terminals" run "$u" "$tmp/tokens" "$tmp/acks" "$tmp/stop" >"$tmp/run.out" 2>&1 &
tpid=$!
restarted=0
for _ in $(seq 10); do
    sleep "0.$(shuf -i 300-999 -n 1)"
    power_cut && serve 720 && restarted=$((restarted + 1))
done
sleep 1
touch "$tmp/stop"
wait "$tpid"
tpid=""
cat "$tmp/run.out"
check "10 power cuts, 10 restarts" [ "$restarted" -eq 10 ]
check "thousands of answers acknowledged across the cuts" [ "$(wc -l <"$tmp/acks")" -ge 1000 ]
expect 0 " 0 lost" "$terminals" check "$u" "$tmp/tokens" "$tmp/acks" "$room_data/room.db"
"$terminals" state "$u" "$tmp/tokens" >"$tmp/state1"
bad=$(join "$tmp/state0" "$tmp/state1" |
    awk '{ d = ($3 - $6) - ($7 - $4) / 1000; if (d < -2 || d > 2 || $5 != "running") print }')
check "remaining time within 2 s for all 50 after 10 power cuts" [ -z "$bad" ]
[ -n "$bad" ] && echo "$bad"
"$sqlq" "$room_data/room.db" "SELECT hex(id) FROM outbox ORDER BY 1" >"$tmp/outbox1"
check "every outbox row made before the cuts is still there" \
    [ -z "$(comm -23 "$tmp/outbox0" "$tmp/outbox1")" ]
for _ in $(seq 150); do
    $R status --json | grep -q '"backlog": 0' && break
    sleep 0.2
done
check "the center acknowledged the whole outbox after the cuts" \
    sh -c "$R status --json | grep -q '\"backlog\": 0'"
if grep -q "AddressSanitizer\|runtime error" "$tmp/room.log"; then
    fail=$((fail + 1))
    echo "FAIL: the daemon's log has sanitizer reports:"
    grep "AddressSanitizer\|runtime error" "$tmp/room.log" | head
fi
finish
