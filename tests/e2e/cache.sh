#!/bin/sh
# The daemon's cache (agent/cache.c, issue 15): candidates' and terminals'
# requests are answered from memory, but whatever ends a candidate token,
# or changes what a candidate or a terminal may do, reaches the very next
# request. Each candidate saves twice (the second from the cache), then the
# proctor (or a sign-in) changes the store, then the old token or the
# terminal tries once more, at once:
#   - the session unlocked by the proctor: the next exam page unlocked;
#   - the seat's terminal revoked: the next save 401 terminal_revoked, the
#     terminal's next sign-in 401 not_paired;
#   - the candidate moved to another seat: 401 moved;
#   - signed in again: the old token 401 replaced, the new one 200;
#   - submitted by the proctor: 409 submitted;
#   - marked absent: the next sign-in 403 absent (their ticket read again).
# And a stale rev still gets 409 with the stored answer.
# The store keeps a candidate token's key (crypto.h: its time, then 24 bytes
# of its SHA-256), never the token; a token kept under its plain SHA-256
# (issued before keys were ordered) still opens the exam after an upgrade.
# One candidate's sign-in leaves the others' in memory (the console's
# snapshot counts the cache's hits and reads), and a write of another
# process on the file (the CLI's offline unlock) is seen at once too.
#   cache.sh EXAMROOM EXAMCENTER SQLQ
set -u
room=$1 center=$2 sqlq=$3
. "$(dirname "$0")/../lib.sh"
scratch cache

center_and_room --candidates 40 --rooms 1 --start-in 10
$C pack >/dev/null && $R fetch >/dev/null || exit 1
# The center gone: S1's key comes from the proctor's unlock, below.
kill "$cpid" && wait "$cpid" 2>/dev/null
cpid=""
# The exam clock 12 minutes on: S1 started 2 minutes ago, still locked.
EXAMROOM_CLOCK_OFFSET=720 $R serve --listen 127.0.0.1:0 >"$tmp/room.out" 2>"$tmp/room.log" &
rpid=$!
u="http://127.0.0.1:$(wait_ready "$tmp/room.out")"

