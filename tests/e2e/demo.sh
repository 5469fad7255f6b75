#!/bin/sh
# make demo: the exam-day flow on loopback with the reference center and a
# generated plan: register, fetch, the session key at start time, terminals
# paired, candidates signing in and answering (simulated with curl), submit,
# sync, and the room's and the center's score reports. So as not to wait for
# the clock, the room's exam clock is moved forward (EXAMROOM_CLOCK_OFFSET)
# once the candidates have signed in.
# The demo is also a test (e2e_demo): every candidate's score computed here
# from the papers' keys must equal the room's and the center's, or it fails.
# At the end it prints the terminal's and the console's URLs and the proctor
# password (set at init); with KEEP=1 (make demo KEEP=1) the room's daemon
# and the center are left running for a person to open those pages, with
# the `kill` line that stops them.
#   [DEMO_DIR=DIR] [KEEP=1] demo.sh BUILD_DIR
set -eu
build=${1:-build/release}
room=$build/agent/examroom
center=$build/center/examcenter
demo=${DEMO_DIR:-$(pwd)/demo-data}
keep=${KEEP:-}
[ "$keep" = 0 ] && keep=""
password=kaochang-2026
pid="" rpid=""

tmp=$demo
. "$(dirname "$0")/../lib.sh"
step() { printf '\n==== %s ====\n' "$*"; }
stop_room() { [ -n "$rpid" ] && kill "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null || true; rpid=""; }
stop() {
    stop_room
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
}
trap stop EXIT

rm -rf "$demo"
mkdir -p "$demo"
C="$center --data $demo/center"
R="$room --data $demo/room"

step "考试中心：初始化（密钥、测试 CA、本机证书）"
$C init
step "考试中心：生成并导入一个模拟考试计划（80 名考生，2 个考场，10 分钟后开考）"
$C plan sample "$demo/plan" --candidates 80 --rooms 2 --start-in 10
$C plan import "$demo/plan"
step "考试中心：为第一考场签发注册码"
serial=$($C serial issue --room R01)
echo "$serial"
step "考试中心：启动 HTTPS 服务"
$C serve --listen 127.0.0.1:0 >"$demo/serve.out" 2>"$demo/serve.log" &
pid=$!
port=$(wait_ready "$demo/serve.out")
cat "$demo/serve.out"
url="https://localhost:$port"

step "考场：初始化（固定考试中心公钥和 CA，监考密码 $password）"
echo "$password" >"$demo/proctor-password.txt"
$R init --center "$url" --center-key "$demo/center/center-key.pub" \
    --center-ca "$demo/center/ca.pem" --name "第一考场服务器" \
    --proctor-password-file "$demo/proctor-password.txt"
step "考场：用注册码注册"
$R register "$serial"
step "考试中心：为已注册的考场生成试卷包"
$C pack
step "考场：下载并校验试卷包"
$R fetch
step "考场：离线复核试卷包"
$R verify

# serve_at OFFSET: the room's daemon, its exam clock OFFSET seconds ahead.
serve_at() {
    stop_room
    : >"$demo/room.out"
    EXAMROOM_CLOCK_OFFSET=$1 $R serve --listen 127.0.0.1:0 >"$demo/room.out" 2>>"$demo/room.log" &
    rpid=$!
    u="http://127.0.0.1:$(wait_ready "$demo/room.out")"
}
# api METHOD PATH TOKEN [BODY]: a terminal's call; the body on stdout.
api() {
    curl -s -X "$1" -H "Authorization: Bearer $3" -H 'Content-Type: application/json' \
        ${4:+--data "$4"} "$u$2"
}
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }

step "考场：启动考场服务（后台上传成绩、开考前领取场次密钥）"
serve_at 0
cat "$demo/room.out"
for _ in $(seq 100); do
    $R status | grep -q "场次 S1: 已解锁" && break
    sleep 0.1
done
$R status

step "考场：考生机配对（每个座位一台，由监考老师批准）"
$R roster --format csv | tail -n +2 | cut -d, -f6 | sort -un >"$demo/seat-list"
while read -r seat; do
    asked=$(api POST /api/v1/terminals "")
    code=$(echo "$asked" | field pairing_code)
    $R pair approve "$code" --seat "$seat" >/dev/null
    api GET "/api/v1/terminals/$code" "$(echo "$asked" | field pairing_secret)" |
        field terminal_token >"$demo/terminal-$seat"
done <"$demo/seat-list"
$R pair list | head -4
echo "……共 $(wc -l <"$demo/seat-list") 台"

# answer ITEM TYPE TICKET: the answer a simulated candidate gives, by a rule
# from the ticket so that scores vary.
answer() {
    salt=$(echo "$3" | cut -c16)
    case $2 in
    single) echo "A B C D" | cut -d' ' -f$(((salt + $1) % 4 + 1)) ;;
    multiple) echo "AB ABD BC ACD" | cut -d' ' -f$(((salt + $1) % 4 + 1)) ;;
    *) [ $(((salt + $1) % 2)) -eq 0 ] && echo T || echo F ;;
    esac
}

