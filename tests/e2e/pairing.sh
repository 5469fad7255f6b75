#!/bin/sh
# Pairing the room's computers (issue 7, first part): a terminal asks and
# polls; the proctor approves it to a seat through the local admin channel;
# the terminal gets its token once; the admin calls refuse anything but the
# admin token on loopback or a proctor token from a login with the proctor
# password set at init (wrong passwords held off after five).
#   pairing.sh EXAMROOM EXAMCENTER
set -u
room=$1 center=$2
. "$(dirname "$0")/../lib.sh"
scratch pairing
pw='监考-Proctor-2026'
echo "$pw" >"$tmp/pw"
room_init_args="--proctor-password-file $tmp/pw"
center_and_room --candidates 40 --rooms 2 --start-in 60
$C pack >/dev/null && $R fetch >/dev/null || exit 1

expect 1 "考场服务没有运行" $R pair list
$R serve --listen 127.0.0.1:0 >"$tmp/room.out" 2>"$tmp/room.log" &
rpid=$!
u="http://127.0.0.1:$(wait_ready "$tmp/room.out")"
# ask: a terminal asks; prints its code, and notes the pairing secret it
# was answered (secret_of CODE) in $tmp/secrets.
ask() {
    curl -s -X POST "$u/api/v1/terminals" >"$tmp/asked"
    c=$(sed -n 's/.*"pairing_code":"\([^"]*\)".*/\1/p' "$tmp/asked")
    echo "$c $(sed -n 's/.*"pairing_secret":"\([0-9a-f]*\)".*/\1/p' "$tmp/asked")" >>"$tmp/secrets"
    echo "$c"
}
secret_of() { awk -v c="$1" '$1 == c { print $2 }' "$tmp/secrets"; }
# poll CODE [CURL ARGS...]: the terminal's poll, with its secret.
poll() {
    c=$1
    shift
    curl -s -H "Authorization: Bearer $(secret_of "$c")" "$@" "$u/api/v1/terminals/$c"
}
status_of() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
# A code as a grep pattern: its check symbol may be * or $.

code=$(ask)
check "a terminal gets a pairing code ($code)" test -n "$code"
check "and a pairing secret (64 hex digits)" \
    sh -c "[ \$(printf %s '$(secret_of "$code")' | grep -c '^[0-9a-f]\{64\}\$') = 1 ]"
check "while pending, polling with the secret answers 202" \
    test "$(poll "$code" -o /dev/null -w '%{http_code}')" = 202
# Without the secret (or with another), a code is as unknown as one that
# was never given: same status, same body.
curl -s -w ' %{http_code}' "$u/api/v1/terminals/K7M2-9QF" >"$tmp/unknown"
curl -s -w ' %{http_code}' --interface 127.0.0.9 "$u/api/v1/terminals/$code" >"$tmp/nosecret"
curl -s -w ' %{http_code}' -H "Authorization: Bearer $(printf '0%.0s' $(seq 64))" \
    "$u/api/v1/terminals/$code" >"$tmp/badsecret"
check "an unknown code: 404" grep -q ' 404$' "$tmp/unknown"
check "a pending code without its secret: the same answer ($(cat "$tmp/nosecret"))" cmp -s "$tmp/unknown" "$tmp/nosecret"
check "with another secret: the same answer" cmp -s "$tmp/unknown" "$tmp/badsecret"
expect 0 "$(rx "$code") *考生机 *待批准" $R pair list
# The proctor types the code from the screen: case does not matter.
expect 0 "终端为 2 号座位" $R pair approve "$(echo "$code" | tr 'A-Z' 'a-z')" --seat 2
check "approved, another PC polling the code without the secret gets no token (404)" \
    test "$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.9 "$u/api/v1/terminals/$code")" = 404
poll "$code" >"$tmp/token.json"
check "the terminal that asked gets its token and seat" grep -q '"terminal_token":"[0-9a-f]\{64\}","seat":2' "$tmp/token.json"
check "only once: then 410" test "$(poll "$code" -o /dev/null -w '%{http_code}')" = 410
# Polls are limited per address: 120 a minute (a terminal polls every 1-2 s).
polls=$(for _ in $(seq 121); do
    curl -s -o /dev/null -w '%{http_code}\n' --interface 127.0.0.10 "$u/api/v1/terminals/K7M2-9QF"
done | sort | uniq -c | tr -s ' \n' ' ')
check "121 polls in a row from one PC: 120 answered, then 429 ($polls)" \
    test "$polls" = " 120 404 1 429 "
