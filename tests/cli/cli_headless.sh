#!/bin/sh
# cli_headless.sh - emotop headless on videos generated here by FFmpeg's own
# encoders: line counts for a duration and interval, NDJSON and CSV fields,
# per-student and aggregate-only output, record file, SVG, bad inputs.
. "$(dirname "$0")/cli_lib.inc"

if ! have_ffmpeg; then
	skip "ffmpeg CLI not installed: cannot make test videos"
	done_tests; exit
fi
make_clip "$T/ten.mp4" 10 || { no "make test video"; done_tests; exit; }
# these checks count the seat-region stand-in's faces (the clip has no real
# faces): run without the CNN face detector
mkdir -p "$XDG_CONFIG_HOME/emotop"
printf 'detector:\n  model: none\n' >"$XDG_CONFIG_HOME/emotop/config.yaml"
printf 'not a video\n' >"$T/text.mp4"
head -c 20000 "$T/ten.mp4" >"$T/cut.mp4"
ffmpeg -nostdin -loglevel error -y -i "$T/ten.mp4" -c copy -f mpegts "$T/ten.ts"
head -c 60000 "$T/ten.ts" >"$T/cut.ts"

# the model decides which line types exist
"$EMOTOP" --headless --format ndjson --interval 1 --duration 1 "$T/ten.mp4" >"$T/probe" 2>"$T/probe.err"
if grep -q '"type":"summary"' "$T/probe"; then
	classify=1; line='"type":"summary"'
else
	classify=0; line='"type":"faces"'
	contains "no model: says so on stderr" "$T/probe.err" "no classifier model"
	contains "no model: lines say so" "$T/probe" '"emotions":null'
	lacks "no model: no probabilities" "$T/probe" '"happy"'
fi

# classifier.model: none: faces only, no emotion inference, whatever is built in
expect_rc "classifier off: exit 0" 0 "$EMOTOP" --headless --format ndjson --interval 1 --duration 1 \
	--set classifier.model=none "$T/ten.mp4"
contains "classifier off: says so on stderr" "$T/err" "classifier off"
contains "classifier off: faces lines" "$T/out" '"type":"faces"'
contains "classifier off: no emotions" "$T/out" '"emotions":null'
lacks "classifier off: no probabilities" "$T/out" '"happy"'
lacks "classifier off: no summary lines" "$T/out" '"type":"summary"'

# 10 s file (last frame at 9.8 s at 5 fps), interval 2: lines at 2 4 6 8, then final
expect_rc "ndjson run exits 0" 0 "$EMOTOP" --headless --format ndjson --interval 2 "$T/ten.mp4"
n=$(grep -c "$line" "$T/out")
[ "$n" -eq 4 ] && ok "4 lines for 10 s at interval 2" || no "4 lines for 10 s at interval 2" "got $n" "$(cat "$T/out")"
n=$(grep -c '"type":"final"' "$T/out")
[ "$n" -eq 1 ] && ok "one final line" || no "one final line" "got $n"
[ "$(tail -n 1 "$T/out" | grep -c '"type":"final"')" -eq 1 ] && ok "final line is last" || no "final line is last"
py_check "ndjson fields" "$(head -n 2 "$T/out")" "$T/out" "$classify" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
cls = sys.argv[2] == "1"
names = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
ts = []
for o in lines:
    assert "type" in o, o
    if o["type"] in ("summary", "faces"):
        assert o["faces"] == 1, o
        ts.append(o.get("time", o.get("t")))
        if cls:
            assert sorted(o["mean"]) == sorted(names), o
            assert abs(sum(o["mean"].values()) - 1) < 0.01, o
            assert 0 <= o["negative_share"] <= 1, o
            assert -1 <= o["valence"] <= 1, o
            assert o["dominant"] in names, o
    # a file: its media time, no wall clock; the source was up
    assert o["clock"] is None and o["media_time"] == o["time"], o
    if o["type"] in ("summary", "faces"):
        assert o["source_state"] == "up", o
    elif o["type"] in ("source", "final"):
        assert o["source_state"] == "ended", o  # the end of the file
