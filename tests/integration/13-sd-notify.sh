#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Readiness under a service manager: with NOTIFY_SOCKET set, `bulwark
# serve` sends READY=1 once serving and STOPPING=1 on SIGTERM, to a path
# socket and to an abstract ('@') one. A tiny python3 datagram listener
# stands in for systemd.
source "$BW_SOURCE_DIR/tests/integration/fixtures/cli/lib.sh"

PROJECT=$(demo_project)

# listen ADDRESS OUTFILE: records every datagram, one per line, until
# STOPPING=1 arrives or 30 s pass. Sets LISTENER.
listen() {
    python3 - "$1" "$2" <<'PY' &
import socket, sys
addr, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
open(out + ".bound", "w").close()
s.settimeout(30)
with open(out, "a") as f:
    while True:
        msg = s.recv(4096).decode()
        f.write(msg.replace("\n", " ") + "\n")
        f.flush()
        if "STOPPING=1" in msg:
            break
PY
    LISTENER=$!
    local i
    for ((i = 0; i < 100; i++)); do
        [ -e "$2.bound" ] && return 0
        sleep 0.05
    done
    fail "notify listener did not start"
}

check_notify() {
    local addr=$1 name=$2 out="$TMP/$2.notify"
    listen "$addr" "$out"
    NOTIFY_SOCKET="$addr" start_daemon "$PROJECT" "$TMP/state-$name" "$TMP/$name.log"
    wait_for_log "$out" '^READY=1' 5 || fail "$name: no READY=1 (got: $(cat "$out"))"
    pass "$name: READY=1 received after ready"
    stop_daemon "$DAEMON_PID" TERM
    wait_for_log "$out" '^STOPPING=1' 5 || fail "$name: no STOPPING=1 (got: $(cat "$out"))"
    wait "$LISTENER" || fail "$name: notify listener failed"
    pass "$name: STOPPING=1 received on stop"
}

check_notify "$TMP/notify.sock" path
check_notify "@bw-it-notify-$$-$RANDOM" abstract

echo "PASS: 13-sd-notify"
