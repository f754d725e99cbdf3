#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The daemon with a Modbus TCP device (bw-mbserver, our libmodbus server,
# on loopback): `bulwark devices` shows the device connected with its
# counters; an operator write through the control socket reaches the
# device's register and is audited with the user and the old and new
# values; a write the device refuses is answered with what failed and
# where, and audited as a failure; a write that breaks a validation rule
# of the project is refused with the rule and audited; when the server goes away the device
# turns failed, its tags bad, and the audit trail records the loss, then
# the recovery when it returns; and an output with a shutdown fail-safe
# value is driven to it when the daemon stops.
source "$BW_SOURCE_DIR/tests/integration/fixtures/cli/lib.sh"

command -v sqlite3 >/dev/null || fail "sqlite3 missing (scripts/deps.sh installs it)"
MBSERVER="$(dirname "$BW_BIN")/bw-mbserver"
[ -x "$MBSERVER" ] || fail "bw-mbserver is not built next to $BW_BIN"

SERVER_PID=""
start_server() {
    local port=$1
    coproc MB { exec "$MBSERVER" --port "$port" --holding 100 --coils 16; }
    SERVER_PID=$MB_PID
    DAEMON_PIDS+=("$SERVER_PID")
    read -r -t 10 word PORT <&"${MB[0]}" || fail "bw-mbserver did not start"
    [ "$word" = port ] || fail "bw-mbserver said: $word $PORT"
}
start_server 0

PROJECT="$TMP/project"
STATE="$TMP/state"
mkdir -p "$PROJECT"
cat >"$PROJECT/project.json" <<JSON
{"format": 1, "name": "modbus.it",
 "scan_classes": [{"name": "fast", "period_ms": 50}],
 "devices": [{"name": "plc", "driver": "modbus", "scan_class": "fast",
              "parameters": {"host": "127.0.0.1", "port": $PORT, "timeout_ms": 200,
                             "retries": 0, "backoff_min_ms": 50, "backoff_max_ms": 200}}],
 "tags": [
  {"name": "speed", "type": "int", "device": "plc", "address": "holding:3",
   "access": {"write": {"level": 1, "areas": [1]}}},
  {"name": "bad", "type": "int", "device": "plc", "address": "holding:99",
   "access": {"write": {"level": 1, "areas": [1]}}},
  {"name": "mode", "type": "int", "device": "plc", "address": "holding:5",
   "access": {"write": {"level": 1, "areas": [1]}}, "validate": {"allowed": [1, 2, 3]}},
  {"name": "heater", "type": "int", "device": "plc", "address": "holding:20",
   "access": {"write": {"level": 1, "areas": [1]}},
   "failsafe": {"value": 0, "on": ["shutdown", "comm_loss"], "comm_loss_ms": 100}},
  {"name": "level", "type": "float", "device": "plc", "address": "holding:10",
   "modbus": {"type": "uint16", "scale": {"raw_min": 0, "raw_max": 1000, "eu_min": 0, "eu_max": 10}}}
 ]}
JSON

start_daemon "$PROJECT" "$STATE" "$TMP/serve.log" --status-interval 0
sql() { sqlite3 -batch -noheader "$STATE/audit.db" "$@"; }

ok=""
for _ in $(seq 1 100); do
    "$BW_BIN" devices --state "$STATE" --json >"$TMP/devices.json" 2>/dev/null || true
    if grep -q '"state": *"connected"' "$TMP/devices.json"; then ok=1; break; fi
    sleep 0.1
done
[ -n "$ok" ] || fail "the device did not connect: $(cat "$TMP/devices.json")"
expect_status 0 "devices" "$BW_BIN" devices --state "$STATE"
expect_output '^plc \(modbus\): connected' "devices names the device and its state"
expect_output 'round trip p50 [0-9]+ us' "devices shows round-trip percentiles"
pass "the device is connected and its counters are shown"

expect_status 0 "tag write" "$BW_BIN" tag write --state "$STATE" speed 1234
row=$(sql "SELECT source_name || '|' || result || '|' || details FROM records WHERE type='tag.write'")
grep -q "^$(id -un)|1|" <<<"$row" || fail "tag.write not recorded as a success by the user: $row"
grep -q '"new":1234' <<<"$row" || fail "tag.write lacks the new value: $row"
grep -q '"old":0' <<<"$row" || fail "tag.write lacks the old value: $row"
ok=""
for _ in $(seq 1 50); do
    "$BW_BIN" tags --state "$STATE" --json >"$TMP/tags.json" 2>/dev/null || true
    if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
