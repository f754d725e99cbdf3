#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `bulwark user` where it meets the system around it. On a terminal
# (a pseudo-terminal here): --password-stdin does not echo, and `serve`
# prints the setup secret itself instead of writing it to a file. Role
# names only the project defines survive offline changes made without
# --project. The audit login uid (what sudo keeps) is recorded. Then,
# when the test runs as root: a daemon running as another uid, one with
# no passwd entry (systemd DynamicUser), is managed by root through its
# control socket (the setup secret from its file, the password judged by
# libcrack2 for the account, not for the daemon's missing entry), while
# offline root refuses that state and leaves no file of its own in it;
# and the CLI refuses to talk to a control socket served by a uid that
# owns neither the state directory nor is root, or found in a state
# directory that others may write, sending nothing.
source "$BW_SOURCE_DIR/tests/integration/fixtures/cli/lib.sh"

command -v python3 >/dev/null || fail "python3 is needed for pseudo-terminals and JSON"

PROJECT=$(demo_project)
PW1='Tr1cky-Plant-Gate'

u() { "$BW_BIN" user "$@"; }

# last_details TYPE STATE: the details (JSON) of the newest TYPE record.
last_details() {
    "$BW_BIN" audit query --state "$2" --all --limit 1000 --format json | python3 -c '
import json, sys
found = [r for r in json.load(sys.stdin)["records"] if r["type"] == sys.argv[1]]
print(json.dumps(found[-1]["details"], sort_keys=True) if found else "")
' "$1"
}

# ---- on a terminal ------------------------------------------------------
STATE="$TMP/state"
python3 - "$BW_BIN" "$STATE" "$PW1" <<'PY' || fail "--password-stdin on a terminal"
import os, select, subprocess, sys, termios, time
bw, state, pw = sys.argv[1:4]
master, slave = os.openpty()
p = subprocess.Popen([bw, "user", "add", "--state", state, "ttyuser", "--password-stdin"],
                     stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
# Type only once the command has turned echo off (as a person would,
# after the prompt); a terminal that echoes shows it at once.
deadline = time.time() + 15
while termios.tcgetattr(slave)[3] & termios.ECHO:
    assert p.poll() is None and time.time() < deadline, "echo never turned off"
    time.sleep(0.02)
os.write(master, (pw + "\n").encode())
out, err = p.communicate(timeout=30)
shown = b""
while select.select([master], [], [], 0.3)[0]:
    try:
        chunk = os.read(master, 4096)
    except OSError:
        break
    if not chunk:
        break
    shown += chunk
assert p.returncode == 0, err.decode()
assert pw.encode() not in shown, "the terminal showed the password: %r" % shown
assert termios.tcgetattr(slave)[3] & termios.ECHO, "echo was not turned back on"
PY
pass "--password-stdin on a terminal reads without echo"

python3 - "$BW_BIN" "$PROJECT" "$TMP/ttyserve" <<'PY' || fail "serve on a terminal"
import os, re, select, signal, subprocess, sys, time
bw, project, state = sys.argv[1:4]
master, slave = os.openpty()
p = subprocess.Popen([bw, "serve", "--project", project, "--state", state,
                      "--status-interval", "0"], stdout=slave, stderr=subprocess.DEVNULL)
os.close(slave)
shown, secret = b"", None
deadline = time.time() + 15
while time.time() < deadline and secret is None:
    if select.select([master], [], [], 0.2)[0]:
        shown += os.read(master, 4096)
    m = re.search(rb"One-time setup secret \(valid for one hour\): ([A-Z2-7]{32})", shown)
    secret = m and m.group(1)
try:
    assert secret, "no secret printed: %r" % shown
    assert not os.path.exists(os.path.join(state, "setup-secret")), "a file although a terminal"
finally:
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=10) == 0
PY
pass "serve prints the setup secret on a terminal, and writes no file"

# ---- role names only the project defines --------------------------------
PROJ2="$TMP/proj2"
cp -r "$PROJECT" "$PROJ2"
python3 - "$PROJ2/project.json" <<'PY'
import json, sys
with open(sys.argv[1]) as f:
    project = json.load(f)
