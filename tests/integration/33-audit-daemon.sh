#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The daemon's own audit trail: `bulwark serve` records its start (with
# version, project hash and settings digest), the project it loaded, the
# clock's state, every tag write through the control socket with the
# operating-system user, the old and the new value, every refused write
# and malformed request, and its stop. The trail verifies, continues
# across a restart, and `audit verify` names the record an outside
# program changed or removed, and the records cut off the tail with their
# checkpoints (the anchor); it prints the signing key's fingerprint, which
# daemon.start records too, and fails under another pinned key. The
# daemon reports a tail cut while it was down. A refused project is
# recorded too. The
# records are read back with `bulwark audit query`, read-only, with the
# daemon running.
source "$BW_SOURCE_DIR/tests/integration/fixtures/cli/lib.sh"

command -v sqlite3 >/dev/null || fail "sqlite3 missing (scripts/deps.sh installs it)"

PROJECT=$(demo_project)
STATE="$TMP/state"
DB="$STATE/audit.db"

sql() { sqlite3 -batch -noheader "$DB" "$@"; }

start_daemon "$PROJECT" "$STATE" "$TMP/serve1.log" --status-interval 0
PID1=$DAEMON_PID

[ "$(stat -c %a "$STATE/keys")" = 700 ] || fail "keys/ is not 0700"
[ "$(stat -c %a "$STATE/keys/audit-mac.key")" = 600 ] || fail "audit-mac.key is not 0600"
[ "$(stat -c %a "$STATE/keys/audit-sign.key")" = 600 ] || fail "audit-sign.key is not 0600"
pass "keys created private"

hash=$(sha256sum "$PROJECT/project.json" | cut -d' ' -f1)
[ "$(sql "SELECT count(*) FROM records WHERE type='daemon.start' AND details LIKE '%\"project_sha256\":\"$hash\"%' AND details LIKE '%\"settings_sha256\":\"%' AND details LIKE '%\"version\":\"%'")" = 1 ] \
    || fail "no daemon.start record with version, project hash and settings digest"
[ "$(sql "SELECT count(*) FROM records WHERE type='project.loaded'")" = 1 ] || fail "no project.loaded"
[ "$(sql "SELECT count(*) FROM records WHERE type='time.sync.status'")" = 1 ] || fail "no time.sync.status"
pass "start, project loaded and clock state recorded"

# A tag write, then a refused one (out of range), then a malformed request.
expect_status 0 "tag write" "$BW_BIN" tag write --state "$STATE" T1.LevelHighSP 2.5
expect_status 1 "out-of-range write" "$BW_BIN" tag write --state "$STATE" T1.LevelHighSP 1e9
user=$(id -un)
row=$(sql "SELECT source_name || '|' || result || '|' || details FROM records WHERE type='tag.write'")
grep -q "^$user|1|" <<<"$row" || fail "tag.write not by $user with success: $row"
grep -q '"tag":"T1.LevelHighSP"' <<<"$row" || fail "tag.write lacks the tag: $row"
grep -q '"new":2.5' <<<"$row" || fail "tag.write lacks the new value: $row"
grep -q '"old":' <<<"$row" || fail "tag.write lacks the old value: $row"
# Each request is on record before the write ran (the out-of-range one
# too: validation refuses it in the write path, after the request).
row=$(sql "SELECT count(*) FROM records r, records w WHERE r.type='tag.write.requested' AND w.type='tag.write' AND r.seq < w.seq AND r.source_name = w.source_name AND r.details = '{\"new\":2.5,\"tag\":\"T1.LevelHighSP\"}'")
[ "$row" = 1 ] || fail "tag.write.requested missing, or not before tag.write: $row"
row=$(sql "SELECT count(*) FROM records r, records w WHERE r.type='tag.write.requested' AND w.type='tag.write_refused' AND r.seq < w.seq AND r.details LIKE '%1000000000%'")
[ "$row" = 1 ] || fail "the refused write's request missing, or not before the refusal: $row"
row=$(sql "SELECT category || '|' || result || '|' || details FROM records WHERE type='tag.write_refused'")
grep -q '^2|2|' <<<"$row" || fail "refused write not a request error/failure: $row"
grep -q '"reason":' <<<"$row" || fail "refused write lacks its reason: $row"
printf '{"op":"write","tag":"x","value":1,"extra":true}\n' | python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.stdin.buffer.read()); s.recv(4096)
' "$STATE/control.sock"
[ "$(sql "SELECT count(*) FROM records WHERE type='control.request_malformed'")" = 1 ] \
    || fail "malformed request not recorded"
