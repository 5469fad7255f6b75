#!/bin/sh
# The reports (issue 13): a room runs session S1 of a sample plan for real
# (sign-ins, an absence marked by the proctor, no-shows made absent at the
# end, a move, an incident, one submit with every answer right, the rest
# auto-submitted), then every report in every format: the CSV parsed back
# (BOM, CRLF, masked ID numbers, the counts, the scores and pass/fail equal
# to the room's sealed results and to `examcenter scores`), the HTML's print
# layout, --output, the admin route (same bytes, headers, ADMIN only) and
# each error with its own message.
#   reports.sh EXAMROOM EXAMCENTER
set -u
room=$1 center=$2
tmp=$(mktemp -d /tmp/examroom-reports-XXXXXX)
cpid="" rpid=""
stop_room() {
    [ -n "$rpid" ] && kill "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null
    rpid=""
}
cleanup() {
    [ "${fail:-0}" -gt 0 ] && [ -f "$tmp/room.log" ] && tail -n 30 "$tmp/room.log"
    stop_room
    [ -n "$cpid" ] && kill "$cpid" 2>/dev/null && wait "$cpid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
. "$(dirname "$0")/../lib.sh"

# serve_at OFFSET: the room's daemon, its exam clock OFFSET seconds ahead.
serve_at() {
    stop_room
    : >"$tmp/room.out"
    EXAMROOM_CLOCK_OFFSET=$1 $R serve --listen 127.0.0.1:0 >"$tmp/room.out" 2>>"$tmp/room.log" &
    rpid=$!
    for _ in 1 2 3; do
        port=$(wait_ready "$tmp/room.out")
        [ -n "$port" ] && break
    done
    u="http://127.0.0.1:$port"
}
api() {
    curl -s -X "$1" -H "Authorization: Bearer $3" -H 'Content-Type: application/json' \
        ${4:+--data "$4"} "$u$2"
}
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }

echo console-pass-7 >"$tmp/pw"
room_init_args="--proctor-password-file $tmp/pw"
center_and_room --candidates 16 --rooms 1 --start-in 10 --photo-kib 2

# Registered, no package yet: nothing to report from, and it says what to do.
expect 1 "examroom fetch" $R report signin --session S1
$C pack >/dev/null && $R fetch >/dev/null || exit 1

# S1's candidates by seat: ticket and seat; their ID numbers from the plan.
$R roster --session S1 --format csv | tail -n +2 | cut -d, -f1,6 | tr , ' ' | sort -k2n >"$tmp/s1"
n=$(wc -l <"$tmp/s1")
check "S1 has 8 candidates ($n)" test "$n" -eq 8
tk() { sed -n "${1}p" "$tmp/s1" | cut -d' ' -f1; }
st() { sed -n "${1}p" "$tmp/s1" | cut -d' ' -f2; }
idof() { grep "^$1," "$tmp/plan/candidates.csv" | head -1 | cut -d, -f5; }

# Ten minutes before the start: candidates 1-5 sign in at their seats; 6 is
# marked absent by the proctor; 7 and 8 never come.
serve_at 0
for i in 1 2 3 4 5; do
    term=$(pair "$(st $i)")
    api POST /api/v1/signin "$term" "{\"ticket\":\"$(tk $i)\",\"id_number\":\"$(idof "$(tk $i)")\"}" |
        field candidate_token >"$tmp/token-$i"
    check "candidate $i signed in" test -s "$tmp/token-$i"
done
expect 0 "已记为缺考" $R absent "$(tk 6)" --session S1
for _ in $(seq 100); do
    $R status | grep -q "场次 S1: 已解锁" && break
    sleep 0.1
done

# Started: 1 answers every item with its key, 2 and 3 open the paper; 3 is
# moved to seat 30, 2 has an incident. Past 30 minutes, 1 submits.
serve_at 660
for i in 1 2 3; do api GET /api/v1/exam "$(cat "$tmp/token-$i")" >/dev/null; done
occ=$(grep "^$(tk 1)," "$tmp/plan/candidates.csv" | head -1 | cut -d, -f6)
paper=$(grep -l "\"occupation\": \"$occ\"" "$tmp/plan/papers/"*.json | head -1)
tr -d '\n ' <"$paper" | grep -o '"id":"[^"]*","type":"[a-z]*"[^}]*}[^}]*}' |
    sed 's/"id":"\([^"]*\)","type":"\([a-z]*\)".*"key":"\([A-Z]*\)","points":\([0-9]*\).*/\1 \3/' |
    while read -r item key; do
        api PUT "/api/v1/answers/$item" "$(cat "$tmp/token-1")" "{\"answer\":\"$key\",\"rev\":1}" >/dev/null
    done
expect 0 "已换到 30 号座位" $R move "$(tk 3)" 30 --session S1
expect 0 "记录情况" $R incident "$(tk 2)" "考生使用手机，已制止" --session S1
serve_at 2580
check "candidate 1 submits" sh -c "curl -s -X POST -H 'Authorization: Bearer $(cat "$tmp/token-1")' $u/api/v1/submit | grep -q submitted"

