#!/bin/sh
# Fails, naming the files, when a C file differs from what .clang-format makes
# of it. `make format` fixes them.
set -eu
clang_format=${1:-clang-format}
bad=""
for f in $(find common crypto store sync agent center tests bench -name '*.[ch]' 2>/dev/null | sort); do
    "$clang_format" --dry-run -Werror "$f" >/dev/null 2>&1 || bad="$bad $f"
done
if [ -n "$bad" ]; then
    echo "not clang-formatted (run make format):$bad"
    exit 1
fi
echo "clang-format: every C file is formatted"
