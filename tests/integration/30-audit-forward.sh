#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Forwarding the audit trail as RFC 5424 syslog over TLS (RFC 5425) to a
# real collector: Debian's rsyslog with its ossl driver, on loopback,
# with a certificate from a CA made here. The daemon forwards every
# record; rsyslog's RFC 5424 parser reads each one. The collector is
# killed in the middle: the daemon records the loss (8009) once, goes on
# recording tag writes, reconnects when the collector is back (8010) and
# resends from its persisted position. After a clean stop the collector
# holds every record 1..last exactly once; after a restart of the daemon
# it resumes where it stopped, without doubles. A collector whose
# certificate the configured CA did not sign, or that carries another
# name, is refused.
source "$BW_SOURCE_DIR/tests/integration/fixtures/cli/lib.sh"

AUDIT_FIXTURES="$BW_SOURCE_DIR/tests/integration/fixtures/audit"
COLLECTOR="python3 $AUDIT_FIXTURES/collector.py"
RS_DIR="$TMP/collector"
RS_PID=""
# Waits for the collector and the daemon; generous for sanitizer builds
# and for the forwarder's back-off (1, 2, 4, ... s).
WAIT_S=${WAIT_S:-45}

command -v rsyslogd >/dev/null || { echo "FAIL: rsyslogd missing (scripts/deps.sh)" >&2; exit 1; }
command -v openssl >/dev/null || { echo "FAIL: openssl missing (scripts/deps.sh)" >&2; exit 1; }

stop_rsyslog() {
    if [ -n "$RS_PID" ]; then
        kill -KILL "$RS_PID" 2>/dev/null || true
        wait "$RS_PID" 2>/dev/null || true
        RS_PID=""
    fi
}
trap 'stop_rsyslog; cleanup' EXIT

# As lib.sh's fail, with the collector's side too.
fail() {
    echo "FAIL: $*" >&2
    if [ -f "$RS_DIR/rsyslog.log" ]; then
        echo "--- rsyslog log:" >&2
        tail -n 20 "$RS_DIR/rsyslog.log" >&2
    fi
    if [ -f "$RS_DIR/received.log" ]; then
        echo "--- collector received (last 5 of $(wc -l <"$RS_DIR/received.log")):" >&2
        tail -n 5 "$RS_DIR/received.log" >&2
    fi
    if [ -n "$LOG" ] && [ -f "$LOG" ]; then
        echo "--- daemon log ($LOG):" >&2
        tail -n 40 "$LOG" >&2
    fi
    exit 1
}