t = {x["name"]: x for x in (d["tags"] if isinstance(d, dict) else d)}
sys.exit(0 if t["speed"]["value"] == 1234 and t["speed"]["quality"] == "good" else 1)' "$TMP/tags.json"; then ok=1; break; fi
    sleep 0.1
done
[ -n "$ok" ] || fail "the written value did not come back from the device"
pass "a write reaches the device, reads back and is audited with old and new value"

# holding:99 exists, but writing 70000 does not fit a register.
expect_status 1 "write that does not fit" "$BW_BIN" tag write --state "$STATE" bad 70000
expect_output "does not fit" "the refusal says why"
row=$(sql "SELECT result || '|' || details FROM records WHERE type='tag.write_refused' ORDER BY seq DESC LIMIT 1")
grep -q '"tag":"bad"' <<<"$row" || fail "the refused write is not on record: $row"
pass "a write that cannot be encoded is refused with the reason and audited"

expect_status 1 "write against a rule" "$BW_BIN" tag write --state "$STATE" mode 7
expect_output "refused by validate.allowed: 7 is not one of the allowed values \(1, 2, 3\)" \
    "the refusal names the rule"
row=$(sql "SELECT category || '|' || details FROM records WHERE type='tag.write_refused' AND details LIKE '%\"tag\":\"mode\"%'")
grep -q '^2|.*validate.allowed' <<<"$row" || fail "the rule's refusal is not a request error on record: $row"
expect_status 0 "write by the rules" "$BW_BIN" tag write --state "$STATE" mode 2
pass "a write against a validation rule is refused with the rule and audited"

expect_status 0 "heater on" "$BW_BIN" tag write --state "$STATE" heater 55

kill -TERM "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
ok=""
for _ in $(seq 1 100); do
    "$BW_BIN" devices --state "$STATE" --json >"$TMP/devices.json" 2>/dev/null || true
    if grep -q '"state": *"failed"' "$TMP/devices.json"; then ok=1; break; fi
    sleep 0.1
done
[ -n "$ok" ] || fail "the device did not turn failed: $(cat "$TMP/devices.json")"
expect_status 1 "write to a failed device" "$BW_BIN" tag write --state "$STATE" speed 7
expect_output "device plc" "the refusal names the device"
[ "$(sql "SELECT count(*) FROM records WHERE type='device.comm_lost' AND source_name='plc'")" = 1 ] \
    || fail "the loss of communication is not on record"
pass "a lost device turns failed, refuses writes and is audited"
# The heater's comm_loss fail-safe fires 100 ms into the outage.
ok=""
for _ in $(seq 1 100); do
    if [ "$(sql "SELECT count(*) FROM records WHERE type='failsafe.triggered' AND details LIKE '%\"tag\":\"heater\"%'")" -ge 1 ]; then ok=1; break; fi
    sleep 0.05
done
[ -n "$ok" ] || fail "the comm_loss fail-safe is not on record"

start_server "$PORT"
ok=""
for _ in $(seq 1 100); do
    if [ "$(sql "SELECT count(*) FROM records WHERE type='device.comm_restored'")" = 1 ]; then ok=1; break; fi
    sleep 0.1
done
[ -n "$ok" ] || fail "the recovery is not on record"
pass "recovery is audited"

# The heater's fail-safe value was written as soon as the device
# answered again.
ok=""
for _ in $(seq 1 50); do
    if [ "$(sql "SELECT count(*) FROM records WHERE type='failsafe.confirmed'")" -ge 1 ]; then ok=1; break; fi
    sleep 0.1
done
[ -n "$ok" ] || fail "the fail-safe value was not confirmed"
expect_status 0 "heater on again" "$BW_BIN" tag write --state "$STATE" heater 60

# Reads holding register $1 of the server with a raw Modbus TCP request.
read_holding() {
    python3 - "$PORT" "$1" <<'PY'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(struct.pack(">HHHBBHH", 7, 0, 6, 1, 3, int(sys.argv[2]), 1))
r = b""
while len(r) < 11:
    r += s.recv(11 - len(r))
print(struct.unpack(">H", r[9:11])[0])
PY
}
[ "$(read_holding 20)" = 60 ] || fail "the heater is not at 60 before the stop"
stop_daemon "$DAEMON_PID" TERM
[ "$(read_holding 20)" = 0 ] || fail "the heater was not driven to its fail-safe value at shutdown"
[ "$(sql "SELECT count(*) FROM records WHERE type='failsafe.confirmed'")" -ge 2 ] \
    || fail "the shutdown fail-safe is not on record"
pass "fail-safe values on communication loss and at shutdown, on record"
expect_status 0 "audit verify" "$BW_BIN" audit verify --state "$STATE"