# After the end: the room submits for 2-5 and records 7 and 8 absent.
serve_at 6200
for _ in $(seq 150); do
    $R roster --session S1 --format json | grep -q '"result": null' || break
    sleep 0.1
done
stop_room

# ---- CSV ----
# As many CRs as lines, each at a line's end.
crlf_only() {
    [ "$(tr -d -c '\r' <"$1" | wc -c)" -eq "$(wc -l <"$1")" ] &&
        ! sed 's/\r$//' "$1" | grep -q "$(printf '\r')"
}
for k in signin scores attendance; do
    $R report $k --session S1 >"$tmp/$k.csv"
    check "$k.csv: exit 0, a BOM first" sh -c "head -c 3 '$tmp/$k.csv' | od -An -tx1 | grep -q 'ef bb bf'"
    check "$k.csv: every line ends CRLF, no CR elsewhere" crlf_only "$tmp/$k.csv"
done
# The lines without BOM and CR, for reading back.
for k in signin scores attendance; do
    sed '1s/^\xEF\xBB\xBF//; s/\r$//' "$tmp/$k.csv" >"$tmp/$k.txt"
done

check "signin: the header" test "$(head -1 "$tmp/signin.txt")" = "座位号,准考证号,姓名,证件号码,职业,等级,签到时间,考生签名"
check "signin: 8 rows" test "$(tail -n +2 "$tmp/signin.txt" | wc -l)" -eq 8
tail -n +2 "$tmp/signin.txt" | cut -d, -f1 >"$tmp/seats"
check "signin: sorted by seat" sh -c "sort -n -c '$tmp/seats'"
check "signin: candidate 3 at seat 30 now" grep -q "^30,$(tk 3)," "$tmp/signin.txt"
for i in 1 2 3 4 5 6 7 8; do
    id=$(idof "$(tk $i)")
    row=$(grep ",$(tk $i)," "$tmp/signin.txt")
    masked=$(echo "$row" | cut -d, -f4)
    case $i in 1 | 2 | 3 | 4 | 5) signed=yes ;; *) signed="" ;; esac
    check "signin $i: the ID masked ($masked), never whole" \
        sh -c "! grep -q '$id' '$tmp/signin.csv' && echo '$masked' | grep -q '^[0-9A-Z]\{4\}\*\{10\}[0-9X]\{4\}\$' && [ '$masked' = \"\$(echo '$id' | cut -c1-4)**********\$(echo '$id' | cut -c15-18)\" ] || [ \${#id} -lt 10 ]"
    check "signin $i: a sign-in time only if signed in, an empty signature" \
        sh -c "echo '$row' | grep -q '${signed:+[0-9]:[0-9][0-9]},\$'"
done

# scores: each row's score and pass/fail as the room's sealed results and
# the center's report say them.
$R sync --wait >/dev/null 2>&1
$C scores --format csv | sed '1s/^\xEF\xBB\xBF//; s/\r$//' >"$tmp/center.txt"
$R roster --session S1 --format csv | sed '1s/^\xEF\xBB\xBF//; s/\r$//' >"$tmp/roster.txt"
check "scores: the header" test "$(head -1 "$tmp/scores.txt")" = "座位号,准考证号,姓名,职业,等级,成绩,是否合格,状态,交卷时间"
for i in 1 2 3 4 5 6 7 8; do
    t=$(tk $i)
    mine=$(grep ",$t," "$tmp/scores.txt" | cut -d, -f6,7)
    sealed=$(grep "^$t," "$tmp/roster.txt" | awk -F, '{print $NF}')
    theirs=$(grep ",S1,$t," "$tmp/center.txt" | cut -d, -f7,8)
    check "scores $i: $mine = center's $theirs, room's sealed score $sealed" \
        sh -c "[ '$mine' = '$theirs' ] && [ '${mine%,*}' = '$sealed' ]"
done
check "scores: candidate 1 passes with every key" grep -q ",$(tk 1),.*,100,合格,已交卷,20" "$tmp/scores.txt"
check "scores: 2-5 auto-submitted" test "$(grep -c ',不合格,自动交卷,20' "$tmp/scores.txt")" -eq 4
check "scores: 6-8 absent, no score" test "$(grep -c ',,缺考,缺考,$' "$tmp/scores.txt")" -eq 3

# attendance: the counts, then the incidents.
count() { grep "^$1," "$tmp/attendance.txt" | cut -d, -f2; }
check "attendance: 应到 8 已签到 5 缺考 3 已交卷 1 自动交卷 4 换座 1 情况记录 1 ($(tr '\n' ' ' <"$tmp/attendance.txt"))" \
    test "$(count 应到)/$(count 已签到)/$(count 缺考)/$(count 已交卷)/$(count 自动交卷)/$(count 换座)/$(count 情况记录)" = "8/5/3/1/4/1/1"
check "attendance: the incident with its seat, ticket and name" \
    grep -q "^20[0-9-]* [0-9:]*,$(st 2),$(tk 2),[^,]*,考生使用手机，已制止\$" "$tmp/attendance.txt"

