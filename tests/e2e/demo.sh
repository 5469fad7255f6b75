#!/bin/sh
# make demo: the exam-day flow on loopback, as far as it exists, with the
# reference center and a generated plan. Each later part of the flow (unlock,
# sign-in and answers, submit, sync, score reports) is added here as it lands.
#   demo.sh BUILD_DIR
set -eu
build=${1:-build/release}
room=$build/agent/examroom
center=$build/center/examcenter
demo=$(pwd)/demo-data
pid=""

tmp=$demo
. "$(dirname "$0")/../lib.sh"
step() { printf '\n==== %s ====\n' "$*"; }
stop() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; }
trap stop EXIT

rm -rf "$demo"
mkdir -p "$demo"
C="$center --data $demo/center"
R="$room --data $demo/room"

step "考试中心：初始化（密钥、测试 CA、本机证书）"
$C init
step "考试中心：生成并导入一个模拟考试计划（40 名考生，2 个考场，1 小时后开考）"
$C plan sample "$demo/plan" --candidates 40 --rooms 2 --start-in 60
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

step "考场：初始化（固定考试中心公钥和 CA）"
$R init --center "$url" --center-key "$demo/center/center-key.pub" \
    --center-ca "$demo/center/ca.pem" --name "第一考场服务器"
step "考场：用注册码注册"
$R register "$serial"
step "考试中心：为已注册的考场生成试卷包"
$C pack
step "考场：下载并校验试卷包"
$R fetch
step "考场：离线复核试卷包"
$R verify
step "考场：状态"
$R status
printf '\n演示数据在 %s（可删除）。\n' "$demo"
