#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The demo (`make demo`): validates the demo project, explains how to
# watch and write live values from another terminal, then runs the
# daemon in the foreground until Ctrl-C.
# Usage: scripts/demo.sh BIN PROJECT_DIR STATE_DIR
set -euo pipefail

if [ $# -ne 3 ]; then
    echo "usage: $0 BIN PROJECT_DIR STATE_DIR" >&2
    exit 2
fi
BIN=$1
PROJECT=$2
STATE=$3

say() { printf '\n==> %s\n' "$*"; }

say "Checking the demo project $PROJECT"
"$BIN" project validate "$PROJECT"

say "What the demo runs"
cat <<TEXT
Bulwark will serve the project '$PROJECT': a simulated water works
(river intake, clearwell, pumps, elevated tank, chlorination). The
built-in simulator plays the plant; the tag engine keeps every value
with its quality and timestamp. The running system keeps its state in
$STATE (created private, mode 0700).

Every 5 seconds the server logs a status line: tags by quality, engine
counters and the state of each device.

No account exists at first, and none has a default password: while no
administrator exists, the server prints a one-time setup secret (valid
for one hour) just below, in a line that begins "No administrator
exists" (when this output is not a terminal, the server keeps the secret
in $STATE/setup-secret, and this script shows it from there, in a line
that begins "One-time setup secret"). Create the first security
administrator with it, from another
terminal (it asks for the secret, then a password of at least 12
characters with upper- and lower-case letters and a digit):

  first administrator $BIN user setup --state $STATE admin
  list the accounts   $BIN user list --state $STATE
  add an operator     $BIN user add --state $STATE op1 --roles operator

From another terminal, in this directory:

  see live values     $BIN tags --state $STATE
  only the pumps      $BIN tags --state $STATE --prefix P
  server status       $BIN status --state $STATE
  start pump P102     $BIN tag write --state $STATE P102.Run true
  change a setpoint   $BIN tag write --state $STATE T1.LevelHighSP 4.2
  a refused write     $BIN tag write --state $STATE T1.LevelHighSP 99
  tag definitions     $BIN tags $PROJECT

Press Ctrl-C here to stop the server.
TEXT

say "Starting: $BIN serve --project $PROJECT --state $STATE"
if [ -t 1 ]; then
    # On a terminal the server prints the setup secret itself.
    exec "$BIN" serve --project "$PROJECT" --state "$STATE" --status-interval 5
fi
# Standard output is a pipe or a file (make demo | tee ...): the server
# then keeps the secret out of it, in STATE/setup-secret (0600); show it
# from there to whoever runs the demo, as a terminal would have.
started=$(mktemp)
"$BIN" serve --project "$PROJECT" --state "$STATE" --status-interval 5 &
server=$!
trap 'kill -INT "$server" 2>/dev/null' INT TERM
for _ in $(seq 50); do
    # Newer than our start: not a file left by an earlier run.
    if [ -s "$STATE/setup-secret" ] && [ "$STATE/setup-secret" -nt "$started" ]; then
        printf 'One-time setup secret (valid for one hour, from %s): %s\n' \
            "$STATE/setup-secret" "$(cat "$STATE/setup-secret")"
        break
    fi
    kill -0 "$server" 2>/dev/null || break
    sleep 0.1
done
rm -f "$started"
status=0
wait "$server" || status=$?
# A signal interrupts the first wait; the server is still stopping.
if kill -0 "$server" 2>/dev/null; then
    status=0
    wait "$server" || status=$?
fi
exit "$status"
