#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Audit failure (SR 2.10) on a real file system: the state directory
# lives on a small tmpfs mounted for the test. First the file system is
# filled up: the daemon says loudly that records cannot be written, keeps
# control running (status answers, writes go through under the default
# "continue" policy), and once space is back writes every queued record
# with audit.failure and audit.recovered on record; the trail verifies.
# Then the database file is made unwritable (chattr +i) under the
# "refuse" policy: operator writes are refused while the trail cannot
# record them, and accepted again once it can. Needs root (mount,
# chattr), as CI runs.
source "$BW_SOURCE_DIR/tests/integration/fixtures/cli/lib.sh"

[ "$(id -u)" = 0 ] || fail "this test mounts a tmpfs and must run as root"
command -v sqlite3 >/dev/null || fail "sqlite3 missing (scripts/deps.sh installs it)"

FS="$TMP/fs"
mkdir -p "$FS"
mount -t tmpfs -o size=8m,mode=0700 tmpfs "$FS" || fail "cannot mount a tmpfs at $FS"
umount_fs() {
    mount -o remount,rw "$FS" 2>/dev/null || true
    umount "$FS" 2>/dev/null || umount -l "$FS" 2>/dev/null || true
}
trap 'umount_fs; cleanup' EXIT

STATE="$FS/state"
DB="$STATE/audit.db"
PROJECT=$(demo_project)

count() { sqlite3 -batch -noheader "$DB" "SELECT count(*) FROM records WHERE type='$1'"; }

# until_log PATTERN SECONDS COMMAND...: runs COMMAND repeatedly until the
# daemon's log matches PATTERN.
until_log() {
    local pattern=$1 limit=$2 i
    shift 2
    for ((i = 0; i < limit * 10; i++)); do
        grep -qE -- "$pattern" "$LOG" && return 0
        "$@" >/dev/null 2>&1 || true
        sleep 0.1
    done
    return 1
}

# ---- a full file system, policy "continue" ------------------------------
start_daemon "$PROJECT" "$STATE" "$TMP/serve1.log" --status-interval 0
PID=$DAEMON_PID
expect_status 0 "write before the disk fills" "$BW_BIN" tag write --state "$STATE" T1.LevelHighSP 4.0

dd if=/dev/zero of="$FS/filler" bs=64k 2>/dev/null || true
[ "$(df --output=avail "$FS" | tail -1 | tr -d ' ')" -lt 64 ] || fail "the tmpfs did not fill up"
n=0
write_some() {
    n=$((n + 1))
    "$BW_BIN" tag write --state "$STATE" T1.LevelHighSP "4.$((n % 10))"
}
until_log 'audit records cannot be written' 60 write_some \
    || fail "the daemon did not report the audit failure on a full file system"
pass "a full file system is reported: $(grep -m1 'audit records cannot be written' "$LOG" | cut -c1-160)"

expect_status 0 "status while the trail fails" "$BW_BIN" status --state "$STATE"
expect_status 0 "write while the trail fails (continue policy)" \
    "$BW_BIN" tag write --state "$STATE" T1.LevelHighSP 3.25
kill -0 "$PID" || fail "the daemon died on a full file system"
pass "control keeps running while records cannot be written"

rm -f "$FS/filler"
wait_for_log "$LOG" 'audit records are written again' 20 || fail "the trail did not recover"
stop_daemon "$PID" TERM
[ "$(count audit.failure)" -ge 1 ] || fail "no audit.failure record"
[ "$(count audit.recovered)" -ge 1 ] || fail "no audit.recovered record"
grep -q '"new":3.25' <(sqlite3 "$DB" "SELECT details FROM records WHERE type='tag.write'") \
    || fail "the write made during the outage is not in the trail"
expect_status 0 "verify after the outage" "$BW_BIN" audit verify --state "$STATE"
pass "after space is freed every queued record is written and the trail verifies"

# ---- an unwritable database file, policy "refuse" ----------------------
# The trail of the first part, moved off the tmpfs, with its database
# made immutable (chattr +i: even root cannot write it).
command -v chattr >/dev/null || fail "chattr missing (e2fsprogs)"
STATE2="$TMP/state2"
cp -a "$STATE" "$STATE2"
DB="$STATE2/audit.db"
before=$(sqlite3 -batch -noheader "$DB" "SELECT max(seq) FROM records")
mkdir -p "$TMP/refuse"
python3 - "$PROJECT/project.json" "$TMP/refuse/project.json" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))
p.setdefault("audit", {})["on_failure"] = "refuse"
json.dump(p, open(sys.argv[2], "w"))
EOF
chattr +i "$DB" || fail "cannot make $DB immutable (chattr +i) on this file system"
unfreeze() { chattr -i "$DB" 2>/dev/null || true; }
trap 'unfreeze; umount_fs; cleanup' EXIT
start_daemon "$TMP/refuse" "$STATE2" "$TMP/serve2.log" --status-interval 0
PID=$DAEMON_PID
grep -q 'audit trail cannot be written' "$LOG" || fail "the unwritable trail was not reported at start"
expect_status 1 "write while the trail cannot record it (refuse policy)" \
    "$BW_BIN" tag write --state "$STATE2" T1.LevelHighSP 2.2
expect_output "audit trail" "the refusal names the audit trail"
expect_status 0 "status while refusing" "$BW_BIN" status --state "$STATE2"
pass "with an unwritable database, writes are refused and control keeps running"

unfreeze
wait_for_log "$LOG" 'audit records are written again' 20 || fail "the trail did not recover"
expect_status 0 "write after recovery" "$BW_BIN" tag write --state "$STATE2" T1.LevelHighSP 2.4
stop_daemon "$PID" TERM
[ "$(sqlite3 -batch -noheader "$DB" "SELECT count(*) FROM records WHERE seq > $before AND type IN ('daemon.start', 'audit.failure', 'tag.write_refused', 'audit.recovered', 'tag.write', 'daemon.stop')")" -ge 6 ] \
    || fail "records of the outage missing: $(sqlite3 "$DB" "SELECT seq, type FROM records WHERE seq > $before" | tr "\n" " ")"
expect_status 0 "verify after the outage" "$BW_BIN" audit verify --state "$STATE2"
pass "writes resume once the trail can record them; nothing lost; the trail verifies"
