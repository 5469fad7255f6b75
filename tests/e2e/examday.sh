#!/bin/sh
# Exam day in the room (issue 7): candidates sign in at a paired seat (ticket
# + ID number, each way it can go wrong with its own answer, full-width input
# taken, a second sign-in resuming, a terminal that keeps failing held off and
# reported); the exam page and the paper without keys; answers durable before
# the 200; submit and auto-submit scored with the paper's keys; the proctor's
# actions (on the session the one resolver picks, or --session; a move or a
# revoke ends the old seat's candidate token at once); no-shows recorded
# absent at a session's end; the seat actually used in the sealed result;
# incidents, extensions and auto-submits in the roster and status; the
# roster and the center's scores.
#   examday.sh EXAMROOM EXAMCENTER CLOCKSHIFT_SO SQLQ
set -u
room=$1 center=$2 clockshift=$3 sqlq=$4
tmp=$(mktemp -d /tmp/examroom-examday-XXXXXX)
preload=""
cpid="" rpid=""
stop_room() {
    [ -n "$rpid" ] && kill "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null
    rpid=""
}
cleanup() {
    # A failed run shows what the daemon said last.
    [ "${fail:-0}" -gt 0 ] && [ -f "$tmp/room.log" ] && tail -n 30 "$tmp/room.log"
    stop_room
    [ -n "$cpid" ] && kill "$cpid" 2>/dev/null && wait "$cpid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
. "$(dirname "$0")/../lib.sh"

# room_with_plan START_IN: a center and a room with a fetched plan whose
# first session starts START_IN minutes from now, serving; sets $u, $R, $C.
room_with_plan() {
    stop_room
    [ -n "$cpid" ] && kill "$cpid" 2>/dev/null && wait "$cpid" 2>/dev/null
    rm -rf "$tmp/center" "$tmp/room" "$tmp/plan"
    C="$center --data $tmp/center"
    R="$room --data $tmp/room"
    $C init >/dev/null || exit 1
    # Photos of 20 KiB: several to a chunk, some across chunk edges.
    $C plan sample "$tmp/plan" --candidates 40 --rooms 2 --start-in "$1" --photo-kib 20 >/dev/null || exit 1
    # One person sits both sessions under one ticket (the plan allows it):
    # the last S1 candidate of R01 again in S2, seat to be arranged.
    grep ',居民身份证,.*,S1,R01,[0-9]' "$tmp/plan/candidates.csv" | tail -n 1 >"$tmp/both"
    awk -F, -v OFS=, '{ $8 = "S2"; $10 = ""; print }' "$tmp/both" >>"$tmp/plan/candidates.csv"
    $C plan import "$tmp/plan" >/dev/null || exit 1
    serial=$($C serial issue --room R01)
    $C serve --listen 127.0.0.1:0 >"$tmp/center.out" 2>/dev/null &
    cpid=$!
    cport=$(wait_ready "$tmp/center.out")
    $R init --center "https://localhost:$cport" --center-key "$tmp/center/center-key.pub" \
        --center-ca "$tmp/center/ca.pem" >/dev/null || exit 1
    $R register "$serial" >/dev/null && $C pack >/dev/null && $R fetch >/dev/null || exit 1
    serve_at 0
}

# serve_at OFFSET: (re)starts the room's daemon with its exam clock OFFSET
# seconds ahead; sets $u.
serve_at() {
    stop_room
    # With $preload set, the daemon's wall clock can be made to jump
    # (tests/clock/clockshift.c, the seconds in $tmp/shift).
    : >"$tmp/room.out"
    env ${preload:+LD_PRELOAD=$preload CLOCKSHIFT_FILE=$tmp/shift SLOWSYNC_MS=${slow:-0}} \
        EXAMROOM_CLOCK_OFFSET=$1 \
        $R serve --listen 127.0.0.1:0 >"$tmp/room.out" 2>>"$tmp/room.log" &
    rpid=$!
    # Up to 15 s: a sanitizer build on a loaded machine starts slowly.
    for _ in 1 2 3; do
        port=$(wait_ready "$tmp/room.out")
        [ -n "$port" ] && break
    done
    u="http://127.0.0.1:$port"
}

# put TOKEN ITEM ANSWER REV: PUT /api/v1/answers/ITEM's status, the body in
# $tmp/put.
# call NAME CURL_ARGS...: the status; the body in $tmp/NAME and kept with
# every other answer to a terminal in $tmp/responses.
call() {
    name=$1
    shift
    curl -s -o "$tmp/$name" -w '%{http_code}' "$@"
    cat "$tmp/$name" >>"$tmp/responses"
    echo >>"$tmp/responses"
}

put() {
    call put -X PUT -H "Authorization: Bearer $1" \
        -H 'Content-Type: application/json' --data "{\"answer\":\"$3\",\"rev\":$4}" \
        "$u/api/v1/answers/$2"
}

# exam TOKEN: GET /api/v1/exam's status, the body in $tmp/exam.
exam() { call exam -H "Authorization: Bearer $1" "$u/api/v1/exam"; }

# signin TOKEN TICKET ID: the HTTP status, the body in $tmp/body.
signin() {
    call body -H "Authorization: Bearer $1" \
        -H 'Content-Type: application/json' \
        --data "{\"ticket\":\"$2\",\"id_number\":\"$3\"}" "$u/api/v1/signin"
}

# answers STATUS CODE TOKEN TICKET ID: signing in gets STATUS and error CODE.
answers() {
    want=$1 error=$2
    shift 2
    got=$(signin "$@")
    check "sign-in $2 with '$3' -> $want $error (got $got: $(cat "$tmp/body"))" \
        sh -c "[ '$got' = '$want' ] && grep -q '\"error\":\"$error\"' '$tmp/body'"
}

# field N of candidates.csv for the Mth line matching PATTERN.
cand() { grep "$1" "$tmp/plan/candidates.csv" | sed -n "${2}p" | cut -d, -f"$3"; }

room_with_plan 10

# A candidate of room R01, session S1, with a seat in the plan and a
# resident ID; one with a residence permit; one of session S2.
line=',居民身份证,.*,S1,R01,[0-9]'
ticket=$(cand "$line" 1 1) id=$(cand "$line" 1 5) seat=$(cand "$line" 1 10)
other=$(cand "$line" 2 1) other_id=$(cand "$line" 2 5)
pline=',港澳台居民居住证,.*,S1,R01,[0-9]'
pticket=$(cand "$pline" 1 1) pid=$(cand "$pline" 1 5) pseat=$(cand "$pline" 1 10)
s2=$(cand ',居民身份证,.*,S2,R01,' 1 1) s2_id=$(cand ',居民身份证,.*,S2,R01,' 1 5)
check "the plan gives the candidates this test needs" \
    test -n "$ticket" -a -n "$other" -a -n "$pticket" -a -n "$s2" -a "$seat" != "$pseat"

# A ticket in S1 and S2 (seat arranged in S2): before S1 starts, an action
# without --session means S1 (sign-in open), not S2; --session chooses.
both=$(cut -d, -f1 "$tmp/both") both_id=$(cut -d, -f5 "$tmp/both")
expect 0 "已为考生 $both（场次 S1）记录情况" $R incident "$both" "核对证件：S1 前"
expect 0 "已为考生 $both（场次 S2）记录情况" $R incident "$both" "核对证件：S2" --session S2
expect 1 "考生 $both 不在场次 S9" $R incident --session S9 "$both" "x"
check "a refusal a retry cannot mend has no retry advice" sh -c "! grep -q '后重试' '$tmp/out'"
# The admin API takes the session in the body or as ?session=, and its
# answer names the ticket and the session acted on.
admin() {
    curl -s -X POST -H "Authorization: Bearer $(cat "$tmp/room/admin-token")" \
        --data "$2" "http://$(cat "$tmp/room/admin-address")$1"
}
admin "/admin/v1/candidates/$both/incident?session=S2" '{"text":"q"}' >"$tmp/admin"
check "admin API: ?session= chooses, the answer names it ($(cat "$tmp/admin"))" \
    sh -c "grep -q '\"session\":\"S2\"' '$tmp/admin' && grep -q '\"ticket\":\"$both\"' '$tmp/admin'"
check "admin API: the body's session too" \
    sh -c "echo '$(admin "/admin/v1/candidates/$both/incident" '{"text":"b","session":"S2"}')' | grep -q '\"session\":\"S2\"'"
check "admin API: a body with a key twice is refused, nothing done" \
    sh -c "echo '$(admin "/admin/v1/candidates/$both/incident" '{"text":"a","text":"b"}')' | grep -q '\"error\":\"bad_json\"'"
check "admin API: a body that is not an object too" \
    sh -c "echo '$(admin "/admin/v1/candidates/$both/incident" '[1]')' | grep -q '\"error\":\"bad_json\"'"
expect 2 "用法: examroom extend TICKET MINUTES" $R extend "$both" abc
expect 2 "用法: examroom move TICKET SEAT" $R move "$both" 3x

t=$(pair "$seat")
check "a terminal paired to seat $seat" test -n "$t"
answers 401 not_paired "0000" "$ticket" "$id"
answers 404 wrong_ticket "$t" "4401999926999999" "$id"
answers 403 wrong_id "$t" "$ticket" "$other_id"
answers 400 id_format "$t" "$ticket" "$(echo "$id" | cut -c1-17)"
answers 403 wrong_session "$t" "$s2" "$s2_id"
answers 403 wrong_seat "$t" "$other" "$other_id"
check "the wrong seat's message names the right one" grep -q '请到 [0-9]* 号座位签到' "$tmp/body"

# Full-width digits with spaces around, as a Chinese input method types them.
wide=$(echo "$id" | sed 's/0/０/g; s/1/１/g; s/2/２/g; s/3/３/g; s/4/４/g; s/5/５/g; s/6/６/g; s/7/７/g; s/8/８/g; s/9/９/g; s/X/ｘ/g')
got=$(signin "$t" "$ticket" " $wide ")
check "full-width ID signs in (got $got: $(cat "$tmp/body"))" test "$got" = 200
check "the answer carries a candidate token" grep -q '"candidate_token":"[0-9a-f]\{64\}"' "$tmp/body"
check "and the candidate's seat and session" \
    grep -q "\"seat\":$seat}.*\"session\":{\"id\":\"S1\"" "$tmp/body"
first=$(sed -n 's/.*"candidate_token":"\([0-9a-f]*\)".*/\1/p' "$tmp/body")
got=$(signin "$t" "$ticket" "$id")
second=$(sed -n 's/.*"candidate_token":"\([0-9a-f]*\)".*/\1/p' "$tmp/body")
check "signing in again (a crashed browser) resumes with a new token" \
    test "$got" = 200 -a -n "$second" -a "$second" != "$first"

# The candidate's own photo, the very bytes of the plan; nothing without a
# candidate token.
check "the answer points to the photo" grep -q '"photo_url":"/api/v1/photo"' "$tmp/body"
got=$(curl -s -o "$tmp/photo" -w '%{http_code} %{content_type}' \
    -H "Authorization: Bearer $second" "$u/api/v1/photo")
check "the photo is served as JPEG ($got)" test "$got" = "200 image/jpeg"
check "and it is this candidate's" cmp -s "$tmp/photo" "$tmp/plan/photos/$ticket.jpg"
check "a terminal token gets no photo" \
    test "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $t" "$u/api/v1/photo")" = 401

