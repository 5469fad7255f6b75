#!/bin/sh
# PERFORMANCE.md P2, P6 (idle) and P7 with a 10,000-candidate roster in one
# room: `plan sample --rooms 1 --sessions 20` (20 sessions of 500), registered,
# packed and fetched. The photos are the sample's 226-byte ones (a 5 MB
# package) unless ROSTER_PHOTO_KIB pads each to that size (16, an ID photo's
# usual weight, makes a 169 MB package; P6 and P7 grow with it).
#   P7: `examroom serve` from the fork to its ready line on stdout, several
#       starts (the package in the page cache, as after `fetch`).
#   P6: the daemon's VmRSS once ready and idle for 2 s, at each start, and
#       what it is made of (anonymous memory, shared-library pages, PSS).
#   P2: 100 paired terminals at S1's first 100 seats, with S1's sign-in
#       open and the center stopped (the room offline: the center's intake of
#       the attendance events would take a core of this machine). Each
#       terminal signs in its seat's candidate: all 100 at once every 100 ms
#       (loadgen signin-burst), then back to back (loadgen signin), then
#       open loop at a fixed offered rate (loadgen signin-rate, P2_RATE a
#       second, 2,000 by default), the latency of each counted from when it
#       was due; beside the same connections against a no-op handler.
#   The open loop's tail is set beside the store's transactions meanwhile
#   (serve's EXAMROOM_COMMIT_LOG, loadgen's LOADGEN_DUMP); P2_DUMP=DIR keeps
#   both (signins: due time and ms; transactions: start, ms, writes).
#   [P2_SECONDS=5] [P2_RATE=2000] [P7_RUNS=7] [P2_PERF=FILE] [P2_DUMP=DIR] bench_roster.sh BUILD_DIR
set -eu
build=$1
cands=10000 sessions=20 terms=100
seconds=${P2_SECONDS:-5} runs=${P7_RUNS:-7} photo=${ROSTER_PHOTO_KIB:+--photo-kib $ROSTER_PHOTO_KIB}
tmp=$(mktemp -d /tmp/examroom-bench-roster-XXXXXX)
cpid="" rpid=""
trap '[ -n "$rpid" ] && kill $rpid 2>/dev/null; [ -n "$cpid" ] && kill $cpid 2>/dev/null; rm -rf "$tmp"' EXIT
room=$build/agent/examroom center=$build/center/examcenter
. "$(dirname "$0")/../tests/lib.sh"
us_now() { echo $(($(date +%s%N) / 1000)); } # microseconds
kib() { sed -n "s/^$1:[^0-9]*\([0-9]*\).*/\1/p" "/proc/$rpid/${2:-status}"; }

