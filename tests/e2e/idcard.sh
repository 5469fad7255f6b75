#!/bin/sh
# Door check-in with an ID card reader (issue 14), against the simulated
# reader on a pty (tests/idcard/simreader.c) and a room served with
# --id-reader and --require-checkin: cards on the roster checked in with
# their seat; a card of another session, one of nobody on the roster, one
# whose name differs from the roster (checked in, and an incident with the
# card's data); a reader answering with bad checksums (nothing read, the
# reader shown in error, then fine again), with split and merged frames and
# with noise between them; the reader pulled out (pty closed) and plugged
# back. Then every candidate checked in at the door signs in at their seat,
# and the one who skipped the door is refused with its own message. The
# daemon never stops, and stops cleanly at the end.
#   idcard.sh EXAMROOM EXAMCENTER SIMREADER SQLQ
set -u
room=$1 center=$2 simreader=$3 sqlq=$4
. "$(dirname "$0")/../lib.sh"
scratch idcard
spid="" stop_pids="rpid spid cpid"
cleanup() {
    [ "${fail:-0}" -gt 0 ] && [ -f "$tmp/room.log" ] && tail -n 40 "$tmp/room.log"
    scratch_cleanup
}
trap cleanup EXIT

# ctl LINE...: what the simulated reader does from now (the whole file).
ctl() {
    printf '%s\n' "$@" >"$tmp/ctl.new" && mv "$tmp/ctl.new" "$tmp/ctl"
}

# wait_log PATTERN [SECONDS]: the daemon's log has a line matching PATTERN.
wait_log() {
    for _ in $(seq $((${2:-10} * 10))); do
        grep -q -- "$1" "$tmp/room.log" && return 0
        sleep 0.1
    done
    return 1
}

# card NAME ID OUTCOME PATTERN: the card put on the reader gives OUTCOME
# with a text matching PATTERN (the door's log line), within 10 s.
card() {
    ctl "card=$1|$2" "mode=${mode:-normal}"
    check "card $1 $2 (${mode:-normal}) -> $3 $4" wait_log "door $tmp/reader0: $3: .*$4"
}

# field N of candidates.csv for the Mth line matching PATTERN.
cand() { grep "$1" "$tmp/plan/candidates.csv" | sed -n "${2}p" | cut -d, -f"$3"; }

center_and_room --candidates 30 --rooms 1 --start-in 10
$C pack >/dev/null && $R fetch >/dev/null || exit 1

ctl "mode=normal"
"$simreader" "$tmp/reader0" "$tmp/ctl" >"$tmp/sim.log" 2>&1 &
spid=$!
for _ in $(seq 50); do [ -L "$tmp/reader0" ] && break; sleep 0.1; done
: >"$tmp/room.out"
echo "not a serial port" >"$tmp/notatty"
$R serve --listen 127.0.0.1:0 --id-reader "$tmp/reader0" --id-reader "$tmp/missing,$tmp/notatty" \
    --require-checkin >"$tmp/room.out" 2>"$tmp/room.log" &
rpid=$!
port=$(wait_ready "$tmp/room.out")
u="http://127.0.0.1:$port"
check "the reader is opened and its SAM reset" wait_log "id reader $tmp/reader0: connected"
check "a reader that is not there is shown absent, and the daemon serves" \
    wait_log "id reader $tmp/missing: absent (未连接：找不到设备"
check "a device that is not a serial port is refused, and says so" \
    wait_log "id reader $tmp/notatty: error (设备 $tmp/notatty 不是串口"

line=',居民身份证,.*,S1,R01,[0-9]'
n=$(grep -c "$line" "$tmp/plan/candidates.csv")
check "the plan has the candidates this test needs ($n)" test "$n" -ge 10

# Cards on the roster: the seat at the door, in every way the reader may
# deliver its frames.
i=1
for m in normal normal split merged garbage; do
    mode=$m card "$(cand "$line" $i 2)" "$(cand "$line" $i 5)" checked_in \
        "第 $(cand "$line" $i 10) 号座位：$(cand "$line" $i 2)（准考证号 $(cand "$line" $i 1)"
    i=$((i + 1))
done
check "noise between frames was skipped and counted" \
    sh -c "curl -s -H 'Authorization: Bearer $(cat "$tmp/room/admin-token")' \
        '$u/admin/v1/room' | grep -q '\"device\":\"$tmp/reader0\"[^]]*\"garbage\":[1-9]'"

