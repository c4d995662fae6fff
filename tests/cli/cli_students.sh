#!/bin/sh
# cli_students.sh - the per-student session summary: one "student_final"
# line per student (time present, share of time per expression, dominant
# expression) before the final line, named by the config's seats; attendance
# only without a classifier; nothing per person under --aggregate-only; the
# students' table of the SVG report.
. "$(dirname "$0")/cli_lib.inc"

# the demo: a 3 x 2 gallery of six people on 640 x 480; name the top row
cat >"$T/seats.yaml" <<'YAML'
seats:
  - {name: Ana, x: 0, y: 0, w: 213, h: 240}
  - {name: Ben, x: 213, y: 0, w: 214, h: 240}
  - {name: "Chloé", x: 427, y: 0, w: 213, h: 240}
YAML

expect_rc "per-student run exits 0" 0 "$EMOTOP" --demo --headless --duration 10 --format ndjson --per-student
cp "$T/out" "$T/plain"
classify=0
grep -q '"type":"summary"' "$T/plain" && classify=1
py_check "student_final lines before the final line" "$(grep -v '"type":"student"' "$T/plain" | tail -n 4)" \
	"$T/plain" "$classify" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
cls = sys.argv[2] == "1"
names = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
assert lines[-1]["type"] == "final", lines[-1]
fin = [i for i, o in enumerate(lines) if o["type"] == "student_final"]
assert fin, "no student_final line"
# together, right before the final line
assert fin == list(range(len(lines) - 1 - len(fin), len(lines) - 1)), fin
ids = {o["id"] for o in lines if o["type"] == "student"}
seen = [lines[i] for i in fin]
# every track reported live is there (and those that lived between lines)
assert ids <= {o["id"] for o in seen}, (ids, [o["id"] for o in seen])
assert len({o["id"] for o in seen}) == len(seen), seen
dur = lines[-1]["duration"]
assert any(o["present"] > 0.8 * dur for o in seen), seen
for o in seen:
    assert o["seat"] is None and o["name"] is None, o  # no seats configured
    assert 0 <= o["present"] <= dur + 1e-6, o
    assert 0 <= o["present_share"] <= 1, o
    assert abs(o["present_share"] - o["present"] / dur) < 0.002, o
    assert o["frames"] >= 1 and o["first_seen"] <= o["last_seen"], o
    if cls:
        assert sorted(o["share"]) == sorted(names), o
        assert abs(sum(o["share"].values()) - 1) < 0.01, o
        assert o["dominant"] == max(o["share"], key=o["share"].get), o
PY

# seats named in the config: the top row by name, the bottom row by id
expect_rc "seats run exits 0" 0 "$EMOTOP" --demo --headless --duration 10 --format ndjson --per-student \
	--config "$T/seats.yaml"
py_check "named seats in student_final" "$(grep student_final "$T/out" | head -n 4)" "$T/out" <<'PY'
import json, sys
seen = [json.loads(l) for l in open(sys.argv[1])]
seen = [o for o in seen if o["type"] == "student_final"]
named = [o for o in seen if o["name"] is not None]
assert [o["name"] for o in named] == ["Ana", "Ben", "Chloé"], seen
assert [o["seat"] for o in named] == [0, 1, 2], named
assert all(o["present"] > 5 for o in named), named
assert seen[:3] == named, "seats first"
others = [o for o in seen if o["seat"] is None]
assert others and [o["id"] for o in others] == sorted(o["id"] for o in others), others
PY

# text and CSV
expect_rc "text run exits 0" 0 "$EMOTOP" --demo --headless --duration 4 --per-student --config "$T/seats.yaml"
contains "text: student_final lines" "$T/out" 'student_final'
contains "text: a seat by name" "$T/out" '"Ana" present 0:00:0'
expect_rc "csv run exits 0" 0 "$EMOTOP" --demo --headless --duration 4 --format csv --per-student \
	--config "$T/seats.yaml"
py_check "csv: student_final rows" "$(grep student_final "$T/out" | head -n 2)" "$T/out" "$classify" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
head = rows[0]
fin = [dict(zip(head, r)) for r in rows[1:] if r[0] == "student_final"]
assert all(len(r) == len(head) for r in rows), "ragged rows"
assert [r["name"] for r in fin[:3]] == ["Ana", "Ben", "Chloé"], fin
for r in fin:
    assert 0 <= float(r["uptime"]) <= 4 and 0 <= float(r["value"]) <= 1, r
    assert int(r["frames"]) >= 1, r
    if sys.argv[2] == "1":
        shares = [float(r[k]) for k in ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]]
        assert abs(sum(shares) - 1) < 0.01, r
assert rows[-1][0] == "final"
PY

# no classifier: attendance only
expect_rc "model none exits 0" 0 "$EMOTOP" --demo --headless --duration 6 --format ndjson --per-student \
	--model none --config "$T/seats.yaml"
py_check "model none: attendance, no expressions" "$(tail -n 3 "$T/out")" "$T/out" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
seen = [o for o in lines if o["type"] == "student_final"]
assert [o["name"] for o in seen[:3]] == ["Ana", "Ben", "Chloé"], seen
for o in seen:
    assert o["share"] is None and o["dominant"] is None, o
    assert 0 <= o["present"] <= 6, o
assert any(o["present"] > 3 for o in seen), seen
assert lines[-1]["type"] == "final"
PY
lacks "model none: no probabilities" "$T/out" '"happy"'

# --aggregate-only: nothing per person anywhere, --per-student or not
for fmt in ndjson csv text; do
	expect_rc "aggregate-only $fmt exits 0" 0 "$EMOTOP" --demo --headless --duration 4 --format $fmt \
		--per-student --aggregate-only --config "$T/seats.yaml" --report-svg "$T/agg.svg"
	lacks "aggregate-only $fmt: no student_final" "$T/out" 'student_final'
	lacks "aggregate-only $fmt: no name" "$T/out" 'Ana'
	lacks "aggregate-only $fmt: no student line" "$T/out" 'student'
	lacks "aggregate-only $fmt: no id" "$T/out" '"id"'
done
if [ -s "$T/agg.svg" ]; then
	lacks "aggregate-only svg: no students table" "$T/agg.svg" 'students ('
	lacks "aggregate-only svg: no name" "$T/agg.svg" 'Ana'
fi

# the SVG report: a table of the students under the chart
if [ "$classify" = 1 ]; then
	expect_rc "svg run exits 0" 0 "$EMOTOP" --demo --headless --duration 6 --config "$T/seats.yaml" \
		--report-svg "$T/r.svg"
	py_check "svg: students table" "$(grep -c . "$T/r.svg") lines" "$T/r.svg" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
assert any(t and t.startswith("students (") for t in texts), texts
for n in ["Ana", "Ben", "Chloé"]:
    assert n in texts, (n, texts)
assert "share of present time per expression" in texts, texts
PY
else
	skip "svg students table: no classifier model (no SVG report)"
fi

done_tests
