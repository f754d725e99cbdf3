#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Runs every libFuzzer target built in BUILD_DIR (tests/fuzz/fuzz_<name>.c
# gives BUILD_DIR/fuzz_<name>) for SECONDS each, seeded with a temporary
# copy of tests/fuzz/corpus/<name>/ (so the repository is never written)
# and with the dictionary tests/fuzz/<name>.dict when there is one. Crash
# inputs are kept in BUILD_DIR/fuzz-artifacts/<name>/. Exits non-zero when
# any target crashes, leaks, times out or is missing.
#
#   scripts/fuzz.sh BUILD_DIR SECONDS
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 BUILD_DIR SECONDS" >&2
    exit 2
fi
BUILD=$1
SECONDS_EACH=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case "$SECONDS_EACH" in
'' | *[!0-9]*)
    echo "fuzz: SECONDS must be a whole number" >&2
    exit 2
    ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

failed=()
ran=0
for src in "$ROOT"/tests/fuzz/fuzz_*.c; do
    [ -e "$src" ] || continue
    target=$(basename "$src" .c)
    name=${target#fuzz_}
    bin="$BUILD/$target"
    if [ ! -x "$bin" ]; then
        echo "fuzz: $target: no binary in $BUILD (configure with -DBW_FUZZ=ON)" >&2
        failed+=("$target (not built)")
        continue
    fi
    corpus="$work/$name"
    mkdir -p "$corpus"
    if [ -d "$ROOT/tests/fuzz/corpus/$name" ]; then
        cp -R "$ROOT/tests/fuzz/corpus/$name/." "$corpus/"
    fi
    args=(-max_total_time="$SECONDS_EACH" -timeout=25 -print_final_stats=1)
    for dict in "$ROOT/tests/fuzz/$name.dict" "$ROOT/tests/fuzz/$target.dict"; do
        if [ -f "$dict" ]; then
            args+=(-dict="$dict")
            break
        fi
    done
    artifacts="$BUILD/fuzz-artifacts/$name"
    mkdir -p "$artifacts"
    args+=(-artifact_prefix="$artifacts/")
    echo "== $target: ${SECONDS_EACH}s, corpus $(find "$corpus" -type f | wc -l) seeds"
    ran=$((ran + 1))
    if ! ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} "$bin" "${args[@]}" "$corpus" \
        >"$work/$name.log" 2>&1; then
        tail -n 40 "$work/$name.log" >&2
        echo "fuzz: $target FAILED; inputs in $artifacts/" >&2
        failed+=("$target")
        continue
    fi
    grep -E "^(stat::number_of_executed_units|#[0-9]+.*DONE)" "$work/$name.log" | tail -n 2 || true
done

if [ "$ran" -eq 0 ] && [ "${#failed[@]}" -eq 0 ]; then
    echo "fuzz: no fuzz targets found under tests/fuzz/" >&2
    exit 1
fi
if [ "${#failed[@]}" -ne 0 ]; then
    echo "fuzz: failed: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz: $ran targets ran ${SECONDS_EACH}s each without a crash"
