#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Fails when a tracked C file differs from what clang-format makes of it.
set -eu
cd "$(dirname "$0")/.."
files=$( (git ls-files '*.c' '*.h'; git ls-files --others --exclude-standard '*.c' '*.h') | sort -u)
[ -n "$files" ] || exit 0
# shellcheck disable=SC2086
clang-format --dry-run --Werror $files
echo "format: $(echo "$files" | wc -l) files formatted"
