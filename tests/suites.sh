#!/bin/sh
# make test's runner: the release (gcc) and the ASan/UBSan (clang) suites
# side by side, each through ctest, one test at a time within a suite. Most
# tests spend their time waiting (daemons, timers, a browser), so two at a
# time halve the wall time on a 2-core machine; each suite's output goes to
# its own log, printed whole once both are done.
# SAN_ENV (the Makefile's) is the ASan/UBSan suite's environment.
#   suites.sh BUILD_DIR [CTEST]
set -u
build=$1 ctest=${2:-ctest}

run() { # run NAME [ENV...]: ctest in $build/NAME, its log in $build/NAME-tests.log
    name=$1
    shift
    (cd "$build/$name" && env "$@" "$ctest" --output-on-failure) >"$build/$name-tests.log" 2>&1
}
started=$(date +%s)
run release &
rel=$!
# shellcheck disable=SC2086
run asan ${SAN_ENV:-} &
asn=$!
wait "$rel"
rel_rc=$?
wait "$asn"
asn_rc=$?
echo "== tests: release build (gcc) =="
cat "$build/release-tests.log"
echo "== tests: ASan/UBSan build (clang) =="
cat "$build/asan-tests.log"
echo "== both suites: $(($(date +%s) - started)) s; release exit $rel_rc, ASan/UBSan exit $asn_rc =="
[ "$rel_rc" -eq 0 ] && [ "$asn_rc" -eq 0 ]