assert ts == sorted(ts) and len(ts) == 4, ts
assert abs(ts[1] - ts[0] - 2) < 0.21, ts
PY

# --duration 4, interval 1: lines at 1 2 3 4
expect_rc "duration run" 0 "$EMOTOP" --headless --format ndjson --interval 1 --duration 4 "$T/ten.mp4"
n=$(grep -c "$line" "$T/out")
[ "$n" -eq 4 ] && ok "4 lines for --duration 4 --interval 1" || no "4 lines for --duration 4 --interval 1" "got $n"

# CSV: one header, same column count on every row
expect_rc "csv run" 0 "$EMOTOP" --headless --format csv --interval 2.5 "$T/ten.mp4"
hdr=$(head -n 1 "$T/out")
case $hdr in type,*) ok "csv header" ;; *) no "csv header" "$hdr" ;; esac
[ "$(grep -c '^type,' "$T/out")" -eq 1 ] && ok "csv header once" || no "csv header once"
# faces only (no classifier), two runs appending to one file: one header
rm -f "$T/faces.csv"
for i in 1 2; do "$EMOTOP" --headless --model none --format csv --interval 2.5 "$T/ten.mp4" >>"$T/faces.csv" 2>/dev/null; done
[ "$(grep -c '^type,' "$T/faces.csv")" -eq 1 ] && [ "$(grep -c '^final,' "$T/faces.csv")" -eq 2 ] &&
	ok "faces-only csv appended twice: header once" || no "faces-only csv appended twice: header once" "$(cat "$T/faces.csv")"
cols=$(awk -F, '{print NF}' "$T/out" | sort -u | wc -l)
[ "$cols" -eq 1 ] && ok "csv rows have equal columns" || no "csv rows have equal columns" "$(cat "$T/out")"
n=$(grep -c '^final,' "$T/out")
[ "$n" -eq 1 ] && ok "csv final row" || no "csv final row" "$(cat "$T/out")"
n=$(grep -c '^summary,' "$T/out")
[ "$n" -eq 3 ] && ok "csv: 3 rows for 10 s at 2.5 s" || no "csv: 3 rows for 10 s at 2.5 s" "got $n"
# the file's end is a source row (state ended) before the final row
[ "$(tail -n 2 "$T/out" | head -n 1 | grep -c '^source,.*,ended$')" -eq 1 ] && ok "csv: source row, ended" \
	|| no "csv: source row, ended" "$(tail -n 2 "$T/out")"

# text is the default format
expect_rc "text run" 0 "$EMOTOP" --headless --interval 5 "$T/ten.mp4"
[ "$(wc -l <"$T/out")" -eq 3 ] && [ "$(grep -c ' SOURCE ended (was up' "$T/out")" -eq 1 ] &&
	ok "text: 1 line, the end of the source, final" || no "text: 1 line, the end of the source, final" "$(cat "$T/out")"

# the classifier path: the embedded model, else a random model written by
# the engine's unit test binary (real int8 inference, meaningless labels)
M=""
if [ $classify = 0 ]; then
	helper=$(dirname "$EMOTOP")/tests/test_engine
	if [ -x "$helper" ] && "$helper" --write-model "$T/emo.qnn"; then
		M="--model $T/emo.qnn"; classify=1
		expect_rc "with --model: ndjson run" 0 "$EMOTOP" $M --headless --format ndjson --interval 2 "$T/ten.mp4"
		n=$(grep -c '"type":"summary"' "$T/out")
		[ "$n" -eq 4 ] && ok "with --model: 4 summary lines" || no "with --model: 4 summary lines" "got $n"
		lacks "with --model: no status line" "$T/out" "no classifier model"
	fi
fi

# seats name the students; aggregate-only removes every per-person trace
cat >"$T/seats.yaml" <<'Y'
detector:
  model: none