expect 0 "$(rx "$code") *考生机 *已配对 *2" $R pair list
expect 0 "\"pairing_code\": \"$(rx "$code")\"" $R pair list --json
$R pair list --json >"$tmp/list.json"
check "pair list --json: the code approved, at seat 2" \
    sh -c "tr -d ' \n' <'$tmp/list.json' | grep -q '\"pairing_code\":\"$(rx "$code")\",\"state\":\"approved\",\"seat\":2'"

# Another code onto a taken seat: refused; without --seat, the lowest free one.
code2=$(ask)
expect 1 "该座位已有配对的终端" $R pair approve "$code2" --seat 2
expect 0 "终端为 1 号座位" $R pair approve "$code2"
# The check symbol changed (to Z, or to Y when it is Z: 1 code in 37).
wrong=Z
[ "$(echo "$code2" | cut -c8)" = Z ] && wrong=Y
expect 1 "校验位不符" $R pair approve "$(echo "$code2" | cut -c1-7)$wrong"
expect 1 "没有待批准的这个配对码" $R pair approve "$code2" --seat 5

# Codes whose check symbol is one of * ~ $ = go through too (5 in 37 codes).
odd=""
for _ in $(seq 80); do
    c=$(ask)
    case "$c" in *'*' | *'~' | *'$' | *'=') odd=$c && break ;; esac
done
check "a code with a check-only symbol came up ($odd)" test -n "$odd"
expect 0 "终端为 7 号座位" $R pair approve "$odd" --seat 7

# The admin channel: nothing but the admin token, on loopback.
token=$(sed -n 's/.*"terminal_token":"\([0-9a-f]*\)".*/\1/p' "$tmp/token.json")
check "admin calls refuse no token" test "$(status_of "$u/admin/v1/terminals")" = 403
check "admin calls refuse a terminal's token" \
    test "$(status_of -H "Authorization: Bearer $token" "$u/admin/v1/terminals")" = 403
check "admin calls take the admin token" \
    test "$(status_of -H "Authorization: Bearer $(cat "$tmp/room/admin-token")" "$u/admin/v1/terminals")" = 200
check "the admin token file is the room's alone (0600)" \
    test "$(stat -c %a "$tmp/room/admin-token")" = 600

# The proctor over the LAN: the password set at init gives a proctor token
# that the admin calls take (from any address; the admin token only on
# loopback); terminal tokens still get nothing.
login() {
    curl -s -o "$tmp/login" -w '%{http_code}' -H 'Content-Type: application/json' \
        --data "$1" "$u/api/v1/proctor/login"
}
# Logins are checked one at a time: a flood of them is turned away at once
# (429 busy) instead of queueing scrypt ahead of the store's commits, and
# guesses cannot run in parallel past the hold.
flooders=""
for _ in $(seq 12); do
    curl -s -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
        --data '{"password":"flood"}' "$u/api/v1/proctor/login" >>"$tmp/flood" &
    flooders="$flooders $!"
done
# shellcheck disable=SC2086
wait $flooders
check "12 logins at once: one checked, the others 429 ($(sort "$tmp/flood" | uniq -c | tr '\n' ' '))" \
    sh -c "[ \$(grep -c '^429' '$tmp/flood') -ge 8 ] && [ \$(grep -c '^401' '$tmp/flood') -le 2 ]"
# Until the one check is done, even an empty password gets 429 busy.
for _ in $(seq 100); do [ "$(login '{"password":""}')" = 400 ] && break; sleep 0.05; done
check "a wrong proctor password gets 401" test "$(login '{"password":"wrong-password"}')" = 401
check "which says so, in Chinese" grep -q '"error":"wrong_password","message":"监考密码不正确。"' "$tmp/login"
check "a login without a password gets 400" test "$(login '{"password":""}')" = 400
check "the proctor password gets a proctor token" test "$(login "{\"password\":\"$pw\"}")" = 200
check "typed with a full-width letter and spaces around, it is the same password" \
    test "$(login '{"password":" 监考-Ｐroctor-2026 "}')" = 200
check "the proctor password gets a proctor token" test "$(login "{\"password\":\"$pw\"}")" = 200
ptok=$(sed -n 's/.*"proctor_token":"\([0-9a-f]*\)".*/\1/p' "$tmp/login")
check "the token is 64 hex digits, good for 12 h" \
    sh -c "[ ${#ptok} -eq 64 ] && grep -q '\"expires_in\":43200' '$tmp/login'"
