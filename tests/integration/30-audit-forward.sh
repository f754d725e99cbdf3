#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Forwarding the audit trail as RFC 5424 syslog over TLS (RFC 5425) to a
# real collector: Debian's rsyslog with its ossl driver, on loopback,
# with a certificate from a CA made here. The daemon forwards every
# record; rsyslog's RFC 5424 parser reads each one.
#   - The collector is killed (SIGKILL) while the forwarder is idle: the
#     daemon records the loss (8009) once, goes on recording tag writes,
#     reconnects when the collector is back (8010) and resends from its
#     persisted position: every record exactly once.
#   - The collector is stopped gracefully (SIGTERM) in the middle of a
#     burst, while the forwarder is sending a backlog: nothing is lost,
#     and a record is doubled only within the one batch in flight (what
#     docs/internals/audit-forwarding.md guarantees with TLS 1.3).
#   - After a restart of the daemon it resumes where it stopped.
#   - A TLS 1.2 collector is served with an ECDHE AEAD suite (and
#     acknowledgement by TCP only, said in the log); one that offers only
#     a CBC suite is refused; so are collectors whose certificate another
#     CA signed or that carries another name.
source "$BW_SOURCE_DIR/tests/integration/fixtures/cli/lib.sh"
source "$BW_SOURCE_DIR/tests/integration/fixtures/audit/forward_lib.sh"
pass "CA and collector certificate made"
make_ca "$TMP/other-pki" "Some other CA"

start_rsyslog
pass "rsyslog listens for syslog over TLS on 127.0.0.1:$PORT"

PROJECT="$TMP/project"
STATE="$TMP/state"
make_project "$PROJECT" "$TMP/pki/ca.pem" localhost

start_daemon "$PROJECT" "$STATE" "$TMP/serve1.log"
wait_for_log "$LOG" "$PATTERN_FWD connected" "$WAIT_S" || fail "the forwarder did not connect"
# What the guarantee under a graceful stop rests on (rsyslog speaks TLS 1.3).
wait_for_log "$LOG" "$PATTERN_FWD: TLSv1\.3, TLS_[A-Z0-9_]+, records acknowledged by the collector's TLS layer" 1 ||
    fail "the forwarder does not wait for the collector's TLS layer to acknowledge records"
writes 1 10
until_true "$WAIT_S" collector_complete ||
    fail "records did not reach the collector: $($COLLECTOR check "$RECEIVED" "$(trail_last)")"
pass "records up to $(trail_last) forwarded while the collector is up"

# ---- the collector is killed while the forwarder is idle --------------------

stop_rsyslog KILL
wait_for_log "$LOG" "$PATTERN_FWD lost: " "$WAIT_S" || fail "the forwarder did not notice the loss"
writes 11 20
start_rsyslog
wait_for_log "$LOG" "$PATTERN_FWD restored" "$WAIT_S" || fail "the forwarder did not reconnect"
writes 21 30
until_true "$WAIT_S" collector_complete ||
    fail "records missing after the outage: $($COLLECTOR check "$RECEIVED" "$(trail_last)")"
problems=$($COLLECTOR check "$RECEIVED" "$(trail_last)" --exact) ||
    fail "after an outage while idle, records are not there exactly once: $problems"
pass "after the outage, records 1..$(trail_last) reached the collector exactly once"

# ---- the collector is stopped gracefully in the middle of a burst -----------

# A backlog builds up while the collector is down; a writer keeps adding
# records meanwhile. Once the forwarder's position has moved 1000
# records into the backlog, the collector is frozen for 0.5 s (SIGSTOP:
# its kernel goes on taking and acknowledging data until its buffer is
# full; this also pins the moment of the stop inside the backlog, since
# rsyslog takes longer to stop than the forwarder takes to send it all),
# then stopped gracefully (SIGTERM, SIGCONT): rsyslog writes out what it has read and
# resets the connection, dropping what its kernel had received but it
# had not read. With TLS 1.3 the forwarder's position moves only
# when the collector's TLS layer has read a batch, so nothing may be
# lost; the batch in flight may be sent again (at most 500 records after
# the position), never more than twice.
stop_rsyslog TERM
wait_for_log "$LOG" "$PATTERN_FWD lost: .*" "$WAIT_S" || fail "the forwarder did not notice the stop"
fast_writes 3000 || fail "the backlog could not be written"
backlog_last=$(trail_last)
fast_writes 1500 >"$TMP/writer.out" 2>&1 &
writer=$!
target=$(($(sed -E 's/.*"seq":([0-9]+).*/\1/' "$STATE/audit-forward.state") + 1000))
lost_before=$(grep -c "$PATTERN_FWD lost: " "$LOG")
# The watcher runs before the collector starts (the forwarder may send the
# whole backlog in a tenth of a second); the position file is replaced
# after each acknowledged batch (500 records at most): it says how far
# into the backlog the forwarder is. rsyslog's pid comes from its pid file.
rm -f "$RS_DIR/rsyslogd.pid"
python3 - "$STATE/audit-forward.state" "$RS_DIR/rsyslogd.pid" "$target" "$WAIT_S" \
    >"$TMP/watcher.out" 2>&1 <<'PY' &
