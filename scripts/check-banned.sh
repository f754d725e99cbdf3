#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Fails when src/ calls a function STYLE.md bans: they either cannot be
# bounded (strcpy, sprintf, gets), hide errors (atoi, sscanf), keep hidden
# state (strtok) or do not belong in a daemon (system, rand).
set -eu
cd "$(dirname "$0")/.."
banned='strcpy|strcat|strncat|sprintf|vsprintf|gets|atoi|atol|atoll|atof|strtok|sscanf|system|rand|srand|popen|tmpnam|mktemp'
hits=$(grep -rnE "(^|[^A-Za-z0-9_.>])($banned)[[:space:]]*\(" src/ --include='*.c' --include='*.h' \
       | grep -vE '^\S+:[0-9]+:\s*(\*|/\*|//)' || true)
if [ -n "$hits" ]; then
    echo "banned functions used:" >&2
    echo "$hits" >&2
    exit 1
fi
echo "banned: no banned function in src/"
