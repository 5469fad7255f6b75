#!/bin/sh
# The pages and the console's calls (issue 12, the server side): the files of
# agent/web/ as built into the program, byte for byte, with their types,
# ETags and 304s; nothing else served (no "..", no directory, no unknown
# name); the security headers on a page, a file, a JSON answer and an error;
# 405 for a known path with another method; GET /admin/v1/room and the live
# feed GET /admin/v1/events (an approval, a pairing request, a sign-in and
# an answer each on the feed within 1 s), both 403 to a terminal's or a
# candidate's token.
#   web.sh EXAMROOM EXAMCENTER
set -u
room=$1 center=$2
web=$(cd "$(dirname "$0")/../../agent/web" && pwd)
tmp=$(mktemp -d /tmp/examroom-web-XXXXXX)
cpid="" rpid="" fpid=""
cleanup() {
    [ "${fail:-0}" -gt 0 ] && [ -f "$tmp/room.log" ] && tail -n 20 "$tmp/room.log"
    [ -n "$fpid" ] && kill "$fpid" 2>/dev/null && wait "$fpid" 2>/dev/null
    [ -n "$rpid" ] && kill "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null
    [ -n "$cpid" ] && kill "$cpid" 2>/dev/null && wait "$cpid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
. "$(dirname "$0")/../lib.sh"

# S1 started a minute ago by the daemon's clock, unlocked offline: a
# candidate can sign in and answer.
printf 'web-proctor-pass\n' >"$tmp/pw"
room_init_args="--proctor-password-file $tmp/pw"
center_and_room --candidates 40 --rooms 2 --start-in 10
$C pack >/dev/null && $R fetch >/dev/null || exit 1
$R unlock S1 "$($C unlock-code --session S1)" >/dev/null || exit 1
EXAMROOM_CLOCK_OFFSET=660 $R serve --listen 127.0.0.1:0 >"$tmp/room.out" 2>"$tmp/room.log" &
rpid=$!
u="http://127.0.0.1:$(wait_ready "$tmp/room.out")"
adm="Authorization: Bearer $(cat "$tmp/room/admin-token")"

# get NAME PATH [CURL ARGS...]: the status; the body in $tmp/NAME, the
# headers in $tmp/NAME.h.
get() {
    name=$1 path=$2
    shift 2
    curl -s --path-as-is -D "$tmp/$name.h" -o "$tmp/$name" -w '%{http_code}' "$@" "$u$path"
}
# header NAME FIELD: the field's value in $tmp/NAME.h.
header() { sed -n "s/^$2: \(.*\)\r$/\1/Ip" "$tmp/$1.h" | head -n 1; }

# ---- the pages and their files, as built in ----

check "GET / is agent/web/index.html, byte for byte" \
    sh -c "[ $(get index /) = 200 ] && cmp -s '$tmp/index' '$web/index.html'"
check "GET /proctor is agent/web/proctor.html" \
    sh -c "[ $(get console /proctor) = 200 ] && cmp -s '$tmp/console' '$web/proctor.html'"
for f in "$web"/*; do
    n=$(basename "$f")
    check "GET /static/$n is agent/web/$n" \
        sh -c "[ $(get file "/static/$n") = 200 ] && cmp -s '$tmp/file' '$f'"
    case $n in
    *.html) want="text/html; charset=utf-8" ;;
    *.css) want="text/css; charset=utf-8" ;;
    *.js) want="text/javascript; charset=utf-8" ;;
    *) want="" ;;
    esac
    [ -n "$want" ] && check "$n is $want ($(header file Content-Type))" \
        test "$(header file Content-Type)" = "$want"
    check "$n has a strong ETag ($(header file ETag))" \
        sh -c "header() { :; }; printf '%s' '$(header file ETag)' | grep -q '^\"[0-9a-f]\{32\}\"\$'"
done
check "a page is never stored (the app shell shows exam data)" \
    test "$(header index Cache-Control)" = "no-store"
check "a script may be kept, checked each time" test "$(header file Cache-Control)" = "no-cache"

get css /static/style.css >/dev/null
etag=$(header css ETag)
check "If-None-Match with its ETag: 304, no body" \
    sh -c "[ $(get css304 /static/style.css -H "If-None-Match: $etag") = 304 ] && [ ! -s '$tmp/css304' ]"
check "the 304 names the ETag" test "$(header css304 ETag)" = "$etag"
check "a weak or listed match too" \
    test "$(get css304 /static/style.css -H "If-None-Match: \"x\", W/$etag")" = 304
check "another ETag: 200 and the bytes" \
    sh -c "[ $(get css /static/style.css -H 'If-None-Match: \"0123\"') = 200 ] && cmp -s '$tmp/css' '$web/style.css'"
get index / >/dev/null
check "a page's 304 too" test "$(get index304 / -H "If-None-Match: $(header index ETag)")" = 304

get head / -I >/dev/null
check "HEAD /: 200, the length, no body" \
    sh -c "[ '$(curl -s -I -o /dev/null -w '%{http_code} %{size_download}' "$u/")' = '200 0' ] && [ '$(header head Content-Length)' = $(wc -c <"$web/index.html") ]"
for p in /static/ /static/nosuch.js /static/../admin-token /static/..%2fadmin-token \
    /static/%2e%2e/serve.lock /static/.hidden /static/a/style.css /static/style.css/ \
    /index.html /proctor/ //static/style.css /static/style.css%00; do
    check "GET $p: 404" test "$(get nf "$p")" = 404
done
check "POST /: 405" test "$(get m / -X POST)" = 405
check "DELETE /static/style.css: 405" test "$(get m /static/style.css -X DELETE)" = 405
check "GET /api/v1/signin (a POST): 405" test "$(get m /api/v1/signin)" = 405

# ---- the security headers, on everything ----

csp="default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
get json /api/v1/time >/dev/null
get err /api/v1/nosuch >/dev/null
get forbidden /admin/v1/room >/dev/null
for n in index file css304 json err nf m forbidden; do
    check "$n: the Content-Security-Policy" test "$(header $n Content-Security-Policy)" = "$csp"
    check "$n: X-Frame-Options DENY" test "$(header $n X-Frame-Options)" = DENY
    check "$n: nosniff" test "$(header $n X-Content-Type-Options)" = nosniff
    check "$n: no referrer" test "$(header $n Referrer-Policy)" = no-referrer
done
for n in json err forbidden; do
    check "$n (JSON): no-store" test "$(header $n Cache-Control)" = no-store
done

# ---- the console: the snapshot and the feed ----

curl -s -N -H "$adm" "$u/admin/v1/events" >"$tmp/feed" 2>/dev/null &
fpid=$!
# on_feed WHAT PATTERN: PATTERN shows in a room event within 1 s of now.
on_feed() {
    for _ in $(seq 20); do
        grep -q "^data: .*$2" "$tmp/feed" && break
        sleep 0.05
    done
    check "on the feed within 1 s: $1" grep -q "^data: .*$2" "$tmp/feed"
}
on_feed "the room as it is, at once" '"pairing_requests":0,'
check "the feed is an event stream" \
    sh -c "curl -s -m 1 -o /dev/null -w '%{content_type}' -H '$adm' '$u/admin/v1/events' | grep -q '^text/event-stream'"

asked=$(curl -s -X POST "$u/api/v1/terminals")
code=$(echo "$asked" | sed -n 's/.*"pairing_code":"\([^"]*\)".*/\1/p')
secret=$(echo "$asked" | sed -n 's/.*"pairing_secret":"\([0-9a-f]*\)".*/\1/p')
on_feed "a pairing request" '"pairing_requests":1,'
get snap /admin/v1/room -H "$adm" >/dev/null
check "the snapshot lists the pending code ($code)" grep -qF "\"pending\":[{\"pairing_code\":\"$code\"" "$tmp/snap"
check "the snapshot names the sessions" grep -q '"id":"S1","state":"unlocked"' "$tmp/snap"
check "the snapshot is never stored" test "$(header snap Cache-Control)" = no-store

ticket=$(grep ',居民身份证,.*,S1,R01,[0-9]' "$tmp/plan/candidates.csv" | head -n 1 | cut -d, -f1)
id=$(grep "^$ticket," "$tmp/plan/candidates.csv" | cut -d, -f5)
seat=$(grep "^$ticket," "$tmp/plan/candidates.csv" | cut -d, -f10)
$R pair approve "$code" --seat "$seat" >/dev/null
on_feed "the approval" '"seats_paired":1,'
t=$(curl -s -H "Authorization: Bearer $secret" "$u/api/v1/terminals/$code" |
    sed -n 's/.*"terminal_token":"\([0-9a-f]*\)".*/\1/p')
curl -s -H "Authorization: Bearer $t" -H 'Content-Type: application/json' \
    --data "{\"ticket\":\"$ticket\",\"id_number\":\"$id\"}" "$u/api/v1/signin" >"$tmp/signin"
k=$(sed -n 's/.*"candidate_token":"\([0-9a-f]*\)".*/\1/p' "$tmp/signin")
on_feed "a sign-in" '"signed_in":1'
curl -s -H "Authorization: Bearer $k" "$u/api/v1/exam" >/dev/null
item=1
check "an answer saved" test "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $k" \
    -H 'Content-Type: application/json' --data '{"answer":"A","rev":1}' "$u/api/v1/answers/$item")" = 200
