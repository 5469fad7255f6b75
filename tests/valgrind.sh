#!/bin/sh
# Memcheck (valgrind) over the release build, where ASan cannot look: the
# optimised code the package ships. Every cmocka program (their error paths:
# bad input, a full disk, a store closed mid-batch, a cancelled upload), the
# command-line contract and the HTTP API's test run under it; an invalid
# read or write, a use of uninitialised memory or a leak that nothing points
# to fails the test.
#   valgrind.sh VALGRIND EXAMROOM EXAMCENTER CMOCKA_PROGRAM...
set -u
vg=$1 room=$2 center=$3
shift 3
tmp=$(mktemp -d /tmp/examroom-valgrind-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
opts="-q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
--show-leak-kinds=definite"
failed=0

for unit in "$@"; do
    name=$(basename "$unit")
    started=$(date +%s)
    # shellcheck disable=SC2086
    if "$vg" $opts "$unit" >"$tmp/$name.log" 2>&1; then
        echo "ok   $name under memcheck ($(($(date +%s) - started)) s)"
    else
        echo "FAIL $name under memcheck: exit $?"
        cat "$tmp/$name.log"
        failed=1
    fi
done

# Scripts of the suite with both programs under memcheck: the CLI contract
# (usage errors, refused codes, an uninitialised room) and the room's web
# side (tests/e2e/web.sh: the pages, refused paths and methods, tokens of
# the wrong kind, the console's calls and live feed, a sign-in, an answer),
# through wrappers named as the programs (cli.sh checks
# --version's first word), each failing with 99 on a memcheck error, its
# report in a file per process.
mkdir "$tmp/bin"
for prog in "$room" "$center"; do
    cat >"$tmp/bin/$(basename "$prog")" <<EOF
#!/bin/sh
exec "$vg" $(echo $opts) --log-file="$tmp/vg.%p.log" "$prog" "\$@"
EOF
    chmod +x "$tmp/bin/$(basename "$prog")"
done
for script in cli/cli.sh e2e/web.sh; do
    started=$(date +%s)
    if sh "$(dirname "$0")/$script" "$tmp/bin/$(basename "$room")" \
        "$tmp/bin/$(basename "$center")" >"$tmp/script.log" 2>&1; then
        echo "ok   $script with both programs under memcheck ($(($(date +%s) - started)) s)"
    else
        echo "FAIL $script with both programs under memcheck"
        cat "$tmp/script.log"
        failed=1
    fi
done
for f in "$tmp"/vg.*.log; do
    [ -s "$f" ] || continue
    echo "memcheck report ($f):"
    cat "$f"
    failed=1
done
exit "$failed"
