#!/bin/sh
# annotate_private.sh - annotated frames are face images (biometric data):
# `emotop scan --annotate DIR` and `emotop --annotate DIR` make DIR 0700 and
# the files 0600 whatever the umask, never write through a symbolic link
# planted at an output name, never overwrite an earlier run's files (scan:
# NAME-2.png ...; emotop: numbering goes on after the highest emotop-N.png),
# give same-named inputs from two folders two outputs, and name x.png's
# output x.png (not x.png.png).
. "$(dirname "$0")/cli_lib.inc"

if ! have_ffmpeg; then
	skip "ffmpeg CLI not installed: cannot make test pictures"
	done_tests; exit
fi
umask 022
mode() { stat -c %a "$1" 2>/dev/null; }
ffmpeg -nostdin -loglevel error -y -f lavfi -i "testsrc=size=160x120" -frames:v 1 "$T/x.png"

# ---- emotop scan --annotate
"$EMOTOP" scan "$T/x.png" >"$T/out" 2>"$T/err"
if grep -q "no face detector model" "$T/err"; then
	skip "no models/face.qnn in this build: scan checks"
else
	A="$T/ann"
	expect_rc "scan: exit 0" 0 "$EMOTOP" scan --annotate "$A" "$T/x.png"
	[ "$(mode "$A")" = 700 ] && ok "scan: directory 0700" || no "scan: directory 0700" "mode $(mode "$A")"
	[ -f "$A/x.png" ] && ok "scan: x.png gives x.png" || no "scan: x.png gives x.png" "$(ls "$A")"
	[ "$(mode "$A/x.png")" = 600 ] && ok "scan: file 0600" || no "scan: file 0600" "mode $(mode "$A/x.png")"

	# a second run keeps the first run's file and writes a new one
	cp "$A/x.png" "$T/first.png"
	expect_rc "scan, second run: exit 0" 0 "$EMOTOP" scan --annotate "$A" "$T/x.png"
	cmp -s "$A/x.png" "$T/first.png" && ok "scan, second run: first file kept" ||
		no "scan, second run: first file kept"
	[ -f "$A/x-2.png" ] && [ "$(mode "$A/x-2.png")" = 600 ] && ok "scan, second run: x-2.png, 0600" ||
		no "scan, second run: x-2.png, 0600" "$(ls -l "$A")"

	# a symbolic link planted at the output name is not followed
	B="$T/ann2"
	mkdir -m 700 "$B"
	printf 'keep me\n' >"$T/victim"
	ln -s "$T/victim" "$B/x.png"
	expect_rc "scan, planted link: exit 0" 0 "$EMOTOP" scan --annotate "$B" "$T/x.png"
	[ "$(cat "$T/victim")" = "keep me" ] && ok "scan, planted link: its target untouched" ||
		no "scan, planted link: its target untouched" "$(head -c 40 "$T/victim" | od -c | head -n 2)"
	[ -L "$B/x.png" ] && [ -f "$B/x-2.png" ] && [ ! -L "$B/x-2.png" ] &&
		ok "scan, planted link: written beside it" || no "scan, planted link: written beside it" "$(ls -l "$B")"

	# same-named inputs from two folders: two outputs
	mkdir "$T/d1" "$T/d2"
	cp "$T/x.png" "$T/d1/same.png"
	ffmpeg -nostdin -loglevel error -y -f lavfi -i "testsrc=size=200x100" -frames:v 1 "$T/d2/same.png"
	C="$T/ann3"
	expect_rc "scan, two same.png: exit 0" 0 "$EMOTOP" scan --annotate "$C" "$T/d1/same.png" "$T/d2/same.png"
	n=$(ls "$C" | grep -c '^same.*\.png$')
	[ "$n" -eq 2 ] && ok "scan, two same.png: two files" || no "scan, two same.png: two files" "$(ls "$C")"
fi

# ---- emotop --annotate (a shot per summary line)
make_clip "$T/clip.mp4" 4 || { no "make test video"; done_tests; exit; }
mkdir -p "$XDG_CONFIG_HOME/emotop"
printf 'detector:\n  model: none\n' >"$XDG_CONFIG_HOME/emotop/config.yaml"
S="$T/shots"
expect_rc "emotop --annotate: exit 0" 0 "$EMOTOP" --headless --interval 2 --annotate "$S" "$T/clip.mp4"
n1=$(ls "$S" | grep -c '^emotop-[0-9]*\.png$')
[ "$n1" -ge 1 ] && ok "emotop --annotate: files" || no "emotop --annotate: files" "$(ls "$S")"
[ "$(mode "$S")" = 700 ] && ok "emotop --annotate: directory 0700" || no "emotop --annotate: directory 0700" "mode $(mode "$S")"
[ "$(mode "$S/emotop-000001.png")" = 600 ] && ok "emotop --annotate: file 0600" ||
	no "emotop --annotate: file 0600" "mode $(mode "$S/emotop-000001.png")"
# a second run: the first run's files stay as they are (marked here, so
# that an identical rewrite would show), the new ones are numbered on
printf 'mark' >>"$S/emotop-000001.png"
cp "$S/emotop-000001.png" "$T/shot1.png"
"$EMOTOP" --headless --interval 2 --annotate "$S" "$T/clip.mp4" >"$T/out" 2>"$T/err"
cmp -s "$S/emotop-000001.png" "$T/shot1.png" && ok "emotop --annotate, second run: first files kept" ||
	no "emotop --annotate, second run: first files kept"
n2=$(find "$S" -type f -name 'emotop-*.png' | wc -l)
[ "$n2" -eq $((2 * n1)) ] && ok "emotop --annotate, second run: numbered on" ||
	no "emotop --annotate, second run: numbered on" "$(ls "$S")"
# a symbolic link planted at the first name is not followed
S2="$T/shots2"
mkdir -m 700 "$S2"
printf 'keep me\n' >"$T/victim2"
ln -s "$T/victim2" "$S2/emotop-000001.png"
expect_rc "emotop --annotate, planted link: exit 0" 0 "$EMOTOP" --headless --interval 2 --annotate "$S2" "$T/clip.mp4"
[ "$(cat "$T/victim2")" = "keep me" ] && ok "emotop --annotate, planted link: its target untouched" ||
	no "emotop --annotate, planted link: its target untouched"
n3=$(find "$S2" -type f -name 'emotop-*.png' | wc -l)
[ "$n3" -eq "$n1" ] && ok "emotop --annotate, planted link: files beside it" ||
	no "emotop --annotate, planted link: files beside it" "$(ls -l "$S2")"

done_tests