field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
$R roster --session S1 --format csv | tail -n +2 | head -n 17 | cut -d, -f1,6 | tr , ' ' >"$tmp/seats"
# signin N [ID]: candidate N (line N of seats) signs in at their seat's
# terminal (paired the first time) with their ID number, or ID; sets
# ticket, seat, token, the status in $code and the body in $tmp/signin.
signin() {
    ticket=$(sed -n "$1p" "$tmp/seats" | cut -d' ' -f1)
    seat=$(sed -n "$1p" "$tmp/seats" | cut -d' ' -f2)
    [ -s "$tmp/term$1" ] || pair "$seat" >"$tmp/term$1"
    id=${2:-$(grep "^$ticket," "$tmp/plan/candidates.csv" | cut -d, -f5)}
    code=$(curl -s -o "$tmp/signin" -w '%{http_code}' -H "Authorization: Bearer $(cat "$tmp/term$1")" \
        --data "{\"ticket\":\"$ticket\",\"id_number\":\"$id\"}" "$u/api/v1/signin")
    token=$(field candidate_token <"$tmp/signin")
}
# signed STATUS ERROR: the last sign-in got STATUS with ERROR.
signed() { [ "$code" = "$1" ] && grep -q "\"error\":\"$2\"" "$tmp/signin"; }
# save TOKEN [REV]: one answer with REV (by default a rev above any
# before: the time in nanoseconds); prints the status, the body in
# $tmp/body.
save() {
    rev=${2:-$(date +%s%N)}
    curl -s -o "$tmp/body" -w '%{http_code}' -X PUT -H "Authorization: Bearer $1" \
        --data "{\"answer\":\"A\",\"rev\":$rev}" "$u/api/v1/answers/1"
}
# twice TOKEN: two saves (the second with the candidate from the cache) 200.
quiet() { "$@" >/dev/null; }
twice() { [ "$(save "$1")" = 200 ] && [ "$(save "$1")" = 200 ]; }
refused() { # refused STATUS ERROR TOKEN [REV]: the next save gets STATUS with ERROR
    [ "$(save "$3" "${4:-}")" = "$1" ] && grep -q "\"error\":\"$2\"" "$tmp/body"
}
# unlocked TOKEN true|false: what the candidate's exam page says.
unlocked() { curl -s -H "Authorization: Bearer $1" "$u/api/v1/exam" | grep -q "\"unlocked\":$2"; }
# terminal N: the status of GET /api/v1/terminal with terminal N's token.
terminal() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$tmp/term$1")" "$u/api/v1/terminal"; }
# snap FILE: the console's snapshot (GET /admin/v1/room) in FILE.
snap() { curl -s -H "Authorization: Bearer $(cat "$tmp/room/admin-token")" "$u/admin/v1/room" >"$1"; }
# count KIND FIELD FILE: the snapshot's cache count ("tokens" "hits").
count() { grep -o "\"$1\":{\"hits\":[0-9]*,\"reads\":[0-9]*}" "$3" | sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"; }
# counted KIND BEFORE AFTER HITS READS: the cache's hits and reads went up
# by HITS and READS from snapshot BEFORE to AFTER.
counted() {
    h0=$(count "$1" hits "$2") r0=$(count "$1" reads "$2")
    h1=$(count "$1" hits "$3") r1=$(count "$1" reads "$3")
    [ -n "$h0" ] && [ -n "$h1" ] && [ $((h1 - h0)) -eq "$4" ] && [ $((r1 - r0)) -eq "$5" ] ||
        { echo "  $1: hits $h0 -> $h1, reads $r0 -> $r1" && false; }
}
# Another candidate's ID number (candidate 5's): a wrong one, well formed.
wrong_id=$(grep "^$(sed -n 5p "$tmp/seats" | cut -d' ' -f1)," "$tmp/plan/candidates.csv" | cut -d, -f5)

# The proctor's unlock reaches the very next exam page (the session's row
# is kept in memory).
signin 6
check "candidate 6 signs in while S1 is locked" test "$code" = 200
check "their exam page: locked" unlocked "$token" false
check "and again (from memory)" unlocked "$token" false
check "the proctor unlocks S1" quiet $R unlock S1 "$($C unlock-code --session S1)"
check "unlocked: the very next exam page says so" unlocked "$token" true

# One candidate's sign-in (B, candidate 8) leaves the others in memory: A's
# token (candidate 7), A's terminal, and C's ticket (candidate 9, read by a
# refused sign-in) are answered from memory after it, as the console's
# snapshot counts (its "cache": each cache's hits, and its reads of the
# store); a write of A's own makes A's token read again.
signin 8
check "B signs in" test "$code" = 200
signin 9 $wrong_id
signin 7
check "A signs in" test "$code" = 200
a_token=$token a_ticket=$ticket
check "A saves (twice)" twice "$a_token"
check "A's terminal" test "$(terminal 7)" = 200
signin 9 $wrong_id
check "C's wrong ID: 403 wrong_id (C's ticket read)" signed 403 wrong_id
signin 8
check "B signs in again (a write of B's rows)" test "$code" = 200
snap "$tmp/c0"
check "then A saves" test "$(save "$a_token")" = 200
snap "$tmp/c1"
check "A's token from memory after B's sign-in (1 hit, no read)" counted tokens "$tmp/c0" "$tmp/c1" 1 0
check "A's terminal calls" test "$(terminal 7)" = 200
snap "$tmp/c2"
check "A's terminal from memory after B's sign-in (1 hit, no read)" \
    counted terminals "$tmp/c1" "$tmp/c2" 1 0
signin 9 $wrong_id
check "C's wrong ID again: 403 wrong_id" signed 403 wrong_id
snap "$tmp/c3"
check "C's ticket from memory after B's sign-in (1 hit, no read)" counted tickets "$tmp/c2" "$tmp/c3" 1 0
check "the proctor gives A 5 minutes (a write of A's rows)" quiet $R extend "$a_ticket" 5
snap "$tmp/c4"
check "A saves" test "$(save "$a_token")" = 200
snap "$tmp/c5"
check "A's token read again after a write of A's (no hit, 1 read)" counted tokens "$tmp/c4" "$tmp/c5" 0 1

signin 1
check "candidate 1 saves (twice)" twice "$token"
check "its terminal revoked" quiet $R pair revoke "$seat"
check "its terminal revoked: the very next save 401 terminal_revoked" refused 401 terminal_revoked "$token"
signin 1
check "the revoked terminal's very next sign-in: 401 not_paired" signed 401 not_paired
: >"$tmp/term1"
signin 1
check "a new terminal at the seat signs them in" test "$code" = 200

signin 2
check "candidate 2 saves" twice "$token"
# A seat of the room nobody of S1 has.
free=$(($($R roster --session S1 --format csv | tail -n +2 | cut -d, -f6 | sort -n | tail -n 1) + 1))
check "moved to seat $free" quiet $R move "$ticket" "$free"
check "moved: the very next save 401 moved" refused 401 moved "$token"

signin 3
old=$token
check "candidate 3 saves" twice "$old"
signin 3
check "signed in again: the old token's very next save 401 replaced" refused 401 replaced "$old"
check "and the new token saves" twice "$token"

signin 4
check "candidate 4 saves" twice "$token"
check "submitted by the proctor" quiet $R submit "$ticket"
check "submitted by the proctor: the very next save 409 submitted" refused 409 submitted "$token"

# Candidate 10, not signed in: a refused sign-in reads their ticket, the
# proctor marks them absent, and their very next sign-in is refused for it
# (not let through to the store, which would refuse it with 409).
signin 10 $wrong_id
check "candidate 10's wrong ID: 403 wrong_id (their ticket read)" signed 403 wrong_id
check "marked absent by the proctor" quiet $R absent "$ticket"
signin 10
check "absent: the very next sign-in 403 absent" signed 403 absent

signin 5
check "candidate 5 saves" twice "$token"
check "a stale rev: 409 stale_rev" refused 409 stale_rev "$token" 1
check "with the stored answer and rev" grep -q '"answer":"A"' "$tmp/body"

# Candidate 11's token and what the store keeps of it.
signin 11
check "candidate 11 signs in" test "$code" = 200
digest=$(printf %s "$token" | sha256sum | cut -d' ' -f1)
key=$(printf %s "$token" | cut -c1-16)$(echo "$digest" | cut -c1-48)
kept=$($sqlq "$tmp/room/room.db" "SELECT lower(hex(token_hash)) FROM signins WHERE candidate_id =
    (SELECT id FROM candidates WHERE ticket = '$ticket') ORDER BY id DESC LIMIT 1")
check "the store keeps the token's key: its time, then 24 bytes of its SHA-256" test "$kept" = "$key"
check "kept under its plain SHA-256, as a version before kept it" test -n "$($sqlq -w "$tmp/room/room.db" \
    "UPDATE signins SET token_hash = X'$digest' WHERE token_hash = X'$key' RETURNING id")"
check "that token still saves (twice)" twice "$token"
old=$token
signin 11
check "signed in again: that token's very next save 401 replaced" refused 401 replaced "$old"
check "a token nobody was given (the key's hex): 401 not_signed_in" refused 401 not_signed_in "$key"

# Six candidates' tokens in memory at once: a key's first bytes are its
# token's time, the same for all six, so the cache takes its slot from the
# key's end (with the first bytes, all would share one slot's ways). Each
# signed in (their terminals paired: a write of the room's) and saved
# twice (the first a write of theirs: running) before.
: >"$tmp/six"
for n in 12 13 14 15 16 17; do
    signin $n
    echo "$token" >>"$tmp/six"
done
check "six more candidates signed in" test "$(grep -c . "$tmp/six")" = 6
while read -r t; do twice "$t" || echo "a save refused"; done <"$tmp/six"
snap "$tmp/c6"
while read -r t; do quiet save "$t"; done <"$tmp/six"
snap "$tmp/c7"
check "their next saves all from memory (6 hits, no read)" counted tokens "$tmp/c6" "$tmp/c7" 6 0

finish
