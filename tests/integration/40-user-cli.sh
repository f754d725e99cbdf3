#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `bulwark user`: first offline, on a state directory that does not exist
# yet (created 0700): add, list, show, modify, disable, enable, unlock,
# passwd, mfa enrol and confirm (the code computed here from the
# otpauth:// URI), mfa remove, remove; each leaves its audit record
# naming the operating-system user, from the command line. Password
# policy refusals name the rule and exit 1; there is no option for a
# password; a password's trailing carriage return is not part of it, a
# control character in it is refused; text that is not UTF-8 is a usage
# error naming the option; --json output is ASCII. Then with the daemon
# running on that state: actions go through it (records from the
# control socket; the daemon holds the lock), an enrolment is confirmed
# in one go; once the daemon has applied its project's policy, offline
# password changes need --project. Last, the first administrator: a
# fresh state, the setup secret `serve` writes to STATE/setup-secret
# (0600; its standard output is no terminal here, and gets only the
# file's name), a wrong secret refused and recorded, the right one
# creating the administrator and removing the file, and the same one
# refused the second time.
source "$BW_SOURCE_DIR/tests/integration/fixtures/cli/lib.sh"

command -v python3 >/dev/null || fail "python3 is needed to check JSON and compute TOTP codes"

PROJECT=$(demo_project)
STATE="$TMP/state"
ACTOR="uid $(id -u) ($(id -un))"
PW1='Tr1cky-Plant-Gate'
PW2='Quiet-Valve-Seat-77'

u() { "$BW_BIN" user "$@"; }

# last_record TYPE [STATE]: "result|source|address|details" of the newest
# record of TYPE, or nothing.
last_record() {
    "$BW_BIN" audit query --state "${2:-$STATE}" --all --limit 1000 --format json | python3 -c '
import json, sys
want = sys.argv[1]
found = [r for r in json.load(sys.stdin)["records"] if r["type"] == want]
if found:
    r = found[-1]
    print("%s|%s|%s|%s" % (r["result"], r["source"], r["address"], json.dumps(r["details"], sort_keys=True)))
' "$1"
}

# expect_record TYPE ADDRESS_PREFIX [STATE]: the newest TYPE record is a
# success by ACTOR from that kind of address.
expect_record() {
    local row
    row=$(last_record "$1" "${3:-$STATE}")
    [ -n "$row" ] || fail "no $1 record"
    grep -qF "success|$ACTOR|$2" <<<"$row" || fail "$1 record not a success by $ACTOR from '$2': $row"
}

# totp URI [STEP_OFFSET]: the code of the current time step.
totp() {
    python3 - "$1" "${2:-0}" <<'PY'
import base64, hashlib, hmac, struct, sys, time, urllib.parse
query = urllib.parse.parse_qs(urllib.parse.urlparse(sys.argv[1]).query)
secret = query["secret"][0]
key = base64.b32decode(secret + "=" * (-len(secret) % 8))
step = int(time.time()) // 30 + int(sys.argv[2])
digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
off = digest[-1] & 15
print("%06d" % ((struct.unpack(">I", digest[off:off + 4])[0] & 0x7FFFFFFF) % 1000000))
PY
}

# expect_json DESCRIPTION COMMAND...: as expect_status 0, keeping only
# standard output in OUT (the log, e.g. a sanitizer build's warnings,
# goes to standard error).
expect_json() {
    local what=$1 status=0
    shift
    OUT=$("$@" 2>"$TMP/stderr") || status=$?
    [ "$status" -eq 0 ] || fail "$what: exit status $status: $(cat "$TMP/stderr")"
}

# json_field FIELD: FIELD of the JSON object in OUT.
json_field() {
    python3 -c 'import json, sys; print(json.dumps(json.loads(sys.stdin.read())[sys.argv[1]]))' "$1" <<<"$OUT"
}