# Other documents are matched as given (full-width folded).
t2=$(pair "$pseat")
got=$(signin "$t2" "$pticket" "$pid")
check "a residence permit signs in as given (got $got)" test "$got" = 200
ptoken=$(sed -n 's/.*"candidate_token":"\([0-9a-f]*\)".*/\1/p' "$tmp/body")
expect 0 "场次 S1: 已解锁，.*已签到 2 人" $R status

# Signed in at their own seat, a candidate whose ticket and ID are typed at
# another seat: refused as such, and the proctor hears of it.
before=$($R status | sed -n 's/.*待上传[^0-9]*\([0-9]*\).*/\1/p')
answers 409 signed_in_elsewhere "$t2" "$ticket" "$id"
check "the message says where they are signed in" grep -q "您已签到，座位是 $seat 号" "$tmp/body"
after=$($R status | sed -n 's/.*待上传[^0-9]*\([0-9]*\).*/\1/p')
check "signing in elsewhere is an incident for the center ($before -> $after)" \
    test "$after" -gt "$before"

# Ten failures hold the terminal off (the sign-in elsewhere above was one),
# and the proctor sees why. Signing its own candidate in again between the
# guesses wipes nothing out.
before=$($R status | sed -n 's/.*待上传[^0-9]*\([0-9]*\).*/\1/p')
for _ in $(seq 8); do signin "$t2" "4401999926999999" "$pid" >/dev/null; done
got=$(signin "$t2" "$pticket" "$pid")
check "its own candidate still signs in between guesses ($got: $(cat "$tmp/body"))" test "$got" = 200
ptoken=$(sed -n 's/.*"candidate_token":"\([0-9a-f]*\)".*/\1/p' "$tmp/body")
signin "$t2" "4401999926999999" "$pid" >/dev/null
answers 429 held "$t2" "$pticket" "$pid"
after=$($R status | sed -n 's/.*待上传[^0-9]*\([0-9]*\).*/\1/p')
check "the hold is an incident for the center ($before -> $after)" test "$after" -gt "$before"
check "the other terminal is not held" test "$(signin "$t" "$ticket" "$id")" = 200
third=$(sed -n 's/.*"candidate_token":"\([0-9a-f]*\)".*/\1/p' "$tmp/body")