# S1 an hour from now, so the daemon asks the center for no key (it asks 20
# minutes ahead) while P6 and P7 are measured.
# shellcheck disable=SC2086
center_and_room --candidates $cands --rooms 1 --sessions $sessions --start-in 60 $photo
$C pack >/dev/null
$R fetch >/dev/null
roster=$($R roster --format csv | tail -n +2 | grep -c .)
pkg=$(du -b "$tmp"/room/packages/* 2>/dev/null | awk '{n += $1} END {print n + 0}')

# Starts serve (environment in $@), its stdout through a FIFO so that the
# ready line is seen the moment it is written: sets rpid, port, took (µs).
mkfifo "$tmp/ready"
serve() {
    t0=$(us_now)
    env "$@" $R serve --listen 127.0.0.1:0 >"$tmp/ready" 2>>"$tmp/room.log" &
    rpid=$!
    exec 3<"$tmp/ready"
    read -r line <&3
    took=$(($(us_now) - t0))
    port=${line##*:}
}
halt() {
    kill $rpid
    wait $rpid || true
    rpid=""
    exec 3<&-
}

: >"$tmp/p7"
for _ in $(seq "$runs"); do
    serve EXAMROOM_LOG=info
    sleep 2
    echo "$took $(kib VmRSS) $(kib RssAnon) $(kib RssFile) $(kib VmHWM) $(kib Pss smaps_rollup)" >>"$tmp/p7"
    halt
done

# P2: the exam clock moved to 10 minutes before S1's start (sign-in opens 30
# minutes before it); the center link keeps its own clock.
d=$(sed -n 's/.*"date": "\(.*\)".*/\1/p' "$tmp/plan/plan.json" | head -n 1)
hm=$(sed -n 's/.*"start": "\(.*\)".*/\1/p' "$tmp/plan/plan.json" | head -n 1)
offset=$(($(date -d "$d $hm +0800" +%s) - 600 - $(date +%s)))
serve EXAMROOM_LOG=warn EXAMROOM_CLOCK_OFFSET=$offset EXAMROOM_COMMIT_LOG="$tmp/commits"
u="http://127.0.0.1:$port"
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
$R roster --session S1 --format csv | tail -n +2 | head -n "$terms" | cut -d, -f1,6 | tr , ' ' |
    while read -r ticket seat; do
        asked=$(curl -s -X POST "$u/api/v1/terminals")
        code=$(echo "$asked" | field pairing_code)
        $R pair approve "$code" --seat "$seat" >/dev/null
        t=$(curl -s -H "Authorization: Bearer $(echo "$asked" | field pairing_secret)" \
            "$u/api/v1/terminals/$code" | field terminal_token)
        id=$(grep "^$ticket," "$tmp/plan/candidates.csv" | cut -d, -f5)
        echo "$t $ticket $id"
    done >"$tmp/terminals"
kill $cpid
wait $cpid || true
cpid=""

noop=$("$build/bench/loadgen" "$u" "$tmp/terminals" "$seconds" noop || true)
burst=$("$build/bench/loadgen" "$u" "$tmp/terminals" "$seconds" signin-burst || true)
signin=$("$build/bench/loadgen" "$u" "$tmp/terminals" "$seconds" signin || true)
# Open loop: a fixed offered rate, latency from each sign-in's due time.
rate=${P2_RATE:-2000}
# P2_PERF=FILE: a profile of the daemon (perf record, P2_PERF_ARGS, -g by
# default) during the open-loop run: with the loop mostly idle at this
# rate, what holds it shows.
if [ -n "${P2_PERF:-}" ]; then
    # shellcheck disable=SC2086
    perf record ${P2_PERF_ARGS:--g} -o "$P2_PERF" -p "$rpid" 2>/dev/null &
    perf=$!
fi
: >"$tmp/open"
open=$(LOADGEN_DUMP="$tmp/open" "$build/bench/loadgen" "$u" "$tmp/terminals" "$seconds" signin-rate "$rate" || true)
if [ -n "${P2_PERF:-}" ]; then
    kill -INT $perf
    wait $perf || true
fi
busy=$(uptime | sed 's/.*load average: //')
rss=$(kib VmHWM)

echo
echo "## P2, P6 (idle), P7 with a $roster-candidate roster in one room ($sessions sessions), package $pkg bytes"
echo
echo "| what | figure | target |"
echo "|---|---|---|"
sort -n "$tmp/p7" | awk -v n="$runs" '{t[NR] = $1} END {printf "| P7: serve, start to ready line, %d starts: median / max | **%.1f ms** / %.1f ms | <= 150 ms |\n", n, t[int((NR + 1) / 2)] / 1000, t[NR] / 1000}'
sort -n -k2 "$tmp/p7" | awk '{r[NR] = $2; a[NR] = $3; f[NR] = $4; h[NR] = $5; p[NR] = $6} END {m = int((NR + 1) / 2)
    printf "| P6: VmRSS idle 2 s after ready, %d starts: median / max | **%.1f MiB** / %.1f MiB | <= 12 MiB |\n", NR, r[m] / 1024, r[NR] / 1024
    printf "| of which anonymous (heap) / shared-library pages; peak VmHWM; PSS | %.1f / %.1f MiB; %.1f MiB; %.1f MiB | |\n", a[m] / 1024, f[m] / 1024, h[m] / 1024, p[m] / 1024}'
