#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The command line itself: --version and --help everywhere, usage errors
# (exit 2) for unknown commands, options and arguments, `project
# validate` on a valid and a broken project (every error as
# `<path>: <reason>`, exit 1), `serve` refusing a broken project with
# `project.json: <path>: <reason>` lines, and `tags DIR` listing
# definitions. No daemon runs here except the refused one.
source "$BW_SOURCE_DIR/tests/integration/fixtures/cli/lib.sh"

expect_status 0 "--version" "$BW_BIN" --version
expect_output '^bulwark [0-9]+\.[0-9]+\.[0-9]+$' "--version"
expect_status 0 "--help" "$BW_BIN" --help
expect_output 'serve' "--help lists serve"
for cmd in "serve" "project" "project validate" "tags" "tag" "tag write" "status"; do
    # shellcheck disable=SC2086
    expect_status 0 "$cmd --help" "$BW_BIN" $cmd --help
    expect_output "^Usage: bulwark $cmd" "$cmd --help"
done
pass "--version and --help on every command"

expect_status 2 "no command" "$BW_BIN"
expect_status 2 "unknown command" "$BW_BIN" frobnicate
expect_output "unknown command 'frobnicate'" "unknown command message"
expect_status 2 "unknown option" "$BW_BIN" serve --project x --state y --colour
expect_output "unknown option '--colour'" "unknown option message"
expect_status 2 "missing --state" "$BW_BIN" serve --project "$FIXTURES/small"
expect_output "--state DIR is required" "missing --state message"
expect_status 2 "option without value" "$BW_BIN" serve --project
expect_status 2 "bad log level" "$BW_BIN" serve --project a --state b --log-level loud
expect_status 2 "bad interval" "$BW_BIN" serve --project a --state b --status-interval -1
expect_status 2 "bad interval" "$BW_BIN" serve --project a --state b --status-interval 1x
expect_status 2 "option twice" "$BW_BIN" tags --prefix A --prefix B "$FIXTURES/small"
expect_status 2 "extra argument" "$BW_BIN" project validate "$FIXTURES/small" extra
expect_status 2 "missing argument" "$BW_BIN" project validate
expect_status 2 "unknown subcommand" "$BW_BIN" project sign x
expect_status 2 "flag with value" "$BW_BIN" tags --json=yes "$FIXTURES/small"
expect_status 2 "tag write without --state" "$BW_BIN" tag write Counter 1
expect_status 2 "tag write with a bad name" "$BW_BIN" tag write --state "$TMP" '1bad' 1
expect_status 2 "tags with both sources" "$BW_BIN" tags --state "$TMP" "$FIXTURES/small"
pass "usage errors exit 2 with a clear message"

expect_status 0 "validate the small fixture" "$BW_BIN" project validate "$FIXTURES/small"
expect_output "^project .*small is valid: 7 tags, 1 device$" "valid summary"
if [ -f "$BW_SOURCE_DIR/examples/waterworks/project.json" ]; then
    expect_status 0 "validate the demo project" \
        "$BW_BIN" project validate "$BW_SOURCE_DIR/examples/waterworks"
fi

expect_status 1 "validate the broken fixture" "$BW_BIN" project validate "$FIXTURES/broken"
expect_output '^tags\[1\]\.type: .*flaot' "error for the misspelt type"
expect_output '^tags\[2\]\.device: .*nowhere' "error for the unknown device"
expect_output '^tags\[3\]\.(min|max): ' "error for the inverted range"
expect_output "is not valid \\([0-9]+ errors\\)$" "error count"
expect_status 1 "validate a missing directory" "$BW_BIN" project validate "$TMP/none"
pass "project validate prints every error with its path"

expect_status 1 "serve a broken project" \
    "$BW_BIN" serve --project "$FIXTURES/broken" --state "$TMP/state"
expect_output '^project\.json: tags\[1\]\.type: ' "serve prints project.json: path: reason"
expect_output '^project\.json: tags\[2\]\.device: ' "serve prints every error"
[ ! -e "$TMP/state/bulwark.lock" ] || fail "serve locked the state of a broken project"
pass "serve refuses a broken project with every error"

expect_status 0 "tags of the fixture" "$BW_BIN" tags "$FIXTURES/small"
expect_output '^NAME +TYPE +UNIT +RANGE +SOURCE +WRITABLE$' "tags header"
expect_output '^Setpoint +float +% +0 \.\. 100 +memory +yes$' "memory tag row"
expect_output '^Tank1\.Level +float +m +0 \.\. 5 +sim1/TK1\.level +no$' "device tag row"
expect_status 0 "tags --prefix --json" "$BW_BIN" tags --prefix Pump --json "$FIXTURES/small"
python3 -c 'import json,sys; t=json.loads(sys.argv[1]); assert [x["name"] for x in t]==["Pump1.Run"], t' \
    "$OUT" || fail "tags --json output"
pass "tags DIR lists definitions"

expect_status 1 "status without a daemon" "$BW_BIN" status --state "$TMP"
expect_output "no bulwark is running on state directory" "no daemon message"

echo "PASS: 12-project-validate-cli"