# ---- usage -----------------------------------------------------------
expect_status 0 "user --help" u --help
expect_output 'user setup' "the group lists setup"
expect_status 2 "no --state" u list
expect_output 'user list: --state DIR is required' "no --state message"
expect_status 2 "a password option" u add --state "$STATE" eve --password "$PW1"
expect_output "unknown option '--password'" "no password option"
expect_status 2 "--password=" u passwd --state "$STATE" eve --password="$PW1"
expect_status 2 "bad level" u add --state "$STATE" eve --level 0 --password-stdin
expect_output '--level must be a whole number from 1 to 9999' "level message"
expect_status 2 "bad areas" u add --state "$STATE" eve --areas 0,32 --password-stdin
expect_status 2 "bad date" u add --state "$STATE" eve --expires 2027-02-29 --password-stdin
expect_status 2 "human without password" u add --state "$STATE" eve --no-password
expect_output 'for service accounts' "--no-password message"
expect_status 2 "modify nothing" u modify --state "$STATE" eve
expect_status 2 "a NAME that is not UTF-8" u add --state "$STATE" $'ev\xffe' --password-stdin
expect_output '^bulwark user add: NAME is not valid UTF-8 text' "bad NAME message"
expect_status 2 "show a NAME that is not UTF-8" u show --state "$STATE" $'\xc3'
expect_status 2 "disable a NAME that is not UTF-8" u disable --state "$STATE" $'\xc3'
expect_status 2 "mfa enrol a NAME that is not UTF-8" u mfa enrol --state "$STATE" $'\xc3'
expect_status 2 "a full name that is not UTF-8" u modify --state "$STATE" eve --full-name $'Ev\xc3'
expect_output '^bulwark user modify: --full-name is not valid UTF-8 text' "bad --full-name message"
expect_status 2 "a full name with an escape" u add --state "$STATE" eve --full-name $'Eve \e[31mRed' --password-stdin
expect_output 'without control characters' "control characters message"
expect_status 2 "a full name with a C1 control" u modify --state "$STATE" eve --full-name $'Eve \xc2\x9b31m'
if grep -q 'out of memory' <<<"$OUT"; then fail "a bad text said: out of memory"; fi
[ ! -e "$STATE" ] || fail "a usage error created the state directory"
pass "usage errors exit 2 (text that is not UTF-8 names its option); no option takes a password"

# ---- offline -----------------------------------------------------------
expect_status 0 "add alice" bash -c "printf '%s\n' '$PW1' | \"\$0\" user add --state '$STATE' alice \
    --full-name 'Alice Example' --level 100 --areas 1,2,5 --roles operator,viewer \
    --expires 2099-12-31 --password-stdin" "$BW_BIN"
expect_output '^added account alice \(human, level 100, areas 1,2,5, roles viewer, operator\)$' "add summary"
expect_output 'must be changed at the first login' "a set password is to be changed"
[ "$(stat -c %a "$STATE")" = 700 ] || fail "state directory not created 0700"
[ "$(stat -c %a "$STATE/users.db")" = 600 ] || fail "users.db not 0600"
[ ! -e "$STATE/bulwark.lock" ] || fail "the lock was not let go"
expect_record user.added "command line, pid "
pass "add on a fresh state directory: created 0700, recorded by $ACTOR"

expect_status 0 "add a service account" u add --state "$STATE" svc.historian --type service --no-password
expect_status 1 "add alice again" bash -c "printf '%s\n' '$PW1' | \"\$0\" user add --state '$STATE' alice --password-stdin" "$BW_BIN"
expect_output '^bulwark: user add alice: an account with that name exists$' "exists message"
expect_status 1 "unknown role" bash -c "printf '%s\n' '$PW1' | \"\$0\" user add --state '$STATE' bob --roles wizard --password-stdin" "$BW_BIN"
expect_output 'no role called "wizard"' "unknown role message"