pass "tag write (user, old and new value), refused write and malformed request recorded"

# Read back through the CLI while the daemon runs (read-only).
expect_status 0 "audit query" "$BW_BIN" audit query --state "$STATE" --category control-system --format json
expect_output '"tag.write"' "audit query lists the write"
expect_status 0 "audit verify while running" "$BW_BIN" audit verify --state "$STATE"
expect_output 'OK' "verify while running"

stop_daemon "$PID1" TERM
[ "$(sql "SELECT type FROM records ORDER BY seq DESC LIMIT 1")" = daemon.stop ] || fail "last record is not daemon.stop"
last=$(sql "SELECT max(seq) FROM records")
[ "$(sql "SELECT max(seq) FROM checkpoints")" = "$last" ] || fail "the last record is not signed at stop"
expect_status 0 "audit verify" "$BW_BIN" audit verify --state "$STATE"
expect_output "^audit verify: OK, $last records, [0-9]+ checkpoints, 0 segments, seq 1\.\.$last, anchor at record $last\$" \
    "verify counts the records and names the anchor"
pass "stop recorded, signed, and the trail verifies ($last records)"

# The signing key's fingerprint: printed by verify, recorded at start;
# pinned by a copy of the public key, its hex or its fingerprint.
fp="sha256:$(sha256sum "$STATE/keys/audit-sign.pub" | cut -d' ' -f1)"
expect_output "^audit verify: signing key $fp \(not pinned\)\$" "verify prints the key's fingerprint"
[ "$(sql "SELECT count(*) FROM records WHERE type='daemon.start' AND details LIKE '%\"audit_sign_fingerprint\":\"$fp\"%'")" = 1 ] \
    || fail "daemon.start lacks the signing key's fingerprint"
cp "$STATE/keys/audit-sign.pub" "$TMP/pinned.pub"
hex=$(od -An -tx1 -v "$STATE/keys/audit-sign.pub" | tr -d ' \n')
for pin in "$TMP/pinned.pub" "$hex" "$fp"; do
    expect_status 0 "verify pinned by $pin" "$BW_BIN" audit verify --state "$STATE" --public-key "$pin"
    expect_output "^audit verify: signing key $fp \(the pinned key\)\$" "verify says the key is the pinned one"
done
expect_status 2 "a pin that is no key" "$BW_BIN" audit verify --state "$STATE" --public-key "sha256:00"
pass "the signing key's fingerprint is printed, recorded at start, and pinned"

# A restart continues the chain.
start_daemon "$PROJECT" "$STATE" "$TMP/serve2.log" --status-interval 0
stop_daemon "$DAEMON_PID" TERM
[ "$(sql "SELECT min(seq) FROM records WHERE seq > $last AND type='daemon.start'")" = $((last + 1)) ] \
    || fail "the restart did not continue at $((last + 1))"
expect_status 0 "audit verify after restart" "$BW_BIN" audit verify --state "$STATE"
pass "restart continues the chain"

# An outside program that drops the trigger and edits a record is caught.
cp -a "$STATE" "$TMP/tampered"
sqlite3 "$TMP/tampered/audit.db" "DROP TRIGGER records_no_update; UPDATE records SET details=replace(details, '2.5', '3.5') WHERE type='tag.write';"
seq=$(sqlite3 "$TMP/tampered/audit.db" "SELECT seq FROM records WHERE type='tag.write'")
expect_status 1 "verify of an edited trail" "$BW_BIN" audit verify --state "$TMP/tampered"
expect_output "^audit verify: FAILED at record $seq: record $seq: MAC does not match \(record changed or key replaced\)\$" \
    "verify names the edited record"
cp -a "$STATE" "$TMP/deleted"
rm -rf "$TMP/tampered"
sqlite3 "$TMP/deleted/audit.db" "DROP TRIGGER records_no_delete; DELETE FROM records WHERE seq=3;"
expect_status 1 "verify of a trail with a deleted record" "$BW_BIN" audit verify --state "$TMP/deleted"
expect_output "^audit verify: FAILED at record 3: record 3 missing: sequence jumps from 2 to 4\$" \
    "verify names the deleted record"
pass "audit verify names edited and deleted records"

