#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Forwarding records that were archived before the collector had them.
# The collector (Debian's rsyslog over TLS, as in 30-audit-forward.sh) is
# not running while the daemon records and `bulwark audit archive` rolls
# the oldest records into segment files three times. When the collector
# comes up, the forwarder reads the archived records from the segments
# (each one verified first), then the rest from audit.db: the collector
# holds every record exactly once. Then, in a second trail, one segment
# is deleted and another altered by one byte before the collector comes
# up: their records are not sent (an altered record never leaves), each
# range is on record as audit.forward.skipped (8012) with why, and every
# other record arrives exactly once.
source "$BW_SOURCE_DIR/tests/integration/fixtures/cli/lib.sh"
source "$BW_SOURCE_DIR/tests/integration/fixtures/audit/forward_lib.sh"

# A 1 MB trail whose lowest threshold is 11 %: `audit archive` moves all
# but the newest few records each time.
AUDIT='{"max_size_mb": 1, "warn_percent": [11]}'
PROJECT="$TMP/project"
make_project "$PROJECT" "$TMP/pki/ca.pem" localhost "$AUDIT"

# archive_round COUNT: COUNT audited writes, then the daemon archives.
archive_round() {
    fast_writes "$1" || fail "writes refused"
    expect_status 0 "audit archive" "$BW_BIN" audit archive --state "$STATE"
    expect_output "^archived records [0-9]+\\.\\.[0-9]+ into audit-archive/" "archive says what it did"
}

# segments: "FIRST LAST FILE" per segment of STATE, in order.
segments() {
    sqlite3 -readonly -separator ' ' "$STATE/audit.db" \
        'SELECT first_seq, last_seq, file FROM segments ORDER BY first_seq'
}

# build_trail LOGNAME: a daemon forwarding to the collector that is not
# there; three archive rounds (the first over 500 records, more than one
# batch) and some records left in audit.db.
build_trail() {
    start_daemon "$PROJECT" "$STATE" "$TMP/$1.log"
    wait_for_log "$LOG" "$PATTERN_FWD: cannot connect" "$WAIT_S" ||
        fail "the forwarder should fail to connect while the collector is down"
    archive_round 400
    archive_round 100
    archive_round 100
    fast_writes 20 || fail "writes refused"
    mapfile -t SEGS < <(segments)
    [ "${#SEGS[@]}" = 3 ] || fail "expected 3 segments, found: ${SEGS[*]}"
    read -r first _ _ <<<"${SEGS[0]}"
    [ "$first" = 1 ] || fail "the first segment does not start at record 1: ${SEGS[0]}"
    read -r _ seg_last _ <<<"${SEGS[2]}"
    [ "$(sqlite3 -readonly "$STATE/audit.db" 'SELECT min(seq) FROM records')" = $((seg_last + 1)) ] ||
        fail "audit.db does not start right after the archive"
    [ ! -s "$RECEIVED" ] || fail "records reached the collector before it was started"
    pass "records 1..$seg_last archived in 3 segments before the collector was reachable"
}

# ---- every archived record reaches the collector ----------------------------

STATE="$TMP/state"
build_trail serve1
start_rsyslog
wait_for_log "$LOG" "$PATTERN_FWD: reading records 1\\.\\. from the archive" "$WAIT_S" ||
    fail "the forwarder did not turn to the archive"
until_true "$WAIT_S" collector_complete ||
    fail "archived records did not reach the collector: $($COLLECTOR check "$RECEIVED" "$(trail_last)")"
stop_daemon "$DAEMON_PID" TERM
assert_exact "records archived before the collector was reachable"
[ "$($COLLECTOR count "$RECEIVED" 8012)" = 0 ] || fail "records were skipped though none is lost"
pass "nothing skipped"

# ---- a segment deleted, another altered: skipped, on record, the rest sent --

stop_rsyslog TERM
mv "$RECEIVED" "$RECEIVED.1"
rm -f "$RS_DIR/parsed.log"
STATE="$TMP/state2"
build_trail serve2
read -r gone_first gone_last gone_file <<<"${SEGS[1]}"
read -r bad_first bad_last bad_file <<<"${SEGS[2]}"
rm "$STATE/audit-archive/$gone_file"
# One byte of a record's details (a Label value), nothing else.
python3 - "$STATE/audit-archive/$bad_file" <<'PY' || fail "could not alter $bad_file"
import sys
path = sys.argv[1]
data = open(path, "rb").read()
assert b"vvvv" in data
open(path, "wb").write(data.replace(b"vvvv", b"vvvw", 1))
PY
start_rsyslog
skipped_twice() { [ "$($COLLECTOR count "$RECEIVED" 8012)" = 2 ]; }
until_true "$WAIT_S" skipped_twice || fail "the two lost ranges are not on record at the collector"
ABSENT=(--absent "$gone_first-$gone_last" --absent "$bad_first-$bad_last")
until_true "$WAIT_S" collector_complete "${ABSENT[@]}" ||
    fail "records missing: $($COLLECTOR check "$RECEIVED" "$(trail_last)" "${ABSENT[@]}")"
stop_daemon "$DAEMON_PID" TERM
assert_exact "a segment deleted, one altered" "${ABSENT[@]}"

$COLLECTOR details "$RECEIVED" 8012 >"$TMP/skipped.json"
python3 - "$TMP/skipped.json" "127.0.0.1:$PORT" "$gone_first" "$gone_last" "$gone_file" \
    "$bad_first" "$bad_last" "$bad_file" <<'PY' || fail "the skip records do not say what was lost: $(cat "$TMP/skipped.json")"
import json, sys
collector = sys.argv[2]
gone = (int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
bad = (int(sys.argv[6]), int(sys.argv[7]), sys.argv[8])
events = [json.loads(line) for line in open(sys.argv[1])]
assert len(events) == 2, events
a, b = events
assert a["collector"] == collector and b["collector"] == collector, events
assert (a["first_seq"], a["last_seq"]) == gone[:2], a
assert a["reason"] == f"segment {gone[2]} is missing from the archive", a
assert (b["first_seq"], b["last_seq"]) == bad[:2], b
assert b["reason"].startswith(f"segment {bad[2]} does not verify: "), b
PY
grep -q "records $gone_first\\.\\.$gone_last cannot be forwarded: segment $gone_file is missing" "$LOG" ||
    fail "the daemon log does not name the deleted segment's range"
pass "records $gone_first..$gone_last (segment deleted) and $bad_first..$bad_last (segment altered) skipped, each on record"

echo "PASS: 35-audit-forward-archive"