import json, os, signal, sys, time
path, pid_file, target, limit = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
deadline = time.monotonic() + limit
while time.monotonic() < deadline:
    try:
        with open(path) as f:
            seq = json.load(f)["seq"]
    except (OSError, ValueError):
        seq = 0
    if seq >= target:
        with open(pid_file) as f:
            pid = int(f.read())
        os.kill(pid, signal.SIGSTOP)
        time.sleep(0.5)
        with open(path) as f:
            frozen = json.load(f)["seq"]
        os.kill(pid, signal.SIGTERM)
        os.kill(pid, signal.SIGCONT)
        print(seq, frozen)
        sys.exit(0)
    time.sleep(0.001)
sys.exit("the forwarder never got 1000 records into the backlog")
PY
watcher=$!
start_rsyslog
wait "$watcher" || fail "$(cat "$TMP/watcher.out")"
read -r at_freeze after_freeze <"$TMP/watcher.out"
# A frozen collector reads nothing: only an answer already on its way
# may move the position (one batch). Acknowledged by TCP, the position
# would run on into the frozen collector's kernel buffer, and those
# records be lost at the stop.
[ "$after_freeze" -le $((at_freeze + 500)) ] ||
    fail "the position moved from $at_freeze to $after_freeze while the collector was frozen"
pass "while the collector was frozen the position stayed at $after_freeze (from $at_freeze)"
stop_rsyslog TERM
lost_count() { [ "$(grep -c "$PATTERN_FWD lost: " "$LOG")" -gt "$lost_before" ]; }
until_true "$WAIT_S" lost_count || fail "the forwarder did not notice the stop in the burst"
lost_line=$(grep "$PATTERN_FWD lost: " "$LOG" | tail -n 1)
at=$(sed -E 's/.*records after ([0-9]+) will be sent.*/\1/' <<<"$lost_line")
[[ "$at" =~ ^[0-9]+$ ]] || fail "no loss logged for the stop in the burst: $lost_line"
[ "$at" -lt "$backlog_last" ] ||
    fail "the collector stopped after the backlog was sent (position $at, backlog up to $backlog_last)"
pass "rsyslog frozen, then stopped (SIGTERM) with records $((at + 1))..$backlog_last of the backlog still to send"
start_rsyslog
wait "$writer" || fail "the writer failed: $(cat "$TMP/writer.out")"
DOUBLES=(--doubles-in "$((at + 1))-$((at + 500))")
until_true "$WAIT_S" collector_complete "${DOUBLES[@]}" ||
    fail "records missing after a stop in a burst: $($COLLECTOR check "$RECEIVED" "$(trail_last)" "${DOUBLES[@]}")"
doubled=$($COLLECTOR check "$RECEIVED" "$(trail_last)" --exact "${DOUBLES[@]}") ||
    fail "after a stop in a burst: $doubled"
pass "after a stop in a burst, records 1..$(trail_last) all reached the collector, none lost ($doubled of the batch in flight)"

stop_daemon "$DAEMON_PID" TERM
assert_exact "three outages, clean stop" "${DOUBLES[@]}"
lost=$($COLLECTOR count "$RECEIVED" 8009)
restored=$($COLLECTOR count "$RECEIVED" 8010)
[ "$lost" = 3 ] || fail "expected three audit.forward.lost records for three outages, found $lost"
[ "$restored" = 3 ] || fail "expected three audit.forward.restored records, found $restored"
grep -qE "\\[bulwark@32473 seq=\"[0-9]+\" category=\"audit-log\" event=\"8009\" result=\"failure\" .*\\{\"collector\":\"127\\.0\\.0\\.1:$PORT\",\"reason\":\"" \
    "$RECEIVED" || fail "the loss record does not name the collector and a reason"
pass "the outages are in the trail: one loss record and one restore record each"

