#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The control socket against a running daemon (the CLI's small fixture
# project): `bulwark tags --state` shows live good values, `bulwark tag
# write` changes memory and device tags, refused writes (out of range,
# unknown tag, read-only tag, wrong type) print the engine's reason and
# exit 1, `bulwark status` reports, and bad clients (oversized request,
# malformed JSON, unknown ops, garbage, too many connections) get error
# replies without hurting the daemon.
source "$BW_SOURCE_DIR/tests/integration/fixtures/cli/lib.sh"

STATE="$TMP/state"
SOCK="$STATE/control.sock"
start_daemon "$FIXTURES/small" "$STATE" "$TMP/serve.log" --log-level debug

# live_value NAME: the VALUE column of NAME in `bulwark tags --state`.
live_value() {
    "$BW_BIN" tags --state "$STATE" --prefix "$1" | awk -v n="$1" '$1 == n { print $2 }'
}

# wait_value NAME VALUE: polls until NAME shows VALUE (5 s at most).
wait_value() {
    local i
    for ((i = 0; i < 100; i++)); do
        [ "$(live_value "$1")" = "$2" ] && return 0
        sleep 0.05
    done
    fail "$1 did not become $2 (it is $(live_value "$1"))"
}

wait_value Setpoint 42.5
wait_value Counter 7
wait_value Label '"hello"'
expect_status 0 "tags --state" "$BW_BIN" tags --state "$STATE"
expect_output '^NAME +VALUE +QUALITY +SERVER TIME \(UTC\)$' "live header"
expect_output '^Setpoint +42\.5 +good +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$' "Setpoint good"
for ((i = 0; i < 100; i++)); do
    OUT=$("$BW_BIN" tags --state "$STATE" --json)
    python3 -c '
import json, sys
tags = {t["name"]: t for t in json.loads(sys.argv[1])}
assert tags["Wave"]["quality"] == "good" and tags["Tank1.Level"]["quality"] == "good"
' "$OUT" 2>/dev/null && break
    sleep 0.05
done
[ "$i" -lt 100 ] || fail "device tags did not become good: $OUT"
pass "live values are good, with server timestamps"

expect_status 0 "write Setpoint" "$BW_BIN" tag write --state "$STATE" Setpoint 55.5
expect_output "Setpoint: write accepted" "write accepted"
wait_value Setpoint 55.5
expect_status 0 "write Counter" "$BW_BIN" tag write --state "$STATE" Counter 12
wait_value Counter 12
expect_status 0 "write Label" "$BW_BIN" tag write --state "$STATE" Label "new text"
wait_value Label '"new'
expect_status 0 "write Pump1.Run" "$BW_BIN" tag write --state "$STATE" Pump1.Run true
wait_value Pump1.Run true
pass "writes change memory and device tags"

expect_status 1 "write out of range" "$BW_BIN" tag write --state "$STATE" Setpoint 150
expect_output "^bulwark: write to Setpoint refused: .*maximum" "out-of-range reason"
expect_status 1 "write unknown tag" "$BW_BIN" tag write --state "$STATE" NoSuchTag 1
expect_output "^bulwark: write to NoSuchTag refused: no tag named NoSuchTag" "unknown tag reason"
expect_status 1 "write read-only tag" "$BW_BIN" tag write --state "$STATE" Fixed 4
expect_output "^bulwark: write to Fixed refused: .*read-only" "read-only reason"
expect_status 1 "write device input" "$BW_BIN" tag write --state "$STATE" Tank1.Level 1
expect_status 1 "write wrong type" "$BW_BIN" tag write --state "$STATE" Counter abc
expect_output "refused: .*not a valid int" "wrong type reason"
wait_value Setpoint 55.5
pass "refused writes print the reason and exit 1"

expect_status 0 "status" "$BW_BIN" status --state "$STATE"
expect_output "^project +cli_small$" "status project"
expect_output "^tags +7: [0-9]+ good" "status tag counts"
expect_output "^sim1 +sim +connected" "status device"
expect_status 0 "status --json" "$BW_BIN" status --state "$STATE" --json
python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert r["ok"] and r["tags"]["total"]==7 and r["devices"][0]["state"]=="connected", r' \
    "$OUT" || fail "status --json"
pass "status reports"

PY="python3 $FIXTURES/sock.py $SOCK"
OUT=$($PY big 70000)
expect_output '"code": ?"too_large"' "oversized request gets too_large"
expect_output '^closed$' "oversized request closes the connection"
OUT=$($PY line '{"op":"status"')
expect_output '"ok": ?false.*"code": ?"malformed"' "malformed JSON"
OUT=$($PY line '{"op":"reboot"}')
expect_output '"code": ?"bad_request"' "unknown op"
OUT=$($PY line '{"op":"write","tag":"Setpoint","value":1,"force":true}')
expect_output '"code": ?"bad_request"' "unknown key"
OUT=$($PY raw 'bytes(range(256)) + b"\n"')
expect_output '"code": ?"malformed"' "binary garbage"
OUT=$($PY line '{"op":"write","tag":"Setpoint","value":99.5}')
expect_output '"ok": ?true' "raw write"
wait_value Setpoint 99.5
OUT=$($PY flood 24)
expect_output '^busy=([1-9]|1[0-9])$' "connections beyond the limit are told busy"
kill -0 "$DAEMON_PID" 2>/dev/null || fail "daemon died from bad clients"
expect_status 0 "status after bad clients" "$BW_BIN" status --state "$STATE"
pass "bad clients get error replies; the daemon carries on"

stop_daemon "$DAEMON_PID" TERM
expect_status 1 "tag write without a daemon" "$BW_BIN" tag write --state "$STATE" Counter 1
expect_output "no bulwark is running on state directory" "no daemon message"

echo "PASS: 11-control-socket"
