#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `bulwark audit query` against a trail of 250 records made by the unit
# test binary (test_audit_query --make-trail, beside the bulwark binary):
# usage errors exit 2 naming the option, a missing or foreign trail exits
# 1, JSON pages chain by next_cursor and --all reads them all, filters
# cut as expected, CSV is RFC 4180 with formula-like cells guarded, and
# reading leaves audit.db byte for byte as it was. No daemon runs here;
# once the daemon writes the trail, a test with it running joins this.
source "$BW_SOURCE_DIR/tests/integration/fixtures/cli/lib.sh"

MAKER="$(dirname "$BW_BIN")/test_audit_query"
[ -x "$MAKER" ] || fail "no $MAKER to make a trail with (build the unit tests)"
command -v python3 >/dev/null || fail "python3 is needed to check JSON and CSV"
STATE="$TMP/state"
mkdir -m 0700 "$STATE"
"$MAKER" --make-trail "$STATE" 250 || fail "could not make a trail"

q() { "$BW_BIN" audit query "$@"; }

expect_status 0 "--help" q --help
expect_output '^Usage: bulwark audit query --state DIR' "help usage line"
expect_status 0 "audit --help" "$BW_BIN" audit --help
expect_output 'audit query' "the group lists query"
pass "help"

expect_status 2 "no --state" q
expect_output '^bulwark audit query: --state DIR is required$' "no --state message"
expect_status 2 "bad format" q --state "$STATE" --format xml
expect_output 'bulwark audit query: --format must be json or csv' "bad format message"
expect_status 2 "bad time" q --state "$STATE" --from yesterday
expect_output "^bulwark audit query: --from: not an RFC 3339 UTC time such as 2026-12-03T10:00:00Z: 'yesterday'$" "bad time message"
expect_status 2 "local time" q --state "$STATE" --to 2026-12-03T10:00:00+01:00
expect_output "^bulwark audit query: --to: only UTC \(Z or \+00:00\) is accepted" "offset message"
expect_status 2 "reversed range" q --state "$STATE" --from 2026-12-03T11:00:00Z --to 2026-12-03T10:00:00Z
expect_output "'from' must be earlier than 'to'" "reversed range message"
expect_status 2 "limit 0" q --state "$STATE" --limit 0
expect_output "^bulwark audit query: --limit: must be 1..10000: '0'$" "limit message"
expect_status 2 "unknown event" q --state "$STATE" --event 4001,9999
expect_output "^bulwark audit query: --event: not in the catalogue of event IDs: '9999'$" "event message"
expect_status 2 "unknown category" q --state "$STATE" --category access-control,bogus
expect_output "^bulwark audit query: --category: unknown category: 'bogus'$" "category message"
expect_status 2 "control character" q --state "$STATE" --user $'a\x1b[2Jb'
expect_output "^bulwark audit query: --user: holds a control character: 'a\?\[2Jb'$" "user message"
expect_status 2 "bad cursor" q --state "$STATE" --cursor -3
expect_output "^bulwark audit query: --cursor: not a whole number: '-3'$" "cursor message"
expect_status 2 "unknown option" q --state "$STATE" --colour red
expect_output "unknown option '--colour'" "unknown option message"
expect_status 2 "option twice" q --state "$STATE" --limit 1 --limit 2
expect_status 2 "flag with a value" q --state "$STATE" --all=yes
expect_status 2 "an argument" q --state "$STATE" extra
expect_output "Try 'bulwark audit query --help'" "the help hint"
pass "usage errors exit 2 and name the option"

mkdir -m 0700 "$TMP/empty"
expect_status 1 "no trail" q --state "$TMP/empty"
expect_output "^bulwark: no audit trail in $TMP/empty" "no trail message"
[ ! -e "$TMP/empty/audit.db" ] || fail "querying an empty state directory made audit.db"
mkdir -m 0700 "$TMP/foreign"
echo "not a database" >"$TMP/foreign/audit.db"
expect_status 1 "not a trail" q --state "$TMP/foreign"
expect_output "^bulwark: cannot read the audit trail in $TMP/foreign" "foreign file message"
pass "a missing or foreign trail exits 1"