# Password policy refusals name the rule; nothing is added.
refuse_pw() { # NAME PASSWORD RULE
    expect_status 1 "policy: $3" bash -c "printf '%s\n' '$2' | \"\$0\" user add --state '$STATE' '$1' --password-stdin" "$BW_BIN"
    expect_output "^bulwark: user add $1: .*$3" "rule named: $3"
}
refuse_pw bob 'Sh0rt-pw' 'shorter than 12 characters'
refuse_pw bob 'alllowercase-words-1' 'must contain an upper-case letter'
refuse_pw carol 'Xx-Carol-Gate-1942' 'must not contain the user name'
refuse_pw bob 'Administrator1' 'dictionary check'
expect_status 1 "a password made of the full name" bash -c "printf '%s\n' 'QuentinWorthington1' | \"\$0\" user add --state '$STATE' zed --full-name 'Quentin Worthington' --password-stdin" "$BW_BIN"
expect_output 'password entry' "libcrack2 judges against the account's full name"
expect_status 1 "a control character in a password" bash -c "printf 'Tr1cky-\tPlant-Gate\n' | \"\$0\" user add --state '$STATE' bob --password-stdin" "$BW_BIN"
expect_output 'the password contains a control character' "control character message"
expect_status 1 "empty stdin" bash -c "\"\$0\" user add --state '$STATE' bob --password-stdin </dev/null" "$BW_BIN"
expect_output 'no password on standard input' "empty stdin message"
row=$(last_record user.change_refused)
grep -qF "denied|$ACTOR|" <<<"$row" || grep -qF "failure|$ACTOR|" <<<"$row" || fail "refusal not recorded by $ACTOR: $row"
pass "policy refusals name the rule, exit 1, and are recorded"

expect_status 0 "list" u list --state "$STATE"
expect_output '^NAME +TYPE +STATE +LEVEL +AREAS +ROLES +MFA +LAST LOGIN' "list header"
expect_output '^alice +human +active +100 +1,2,5 +viewer,operator +no +never' "alice in the list"
expect_output '^svc\.historian +service +active +1 +all +- +no +never' "service in the list"
expect_json "list --json" u list --state "$STATE" --json
[ "$(json_field users | python3 -c 'import json,sys; print(",".join(u["name"] for u in json.load(sys.stdin)))')" = "alice,svc.historian" ] \
    || fail "list --json names: $OUT"
expect_status 0 "show" u show --state "$STATE" alice
expect_output '^full name: +Alice Example$' "show full name"
expect_output '^expires: +2099-12-31 00:00$' "show expiry"
expect_json "show --json" u show --state "$STATE" alice --json
[ "$(json_field areas)" = "[1, 2, 5]" ] || fail "show --json areas: $OUT"
[ "$(json_field must_change_password)" = true ] || fail "show --json must_change_password: $OUT"
expect_status 1 "show nobody" u show --state "$STATE" nobody
expect_output '^bulwark: user show nobody: no such account$' "no such account"
pass "list (table and JSON) and show"

expect_status 0 "modify" u modify --state "$STATE" alice --level 200 --areas all --roles viewer --expires never
expect_output '^modified account alice \(human, level 200, areas all, roles viewer\)$' "modify summary"
expect_record user.modified "command line, pid "
expect_status 0 "disable" u disable --state "$STATE" alice
expect_record user.disabled "command line, pid "
expect_status 0 "show disabled" u show --state "$STATE" alice
expect_output '^state: +disabled$' "disabled"
expect_status 0 "enable" u enable --state "$STATE" alice
expect_record user.enabled "command line, pid "
expect_status 0 "unlock" u unlock --state "$STATE" alice
expect_record user.unlocked "command line, pid "
expect_status 0 "passwd" bash -c "printf '%s\n' '$PW2' | \"\$0\" user passwd --state '$STATE' alice --password-stdin" "$BW_BIN"
expect_output 'must be changed at the next login' "passwd message"
expect_record user.password_reset "command line, pid "
expect_status 1 "passwd to the old one" bash -c "printf '%s\n' '$PW1' | \"\$0\" user passwd --state '$STATE' alice --password-stdin" "$BW_BIN"
expect_output 'one of the last' "history rule named"
pass "modify, disable, enable, unlock, passwd: each recorded by $ACTOR"

