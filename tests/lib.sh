# Shared by the scripted tests (and the demo): sourced, never run. The
# sourcing script sets $tmp (a scratch directory), itself or with scratch,
# before it calls what uses it.

pass=0
fail=0

# scratch NAME: $tmp, a new scratch directory, with $cpid and $rpid empty;
# at exit (scratch_cleanup) each process whose pid is in one of the
# variables $stop_pids names (rpid cpid unless set) is stopped and waited
# for, in that order, and $tmp is removed. A script with more to undo has
# its own EXIT trap, which calls scratch_cleanup last.
scratch() {
    tmp=$(mktemp -d "/tmp/examroom-$1-XXXXXX")
    cpid="" rpid=""
    trap scratch_cleanup EXIT
}
scratch_cleanup() {
    for v in ${stop_pids:-rpid cpid}; do
        eval "p=\${$v:-}"
        [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    rm -rf "$tmp"
}

# expect STATUS PATTERN CMD...: CMD exits with STATUS and prints (stdout or
# stderr) a line matching PATTERN.
expect() {
    want=$1 pattern=$2
    shift 2
    "$@" >"$tmp/out" 2>&1
    got=$?
    if [ "$got" -eq "$want" ] && grep -q -- "$pattern" "$tmp/out"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $* -> exit $got (want $want), output:"
        sed 's/^/    /' "$tmp/out"
        echo "    (wanted a line matching: $pattern)"
    fi
}

# check WHAT CMD...: CMD succeeds; WHAT says what that shows.
check() {
    what=$1
    shift
    if "$@"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $what"
    fi
}

# wait_ready FILE [PID]: waits (30 s at most: a sanitized build on a loaded
# machine can take seconds to start; not once PID, the server, is gone) for
# the "listening on HOST:PORT" line a server writes to FILE, and prints PORT. A server started again empties FILE
# first (: >FILE): its own `>FILE` runs in the background, maybe after
# wait_ready has read the last server's line and port.
wait_ready() {
    for _ in $(seq 600); do
        grep -q 'listening on' "$1" 2>/dev/null && break
        [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null && break
        sleep 0.05
    done
    sed -n 's/.*:\([0-9]*\)$/\1/p' "$1"
}

# center_and_room PLAN_SAMPLE_ARGS...: a reference center ($C, data in
# $tmp/center) with a sample plan (examcenter plan sample "$tmp/plan" ARGS)
# imported and serving (pid $cpid), and a room ($R, data in $room_data, by
# default $tmp/room) initialised against it (with $room_init_args too) and
# registered as R01. Needs $room and $center (the two programs); exits on
# any failure.
center_and_room() {
    C="$center --data $tmp/center"
    R="$room --data ${room_data:-$tmp/room}"
    $C init >/dev/null || exit 1
    $C plan sample "$tmp/plan" "$@" >/dev/null || exit 1
    $C plan import "$tmp/plan" >/dev/null || exit 1
    serial=$($C serial issue --room R01)
    $C serve --listen 127.0.0.1:0 >"$tmp/center.out" 2>/dev/null &
    cpid=$!
    cport=$(wait_ready "$tmp/center.out")
    # shellcheck disable=SC2086
    $R init --center "https://localhost:$cport" --center-key "$tmp/center/center-key.pub" \
        --center-ca "$tmp/center/ca.pem" ${room_init_args:-} >/dev/null || exit 1
    $R register "$serial" >/dev/null || exit 1
}

# pair SEAT: a terminal paired to SEAT (the daemon at $u, approved with $R);
# prints its token.
pair() {
    asked=$(curl -s -X POST "$u/api/v1/terminals")
    code=$(echo "$asked" | sed -n 's/.*"pairing_code":"\([^"]*\)".*/\1/p')
    secret=$(echo "$asked" | sed -n 's/.*"pairing_secret":"\([0-9a-f]*\)".*/\1/p')
    $R pair approve "$code" --seat "$1" >/dev/null || return 1
    curl -s -H "Authorization: Bearer $secret" "$u/api/v1/terminals/$code" |
        sed -n 's/.*"terminal_token":"\([0-9a-f]*\)".*/\1/p'
}

# rx TEXT: TEXT as a grep pattern that matches it literally (a pairing
# code may hold '$', a masked ID number '*').
rx() { printf '%s' "$1" | sed 's/[]*$.^[\\]/\\&/g'; }

# finish: the closing line ctest and CI read, and the exit status.
finish() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