check "admin calls take the proctor token" \
    test "$(status_of -H "Authorization: Bearer $ptok" "$u/admin/v1/terminals")" = 200
c9=$(ask)
check "a proctor token approves a terminal" test "$(status_of -H "Authorization: Bearer $ptok" \
    --data '{"seat":9}' "$u/admin/v1/terminals/$c9/approve")" = 200
check "the terminal's token is still refused" \
    test "$(status_of -H "Authorization: Bearer $token" "$u/admin/v1/terminals")" = 403
check "logout ends the proctor token" \
    test "$(status_of -X POST -H "Authorization: Bearer $ptok" "$u/api/v1/proctor/logout")" = 200
check "which the admin calls refuse then" \
    test "$(status_of -H "Authorization: Bearer $ptok" "$u/admin/v1/terminals")" = 403
for _ in 1 2 3 4; do login '{"password":"guess"}' >/dev/null; done
check "five wrong passwords hold logins off, even the right one" \
    test "$(login "{\"password\":\"$pw\"}")" = 429
check "and say for how long" grep -q '请一分钟后再试' "$tmp/login"
check "the hold is logged for the proctor" grep -q "wrong passwords from one address, held off" "$tmp/room.log"
check "another computer (127.0.0.2) is not held: the proctor still logs in" \
    test "$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.2 -H 'Content-Type: application/json' \
        --data "{\"password\":\"$pw\"}" "$u/api/v1/proctor/login")" = 200

# Two computers whose addresses shared a slot of the old per-address table
# (127.0.0.5 and 127.0.0.69: 64 apart) guessing in turn: each is counted on
# its own and held after its fifth; the proctor at a third one still logs in.
login_from() {
    curl -s -o "$tmp/login" -w '%{http_code}' --interface "$1" -H 'Content-Type: application/json' \
        --data "{\"password\":\"$2\"}" "$u/api/v1/proctor/login"
}
guesses=""
for i in 1 2 3 4 5; do
    guesses="$guesses $(login_from 127.0.0.5 "guess-a$i") $(login_from 127.0.0.69 "guess-b$i")"
done
check "two computers guessing in turn get 401 five times each ($guesses)" \
    test "$(echo "$guesses" | tr ' ' '\n' | grep -c 401)" = 10
check "then 127.0.0.5 is held off" test "$(login_from 127.0.0.5 guess-a6)" = 429
check "and so is 127.0.0.69" test "$(login_from 127.0.0.69 guess-b6)" = 429
check "even with the right password" test "$(login_from 127.0.0.69 "$pw")" = 429
check "the proctor at 127.0.0.7 still logs in" test "$(login_from 127.0.0.7 "$pw")" = 200

# Pairing needs no token, so each computer may ask 10 times a minute (the
# server itself, 127.0.0.1, as often as it likes).
asked=""
for _ in $(seq 12); do
    asked="$asked $(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.3 -X POST "$u/api/v1/terminals")"
done
check "a computer asking 12 pairing codes in a row gets 10, then 429 ($asked)" \
    test "$(echo "$asked" | tr ' ' '\n' | grep -c 201)" = 10 -a "$(echo "$asked" | tr ' ' '\n' | grep -c 429)" = 2
check "another computer still gets its code" \
    test "$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.4 -X POST "$u/api/v1/terminals")" = 201
# Two computers 64 apart asking in turn: each gets its own 10.
asked=""
for _ in $(seq 12); do
    for a in 127.0.0.6 127.0.0.70; do
        asked="$asked $a:$(curl -s -o /dev/null -w '%{http_code}' --interface $a -X POST "$u/api/v1/terminals")"
    done
done
check "two computers asking in turn get 10 codes each, then 429 ($asked)" \
    test "$(echo "$asked" | tr ' ' '\n' | grep -c '127.0.0.6:201')" = 10 -a \
    "$(echo "$asked" | tr ' ' '\n' | grep -c '127.0.0.70:201')" = 10 -a \
    "$(echo "$asked" | tr ' ' '\n' | grep -c ':429')" = 4

head -c 20000 /dev/zero | tr '\0' 'x' >"$tmp/big"
# Smuggling's shapes are refused before any body is read.
for h in "-H Content-Length:5 -H Content-Length:7" "-H Transfer-Encoding:chunked -H Content-Length:5" \
    "-H Transfer-Encoding:chunked,identity"; do
    # shellcheck disable=SC2086
    check "ambiguous framing ($h) gets 400" \
        test "$(status_of -m 5 $h --data-binary abcdefg "$u/api/v1/signin")" = 400
