#!/bin/sh
# What P1's comparison needs from outside the project, installed only when
# `make bench` runs (never by make test or make demo): wrk from Debian, and
# the peer's node modules (better-sqlite3, its native part built by
# node-gyp when npm has no prebuilt one: python3, make and g++ from Debian),
# installed with a copy of bench/peer in BUILD_DIR/bench-peer, out of the
# source tree (whose C files make format and the clang_format test visit).
# Prints nothing on success; exits 1 naming what is missing.
#   setup.sh BUILD_DIR
set -eu
peer=$1/bench-peer
mkdir -p "$peer"
cp "$(dirname "$0")"/peer/package.json "$(dirname "$0")"/peer/package-lock.json \
    "$(dirname "$0")"/peer/server.js "$peer"/
need=""
command -v wrk >/dev/null || need="$need wrk"
command -v node >/dev/null || need="$need nodejs npm"
[ -d "$peer/node_modules/better-sqlite3" ] || {
    command -v make >/dev/null || need="$need make"
    command -v g++ >/dev/null || need="$need g++"
    command -v python3 >/dev/null || need="$need python3"
}
if [ -n "$need" ]; then
    if [ "$(id -u)" = 0 ]; then
        # shellcheck disable=SC2086
        apt-get install -y --no-install-recommends $need >/dev/null
    else
        echo "setup.sh: install$need (Debian packages) to run P1's comparison" >&2
        exit 1
    fi
fi
if [ ! -d "$peer/node_modules/better-sqlite3" ]; then
    (cd "$peer" && npm ci --no-audit --no-fund >/dev/null 2>&1) || {
        echo "setup.sh: npm ci in $peer failed (needs the npm registry once)" >&2
        exit 1
    }
fi