echo "$noop" | awk '{printf "| no-op handler (GET /api/v1/time), %d connections: requests/s (p50 / p99) | %d (%.2f / %.2f ms) | |\n", $2, $3, $4, $5}'
echo "$burst" | awk '{printf "| P2: POST /api/v1/signin, %d terminals at once every 100 ms: p50 / **p99**, errors | %.2f / **%.2f ms**, %d | none: sent together, they queue behind each other |\n", $2, $4, $5, $6}'
echo "$signin" | awk '{printf "| P2: POST /api/v1/signin, %d terminals back to back: sign-ins/s (p50 / **p99**), errors | **%d** (%.2f / **%.2f ms**), %d | the ceiling (PERFORMANCE.md P2) |\n", $2, $3, $4, $5, $6}'
echo "$open" | awk -v r="$rate" '{printf "| P2 open loop: %d sign-ins/s offered from %d terminals, latency from each one'"'"'s due time: served/s, p50 / **p99**, errors | %d, %.2f / **%.2f ms**, %d | p99 <= 5 ms |\n", r, $2, $3, $4, $5, $6}'
# What the open loop's tail waited on: the store's transactions during the
# run (EXAMROOM_COMMIT_LOG: start and duration on CLOCK_MONOTONIC, as
# LOADGEN_DUMP's due times), and the sign-ins whose wait overlapped one that
# took over 5 ms (the WAL's fsync, or a checkpoint inside COMMIT).
sort -n "$tmp/open" >"$tmp/open.sorted"
if [ -n "${P2_DUMP:-}" ]; then # to look into a run's tail afterwards
    mkdir -p "$P2_DUMP"
    cp "$tmp/open.sorted" "$P2_DUMP/signins"
    cp "$tmp/commits" "$P2_DUMP/transactions"
fi
# (printf: awk's print would round a computed time to OFMT's 6 digits.)
window=$(awk 'NR == 1 {a = $1} {e = $1 + $2 / 1000; if (e > b) b = e} END {printf "%.6f %.6f\n", a, b}' "$tmp/open.sorted")
awk -v w="$window" 'BEGIN {split(w, x, " ")} $1 + $2 / 1000 >= x[1] && $1 <= x[2]' "$tmp/commits" >"$tmp/commits.run"
# Percentiles ranked as loadgen ranks its own: the (n * q + 1)-th value.
sort -n -k2 "$tmp/commits.run" | awk '{d[NR] = $2; if ($2 > 5) {s++; ms += $2}}
    END {printf "| P2 open loop, the store meanwhile: transactions, p50 / p99 / max; over 5 ms (their time) | %d, %.2f / %.2f / %.2f ms; %d (%.0f ms) | |\n", NR, d[int(NR / 2) + 1], d[int(NR * 0.99) + 1], d[NR], s, ms}'
# A sign-in is behind a slow transaction when the two overlap in time.
awk '$2 > 5 {printf "%.6f %.6f\n", $1, $1 + $2 / 1000}' "$tmp/commits.run" | sort -n >"$tmp/slow"
: >"$tmp/others"
behind=$(awk -v slow="$tmp/slow" -v others="$tmp/others" 'BEGIN {while ((getline line < slow) > 0) {n++; split(line, f, " "); s[n] = f[1]; e[n] = f[2]}; j = 1}
    {while (j <= n && e[j] < $1) j++; if (j <= n && s[j] <= $1 + $2 / 1000) b++; else print $2 > others}
    END {print b + 0}' "$tmp/open.sorted")
sort -n "$tmp/others" | awk -v b="$behind" -v all="$(grep -c . "$tmp/open.sorted")" '{k[NR] = $1}
    END {printf "| P2 open loop: sign-ins whose wait overlapped such a transaction; p99 of the others | %d of %d; %.2f ms | the tail that is the disk'"'"'s |\n", b, all, k[int(NR * 0.99) + 1]}'
echo "| daemon peak RSS (VmHWM) after P2 | $((rss / 1024)) MiB | (P6 serving: <= 48 MiB at 256 connections) |"
echo "| load average at the end (1 / 5 / 15 min) | $busy | |"
