#!/bin/sh
# PERFORMANCE.md P1: durable answer saves through `examroom serve`: 256
# keep-alive connections, one signed-in candidate each, PUT back to back;
# beside, in the same run and on the same connections, a no-op handler (GET
# /api/v1/time, the ceiling of the HTTP stack) and the peer: the same
# endpoint as a typical team would write it (bench/peer, installed into
# BUILD_DIR/bench-peer by bench/setup.sh: Node.js 20 +
# better-sqlite3, WAL, synchronous=FULL) on the same disk. Each is measured
# P1_RUNS times (3), interleaved, with two clients: wrk (Debian's, one
# thread, bench/wrk/answers.lua) and bench/loadgen (libcurl multi); the
# table gives each run, the medians, and the ratios of the medians; a second
# table what each request cost in CPU (the server, the client, the whole
# machine) and so the most any client of this machine could get. Also the
# daemon's peak RSS (P6's serving figure) and the load average.
#   [P1_SECONDS=5] [P1_RUNS=3] [P1_PERF=FILE [P1_PERF_ARGS=...] [P1_PERF_WHAT=noop]]
#   bench_serve.sh BUILD_DIR
set -eu
build=$1
conns=256 seconds=${P1_SECONDS:-5} runs=${P1_RUNS:-3}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /var/tmp/examroom-bench-serve-XXXXXX)
cpid="" rpid="" ppid=""
trap '[ -n "$rpid" ] && kill $rpid 2>/dev/null; [ -n "$cpid" ] && kill $cpid 2>/dev/null; [ -n "$ppid" ] && kill $ppid 2>/dev/null; rm -rf "$tmp"' EXIT
room=$build/agent/examroom center=$build/center/examcenter
. "$here/../tests/lib.sh"
"$here/setup.sh" "$build"

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

# The peer, its database on the same file system as the room's.
node "$build/bench-peer/server.js" "$tmp/peer.db" "$tmp/peer-tokens" "$conns" >"$tmp/peer.out" 2>"$tmp/peer.log" &
ppid=$!
p="http://127.0.0.1:$(wait_ready "$tmp/peer.out")"

# The sum of fields A and B (numbered as in proc(5)) of the copy of a
# /proc/PID/stat in FILE, in ticks (USER_HZ): 14 and 15 are what the process
# used, all its threads; 16 and 17 what its children did, once waited for.
# The command name, which may hold spaces, is stepped over.
stat_ticks() { # FILE A B
    sed 's/.*) //' "$1" | awk -v a="$2" -v b="$3" '{ print $(a - 2) + $(b - 2) }'
}
# The machine's ticks, every core: busy (user, nice, system, irq, softirq)
# and all of them (idle, I/O wait and steal too).
cpu_ticks() { awk '/^cpu / { b = $2 + $3 + $4 + $7 + $8; print b, b + $5 + $6 + $9 }' /proc/stat; }
# Runs the client "$@" in a shell of its own that copies its stat once the
# client is done, to $tmp/client-stat: the client's ticks are that shell's
# children's.
client() {
    T=$tmp/client-stat sh -c '"$@"; s=$?; cat /proc/$$/stat >"$T"; exit $s' sh "$@"
}

# One measurement: "REQUESTS/S P50 P99 ERRORS" (0 0 0 -1 when the client
# failed), then what it cost in CPU ticks: "SERVER CLIENT BUSY ALL" (the
# server process, the client, the machine busy, the machine's ticks in all).
measure() { # CLIENT WHAT
    case $2 in
    noop) url=$u tokens=$tmp/tokens mode=noop server=$rpid ;;
    serve) url=$u tokens=$tmp/tokens mode=save server=$rpid ;;
    peer) url=$p tokens=$tmp/peer-tokens mode=save server=$ppid ;;
    esac
    s0=$(stat_ticks "/proc/$server/stat" 14 15) m0=$(cpu_ticks)
    if [ "$1" = wrk ]; then
        r=$(client wrk -t1 -c"$conns" -d"${seconds}s" --timeout 10s -s "$here/wrk/answers.lua" \
            "$url" -- "$mode" "$tokens" 2>/dev/null | tail -n 1 | grep -E '^[0-9]+ ' ||
            echo "0 0 0 -1")
    else
        r=$(client "$build/bench/loadgen" "$url" "$tokens" "$seconds" "$mode" 2>/dev/null |
            cut -d' ' -f3- | grep -E '^[0-9]+ ' || echo "0 0 0 -1")
    fi
    s1=$(stat_ticks "/proc/$server/stat" 14 15) m1=$(cpu_ticks)
    echo "$r $((s1 - s0)) $(stat_ticks "$tmp/client-stat" 16 17)" \
        "$(echo "$m0 $m1" | awk '{ print $3 - $1, $4 - $2 }')"
}
# P1_PERF=FILE: a profile of the daemon (perf record -g, or P1_PERF_ARGS)
# during one more wrk run of the saves (or of P1_PERF_WHAT: noop), before
# the measured ones, into FILE.
if [ -n "${P1_PERF:-}" ]; then
    perf record ${P1_PERF_ARGS:--g} -o "$P1_PERF" -p "$rpid" 2>/dev/null &
    perf=$!
    measure wrk "${P1_PERF_WHAT:-serve}" >/dev/null
    kill -INT $perf
    wait $perf || true