on_feed "the answer" '"answers_saved":1,'

get snap /admin/v1/room -H "$adm" >/dev/null
check "the snapshot: seat $seat, its terminal and candidate, 1 answered of the paper's items, time left" \
    sh -c "grep -q '{\"seat\":$seat,\"label\":[^,]*,\"terminal\":{\"state\":\"paired\"' '$tmp/snap' &&
           grep -q '\"ticket\":\"$ticket\",[^}]*\"state\":\"running\",\"answered\":1,\"items\":[1-9][0-9]*,\"remaining_seconds\":[1-9]' '$tmp/snap'"
check "the snapshot: the link to the center" grep -q '"sync":{"last_contact":' "$tmp/snap"
check "the snapshot: the terminal's last contact (just now), not silent" \
    grep -q "{\"seat\":$seat,\"label\":[^,]*,\"terminal\":{[^}]*\"last_seen\":[0-9][0-9]*,\"silent\":false}" "$tmp/snap"
check "an unpaired seat's candidate: no terminal, items null before they sign in (S2 locked)" \
    grep -q '"session":"S2",[^}]*"answered":0,"items":null' "$tmp/snap"
check "the terminal's heartbeat: 200 with its seat" \
    sh -c "[ $(get hb /api/v1/terminal -H "Authorization: Bearer $t") = 200 ] && grep -q '{\"seat\":$seat}' '$tmp/hb'"
