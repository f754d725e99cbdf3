#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `bulwark historian verify` against the history the real daemon wrote:
# a simulated tag logged every 100 ms until at least one minute's chunk
# has closed. The history verifies while the daemon writes and after it
# stopped (text and JSON); then, changed with the sqlite3 tool behind
# the historian's back (a chunk's end moved, a chunk deleted, a recent
# batch deleted), it fails with exit status 1 naming the tag and what
# happened. No key, no history and a bad command line are told apart.
source "$BW_SOURCE_DIR/tests/integration/fixtures/cli/lib.sh"

command -v sqlite3 >/dev/null || fail "sqlite3 missing (scripts/deps.sh installs it)"

PROJECT="$TMP/project"
STATE="$TMP/state"
DB="$STATE/history.db"
mkdir -p "$PROJECT"
cat >"$PROJECT/project.json" <<'JSON'
{"format": 1, "name": "historian.it",
 "scan_classes": [{"name": "fast", "period_ms": 100}],
 "devices": [{"name": "sim1", "driver": "sim", "scan_class": "fast", "parameters": {"seed": 7}}],
 "simulator": {"signals": [{"name": "WAVE", "shape": "sine", "min": 0, "max": 10,
                            "period_ms": 10000}]},
 "tags": [
  {"name": "Wave", "type": "float", "min": 0, "max": 10, "device": "sim1",
   "address": "WAVE.value", "log": {"mode": "cyclic", "period_ms": 100}}
 ]}
JSON

sql() { sqlite3 -batch -noheader "$DB" "$@"; }
chunk_table() { sql "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'c!_%' ESCAPE '!' ORDER BY name DESC LIMIT 1"; }

start_daemon "$PROJECT" "$STATE" "$TMP/serve.log" --status-interval 0
PID=$DAEMON_PID

# A chunk closes once its minute has been over for 5 s: at most ~65 s.
table=""
for _ in $(seq 1 800); do
    if [ -f "$DB" ]; then
        table=$(chunk_table 2>/dev/null || true)
        if [ -n "$table" ] && [ "$(sql "SELECT count(*) FROM $table" 2>/dev/null || echo 0)" -gt 0 ]; then
            break
        fi
        table=""
    fi
    sleep 0.1
done
[ -n "$table" ] || fail "no chunk closed within 80 s"
pass "the daemon closed a chunk of Wave ($table)"

expect_status 0 "verify while the daemon writes" "$BW_BIN" historian verify --state "$STATE"
expect_output '^historian verify: OK, [1-9][0-9]* chunks, [1-9][0-9]* samples, [0-9]+ batches, 1 partitions$' \
    "the summary counts what was checked"
pass "the history verifies while the daemon writes"

stop_daemon "$PID" TERM
expect_status 0 "verify after the stop" "$BW_BIN" historian verify --state "$STATE"
expect_output '^historian verify: OK' "verify after the stop"
expect_status 0 "verify --json" "$BW_BIN" historian verify --state "$STATE" --json
python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["ok"] is True and d["problems"] == [] and d["chunks"] >= 1, d' "$OUT" \
    || fail "verify --json: $OUT"
pass "the history verifies after the stop, as text and as JSON"

# A moved chunk end, then a deleted chunk.
first=$(sql "SELECT t0 FROM $table ORDER BY t0 LIMIT 1")
cp "$DB" "$TMP/clean.db"
sql "UPDATE $table SET t1 = t1 - 1 WHERE t0 = $first"
expect_status 1 "verify a changed chunk" "$BW_BIN" historian verify --state "$STATE"
expect_output '^tag Wave: samples from [0-9T:.-]+Z to [0-9T:.-]+Z were changed \(or inserted\)$' \
    "the changed chunk is named with its tag and range"
expect_output '^historian verify: FAILED, 1 problem$' "one problem"
expect_status 1 "verify --json a changed chunk" "$BW_BIN" historian verify --state "$STATE" --json
python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["ok"] is False and d["problem_count"] == 1, d
p = d["problems"][0]
assert p["tag"] == "Wave" and p["from"].endswith("Z") and p["to"].endswith("Z"), p' "$OUT" \
    || fail "verify --json: $OUT"
pass "a changed chunk fails the check, naming the tag and range"

cp "$TMP/clean.db" "$DB"
rm -f "$DB-wal" "$DB-shm"
newest=$(sql "SELECT t0 FROM $table ORDER BY t0 DESC LIMIT 1")
sql "DELETE FROM $table WHERE t0 = $newest"
expect_status 1 "verify a deleted chunk" "$BW_BIN" historian verify --state "$STATE"
expect_output '^tag Wave: samples (after|between|up to) .* are missing' "the deleted samples are named"
pass "a deleted chunk fails the check, naming the tag and the missing range"

cp "$TMP/clean.db" "$DB"
if [ "$(sql "SELECT count(*) FROM recent")" -gt 0 ]; then
    sql "DELETE FROM recent WHERE seq = (SELECT max(seq) FROM recent)"
    expect_status 1 "verify a deleted batch" "$BW_BIN" historian verify --state "$STATE"
    expect_output 'recent batch.* missing' "the deleted batch is named"
    pass "a deleted recent batch fails the check"
fi

expect_status 2 "no --state" "$BW_BIN" historian verify
expect_status 1 "no history" "$BW_BIN" historian verify --state "$TMP/nothing"
expect_output 'no history in' "no history is said"
mkdir -m 700 "$TMP/nokey"
cp "$TMP/clean.db" "$TMP/nokey/history.db"
expect_status 1 "no key" "$BW_BIN" historian verify --state "$TMP/nokey"
expect_output 'cannot load the history key' "no key is said"
pass "usage, no history and no key are told apart"
