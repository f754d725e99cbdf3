#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The daemon's life cycle: `bulwark serve` on the demo project becomes
# ready, makes its state private (directory 0700, control socket 0600,
# lock file naming its pid), keeps a second daemon off the same state
# while the first keeps running, logs periodic status, stops on SIGTERM
# and on SIGINT with status 0 within 2 s and leaves no socket or lock
# behind, recovers from a killed predecessor's stale socket, and refuses
# a state directory that others could write.
source "$BW_SOURCE_DIR/tests/integration/fixtures/cli/lib.sh"

PROJECT=$(demo_project)
STATE="$TMP/state" # does not exist yet: serve creates it

start_daemon "$PROJECT" "$STATE" "$TMP/serve1.log" --status-interval 1
FIRST=$DAEMON_PID
pass "serve on $(basename "$PROJECT") reported ready"

mode=$(stat -c %a "$STATE")
[ "$mode" = 700 ] || fail "state directory mode is $mode, expected 700"
[ -S "$STATE/control.sock" ] || fail "no control socket at $STATE/control.sock"
mode=$(stat -c %a "$STATE/control.sock")
[ "$mode" = 600 ] || fail "control socket mode is $mode, expected 600"
[ "$(tr -d '\n' <"$STATE/bulwark.lock")" = "$FIRST" ] || fail "lock file does not hold pid $FIRST"
pass "state directory 0700, control socket 0600, lock file holds the pid"

# A second daemon on the same state refuses, naming the holder.
expect_status 1 "second serve on the same state" \
    "$BW_BIN" serve --project "$PROJECT" --state "$STATE"
expect_output "state directory $STATE is in use by another bulwark \\(pid $FIRST\\)" \
    "second serve refusal"
kill -0 "$FIRST" 2>/dev/null || fail "the first daemon died when a second one was started"
expect_status 0 "status after the refused second start" "$BW_BIN" status --state "$STATE"
expect_output "connected" "status shows the device connected"
pass "second instance refused; the first keeps running"

wait_for_log "$LOG" ' status: [0-9]+ tags \(' 5 || fail "no periodic status line within 5 s"
pass "periodic status line logged"

stop_daemon "$FIRST" TERM
[ ! -e "$STATE/control.sock" ] || fail "control.sock left behind after SIGTERM"
[ ! -e "$STATE/bulwark.lock" ] || fail "bulwark.lock left behind after SIGTERM"
grep -q ' stopped$' "$LOG" || fail "no 'stopped' log line"
pass "socket and lock removed on stop"

# The same state again (it exists now), stopped with SIGINT.
start_daemon "$PROJECT" "$STATE" "$TMP/serve2.log" --status-interval 0
stop_daemon "$DAEMON_PID" INT

# A daemon killed outright leaves a stale socket; the next one replaces it.
start_daemon "$PROJECT" "$STATE" "$TMP/serve3.log"
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
[ -S "$STATE/control.sock" ] || fail "expected a stale socket after SIGKILL"
start_daemon "$PROJECT" "$STATE" "$TMP/serve4.log"
expect_status 0 "status after replacing a stale socket" "$BW_BIN" status --state "$STATE"
stop_daemon "$DAEMON_PID" TERM
pass "stale socket of a killed daemon replaced"

# State directories that others could write are refused.
mkdir -m 0770 "$TMP/shared"
chmod 0770 "$TMP/shared"
expect_status 1 "group-writable state directory" \
    "$BW_BIN" serve --project "$PROJECT" --state "$TMP/shared"
expect_output "writable by group or others" "group-writable refusal"
[ ! -e "$TMP/shared/bulwark.lock" ] || fail "a lock was taken in a refused state directory"
touch "$TMP/plainfile"
expect_status 1 "state path that is a file" \
    "$BW_BIN" serve --project "$PROJECT" --state "$TMP/plainfile"
expect_output "not a directory" "file as state directory"
pass "unsafe state directories refused"

echo "PASS: 10-serve-lifecycle"
