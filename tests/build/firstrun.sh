#!/bin/sh
# What a new user meets first (README: make demo on a fresh machine):
# - configuring without cmocka (deps.sh build does not install it) works and
#   says the tests are not built; only EXAMROOM_TESTS=ON insists on cmocka;
# - a configure that failed (a missing package) leaves nothing that stops the
#   next make: every make target configures its tree again.
# Configure only (no compile): cmake and pkg-config against the real tree,
# with a pkg-config directory that hides packages as a fresh machine lacks them.
#   firstrun.sh SOURCE_DIR
set -u
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$src/tests/lib.sh"

# pkg-config directories with every .pc file of this machine but cmocka's,
# and with none at all.
mkdir -p "$tmp/pc-nocmocka" "$tmp/pc-empty"
for d in $(pkg-config --variable pc_path pkg-config | tr : ' '); do
    for f in "$d"/*.pc; do
        [ -f "$f" ] || continue
        case ${f##*/} in cmocka.pc) ;; *) ln -sf "$f" "$tmp/pc-nocmocka/" ;; esac
    done
done
check "the hiding directory has the others' files" test -f "$tmp/pc-nocmocka/jansson.pc"

# (pkg-config's own -static lookups of a .pc's Requires go through the same
# directory, which is what a fresh machine would see.)
expect 0 "cmocka is not installed: tests are not built" \
    env PKG_CONFIG_LIBDIR="$tmp/pc-nocmocka" cmake -S "$src" -B "$tmp/demo"
check "no test was configured" sh -c "! grep -q unit_common '$tmp/demo/tests/CTestTestfile.cmake' 2>/dev/null"
expect 1 "cmocka" env PKG_CONFIG_LIBDIR="$tmp/pc-nocmocka" \
    cmake -S "$src" -B "$tmp/tests" -DEXAMROOM_TESTS=ON

# A configure that fails (nothing found), then the Makefile's next build
# configures again instead of stopping at a half-made tree.
expect 1 "Configuring incomplete" env PKG_CONFIG_LIBDIR="$tmp/pc-empty" \
    cmake -S "$src" -B "$tmp/mk/release"
check "the failed configure left its cache behind" test -f "$tmp/mk/release/CMakeCache.txt"
expect 0 "cmake -S \. .*-B $tmp/mk/release" make -C "$src" -n release BUILD="$tmp/mk"
expect 0 "Generating done" cmake -S "$src" -B "$tmp/mk/release"
# -Werror is the project's own choice, off for anyone else's build.
check "-Werror is off by default" grep -q "^EXAMROOM_WERROR:BOOL=OFF" "$tmp/mk/release/CMakeCache.txt"
expect 0 "EXAMROOM_WERROR=ON" make -C "$src" -n release BUILD="$tmp/mk"

finish
