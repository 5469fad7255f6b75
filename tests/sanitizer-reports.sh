#!/bin/sh
# sanitizer-reports.sh DIR: fails, printing them, if any test of the
# sanitized build left an ASan/UBSan/LSan report in DIR/TEST/ (see
# tests/CMakeLists.txt). The reports are kept for a look afterwards.
set -u
dir=$1
n=0
for f in "$dir"/*/report*; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    test=${f#"$dir"/}
    echo "== sanitizer report from test ${test%%/*} ($f) =="
    cat "$f"
done
if [ "$n" -gt 0 ]; then
    echo "0 passed, $n failed"
    exit 1
fi
echo "1 passed, 0 failed"