# Enrolment without a code waits; confirmation with one from the URI.
expect_status 0 "mfa enrol" u mfa enrol --state "$STATE" alice --code-stdin </dev/null
expect_output '^otpauth://totp/Bulwark:alice\?secret=[A-Z2-7]+' "the URI"
expect_output '▀|▄|█' "the QR code"
expect_output 'not confirmed yet' "without a code it waits"
uri=$(grep -o 'otpauth://[^ ]*' <<<"$OUT")
expect_status 0 "show before confirming" u show --state "$STATE" alice
expect_output '^second factor: +none$' "not counted before it is confirmed"
expect_status 1 "mfa confirm, wrong code" bash -c "echo 000000 | \"\$0\" user mfa confirm --state '$STATE' alice --code-stdin" "$BW_BIN"
expect_output 'code does not match' "wrong code message"
code=$(totp "$uri")
expect_status 0 "mfa confirm" bash -c "echo '$code' | \"\$0\" user mfa confirm --state '$STATE' alice --code-stdin" "$BW_BIN"
expect_output 'confirmed' "confirmed"
expect_record user.mfa_enrolled "command line, pid "
expect_status 0 "show after confirming" u show --state "$STATE" alice
expect_output '^second factor: +enrolled$' "enrolled"
expect_status 0 "mfa remove" u mfa remove --state "$STATE" alice
expect_record user.mfa_removed "command line, pid "
pass "mfa enrol (URI and QR), confirm with a computed code, remove: recorded"

expect_status 0 "remove" u remove --state "$STATE" svc.historian
expect_record user.removed "command line, pid "
expect_status 1 "show removed" u show --state "$STATE" svc.historian
if grep -aqF -e "$PW1" -e "$PW2" "$STATE"/audit.db* "$STATE"/users.db*; then
    fail "a password is stored in clear"
fi
pass "remove; no password in clear in the trail or the accounts"

# A line from Windows ends in CR LF: the CR is not part of the password.
expect_status 0 "a password line ending in CR LF" bash -c "printf '%s\r\n' '$PW1' | \"\$0\" user add --state '$STATE' crlf --password-stdin" "$BW_BIN"
expect_status 1 "the same password without the CR" bash -c "printf '%s\n' '$PW1' | \"\$0\" user passwd --state '$STATE' crlf --password-stdin" "$BW_BIN"
expect_output 'one of the last' "without its CR, the same password"
expect_status 0 "remove crlf" u remove --state "$STATE" crlf
pass "a password's trailing CR is dropped"

# A full name beyond ASCII: --json escapes it, so the output is ASCII.
expect_status 0 "add zoe" bash -c "printf '%s\n' '$PW1' | \"\$0\" user add --state '$STATE' zoe --full-name 'Zoë Ångström' --password-stdin" "$BW_BIN"
expect_json "show --json, a name beyond ASCII" u show --state "$STATE" zoe --json
grep -qiF 'Zo\u00eb \u00c5ngstr\u00f6m' <<<"$OUT" || fail "--json does not escape non-ASCII: $OUT"
python3 -c 'import sys; sys.stdin.buffer.read().decode("ascii")' <<<"$OUT" || fail "--json output is not ASCII: $OUT"
[ "$(python3 -c 'import json, sys; print(json.load(sys.stdin)["full_name"])' <<<"$OUT")" = 'Zoë Ångström' ] \
    || fail "--json full name: $OUT"
expect_status 0 "remove zoe" u remove --state "$STATE" zoe
pass "--json output is ASCII; text beyond it as \\u escapes"

expect_status 1 "setup without a daemon" u setup --state "$STATE" root1 --password-stdin </dev/null
expect_output 'no daemon runs on state directory' "setup needs the daemon"

# ---- through the daemon -------------------------------------------------
# start_serve STATE OUTFILE LOGFILE: serve with standard output kept.
start_serve() {
    LOG=$3
    "$BW_BIN" serve --project "$PROJECT" --state "$1" --status-interval 0 >"$2" 2>"$LOG" &
    DAEMON_PID=$!
    DAEMON_PIDS+=("$DAEMON_PID")
    wait_for_log "$LOG" ' ready: ' "$READY_TIMEOUT" || fail "daemon did not log 'ready'"
}

