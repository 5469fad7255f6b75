#!/bin/sh
# Installs the Debian 12 packages that examroom needs and are missing.
#
#   packaging/deps.sh build   what `make` and `make demo` need
#   packaging/deps.sh test    that, plus what `make test` and `make fuzz` need
#
# Quick when nothing is missing: it only asks dpkg. Installs as root, or through
# sudo when it can run without a password prompt; otherwise it prints the exact
# apt-get line to run and exits 1.
set -eu

mode=${1:-build}

# curl: the demo's candidates answer through it. scdoc: the manual pages.
build_pkgs="build-essential cmake pkg-config curl scdoc
libssl-dev libsqlite3-dev zlib1g-dev libuv1-dev libcurl4-openssl-dev
libmicrohttpd-dev libjansson-dev libcsv-dev"
# clang builds the sanitizer and libFuzzer targets, so every make test compiles
# the project with both gcc and clang. The browser tests (tests/browser) drive
# Debian's chromium with playwright-core from npm under node, and need a CJK
# font for the candidate terminal's screenshots; the reports' PDFs are read
# back with poppler-utils (pdfinfo, pdftotext). The package's test
# (tests/deb) lints it, installs it (adduser in its postinst) and verifies its
# units with systemd-analyze (systemd need not run). The power-cut tests
# (tests/powerloss) mount a FUSE filesystem of their own: libfuse3-dev, fuse3.
# The release build's programs run under valgrind's memcheck (tests/valgrind.sh).
test_pkgs="$build_pkgs libcmocka-dev clang libclang-rt-14-dev clang-format
chromium fonts-wqy-zenhei poppler-utils lintian adduser systemd libfuse3-dev fuse3
valgrind"
# A node that came with its own npm (not Debian's) is kept: Debian's npm
# conflicts with it.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
    test_pkgs="$test_pkgs nodejs npm"

case "$mode" in
build) want=$build_pkgs ;;
test) want=$test_pkgs ;;
*)
    echo "usage: packaging/deps.sh build|test" >&2
    exit 2
    ;;
esac

missing=""
for p in $want; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
    case "$status" in
    ii*) ;;
    *) missing="$missing $p" ;;
    esac
done

[ -z "$missing" ] && exit 0

echo "deps.sh: installing missing Debian packages:$missing"
cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -eq 0 ]; then
    run=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    run="sudo"
else
    echo "deps.sh: these packages are missing and this user cannot install them." >&2
    echo "deps.sh: run as root:  apt-get update && $cmd" >&2
    exit 1
fi

# The package lists may be absent or stale on a fresh machine; refresh once.
DEBIAN_FRONTEND=noninteractive $run apt-get update -qq
DEBIAN_FRONTEND=noninteractive $run $cmd