# The tail cut off together with its checkpoints: audit.db alone holds,
# the anchor (keys/audit-anchor) does not agree. n is the newest record,
# signed at the last stop.
n=$(sql "SELECT max(seq) FROM records")
cut_tail() { # DIR KEEP: delete records and checkpoints after KEEP, triggers first
    sqlite3 "$1/audit.db" "DROP TRIGGER records_no_delete; DROP TRIGGER checkpoints_no_delete;
        DELETE FROM records WHERE seq > $2; DELETE FROM checkpoints WHERE seq > $2;"
}
cp -a "$STATE" "$TMP/cut"
cut_tail "$TMP/cut" 3
expect_status 1 "verify of a trail cut with its checkpoints" "$BW_BIN" audit verify --state "$TMP/cut"
expect_output "^audit verify: FAILED at record 4: the trail ends at record 3, before its anchored checkpoint at record $n: records 4\.\.$n missing\$" \
    "verify names the records cut off"
cp -a "$STATE" "$TMP/emptied"
cut_tail "$TMP/emptied" 0
expect_status 1 "verify of an emptied trail" "$BW_BIN" audit verify --state "$TMP/emptied"
expect_output "^audit verify: FAILED at record 1: the trail is empty, but its anchored checkpoint is at record $n: records 1\.\.$n missing\$" \
    "verify names the records emptied"
cp -a "$STATE" "$TMP/unanchored"
rm "$TMP/unanchored/keys/audit-anchor"
expect_status 1 "verify without the anchor" "$BW_BIN" audit verify --state "$TMP/unanchored"
expect_output "^audit verify: FAILED: no anchor \(keys/audit-anchor\), but the trail is signed up to record $n " \
    "verify misses the anchor"
# Emptied and the anchor removed: only a record kept outside tells.
rm "$TMP/emptied/keys/audit-anchor"
expect_status 0 "verify of an emptied trail without anchor" "$BW_BIN" audit verify --state "$TMP/emptied"
expect_output "^audit verify: OK, 0 records, 0 checkpoints, 0 segments, seq 0\.\.0, no anchor" "nothing left to see"
expect_status 1 "the same with --min-seq" "$BW_BIN" audit verify --state "$TMP/emptied" --min-seq "$n"
expect_output "^audit verify: FAILED at record 1: the trail is empty, but its required end is at record $n: records 1\.\.$n missing\$" \
    "--min-seq names what is missing"
mkdir "$TMP/nothing"
expect_status 1 "verify of a directory without a trail" "$BW_BIN" audit verify --state "$TMP/nothing"
expect_output "^bulwark: audit verify: nothing to verify in $TMP/nothing: no audit trail: neither audit\.db nor keys/ exists\$" \
    "verify says there is no trail"
pass "a cut or emptied trail, a removed anchor and a missing trail are caught"

# The daemon, started on the cut trail, says so in its log and its trail.
start_daemon "$PROJECT" "$TMP/cut" "$TMP/serve-cut.log" --status-interval 0
stop_daemon "$DAEMON_PID" TERM
grep -q "error audit    audit trail integrity: the trail ends at record 3, before its anchored checkpoint at record $n: records 4\.\.$n missing" \
    "$TMP/serve-cut.log" || fail "the daemon did not log the cut tail: $(cat "$TMP/serve-cut.log")"
[ "$(sqlite3 "$TMP/cut/audit.db" "SELECT count(*) FROM records WHERE type='audit.integrity' AND result=2 AND details LIKE '%\"anchor_seq\":$n,%'")" = 1 ] \
    || fail "no audit.integrity record of the cut tail"
pass "the daemon reports a trail cut while it was down"

# Keys replaced and everything signed anew (here: a whole other trail in
# the state's place) holds on its own; the pinned key tells.
start_daemon "$PROJECT" "$TMP/other" "$TMP/serve-other.log" --status-interval 0
stop_daemon "$DAEMON_PID" TERM
expect_status 0 "another trail, not pinned" "$BW_BIN" audit verify --state "$TMP/other"
expect_status 1 "another trail, pinned" "$BW_BIN" audit verify --state "$TMP/other" --public-key "$fp"
expect_output "^audit verify: FAILED: the trail's signing key \(keys/audit-sign\.pub\) is not the pinned one" \
    "verify names the replaced key"
pass "a replaced signing key is caught when pinned"

# A refused project is on record in the state it was meant for.
mkdir -p "$TMP/bad"
printf '{"format": 1, "name": "bad", "tags": [{"name": "x", "type": "flaot"}]}\n' >"$TMP/bad/project.json"
expect_status 1 "serve with a bad project" "$BW_BIN" serve --project "$TMP/bad" --state "$TMP/badstate"
[ "$(sqlite3 "$TMP/badstate/audit.db" "SELECT count(*) FROM records WHERE type='project.refused' AND result=2")" = 1 ] \
    || fail "refused project not recorded"
expect_status 0 "verify the refusal's trail" "$BW_BIN" audit verify --state "$TMP/badstate"
pass "refused project recorded"
