#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Fails when a C file of the tree differs from what clang-format makes of
# it. Uses git's file list in a clone, the file system otherwise.
set -eu
cd "$(dirname "$0")/.."
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    files=$( (git ls-files '*.c' '*.h'; git ls-files --others --exclude-standard '*.c' '*.h') | sort -u)
else
    files=$(find src tests bench -name '*.[ch]' | sort)
fi
[ -n "$files" ] || exit 0
# shellcheck disable=SC2086
clang-format --dry-run --Werror $files
echo "format: $(echo "$files" | wc -l) files formatted"
