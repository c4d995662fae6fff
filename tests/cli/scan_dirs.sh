#!/bin/sh
# scan_dirs.sh - `emotop scan DIR` reads sub-folders (a folder holding only
# folders is not silently empty), says so on stderr and exits 1 when a
# directory holds no file at all, does not loop on a symbolic link to a
# parent, and --json gives scores and probs with 6 significant digits.
. "$(dirname "$0")/cli_lib.inc"

if ! have_ffmpeg; then
	skip "ffmpeg CLI not installed: cannot make test pictures"
	done_tests; exit
fi
ffmpeg -nostdin -loglevel error -y -f lavfi -i "testsrc=size=320x240" -frames:v 1 "$T/t.png"
"$EMOTOP" scan "$T/t.png" >"$T/out" 2>"$T/err"
if grep -q "no face detector model" "$T/err"; then
	skip "no models/face.qnn in this build"
	done_tests; exit
fi

# a folder holding only folders: their pictures are read (an annotated
# PNG per picture read, faces or not)
mkdir -p "$T/top/a/deep" "$T/top/b"
cp "$T/t.png" "$T/top/a/deep/one.png"
cp "$T/t.png" "$T/top/b/two.png"
ln -s .. "$T/top/b/up" # a loop, were links to folders followed
expect_rc "nested folders: exit 0" 0 "$EMOTOP" scan --annotate "$T/ann" "$T/top"
[ -f "$T/ann/one.png" ] && [ -f "$T/ann/two.png" ] && ok "nested folders: both pictures read" ||
	no "nested folders: both pictures read" "$(ls "$T/ann" 2>&1)" "$(cat "$T/err")"
[ "$(ls "$T/ann" | wc -l)" -eq 2 ] && ok "nested folders: link to a parent not followed" ||
	no "nested folders: link to a parent not followed" "$(ls "$T/ann")"

# nothing at all: said, exit 1
mkdir -p "$T/empty" "$T/hollow/inner/more"
expect_rc "empty folder: exit 1" 1 "$EMOTOP" scan --json "$T/empty"
contains "empty folder: said" "$T/err" "empty: no files in it or in its folders"
expect_rc "folders of empty folders: exit 1" 1 "$EMOTOP" scan --json "$T/hollow"
contains "folders of empty folders: said" "$T/err" "hollow: no files in it or in its folders"

# names with control characters (C0, C1, bidirectional overrides) are
# refused, as emotop refuses such a source: exit 2 for a PATH given, a
# report and exit 1 for one found in a folder; never shown raw
c0=$(printf 'a\001b.png'); bidi=$(printf 'c\342\200\256d.png'); c1=$(printf 'e\302\205f.png')
for n in "$c0" "$bidi" "$c1"; do cp "$T/t.png" "$T/$n"; done
for n in "$c0" "$bidi" "$c1"; do
	expect_rc "control character in a PATH: exit 2" 2 "$EMOTOP" scan --json "$T/$n"
	contains "control character in a PATH: said" "$T/err" "control characters in the name are not allowed"
	if grep -q "$n" "$T/err"; then no "control character in a PATH: not shown raw" "$(od -c "$T/err" | head -n 3)"
	else ok "control character in a PATH: not shown raw"; fi
done
expect_rc "emotop, control character in the source: exit 2" 2 "$EMOTOP" --headless "$T/$c0"
mkdir "$T/odd"
mv "$T/$c0" "$T/odd/"
cp "$T/t.png" "$T/odd/ok.png"
expect_rc "control character in a folder: exit 1" 1 "$EMOTOP" scan --annotate "$T/ann4" "$T/odd"
contains "control character in a folder: said" "$T/err" "a?b.png: control characters in the name: not read"
[ "$(ls "$T/ann4")" = "ok.png" ] && ok "control character in a folder: the others read" ||
	no "control character in a folder: the others read" "$(ls "$T/ann4")"

# 6 significant digits: at threshold 0 a FER2013 face gives candidates of
# every score (the test card gives none with every detector: the MobileNet-
# style one of session 18 proposes nothing on it)
FER="${SHARED:-../shared}/data/fer2013/test"
if [ ! -d "$FER" ]; then
	skip "$FER not found (set SHARED): the json digits check"
	done_tests; exit
fi
f1=$(ls "$FER/neutral" | head -n 1)
ffmpeg -nostdin -loglevel error -y -i "$FER/neutral/$f1" -vf "scale=120:120,pad=320:240:100:60:gray" \
	-frames:v 1 "$T/face.png"
expect_rc "json at threshold 0: exit 0" 0 "$EMOTOP" scan --json --threshold 0 --min-face 20 "$T/face.png"
py_check "json: 6 significant digits" "$(head -c 400 "$T/out")" "$T/out" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read()
assert text.strip(), 'no detection'
for line in text.splitlines():
    json.loads(line)
# %.4f tied thousands of scores: some value now carries more than 4 decimals
assert re.search(r'"score":0\.\d{5,}|"score":\d(\.\d+)?e-', text), text[:300]
PY

done_tests
