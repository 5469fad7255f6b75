#!/bin/sh
# PERFORMANCE.md P4: 1,000 sealed results of 100 items each, uploaded by
# `examroom sync` to the reference center over HTTPS on loopback: the time
# end to end (process start to exit, receipts verified and recorded) and the
# bytes of the request bodies as sent (gzip) against the raw JSON.
#   bench_sync.sh BUILD_DIR
set -eu
build=$1
tmp=$(mktemp -d /tmp/examroom-bench-sync-XXXXXX)
pid=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
C="$build/center/examcenter --data $tmp/center"
R="$build/agent/examroom --data $tmp/room"

$C init >/dev/null
$C plan sample "$tmp/plan" --candidates 1200 --rooms 1 --start-in 60 >/dev/null
$C plan import "$tmp/plan" >/dev/null
serial=$($C serial issue --room R01)
$C serve --listen 127.0.0.1:0 >"$tmp/serve.out" 2>/dev/null &
pid=$!
for _ in $(seq 50); do grep -q listening "$tmp/serve.out" && break; sleep 0.1; done
url="https://localhost:$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$tmp/serve.out")"
$R init --center "$url" --center-key "$tmp/center/center-key.pub" \
    --center-ca "$tmp/center/ca.pem" >/dev/null
$R register "$serial" >/dev/null
$C pack >/dev/null
$R fetch >/dev/null
json=$("$build/tests/mkresults" "$tmp/room" 1000 100 0 | sed -n 's/.*events, \([0-9]*\) bytes.*/\1/p')

start=$(date +%s%N)
EXAMROOM_LOG=debug $R sync >"$tmp/sync.out" 2>"$tmp/sync.log"
end=$(date +%s%N)
stored=$($C scores --format json | grep -c '"ticket"')
raw=$(sed -n 's/.*POST \/v1\/results: body \([0-9]*\) bytes, sent \([0-9]*\).*/\1/p' "$tmp/sync.log" |
    awk '{s += $1} END {print s}')
sent=$(sed -n 's/.*POST \/v1\/results: body \([0-9]*\) bytes, sent \([0-9]*\).*/\2/p' "$tmp/sync.log" |
    awk '{s += $1} END {print s}')
requests=$(grep -c 'POST /v1/results' "$tmp/sync.log")

echo
echo "## P4: upload of 1,000 sealed results (100 items each), target <= 2 s and <= 25 % of raw JSON"
echo
echo "| what | figure |"
echo "|---|---|"
awk -v s="$start" -v e="$end" 'BEGIN {printf "| end to end: examroom sync, start to exit | **%.2f s** |\n", (e - s) / 1e9}'
echo "| results the center holds after it | $stored |"
echo "| requests (batches of 500) | $requests |"
echo "| raw JSON of the 1,000 results (the baseline) | $json bytes |"
echo "| request bodies before gzip (payloads in base64, signatures) | $raw bytes |"
awk -v j="$json" -v t="$sent" 'BEGIN {printf "| request bodies as sent (gzip) | %d bytes, **%.1f %%** of the results'"'"' raw JSON |\n", t, 100 * t / j}'