done
check "an oversized body gets 413" \
    test "$(status_of -X POST --data-binary @"$tmp/big" "$u/api/v1/terminals")" = 413
# Asked first (Expect: 100-continue), a body said to be too large gets 413
# at once, never a "100 Continue" that invites it.
curl -sv -m 5 -o /dev/null -H 'Expect: 100-continue' -X POST --data-binary @"$tmp/big" \
    "$u/api/v1/signin" 2>"$tmp/expect.txt"
check "Expect: 100-continue with a body over 16 KiB: 413, no 100" \
    sh -c "grep -q '< HTTP/1.1 413' '$tmp/expect.txt' && ! grep -q '100 Continue' '$tmp/expect.txt'"

# Loose parsing: a seat number is the whole path part; a JSON key said twice
# is refused, not read as one of the two.
adm="Authorization: Bearer $(cat "$tmp/room/admin-token")"
check "revoking seat '2abc' is no seat (404), not seat 2" \
    test "$(status_of -X POST -H "$adm" "$u/admin/v1/seats/2abc/revoke")" = 404
check "nor is '02' or '+2'" test "$(status_of -X POST -H "$adm" "$u/admin/v1/seats/02/revoke")$(status_of -X POST -H "$adm" "$u/admin/v1/seats/+2/revoke")" = 404404
check "a login body with the password twice gets 400" \
    test "$(login_from 127.0.0.8 "x\",\"password\":\"$pw")" = 400
cdup=$(ask)
check "an approval with the seat twice gets 400" \
    test "$(status_of -H "$adm" --data '{"seat":11,"seat":12}' "$u/admin/v1/terminals/$cdup/approve")" = 400

expect 0 "已撤销 2 号座位" $R pair revoke 2
expect 1 "该座位没有已配对的终端" $R pair revoke 2
expect 0 "$(rx "$code") *考生机 *已撤销" $R pair list

# A second serve on the same data directory is refused, naming the running
# one's PID; the first keeps its admin files and answers its token; once it
# stops, a new one starts (below).
cp "$tmp/room/admin-token" "$tmp/admin-token.before"
cp "$tmp/room/admin-address" "$tmp/admin-address.before"
expect 1 "进程 $rpid 正在使用数据目录" $R serve --listen 127.0.0.1:0
check "which says what to do, in Chinese" grep -q '已有一个 examroom serve 在运行' "$tmp/out"
check "the running daemon's admin files are untouched" \
    sh -c "cmp -s '$tmp/room/admin-token' '$tmp/admin-token.before' && cmp -s '$tmp/room/admin-address' '$tmp/admin-address.before'"
check "and it still answers the proctor's commands with its token" \
    test "$(status_of -H "$adm" "$u/admin/v1/terminals")" = 200
check "the lock file is the room's alone (0600) and names the daemon" \
    sh -c "[ \$(stat -c %a '$tmp/room/serve.lock') = 600 ] && [ \$(cat '$tmp/room/serve.lock') = $rpid ]"

# Approved, then the daemon restarts before the terminal picks its token up:
# the pickup still works (the token is made at the pickup, its hash kept).
code3=$(ask)
expect 0 "终端为 3 号座位" $R pair approve "$code3" --seat 3
kill -TERM "$rpid" && wait "$rpid"
check "SIGTERM: exit 0" test $? -eq 0
: >"$tmp/room.out"
$R serve --listen 127.0.0.1:0 >"$tmp/room.out" 2>>"$tmp/room.log" &
rpid=$!
u="http://127.0.0.1:$(wait_ready "$tmp/room.out")"
poll "$code3" >"$tmp/token3.json"
check "after a restart the approved terminal gets its token" \
    grep -q '"terminal_token":"[0-9a-f]\{64\}","seat":3' "$tmp/token3.json"
token3=$(sed -n 's/.*"terminal_token":"\([0-9a-f]*\)".*/\1/p' "$tmp/token3.json")
check "and it is a terminal's token (a sign-in without fields: 400, not 401)" \
    test "$(status_of -H "Authorization: Bearer $token3" --data '{}' "$u/api/v1/signin")" = 400
check "once: then 410" test "$(poll "$code3" -o /dev/null -w '%{http_code}')" = 410

kill -TERM "$rpid" && wait "$rpid"
check "SIGTERM: exit 0" test $? -eq 0
rpid=""
finish
