#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Freeing a full trail under the "refuse" policy (SR 2.9, 2.10): a daemon
# with a 1 MB audit limit takes operator writes until its trail is full;
# from then on writes are refused (audit_unavailable) while status still
# answers. `bulwark audit archive` rolls the oldest records into a signed
# segment; writes are accepted again; who asked is on record; the trail,
# segment included, verifies.
source "$BW_SOURCE_DIR/tests/integration/fixtures/cli/lib.sh"
command -v sqlite3 >/dev/null || fail "sqlite3 missing (scripts/deps.sh installs it)"

STATE="$TMP/state"
DB="$STATE/audit.db"
mkdir -p "$TMP/project"
python3 - "$(demo_project)/project.json" "$TMP/project/project.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["audit"] = {"max_size_mb": 1, "when_full": "refuse", "warn_percent": [50, 80]}
json.dump(p, open(sys.argv[2], "w"))
PY

expect_status 1 "archive with no daemon" "$BW_BIN" audit archive --state "$STATE"
start_daemon "$TMP/project" "$STATE" "$TMP/serve.log" --status-interval 0

# Operator writes over one connection until the daemon refuses one because
# its trail is full (each write is two records: request and result).
python3 - "$STATE/control.sock" >"$TMP/fill.out" <<'PY' || fail "filling the trail: $(cat "$TMP/fill.out")"
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rwb")
for i in range(40000):
    f.write(json.dumps({"op": "write", "tag": "T1.LevelHighSP", "value": 3 + (i % 100) / 100}).encode() + b"\n")
    f.flush()
    reply = json.loads(f.readline())
    if not reply.get("ok"):
        print(i, reply["error"]["code"])
        sys.exit(0 if reply["error"]["code"] == "audit_unavailable" else 1)
print("never full")
sys.exit(1)
PY
grep -q "audit_unavailable" "$TMP/fill.out" || fail "no refusal: $(cat "$TMP/fill.out")"
grep -q "audit trail full" "$LOG" || fail "the full trail was not logged"
expect_status 1 "write while full" "$BW_BIN" tag write --state "$STATE" T1.LevelHighSP 3.5
expect_output "audit trail" "the refusal names the audit trail"
expect_status 0 "status while full" "$BW_BIN" status --state "$STATE"
pass "the trail filled up: writes refused, control keeps answering"

expect_status 0 "audit archive" "$BW_BIN" audit archive --state "$STATE"
expect_output "^archived records 1\.\.[0-9]+ into audit-archive/; the trail is at [0-9]+ % of its limit, state ok$" \
    "archive reports the range and the state"
last=$(sed -E 's/^archived records 1\.\.([0-9]+) .*/\1/' <<<"$OUT")
[ "$(ls "$STATE/audit-archive" | wc -l)" = 1 ] || fail "no segment file: $(ls -la "$STATE/audit-archive")"
expect_status 0 "write after the archive" "$BW_BIN" tag write --state "$STATE" T1.LevelHighSP 3.75
pass "audit archive freed the trail (records 1..$last) and writes are accepted again"

user=$(id -un)
row=$(sqlite3 -batch -noheader "$DB" "SELECT source_name || '|' || result || '|' || details FROM records WHERE type='audit.archive_requested'")
[ "$row" = "$user|1|{\"first_seq\":1,\"last_seq\":$last}" ] || fail "archive request not on record as expected: $row"
[ "$(sqlite3 -batch -noheader "$DB" "SELECT count(*) FROM records WHERE type='audit.space_freed'")" = 1 ] \
    || fail "audit.space_freed not recorded"
[ "$(sqlite3 -batch -noheader "$DB" "SELECT min(seq) FROM records")" = $((last + 1)) ] \
    || fail "the database does not start right after the segment"
# An export while the daemon runs: the daemon records it.
expect_status 0 "export while running" "$BW_BIN" audit export --state "$STATE" --out "$TMP/export1.jsonl" \
    --from-seq $((last + 1)) --to-seq $((last + 50))
expect_output "^audit export: 50 records written to $TMP/export1.jsonl$" "export reports the count"
expect_output "recorded in the trail as audit.exported, record [0-9]+$" "export says it is on record"
expect_status 0 "verify-segment of the export" "$BW_BIN" audit verify-segment "$TMP/export1.jsonl" --state "$STATE"
sum=$(sha256sum "$TMP/export1.jsonl" | cut -d' ' -f1)
row=$(sqlite3 -batch -noheader "$DB" "SELECT source_name || '|' || details FROM records WHERE type='audit.exported'")
[ "$row" = "$user|{\"file\":\"$TMP/export1.jsonl\",\"file_sha256\":\"$sum\",\"first_seq\":$((last + 1)),\"last_seq\":$((last + 50)),\"records\":50}" ] \
    || fail "export not on record as expected: $row"
expect_status 1 "export over an existing file" "$BW_BIN" audit export --state "$STATE" --out "$TMP/export1.jsonl"
expect_output "exists; it is never overwritten" "an existing file is refused"
pass "an export while the daemon runs is on record with its file, hash and range"

stop_daemon "$DAEMON_PID" TERM
# And with no daemon: the command records it itself, under the state lock.
expect_status 0 "export offline" "$BW_BIN" audit export --state "$STATE" --out "$TMP/export2.jsonl"
expect_output "recorded in the trail as audit.exported" "the offline export is on record"
[ "$(sqlite3 -batch -noheader "$DB" "SELECT count(*) FROM records WHERE type='audit.exported' AND details LIKE '%export2.jsonl%'")" = 1 ] \
    || fail "the offline export is not on record"
expect_status 0 "verify with the segment" "$BW_BIN" audit verify --state "$STATE"
expect_output "1 segments?" "verify checked the segment"
pass "who asked is on record; exports are on record; the trail and its segment verify"