# The position is persisted, private, and names the collector.
mode=$(stat -c %a "$STATE/audit-forward.state")
[ "$mode" = 600 ] || fail "audit-forward.state has mode $mode, expected 600"
python3 - "$STATE/audit-forward.state" "127.0.0.1:$PORT" "$(trail_last)" <<'PY' ||
import json, sys
state = json.load(open(sys.argv[1]))
assert state == {"collector": sys.argv[2], "seq": int(sys.argv[3])}, state
PY
    fail "audit-forward.state does not hold the collector and the last record: $(cat "$STATE/audit-forward.state")"
pass "position persisted: $(cat "$STATE/audit-forward.state")"

# ---- a restart resumes where the last run stopped ---------------------------

before=$(trail_last)
start_daemon "$PROJECT" "$STATE" "$TMP/serve2.log"
wait_for_log "$LOG" "$PATTERN_FWD: resuming after record $before" 5 ||
    fail "the forwarder did not resume after record $before"
writes 31 35
until_true "$WAIT_S" collector_complete "${DOUBLES[@]}" ||
    fail "records after the restart did not arrive"
stop_daemon "$DAEMON_PID" TERM
assert_exact "after a restart of the daemon" "${DOUBLES[@]}"

# ---- collectors that must be refused ----------------------------------------

# refused NAME CA SERVER_NAME: a fresh daemon whose project trusts CA and
# expects SERVER_NAME does not send anything and says why.
refused() {
    local lines_before
    lines_before=$(wc -l <"$RECEIVED")
    make_project "$TMP/project-$1" "$2" "$3"
    start_daemon "$TMP/project-$1" "$TMP/state-$1" "$TMP/serve-$1.log"
    wait_for_log "$LOG" "$PATTERN_FWD: cannot connect: collector's certificate refused" \
        "$WAIT_S" || fail "$1: the collector's certificate was not refused"
    stop_daemon "$DAEMON_PID" TERM
    [ "$(wc -l <"$RECEIVED")" = "$lines_before" ] || fail "$1: records reached the collector"
    pass "collector refused: $1"
}
refused other-ca "$TMP/other-pki/ca.pem" localhost
refused wrong-name "$TMP/pki/ca.pem" collector.example.net

# ---- TLS 1.2: AEAD suites with forward secrecy only -------------------------

# restart_rsyslog TLS-OPTIONS: the collector again, with these TLS
# options and an empty received.log.
restart_rsyslog() {
    stop_rsyslog TERM
    mv "$RECEIVED" "$RECEIVED.$(date +%s%N)"
    rm -f "$RS_DIR/parsed.log"
    configure_rsyslog "$1"
    start_rsyslog
}

# A collector that speaks TLS 1.2 at most: an ECDHE suite with AES-GCM or
# ChaCha20-Poly1305, and the log says that only TCP acknowledges records.
restart_rsyslog 'gnutlsPriorityString="MaxProtocol=TLSv1.2"'
make_project "$TMP/project-tls12" "$TMP/pki/ca.pem" localhost
STATE="$TMP/state-tls12"
start_daemon "$TMP/project-tls12" "$STATE" "$TMP/serve-tls12.log"
wait_for_log "$LOG" "$PATTERN_FWD: TLSv1\.2, ECDHE-ECDSA-[A-Z0-9-]*(GCM|CHACHA20)[A-Z0-9-]*, records acknowledged by the collector's TCP stack only" \
    "$WAIT_S" || fail "TLS 1.2: no ECDHE AEAD suite, or the acknowledgement is not said"
writes 1 3
until_true "$WAIT_S" collector_complete || fail "TLS 1.2: records did not arrive"
stop_daemon "$DAEMON_PID" TERM
assert_exact "TLS 1.2 collector"

# A collector that offers only a CBC suite (with ECDHE) is refused.
restart_rsyslog 'gnutlsPriorityString="MaxProtocol=TLSv1.2\nCipherString=ECDHE-ECDSA-AES128-SHA256"'
make_project "$TMP/project-cbc" "$TMP/pki/ca.pem" localhost
start_daemon "$TMP/project-cbc" "$TMP/state-cbc" "$TMP/serve-cbc.log"
wait_for_log "$LOG" "$PATTERN_FWD: cannot connect: TLS handshake: .*handshake failure" "$WAIT_S" ||
    fail "a collector offering only ECDHE-ECDSA-AES128-SHA256 (CBC) was not refused"
stop_daemon "$DAEMON_PID" TERM
[ ! -s "$RECEIVED" ] || fail "records reached a collector that offers only a CBC suite"
grep -q "no shared cipher" "$RS_DIR/rsyslog.log" || fail "rsyslog does not say why the handshake failed"
pass "collector refused: it offers only a CBC suite (rsyslog: no shared cipher)"

echo "PASS: 30-audit-forward"
