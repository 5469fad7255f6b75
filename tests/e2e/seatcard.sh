#!/bin/sh
# A card reader at a seat (issue 14): `examroom card-reader` on the room PC
# drives the simulated reader (tests/idcard/simreader.c on a pty), pairs
# with the room as a reader (the proctor approves its code for a seat), and
# sends the last card read, at once and every 5 s. The seat's terminal sees
# the card (its ID number masked); a sign-in with "card": true takes the
# number from the room's record, never from the browser, once per read.
# Attacks: a reader's token cannot sign in or read a terminal's card; a
# terminal's token cannot send cards; a reader posting from another address
# than its seat's PC is refused; another seat's terminal never sees this
# seat's card; "card": true with no card is refused; a card not on the
# roster fills nothing. A name that differs from the roster leaves one
# incident; a restarted daemon gets the card back from the next heartbeat; a
# card too old is not used; a revoked reader's card is gone at once, and the
# reader stops and forgets its token.
#   seatcard.sh EXAMROOM EXAMCENTER SIMREADER SQLQ
set -u
room=$1 center=$2 simreader=$3 sqlq=$4
. "$(dirname "$0")/../lib.sh"
scratch seatcard
spid="" bpid="" stop_pids="bpid rpid spid cpid"
cleanup() {
    [ "${fail:-0}" -gt 0 ] && [ -f "$tmp/room.log" ] && tail -n 30 "$tmp/room.log" &&
        cat "$tmp/bridge.out" "$tmp/bridge.err" 2>/dev/null
    scratch_cleanup
}
trap cleanup EXIT

