#!/bin/sh
# make bench: runs every benchmark program (bench_*) of the given build; each
# prints its figures beside its baseline from the same run, as a markdown
# table. Copy them into docs/benchmarks.md with the date and the machine.
#   run.sh BUILD_DIR
set -eu
build=${1:-build/release}
echo "# examroom benchmarks, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -m)"
for b in "$build"/bench/bench_*; do
    [ -x "$b" ] || continue
    "$b"
done
# Benchmarks that drive whole programs are scripts beside this one.
for s in "$(dirname "$0")"/bench_*.sh; do
    [ -x "$s" ] || continue
    "$s" "$build"
done
