#!/bin/sh
# A card reader at a seat (issue 14): `examroom card-reader` on the room PC
# drives the simulated reader (tests/idcard/simreader.c on a pty), pairs
# with the room as a reader (the proctor approves its code for a seat), and
# sends each card put on it. The seat's terminal sees the card and its ID
# number; a sign-in with "card": true takes the ID number from the agent's
# card, never from the browser. Attacks: a reader's token cannot sign in or
# read a terminal's card; a terminal's token cannot send cards; another
# seat's terminal never sees this seat's card; "card": true with no card is
# refused; a card not on the roster fills nothing. A card whose name
# differs from the roster leaves an incident when its holder signs in. The
# proctor revokes the reader, which stops and forgets its token.
#   seatcard.sh EXAMROOM EXAMCENTER SIMREADER SQLQ
set -u
room=$1 center=$2 simreader=$3 sqlq=$4
tmp=$(mktemp -d /tmp/examroom-seatcard-XXXXXX)
cpid="" rpid="" spid="" bpid=""
cleanup() {
    [ "${fail:-0}" -gt 0 ] && [ -f "$tmp/room.log" ] && tail -n 30 "$tmp/room.log" &&
        cat "$tmp/bridge.out" "$tmp/bridge.err" 2>/dev/null
    [ -n "$bpid" ] && kill "$bpid" 2>/dev/null && wait "$bpid" 2>/dev/null
    [ -n "$rpid" ] && kill "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null
    [ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
    [ -n "$cpid" ] && kill "$cpid" 2>/dev/null && wait "$cpid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
. "$(dirname "$0")/../lib.sh"

ctl() { printf '%s\n' "$@" >"$tmp/ctl.new" && mv "$tmp/ctl.new" "$tmp/ctl"; }
# wait_in FILE PATTERN [SECONDS]
wait_in() {
    for _ in $(seq $((${3:-10} * 10))); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
# retry COMMAND...: true within 10 s.
retry() {
    for _ in $(seq 100); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}
cand() { grep "$1" "$tmp/plan/candidates.csv" | sed -n "${2}p" | cut -d, -f"$3"; }

center_and_room --candidates 30 --rooms 1 --start-in 10
$C pack >/dev/null && $R fetch >/dev/null || exit 1
$R serve --listen 127.0.0.1:0 >"$tmp/room.out" 2>"$tmp/room.log" &
rpid=$!
port=$(wait_ready "$tmp/room.out")
u="http://127.0.0.1:$port"

# get TOKEN PATH: the body into $tmp/body, the status on stdout.
get() { curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $1" "$u$2"; }
post() {
    curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $1" \
        -H 'Content-Type: application/json' --data "$3" "$u$2"
}
is() { # is WANT_STATUS PATTERN GOT_STATUS
    [ "$3" = "$1" ] && grep -q -- "$2" "$tmp/body"
}
bridge() {
    : >"$tmp/bridge.out"
    $room --data "$tmp/pc" card-reader --server "$u" --device "$tmp/reader1" \
        >"$tmp/bridge.out" 2>"$tmp/bridge.err" &
    bpid=$!
}
approve_reader() { # approve_reader SEAT: the code the bridge shows, approved there
    check "the card reader shows a pairing code" wait_in "$tmp/bridge.out" "读卡器配对码："
    rcode=$(sed -n 's/^读卡器配对码：//p' "$tmp/bridge.out")
    expect 0 "$rcode *读卡器 *待批准" $R pair list
    expect 1 "读卡器必须指定座位号" $R pair approve "$rcode"
    expect 0 "已批准配对码 $rcode，读卡器为 $1 号座位" $R pair approve "$rcode" --seat "$1"
    check "the card reader is paired to seat $1" wait_in "$tmp/bridge.out" "已配对：本读卡器属于 $1 号座位"
}

line=',居民身份证,.*,S1,R01,[0-9]'
a_ticket=$(cand "$line" 1 1) a_name=$(cand "$line" 1 2) a_id=$(cand "$line" 1 5) a_seat=$(cand "$line" 1 10)
b_ticket=$(cand "$line" 2 1) b_name=$(cand "$line" 2 2) b_id=$(cand "$line" 2 5) b_seat=$(cand "$line" 2 10)
ta=$(pair "$a_seat")
tb=$(pair "$b_seat")
check "two terminals paired (seats $a_seat, $b_seat)" test -n "$ta" -a -n "$tb"

ctl "mode=normal"
"$simreader" "$tmp/reader1" "$tmp/ctl" >"$tmp/sim.log" 2>&1 &
spid=$!
for _ in $(seq 50); do [ -L "$tmp/reader1" ] && break; sleep 0.1; done
bridge
approve_reader "$a_seat"
check "its token is kept 0600 on the PC" sh -c "[ \$(stat -c %a '$tmp/pc/card-reader.json') = 600 ]"
rt=$(sed -n 's/.*"token":"\([0-9a-f]*\)".*/\1/p' "$tmp/pc/card-reader.json")
curl -s -H "Authorization: Bearer $(cat "$tmp/room/admin-token")" "$u/admin/v1/room" >"$tmp/roomjs"
check "the console shows seat $a_seat's terminal still paired, and its reader" sh -c \
    "grep -q '\"seat\":$a_seat,\"label\":[^,]*,\"terminal\":{\"state\":\"paired\"' '$tmp/roomjs' &&
     [ \$(grep -o '\"card_reader\":{\"paired_at\"' '$tmp/roomjs' | wc -l) = 1 ]"

has_reader() { got=$(get "$ta" /api/v1/terminal/card) && is 200 '"card_reader":true' "$got"; }
check "seat $a_seat's terminal knows it has a card reader" retry has_reader
got=$(get "$ta" /api/v1/terminal/card)
check "... and no card yet" is 200 '"card":null' "$got"
got=$(post "$ta" /api/v1/signin "{\"ticket\":\"$a_ticket\",\"card\":true}")
check "a sign-in by card with no card on the reader: 409 no_card ($got)" is 409 '"error":"no_card"' "$got"

# Tokens are kept to their kind.
got=$(post "$rt" /api/v1/signin "{\"ticket\":\"$a_ticket\",\"id_number\":\"$a_id\"}")
check "a reader's token cannot sign anyone in ($got)" is 401 not_paired "$got"
got=$(get "$rt" /api/v1/terminal/card)
check "... nor read a terminal's card ($got)" is 401 not_paired "$got"
got=$(post "$ta" /api/v1/reader/card '{"removed":true}')
check "a terminal's token cannot send a card ($got)" is 401 not_paired "$got"
got=$(post "$rt" /api/v1/reader/card '{"text":"zz"}')
check "a reader's malformed card: 400 ($got)" is 400 bad_card_data "$got"

# A card on the reader: the seat's terminal sees it, no other seat does.
ctl "card=$a_name|$a_id" "mode=normal"
check "the card goes to the room" wait_in "$tmp/bridge.out" "座位 $a_seat：已读取身份证：$a_name"
got=$(get "$ta" /api/v1/terminal/card)
check "seat $a_seat's terminal gets the card's ID number ($got)" is 200 "\"id_number\":\"$a_id\"" "$got"
got=$(get "$tb" /api/v1/terminal/card)
check "seat $b_seat's terminal sees no card there ($got)" is 200 '"card":null' "$got"
got=$(post "$tb" /api/v1/signin "{\"ticket\":\"$b_ticket\",\"card\":true}")
check "... and cannot sign in by seat $a_seat's card ($got)" is 409 no_card "$got"

# The ID number comes from the card, never from the browser.
got=$(post "$ta" /api/v1/signin "{\"ticket\":\"$a_ticket\",\"card\":true,\"id_number\":\"$b_id\"}")
check "signed in by card, the browser's ID number ignored ($got)" is 200 candidate_token "$got"
got=$(get "$ta" /api/v1/terminal/card)
check "a card serves one sign-in: gone after it ($got)" is 200 '"card":null' "$got"
db=$(ls "$tmp/room/"*.db | head -1)
check "the attendance event says the ID was read from the card" sh -c \
    "$sqlq '$db' \"SELECT CAST(body AS TEXT) FROM events WHERE kind = 'attendance'\" |
     grep '\"ticket\":\"$a_ticket\"' | grep -q '\"id_check\":\"card\"'"
ctl "mode=normal"
check "a card taken off is reported" wait_in "$tmp/bridge.out" "座位 $a_seat：身份证已取走"

# Cards that fill nothing in.
ctl "card=外考场|11010519491231002X" "mode=normal"
check "a card not on the roster is told so" wait_in "$tmp/bridge.out" "不在本考场的考生名单上"
got=$(get "$ta" /api/v1/terminal/card)
check "... with no ID number for the form ($got)" sh -c \
    "[ '$got' = 200 ] && grep -q not_on_roster '$tmp/body' && grep -q '\"id_number\":null' '$tmp/body'"
got=$(post "$ta" /api/v1/signin "{\"ticket\":\"$a_ticket\",\"card\":true}")
check "... and no sign-in by it ($got)" is 409 no_card "$got"
ctl "mode=normal"
sleep 1
ctl "card=坏号码|110105194912310021" "mode=normal"
check "a card whose number fails its check is told so" wait_in "$tmp/bridge.out" "身份证号码无法识别"
ctl "mode=normal"

# The proctor revokes the reader: it stops, forgets its token, and a new
# one pairs for seat B. There, a card whose name differs from the roster.
expect 0 "已撤销 $a_seat 号座位的读卡器" $R pair revoke "$a_seat" --reader
wait "$bpid"
st=$?
bpid=""
check "the revoked reader stops (exit $st) and says why" sh -c \
    "[ $st -ne 0 ] && grep -q '配对未获批准或已被撤销' '$tmp/bridge.err'"
check "... and forgets its token" test ! -e "$tmp/pc/card-reader.json"
got=$(post "$rt" /api/v1/reader/card '{"removed":true}')
check "the old reader token is refused ($got)" is 401 not_paired "$got"
bridge
approve_reader "$b_seat"
ctl "card=冒名者|$b_id" "mode=normal"
check "a card with another name is read" wait_in "$tmp/bridge.out" "座位 $b_seat：已读取身份证：冒名者"
got=$(post "$tb" /api/v1/signin "{\"ticket\":\"$b_ticket\",\"card\":true}")
check "its holder signs in by the card's ID number ($got)" is 200 candidate_token "$got"
expect 0 "证件信息与名单不符：姓名 冒名者（名单 $b_name）" $R roster --incidents

kill "$bpid"
wait "$bpid"
st=$?
bpid=""
check "the card reader stops cleanly on SIGTERM (exit $st)" test "$st" -eq 0
check "the daemon never stopped" kill -0 "$rpid"
finish
