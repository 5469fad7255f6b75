#!/bin/sh
# Issue 12's figures for the browser pages, beside P6 (docs/benchmarks.md):
#   page weight: the bytes (uncompressed, as served) of the HTML, CSS and JS
#       that the candidate terminal (/) and the proctor's console (/proctor)
#       load: the page and every /static file it references, fetched from a
#       running `examroom serve`;
#   the daemon's memory (Rss and Pss of /proc/PID/smaps_rollup): idle 2 s
#       after ready; with FEED_CLIENTS (300) clients of the console's live
#       feed (GET /admin/v1/events with DATA/admin-token, over loopback;
#       feedclients checks each got its first event, then holds them 5 s;
#       measured 2 s into the hold); 2 s after they disconnected; the
#       peak (VmHWM); and 2 s after a second round of as many clients (a
#       leak would show as growth from round to round).
# A small room (40 candidates, S1 an hour away, the center stopped once the
# package is fetched): the pages and the feed do not depend on its size.
#   bench_ui.sh BUILD_DIR
set -eu
build=$1
clients=${FEED_CLIENTS:-300} hold=5
tmp=$(mktemp -d /tmp/examroom-bench-ui-XXXXXX)
cpid="" rpid="" fpid=""
trap '[ -n "$fpid" ] && kill $fpid 2>/dev/null; [ -n "$rpid" ] && kill $rpid 2>/dev/null; [ -n "$cpid" ] && kill $cpid 2>/dev/null; rm -rf "$tmp"' EXIT
room=$build/agent/examroom center=$build/center/examcenter
. "$(dirname "$0")/../tests/lib.sh"

center_and_room --candidates 40 --rooms 1 --start-in 60
$C pack >/dev/null
$R fetch >/dev/null
kill $cpid
wait $cpid || true
cpid=""

$R serve --listen 127.0.0.1:0 >"$tmp/room.out" 2>"$tmp/room.log" &
rpid=$!
u="http://127.0.0.1:$(wait_ready "$tmp/room.out")"

# weight PATH: "TOTAL HTML CSS JS FILES" of the page at PATH and the /static
# files it references (as served, no compression asked for).
weight() {
    curl -sf "$u$1" -o "$tmp/page"
    html=$(wc -c <"$tmp/page") css=0 js=0 files=1
    for f in $(grep -o '\(src\|href\)="/static/[^"]*"' "$tmp/page" | sed 's/.*="\(.*\)"/\1/' | sort -u); do
        n=$(curl -sf "$u$f" -o /dev/null -w '%{size_download}')
        files=$((files + 1))
        case $f in
        *.css) css=$((css + n)) ;;
        *) js=$((js + n)) ;;
        esac
    done
    echo "$((html + css + js)) $html $css $js $files"
}
# mem: "RSS PSS" of the daemon in KiB.
mem() {
    awk '/^Rss:/ {r = $2} /^Pss:/ {p = $2} END {print r, p}' "/proc/$rpid/smaps_rollup"
}
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

term=$(weight /)
console=$(weight /proctor)

sleep 2
idle=$(mem)
mkfifo "$tmp/feed"
"$build/bench/feedclients" "${u##*:}" "$(cat "$tmp/room/admin-token")" "$clients" "$hold" \
    >"$tmp/feed" &
fpid=$!
exec 3<"$tmp/feed"
read -r line <&3
sleep 2
busy=$(mem)
wait $fpid && fed=ok || fed=failed
fpid=""
exec 3<&-
sleep 2
after=$(mem)
hwm=$(sed -n 's/^VmHWM:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$rpid/status")
"$build/bench/feedclients" "${u##*:}" "$(cat "$tmp/room/admin-token")" "$clients" 1 >/dev/null ||
    fed=failed
sleep 2
again=$(mem)
got=${line##* }

echo
echo "## Browser pages: weight, and the daemon's memory with the console's live feed"
echo
echo "| what | figure |"
echo "|---|---|"
set -- $term
echo "| terminal page (/): HTML + CSS + JS, uncompressed, $5 files | **$1 bytes** (HTML $2, CSS $3, JS $4) |"
set -- $console
echo "| console page (/proctor): HTML + CSS + JS, uncompressed, $5 files | **$1 bytes** (HTML $2, CSS $3, JS $4) |"
set -- $idle
echo "| daemon idle 2 s after ready: Rss / Pss | **$(mib "$1") MiB** / $(mib "$2") MiB |"
set -- $busy
echo "| with $clients live-feed clients ($got got their first event; $fed): Rss / Pss | **$(mib "$1") MiB** / $(mib "$2") MiB |"
set -- $after
echo "| 2 s after they disconnected: Rss / Pss; peak VmHWM | **$(mib "$1") MiB** / $(mib "$2") MiB; $(mib "$hwm") MiB |"
set -- $again
echo "| 2 s after a second round of $clients: Rss / Pss | **$(mib "$1") MiB** / $(mib "$2") MiB |"
[ "$fed" = ok ]
