#!/bin/sh
# rtsp_fallback.sh - capture.rtsp_transport against a fake RTSP server on
# 127.0.0.1 (rtsp_server.py; the ffmpeg CLI sends its RTP/JPEG over UDP):
#  - auto, server without TCP (SETUP over TCP gets 461): the log says TCP
#    failed and UDP is tried, the server saw TCP first, frames arrive, up,
#    and FFmpeg's refusal of TCP is not said as an error;
#  - auto, server that never answers a TCP SETUP: UDP after capture.timeout;
#  - auto, server that refuses both: "cannot open", exit 4, never up;
#  - tcp (or udp) forced: only that transport is asked for, no fallback;
#  - a session that streamed ends with a TEARDOWN.
. "$(dirname "$0")/cli_lib.inc"

if ! have_ffmpeg || ! command -v python3 >/dev/null 2>&1; then
	skip "ffmpeg or python3 absent: no RTSP server"
	done_tests; exit
fi
SERVER=$(cd "$(dirname "$0")" && pwd)/rtsp_server.py
KEEP=${KEEP:-} # KEEP=DIR: copy the temporary files there at the end (debugging)
srv=
emo=
dog=
cleanup() {
	[ -n "$emo" ] && kill -9 "$emo" 2>/dev/null
	[ -n "$dog" ] && kill "$dog" 2>/dev/null
	stop_server
	[ -n "$KEEP" ] && cp -r "$T" "$KEEP"
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# start_server MODE: the fake server in MODE ($srv), its port in $port, one
# line per request it got in $T/srv.log
start_server() {
	rm -f "$T/port"
	: >"$T/srv.log"
	python3 "$SERVER" --mode "$1" --port-file "$T/port" --log "$T/srv.log" \
		--seconds 20 --lifetime 60 </dev/null >>"$T/srv.err" 2>&1 &
	srv=$!
	if wait_for "$T/port" '^[0-9][0-9]*$' 100; then
		port=$(cat "$T/port")
		return 0
	fi
	no "$1: the server starts" "$(tail -n 5 "$T/srv.err")"
	stop_server
	return 1
}
# stop_server: SIGTERM ends the server and the ffmpeg it started; after 3 s
# SIGKILL, and any ffmpeg it left is ended by its process id
stop_server() {
	[ -n "$srv" ] || return 0
	kill -TERM "$srv" 2>/dev/null
	i=0
	while kill -0 "$srv" 2>/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
	kill -9 "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
	srv=
	for p in $(sed -n 's/^ffmpeg pid \([0-9]*\) .*/\1/p' "$T/srv.log" 2>/dev/null); do
		grep -q ffmpeg "/proc/$p/cmdline" 2>/dev/null && kill -9 "$p" 2>/dev/null
	done
}

# emo_run SECS ARGS...: emotop headless on the server's stream with ARGS;
# stdout in $T/out, stderr in $T/err, exit status in $rc. Killed (rc 137)
# if it still runs after SECS.
emo_run() {
	secs=$1; shift
	"$EMOTOP" --headless --format ndjson --interval 0.5 -v --set detector.model=none \
		--set capture.reconnect=never "$@" "rtsp://127.0.0.1:$port/x" \
		>"$T/out" 2>"$T/err" </dev/null &
	emo=$!
	(sleep "$secs" & s=$!; trap 'kill $s 2>/dev/null; wait $s 2>/dev/null; exit 0' TERM; wait $s; kill -9 "$emo" 2>/dev/null) &
	dog=$!
	wait "$emo"; rc=$?; emo=
	kill "$dog" 2>/dev/null; wait "$dog" 2>/dev/null; dog=
}
want_rc() { # NAME WANT
	[ "$rc" -eq "$2" ] && ok "$1" || no "$1" "exit $rc, want $2" "stderr: $(tail -n 5 "$T/err" | cut -c1-300)"
}
# the server's requests, as one line: "SETUP tcp 461, SETUP udp 200, PLAY 200"
requests() {
	awk '/^SETUP / { x = $1 " " $2 " " $3 } /^PLAY / { x = $1 " " $2 }
		x != "" { printf "%s%s", sep, x; sep = ", "; x = "" }' "$T/srv.log"
}
# server_saw NAME EXPECTED: the SETUP and PLAY requests, in order
server_saw() {
	got=$(requests)
	[ "$got" = "$2" ] && ok "$1" || no "$1" "server saw: ${got:-nothing}" "want: $2"
}
# streamed NAME: the summary lines say up and 320x240, frames counted, final frames > 0
streamed() {
	if grep '"type":"summary"' "$T/out" | grep '"source_state":"up"' | grep -v '"frames":0,' |
		grep -q '"width":320,"height":240'; then
		ok "$1: summary lines up, frames counted, 320x240"
	else
		no "$1: summary lines up, frames counted, 320x240" "$(tail -n 2 "$T/out" | cut -c1-300)"
	fi
	n=$(sed -n 's/^{"type":"final".*"frames":\([0-9]*\),.*/\1/p' "$T/out")
	[ "${n:-0}" -gt 0 ] && ok "$1: final frames $n > 0" || no "$1: final frames > 0" "$(tail -n 1 "$T/out" | cut -c1-300)"
}
# said_goodbye NAME: the server got a TEARDOWN (emotop closes the session
# even when stopped, so the camera stops sending RTP at once)
said_goodbye() {
	if wait_for "$T/srv.log" '^TEARDOWN ' 30; then ok "$1: TEARDOWN at the end"
	else no "$1: TEARDOWN at the end" "server log: $(tr '\n' ' ' <"$T/srv.log" | cut -c1-300)"; fi
}
never_up() { # NAME: no line says up, as the state or as the one before
	lacks "$1: never says up" "$T/out" '"up"'
}
# not_opened NAME: exit 4, "cannot open" naming the URL, never up
not_opened() {
	want_rc "$1: exit 4 (source unavailable)" 4
	contains "$1: cannot open, the URL named" "$T/err" \
		"cannot open source rtsp://127.0.0.1:$port/x: cannot open:"
	never_up "$1"
}
# fell_back NAME: the log says TCP failed and UDP is tried
fell_back() {
	if grep -q 'RTSP over TCP failed (.*); trying UDP' "$T/err"; then ok "$1"
	else no "$1" "$(head -n 5 "$T/err" | cut -c1-300)"; fi
}

# auto, the server refuses TCP (461): TCP first, then UDP, and frames
if start_server udp-only; then
	emo_run 30 --duration 3 --set capture.timeout=10
	want_rc "udp-only, auto: exit 0" 0
	fell_back "udp-only, auto: the log says TCP failed, trying UDP"
	server_saw "udp-only, auto: server saw TCP, then UDP, then PLAY" "SETUP tcp 461, SETUP udp 200, PLAY 200"
	streamed "udp-only, auto"
	said_goodbye "udp-only, auto"
	lacks "udp-only, auto: no 'cannot open'" "$T/err" "cannot open"
	# FFmpeg's refusal of TCP is part of a fallback that worked: said at
	# info level (with -v), not as an error
	contains "udp-only, auto: the 461 is said" "$T/err" "method SETUP failed: 461"
	if grep -q 'error:.*method SETUP failed' "$T/err"; then
		no "udp-only, auto: the 461 is not said as an error" "$(grep 'SETUP failed' "$T/err" | head -n 2)"
	else
		ok "udp-only, auto: the 461 is not said as an error"
	fi
	stop_server
fi

# auto, the server never answers a TCP SETUP: UDP once capture.timeout has
# passed, with a timeout of its own (not what was left of TCP's)
if start_server tcp-silent; then
	emo_run 30 --duration 2 --set capture.timeout=3
	want_rc "tcp-silent, auto: exit 0" 0
	fell_back "tcp-silent, auto: the log says TCP failed, trying UDP"
	server_saw "tcp-silent, auto: server saw TCP, then UDP, then PLAY" "SETUP tcp silent, SETUP udp 200, PLAY 200"
	streamed "tcp-silent, auto"
	stop_server
fi

# auto, the server refuses both: an honest error, the source never up
if start_server refuse-all; then
	emo_run 30 --duration 3 --set capture.timeout=10
	not_opened "refuse-all, auto"
	fell_back "refuse-all, auto: UDP was tried"
	server_saw "refuse-all, auto: server saw TCP, then UDP, no PLAY" "SETUP tcp 461, SETUP udp 461"
	stop_server
fi

# tcp forced, the server refuses TCP: no fallback
if start_server udp-only; then
	emo_run 30 --duration 3 --set capture.timeout=10 --set capture.rtsp_transport=tcp
	not_opened "udp-only, tcp"
	lacks "udp-only, tcp: no UDP fallback in the log" "$T/err" "trying UDP"
	contains "udp-only, tcp: the 461 is an error, no fallback" "$T/err" "error: [rtsp @"
	server_saw "udp-only, tcp: server saw TCP only" "SETUP tcp 461"
	stop_server
fi

# udp forced: straight to UDP, no TCP try
if start_server udp-only; then
	emo_run 30 --duration 2 --set capture.timeout=10 --set capture.rtsp_transport=udp
	want_rc "udp-only, udp: exit 0" 0
	lacks "udp-only, udp: no TCP try in the log" "$T/err" "RTSP over TCP failed"
	server_saw "udp-only, udp: server saw UDP only, then PLAY" "SETUP udp 200, PLAY 200"
	streamed "udp-only, udp"
	said_goodbye "udp-only, udp"
	stop_server
fi

done_tests
