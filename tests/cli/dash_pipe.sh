#!/bin/sh
# dash_pipe.sh - the video on stdin (cat clip.ts | emotop -): the dashboard
# reads its keys from /dev/tty, as less and fzf do, and q quits; without a
# terminal to read keys from (no controlling tty: setsid), emotop says so
# and writes lines, or, with --dashboard, fails with that message.
. "$(dirname "$0")/dashlib.inc"

EMOTOP=${EMOTOP:-build/emotop}
[ -x "$EMOTOP" ] || skip_all "$EMOTOP not built"
case $EMOTOP in /*) ;; *) EMOTOP="$(pwd)/$EMOTOP" ;; esac
command -v ffmpeg >/dev/null 2>&1 || skip_all "ffmpeg CLI not installed: cannot make the clip"
T=$(mktemp -d "${TMPDIR:-/tmp}/emotop-dash-pipe.XXXXXX") || exit 1
trap 'cleanup; rm -rf "$T"' EXIT INT TERM
# 60 s of MPEG-TS (a streamable format); the dashboard plays it in real time
ffmpeg -nostdin -loglevel error -y -f lavfi -i "testsrc=size=160x120:rate=10:duration=60" \
	-c:v mpeg2video -q:v 8 "$T/demo.ts" || skip_all "ffmpeg cannot make the clip"

start 80 24 || skip_all "tmux cannot start a session here"
run "cat '$T/demo.ts' | $EMOTOP -; echo rc=\$?"
check "piped video: the dashboard shows" wait_for 'STUDENTS'
check "piped video: frames analysed" wait_for 'frames [1-9]'
check "piped video: on the alternate screen" [ "$(pane alternate_on)" = 1 ]
keys h
check "piped video: h opens the help (keys from /dev/tty)" wait_for 'emotop dashboard keys'
keys x
wait_gone 'emotop dashboard keys'
keys q
check "piped video: q quits with status 0" wait_for '^rc=0$'
check "piped video: prompt back" at_prompt
check "piped video: normal screen" [ "$(pane alternate_on)" = 0 ]
check "piped video: the final summary after the dashboard" shows 'final'
run "echo typed-ok"
check "piped video: the terminal is cooked again" wait_for '^typed-ok'

# no controlling terminal (setsid): /dev/tty cannot be opened (wide
# panes: the messages fit on one line)
start 200 24
run "cat '$T/demo.ts' | setsid $EMOTOP --duration 2 - 2>&1; echo rc=\$?"
check "no tty: says why there is no dashboard" \
	wait_for 'no terminal for the dashboard.s keys \(/dev/tty: .*\): summary lines instead'
check "no tty: lines instead, exit 0" wait_for '^rc=0$'
check "no tty: the final line" shows 'final'
start 200 24
run "cat '$T/demo.ts' | setsid $EMOTOP --dashboard --duration 2 - 2>&1; echo rc=\$?"
check "no tty, --dashboard: says why" wait_for 'cannot start the dashboard: .*/dev/tty'
check "no tty, --dashboard: fails (1)" wait_for '^rc=1$'
finish