start_serve "$STATE" "$TMP/serve1.out" "$TMP/serve1.log"
[ "$(tr -d '\n' <"$STATE/bulwark.lock")" = "$DAEMON_PID" ] || fail "the daemon does not hold the lock"
expect_status 0 "add through the daemon" bash -c "printf '%s\n' '$PW1' | \"\$0\" user add --state '$STATE' dave --roles operator --password-stdin" "$BW_BIN"
expect_record user.added "control socket, pid "
expect_status 0 "disable through the daemon" u disable --state "$STATE" dave --project "$PROJECT"
expect_output 'note: a daemon \(pid [0-9]+\) runs on' "--project is not used online"
expect_record user.disabled "control socket, pid "
expect_status 0 "list through the daemon" u list --state "$STATE"
expect_output '^dave +human +disabled ' "dave disabled"
expect_status 1 "policy through the daemon" bash -c "printf 'Sh0rt\n' | \"\$0\" user passwd --state '$STATE' dave --password-stdin" "$BW_BIN"
expect_output 'shorter than 12 characters' "the daemon's policy names the rule"
grep -q 'control: account action add by uid [0-9]* (.*): done' "$LOG" || fail "the daemon did not log the action"
if grep -aqF -e "$PW1" -e "Sh0rt" "$LOG" "$TMP/serve1.out"; then
    fail "the daemon logged a password"
fi
pass "actions through the daemon: recorded from the control socket, no password logged"

# Enrolment confirmed in one go: the code is computed from the URI the
# command prints, then given on its standard input.
python3 - "$BW_BIN" "$STATE" <<'PY' || fail "enrolment in one go"
import base64, hashlib, hmac, struct, subprocess, sys, time, urllib.parse
p = subprocess.Popen([sys.argv[1], "user", "mfa", "enrol", "--state", sys.argv[2], "dave",
                      "--code-stdin"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=subprocess.STDOUT, text=True)
uri = None
for line in p.stdout:
    if line.startswith("otpauth://"):
        uri = line.strip()
        break
assert uri, "no URI"
secret = urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)["secret"][0]
key = base64.b32decode(secret + "=" * (-len(secret) % 8))
digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
off = digest[-1] & 15
code = (struct.unpack(">I", digest[off:off + 4])[0] & 0x7FFFFFFF) % 1000000
out, _ = p.communicate("%06d\n" % code, timeout=20)
assert p.returncode == 0 and "confirmed" in out, out
PY
expect_json "show dave" u show --state "$STATE" dave --json
[ "$(json_field mfa)" = true ] || fail "dave's second factor not enrolled: $OUT"
stop_daemon "$DAEMON_PID" TERM
pass "enrolment confirmed in one go through the daemon"

# ---- offline again: the daemon applied its project's policy -------------
# users.db remembers it: under the built-in defaults, no password is set
# and no role list is given; other changes are, with a note.
PW3='Fresh-Valve-Seat-88'
expect_status 1 "passwd without --project" bash -c "printf '%s\n' '$PW3' | \"\$0\" user passwd --state '$STATE' alice --password-stdin" "$BW_BIN"
expect_output "kept under the policy of the project $(realpath "$PROJECT")" "the refusal names the project"
expect_output 'give --project' "the refusal says what to do"
expect_status 1 "add without --project" bash -c "printf '%s\n' '$PW3' | \"\$0\" user add --state '$STATE' frank --password-stdin" "$BW_BIN"
expect_output 'give --project' "add refused too"
expect_status 1 "modify roles without --project" u modify --state "$STATE" alice --roles viewer
expect_status 0 "modify a level without --project" u modify --state "$STATE" alice --level 150
expect_output 'note: no --project given' "the defaults are noted"
expect_status 0 "passwd with --project" bash -c "printf '%s\n' '$PW3' | \"\$0\" user passwd --state '$STATE' --project '$PROJECT' alice --password-stdin" "$BW_BIN"
pass "once a project's policy was applied, offline password and role changes need --project"