# The exam page before the start: the state and the time to go, no paper.
got=$(exam "$third")
check "before the start: waiting, no paper ($got: $(cut -c1-200 "$tmp/exam"))" \
    sh -c "[ $got = 200 ] && grep -q '\"state\":\"waiting\"' '$tmp/exam' && ! grep -q '\"paper\"' '$tmp/exam'"
left=$(sed -n 's/.*"remaining_seconds":\([0-9]*\).*/\1/p' "$tmp/exam")
check "and the seconds to the start ($left)" test "$left" -gt 500 -a "$left" -le 660
check "a token a later sign-in replaced is ended" test "$(exam "$second")" = 401
check "and says so: the latest page goes on" \
    sh -c "grep -q '\"error\":\"replaced\"' '$tmp/exam' && grep -q '最后一次签到的页面' '$tmp/exam'"
check "its photo too" \
    test "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $second" "$u/api/v1/photo")" = 401
check "a terminal token is not a candidate's" test "$(exam "$t")" = 401
# Proctor functions never take a candidate's (or a terminal's) token.
for tok in "$third" "$t"; do
    check "a proctor call with a candidate or terminal token: 403" \
        test "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $tok" \
            --data '{"minutes":10}' "$u/admin/v1/candidates/$ticket/extend")" = 403