fi
for client in wrk loadgen; do
    for run in $(seq "$runs"); do
        for what in noop serve peer; do
            echo "$client $what $run $(measure "$client" "$what")" >>"$tmp/figures"
        done
    done
done
rss=$(sed -n 's/^VmHWM:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$rpid/status")
load=$(cut -d' ' -f1-3 /proc/loadavg)

echo
echo "## P1: durable answer saves, $conns keep-alive connections, $runs runs of ${seconds} s each, load average $load"
echo "target: serve >= 8x the peer and >= 75 % of the no-op handler, p99 <= 20 ms, 0 errors"
echo
echo "| client | what | $(seq "$runs" | sed 's/^/run /' | paste -sd'|' | sed 's/|/ | /g') | median requests/s | median p99 | errors |"
echo "|---|---|$(seq "$runs" | sed 's/.*/---|/' | tr -d '\n')---|---|---|"
# cores: every CPU that /proc/stat counts (nproc would follow this shell's
# affinity, not the machine the busy ticks are of).
awk -v runs="$runs" -v seconds="$seconds" -v hz="$(getconf CLK_TCK)" -v cores="$(grep -c "^cpu[0-9]" /proc/stat)" '
    function median(a, n,   i, j, t) {
        for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    # CPU per request (us): ticks / USER_HZ over the requests of the run.
    function us(ticks, r) { return r > 0 ? ticks * 1e6 / hz / (r * seconds) : 0 }
    {
        k = $1 " " $2; rate[k, $3] = $4; p50[k, $3] = $5; p99[k, $3] = $6; err[k] += $7
        srv[k, $3] = us($8, $4); cli[k, $3] = us($9, $4); busy[k, $3] = us($10, $4)
        used[k, $3] = $11 > 0 ? cores * $10 / $11 : 0
    }
    END {
        split("noop serve peer", whats, " ")
        name["noop"] = "no-op handler (GET /api/v1/time)"
        name["serve"] = "**examroom serve**: PUT answers, 200 once durable"
        name["peer"] = "peer (Node.js 20 + better-sqlite3, WAL, synchronous=FULL)"
        split("wrk loadgen", clients, " ")
        for (c = 1; c <= 2; c++) for (w = 1; w <= 3; w++) {
            k = clients[c] " " whats[w]; line = "| " clients[c] " | " name[whats[w]] " |"
            for (r = 1; r <= runs; r++) {
                line = line sprintf(" %d (%.2f / %.2f ms) |", rate[k, r], p50[k, r], p99[k, r])
                a[r] = rate[k, r]; b[r] = p99[k, r]
            }
            m[k] = median(a, runs)
            printf "%s **%d** | %.2f ms | %d |\n", line, m[k], median(b, runs), err[k]
        }
        print ""
        for (c = 1; c <= 2; c++) {
            s = m[clients[c] " serve"]; n = m[clients[c] " noop"]; q = m[clients[c] " peer"]
            printf "- %s, medians: serve / peer **%.1fx**, serve / no-op **%.0f %%**\n", clients[c],
                   q ? s / q : 0, n ? 100 * s / n : 0
        }
        # What each request cost the machine: with every core busy at that
        # cost, no client of this machine could go faster than cores / cost.
        print ""
        print "CPU per request, medians of the runs (the server process with all its threads, the client, the whole machine), and the cores busy during the runs (of " cores "):"
        print ""
        print "| client | what | server | client | machine | cores busy | at most, every core busy |"
        print "|---|---|---|---|---|---|---|"
        for (c = 1; c <= 2; c++) for (w = 1; w <= 3; w++) {
            k = clients[c] " " whats[w]
            for (r = 1; r <= runs; r++) { a[r] = srv[k, r]; b[r] = cli[k, r]; e[r] = busy[k, r]; f[r] = used[k, r] }
            cost[k] = median(e, runs)
            printf "| %s | %s | %.1f us | %.1f us | %.1f us | %.2f | %d/s |\n", clients[c], whats[w],
                   median(a, runs), median(b, runs), cost[k], median(f, runs), cost[k] ? cores * 1e6 / cost[k] : 0
        }
        print ""
        for (c = 1; c <= 2; c++) {
            k = clients[c] " serve"; n = m[clients[c] " noop"]
            if (cost[k] > 0 && n > 0)
                printf "- %s: a save costs the machine %.1f us, a no-op %.1f us; at that cost %d cores give at most %d saves/s, **%.0f %%** of the no-op median rate\n",
                       clients[c], cost[k], cost[clients[c] " noop"], cores, cores * 1e6 / cost[k], 100 * cores * 1e6 / cost[k] / n
        }
    }' "$tmp/figures"
echo "- daemon peak RSS (VmHWM) serving them: $((rss / 1024)) MiB"