# The same card again (taken away and put back): told, nothing written again.
ctl "mode=normal"
sleep 1
card "$(cand "$line" 1 2)" "$(cand "$line" 1 5)" again "已于 .* 核验过"

# A card of the later session; a card of nobody on this room's roster.
s2=',居民身份证,.*,S2,R01,'
card "$(cand "$s2" 1 2)" "$(cand "$s2" 1 5)" other_session "不是本场次的考生：其场次为 S2"
card "外考场" 11010519491231002X not_on_roster "不在本考场的考生名单上"
card "坏号码" 110105194912310021 bad_card "身份证号码无法识别（110105194912310021）"

# A card whose name differs from the roster: checked in by its ID number,
# and an incident with the card's data for the center.
card "冒名者" "$(cand "$line" $i 5)" mismatch "证件信息与名单不符：姓名 冒名者（名单 $(cand "$line" $i 2)）"
expect 0 "证件信息与名单不符：姓名 冒名者（名单 $(cand "$line" $i 2)）" $R roster --incidents
i=$((i + 1))

# Bad checksums: nothing is read, the reader is shown in error; then fine.
bad_name=$(cand "$line" $i 2) bad_id=$(cand "$line" $i 5)
ctl "card=$bad_name|$bad_id" "mode=badsum"
check "a reader answering with bad checksums is shown in error" \
    wait_log "id reader $tmp/reader0: error (阅读器的应答已损坏（校验错误"
check "... and nothing of that card was read" sh -c "! grep -q 'door .*$bad_id\|door .*$bad_name' '$tmp/room.log'"
card "$bad_name" "$bad_id" checked_in "第 $(cand "$line" $i 10) 号座位"
i=$((i + 1))

# Pulled out (the pty closed), then plugged back with a card on it.
ctl "plugged=0"
check "a reader pulled out is shown absent" wait_log "id reader $tmp/reader0: absent (阅读器已断开"
expect 0 "身份证阅读器 $tmp/reader0: 阅读器已断开" $R status
sleep 1.5
ctl "plugged=1" "card=$(cand "$line" $i 2)|$(cand "$line" $i 5)"
check "plugged back, it is opened again" wait_log "id reader $tmp/reader0: opened" 5
card "$(cand "$line" $i 2)" "$(cand "$line" $i 5)" checked_in "第 $(cand "$line" $i 10) 号座位"
checked=$i
expect 0 "身份证阅读器 $tmp/reader0: 已连接" $R status
expect 0 "已核验 [0-9][0-9]:[0-9][0-9]" $R roster
check "status --json has the readers" sh -c "$R status --json | grep -q '\"bad_checksum\": [1-9]'"

# --require-checkin: everyone checked in at the door signs in at their seat;
# the one who skipped the door is refused, with its own message.
signin() {
    curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $1" \
        -H 'Content-Type: application/json' \
        --data "{\"ticket\":\"$2\",\"id_number\":\"$3\"}" "$u/api/v1/signin"
}
for k in $(seq 1 $((checked + 1))); do
    t=$(pair "$(cand "$line" "$k" 10)")
    got=$(signin "$t" "$(cand "$line" "$k" 1)" "$(cand "$line" "$k" 5)")
    if [ "$k" -le "$checked" ]; then
        check "checked in at the door, candidate $k signs in (got $got)" test "$got" = 200
    else
        check "candidate $k skipped the door: refused (got $got: $(cat "$tmp/body"))" sh -c \
            "[ '$got' = 403 ] && grep -q '\"error\":\"not_checked_in\"' '$tmp/body' &&
             grep -q '请先到考场门口刷身份证核验' '$tmp/body'"
    fi
done

# The mismatch reaches the center with the card's data (the background
# upload looks every 10 s).
cdb=$(ls "$tmp/center/"*.db | head -1)
mismatch_at_center() {
    for _ in $(seq 200); do
        $sqlq "$cdb" "SELECT CAST(payload AS TEXT) FROM events WHERE kind = 'incident'" \
            2>/dev/null | grep '"reason":"candidate_info_mismatch"' | grep '"card":{' |
            grep -q '"name":"冒名者"' && return 0
        sleep 0.1
    done
    return 1
}
check "the mismatch, with the card's data, reached the center" mismatch_at_center

check "the daemon never stopped" kill -0 "$rpid"
kill "$rpid"
wait "$rpid"
check "and stops cleanly (exit $?)" test $? -eq 0
rpid=""
finish
