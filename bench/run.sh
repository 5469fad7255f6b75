#!/bin/sh
# make bench: runs every benchmark against the given build and prints each
# figure beside its baseline from the same run. Copy the table into
# docs/benchmarks.md with the date and the machine.
#   run.sh BUILD_DIR
set -eu
build=${1:-build/release}
echo "# examroom benchmarks, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -m)"
"$build/bench/bench_input"
