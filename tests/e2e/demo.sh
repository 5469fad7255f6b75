#!/bin/sh
# make demo: the whole flow on loopback, as far as it exists. At this stage
# both programs show their commands; each later part of the flow (center init,
# plan, serial, pack, serve; room init, register, fetch, unlock, sign-in,
# answers, submit, sync, score reports) is added here as it lands.
#   demo.sh BUILD_DIR
set -eu
build=${1:-build/release}
room=$build/agent/examroom
center=$build/center/examcenter

step() { printf '\n==== %s ====\n' "$*"; }

step "examcenter --version; examcenter --help"
"$center" --version
"$center" --help
step "examroom --version; examroom --help"
"$room" --version
"$room" --help
