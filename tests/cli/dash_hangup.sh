#!/bin/sh
# dash_hangup.sh - an orphaned dashboard ends: when its terminal goes away
# under it, emotop (and the synthetic driver) end within HANGUP_S seconds,
# every time, instead of spinning on a tty that reads 0 bytes (once an
# orphan used 13 CPU-minutes in 28 minutes). Two ways to lose the terminal:
#  - the pane's shell is killed with SIGHUP: emotop gets a SIGHUP when the
#    shell dies, but the terminal may only hang up a moment later, once
#    tmux closes the pane (then no second signal comes);
#  - the pane is closed while its parent ignores SIGHUP (as under nohup):
#    the terminal hangs up and no signal comes at all.
. "$(dirname "$0")/dashlib.inc"

EMOTOP=${EMOTOP:-build/emotop}
[ -x "$EMOTOP" ] || skip_all "$EMOTOP not built"
case $EMOTOP in /*) ;; *) EMOTOP="$(pwd)/$EMOTOP" ;; esac
HANGUP_S=${HANGUP_S:-10}
TRIES=${TRIES:-8}
CMD="$EMOTOP --dashboard --duration 0 demo"

# /proc/PID/stat after "PID (comm) ": state is field 1, utime 12, stime 13
pstat() { sed 's/^[0-9]* (.*) //' "/proc/$1/stat" 2>/dev/null; }
running() { s=$(pstat "$1" | cut -d' ' -f1); [ -n "$s" ] && [ "$s" != Z ]; }
ended() { ! running "$1"; }
# ends PID: the process ends within HANGUP_S seconds; if not, say how much
# CPU it burns (a spin) and kill it
ends() {
	[ -n "$1" ] || { echo "no process found under the pane"; return 1; }
	w=$WAIT_S; WAIT_S=$HANGUP_S
	poll ended "$1"; r=$?
	WAIT_S=$w
	[ $r -eq 0 ] && return 0
	t1=$(pstat "$1" | awk '{ print $12 + $13 }')
	sleep 2
	t2=$(pstat "$1" | awk '{ print $12 + $13 }')
	echo "still running ${HANGUP_S}s after the hangup, $(( (${t2:-0} - ${t1:-0}) / 2 ))% of a CPU"
	kill -KILL "$1" 2>/dev/null
	return 1
}
# new_pane W H COMMAND: a fresh server whose only pane runs COMMAND
new_pane() {
	cleanup
	nstart=$((nstart + 1))
	SOCK="$SOCK_BASE-$nstart"
	tm new-session -d -x "$1" -y "$2" -s t "env TERM=screen LANG=C.UTF-8 LC_ALL=C.UTF-8 $3"
}

# the shell killed by SIGHUP, TRIES times (it stuck in 2 of 23 tries)
i=1
while [ $i -le "$TRIES" ]; do
	start 80 24 || skip_all "tmux cannot start a session here"
	run "$CMD; echo rc=\$?"
	if ! wait_for 'STUDENTS'; then
		no "shell SIGHUP $i: the dashboard starts"
	else
		pid=$(child_pid)
		kill -HUP "$(pane pane_pid)"
		out=$(ends "$pid")
		[ -z "$out" ] && ok "shell SIGHUP $i: emotop ends" || no "shell SIGHUP $i: emotop ends" "$out"
	fi
	i=$((i + 1))
done

# the pane closed under a parent that ignores SIGHUP: no signal at all;
# "SIGHUP first": a SIGHUP while the terminal is there (logrotate's, or the
# shell's death just before the pane closes: the race above) is not a
# hangup, emotop goes on, and the hangup that follows comes without one
for how in emotop "SIGHUP first" driver; do
	[ "$how" = driver ] && c="$DASH_CMD --frame 100" || c=$CMD
	new_pane 80 24 "sh -c \"trap '' HUP; $c; true\"" ||
		skip_all "tmux cannot start a session here"
	if ! wait_for 'STUDENTS'; then
		no "no signal, $how: the dashboard starts"
		continue
	fi
	pid=$(child_pid)
	if [ "$how" = "SIGHUP first" ]; then
		kill -HUP "$pid"
		sleep 1
		check "no signal, $how: the terminal is there, emotop goes on" running "$pid"
	fi
	tm kill-server
	out=$(ends "$pid")
	[ -z "$out" ] && ok "no signal, $how: ends" || no "no signal, $how: ends" "$out"
done
finish