# ---- the first administrator --------------------------------------------
STATE2="$TMP/fresh"
start_serve "$STATE2" "$TMP/serve2.out" "$TMP/serve2.log"
# Standard output is a file here, as under systemd a journal: it names
# the file that holds the secret, never the secret.
wait_for_log "$TMP/serve2.out" 'bulwark user setup --state' 5 || fail "no setup hint printed"
grep -qF "The one-time setup secret (valid for one hour) is in the file $STATE2/setup-secret" "$TMP/serve2.out" \
    || fail "the file is not named: $(cat "$TMP/serve2.out")"
[ "$(stat -c %a "$STATE2/setup-secret")" = 600 ] || fail "setup-secret is not 0600"
secret=$(cat "$STATE2/setup-secret")
[[ "$secret" =~ ^[A-Z2-7]{32}$ ]] || fail "setup secret not found in the file: $secret"
if grep -qF "$secret" "$TMP/serve2.log" "$TMP/serve2.out"; then fail "the setup secret is in the log"; fi
[ -n "$(last_record setup.secret_issued "$STATE2")" ] || fail "setup.secret_issued not recorded"

wrong=$(tr 'A-Z' 'B-ZA' <<<"$secret")
expect_status 1 "a wrong secret" bash -c "printf '%s\n%s\n' '$wrong' 'Adm1n-Strong-Gate' | \"\$0\" user setup --state '$STATE2' root1 --password-stdin" "$BW_BIN"
expect_output 'the setup secret is wrong, used or expired' "wrong secret message"
row=$(last_record setup.secret_refused "$STATE2")
grep -q '^denied|root1|control socket, pid [0-9]*, uid ' <<<"$row" || fail "wrong secret not recorded: $row"
lower=$(tr 'A-Z' 'a-z' <<<"$secret")
[ -e "$STATE2/setup-secret" ] || fail "a wrong secret removed the file"
expect_status 0 "setup with the secret" bash -c "printf '%s\n%s\n' '$lower' 'Adm1n-Strong-Gate' | \"\$0\" user setup --state '$STATE2' root1 --password-stdin" "$BW_BIN"
expect_output 'security administrator root1 created' "setup message"
[ ! -e "$STATE2/setup-secret" ] || fail "the used secret's file is still there"
row=$(last_record setup.admin_created "$STATE2")
grep -q '^success|root1|control socket, pid [0-9]*, uid ' <<<"$row" || fail "setup.admin_created: $row"
expect_json "show the administrator" u show --state "$STATE2" root1 --json
[ "$(json_field roles)" = '["security-admin"]' ] || fail "the administrator's roles: $OUT"
[ "$(json_field must_change_password)" = false ] || fail "the administrator must not change a password chosen by themself"
expect_status 1 "the same secret again" bash -c "printf '%s\n%s\n' '$secret' 'Adm1n-Other-Gate9' | \"\$0\" user setup --state '$STATE2' root2 --password-stdin" "$BW_BIN"
expect_output 'the setup secret is wrong, used or expired' "a used secret is refused"
stop_daemon "$DAEMON_PID" TERM
pass "setup: the printed secret makes the first administrator once; a wrong one is refused and recorded"

start_serve "$STATE2" "$TMP/serve3.out" "$TMP/serve3.log"
if grep -q 'setup secret' "$TMP/serve3.out"; then fail "a secret was printed although an administrator exists"; fi
[ ! -e "$STATE2/setup-secret" ] || fail "a setup-secret file although an administrator exists"
stop_daemon "$DAEMON_PID" TERM
pass "no setup secret once an administrator exists"

# A secret never used: its file goes when the daemon stops.
STATE4="$TMP/unused"
start_serve "$STATE4" "$TMP/serve4.out" "$TMP/serve4.log"
wait_for_log "$TMP/serve4.out" 'bulwark user setup --state' 5 || fail "no setup hint printed"
[ -s "$STATE4/setup-secret" ] || fail "no setup-secret file"
stop_daemon "$DAEMON_PID" TERM
[ ! -e "$STATE4/setup-secret" ] || fail "the setup-secret file outlived the daemon"
pass "the setup-secret file goes with the daemon"
