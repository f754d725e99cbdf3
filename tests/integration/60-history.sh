#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The process history through `bulwark history query`: a project with a
# simulated device logs a float cyclically (every 100 ms) and another on
# change; after the daemon has run a few seconds and stopped, the raw
# samples come back in time order, 100 ms apart and good, as CSV and as
# JSON; pages of --limit continue with their cursor without overlap or
# gap; a trend counts every raw sample in at most --points buckets; bad
# options are usage errors naming the option, an unknown tag and a state
# directory without history are errors; and the query works while the
# daemon runs too.
source "$BW_SOURCE_DIR/tests/integration/fixtures/cli/lib.sh"

command -v python3 >/dev/null || fail "python3 missing"

PROJECT="$TMP/project"
STATE="$TMP/state"
mkdir -p "$PROJECT"
cat >"$PROJECT/project.json" <<'JSON'
{"format": 1, "name": "history.it",
 "scan_classes": [{"name": "fast", "period_ms": 50}],
 "devices": [{"name": "sim", "driver": "sim", "scan_class": "fast", "parameters": {"seed": 7}}],
 "simulator": {"signals": [
   {"name": "WAVE", "shape": "sine", "min": 0, "max": 10, "period_ms": 2000},
   {"name": "WALK", "shape": "random_walk", "min": 0, "max": 100, "period_ms": 200,
    "max_step": 5}]},
 "tags": [
  {"name": "Wave", "type": "float", "device": "sim", "address": "WAVE.value",
   "log": {"mode": "cyclic", "period_ms": 100}},
  {"name": "Walk", "type": "float", "device": "sim", "address": "WALK.value",
   "log": {"mode": "change"}}
 ]}
JSON

# RFC 3339 UTC of a Unix time in seconds.
rfc3339() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

query() { "$BW_BIN" history query --state "$STATE" "$@"; }

# Before the daemon ran, there is no history to read.
mkdir -p "$STATE" && chmod 700 "$STATE"
expect_status 1 "query without history.db" query --tag Wave --from now-1h --to now
expect_output "^bulwark: no history in $STATE \(no tag is logged, or the daemon has not run\)\$" \
    "a missing history.db is named by its state directory"
rmdir "$STATE"

FROM=$(rfc3339 $(($(date +%s) - 1)))
start_daemon "$PROJECT" "$STATE" "$TMP/serve1.log" --status-interval 0
sleep 3
stop_daemon "$DAEMON_PID" TERM
TO=$(rfc3339 $(($(date +%s) + 1)))
RANGE=(--from "$FROM" --to "$TO")

# ---- raw samples -----------------------------------------------------------

query --tag Wave "${RANGE[@]}" >"$TMP/raw.csv" 2>"$TMP/raw.err" || fail "raw CSV query failed"
[ ! -s "$TMP/raw.err" ] || fail "raw CSV query said: $(cat "$TMP/raw.err")"
COUNT=$(python3 - "$TMP/raw.csv" <<'PY'
import csv, datetime, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert rows[0] == ["time", "value", "quality", "reason"], rows[0]
rows = rows[1:]
assert len(rows) >= 20, f"only {len(rows)} samples in 3 s at 100 ms"
def us(t):
    assert t.endswith("Z") and len(t) == 27, t  # 2026-12-04T18:06:56.200000Z
    d = datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ")
    return int(d.replace(tzinfo=datetime.timezone.utc).timestamp()) * 10**6 + d.microsecond
times = [us(r[0]) for r in rows]
gaps = [b - a for a, b in zip(times, times[1:])]
assert all(80_000 <= g <= 120_000 for g in gaps), f"gaps not ~100 ms: {gaps}"
assert all(r[2] == "good" and r[3] == "none" for r in rows), rows
assert all(0 <= float(r[1]) <= 10 for r in rows), rows
print(len(rows))
PY
) || fail "raw CSV is not $COUNT good samples 100 ms apart: $(head -5 "$TMP/raw.csv")"
pass "raw CSV: $COUNT good samples in time order, 100 ms apart"

query --tag Wave "${RANGE[@]}" --format json >"$TMP/raw.json" || fail "raw JSON query failed"
python3 - "$TMP/raw.json" "$COUNT" <<'PY' || fail "raw JSON does not hold the same samples"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["tag"] == "Wave" and d["next_cursor"] is None, d
assert len(d["samples"]) == int(sys.argv[2]), len(d["samples"])
s = d["samples"][0]
assert set(s) == {"time", "value", "quality", "reason"} and s["quality"] == "good", s
assert isinstance(s["value"], float), s
PY
pass "raw JSON: the same $COUNT samples, next_cursor null"

# The change-logged tag: every sample differs from the one before.
query --tag Walk "${RANGE[@]}" --format json >"$TMP/walk.json" || fail "Walk query failed"
python3 - "$TMP/walk.json" <<'PY' || fail "the change-logged tag is wrong: $(cat "$TMP/walk.json")"
import json, sys
v = [s["value"] for s in json.load(open(sys.argv[1]))["samples"]]
assert len(v) >= 2, v
assert all(a != b for a, b in zip(v, v[1:])), v
PY
pass "the change-logged tag has samples, each a change"

