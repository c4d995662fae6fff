#!/bin/sh
# cli_redact.sh - no password or token of a source leaves emotop: FFmpeg's
# own messages (at the default level, -v and -v -v) and emotop's are masked.
. "$(dirname "$0")/cli_lib.inc"

# An HLS playlist on disk whose segment URL carries credentials: FFmpeg logs
# "Opening '<url>' for reading" (-v) and "Error when loading first segment
# '<url>'" (always), then the open fails (http is not allowed from a file
# playlist: nothing goes on the network).
cat >"$T/list.m3u8" <<'M3U'
#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:2
#EXTINF:2.0,
http://alice:s3cr3tpw@127.0.0.1:9/seg0.ts?token=tok3n
#EXT-X-ENDLIST
M3U
for v in "" -v "-v -v"; do
	# shellcheck disable=SC2086
	expect_rc "playlist ${v:-default}: source unavailable" 4 "$EMOTOP" $v --headless \
		--set capture.reconnect=never "$T/list.m3u8"
	lacks "playlist ${v:-default}: no password" "$T/err" "s3cr3tpw"
	lacks "playlist ${v:-default}: no token" "$T/err" "tok3n"
	contains "playlist ${v:-default}: the URL, masked" "$T/err" "http://***@127.0.0.1:9/seg0.ts?token=***"
done
contains "-v -v: FFmpeg's 'Opening' line is there" "$T/err" "Opening 'http://***@"

# emotop's own messages
expect_rc "two sources: usage error" 2 "$EMOTOP" 'rtsp://u:pw0rd@a/x' 'srt://b:1?passphrase=phr4se'
lacks "two sources: no password" "$T/err" "pw0rd"
lacks "two sources: no passphrase" "$T/err" "phr4se"
expect_rc "unreachable source" 4 "$EMOTOP" --headless --set capture.reconnect=never \
	--set capture.timeout=2 'http://u:pa/ss?w@127.0.0.1:9/x?access_token=t0k'
lacks "unreachable source: no password" "$T/err" "pa/ss"
lacks "unreachable source: no token" "$T/err" "t0k"

done_tests