check "the heartbeat without a terminal's token: 401 not_paired" \
    sh -c "[ $(get hb /api/v1/terminal) = 401 ] && [ $(get hb /api/v1/terminal -H "Authorization: Bearer $k") = 401 ]"

check "the exam says when 交卷 opens (S1: 30 minutes after its start)" \
    sh -c "[ $(get exam /api/v1/exam -H "Authorization: Bearer $k") = 200 ] &&
           grep -q '\"earliest_submit_minutes\":30' '$tmp/exam' &&
           s=\$(sed -n 's/.*\"starts_at\":\\([0-9]*\\).*/\\1/p' '$tmp/exam') &&
           grep -q \"\\\"earliest_submit_at\\\":\$((s + 1800))\" '$tmp/exam'"

# ---- the candidate's photo in the console: GET /admin/v1/candidates/{ticket}/photo ----

get ownphoto /api/v1/photo -H "Authorization: Bearer $k" >/dev/null
check "the console gets the candidate's photo: 200, a JPEG, the same bytes as their own page's" \
    sh -c "[ $(get aphoto "/admin/v1/candidates/$ticket/photo?session=S1" -H "$adm") = 200 ] &&
           [ '$(header aphoto Content-Type)' = image/jpeg ] && [ -s '$tmp/aphoto' ] &&
           cmp -s '$tmp/aphoto' '$tmp/ownphoto'"