done
check "no answer before the start: 423" test "$(put "$third" 1 B 1)" = 423

# Eleven minutes on (the session key came from the center meanwhile): the
# paper, without its keys.
for _ in $(seq 100); do
    $R status | grep -q "场次 S1: 已解锁" && break
    sleep 0.1
done
# Unlocked, signed in, but not started: the proctor cannot submit for them.
expect 1 "尚未开始考试" $R submit "$ticket"
serve_at 660
got=$(exam "$third")
check "after the start: running ($got: $(cut -c1-200 "$tmp/exam"))" grep -q '"state":"running"' "$tmp/exam"
occ=$(cand "$line" 1 6)
paper=$(grep -l "\"occupation\": \"$occ\"" "$tmp/plan/papers/"*.json | head -1)
check "every item of the candidate's paper is there ($paper)" \
    test "$(grep -o '"stem"' "$tmp/exam" | wc -l)" = "$(grep -o '"stem"' "$paper" | wc -l)"
check "and no key" sh -c "! grep -q '\"key\"' '$tmp/exam'"
left=$(sed -n 's/.*"remaining_seconds":\([0-9]*\).*/\1/p' "$tmp/exam")
check "time left is the session's end less eleven minutes ($left)" test "$left" -gt 3000

# Answers: 200 once durable, a stale rev changes nothing and says what is
# stored, a bad answer or an unknown item is refused.
check "an answer is saved (rev 1)" sh -c "[ $(put "$third" 1 B 1) = 200 ] && grep -q '\"rev\":1' '$tmp/put'"
check "the same rev again: 409 with the stored one" \
    sh -c "[ $(put "$third" 1 A 1) = 409 ] && grep -q '\"answer\":\"B\"' '$tmp/put'"
check "a higher rev changes it" test "$(put "$third" 1 C 2)" = 200
check "a lower rev after it: 409, rev 2, C" \
    sh -c "[ $(put "$third" 1 A 1) = 409 ] && grep -q '\"answer\":\"C\"' '$tmp/put' && grep -q '\"rev\":2' '$tmp/put'"
check "multiple choice, letters in order" test "$(put "$third" 11 ABD 1)" = 200
check "judge: T or F" test "$(put "$third" 16 F 1)" = 200
check "cleared: empty" test "$(put "$third" 16 "" 2)" = 200
for bad in "1 AB" "1 Z" "11 BA" "11 AA" "16 X" "1 b"; do
    # shellcheck disable=SC2086
    set -- $bad
    check "a bad answer '$2' to item $1: 400" test "$(put "$third" "$1" "$2" 9)" = 400
done
check "rev 0: 400" test "$(put "$third" 1 A 0)" = 400
check "an item not in the paper: 404" test "$(put "$third" 999 A 1)" = 404
check "a replaced token saves nothing" test "$(put "$second" 1 D 3)" = 401

# The 200 means durable: a kill -9 right after loses nothing.
check "answer at rev 3" test "$(put "$third" 1 D 3)" = 200
kill -9 "$rpid" && wait "$rpid" 2>/dev/null
rpid=""
serve_at 660
exam "$third" >/dev/null
check "after kill -9 the answers are there" \
    grep -q '"answers":{"1":{"answer":"D","rev":3},"11":{"answer":"ABD","rev":1},"16":{"answer":"","rev":2}}' "$tmp/exam"