# ---- pages -----------------------------------------------------------------

query --tag Wave "${RANGE[@]}" --limit 5 --format json >"$TMP/p1.json" || fail "page 1 failed"
CURSOR=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["samples"]) == 5; print(d["next_cursor"])' "$TMP/p1.json") ||
    fail "page 1 has no next_cursor: $(cat "$TMP/p1.json")"
query --tag Wave "${RANGE[@]}" --limit 5 --cursor "$CURSOR" --format json >"$TMP/p2.json" ||
    fail "page 2 failed"
python3 - "$TMP/p1.json" "$TMP/p2.json" "$TMP/raw.json" <<'PY' || fail "page 2 does not continue page 1"
import json, sys
p1, p2, raw = (json.load(open(f)) for f in sys.argv[1:4])
times = [s["time"] for s in raw["samples"]]
assert [s["time"] for s in p1["samples"]] == times[:5]
assert [s["time"] for s in p2["samples"]] == times[5:10], (p2, times[5:10])
assert isinstance(p2["next_cursor"], int)
PY
query --tag Wave "${RANGE[@]}" --limit 5 >"$TMP/p1.csv" 2>"$TMP/p1.err" || fail "CSV page failed"
[ "$(wc -l <"$TMP/p1.csv")" = 6 ] || fail "CSV page is not a header and 5 rows: $(cat "$TMP/p1.csv")"
grep -q '^#' "$TMP/p1.csv" && fail "CSV page has a comment on stdout"
[ "$(cat "$TMP/p1.err")" = "# more: --cursor $CURSOR" ] ||
    fail "CSV page does not say its cursor on stderr: $(cat "$TMP/p1.err")"
pass "pages of 5 continue with their cursor, without overlap (CSV says the cursor on stderr)"

# ---- trends ----------------------------------------------------------------

query --tag Wave "${RANGE[@]}" --points 10 --format json >"$TMP/trend.json" || fail "trend failed"
python3 - "$TMP/trend.json" "$COUNT" <<'PY' || fail "the trend does not count the raw samples: $(cat "$TMP/trend.json")"
import json, sys
d = json.load(open(sys.argv[1]))
b = d["buckets"]
assert d["tag"] == "Wave" and "before" in d and 1 <= len(b) <= 10, d
assert sum(x["count_all"] for x in b) == int(sys.argv[2]), [x["count_all"] for x in b]
for x in b:
    if x["count"]:
        assert x["min"] <= x["avg"] <= x["max"], x
    else:
        assert x["min"] is None and x["avg"] is None, x
PY
query --tag Wave "${RANGE[@]}" --points 10 >"$TMP/trend.csv" || fail "CSV trend failed"
head -1 "$TMP/trend.csv" | grep -q '^start,end,min,max,avg,first,last,count,count_all' ||
    fail "CSV trend header: $(head -1 "$TMP/trend.csv")"
SUM=$(tail -n +2 "$TMP/trend.csv" | tr -d '\r' | awk -F, '{ s += $9 } END { print s }')
[ "$SUM" = "$COUNT" ] || fail "CSV trend counts $SUM samples, raw $COUNT"
pass "a trend of at most 10 buckets counts all $COUNT samples (JSON and CSV)"

# ---- bad input ---------------------------------------------------------------

expect_status 2 "--from yesterday" query --tag Wave --from yesterday --to now
expect_output '^bulwark history query: --from: ' "a bad time names --from"
expect_status 1 "unknown tag" query --tag Nope "${RANGE[@]}"
expect_output '^bulwark: no history for tag Nope$' "an unknown tag is named"
expect_status 2 "--points 0" query --tag Wave "${RANGE[@]}" --points 0
expect_output '^bulwark history query: --points: ' "--points 0 names --points"
expect_status 2 "--limit with --points" query --tag Wave "${RANGE[@]}" --points 3 --limit 4
expect_status 2 "--to before --from" query --tag Wave --from now --to now-1h
expect_status 2 "--format xml" query --tag Wave "${RANGE[@]}" --format xml
pass "bad options are usage errors (exit 2), an unknown tag an error (exit 1)"

# ---- while the daemon runs ---------------------------------------------------

start_daemon "$PROJECT" "$STATE" "$TMP/serve2.log" --status-interval 0
sleep 1
query --tag Wave --from "$FROM" --to now --format json >"$TMP/live.json" || fail "live query failed"
python3 - "$TMP/live.json" "$COUNT" <<'PY' || fail "the live query misses samples: $(head -c 400 "$TMP/live.json")"
import json, sys
n = len(json.load(open(sys.argv[1]))["samples"])
assert n > int(sys.argv[2]), (n, sys.argv[2])
PY
stop_daemon "$DAEMON_PID" TERM
pass "the query reads the history while the daemon runs"
