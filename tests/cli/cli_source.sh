#!/bin/sh
# cli_source.sh - a dead source must not look alive: an HTTP stream on
# 127.0.0.1 whose server is killed and started again. The state changes are
# lines at once (reconnecting, then up), no face is reported while no frame
# arrives, the source_down alert fires, the metrics file says the state, and
# all of it within bounded times.
. "$(dirname "$0")/cli_lib.inc"

if ! have_ffmpeg || ! command -v python3 >/dev/null 2>&1; then
	skip "ffmpeg or python3 absent: no local stream"
	done_tests; exit
fi
# the whole frame is the one face (no CNN detector): faces 1 while frames come
mkdir -p "$XDG_CONFIG_HOME/emotop"
printf 'detector:\n  model: none\n' >"$XDG_CONFIG_HOME/emotop/config.yaml"
ffmpeg -nostdin -loglevel error -y -f lavfi -i "testsrc=size=320x240:rate=10:duration=120" \
	-c:v mpeg4 -q:v 5 -g 10 -bsf:v dump_extra -f mpegts "$T/clip.ts" || { no "make the stream"; done_tests; exit; }
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
serve() {
	ffmpeg -nostdin -loglevel quiet -re -i "$T/clip.ts" -c copy -f mpegts -listen 1 "$url" &
	srv=$!
}
srv=
emo=
cleanup() { [ -n "$srv" ] && kill -9 "$srv" 2>/dev/null; [ -n "$emo" ] && kill -9 "$emo" 2>/dev/null; [ -n "$KEEP" ] && cp -r "$T" "$KEEP"; rm -rf "$T"; }
trap cleanup EXIT
KEEP=${KEEP:-} # KEEP=DIR: copy the temporary files there at the end (debugging)

serve
sleep 1
"$EMOTOP" --headless --format ndjson --interval 0.5 --set capture.down_alert=2 --set capture.timeout=2 \
	--metrics-file "$T/m.prom" "$url" >"$T/out" 2>"$T/err" </dev/null &
emo=$!

# a summary (or faces-only) line: the field after "faces": of the last one
last_faces() { grep '"type":"\(summary\|faces\)"' "$T/out" | tail -n 1 | sed 's/.*"faces":\([0-9]*\).*/\1/'; }

if wait_for "$T/out" '"faces":1,' 300; then
	ok "stream up: faces 1"
else
	no "stream up: faces 1" "$(head -c 300 "$T/out")" "$(head -c 300 "$T/err")"
	done_tests; exit
fi
contains "lines say the source is up" "$T/out" '"source_state":"up"'

# the server dies: within 5 s a source line says so
kill -9 "$srv"; wait "$srv" 2>/dev/null; srv=
if wait_for "$T/out" '"type":"source".*"source_state":"reconnecting"' 50; then
	ok "killed: a source line says reconnecting within 5 s"
else
	no "killed: a source line says reconnecting within 5 s" "$(tail -n 3 "$T/out" | cut -c1-300)"
fi
# the built-in alert after capture.down_alert (2 s), within 6 s more
if wait_for "$T/out" '"type":"alert".*"rule":"source_down"' 60; then
	ok "killed: alert source_down"
else
	no "killed: alert source_down" "$(tail -n 3 "$T/out" | cut -c1-300)"
fi
sleep 1
# every line after the state line: no face, state reconnecting
awk '/"type":"source".*"source_state":"reconnecting"/ { down = 1; next }
	down && /"type":"(summary|faces)"/ { n++; if ($0 !~ /"faces":0,/ || $0 !~ /"source_state":"reconnecting"/) bad = 1 }
	END { exit !(n >= 2 && !bad) }' "$T/out" && ok "outage: faces 0 and reconnecting on every line" \
	|| no "outage: faces 0 and reconnecting on every line" "$(grep -A 3 '"type":"source"' "$T/out" | cut -c1-250)"
grep -q '^emotop_source_up{[^}]*} 0$' "$T/m.prom" && ok "outage: metrics source_up 0" \
	|| no "outage: metrics source_up 0" "$(grep source "$T/m.prom")"
grep -q '^emotop_source_state{[^}]*state="reconnecting"} 1$' "$T/m.prom" && ok "outage: metrics state reconnecting 1" \
	|| no "outage: metrics state reconnecting 1" "$(grep source "$T/m.prom")"

# the server is back: up again (the capture's backoff is at most a few s by now)
serve
if wait_for "$T/out" '"type":"source".*"source_state":"up","previous":"reconnecting"' 300; then
	ok "back: a source line says up"
else
	no "back: a source line says up" "$(tail -n 3 "$T/out" | cut -c1-300)" "$(tail -n 5 "$T/err")"
fi
sleep 1.5
[ "$(last_faces)" = 1 ] && ok "back: faces 1 again" || no "back: faces 1 again" "$(tail -n 2 "$T/out" | cut -c1-300)"
grep -q '^emotop_source_state{[^}]*state="up"} 1$' "$T/m.prom" && ok "back: metrics state up 1" \
	|| no "back: metrics state up 1" "$(grep source "$T/m.prom")"

kill -TERM "$emo"; wait "$emo"; rc=$?; emo=
[ "$rc" -eq 0 ] && ok "SIGTERM: exit 0" || no "SIGTERM: exit 0" "exit $rc"
[ "$(tail -n 1 "$T/out" | grep -c '"type":"final"')" -eq 1 ] && ok "final line" || no "final line" "$(tail -n 1 "$T/out")"

done_tests