ctl() { printf '%s\n' "$@" >"$tmp/ctl.new" && mv "$tmp/ctl.new" "$tmp/ctl"; }
# wait_in FILE PATTERN [SECONDS]
wait_in() {
    for _ in $(seq $((${3:-10} * 10))); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
# retry COMMAND...: true within 15 s.
retry() {
    for _ in $(seq 150); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}
cand() { grep "$1" "$tmp/plan/candidates.csv" | sed -n "${2}p" | cut -d, -f"$3"; }
# mask ID: the ID number as the terminal is shown it, as a grep pattern.
mask() { rx "$(echo "$1" | sed 's/^\(......\).\{8\}\(....\)$/\1********\2/')"; }

center_and_room --candidates 30 --rooms 1 --start-in 10
$C pack >/dev/null && $R fetch >/dev/null || exit 1
# serve [ENV=VALUE...]: the daemon (again) on the same port.
serve() {
    [ -n "$rpid" ] && kill "$rpid" && wait "$rpid"
    : >"$tmp/room.out"
    env "$@" $R serve --listen "127.0.0.1:${port:-0}" >"$tmp/room.out" 2>>"$tmp/room.log" &
    rpid=$!
    port=$(wait_ready "$tmp/room.out")
    u="http://127.0.0.1:$port"
}
serve

# get TOKEN PATH: the body into $tmp/body, the status on stdout.
get() { curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $1" "$u$2"; }
post() {
    curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $1" \
        -H 'Content-Type: application/json' --data "$3" "$u$2"
}
is() { # is WANT_STATUS PATTERN GOT_STATUS
    [ "$3" = "$1" ] && grep -q -- "$2" "$tmp/body"
}
card_shows() { # card_shows TOKEN PATTERN: the terminal's view of its seat's card
    got=$(get "$1" /api/v1/terminal/card) && is 200 "$2" "$got"
}
bridge() { # bridge SERVER_URL
    : >"$tmp/bridge.out"
    $room --data "$tmp/pc" card-reader --server "$1" --device "$tmp/reader1" \
        >"$tmp/bridge.out" 2>"$tmp/bridge.err" &
    bpid=$!
}
approve_reader() { # approve_reader SEAT: the code the bridge shows, approved there
    check "the card reader shows a pairing code" wait_in "$tmp/bridge.out" "阅读器配对码："
    rcode=$(sed -n 's/^阅读器配对码：//p' "$tmp/bridge.out")
    expect 0 "$(rx "$rcode") *阅读器 *待批准" $R pair list
    expect 1 "阅读器必须指定座位号" $R pair approve "$rcode"
    expect 0 "已批准配对码 $(rx "$rcode")，阅读器为 $1 号座位" $R pair approve "$rcode" --seat "$1"
    check "the card reader is paired to seat $1" wait_in "$tmp/bridge.out" "已配对：本阅读器属于 $1 号座位"
}
new_card() { # new_card NAME ID: taken off, then put on again (a new read)
    ctl "mode=normal"
    sleep 0.8
    ctl "card=$1|$2" "mode=normal"
}

line=',居民身份证,.*,S1,R01,[0-9]'
a_ticket=$(cand "$line" 1 1) a_name=$(cand "$line" 1 2) a_id=$(cand "$line" 1 5) a_seat=$(cand "$line" 1 10)
b_ticket=$(cand "$line" 2 1) b_name=$(cand "$line" 2 2) b_id=$(cand "$line" 2 5) b_seat=$(cand "$line" 2 10)
ta=$(pair "$a_seat")
tb=$(pair "$b_seat")
check "two terminals paired (seats $a_seat, $b_seat)" test -n "$ta" -a -n "$tb"
get "$ta" /api/v1/terminal >/dev/null # seat A's PC has called: the reader may
get "$tb" /api/v1/terminal >/dev/null

ctl "mode=normal"
"$simreader" "$tmp/reader1" "$tmp/ctl" >"$tmp/sim.log" 2>&1 &
spid=$!
for _ in $(seq 50); do [ -L "$tmp/reader1" ] && break; sleep 0.1; done
bridge "$u"
approve_reader "$a_seat"
check "its token is kept 0600 on the PC" sh -c "[ \$(stat -c %a '$tmp/pc/card-reader.json') = 600 ]"
rt=$(sed -n 's/.*"token":"\([0-9a-f]*\)".*/\1/p' "$tmp/pc/card-reader.json")
curl -s -H "Authorization: Bearer $(cat "$tmp/room/admin-token")" "$u/admin/v1/room" >"$tmp/roomjs"
check "the console shows seat $a_seat's terminal still paired, and its reader" sh -c \
    "grep -q '\"seat\":$a_seat,\"label\":[^,]*,\"terminal\":{\"state\":\"paired\"' '$tmp/roomjs' &&
     [ \$(grep -o '\"card_reader\":{\"paired_at\"' '$tmp/roomjs' | wc -l) = 1 ]"

check "seat $a_seat's terminal knows it has a card reader" retry card_shows "$ta" '"card_reader":true'
check "... and no card yet" card_shows "$ta" '"card":null'
got=$(post "$ta" /api/v1/signin "{\"ticket\":\"$a_ticket\",\"card\":true}")
check "a sign-in by card with no card read: 409 no_card ($got)" is 409 '"error":"no_card"' "$got"

# Tokens are kept to their kind, a reader to its seat's PC.
got=$(post "$rt" /api/v1/signin "{\"ticket\":\"$a_ticket\",\"id_number\":\"$a_id\"}")
check "a reader's token cannot sign anyone in ($got)" is 401 not_paired "$got"
got=$(get "$rt" /api/v1/terminal/card)
check "... nor read a terminal's card ($got)" is 401 not_paired "$got"
got=$(post "$ta" /api/v1/reader/card '{"none":true}')
check "a terminal's token cannot send a card ($got)" is 401 not_paired "$got"
got=$(post "$rt" /api/v1/reader/card '{"text":"zz"}')
check "a reader's malformed card: 400 ($got)" is 400 bad_card_data "$got"
text=$(printf '%0512d' 0)
got=$(curl -s -o "$tmp/body" -w '%{http_code}' --interface 127.0.0.2 -H "Authorization: Bearer $rt" \
    --data "{\"text\":\"$text\",\"read\":\"1\",\"age_ms\":0}" "$u/api/v1/reader/card")
check "the reader's token from another PC than its seat's: 403 ($got)" is 403 reader_elsewhere "$got"

# A card on the reader: the seat's terminal sees it, masked; no other seat does.
ctl "card=$a_name|$a_id" "mode=normal"
check "the card goes to the room" wait_in "$tmp/bridge.out" "座位 $a_seat：已读取身份证：$a_name"
check "seat $a_seat's terminal gets the card, its ID number masked" \
    card_shows "$ta" "\"id_masked\":\"$(mask "$a_id")\""
check "... and never the whole number" sh -c "! grep -q '$a_id' '$tmp/body'"
check "seat $b_seat's terminal sees no card there" card_shows "$tb" '"card":null'
got=$(post "$tb" /api/v1/signin "{\"ticket\":\"$b_ticket\",\"card\":true}")
check "... and cannot sign in by seat $a_seat's card ($got)" is 409 no_card "$got"
got=$(post "$ta" /api/v1/signin "{\"ticket\":\"$b_ticket\",\"card\":true}")
check "another's ticket with this card: its own words ($got)" is 403 '阅读器上的身份证与准考证号不符' "$got"

# The ID number comes from the card, never from the browser; once a read.
got=$(post "$ta" /api/v1/signin "{\"ticket\":\"$a_ticket\",\"card\":true,\"id_number\":\"$b_id\"}")
check "signed in by card, the browser's ID number ignored ($got)" is 200 candidate_token "$got"
check "a read serves one sign-in: gone after it" card_shows "$ta" '"card":null'
sleep 5.5 # a heartbeat sends the same read again: it stays used
check "... and the same read sent again does not bring it back" card_shows "$ta" '"card":null'
db=$(ls "$tmp/room/"*.db | head -1)
check "the attendance event says the ID was read from the card" sh -c \
    "$sqlq '$db' \"SELECT CAST(body AS TEXT) FROM events WHERE kind = 'attendance'\" |
     grep '\"ticket\":\"$a_ticket\"' | grep -q '\"id_check\":\"card\"'"

# Cards that fill nothing in.
new_card "外考场" 11010519491231002X
check "a card not on the roster is told so" wait_in "$tmp/bridge.out" "不在本考场的考生名单上"
check "... with no ID number for the form" card_shows "$ta" '"id_masked":null'
got=$(post "$ta" /api/v1/signin "{\"ticket\":\"$a_ticket\",\"card\":true}")
check "... and no sign-in by it ($got)" is 409 no_card "$got"
new_card "坏号码" 110105194912310021
check "a card whose number fails its check is told so" wait_in "$tmp/bridge.out" "身份证号码无法识别"

# Revoked: the card goes at once; the reader stops and forgets its token.
new_card "$a_name" "$a_id"
check "a new read of the card is there" retry card_shows "$ta" "\"id_masked\":\"$(mask "$a_id")\""
expect 0 "已撤销 $a_seat 号座位的阅读器" $R pair revoke "$a_seat" --reader
check "the revoked reader's card is gone at once" card_shows "$ta" '"card_reader":false,"card":null'
wait "$bpid"
st=$?
bpid=""
check "the revoked reader stops (exit $st) and says why" sh -c \
    "[ $st -ne 0 ] && grep -q '配对未获批准或已被撤销' '$tmp/bridge.err'"
check "... and forgets its token" test ! -e "$tmp/pc/card-reader.json"
got=$(post "$rt" /api/v1/reader/card '{"none":true}')
check "the old reader token is refused ($got)" is 401 not_paired "$got"

# A new reader for seat B (its server given with a trailing slash). There,
# a card whose name differs from the roster: one incident, at the first
# sign-in only.
ctl "mode=normal"
bridge "$u/"
approve_reader "$b_seat"
ctl "card=冒名者|$b_id" "mode=normal"
check "a card with another name is read" wait_in "$tmp/bridge.out" "座位 $b_seat：已读取身份证：冒名者"
# The daemon restarts: the card comes back with the reader's next call.
serve
check "after a restart, the card is back from the reader's next call" \
    retry card_shows "$tb" '"name":"冒名者"'
got=$(post "$tb" /api/v1/signin "{\"ticket\":\"$b_ticket\",\"card\":true}")
check "its holder signs in by the card's ID number ($got)" is 200 candidate_token "$got"
new_card "冒名者" "$b_id"
check "a new read" retry card_shows "$tb" '"name":"冒名者"'
got=$(post "$tb" /api/v1/signin "{\"ticket\":\"$b_ticket\",\"card\":true}")
check "signing in again by card at the same seat ($got)" is 200 candidate_token "$got"
expect 0 "证件信息与名单不符：姓名 冒名者（名单 $b_name）" $R roster --incidents
check "one mismatch incident, not one a sign-in" sh -c \
    "[ \$($R roster --incidents | grep -c '证件信息与名单不符：姓名 冒名者') = 1 ]"

# A card read long ago is not used (the limit shortened for the test).
serve EXAMROOM_TEST_CARD_SECONDS=3
get "$tb" /api/v1/terminal >/dev/null
new_card "$b_name" "$b_id"
check "a fresh card is shown" retry card_shows "$tb" '"name":"'"$b_name"'"'
sleep 3.5
check "... and not once it is older than the limit" card_shows "$tb" '"card":null'
got=$(post "$tb" /api/v1/signin "{\"ticket\":\"$b_ticket\",\"card\":true}")
check "... nor for a sign-in ($got)" is 409 no_card "$got"

kill "$bpid"
wait "$bpid"
st=$?
bpid=""
check "the card reader stops cleanly on SIGTERM (exit $st)" test "$st" -eq 0
check "the daemon never stopped" kill -0 "$rpid"
finish
