#!/bin/sh
# scan_basic.sh - `emotop scan`: NDJSON checked field by field on a strip of
# FER2013 faces (and a video of it), the table, --annotate PNGs, and bad
# input: 1x1 and 8000x8000 images, an all-black frame, a truncated JPEG, a
# directory with a text file in it, a missing path, bad options.
. "$(dirname "$0")/cli_lib.inc"

SHARED=${SHARED:-../shared}
case $SHARED in /*) ;; *) SHARED=$(pwd)/$SHARED ;; esac
FER="$SHARED/data/fer2013/test"

if ! "$EMOTOP" scan --help >"$T/help" 2>&1 || ! grep -q "Usage: emotop scan" "$T/help"; then
	skip "emotop has no scan command in this build"
	done_tests; exit
fi
contains "scan --help lists --json" "$T/help" "--json"
if ! have_ffmpeg; then
	skip "ffmpeg CLI not installed: cannot make test images"
	done_tests; exit
fi

# usage errors: exit 2
expect_rc "no path: exit 2" 2 "$EMOTOP" scan
expect_rc "bad threshold: exit 2" 2 "$EMOTOP" scan --threshold 2 x.png
expect_rc "bad min-face: exit 2" 2 "$EMOTOP" scan --min-face 3 x.png
for m in 4294967306 10x "" autox; do
	expect_rc "min-face '$m': exit 2" 2 "$EMOTOP" scan --min-face "$m" x.png
done
contains "the keyword is named" "$T/err" "10..4096 or auto"

# does this build have a detector model?
ffmpeg -nostdin -loglevel error -y -f lavfi -i "color=black:size=640x480" -frames:v 1 "$T/black.png"
"$EMOTOP" scan --json "$T/black.png" >"$T/out" 2>"$T/err"
if grep -q "no face detector model" "$T/err"; then
	skip "no models/face.qnn in this build"
	done_tests; exit
fi
expect_rc "all-black frame: exit 0" 0 "$EMOTOP" scan --json "$T/black.png"
[ ! -s "$T/out" ] && ok "all-black frame: no faces" || no "all-black frame: no faces" "$(head -c 300 "$T/out")"

printf 'P5\n1 1\n255\n\200' >"$T/one.pgm"
expect_rc "1x1 image: exit 0" 0 "$EMOTOP" scan --json "$T/one.pgm"
[ ! -s "$T/out" ] && ok "1x1 image: no faces" || no "1x1 image: no faces"
ffmpeg -nostdin -loglevel error -y -f lavfi -i "color=black:size=8000x8000" -frames:v 1 "$T/huge.png"
expect_rc "8000x8000 image: exit 0" 0 "$EMOTOP" scan --json --min-face 40 "$T/huge.png"

expect_rc "missing file: exit 1" 1 "$EMOTOP" scan --json "$T/none.jpg"
contains "missing file named" "$T/err" "none.jpg"

if [ ! -d "$FER" ]; then
	skip "$FER not found (set SHARED): face checks"
	done_tests; exit
fi
f1=$(ls "$FER/happy" | head -n 1); f2=$(ls "$FER/neutral" | head -n 1); f3=$(ls "$FER/surprise" | head -n 1)
# three faces of 170 px side by side with gaps, on mid gray
ffmpeg -nostdin -loglevel error -y -i "$FER/happy/$f1" -i "$FER/neutral/$f2" -i "$FER/surprise/$f3" \
	-filter_complex "[0]scale=170:170,pad=250:250:40:40:gray[a];[1]scale=170:170,pad=250:250:40:40:gray[b];[2]scale=170:170,pad=250:250:40:40:gray[c];[a][b][c]hstack=inputs=3" \
	-frames:v 1 "$T/three.png" || { no "make the face strip"; done_tests; exit; }

# FER2013 faces scaled up alone score lower than faces in photos (see
# test_detect.c): look at a lower threshold and ask for at least one.
TH="--threshold 0.35"
expect_rc "three faces: exit 0" 0 "$EMOTOP" scan --json $TH "$T/three.png"
cp "$T/out" "$T/three.ndjson"
n=$(grep -c . "$T/three.ndjson")
[ "$n" -ge 1 ] && ok "three faces: lines" || no "three faces: lines" "got $n" "$(cat "$T/three.ndjson")"
py_check "ndjson fields" "$(cat "$T/three.ndjson")" "$T/three.ndjson" "$T/three.png" <<'PY'
import json, sys
names = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
faces = [json.loads(l) for l in open(sys.argv[1])]
xs = []
assert faces
for o in faces:
    assert set(o) == {"file", "box", "score", "landmarks", "emotion", "probs"}, o
    assert o["file"] == sys.argv[2], o
    x, y, w, h = o["box"]
    # the WIDER FACE convention: forehead to under the chin, taller than wide
    assert len(o["box"]) == 4 and w > 0 and w <= h <= 1.6 * w, o
    cx, cy = x + w / 2, y + h / 2
    assert 0.35 <= o["score"] <= 1, o
    lm = o["landmarks"]
    assert len(lm) == 5 and all(len(p) == 2 for p in lm), o
    for px, py in lm:
        assert x - 0.1 * w <= px <= x + 1.1 * w and y - 0.1 * h <= py <= y + 1.1 * h, o
    # eyes above the mouth, left eye left of the right eye
    assert lm[0][0] < lm[1][0] and lm[0][1] < lm[3][1] and lm[1][1] < lm[4][1], o
    if o["emotion"] is None:
        assert o["probs"] is None, o
    else:
        assert o["emotion"] in names, o
        assert sorted(o["probs"]) == sorted(names), o
        assert abs(sum(o["probs"].values()) - 1) < 0.01, o
        assert max(o["probs"], key=o["probs"].get) == o["emotion"], o
    # a face box: each face sits in its own 250 px cell, centred near (125 + 250 k, 125)
    if w > 100 and (abs((cx - 125) % 250) < 30 or abs((cx - 125) % 250) > 220) and abs(cy - 128) < 30:
        xs.append(cx)
assert len(xs) >= 1, faces
PY

# table
expect_rc "table: exit 0" 0 "$EMOTOP" scan $TH "$T/three.png"
contains "table header" "$T/out" "SCORE"
[ "$(grep -c three.png "$T/out")" -eq "$n" ] && ok "table: a row per face" || no "table: a row per face" "$(cat "$T/out")"

# --annotate
expect_rc "annotate: exit 0" 0 "$EMOTOP" scan --json --annotate "$T/ann" "$T/three.png"
if [ -s "$T/ann/three.png" ] && head -c 8 "$T/ann/three.png" | grep -q PNG; then
	ok "annotate: PNG written"
else
	no "annotate: PNG written" "$(ls -la "$T/ann" 2>&1)"
fi

# a 3 s video of the strip, one frame per second
ffmpeg -nostdin -loglevel error -y -loop 1 -i "$T/three.png" -t 3 -r 10 -c:v mpeg4 -q:v 3 "$T/three.mp4"
expect_rc "video: exit 0" 0 "$EMOTOP" scan --json $TH --interval 1 "$T/three.mp4"
n=$(grep -c '"t":' "$T/out")
[ "$n" -ge 2 ] && ok "video: faces at several times" || no "video: faces at several times" "got $n lines"
grep -q '"t":0.000' "$T/out" && grep -q '"t":[12].000' "$T/out" && ok "video: t in seconds" ||
	no "video: t in seconds" "$(head -n 3 "$T/out")"

# truncated JPEG, and a directory with a text file in it
cp "$FER/happy/$f1" "$T/good.jpg"
head -c 300 "$FER/happy/$f1" >"$T/cut.jpg"
expect_rc "truncated JPEG: exit 1" 1 "$EMOTOP" scan --json "$T/cut.jpg"
contains "truncated JPEG named" "$T/err" "cut.jpg"
mkdir "$T/dir"
cp "$T/three.png" "$T/dir/a.png"
printf 'not an image\n' >"$T/dir/b.txt"
expect_rc "directory with a text file: exit 1" 1 "$EMOTOP" scan --json $TH "$T/dir"
contains "text file reported" "$T/err" "b.txt"
[ "$(grep -c 'a.png' "$T/out")" -ge 1 ] && ok "directory: the image is scanned" ||
	no "directory: the image is scanned" "$(cat "$T/out")"

# a file name that is not UTF-8: the JSON still parses (U+FFFD); one that
# holds a control character is refused, as emotop refuses such a source
# (scan_dirs.sh checks that)
bad=$(printf 'odd\377name.png')
cp "$T/three.png" "$T/$bad"
expect_rc "odd file name: exit 0" 0 "$EMOTOP" scan --json $TH "$T/$bad"
py_check "odd file name: JSON parses" "$(head -c 300 "$T/out" | od -c | head -n 5)" "$T/out" <<'PY'
import json, sys
lines = open(sys.argv[1], 'rb').read().decode('utf-8').splitlines()
assert lines, 'no line'
for l in lines:
    f = json.loads(l)['file']
    assert f.endswith('odd\ufffdname.png'), repr(f)
PY

# an explicitly given classifier that cannot be loaded is an error, as the
# detector is; standard output that cannot be written is one too
expect_rc "missing --model: exit 1" 1 "$EMOTOP" scan --json --model "$T/none.qnn" "$T/three.png"
contains "missing --model named" "$T/err" "none.qnn"
if [ -w /dev/full ]; then
	"$EMOTOP" scan --json $TH "$T/three.png" "$T/three.png" >/dev/full 2>"$T/err"; rc=$?
	[ "$rc" -eq 1 ] && ok "stdout full: exit 1" || no "stdout full: exit 1" "exit $rc"
	[ "$(grep -c 'cannot write to standard output' "$T/err")" -eq 1 ] && ok "stdout full: said once" ||
		no "stdout full: said once" "$(head -c 400 "$T/err")"
else
	skip "stdout on /dev/full: no writable /dev/full"
fi

done_tests
