#!/bin/sh
# The room's LAN under a connection flood (SECURITY.md "The LAN", issue 11):
# one PC (127.0.0.2) holds 2,000 idle connections and 1,100 slowloris ones
# (a header byte every 2 s), opening again whatever the daemon closes, while
# a signed-in candidate at another PC (127.0.0.3) saves an answer every
# 200 ms on a new connection each time: every save must be answered 200
# within 3 s; the proctor's commands on the server itself and the proctor's
# login from a third PC (127.0.0.4) still work. Prints the figures.
#   flood.sh EXAMROOM EXAMCENTER FLOODER
set -u
room=$1 center=$2 flooder=$3
tmp=$(mktemp -d /tmp/examroom-flood-XXXXXX)
cpid="" rpid="" fpid=""
cleanup() {
    [ -n "$fpid" ] && kill "$fpid" 2>/dev/null
    [ -n "$rpid" ] && kill "$rpid" 2>/dev/null
    [ -n "$cpid" ] && kill "$cpid" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
. "$(dirname "$0")/../lib.sh"
pw='监考-Proctor-2026'
echo "$pw" >"$tmp/pw"
room_init_args="--proctor-password-file $tmp/pw"
center_and_room --candidates 20 --rooms 1 --start-in 10
$C pack >/dev/null && $R fetch >/dev/null || exit 1

# The exam clock 12 minutes ahead: S1 (10 minutes from now) is running.
EXAMROOM_CLOCK_OFFSET=720 $R serve --listen 127.0.0.1:0 >"$tmp/room.out" 2>"$tmp/room.log" &
rpid=$!
port=$(wait_ready "$tmp/room.out")
u="http://127.0.0.1:$port"
for _ in $(seq 100); do $R status | grep -q "场次 S1: 已解锁" && break; sleep 0.1; done

# One candidate of S1 at their seat's terminal, 127.0.0.3, signed in.
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
at3() { curl -s --interface 127.0.0.3 "$@"; }
read -r ticket seat <<EOT
$($R roster --session S1 --format csv | sed -n 2p | cut -d, -f1,6 | tr , ' ')
EOT
id=$(grep "^$ticket," "$tmp/plan/candidates.csv" | cut -d, -f5)
asked=$(at3 -X POST "$u/api/v1/terminals")
code=$(echo "$asked" | field pairing_code)
$R pair approve "$code" --seat "$seat" >/dev/null
t=$(at3 -H "Authorization: Bearer $(echo "$asked" | field pairing_secret)" "$u/api/v1/terminals/$code" |
    field terminal_token)
tok=$(at3 -H "Authorization: Bearer $t" --data "{\"ticket\":\"$ticket\",\"id_number\":\"$id\"}" \
    "$u/api/v1/signin" | field candidate_token)
check "a candidate is signed in at 127.0.0.3" test -n "$tok"

# Loose parsing: "%00" is not the end of an item id.
item=$(at3 -H "Authorization: Bearer $tok" "$u/api/v1/exam" |
    sed -n 's/.*"items":\[{"id":"\([^"]*\)".*/\1/p')
put() { at3 -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $tok" \
    -H 'Content-Type: application/json' --data "$2" "$u/api/v1/answers/$1"; }
check "an answer to item '$item%00' is no answer to item '$item' (404)" \
    test "$(put "$item%00" '{"answer":"A","rev":1}')" = 404
check "while '$item' itself is saved" test "$(put "$item" '{"answer":"A","rev":1}')" = 200

# The flood, and the candidate saving through it.
"$flooder" flood "$port" 127.0.0.2 2000 1100 16 >"$tmp/flood.out" 2>&1 &
fpid=$!
sleep 2
"$flooder" save "$port" 127.0.0.3 "$tok" 12 >"$tmp/save.out" 2>&1 &
spid=$!
admin=0 admin_ok=0
while kill -0 "$spid" 2>/dev/null; do
    admin=$((admin + 1))
    $R pair list >/dev/null 2>&1 && admin_ok=$((admin_ok + 1))
    sleep 0.5
done
wait "$spid"
saved=$?
lan_login=$(curl -s -m 3 -o /dev/null -w '%{http_code}' --interface 127.0.0.4 \
    -H 'Content-Type: application/json' --data "{\"password\":\"$pw\"}" "$u/api/v1/proctor/login")
wait "$fpid"
fpid=""
cat "$tmp/save.out" "$tmp/flood.out"
echo "during the flood: $(tail -n 1 "$tmp/save.out"); proctor commands $admin_ok/$admin"
check "every save during the flood answered 200 within 3 s" test "$saved" -eq 0
check "the proctor's commands on the server answered throughout ($admin_ok/$admin)" \
    test "$admin_ok" -eq "$admin" -a "$admin" -gt 5
check "the proctor logs in from another PC during the flood ($lan_login)" test "$lan_login" = 200
check "the flooding PC got no more than its share (connections closed at once)" \
    grep -q 'closed by the daemon' "$tmp/flood.out"
check "slowloris connections got in (within the share) and sent header bytes" \
    sh -c "[ \$(sed -n 's/.*failed), \([0-9]*\) slow bytes/\1/p' '$tmp/flood.out') -gt 0 ]"
check "connections without their headers were cut after 10 s (logged)" \
    grep -q 'connections without a request after 10 s closed' "$tmp/room.log"
check "the daemon still answers after the flood" test "$(curl -s -o /dev/null -w '%{http_code}' "$u/api/v1/time")" = 200

kill -TERM "$rpid" && wait "$rpid"
check "SIGTERM: exit 0" test $? -eq 0
rpid=""
finish
