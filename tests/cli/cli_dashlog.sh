#!/bin/sh
# cli_dashlog.sh - the dashboard and a --log file at once (in tmux): lines go
# to the log while the dashboard shows, q ends both with the final line in
# the log and the session summary on the restored terminal; SIGHUP reopens
# the log while the terminal is there, and a terminal hangup (SIGHUP with the
# terminal gone) ends the dashboard like SIGTERM.
. "$(dirname "$0")/cli_lib.inc"

if ! command -v tmux >/dev/null 2>&1; then
	skip "tmux not installed"
	done_tests; exit
fi
S=emotop-dashlog-$$
export TMUX_TMPDIR="$T"
if ! tmux new-session -d -s $S -x 100 -y 30 "sh" 2>/dev/null; then
	skip "tmux cannot start a session here"
	done_tests; exit
fi
trap 'tmux kill-server 2>/dev/null; rm -rf "$T"' EXIT
tmux send-keys -t $S "'$EMOTOP' --demo --interval 0.4 --format ndjson --log '$T/dash.log' 2>'$T/dash.err'; echo rc=\$? >'$T/rc'" Enter
if wait_for "$T/dash.log" '"time"'; then ok "log lines while the dashboard runs"; else no "log lines while the dashboard runs" "$(cat "$T/dash.err")"; fi
shows_dashboard() { tmux capture-pane -p -t $S | grep -q 'STUDENTS'; }
i=0; while [ $i -lt 100 ] && ! shows_dashboard; do sleep 0.1; i=$((i + 1)); done
shows_dashboard && ok "the dashboard is on the terminal" || no "the dashboard is on the terminal" "$(tmux capture-pane -p -t $S)"
tmux capture-pane -p -t $S | grep -q '"type"' && no "no log lines on the dashboard" || ok "no log lines on the dashboard"
tmux send-keys -t $S q
if wait_for "$T/rc" 'rc=0'; then ok "q: exit 0"; else no "q: exit 0" "$(cat "$T/rc" "$T/dash.err" 2>/dev/null)"; fi
contains "final line in the log" "$T/dash.log" '"type":"final"'
sleep 0.3
tmux capture-pane -p -t $S | grep -q 'final' && ok "session summary on the terminal" \
	|| no "session summary on the terminal" "$(tmux capture-pane -p -t $S)"

# SIGHUP with the terminal still there (logrotate: mv, HUP): the log is
# reopened and the dashboard goes on
tmux new-session -d -s $S-3 -x 100 -y 30 "exec '$EMOTOP' --demo --log '$T/rot.log' --format ndjson --interval 0.3 2>'$T/rot.err'"
wait_for "$T/rot.log" '"time"' || true
pid=$(tmux list-panes -t $S-3 -F '#{pane_pid}')
mv "$T/rot.log" "$T/rot.log.1"
kill -HUP "$pid"
if wait_for "$T/rot.log" '"time"'; then ok "SIGHUP under the dashboard: log reopened"; else no "SIGHUP under the dashboard: log reopened" "$(cat "$T/rot.err")"; fi
kill -0 "$pid" 2>/dev/null && ok "SIGHUP under the dashboard: still running" || no "SIGHUP under the dashboard: still running"
tmux capture-pane -p -t $S-3 | grep -q 'STUDENTS' && ok "SIGHUP under the dashboard: still shown" \
	|| no "SIGHUP under the dashboard: still shown" "$(tmux capture-pane -p -t $S-3)"
tmux send-keys -t $S-3 q
# running: not gone and not a zombie (the tmux server reaps it late)
running() { [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat"; }
i=0; while [ $i -lt 100 ] && running "$pid"; do sleep 0.1; i=$((i + 1)); done
if running "$pid"; then no "SIGHUP under the dashboard: q ends it" "$(tmux capture-pane -p -t $S-3)"; kill "$pid"
else ok "SIGHUP under the dashboard: q ends it"; fi
contains "SIGHUP under the dashboard: final line in the new log" "$T/rot.log" '"type":"final"'
lacks "SIGHUP under the dashboard: no final line in the old log" "$T/rot.log.1" '"type":"final"'

# hangup: the pane's process gets SIGHUP and must end (no orphan)
tmux new-session -d -s $S-2 -x 100 -y 30 "exec '$EMOTOP' --demo --log '$T/hup.log' --interval 0.4 2>'$T/hup.err'"
wait_for "$T/hup.log" 'faces\|time' || true
pid=$(tmux list-panes -t $S-2 -F '#{pane_pid}')
tmux kill-session -t $S-2
i=0; while [ $i -lt 100 ] && kill -0 "$pid" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$pid" 2>/dev/null; then no "hangup ends emotop"; kill "$pid"; else ok "hangup ends emotop"; fi
contains "hangup: final line in the log" "$T/hup.log" 'final'

done_tests