# session S START_OFFSET: its candidates sign in at their seats, then (the
# exam clock moved 31 minutes past the start) answer every item and submit.
session() {
    $R roster --session "$1" --format csv | tail -n +2 | cut -d, -f1,6 | tr , ' ' >"$demo/seats-$1"
    step "考生（场次 $1）：在各自座位用准考证号和身份证号签到"
    serve_at $(($2 - 600))
    while read -r ticket seat; do
        id=$(grep "^$ticket," "$demo/plan/candidates.csv" | cut -d, -f5)
        api POST /api/v1/signin "$(cat "$demo/terminal-$seat")" \
            "{\"ticket\":\"$ticket\",\"id_number\":\"$id\"}" >"$demo/signin-$ticket"
        printf '%s %s 号座位：%s\n' "$ticket" "$seat" "$(field name <"$demo/signin-$ticket")"
    done <"$demo/seats-$1"
    step "考场：开考 31 分钟后（演示中把考场时钟拨快），场次 $1 的考生作答并交卷"
    serve_at $(($2 + 1860))
    n=0
    while read -r ticket seat; do
        token=$(field candidate_token <"$demo/signin-$ticket")
        api GET /api/v1/exam "$token" | tr -d '\n' >"$demo/exam-$ticket"
        grep -o '"id":"[^"]*","type":"[a-z]*"' "$demo/exam-$ticket" | while IFS='"' read -r _ _ _ item _ _ _ type _; do
            api PUT "/api/v1/answers/$item" "$token" \
                "{\"answer\":\"$(answer "$item" "$type" "$ticket")\",\"rev\":1}" >/dev/null
        done
        api POST /api/v1/submit "$token" | grep -q '"state":"submitted"' && n=$((n + 1))
    done <"$demo/seats-$1"
    echo "已交卷 $n 人"
}

# start S: seconds from now to session S's start.
start() {
    echo $(($($R status --json | tr -d ' \n' |
        sed -n "s/.*\"$1\":{\"state\":\"[a-z]*\",\"starts_at\":\([0-9]*\).*/\1/p") - $(date +%s)))
}

session S1 "$(start S1)"

step "考场：S2 下午才开考，中心此时不发密钥：监考老师电话获取开考密码，离线解锁"
code=$($C unlock-code --session S2)
echo "开考密码：$code"
$R unlock S2 "$code"
session S2 "$(start S2)"

step "考场：上传成绩，直到考试中心全部确认"
$R sync --wait
step "考场的成绩（examroom roster）"
$R roster
step "考试中心收到的成绩（examcenter scores）"
$C scores

step "核对：按试卷标准答案独立计算每位考生的成绩，与考场和考试中心的成绩比对"
$C scores --format csv | tail -n +2 | cut -d, -f3,7 >"$demo/center-scores"
# The room's scores as a program reads them (roster --format json).
$R roster --format json | tr -d '\n' | tr '}' '\n' | while read -r entry; do
    t=$(echo "$entry" | sed -n 's/.*"ticket": *"\([0-9]*\)".*/\1/p')
    s=$(echo "$entry" | sed -n 's/.*"score": *\([0-9]*\).*/\1/p')
    [ -z "$t" ] || echo "$t,$s"
done >"$demo/room-scores"
bad=0 total=0
for paper in "$demo"/plan/papers/*.json; do
    occ=$(tr -d '\n ' <"$paper" | sed -n 's/.*"occupation":"\([^"]*\)".*/\1/p' | head -1)
    # id type key points, one item a line
    tr -d '\n ' <"$paper" | grep -o '"id":"[^"]*","type":"[a-z]*"[^}]*}[^}]*}' |
        sed 's/"id":"\([^"]*\)","type":"\([a-z]*\)".*"key":"\([A-Z]*\)","points":\([0-9]*\).*/\1 \2 \3 \4/' \
            >"$demo/keys-$occ"
done
while IFS=, read -r ticket score; do
    occ=$(grep "^$ticket," "$demo/plan/candidates.csv" | head -1 | cut -d, -f6)
    want=0
    while read -r item type key points; do
        [ "$(answer "$item" "$type" "$ticket")" = "$key" ] && want=$((want + points))
    done <"$demo/keys-$occ"
    room_score=$(grep "^$ticket," "$demo/room-scores" | cut -d, -f2)
    total=$((total + 1))
    if [ "$score" != "$want" ] || [ "$room_score" != "$want" ]; then
        bad=$((bad + 1))
        echo "不一致：$ticket 独立计算 $want，考场 $room_score，考试中心 $score"
    fi
done <"$demo/center-scores"
echo "核对 $total 人：不一致 $bad 人"
if [ "$total" -ne 40 ] || [ "$(wc -l <"$demo/room-scores")" -ne 40 ] || [ "$bad" -ne 0 ]; then
    echo "FAIL: 40 candidates wanted, each with the same score three ways"
    exit 1
fi

step "考场：状态"
$R status

step "浏览器中查看"
# The console's login takes the password printed below.
if ! curl -s -X POST -H 'Content-Type: application/json' --data "{\"password\":\"$password\"}" \
    "$u/api/v1/proctor/login" | grep -q '"proctor_token"'; then
    echo "FAIL: the proctor password $password does not log in to the console"
    exit 1
fi
echo "考生终端：$u/"
echo "监考台：  $u/proctor （监考密码：$password）"
if [ -n "$keep" ]; then
    trap - EXIT
    echo "考场服务（进程 $rpid）和考试中心（进程 $pid）仍在运行；看完后停止："
    echo "  kill $rpid $pid"
    echo "（演示中考场时钟已拨快，页面显示的是开考 31 分钟后的考场。）"
else
    echo "演示结束时考场服务和考试中心已停止；要在浏览器中打开上面的页面，请运行 make demo KEEP=1。"
fi
printf '\n演示数据在 %s（可删除）。\n' "$demo"