check "the photo is never stored, and carries the security headers" \
    sh -c "[ '$(header aphoto Cache-Control)' = no-store ] && [ '$(header aphoto X-Frame-Options)' = DENY ]"
check "without ?session=: the ticket's session by the actions' rule" \
    sh -c "[ $(get aphoto2 "/admin/v1/candidates/$ticket/photo" -H "$adm") = 200 ] && cmp -s '$tmp/aphoto2' '$tmp/ownphoto'"
check "no such ticket: 404 no_candidate, in words" \
    sh -c "[ $(get aphoto3 /admin/v1/candidates/4401999926999999/photo -H "$adm") = 404 ] &&
           grep -q '没有这个准考证号的考生' '$tmp/aphoto3'"
check "without a login: 403" test "$(get x "/admin/v1/candidates/$ticket/photo")" = 403

# ---- 信息有误，请举手: POST /api/v1/flag ----

get snap /admin/v1/room -H "$adm" >/dev/null
check "before: not flagged, no incident" \
    grep -q "\"ticket\":\"$ticket\",[^}]*\"incidents\":0,\"flagged\":false" "$tmp/snap"
check "the flag without a candidate's token: 401" \
    sh -c "[ $(get flag /api/v1/flag -X POST) = 401 ] && [ $(get flag /api/v1/flag -X POST -H "Authorization: Bearer $t") = 401 ]"
# Five presses at once (a candidate hammering the button): one record.
presses=""
for n in 1 2 3 4 5; do
    get "flag$n" /api/v1/flag -X POST -H "Authorization: Bearer $k" >"$tmp/flag$n.st" &
    presses="$presses $!"
done
# shellcheck disable=SC2086
wait $presses
check "five presses at once: each 200, told the proctor knows" \
    sh -c "cat '$tmp'/flag[1-5].st | tr -d '\n' | grep -qx '200200200200200' &&
           [ \$(grep -l '已通知监考老师，请举手等候' '$tmp'/flag[1-5] | wc -l) = 5 ]"
check "exactly one of them recorded it (already false), the others not" \
    sh -c "[ \$(grep -l '\"already\":false' '$tmp'/flag[1-5] | wc -l) = 1 ]"
on_feed "the flag (an incident)" '"incidents":1,'
for n in 2 3; do
    check "pressed again ($n): 200, already" \
        sh -c "[ $(get flag /api/v1/flag -X POST -H "Authorization: Bearer $k") = 200 ] && grep -q '\"already\":true' '$tmp/flag'"
done
get snap /admin/v1/room -H "$adm" >/dev/null
check "the snapshot: flagged, one incident however often pressed" \
    grep -q "\"ticket\":\"$ticket\",[^}]*\"incidents\":1,\"flagged\":true" "$tmp/snap"

# ---- unlock from the console: POST /admin/v1/sessions/{id}/unlock ----

code1=$($C unlock-code --session S1)
code2=$($C unlock-code --session S2)
# unlock NAME SESSION CODE [CURL ARGS...]: the status; the answer in $tmp/NAME.
unlock() {
    name=$1 sess=$2 c=$3
    shift 3
    get "$name" "/admin/v1/sessions/$sess/unlock" -H "$adm" -H 'Content-Type: application/json' \
        --data "{\"code\":\"$c\"}" "$@"
}
# One symbol changed (never to itself: a code may end in X).
case $code2 in *X) typo="${code2%?}Y" ;; *) typo="${code2%?}X" ;; esac
check "a mistyped code: 400, named as a typo before any check" \
    sh -c "[ $(unlock typo S2 "$typo") = 400 ] && grep -q '场次 S2 的开考密码输入有误。' '$tmp/typo'"
