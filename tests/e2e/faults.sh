#!/bin/sh
# Sync through a network that fails on purpose (issue 6): the room talks to
# the reference center through tests/proxy/faultproxy on loopback.
#  1. a package download reset every 10 % completes and verifies;
#  2. 1,000 sealed results (and 20 events) uploaded while the proxy injects
#     every fault (reset, delay, lost acknowledgement, stall, 503): the center
#     holds exactly 1,000 and the room's outbox is empty, every batch
#     acknowledged by a verified receipt;
#  3. the same with the agent killed with SIGKILL mid-upload and restarted.
#   faults.sh EXAMROOM EXAMCENTER MKRESULTS FAULTPROXY
set -u
room=$1 center=$2 mkresults=$3 proxy=$4
. "$(dirname "$0")/../lib.sh"
scratch faults
ppid_="" stop_pids="ppid_ cpid"
C="$center --data $tmp/center"
R1="$room --data $tmp/r01"
R2="$room --data $tmp/r02"
results_of() { $C scores --format json | grep -c "\"room\": \"$1\""; }

$C init >/dev/null || exit 1
$C plan sample "$tmp/plan" --candidates 5400 --rooms 3 --start-in 120 >/dev/null || exit 1
$C plan import "$tmp/plan" >/dev/null || exit 1
s1=$($C serial issue --room R01)
s2=$($C serial issue --room R02)
$C serve --listen 127.0.0.1:0 >"$tmp/serve.out" 2>"$tmp/serve.log" &
cpid=$!
cport=$(wait_ready "$tmp/serve.out")

# The proxy keeps one port, so the rooms keep their center URL across rules.
start_proxy() { # start_proxy PORT RULES...
    p=$1
    shift
    : >"$tmp/proxy.out"
    "$proxy" --listen "127.0.0.1:$p" --upstream "127.0.0.1:$cport" "$@" \
        >"$tmp/proxy.out" 2>>"$tmp/proxy.log" &
    ppid_=$!
    pport=$(wait_ready "$tmp/proxy.out")
}
stop_proxy() {
    kill "$ppid_" && wait "$ppid_" 2>/dev/null
    ppid_=""
}
start_proxy 0
url="https://localhost:$pport"
for r in "$R1" "$R2"; do
    $r init --center "$url" --center-key "$tmp/center/center-key.pub" \
        --center-ca "$tmp/center/ca.pem" >/dev/null || exit 1
done
$R1 register "$s1" >/dev/null && $R2 register "$s2" >/dev/null || exit 1
$C pack >"$tmp/packed" || exit 1
$R2 fetch >/dev/null || exit 1

# 1. The download, reset every 10 % of the package.
size=$(wc -c <"$(grep '\.R01\.' "$tmp/packed")")
stop_proxy
start_proxy "$pport" --reset-after-bytes $((size / 10))
check "fetch completes through resets" $R1 fetch
check "the package verifies" $R1 verify
stop_proxy
resets=$(sed -n 's/.* reset=\([0-9]*\).*/\1/p' "$tmp/proxy.log" | tail -1)
check "the download was reset at least 9 times ($resets)" test "${resets:-0}" -ge 9

# 2. 1,000 results through every fault.
$mkresults "$tmp/r01" 1000 100 20 >/dev/null || exit 1
# libcurl keeps a connection open across requests, and faults are drawn per
# connection: the first five new ones get one fault each, then a seeded mix.
start_proxy "$pport" --seed 7 --conn 1:reset:1500 --conn 2:lost-ack --conn 3:stall \
    --conn 4:503 --conn 5:delay:100 --random 0.2:reset:20000 --random 0.2:lost-ack \
    --random 0.1:503 --random 0.05:stall
export EXAMROOM_SYNC_TIMEOUT=3 EXAMROOM_SYNC_BATCH=50
check "sync --wait gets everything acknowledged" $R1 sync --wait
check "the center holds exactly 1,000 of R01's results ($(results_of R01))" \
    test "$(results_of R01)" -eq 1000
check "R01's outbox is empty" sh -c "$R1 status --json | grep -q '\"backlog\": 0'"

# 3. Killed mid-upload, restarted.
$mkresults "$tmp/r02" 1000 100 0 >/dev/null || exit 1
$R2 sync --wait >"$tmp/killed.out" 2>&1 &
spid=$!
for _ in $(seq 200); do
    [ "$(results_of R02)" -gt 0 ] && break
    sleep 0.05
done
kill -9 "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
mid=$(results_of R02)
check "the kill came mid-upload ($mid of 1,000 at the center)" test "$mid" -lt 1000
check "sync --wait after the kill completes" $R2 sync --wait
check "the center holds exactly 1,000 of R02's results ($(results_of R02))" \
    test "$(results_of R02)" -eq 1000
check "R02's outbox is empty" sh -c "$R2 status --json | grep -q '\"backlog\": 0'"
stop_proxy
summary=$(tail -1 "$tmp/proxy.log")
echo "proxy: $summary"
for f in reset delay lost-ack stall 503; do
    n=$(echo "$summary" | sed -n "s/.* $f=\([0-9]*\).*/\1/p")
    check "the proxy injected $f (${n:-0})" test "${n:-0}" -gt 0
done

finish