# The system's time jumps an hour either way during the session: nobody's
# remaining time changes (the exam clock runs on the monotonic clock).
left_now() { exam "$1" >/dev/null && sed -n 's/.*"remaining_seconds":\([0-9]*\).*/\1/p' "$tmp/exam"; }
echo 0 >"$tmp/shift"
preload=$clockshift
serve_at 660
r1=$(left_now "$third")
echo 3600 >"$tmp/shift"
r2=$(left_now "$third")
echo -3600 >"$tmp/shift"
r3=$(left_now "$third")
check "a wall-clock jump changes no remaining time ($r1, +1 h: $r2, -1 h: $r3)" \
    test "$r1" -gt 0 -a $((r1 - r2)) -ge 0 -a $((r1 - r2)) -le 2 -a $((r1 - r3)) -ge 0 -a $((r1 - r3)) -le 2

# SIGTERM while a save is on its way to disk (fsync slowed to 1.5 s): the
# daemon answers it, then stops cleanly; the answer is there after.
echo 0 >"$tmp/shift"
slow=1500
serve_at 660
put "$third" 16 "" 3 >"$tmp/slow-put" &
putpid=$!
sleep 0.3
kill -TERM "$rpid"
wait "$rpid"
code=$?
rpid=""
wait "$putpid"
check "SIGTERM with a save pending: the save answered $(cat "$tmp/slow-put"), exit $code" \
    test "$(cat "$tmp/slow-put")" = 200 -a "$code" = 0
slow=""
preload=""
serve_at 660
exam "$third" >/dev/null
check "and the save is there" grep -q '"16":{"answer":"","rev":3}' "$tmp/exam"

