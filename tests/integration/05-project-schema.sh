#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# docs/project.schema.json is a valid JSON Schema (draft 2020-12) that
# accepts the valid projects (the fixtures, one of them with a security
# section and a directory, the good fuzz seeds and the waterworks example
# when it is there) and rejects every project under
# tests/integration/fixtures/project/bad/. When the binary is built, the
# loader (`bulwark project validate`) must refuse the same bad projects
# with the JSON path and reason listed here, so schema and loader agree.
# Needs python3 with python3-jsonschema (scripts/deps.sh installs it).
set -euo pipefail

ROOT=${BW_SOURCE_DIR:?BW_SOURCE_DIR must name the source tree}
SCHEMA="$ROOT/docs/project.schema.json"
FIX="$ROOT/tests/integration/fixtures/project"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

valid=("$FIX/valid/project.json" "$FIX/valid-security/project.json")
for seed in minimal memory-tags sim-bound signals full audit security write-rules modbus history; do
    valid+=("$ROOT/tests/fuzz/corpus/project/$seed.json")
done
if [ -f "$ROOT/examples/waterworks/project.json" ]; then
    valid+=("$ROOT/examples/waterworks/project.json")
fi

# Debian's interpreter, where scripts/deps.sh installed python3-jsonschema;
# an interpreter earlier on PATH may lack the module.
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=python3
"$PYTHON" - "$SCHEMA" "$FIX/bad" "${valid[@]}" <<'PY' || fail "schema check"
import json, os, sys
import jsonschema

schema_path, bad_dir, valid = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(schema_path) as f:
    schema = json.load(f)
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)

def check(path, node):
    # additionalProperties: false on every object type (the conditional
    # subschemas only constrain such objects and carry no type).
    if isinstance(node, dict):
        if node.get("type") == "object" and node.get("additionalProperties") is not False:
            sys.exit(f"{path}: additionalProperties is not false")
        for k, v in node.items():
            check(f"{path}/{k}", v)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            check(f"{path}/{i}", v)
check("#", schema)

status = 0
for path in valid:
    with open(path) as f:
        errors = list(validator.iter_errors(json.load(f)))
    for e in errors:
        print(f"{path}: {'/'.join(map(str, e.absolute_path))}: {e.message}", file=sys.stderr)
    status |= bool(errors)
    print(f"ok: schema accepts {os.path.relpath(path)}" if not errors else f"not ok: {path}")

bad = sorted(os.listdir(bad_dir))
if len(bad) < 10:
    sys.exit(f"only {len(bad)} bad fixtures")
for name in bad:
    with open(os.path.join(bad_dir, name)) as f:
        doc = json.load(f)
    if validator.is_valid(doc):
        print(f"not ok: schema accepts bad fixture {name}", file=sys.stderr)
        status = 1
    else:
        print(f"ok: schema rejects {name}")
sys.exit(status)
PY

# The loader's verdict on the same files, when the binary is there.
declare -A expected=(
    [address-no-device]='tags[0].address: is only for tags with a "device"'
    [area-zero]='tags[0].access.read.areas[0]: must be between 1 and 31'
    [bad-name]='tags[0].name: "Pump 1" is not a valid name'
    [device-initial]='tags[0].initial: is only for memory tags (tags without a "device")'
    [failsafe-comm-loss-ms]='tags[0].failsafe.comm_loss_ms: is only allowed when "on" lists comm_loss'
    [failsafe-memory-tag]='tags[0].failsafe: is only for writable device tags'
    [format-missing]='format: is required'
    [history-retention-zero]='history.groups[0].retention_days: must be between 1 and 36500'
    [initial-type]='tags[0].initial: must be an integer (the tag is int)'
    [level-zero]='tags[0].access.write.level: must be between 1 and 9999'
    [log-cyclic-no-period]='tags[0].log.period_ms: is required for mode "cyclic"'
    [log-string-tag]='tags[0].log: string tags are not historised'
    [min-on-bool]='tags[0].min: is only for int and float tags'
    [modbus-map-unknown-key]='tags[0].modbus.order: unknown key'
    [modbus-no-host]='devices[0].parameters.host: is required'
    [security-argon2-low]='security.password.argon2.memory_kib: is below the minimum of 19456'
    [security-ldap-scheme]='security.ldap.url: must start with "ldap://" when tls is "starttls"'
    [security-permission]='security.roles[0].permissions[1]: "tag.wrte" is not one of'
    [security-user-filter]='security.ldap.user_filter: must contain "%s" exactly once'
    [steps-on-sine]='simulator.signals[0].steps: is only for shape "step"'
    [tank-area]='simulator.tanks[0].area_m2: must be greater than 0 and at most 1000000'
    [type-typo]='tags[0].type: "flaot" is not one of bool, int, float, string'
    [unknown-key]='tags[0].unti: unknown key'
    [validate-max-change-bool]='tags[0].validate.max_change: is only for int and float tags'
    [validate-read-only]='tags[0].validate: is only for writable tags'
    [write-approval-type]='tags[0].access.write.approval: must be true or false'
)
if [ -z "${BW_BIN:-}" ] || [ ! -x "$BW_BIN" ]; then
    echo "skip: no BW_BIN, loader cross-check not run"
    exit 0
fi
for file in "$FIX"/bad/*.json; do
    name=$(basename "$file" .json)
    want=${expected[$name]:-}
    [ -n "$want" ] || fail "no expected loader error for $name"
    mkdir -p "$work/$name"
    cp "$file" "$work/$name/project.json"
    status=0
    "$BW_BIN" project validate "$work/$name" >"$work/$name.out" 2>&1 || status=$?
    [ "$status" -eq 1 ] || fail "loader: $name: exit $status, expected 1: $(cat "$work/$name.out")"
    grep -qF -- "$want" "$work/$name.out" ||
        fail "loader: $name: expected '$want', got: $(cat "$work/$name.out")"
    echo "ok: loader rejects $name with '$want'"
done
for name in valid valid-security; do
    mkdir -p "$work/$name"
    cp "$FIX/$name/project.json" "$work/$name/project.json"
    "$BW_BIN" project validate "$work/$name" >"$work/$name.out" 2>&1 ||
        fail "loader refuses the fixture $name: $(cat "$work/$name.out")"
    echo "ok: loader accepts the fixture $name"
done
echo "05-project-schema: passed"
