#!/bin/sh
# model_flags.sh - --model given several times is one ensemble (emotop and
# emotop scan), "\," is a comma in a model's name, and --model DIR says it
# is a directory.
. "$(dirname "$0")/cli_lib.inc"

M=$(pwd)/models/emo7.qnn
if [ ! -f "$M" ]; then
	skip "models/emo7.qnn absent"
	done_tests; exit
fi
cp "$M" "$T/a,b.qnn"
printf 'detector:\n  model: none\n' >"$T/nodet.yaml"

# repeated --model: every one is loaded (a missing first one is an error)
expect_rc "emotop, repeated --model: exit 5" 5 "$EMOTOP" -c "$T/nodet.yaml" --headless --model "$T/none.qnn" --model "$M" demo:1
contains "emotop, repeated --model: the first one loaded too" "$T/err" "none.qnn"
expect_rc "emotop, two --model: exit 0" 0 "$EMOTOP" -c "$T/nodet.yaml" --headless --model "$M" --model "$T/a\\,b.qnn" demo:1
expect_rc "emotop, --model a\\,b.qnn: exit 0" 0 "$EMOTOP" -c "$T/nodet.yaml" --headless --model "$T/a\\,b.qnn" demo:1
expect_rc "emotop, --model a,b.qnn unescaped: exit 5" 5 "$EMOTOP" -c "$T/nodet.yaml" --headless --model "$T/a,b.qnn" demo:1
expect_rc "emotop, --model DIR: exit 5" 5 "$EMOTOP" -c "$T/nodet.yaml" --headless --model "$T" demo:1
contains "emotop, --model DIR: is a directory" "$T/err" "is a directory"
lacks "emotop, --model DIR: not 'too big'" "$T/err" "too big"

if have_ffmpeg && "$EMOTOP" scan --help >/dev/null 2>&1; then
	ffmpeg -nostdin -loglevel error -y -f lavfi -i "testsrc=size=160x120" -frames:v 1 "$T/t.png"
	"$EMOTOP" scan "$T/t.png" >"$T/out" 2>"$T/err"
	if grep -q "no face detector model" "$T/err"; then
		skip "no models/face.qnn in this build: scan checks"
	else
		expect_rc "scan, repeated --model: exit 1" 1 "$EMOTOP" scan --model "$T/none.qnn" --model "$M" "$T/t.png"
		contains "scan, repeated --model: the first one loaded too" "$T/err" "none.qnn"
		expect_rc "scan, --model a\\,b.qnn twice: exit 0" 0 "$EMOTOP" scan --model "$T/a\\,b.qnn" --model "$T/a\\,b.qnn" "$T/t.png"
		expect_rc "scan, --model DIR: exit 1" 1 "$EMOTOP" scan --model "$T" "$T/t.png"
		contains "scan, --model DIR: is a directory" "$T/err" "is a directory"
	fi
else
	skip "no ffmpeg CLI or no scan command: scan checks"
fi
done_tests
