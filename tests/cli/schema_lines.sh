#!/bin/sh
# schema_lines.sh - docs/emotop-lines.schema.json (JSON Schema 2020-12)
# describes every NDJSON line type emotop writes: real output of the demo
# (summary, alert, source, student, student_final, final; --record's frame
# and track; faces and the faces-only final without a classifier) is
# validated against it by a small validator of the keywords the schema uses
# (in the test, so it always runs; with python3-jsonschema installed the
# lines are checked by it too). Every "type" that src/report.c writes must
# be in the schema.
. "$(dirname "$0")/cli_lib.inc"
SCHEMA=docs/emotop-lines.schema.json

if [ ! -f "$SCHEMA" ]; then
	no "schema file $SCHEMA exists"
	done_tests; exit
fi
ok "schema file $SCHEMA exists"
cat >"$T/alerts.yaml" <<'YAML'
seats:
  - {name: Ana, x: 0, y: 0, w: 213, h: 240}
alerts:
  - {name: always, condition: "faces < 1000", for: 0}
YAML
"$EMOTOP" --demo --headless --duration 4 --interval 1 --format ndjson --per-student \
	--config "$T/alerts.yaml" --record "$T/rec.ndjson" >"$T/lines.ndjson" 2>"$T/err" </dev/null \
	&& ok "demo with every line type exits 0" || no "demo with every line type exits 0" "$(head -c 400 "$T/err")"
"$EMOTOP" --demo --headless --duration 3 --interval 1 --format ndjson --per-student --model none \
	--config "$T/alerts.yaml" >"$T/none.ndjson" 2>"$T/err" </dev/null \
	&& ok "demo without a classifier exits 0" || no "demo without a classifier exits 0" "$(head -c 400 "$T/err")"
"$EMOTOP" --demo --headless --duration 3 --interval 1 --format ndjson --per-student --aggregate-only \
	>"$T/agg.ndjson" 2>"$T/err" </dev/null \
	&& ok "demo --aggregate-only exits 0" || no "demo --aggregate-only exits 0" "$(head -c 400 "$T/err")"
classify=0
grep -q '"type":"summary"' "$T/lines.ndjson" && classify=1
# the line types report.c writes: jstr(o, "type", ...) (with the faces-only
# ternary) and json_person_head(o, TYPE, ...)
types=$(grep -oE '(jstr\(o, "type", |json_person_head\(o, )[^;]*' src/report.c | grep -o '"[a-z_]*"' | tr -d '"' | grep -vx type | sort -u | tr '\n' ' ')

py_check "schema: every line validates, every type covered" "$(head -c 300 "$T/lines.ndjson")" \
	"$SCHEMA" "$classify" "$types" "$T/lines.ndjson" "$T/rec.ndjson" "$T/none.ndjson" "$T/agg.ndjson" <<'PY'
import json, sys

schema = json.load(open(sys.argv[1]))
classify = sys.argv[2] == "1"
written = set(sys.argv[3].split())
files = sys.argv[4:]
KNOWN = {"$schema", "$id", "$defs", "title", "description", "type", "required", "properties",
         "additionalProperties", "enum", "const", "items", "minItems", "maxItems", "minimum",
         "maximum", "oneOf", "$ref"}
TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}

def resolve(ref):
    assert ref.startswith("#/"), ref
    node = schema
    for part in ref[2:].split("/"):
        node = node[part]
    return node

def is_type(v, t):
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    return isinstance(v, TYPES[t])