# until_true SECONDS COMMAND...: polls COMMAND every 0.1 s until it
# succeeds; false when SECONDS pass first.
until_true() {
    local limit=$1 i
    shift
    for ((i = 0; i < limit * 10; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# ---- a CA, and a collector certificate for localhost and 127.0.0.1 ----------

# make_ca DIR CN: a self-signed CA certificate DIR/ca.pem, key DIR/ca.key.
make_ca() {
    mkdir -p "$1"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -keyout "$1/ca.key" -out "$1/ca.pem" -subj "/CN=$2" \
        -addext basicConstraints=critical,CA:TRUE \
        -addext keyUsage=critical,keyCertSign,cRLSign >/dev/null 2>&1 ||
        fail "openssl could not make the CA $2"
}

# make_server CADIR OUTDIR: OUTDIR/server.pem and server.key, for
# localhost and 127.0.0.1, signed by the CA in CADIR.
make_server() {
    mkdir -p "$2"
    printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=CA:FALSE" \
        "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >"$2/ext.cnf"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$2/server.key" -out "$2/server.csr" -subj "/CN=localhost" >/dev/null 2>&1 &&
        openssl x509 -req -in "$2/server.csr" -CA "$1/ca.pem" -CAkey "$1/ca.key" \
            -CAcreateserial -days 2 -extfile "$2/ext.cnf" -out "$2/server.pem" >/dev/null 2>&1 ||
        fail "openssl could not make the collector's certificate"
    chmod 600 "$2/server.key"
}

make_ca "$TMP/pki" "Bulwark test CA"
make_server "$TMP/pki" "$RS_DIR"
cp "$TMP/pki/ca.pem" "$RS_DIR/ca.pem"
make_ca "$TMP/other-pki" "Some other CA"
pass "CA and collector certificate made"

# ---- the collector ----------------------------------------------------------

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$RS_DIR/work"
sed -e "s|@DIR@|$RS_DIR|g" -e "s|@PORT@|$PORT|g" "$AUDIT_FIXTURES/rsyslog.conf.in" \
    >"$RS_DIR/rsyslog.conf"
rsyslogd -N1 -f "$RS_DIR/rsyslog.conf" >"$RS_DIR/check.log" 2>&1 ||
    fail "rsyslog refuses the test configuration: $(cat "$RS_DIR/check.log")"

# listening: something listens on 127.0.0.1:PORT (from /proc, no tools).
listening() {
    local hex
    hex=$(printf '0100007F:%04X' "$PORT")
    awk -v a="$hex" '$2 == a && $4 == "0A" { found = 1 } END { exit !found }' /proc/net/tcp
}

start_rsyslog() {
    rsyslogd -n -f "$RS_DIR/rsyslog.conf" -i "$RS_DIR/rsyslogd.pid" >>"$RS_DIR/rsyslog.log" 2>&1 &
    RS_PID=$!
    until_true "$WAIT_S" listening || fail "rsyslogd does not listen on port $PORT"
}

start_rsyslog
pass "rsyslog listens for syslog over TLS on 127.0.0.1:$PORT"

# ---- the project, forwarding to it ------------------------------------------

# make_project DIR CA SERVER_NAME: the CLI's small project with an audit
# section forwarding to the collector, the CA file copied beside it.
make_project() {
    mkdir -p "$1"
    cp "$FIXTURES/small/project.json" "$1/project.json"
    cp "$2" "$1/ca.pem"
    python3 - "$1/project.json" "$PORT" "$3" <<'PY'
import json, sys
path, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(path) as f:
    project = json.load(f)
project["audit"] = {"forward": {"host": "127.0.0.1", "port": port, "ca_file": "ca.pem",
                                "server_name": name}}
with open(path, "w") as f:
    json.dump(project, f, indent=2)
PY
}

PROJECT="$TMP/project"
STATE="$TMP/state"
make_project "$PROJECT" "$TMP/pki/ca.pem" localhost
RECEIVED="$RS_DIR/received.log"
PATTERN_FWD="audit forwarding to 127\\.0\\.0\\.1:$PORT"

# trail_last: the newest sequence number of the trail in STATE.
trail_last() {
    sqlite3 -readonly "$STATE/audit.db" 'SELECT COALESCE(MAX(seq), 0) FROM records'
}

# collector_complete: the collector holds every record of the trail so far.
collector_complete() {
    local last
    last=$(trail_last) || return 1
    [ "$last" -gt 0 ] && $COLLECTOR check "$RECEIVED" "$last"
}

# writes FIRST LAST: tag writes Counter=FIRST..LAST, each one audited.
writes() {
    local v
    for ((v = $1; v <= $2; v++)); do
        expect_status 0 "tag write Counter $v" "$BW_BIN" tag write --state "$STATE" Counter "$v"
    done
}

# assert_exact: after the daemon stopped, the collector holds 1..last
# exactly once, and rsyslog parsed every message as RFC 5424.
assert_exact() {
    local last problems
    last=$(trail_last)
    until_true "$WAIT_S" collector_complete ||
        fail "the collector lacks records: $($COLLECTOR check "$RECEIVED" "$last")"
    problems=$($COLLECTOR check "$RECEIVED" "$last" --exact) ||
        fail "the collector does not hold records 1..$last exactly once: $problems"
    problems=$($COLLECTOR parsed "$RS_DIR/parsed.log") || fail "$problems"
    pass "the collector holds records 1..$last exactly once, each parsed as RFC 5424 ($1)"
}

start_daemon "$PROJECT" "$STATE" "$TMP/serve1.log"
wait_for_log "$LOG" "$PATTERN_FWD connected" "$WAIT_S" || fail "the forwarder did not connect"
writes 1 10
until_true "$WAIT_S" collector_complete ||
    fail "records did not reach the collector: $($COLLECTOR check "$RECEIVED" "$(trail_last)")"
pass "records up to $(trail_last) forwarded while the collector is up"

# ---- the collector goes away in the middle ----------------------------------

stop_rsyslog
wait_for_log "$LOG" "$PATTERN_FWD lost: " "$WAIT_S" || fail "the forwarder did not notice the loss"
writes 11 20
start_rsyslog
wait_for_log "$LOG" "$PATTERN_FWD restored" "$WAIT_S" || fail "the forwarder did not reconnect"
writes 21 30
until_true "$WAIT_S" collector_complete ||
    fail "records missing after the outage: $($COLLECTOR check "$RECEIVED" "$(trail_last)")"
pass "after the outage, records up to $(trail_last) reached the collector"

stop_daemon "$DAEMON_PID" TERM
assert_exact "outage in the middle, clean stop"
lost=$($COLLECTOR count "$RECEIVED" 8009)
restored=$($COLLECTOR count "$RECEIVED" 8010)
[ "$lost" = 1 ] || fail "expected one audit.forward.lost record for one outage, found $lost"
[ "$restored" = 1 ] || fail "expected one audit.forward.restored record, found $restored"
grep -qE "\\[bulwark@32473 seq=\"[0-9]+\" category=\"audit-log\" event=\"8009\" result=\"failure\" .*\\{\"collector\":\"127\\.0\\.0\\.1:$PORT\",\"reason\":\"" \
    "$RECEIVED" || fail "the loss record does not name the collector and a reason"
pass "the outage is in the trail: one loss record and one restore record"

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
until_true "$WAIT_S" collector_complete || fail "records after the restart did not arrive"
stop_daemon "$DAEMON_PID" TERM
assert_exact "after a restart of the daemon"

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

echo "PASS: 30-audit-forward"
