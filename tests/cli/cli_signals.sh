#!/bin/sh
# cli_signals.sh - SIGTERM/SIGINT: final session summary and exit 0;
# SIGHUP: the --log file is reopened (logrotate: mv, HUP, new file); a stop
# during start-up (source open, the start of main) writes the final line too.
. "$(dirname "$0")/cli_lib.inc"

# A stop during start-up ends like any other: exit 0 and the final line.
# While the source opens: a fifo nobody writes blocks the open.
mkfifo "$T/never"
"$EMOTOP" --headless --format ndjson "$T/never" >"$T/open.out" 2>"$T/open.err" &
pid=$!
sleep 1
kill -TERM $pid
wait $pid
rc=$?
[ $rc -eq 0 ] && ok "SIGTERM while the source opens: exit 0" \
	|| no "SIGTERM while the source opens: exit 0" "exit $rc" "$(cat "$T/open.err")"
[ "$(tail -n 1 "$T/open.out" | grep -c '"type":"final"')" -eq 1 ] && ok "SIGTERM while the source opens: final line" \
	|| no "SIGTERM while the source opens: final line" "$(tail -c 300 "$T/open.out")"
# At the very start of main: the signal sent the moment exec is done, held
# back (blocked, as a parent may leave it) until emotop has its handler;
# before, it was never seen (a handler installed late, the mask never
# opened) or killed emotop with 143.
py_check "SIGTERM at start-up: exit 0 and the final line" "$(cat "$T/early.err" 2>/dev/null)" \
	"$EMOTOP" "$T" <<'PY'
import signal, subprocess, sys
emotop, tmp = sys.argv[1], sys.argv[2]
with open(tmp + "/early.out", "w") as out, open(tmp + "/early.err", "w") as err:
    p = subprocess.Popen([emotop, "--demo", "--headless", "--format", "ndjson", "--duration", "600"],
                         stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                         preexec_fn=lambda: signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM}))
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        print("still running after 60 s")
        sys.exit(1)
lines = open(tmp + "/early.out").read().splitlines()
if rc != 0 or not lines or '"type":"final"' not in lines[-1]:
    print("exit", rc, "last line:", lines[-1:] if lines else "(none)")
    sys.exit(1)
PY

if ! have_ffmpeg; then
	skip "ffmpeg CLI not installed: cannot make test videos"
	done_tests; exit
fi
make_clip "$T/long.mp4" 60 160x120 10 || { no "make test video"; done_tests; exit; }

# SIGTERM while playing a file in real time
"$EMOTOP" --headless --realtime --format ndjson --interval 0.3 "$T/long.mp4" >"$T/term.out" 2>"$T/term.err" &
pid=$!
if wait_for "$T/term.out" '"time"'; then ok "lines while running"; else no "lines while running" "$(cat "$T/term.err")"; fi
kill -TERM $pid
wait $pid
rc=$?
[ $rc -eq 0 ] && ok "SIGTERM: exit 0" || no "SIGTERM: exit 0" "exit $rc" "$(cat "$T/term.err")"
[ "$(tail -n 1 "$T/term.out" | grep -c '"type":"final"')" -eq 1 ] && ok "SIGTERM: final summary last" \
	|| no "SIGTERM: final summary last" "$(tail -n 2 "$T/term.out")"
if awk '{ if (substr($0, length($0)) != "}") bad = 1 } END { exit bad }' "$T/term.out"; then
	ok "SIGTERM: no partial line"; else no "SIGTERM: no partial line"; fi

# SIGINT does the same
"$EMOTOP" --headless --realtime --interval 0.3 "$T/long.mp4" >"$T/int.out" 2>"$T/int.err" &
pid=$!
wait_for "$T/int.out" . || true
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 0 ] && ok "SIGINT: exit 0" || no "SIGINT: exit 0" "exit $rc"
contains "SIGINT: final summary" "$T/int.out" "final"

# SIGHUP reopens the log
"$EMOTOP" --headless --realtime --format ndjson --interval 0.2 --log "$T/emotop.log" "$T/long.mp4" \
	>"$T/hup.out" 2>"$T/hup.err" &
pid=$!
wait_for "$T/emotop.log" '"time"' || no "log gets lines" "$(cat "$T/hup.err")"
mv "$T/emotop.log" "$T/emotop.log.1"
kill -HUP $pid
if wait_for "$T/emotop.log" '"time"'; then ok "SIGHUP: new log file has lines"; else no "SIGHUP: new log file has lines" "$(cat "$T/hup.err")"; fi
n1=$(wc -l <"$T/emotop.log.1")
kill -TERM $pid
wait $pid
rc=$?
[ $rc -eq 0 ] && ok "SIGHUP then SIGTERM: exit 0" || no "SIGHUP then SIGTERM: exit 0" "exit $rc"
kill -0 $pid 2>/dev/null && no "process gone" || ok "process gone"
[ "$n1" -ge 1 ] && [ "$(wc -l <"$T/emotop.log.1")" -eq "$n1" ] && ok "SIGHUP: old file no longer written" \
	|| no "SIGHUP: old file no longer written" "$n1 vs $(wc -l <"$T/emotop.log.1")"
contains "SIGHUP: final line in the new log" "$T/emotop.log" '"type":"final"'
lacks "SIGHUP: no final line in the old log" "$T/emotop.log.1" '"type":"final"'
# stdout kept every line: old log + new log lines == stdout lines
nout=$(wc -l <"$T/hup.out")
nlog=$(($(wc -l <"$T/emotop.log.1") + $(wc -l <"$T/emotop.log")))
[ "$nout" -eq "$nlog" ] && ok "no lost lines across the reopen" || no "no lost lines across the reopen" "stdout $nout, logs $nlog"

done_tests