def errors(v, s, path="$"):
    """The subset of JSON Schema 2020-12 the schema uses; unknown keywords are errors."""
    unknown = set(s) - KNOWN
    if unknown:
        return ["%s: schema keyword(s) %s not supported by this validator" % (path, sorted(unknown))]
    if "$ref" in s:
        e = errors(v, resolve(s["$ref"]), path)
        if e:
            return e
    if "type" in s:
        ts = s["type"] if isinstance(s["type"], list) else [s["type"]]
        if not any(is_type(v, t) for t in ts):
            return ["%s: %r is not of type %s" % (path, v, ts)]
    if "const" in s and not (v == s["const"] and type(v) == type(s["const"])):
        return ["%s: %r is not %r" % (path, v, s["const"])]
    if "enum" in s and not any(v == e and type(v) == type(e) for e in s["enum"]):
        return ["%s: %r not in %r" % (path, v, s["enum"])]
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if "minimum" in s and v < s["minimum"]:
            return ["%s: %r < %r" % (path, v, s["minimum"])]
        if "maximum" in s and v > s["maximum"]:
            return ["%s: %r > %r" % (path, v, s["maximum"])]
    out = []
    if isinstance(v, dict):
        for k in s.get("required", []):
            if k not in v:
                out.append("%s: missing %r" % (path, k))
        props = s.get("properties", {})
        for k, x in v.items():
            if k in props:
                out += errors(x, props[k], path + "." + k)
            elif s.get("additionalProperties", True) is False:
                out.append("%s: unexpected %r" % (path, k))
            elif isinstance(s.get("additionalProperties"), dict):
                out += errors(x, s["additionalProperties"], path + "." + k)
    if isinstance(v, list):
        if "minItems" in s and len(v) < s["minItems"]:
            out.append("%s: fewer than %d items" % (path, s["minItems"]))
        if "maxItems" in s and len(v) > s["maxItems"]:
            out.append("%s: more than %d items" % (path, s["maxItems"]))
        if "items" in s:
            for i, x in enumerate(v):
                out += errors(x, s["items"], "%s[%d]" % (path, i))
    if "oneOf" in s:
        ok = [i for i, sub in enumerate(s["oneOf"]) if not errors(v, sub, path)]
        if len(ok) != 1:
            out.append("%s: matches %d of oneOf (want exactly 1)" % (path, len(ok)))
    return out

assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", schema.get("$schema")
# the validator is not vacuous
good = {"type": "source", "time": 1.0, "clock": None, "media_time": 1.0, "source_state": "ended",
        "previous": "up", "reconnects": 0, "source": "demo"}
assert not errors(good, schema), errors(good, schema)
for bad in [dict(good, previous="sideways"), dict(good, extra=1), dict(good, reconnects=1.5),
            {k: x for k, x in good.items() if k != "source"}, dict(good, type="nosuch")]:
    assert errors(bad, schema), bad

seen, n = {}, 0
for f in files:
    for ln, line in enumerate(open(f), 1):
        o = json.loads(line)
        e = errors(o, schema)
        assert not e, "%s:%d: %s\n%s" % (f, ln, e[:5], line[:400])
        seen.setdefault(o["type"], 0)
        seen[o["type"]] += 1
        n += 1
declared = set(schema["properties"]["type"]["enum"])
assert written <= declared, "written by report.c, not in the schema: %s" % (written - declared)
want = {"source", "alert", "final", "student_final", "faces"}
if classify:
    want |= {"summary", "student", "frame", "track"}
assert want <= set(seen), "no line of type %s" % (want - set(seen))
# --aggregate-only: no per-person line type
agg = [json.loads(l)["type"] for l in open(files[3])]
assert not {"student", "student_final", "track"} & set(agg), agg
print("  %d lines valid: %s" % (n, ", ".join("%s %d" % kv for kv in sorted(seen.items()))))
PY

if command -v python3 >/dev/null 2>&1 && python3 -c 'import jsonschema' 2>/dev/null; then
	py_check "schema: python3-jsonschema agrees" "" "$SCHEMA" "$T/lines.ndjson" "$T/rec.ndjson" \
		"$T/none.ndjson" "$T/agg.ndjson" <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
for f in sys.argv[2:]:
    for ln, line in enumerate(open(f), 1):
        e = list(v.iter_errors(json.loads(line)))
        assert not e, "%s:%d: %s" % (f, ln, [x.message for x in e][:3])
PY
else
	skip "schema: python3-jsonschema not installed (the test's own validator ran)"
fi
done_tests