check "no such session: 404, in the CLI's words" \
    sh -c "[ $(unlock nosess S9 "$code2") = 404 ] && grep -q '场次 S9 未能解锁。试卷包中没有这个场次' '$tmp/nosess'"
check "no code: 400" test "$(get nocode /admin/v1/sessions/S2/unlock -H "$adm" --data '{}')" = 400
check "the route is 403 without the admin token" \
    test "$(get x /admin/v1/sessions/S2/unlock --data "{\"code\":\"$code2\"}")" = 403
# The guessing attack: codes of the right shape (another session's) from
# one address. Each wrong one is named; the 5th holds that address off, so
# that even the right code is refused there; another address is not held.
for n in 1 2 3 4 5; do
    st=$(unlock guess S2 "$code1" --interface 127.0.0.2)
    check "guess $n: 422, the wrong code named as such" \
        sh -c "[ $st = 422 ] && grep -q '\"error\":\"wrong_code\"' '$tmp/guess' && grep -q '开考密码不正确' '$tmp/guess'"
done
check "the 6th try from that address, the right code: 429, with how long" \
    sh -c "[ $(unlock held S2 "$code2" --interface 127.0.0.2) = 429 ] && grep -q '开考密码连续输错次数过多，请 [0-9]* 秒后再试' '$tmp/held'"
get snap /admin/v1/room -H "$adm" >/dev/null
check "S2 still locked after the guesses" grep -q '"id":"S2","state":"locked"' "$tmp/snap"
check "from another address, the right code: 200, 已解锁" \
    sh -c "[ $(unlock ok S2 "$code2") = 200 ] && grep -q '场次 S2 已解锁。' '$tmp/ok'"
on_feed "the session unlocked" '"id":"S2","state":"unlocked"'
get snap /admin/v1/room -H "$adm" >/dev/null
check "the snapshot: S2 已解锁 (unlocked)" grep -q '"id":"S2","state":"unlocked"' "$tmp/snap"

# ---- rejecting a pairing request ----

asked=$(curl -s -X POST "$u/api/v1/terminals")
rcode=$(echo "$asked" | sed -n 's/.*"pairing_code":"\([^"]*\)".*/\1/p')
rsecret=$(echo "$asked" | sed -n 's/.*"pairing_secret":"\([0-9a-f]*\)".*/\1/p')
check "the CLI rejects a pending code (examroom pair reject)" \
    sh -c "$R pair reject '$rcode' | grep -qF '已拒绝配对码 $rcode'"
check "the terminal's next poll: 410 pairing_rejected, in words that say what to do" \
    sh -c "[ $(get poll "/api/v1/terminals/$rcode" -H "Authorization: Bearer $rsecret") = 410 ] &&
           grep -q '\"error\":\"pairing_rejected\"' '$tmp/poll' && grep -q '重新申请配对码' '$tmp/poll'"
check "rejected twice: 404 not_pending" \
    test "$(get rej "/admin/v1/terminals/$rcode/reject" -X POST -H "$adm")" = 404
check "an approved code cannot be rejected: 404" \
    test "$(get rej "/admin/v1/terminals/$code/reject" -X POST -H "$adm")" = 404
get snap /admin/v1/room -H "$adm" >/dev/null
check "the rejected code is no longer pending" sh -c "! grep -qF '$rcode' '$tmp/snap'"
check "a code approved and picked up still gets pairing_gone, not rejected" \
    sh -c "[ $(get poll "/api/v1/terminals/$code" -H "Authorization: Bearer $secret") = 410 ] && grep -q pairing_gone '$tmp/poll'"

