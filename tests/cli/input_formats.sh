#!/bin/sh
# input_formats.sh - a local file may not pull in other files through a
# playlist it was not named as: an HLS playlist renamed .jpg that lists a
# "secret" local video, and an ffconcat list renamed .png, are refused by
# emotop and emotop scan with a clear message, and the secret file is never
# opened (strace, where installed); the same playlist named .m3u8 still
# plays, and ordinary pictures and videos are read as before.
. "$(dirname "$0")/cli_lib.inc"

if ! have_ffmpeg; then
	skip "ffmpeg CLI not installed: cannot make test videos"
	done_tests; exit
fi
mkdir -p "$XDG_CONFIG_HOME/emotop"
printf 'detector:\n  model: none\n' >"$XDG_CONFIG_HOME/emotop/config.yaml"
ffmpeg -nostdin -loglevel error -y -f lavfi -i "testsrc=size=160x120:rate=10:duration=2" \
	-c:v mpeg4 -f mpegts "$T/secret.ts" || { no "make the secret video"; done_tests; exit; }
printf '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n%s\n#EXT-X-ENDLIST\n' "$T/secret.ts" >"$T/list.jpg"
cp "$T/list.jpg" "$T/list.m3u8"
printf 'ffconcat version 1.0\nfile secret.ts\n' >"$T/list.png"

# never_opens NAME CMD...: CMD does not open secret.ts (strace), else skip
never_opens() {
	name=$1; shift
	if ! command -v strace >/dev/null 2>&1; then skip "$name: strace absent"; return; fi
	rm -f "$T/trace"
	strace -f -qq -e trace=open,openat -o "$T/trace" "$@" >/dev/null 2>&1 </dev/null
	if ! grep -q 'open' "$T/trace" 2>/dev/null; then
		skip "$name: strace cannot trace here"
	elif grep -q 'secret\.ts' "$T/trace"; then
		no "$name" "$(grep 'secret\.ts' "$T/trace" | head -n 2)"
	else
		ok "$name"
	fi
}

expect_rc "headless, HLS renamed .jpg: exit 4" 4 "$EMOTOP" --headless "$T/list.jpg"
contains "headless, HLS renamed .jpg: said why" "$T/err" "not opened: an hls playlist"
never_opens "headless, HLS renamed .jpg: secret never opened" "$EMOTOP" --headless "$T/list.jpg"
expect_rc "headless, ffconcat renamed .png: exit 4" 4 "$EMOTOP" --headless "$T/list.png"
contains "headless, ffconcat renamed .png: said why" "$T/err" "not opened: a concat file"
never_opens "headless, ffconcat renamed .png: secret never opened" "$EMOTOP" --headless "$T/list.png"

"$EMOTOP" scan "$T/list.m3u8" >"$T/out" 2>"$T/err"
if grep -q "no face detector model" "$T/err"; then
	skip "no models/face.qnn in this build: scan checks"
else
	expect_rc "scan, HLS renamed .jpg: exit 1" 1 "$EMOTOP" scan --json "$T/list.jpg"
	contains "scan, HLS renamed .jpg: said why" "$T/err" "list.jpg: not opened: an hls playlist"
	never_opens "scan, HLS renamed .jpg: secret never opened" "$EMOTOP" scan --json "$T/list.jpg"
	expect_rc "scan, ffconcat renamed .png: exit 1" 1 "$EMOTOP" scan --json "$T/list.png"
	never_opens "scan, ffconcat renamed .png: secret never opened" "$EMOTOP" scan --json "$T/list.png"
	# ordinary files still read
	ffmpeg -nostdin -loglevel error -y -f lavfi -i "testsrc=size=160x120" -frames:v 1 "$T/card.png"
	ffmpeg -nostdin -loglevel error -y -f lavfi -i "testsrc=size=160x120" -frames:v 1 "$T/card.jpg"
	expect_rc "scan, PNG, JPEG and MPEG-TS: exit 0" 0 "$EMOTOP" scan --json "$T/card.png" "$T/card.jpg" "$T/secret.ts"
fi

# the playlist under its own name: played
expect_rc "headless, the playlist as .m3u8: exit 0" 0 "$EMOTOP" --headless --format ndjson --fps 5 "$T/list.m3u8"
grep -q '"frames":[1-9]' "$T/out" && ok "headless, the playlist as .m3u8: frames read" ||
	no "headless, the playlist as .m3u8: frames read" "$(tail -c 300 "$T/out")" "$(head -c 300 "$T/err")"
expect_rc "headless, an MPEG-TS file: exit 0" 0 "$EMOTOP" --headless "$T/secret.ts"

done_tests
