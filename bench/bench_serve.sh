#!/bin/sh
# PERFORMANCE.md P1: durable answer saves through `examroom serve`: 256
# keep-alive connections, one signed-in candidate each, PUT back to back;
# beside the same connections against a no-op handler (GET /api/v1/time) on
# the same HTTP stack in the same run. Also the daemon's peak RSS (P6's
# serving figure).
#   bench_serve.sh BUILD_DIR
set -eu
build=$1
conns=256 seconds=${P1_SECONDS:-5}
tmp=$(mktemp -d /tmp/examroom-bench-serve-XXXXXX)
cpid="" rpid=""
trap '[ -n "$rpid" ] && kill $rpid 2>/dev/null; [ -n "$cpid" ] && kill $cpid 2>/dev/null; rm -rf "$tmp"' EXIT
room=$build/agent/examroom center=$build/center/examcenter
. "$(dirname "$0")/../tests/lib.sh"

center_and_room --candidates 600 --rooms 1 --start-in 10
$C pack >/dev/null
$R fetch >/dev/null
# The exam clock 12 minutes on: S1 is running (its key comes from the center).
EXAMROOM_CLOCK_OFFSET=720 EXAMROOM_LOG=warn $R serve --listen 127.0.0.1:0 >"$tmp/room.out" 2>"$tmp/room.log" &
rpid=$!
u="http://127.0.0.1:$(wait_ready "$tmp/room.out")"
for _ in $(seq 100); do $R status | grep -q "场次 S1: 已解锁" && break; sleep 0.1; done

field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
$R roster --session S1 --format csv | tail -n +2 | head -n "$conns" | cut -d, -f1,6 | tr , ' ' |
    while read -r ticket seat; do
        asked=$(curl -s -X POST "$u/api/v1/terminals")
        code=$(echo "$asked" | field pairing_code)
        $R pair approve "$code" --seat "$seat" >/dev/null
        t=$(curl -s -H "Authorization: Bearer $(echo "$asked" | field pairing_secret)" \
            "$u/api/v1/terminals/$code" | field terminal_token)
        id=$(grep "^$ticket," "$tmp/plan/candidates.csv" | cut -d, -f5)
        curl -s -H "Authorization: Bearer $t" --data "{\"ticket\":\"$ticket\",\"id_number\":\"$id\"}" \
            "$u/api/v1/signin" | field candidate_token
        echo # curl's answer has no final newline, nor then has sed's
    done | grep . >"$tmp/tokens"

noop=$("$build/bench/loadgen" "$u" "$tmp/tokens" "$seconds" noop || true)
save=$("$build/bench/loadgen" "$u" "$tmp/tokens" "$seconds" save || true)
rss=$(sed -n 's/^VmHWM:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$rpid/status")


echo
echo "## P1: durable answer saves, $conns keep-alive connections, target >= 25,000/s, p99 <= 20 ms, >= 50 % of the no-op ceiling"
echo
echo "| what | requests/s | p50 | p99 | errors |"
echo "|---|---|---|---|---|"
echo "$noop" | awk '{printf "| no-op handler (GET /api/v1/time), %d connections: the ceiling | %d | %.2f ms | %.2f ms | %d |\n", $2, $3, $4, $5, $6}'
echo "$save" | awk '{printf "| PUT /api/v1/answers/1, 200 only once durable, %d candidates | **%d** | %.2f ms | **%.2f ms** | %d |\n", $2, $3, $4, $5, $6}'
echo "$noop $save" | awk '{printf "| saves against the ceiling | **%.0f %%** | | | |\n", 100 * $9 / $3}'
echo "| candidates whose tokens were used (signed in) | $(grep -c . "$tmp/tokens") | | | |"
echo "| daemon peak RSS (VmHWM) serving them | $((rss / 1024)) MiB | | | |"