seats:
  - {name: Ana, x: 0, y: 0, w: 0.5, h: 1}
  - {name: Ben, x: 0.5, y: 0, w: 0.5, h: 1}
Y
expect_rc "seats run" 0 "$EMOTOP" $M --config "$T/seats.yaml" --headless --format ndjson --per-student \
	--interval 2 --record "$T/rec.ndjson" "$T/ten.mp4"
if [ $classify = 1 ]; then
	contains "per-student line names Ana" "$T/out" '"name":"Ana"'
	contains "per-student line names Ben" "$T/out" '"name":"Ben"'
	contains "record names Ana" "$T/rec.ndjson" 'Ana'
	grep '"type":"summary"' "$T/out" | head -n 1 | grep -q '"faces":2' && ok "two seats, two faces" || no "two seats, two faces"
	expect_rc "aggregate-only run" 0 "$EMOTOP" $M --config "$T/seats.yaml" --headless --format ndjson \
		--per-student --aggregate-only --interval 2 --record "$T/rec2.csv" "$T/ten.mp4"
	lacks "aggregate-only: no names in lines" "$T/out" 'Ana'
	lacks "aggregate-only: no student lines" "$T/out" '"type":"student"'
	lacks "aggregate-only: no names in record" "$T/rec2.csv" 'Ana'
	lacks "aggregate-only: no ids in record" "$T/rec2.csv" 'track'
	expect_rc "svg report" 0 "$EMOTOP" $M --headless --interval 5 --report-svg "$T/mood.svg" "$T/ten.mp4"
	contains "svg written" "$T/mood.svg" "<svg"
else
	grep -q '"faces":2' "$T/out" && ok "two seats, two faces" || no "two seats, two faces" "$(head -n 2 "$T/out")"
	skip "no classifier model (and no tests/test_engine to make one): per-student, record and SVG checks"
fi

# --annotate: one PNG per summary line, nothing without it
expect_rc "annotate run" 0 "$EMOTOP" $M --headless --interval 2 --annotate "$T/shots" "$T/ten.mp4"
n=$(ls "$T/shots" | grep -c '^emotop-[0-9]*\.png$')
[ "$n" -eq 4 ] && ok "annotate: 4 PNG files" || no "annotate: 4 PNG files" "got $n"
if [ "$(head -c 4 "$T/shots/emotop-000001.png" | od -An -c | tr -d ' ')" = '211PNG' ]; then
	ok "annotate: PNG data"; else no "annotate: PNG data"; fi

# bad inputs: clear message, documented exit code
expect_rc "missing file: exit 4" 4 "$EMOTOP" --headless "$T/none.mp4"
contains "missing file named" "$T/err" "$T/none.mp4"
expect_rc "text file: exit 4" 4 "$EMOTOP" --headless "$T/text.mp4"
contains "text file named" "$T/err" "$T/text.mp4"
expect_rc "truncated mp4 (no index): exit 4" 4 "$EMOTOP" --headless "$T/cut.mp4"
expect_rc "truncated mpegts: runs, exit 0" 0 "$EMOTOP" --headless --format ndjson --interval 0.5 "$T/cut.ts"
contains "truncated mpegts: final line" "$T/out" '"type":"final"'
expect_rc "unreachable URL: exit 4" 4 "$EMOTOP" --headless http://127.0.0.1:1/live.ts
contains "unreachable URL named" "$T/err" "127.0.0.1:1"
# a stream's user:password never reaches stderr, a password with '@' included
expect_rc "URL with password: exit 4" 4 "$EMOTOP" --headless --set capture.timeout=1 \
	--set capture.reconnect=never 'rtsp://admin:hun@ter2@127.0.0.1:1/x'