project.setdefault("security", {})["roles"] = [
    {"name": "shift-lead", "permissions": ["tag.read", "alarm.ack"]}]
with open(sys.argv[1], "w") as f:
    json.dump(project, f)
PY
STATE3="$TMP/roles"
expect_status 0 "add with the project's role" bash -c "printf '%s\n' '$PW1' | \"\$0\" user add --state '$STATE3' --project '$PROJ2' sl --roles shift-lead,viewer --password-stdin" "$BW_BIN"
expect_status 0 "modify without --project" u modify --state "$STATE3" sl --level 3
expect_output 'note: no --project given' "the note on the defaults"
expect_status 0 "disable without --project" u disable --state "$STATE3" sl
expect_status 0 "enable without --project" u enable --state "$STATE3" sl
expect_status 0 "show with the project" u show --state "$STATE3" --project "$PROJ2" sl --json
python3 -c 'import json, sys; u = json.load(sys.stdin); assert u["level"] == 3 and sorted(u["roles"]) == ["shift-lead", "viewer"], u' <<<"$OUT" \
    || fail "the project's role was lost: $OUT"
pass "a role only the project defines survives changes made under the defaults"

# ---- the audit login uid -----------------------------------------------
if bash -c 'echo 1000 >/proc/self/loginuid' 2>/dev/null; then
    expect_status 0 "unlock as login uid 1000" bash -c 'echo 1000 >/proc/self/loginuid && exec "$0" user unlock --state "$1" --project "$2" sl' "$BW_BIN" "$STATE3" "$PROJ2"
    grep -qF '"login_uid": 1000' <<<"$(last_details user.unlocked "$STATE3")" || fail "no login_uid offline: $(last_details user.unlocked "$STATE3")"
    expect_status 0 "unlock with no login uid" u unlock --state "$STATE3" --project "$PROJ2" sl
    if [ "$(cat /proc/self/loginuid)" = 4294967295 ]; then
        if grep -q 'login_uid' <<<"$(last_details user.unlocked "$STATE3")"; then fail "an unset login uid was recorded"; fi
    fi
    pass "the login uid is recorded with a change"
else
    echo "skip: cannot set a login uid here"
fi

# ---- as root: a daemon of another uid -----------------------------------
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
    echo "skip: not root, or no setpriv: the tests across uids need both"
    exit 0
fi
DUID=54321
while getent passwd "$DUID" >/dev/null || getent group "$DUID" >/dev/null; do DUID=$((DUID + 1)); done
chmod 711 "$TMP" # the daemon's uid passes through to its state
DSTATE="$TMP/dynamic"
mkdir -m 700 "$DSTATE"
chown "$DUID:$DUID" "$DSTATE"
setpriv --reuid="$DUID" --regid="$DUID" --clear-groups \
    "$BW_BIN" serve --project "$PROJECT" --state "$DSTATE" --status-interval 0 >"$TMP/dyn.out" 2>"$TMP/dyn.log" &
DAEMON_PID=$!
DAEMON_PIDS+=("$DAEMON_PID")
LOG="$TMP/dyn.log"
wait_for_log "$LOG" ' ready: ' "$READY_TIMEOUT" || fail "the daemon of uid $DUID did not log 'ready'"
wait_for_log "$TMP/dyn.out" 'bulwark user setup --state' 5 || fail "no setup hint"
[ "$(stat -c '%u %a' "$DSTATE/setup-secret")" = "$DUID 600" ] || fail "setup-secret not the daemon's, 0600"
secret=$(cat "$DSTATE/setup-secret")
expect_status 0 "root: setup through the daemon of uid $DUID" bash -c "printf '%s\n%s\n' '$secret' 'Adm1n-Strong-Gate' | \"\$0\" user setup --state '$DSTATE' admin --password-stdin" "$BW_BIN"
expect_output 'security administrator admin created' "setup through another uid's daemon"
[ ! -e "$DSTATE/setup-secret" ] || fail "the used secret's file is still there"
expect_status 0 "root: add through the daemon" bash -c "printf '%s\n' '$PW1' | \"\$0\" user add --state '$DSTATE' op1 --full-name 'Olive Operator' --roles operator --password-stdin" "$BW_BIN"
expect_status 0 "root: list through the daemon" u list --state "$DSTATE"
expect_output '^op1 +human +active ' "op1 listed"
if bash -c 'echo 1000 >/proc/self/loginuid' 2>/dev/null; then
    expect_status 0 "disable as login uid 1000 through the daemon" bash -c 'echo 1000 >/proc/self/loginuid && exec "$0" user disable --state "$1" op1' "$BW_BIN" "$DSTATE"
    grep -qF '"login_uid": 1000' <<<"$(last_details user.disabled "$DSTATE")" || fail "no login_uid through the daemon: $(last_details user.disabled "$DSTATE")"