# ---- HTML ----
for k in signin scores attendance; do
    $R report $k --session S1 --format html >"$tmp/$k.html"
    check "$k.html: A4, a repeating head, rows kept whole, no script" \
        sh -c "grep -q '@page { size: A4;' '$tmp/$k.html' && grep -q '<thead>' '$tmp/$k.html' && grep -q 'break-inside: avoid' '$tmp/$k.html' && ! grep -qi '<script' '$tmp/$k.html'"
    check "$k.html: plan, room and session in its head" grep -q "考场 R01（第1考场）　场次 S1" "$tmp/$k.html"
done
for k in signin scores; do
    check "$k.html: the proctor's signature line" grep -q '监考员签名' "$tmp/$k.html"
done
check "signin.html: 8 photos as data: URIs" test "$(grep -o '<img alt="" src="data:image/jpeg;base64,' "$tmp/signin.html" | wc -l)" -eq 8
check "signin.html: no whole ID number" sh -c "for i in 1 2 3 4 5 6 7 8; do ! grep -q \"\$(grep \"^\$(sed -n \${i}p '$tmp/s1' | cut -d' ' -f1),\" '$tmp/plan/candidates.csv' | head -1 | cut -d, -f5)\" '$tmp/signin.html' || exit 1; done"

# --output: the same bytes, written whole.
expect 0 "签到表已写入" $R report signin --session S1 --output "$tmp/out.csv"
check "--output: the same bytes as stdout" cmp -s "$tmp/out.csv" "$tmp/signin.csv"
expect 1 "无法写入" $R report signin --session S1 --output "$tmp/no/such/dir/x.csv"

# Errors: each with its words.
expect 1 "本考场没有场次“S9”" $R report signin --session S9
expect 2 "signin（签到表）、scores（成绩报表）或 attendance（考勤表）" $R report seats --session S1
expect 2 "只能是 csv 或 html" $R report scores --session S1 --format pdf
expect 2 "请用 --session 指定场次" $R report scores
expect 2 "用法" $R report scores --session S1 --frob x

# ---- the admin route ----
serve_at 6200
admin=$(cat "$tmp/room/admin-token")
curl -s -D "$tmp/h" -o "$tmp/route.csv" -H "Authorization: Bearer $admin" "$u/admin/v1/reports/scores?session=S1&format=csv"
check "route: the CLI's bytes" cmp -s "$tmp/route.csv" "$tmp/scores.csv"
check "route: 200, text/csv, a file name, no-store" \
    sh -c "grep -q '^HTTP/1.1 200' '$tmp/h' && grep -qi '^Content-Type: text/csv' '$tmp/h' && grep -qi '^Content-Disposition: attachment; filename=\"scores-S1.csv\"' '$tmp/h' && grep -qi '^Cache-Control: no-store' '$tmp/h'"
curl -s -D "$tmp/h" -o "$tmp/route.html" -H "Authorization: Bearer $admin" "$u/admin/v1/reports/signin?session=S1&format=html"
check "route: the HTML page, under a CSP without script" \
    sh -c "cmp -s '$tmp/route.html' '$tmp/signin.html' && grep -i '^Content-Security-Policy:' '$tmp/h' | grep -q \"default-src 'none'; style-src 'unsafe-inline'; img-src data:;\" && ! grep -i '^Content-Security-Policy:' '$tmp/h' | grep -q script"
pt=$(curl -s -X POST -H 'Content-Type: application/json' --data '{"password":"console-pass-7"}' "$u/api/v1/proctor/login" | field proctor_token)
code() { curl -s -o "$tmp/body" -w '%{http_code}' ${2:+-H "Authorization: Bearer $2"} "$u$1"; }
check "route: a proctor login may" test "$(code "/admin/v1/reports/attendance?session=S1" "$pt")" = 200
check "route: the default format is CSV" sh -c "cmp -s '$tmp/body' '$tmp/attendance.csv'"
check "route: a terminal's token may not" test "$(code "/admin/v1/reports/signin?session=S1" "$(pair 31)")" = 403
check "route: a candidate's token may not" test "$(code "/admin/v1/reports/signin?session=S1" "$(cat "$tmp/token-1")")" = 403
check "route: nobody may not" test "$(code "/admin/v1/reports/signin?session=S1")" = 403
check "route: no such session: 404 in words" sh -c "[ $(code "/admin/v1/reports/signin?session=S9" "$admin") = 404 ] && grep -q '没有这个场次' '$tmp/body'"
check "route: no session given: 404" test "$(code "/admin/v1/reports/signin" "$admin")" = 404
check "route: no such report: 404 in words" sh -c "[ $(code "/admin/v1/reports/seats?session=S1" "$admin") = 404 ] && grep -q '没有这种报表' '$tmp/body'"
check "route: no such format: 400 in words" sh -c "[ $(code "/admin/v1/reports/scores?session=S1&format=pdf" "$admin") = 400 ] && grep -q 'csv 或 html' '$tmp/body'"
check "route: POST is not a method of it" test "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $admin" "$u/admin/v1/reports/scores?session=S1")" = 405
finish
