#!/bin/sh
# dash_exit.sh - the terminal is restored on every exit path (q, SIGTERM,
# a fatal signal): no alternate screen left, cursor visible, prompt back;
# stderr is kept off the screen while curses runs and replayed afterwards.
. "$(dirname "$0")/dashlib.inc"

start 80 24 || skip_all "tmux cannot start a session here"
check "alternate screen off before" [ "$(pane alternate_on)" = 0 ]
run "$DASH_CMD --frame 100; echo rc=\$?"
wait_for 'STUDENTS 12'
check "the dashboard uses the alternate screen" [ "$(pane alternate_on)" = 1 ]
check "stderr is kept off the screen" lacks 'kept off the screen'
keys q
check "q: prompt back" at_prompt
check "q: alternate screen left" [ "$(pane alternate_on)" = 0 ]
check "q: cursor visible" [ "$(pane cursor_flag)" = 1 ]
check "q: exit status 0" shows '^rc=0$'
check "q: no sanitizer report" lacks 'Sanitizer|runtime error'
check "q: stderr replayed after exit" shows 'this stderr line was kept off the screen'
check "q: the program's last line is on the normal screen" shows 'quit after [0-9]+ frames'
run "echo typed-ok"
check "q: the shell reads lines again (cooked tty)" wait_for '^typed-ok'
check "q: typed text is echoed" shows '^PROMPT\$ echo typed-ok'

start 80 24
run "$DASH_CMD --frame 100; echo rc=\$?"
wait_for 'STUDENTS 12'
pid=$(child_pid)
[ -n "$pid" ] && kill -TERM "$pid"
check "SIGTERM: quits cleanly" wait_for 'quit after [0-9]+ frames'
check "SIGTERM: prompt back" at_prompt
check "SIGTERM: exit status 0" shows '^rc=0$'
check "SIGTERM: alternate screen left" [ "$(pane alternate_on)" = 0 ]

start 80 24
run "$DASH_CMD --frame 100; echo rc=\$?"
wait_for 'STUDENTS 12'
keys C-c
check "Ctrl-C: quits cleanly" wait_for 'quit after [0-9]+ frames'
check "Ctrl-C: prompt back" at_prompt
check "Ctrl-C: alternate screen left" [ "$(pane alternate_on)" = 0 ]

start 80 24
run "$DASH_CMD --frame 100"
wait_for 'STUDENTS 12'
# ncurses ignores SIGTSTP while doupdate() writes a frame (it sets SIG_IGN
# around the update), so a ^Z that lands in one is dropped by design: press
# again, as a user would, at most 5 times.
suspend() {
	w=$WAIT_S; WAIT_S=2; r=1
	for try in 1 2 3 4 5; do
		keys C-z
		if at_prompt; then r=0; break; fi
	done
	WAIT_S=$w
	return $r
}
check "Ctrl-Z: suspended to the prompt" suspend
check "Ctrl-Z: normal screen while stopped" [ "$(pane alternate_on)" = 0 ]
run "fg"
check "fg: the dashboard comes back" wait_for 'STUDENTS 12'
check "fg: on the alternate screen" [ "$(pane alternate_on)" = 1 ]
keys q
check "fg then q: quits cleanly" wait_for 'quit after [0-9]+ frames'

# whole history: a sanitizer's report may scroll the first lines away
history() { tm capture-pane -p -S - -t t 2>/dev/null; }
hist_shows() { history | grep -Eq -- "$1"; }
# died by SIGSEGV (139), or, in a sanitizer build, reported by its handler
# (which was there first and gets the signal after the dashboard's)
died_by_segv() { screen_has '^rc=139$' || hist_shows 'Sanitizer.*SEGV'; }

start 80 24
run "$DASH_CMD --frame 100 --crash-after 105; echo rc=\$?"
# (the old prompt is on screen until the shell reads the command: wait for
# the exit status first, or a loaded machine races at_prompt)
check "fatal signal: the program ends" wait_for '^rc=[0-9]+$'
check "fatal signal: prompt back" at_prompt
check "fatal signal: died by SIGSEGV" poll died_by_segv
check "fatal signal: alternate screen left" [ "$(pane alternate_on)" = 0 ]
check "fatal signal: cursor visible" [ "$(pane cursor_flag)" = 1 ]
check "fatal signal: stderr caught while curses ran is replayed" \
	hist_shows '^dash_driver: this stderr line was kept off the screen$'
check "fatal signal: the last line before the crash is replayed" \
	hist_shows '^dash_driver: crashing at frame 105$'
run "echo typed-ok"
check "fatal signal: the shell reads lines again" wait_for '^typed-ok'
check "fatal signal: typed text is echoed" shows '^PROMPT\$ echo typed-ok'

# a real fault (a store through a null pointer), not a raised signal
start 80 24
run "$DASH_CMD --frame 100 --crash-after 105 --fault; echo rc=\$?"
check "fault: the program ends" wait_for '^rc=[0-9]+$'
check "fault: died by SIGSEGV" poll died_by_segv
check "fault: alternate screen left" [ "$(pane alternate_on)" = 0 ]
check "fault: the last line before the crash is replayed" \
	hist_shows '^dash_driver: crashing at frame 105$'

# a SIGSEGV handler installed before the dashboard (as a sanitizer's is)
# still gets the signal, after the terminal and stderr are back
for how in "" " --fault"; do
	start 80 24
	run "$DASH_CMD --frame 100 --crash-after 105 --segv-handler$how; echo rc=\$?"
	check "earlier handler$how: the program ends" wait_for '^rc=[0-9]+$'
	check "earlier handler$how: it ran (exit 7)" shows '^rc=7$'
	check "earlier handler$how: its message on the normal screen" \
		shows '^dash_driver: own SIGSEGV handler ran$'
	check "earlier handler$how: the crash line came first" \
		sh -c "tmux -L '$SOCK' capture-pane -p -t t | grep -A1 '^dash_driver: crashing at frame 105\$' | grep -q 'own SIGSEGV handler ran'"
	check "earlier handler$how: alternate screen left" [ "$(pane alternate_on)" = 0 ]
done

log=$(mktemp "${TMPDIR:-/tmp}/emotop-dash-err.XXXXXX")
start 80 24
run "$DASH_CMD --frame 100 --stderr-log $log; echo rc=\$?"
wait_for 'STUDENTS 12'
keys q
at_prompt
check "--stderr-log: stderr went to the log" grep -q 'kept off the screen' "$log"
check "--stderr-log: not replayed on screen" lacks 'kept off the screen'
rm -f "$log"
finish