# The keys of items 1 and 11 from the plan's paper: answered right, they
# score their points; item 16 (cleared) scores nothing.
flat=$(tr -d '\n ' <"$paper")
key_of() { echo "$flat" | grep -o "\"id\":\"$1\",[^}]*}[^}]*}" | sed -n 's/.*"key":"\([A-Z]*\)","points":\([0-9]*\).*/\1 \2/p'; }
k1=$(key_of 1) k11=$(key_of 11)
check "the keys are read from the paper ($k1; $k11)" test -n "${k1% *}" -a -n "${k11% *}"
score_want=$((${k1#* } + ${k11#* }))
check "item 1 answered right" test "$(put "$third" 1 "${k1% *}" 4)" = 200
check "item 11 answered right" test "$(put "$third" 11 "${k11% *}" 2)" = 200

# The proctor's actions, through the admin channel.
expect 0 "考生 $other（场次 S1）已记为缺考" $R absent "$other"
expect 1 "考生 $other（场次 S1）已交卷或已记为缺考" $R absent "$other"
check "done already: no retry advice" sh -c "! grep -q '后重试' '$tmp/out'"
other_seat=$(cand "$line" 2 10)
t_other=$(pair "$other_seat")
answers 403 absent "$t_other" "$other" "$other_id"
check "the absent candidate is told so" grep -q '您已被登记为缺考' "$tmp/body"
expect 1 "考生 $pticket（场次 S1）已签到，不能记为缺考" $R absent "$pticket"
expect 1 "没有这个准考证号的考生" $R absent 4401999926999999
expect 1 "没有这个准考证号的考生" $R absent "4401 99?#%2F&考"
exam "$ptoken" >/dev/null
end0=$(sed -n 's/.*"ends_at":\([0-9]*\).*/\1/p' "$tmp/exam")
expect 0 "已为考生 $pticket（场次 S1）延长 10 分钟" $R extend "$pticket" 10
exam "$ptoken" >/dev/null
end1=$(sed -n 's/.*"ends_at":\([0-9]*\).*/\1/p' "$tmp/exam")
check "extend: ten more minutes ($end0 -> $end1)" test "$end1" -eq $((end0 + 600))
expect 1 "1 至 120 分钟" $R extend "$pticket" 0
check "an answer before the move" test "$(put "$ptoken" 1 A 1)" = 200
expect 1 "该座位已有考生" $R move "$pticket" "$seat"
expect 1 "座位号无效" $R move "$pticket" 99
pseat_now=$($R roster --session S1 --format csv | grep "^$pticket," | cut -d, -f6)
expect 0 "考生 $pticket（场次 S1）已换到 20 号座位" $R move "$pticket" 20
# The old seat's page stops at once: it neither reads the paper nor saves.
check "after a move, the old token reads no paper: 401 moved" \
    sh -c "[ $(exam "$ptoken") = 401 ] && grep -q '\"error\":\"moved\"' '$tmp/exam' && grep -q '请到 20 号座位重新签到' '$tmp/exam'"
check "nor saves an answer: 401 moved" \
    sh -c "[ $(put "$ptoken" 2 C 1) = 401 ] && grep -q '\"error\":\"moved\"' '$tmp/put'"
answers 409 moved "$t2" "$pticket" "$pid"
check "after a move, the old seat sends them to the new one" grep -q "请到 20 号座位签到" "$tmp/body"
$R roster --incidents >"$tmp/incidents"
check "the incident says they were moved, not that they signed in there" \
    sh -c "grep -q '考生 $pticket（场次 S1）已调到 20 号座位、尚未在新座位签到，又在 $pseat_now 号座位' '$tmp/incidents' && ! grep -q '已在 20 号座位签到' '$tmp/incidents'"
t20=$(pair 20)
got=$(signin "$t20" "$pticket" "$pid")
ptoken=$(sed -n 's/.*"candidate_token":"\([0-9a-f]*\)".*/\1/p' "$tmp/body")
exam "$ptoken" >/dev/null
check "at the new seat: signed in ($got), the answer and the time follow" \
    sh -c "[ $got = 200 ] && grep -q '\"answers\":{\"1\":{\"answer\":\"A\",\"rev\":1}}' '$tmp/exam' && grep -q '\"ends_at\":$end1' '$tmp/exam'"
# Revoking the terminal ends the candidate sessions started at it, too;
# the candidate signs in again (here at a new terminal on the same seat).
expect 0 "" $R pair revoke 20
check "after a revoke, the token reads no paper: 401" \
    sh -c "[ $(exam "$ptoken") = 401 ] && grep -q '\"error\":\"terminal_revoked\"' '$tmp/exam'"
check "nor saves an answer: 401 terminal_revoked" \
    sh -c "[ $(put "$ptoken" 2 D 1) = 401 ] && grep -q '这台电脑已停止使用' '$tmp/put'"
t20=$(pair 20)
got=$(signin "$t20" "$pticket" "$pid")
ptoken=$(sed -n 's/.*"candidate_token":"\([0-9a-f]*\)".*/\1/p' "$tmp/body")
exam "$ptoken" >/dev/null
check "signed in again ($got): the same answers, none of the refused ones" \
    sh -c "[ $got = 200 ] && grep -q '\"answers\":{\"1\":{\"answer\":\"A\",\"rev\":1}}' '$tmp/exam'"
before=$($R status | sed -n 's/.*待上传[^0-9]*\([0-9]*\).*/\1/p')
expect 0 "已为考生 $pticket（场次 S1）记录情况" $R incident "$pticket" "考生使用手机，已制止"
after=$($R status | sed -n 's/.*待上传[^0-9]*\([0-9]*\).*/\1/p')
check "the incident waits for the center ($before -> $after)" test "$after" -gt "$before"
# Incidents are seen: per candidate in the roster (count, the latest, the
# extension), listed in status, all in JSON.
expect 0 "$pticket .*延时 10 分钟；情况 [2-9] 条：考生使用手机，已制止" $R roster --session S1
expect 0 "  [0-9:]* $pticket 考生使用手机，已制止" $R status
$R status --json >"$tmp/status.json"
check "status --json lists the incidents" \
    sh -c "tr -d ' \n' <'$tmp/status.json' | grep -q '\"ticket\":\"$pticket\",\"seat\":20,\"text\":\"考生使用手机，已制止\"'"
$R roster --format json >"$tmp/roster.json"
check "roster --format json: extra minutes, incidents, the latest" \
    sh -c "tr -d ' \n' <'$tmp/roster.json' | grep -q '\"ticket\":\"$pticket\",[^}]*\"extra_minutes\":10,\"incidents\":[2-9],\"last_incident\":\"考生使用手机，已制止\"'"
expect 0 "S1 .*$both .*核对证件：S1 前" $R roster --incidents
fourth=$(cand "$line" 3 1) fourth_id=$(cand "$line" 3 5) fourth_seat=$(cand "$line" 3 10)
expect 1 "尚未开始考试" $R submit "$fourth"
t4=$(pair "$fourth_seat")
check "a third candidate signs in" test "$(signin "$t4" "$fourth" "$fourth_id")" = 200
expect 0 "已为考生 $fourth（场次 S1）交卷" $R submit "$fourth"
expect 0 "$fourth .*已交卷 *0" $R roster --session S1
expect 1 "已交卷或已记为缺考" $R submit "$fourth"

# Submitting: not before 30 minutes (the plan's earliest_submit_minutes);
# then final, idempotent, scored with the paper's keys.
sub() { call sub -X POST -H "Authorization: Bearer $1" "$u/api/v1/submit"; }
check "no submit in the first 30 minutes: 423" \
    sh -c "[ $(sub "$third") = 423 ] && grep -q '开考 30 分钟后才能交卷' '$tmp/sub'"
# An answer on its way to disk (fsync slowed to 1.5 s) when the candidate
# submits: acknowledged, so it must be in the result and its score.
k2=$(key_of 2)
check "the key of item 2 is read from the paper ($k2)" test -n "${k2% *}"
score_want=$((score_want + ${k2#* }))
preload=$clockshift slow=1500
serve_at 2580
put "$third" 2 "${k2% *}" 1 >"$tmp/race-put" &
putpid=$!
sleep 0.3
check "after 30 minutes: submitted" sh -c "[ $(sub "$third") = 200 ] && grep -q '\"state\":\"submitted\"' '$tmp/sub'"
wait "$putpid"
check "the answer on its way when they submitted was acknowledged" test "$(cat "$tmp/race-put")" = 200
preload="" slow=""
serve_at 2580
check "again: the same answer" sh -c "[ $(sub "$third") = 200 ] && grep -q '\"state\":\"submitted\"' '$tmp/sub'"
exam "$third" >/dev/null
check "the page says submitted, no paper, no time running" \
    sh -c "grep -q '\"state\":\"submitted\"' '$tmp/exam' && ! grep -q '\"paper\"' '$tmp/exam' && grep -q '\"remaining_seconds\":0' '$tmp/exam'"
check "no answer after submitting: 409, submitted" \
    sh -c "[ $(put "$third" 1 A 4) = 409 ] && grep -q '\"error\":\"submitted\"' '$tmp/put' && grep -q '你已交卷' '$tmp/put'"
$R sync >/dev/null 2>&1
$C scores --format csv >"$tmp/scores.csv"
check "the center has the sealed result, score $score_want" grep -q "$ticket,.*,$score_want," "$tmp/scores.csv"
$R roster --format json >"$tmp/roster.json"
check "the room's roster has it too" \
    sh -c "tr -d ' \n' <'$tmp/roster.json' | grep -q '\"ticket\":\"$ticket\",[^}]*\"state\":\"submitted\",\"result\":\"submitted\",\"score\":$score_want,'"
check "and nothing for those without a result" grep -q '"score": null' "$tmp/roster.json"
expect 0 "$ticket .*已交卷 *$score_want" $R roster --session S1
$R roster --format csv >"$tmp/roster.csv"
check "the CSV starts with a BOM and the header" \
    sh -c "head -c 3 '$tmp/roster.csv' | od -An -tx1 | grep -q 'ef bb bf' && grep -q '^.*准考证号,姓名,职业' '$tmp/roster.csv'"
expect 1 "场次“S9”没有考生" $R roster --session S9
expect 2 "table、csv 或 json" $R roster --format xml

# Late admission ends 15 minutes after the start; sign-in opens 30 before.
serve_at 1680
fifth=$(cand "$line" 4 1) fifth_id=$(cand "$line" 4 5)
answers 403 too_late "$t2" "$fifth" "$fifth_id"
# S1 under way, the ticket of S1 and S2 not there: S1, not S2.
expect 0 "已为考生 $both（场次 S1）记录情况" $R incident "$both" "未到场"
# One who is already in (here at seat 20 since the move) signs in again.
got=$(signin "$t20" "$pticket" "$pid")
ptoken=$(sed -n 's/.*"candidate_token":"\([0-9a-f]*\)".*/\1/p' "$tmp/body")
check "after late admission, a candidate already in signs in again ($got)" test "$got" = 200
serve_at -1800
answers 403 too_early "$t2" "$pticket" "$pid"

# After the end: whoever has not submitted is submitted by the room.
serve_at 9000
for _ in $(seq 50); do
    exam "$ptoken" >/dev/null
    grep -q '"state":"submitted"' "$tmp/exam" && break
    sleep 0.1
done
check "after the end: auto-submitted ($(cut -c1-100 "$tmp/exam"))" grep -q '"state":"submitted"' "$tmp/exam"
# Sealed (the page says submitted from the moment the result is queued).
for _ in $(seq 50); do
    $R roster --session S1 | grep -q "^$pticket .*自动交卷" && break
    sleep 0.1
done
code=$(put "$ptoken" 1 A 4)
check "no answer after the end: 409 submitted ($code: $(cat "$tmp/put"))" test "$code" = 409
# Whoever never signed in is recorded absent at the end, like the
# proctor's "absent": sealed, in the roster, synced.
for _ in $(seq 50); do
    $R roster --session S1 | grep -q "^$fifth .*缺考" && break
    sleep 0.1
done
expect 0 "^$fifth .*缺考" $R roster --session S1
expect 0 "^$both .*S1 .*缺考" $R roster --session S1
expect 0 "^$pticket .*自动交卷" $R roster --session S1
check "the CSV tells auto-submitted apart too" \
    sh -c "$R roster --session S1 --format csv | grep -q '^$pticket,.*,自动交卷,10,.*,已交卷,'"
# S1 over for the ticket of S1 and S2 (absent there): S2, the next to start.
expect 0 "已为考生 $both（场次 S2）记录情况" $R incident "$both" "S1 之后"
$R sync --wait >/dev/null 2>&1
$C scores --format csv >"$tmp/scores.csv"
check "the center has it as auto-submitted" grep -q "$pticket,.*auto_submitted" "$tmp/scores.csv"
check "and the absent candidate as absent" grep -q "$other,.*absent" "$tmp/scores.csv"
check "and the one who never signed in as absent" grep -q "$fifth,.*absent" "$tmp/scores.csv"
# The sealed result carries the seat actually used, and only answers given
# through a valid token.
cdb=$(ls "$tmp/center/"*.db | head -1)
payload=$($sqlq "$cdb" "SELECT payload FROM results WHERE ticket = '$pticket' AND session_id = 'S1'")
check "the moved candidate's result: seat 20, the answers of valid tokens only ($payload)" \
    sh -c "echo '$payload' | grep -q '\"seat\":20,' && echo '$payload' | grep -q '\"answers\":{\"1\":{\"answer\":\"A\",\"rev\":1}}'"
fifth_seat=$(cand "$line" 4 10)
payload=$($sqlq "$cdb" "SELECT payload FROM results WHERE ticket = '$fifth' AND session_id = 'S1'")
check "a no-show's result: absent, score null, the planned seat ($payload)" \
    sh -c "echo '$payload' | grep -q '\"score\":null,\"seat\":$fifth_seat,.*\"status\":\"absent\"'"
# Session S2 has started by the exam clock, but its key has not come (the
# center releases it by the real clock): its candidate signs in and waits;
# no paper, no answer, no submit.
s2_start=$($R status --json | tr -d ' \n' | sed -n 's/.*"S2":{"state":"[a-z]*","starts_at":\([0-9]*\).*/\1/p')
s2_seat=$(cand ',居民身份证,.*,S2,R01,[0-9]' 1 10)
s2=$(cand ',居民身份证,.*,S2,R01,[0-9]' 1 1) s2_id=$(cand ',居民身份证,.*,S2,R01,[0-9]' 1 5)
serve_at $((s2_start - $(date +%s) + 60))
$R pair revoke "$s2_seat" >/dev/null 2>&1
ts2=$(pair "$s2_seat")
got=$(signin "$ts2" "$s2" "$s2_id")
s2token=$(sed -n 's/.*"candidate_token":"\([0-9a-f]*\)".*/\1/p' "$tmp/body")
exam "$s2token" >/dev/null
check "S2 started without its key ($got): waiting, not unlocked, no paper" \
    sh -c "grep -q '\"state\":\"waiting\",\"unlocked\":false' '$tmp/exam' && ! grep -q '\"paper\"' '$tmp/exam'"
check "no answer before the unlock: 423" test "$(put "$s2token" 1 A 1)" = 423
check "no submit before the unlock: 423" test "$(sub "$s2token")" = 423
# The ticket in both sessions signs in to the one whose sign-in is open.
both_seat=$($R roster --session S2 --format csv | grep "^$both," | cut -d, -f6)
$R pair revoke "$both_seat" >/dev/null 2>&1
tb=$(pair "$both_seat")
got=$(signin "$tb" "$both" "$both_id")
check "a ticket of S1 and S2 signs in to S2 in S2's time ($got: $(cat "$tmp/body"))" \
    sh -c "[ '$got' = 200 ] && grep -q '\"session\":{\"id\":\"S2\"' '$tmp/body'"

# Not one answer to a terminal in this whole run carried a key.
check "papers were served ($(grep -c '"items"' "$tmp/responses") times)" grep -q '"items"' "$tmp/responses"
check "no answer key in any of the $(wc -l <"$tmp/responses") responses" \
    sh -c "! grep -q '\"key\"' '$tmp/responses'"
finish