for tok in "$t" "$k"; do
    check "a terminal's or a candidate's token: 403 on the snapshot" \
        test "$(get x /admin/v1/room -H "Authorization: Bearer $tok")" = 403
    check "and on the feed" \
        test "$(get x /admin/v1/events -m 2 -H "Authorization: Bearer $tok")" = 403
    check "and on the reject" \
        test "$(get x "/admin/v1/terminals/$rcode/reject" -X POST -H "Authorization: Bearer $tok")" = 403
    check "and on the candidate's photo" \
        test "$(get x "/admin/v1/candidates/$ticket/photo" -H "Authorization: Bearer $tok")" = 403
    check "and on the unlock" \
        test "$(get x /admin/v1/sessions/S2/unlock -H "Authorization: Bearer $tok" --data "{\"code\":\"$code2\"}")" = 403
done

# ---- a feed ends with the proctor login that opened it ----

ptok=$(curl -s -H 'Content-Type: application/json' --data '{"password":"web-proctor-pass"}' \
    "$u/api/v1/proctor/login" | sed -n 's/.*"proctor_token":"\([0-9a-f]*\)".*/\1/p')
check "a proctor login over HTTP" test -n "$ptok"
curl -s -N -m 20 -H "Authorization: Bearer $ptok" "$u/admin/v1/events" >"$tmp/pfeed" 2>/dev/null &
ppid_feed=$!
for _ in $(seq 20); do grep -q '^event: room' "$tmp/pfeed" && break; sleep 0.05; done
check "the proctor's feed is open" grep -q '^event: room' "$tmp/pfeed"
sleep 0.3
check "and stays open while the login lives" kill -0 "$ppid_feed"
check "logout: 200" test "$(get lo /api/v1/proctor/logout -X POST -H "Authorization: Bearer $ptok")" = 200
for _ in $(seq 20); do kill -0 "$ppid_feed" 2>/dev/null || break; sleep 0.05; done
check "the feed ended within 1 s of the logout" sh -c "! kill -0 $ppid_feed 2>/dev/null"
kill "$ppid_feed" 2>/dev/null
wait "$ppid_feed" 2>/dev/null
check "the ended login opens no new feed: 403" \
    test "$(get x /admin/v1/events -m 2 -H "Authorization: Bearer $ptok")" = 403
check "the admin token's feed (opened earlier) is still open" kill -0 "$fpid"

# Many feeds at once, then gone: the daemon still answers at once, and
# stops cleanly with feeds open.
for _ in $(seq 50); do
    curl -s -N -m 3 -H "$adm" "$u/admin/v1/events" >/dev/null 2>&1 &
done
sleep 0.5
check "with 51 feeds open, the daemon answers" test "$(get json /api/v1/time -m 2)" = 200
kill "$rpid"
wait "$rpid"
check "serve stops cleanly (exit 0) with feeds open" test $? -eq 0
rpid=""

# The flag once more, from a daemon started again: its in-memory hold is
# gone, the stored incident still counts. (The last server's ready line
# emptied first: wait_ready must not read it, lib.sh.)
: >"$tmp/room.out"
EXAMROOM_CLOCK_OFFSET=660 $R serve --listen "${u#http://}" >"$tmp/room.out" 2>>"$tmp/room.log" &
rpid=$!
wait_ready "$tmp/room.out" >/dev/null
adm="Authorization: Bearer $(cat "$tmp/room/admin-token")"
check "after a restart (the in-memory hold gone): pressed again, already (the stored incident)" \
    sh -c "[ $(get flag /api/v1/flag -X POST -H "Authorization: Bearer $k") = 200 ] && grep -q '\"already\":true' '$tmp/flag'"
get snap /admin/v1/room -H "$adm" >/dev/null
check "still one incident, still flagged" \
    grep -q "\"ticket\":\"$ticket\",[^}]*\"incidents\":1,\"flagged\":true" "$tmp/snap"

kill "$rpid"
wait "$rpid"
rpid=""
finish