contains "URL with password: named masked" "$T/err" 'rtsp://***@127.0.0.1:1/x'
lacks "URL with password: user not shown" "$T/err" 'admin'
lacks "URL with password: password not shown" "$T/err" 'ter2'
# capture.timeout is a network timeout: stdin waits for a late writer (the
# stream carries its MPEG-4 headers in-band, unlike ten.ts)
ffmpeg -nostdin -loglevel error -y -i "$T/ten.mp4" -c copy -bsf:v dump_extra -f mpegts "$T/tenx.ts"
{ sleep 2; cat "$T/tenx.ts"; } | "$EMOTOP" --headless --format ndjson --interval 2 \
	--set capture.timeout=0.5 - >"$T/out" 2>"$T/err"; rc=$?
[ "$rc" -eq 0 ] && ok "stdin written late: exit 0" || no "stdin written late: exit 0" "exit $rc" "$(head -c 400 "$T/err")"
n=$(grep -c "$line" "$T/out")
[ "$n" -eq 4 ] && ok "stdin written late: 4 lines" || no "stdin written late: 4 lines" "got $n"
# a recording fetched by URL is a file: analysed once, completely, then the end
# (faststart: python's server does not answer range requests)
ffmpeg -nostdin -loglevel error -y -i "$T/ten.mp4" -c copy -movflags +faststart "$T/vod.mp4"
if command -v python3 >/dev/null 2>&1 && command -v timeout >/dev/null 2>&1; then
	(cd "$T" && exec python3 -c '
import http.server, socketserver, sys
class Q(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
s = socketserver.TCPServer(("127.0.0.1", 0), Q)
open("port.tmp", "w").write(str(s.server_address[1])); import os; os.rename("port.tmp", "port")
s.serve_forever()') &
	srv=$!
	i=0; while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	expect_rc "mp4 over HTTP: ends, exit 0" 0 timeout 60 "$EMOTOP" --headless --format ndjson --interval 2 \
		"http://127.0.0.1:$(cat "$T/port")/vod.mp4"
	n=$(grep -c "$line" "$T/out")
	[ "$n" -eq 4 ] && ok "mp4 over HTTP: 4 lines like the file" || no "mp4 over HTTP: 4 lines like the file" "got $n"
	lacks "mp4 over HTTP: not replayed" "$T/err" "reconnecting"
	kill "$srv"; wait "$srv" 2>/dev/null
else
	skip "mp4 over HTTP: python3 or timeout absent"
fi
expect_rc "unwritable log: exit 6" 6 "$EMOTOP" --headless --log "$T/no/such/dir/x.log" "$T/ten.mp4"
# write failures are exit 6; a reader closing the pipe is not
expect_rc "unwritable SVG: exit 6" 6 "$EMOTOP" --headless --report-svg "$T/no/such/dir/r.svg" "$T/ten.mp4"
contains "unwritable SVG named" "$T/err" "$T/no/such/dir/r.svg"
if [ -w /dev/full ]; then
	"$EMOTOP" --headless --interval 1 "$T/ten.mp4" >/dev/full 2>"$T/err"; rc=$?
	[ "$rc" -eq 6 ] && ok "stdout full: exit 6" || no "stdout full: exit 6" "exit $rc"
	[ "$(grep -c 'cannot write to standard output' "$T/err")" -eq 1 ] && ok "stdout full: said once" ||
		no "stdout full: said once" "$(head -c 400 "$T/err")"
	expect_rc "log full: exit 6" 6 "$EMOTOP" --headless --log /dev/full "$T/ten.mp4"
else
	skip "stdout and log on /dev/full: no writable /dev/full"
fi
{ "$EMOTOP" --headless --interval 1 "$T/ten.mp4" 2>"$T/err"; echo $? >"$T/rc"; } | head -n 1 >/dev/null
rc=$(cat "$T/rc")
[ "$rc" -eq 0 ] && ok "reader closes the pipe: exit 0" || no "reader closes the pipe: exit 0" "exit $rc"
lacks "reader closes the pipe: no message" "$T/err" "cannot write"
expect_rc "missing model: exit 5" 5 "$EMOTOP" --headless --model "$T/none.qnn" "$T/ten.mp4"
contains "missing model named" "$T/err" "none.qnn"

done_tests