before=$(sha256sum "$STATE/audit.db")

# JSON: three pages of 100, 100 and 50 chained by next_cursor.
cursor=0
total=0
for expect in 100:100 100:200 50:0; do
    "$BW_BIN" audit query --state "$STATE" --limit 100 --cursor "$cursor" >"$TMP/page.json" ||
        fail "page after $cursor"
    read -r n next < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
seqs = [r["seq"] for r in d["records"]]
assert seqs == sorted(seqs) and all(s > int(sys.argv[2]) for s in seqs)
print(len(seqs), d["next_cursor"])' "$TMP/page.json" "$cursor") || fail "page after $cursor is not the JSON expected"
    [ "$n:$next" = "$expect" ] || fail "page after $cursor: $n records, next $next; expected $expect"
    total=$((total + n))
    cursor=$next
done
[ "$total" -eq 250 ] || fail "pages held $total records, expected 250"
pass "JSON pages chain by next_cursor"

q --state "$STATE" --all --limit 7 >"$TMP/all.json" || fail "--all"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert [r["seq"] for r in d["records"]] == list(range(1, 251)), "not every record once"
assert d["next_cursor"] == 0
r = d["records"][2]
assert r["time"] == "2026-12-03T10:00:02.000000Z" and r["source"] == "=cmd|'"'"' /C calc'"'"'!A0"
assert r["details"] == {"n": 3, "note": "a, \"b\""} and r["address"] is None
' "$TMP/all.json" || fail "--all output is not every record"
pass "--all reads every page"

count() { python3 -c 'import json,sys; print(len(json.load(sys.stdin)["records"]))'; }
n=$(q --state "$STATE" --all --user alice | count)
[ "$n" -eq 50 ] || fail "--user alice gave $n records, expected 50"
n=$(q --state "$STATE" --all --result success,error | count)
[ "$n" -eq 124 ] || fail "--result success,error gave $n records, expected 124"
n=$(q --state "$STATE" --all --from 2026-12-03T10:00:10Z --to 2026-12-03T10:00:20Z | count)
[ "$n" -eq 10 ] || fail "a ten-second range gave $n records, expected 10"
n=$(q --state "$STATE" --all --event 8002 | count)
[ "$n" -eq 0 ] || fail "--event 8002 gave $n records, expected 0"
n=$(q --state "$STATE" --all --category control-system --user "x' OR '1'='1" | count)
if [ "$n" -le 0 ] || [ "$n" -ge 50 ]; then fail "category and user together gave $n records"; fi
pass "filters"

q --state "$STATE" --all --format csv >"$TMP/all.csv" || fail "--format csv"
python3 -c '
import csv, sys
data = open(sys.argv[1], newline="").read()
assert data.endswith("\r\n") and "\n" not in data.replace("\r\n", "")
rows = list(csv.reader(data.splitlines()))
assert rows[0] == ["seq", "time", "category", "event", "type", "result", "source_kind",
                   "source", "address", "details"], rows[0]
assert len(rows) == 251
assert rows[3][7] == "'"'"'=cmd|'"'"' /C calc'"'"'!A0", rows[3][7]
assert rows[3][9] == "{\"n\":3,\"note\":\"a, \\\"b\\\"\"}", rows[3][9]
for r in rows[1:]:
    assert len(r) == 10
    assert not any(c[:1] in ("=", "+", "-", "@") for c in r), r
' "$TMP/all.csv" || fail "CSV output is not as RFC 4180 and the formula guard want"
expect_status 0 "one CSV page" q --state "$STATE" --format csv --limit 10
expect_output "more records follow; continue with --cursor 10" "CSV says where to continue"
pass "CSV"

after=$(sha256sum "$STATE/audit.db")
[ "$before" = "$after" ] || fail "reading changed audit.db"
pass "audit.db unchanged by every query"
