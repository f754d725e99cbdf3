#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Runs every benchmark and prints its figures (measured, never asserted):
# each bench/bench_* binary in BUILD_DIR, then the resident size of
# `bulwark serve` holding 100,000 tags against the 64 MiB limit.
set -euo pipefail
BUILD=${1:-build-bench}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

for bin in "$BUILD"/bench_*; do
    [ -x "$bin" ] || continue
    echo "== $(basename "$bin")"
    "$bin"
done

echo "== serve_memory"
work=$(mktemp -d)
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
python3 "$ROOT/bench/gen_project.py" "$work/project" 100000
"$BUILD/bulwark" serve --project "$work/project" --state "$work/state" \
    --status-interval 0 2>"$work/serve.log" &
pid=$!
for _ in $(seq 1 300); do
    grep -q "ready" "$work/serve.log" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/serve.log"; exit 1; }
    sleep 0.1
done
grep -q "ready" "$work/serve.log" || { echo "serve did not become ready"; cat "$work/serve.log"; exit 1; }
sleep 3 # let the simulator run a few scan cycles
rss_kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
hwm_kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
awk -v rss="$rss_kb" -v hwm="$hwm_kb" 'BEGIN {
    printf "serve_memory: 100000 tags, resident %.1f MiB, limit 64.0 MiB, ratio %.2f (peak while parsing project.json: %.1f MiB)\n",
           rss / 1024, rss / 1024 / 64, hwm / 1024 }'