fi
stop_daemon "$DAEMON_PID" TERM
owned=$(find "$DSTATE" ! -uid "$DUID")
[ -z "$owned" ] || fail "files not the daemon's in its state: $owned"
pass "root manages the accounts of a daemon running as uid $DUID (no passwd entry) through it"

expect_status 1 "root offline on another uid's state" u list --state "$DSTATE"
expect_output "owned by uid $DUID, not by this user" "ownership refusal"
[ ! -e "$DSTATE/bulwark.lock" ] || fail "root left a lock file in another uid's state"
owned=$(find "$DSTATE" ! -uid "$DUID")
[ -z "$owned" ] || fail "root left files in another uid's state: $owned"
pass "offline, root refuses another uid's state and creates nothing in it"

# ---- as root: who serves the control socket -----------------------------
# A stand-in that holds the lock and serves control.sock as DUID, in a
# state directory owned by root: the CLI must not send it anything.
FAKE="$TMP/fake"
mkdir -m 700 "$FAKE"
python3 - "$FAKE" "$DUID" >"$TMP/fake.out" <<'PY' &
import fcntl, os, socket, sys, time
state, uid = sys.argv[1], int(sys.argv[2])
lock = open(os.path.join(state, "bulwark.lock"), "w")
fcntl.flock(lock, fcntl.LOCK_EX)
lock.write("%d\n" % os.getpid())
lock.flush()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(os.path.join(state, "control.sock"))
os.setgroups([])
os.setresgid(uid, uid, uid)
os.setresuid(uid, uid, uid)
s.listen(8)  # the peer credentials a client sees are these
print("ready", flush=True)
while True:
    c, _ = s.accept()
    c.settimeout(1)
    got = b""
    try:
        while True:
            chunk = c.recv(4096)
            if not chunk:
                break
            got += chunk
    except socket.timeout:
        pass
    print("received %d bytes" % len(got), flush=True)
    c.close()
PY
FAKE_PID=$!
DAEMON_PIDS+=("$FAKE_PID")
wait_for_log "$TMP/fake.out" '^ready' 10 || fail "the stand-in did not start"
expect_status 1 "list from the wrong server" u list --state "$FAKE"
expect_output "control.sock is served by uid $DUID, which is neither the owner of the state directory \(uid 0\) nor root; refusing" "peer refusal"
expect_status 1 "setup to the wrong server" bash -c "printf '%s\n%s\n' 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' 'Adm1n-Strong-Gate' | \"\$0\" user setup --state '$FAKE' admin --password-stdin" "$BW_BIN"
expect_output 'refusing to talk to it' "setup refused the wrong server"
chmod 770 "$FAKE"
expect_status 1 "setup in a group-writable state" bash -c "printf '%s\n%s\n' 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' 'Adm1n-Strong-Gate' | \"\$0\" user setup --state '$FAKE' admin --password-stdin" "$BW_BIN"
expect_output 'is writable by group or others' "group-writable refusal"
chmod 700 "$FAKE"
sleep 1.2 # the stand-in reports each connection after its 1 s wait
if grep -q 'received [1-9]' "$TMP/fake.out"; then fail "the wrong server got a request: $(cat "$TMP/fake.out")"; fi
kill "$FAKE_PID"
pass "no request goes to a control socket served by the wrong uid, or in a state others may write"
