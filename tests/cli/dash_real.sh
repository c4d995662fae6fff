#!/bin/sh
# dash_real.sh - the real emotop binary's dashboard on the built-in demo
# source, in tmux: panels at 80x24 and 200x60, resize, the keys of the help,
# q restoring the terminal, --ascii. (dash_*.sh others use the synthetic
# driver for many students and exact orders.)
. "$(dirname "$0")/dashlib.inc"

EMOTOP=${EMOTOP:-build/emotop}
[ -x "$EMOTOP" ] || skip_all "$EMOTOP not built"
case $EMOTOP in /*) ;; *) EMOTOP="$(pwd)/$EMOTOP" ;; esac
CMD="$EMOTOP --dashboard --duration 0 demo"

panels() {
	for l in ' emotop ' 'src demo' '[0-9]+x[0-9]+' 'fps [0-9]' 'lat cap [0-9.]+ det [0-9.]+ cls [0-9.]+ ms' \
		' faces [0-9]+' ' up [0-9]' 'dropped [0-9]+' 'STUDENTS [0-9]+' 'NAME' 'MOOD' 'SEEN' \
		' CLASS  window [0-9]+s' '^ angry ' '^ neutral ' ' MOOD ' 'timeline' 'ALERTS [0-9]+'; do
		shows "$l" || { echo "missing: $l"; return 1; }
	done
}

start 80 24 || skip_all "tmux cannot start a session here"
run "$CMD; echo rc=\$?"
wait_for 'frames [1-9]'
check "80x24: all panels" panels
# (capture-pane never returns more than the pane width, so check that the
# right-hand columns hold what belongs there: a row that wraps or drifts
# moves them)
check "80x24: 'window Ns' ends the second line at column 79" \
	poll sh -c "tmux -L '$SOCK' capture-pane -p -t t | sed -n 2p | grep -Eq ' window [0-9]+s$' &&
		[ \"\$(tmux -L '$SOCK' capture-pane -p -t t | sed -n 2p | LC_ALL=C.UTF-8 wc -L)\" -eq 79 ]"
check "80x24: class percentages end at column 40, the mood panel follows" \
	poll sh -c "tmux -L '$SOCK' capture-pane -p -t t | LC_ALL=C.UTF-8 grep -Eq '^ angry .{28}[ 0-9]{4}% timeline '"
resize 200 60
wait_for '^ ALERTS'
check "200x60: re-laid out with all panels" panels
check "200x60: full-width alerts panel" shows '^ ALERTS [0-9]+ +$|^ ALERTS [0-9]+'
check "200x60: roomy mood panel" shows '% mood +[a-z-]+'
check "200x60: negative bar line" shows ' negative  '
resize 80 24
wait_for '^ CLASS'

keys h
check "h: help" wait_for 'emotop dashboard keys'
keys x
wait_gone 'emotop dashboard keys'
keys p
check "p: PAUSED" wait_for 'PAUSED'
f1=$(screen | sed -n 2p | sed 's/.*frames \([0-9]*\).*/\1/')
sleep 1
f2=$(screen | sed -n 2p | sed 's/.*frames \([0-9]*\).*/\1/')
check "p: analysis stops ($f1 = $f2)" [ "$f1" = "$f2" ]
keys p
check "p: resumes" wait_gone 'PAUSED'
frames_moved() {
	i=0
	while [ $i -lt $((WAIT_S * 10)) ]; do
		f=$(screen | sed -n 2p | sed 's/.*frames \([0-9]*\).*/\1/')
		[ -n "$f" ] && [ "$f" != "$1" ] && return 0
		sleep 0.1; i=$((i + 1))
	done
	return 1
}
check "p: analysis goes on" frames_moved "$f2"
keys s
check "s: sort label changes" wait_for 'sort: emotion'
keys / z z z Enter
check "/: a filter that matches nobody" wait_for 'STUDENTS 0 of [0-9]+  sort: emotion  filter: zzz'
keys Escape
check "Esc: filter cleared" wait_gone 'filter: zzz'
keys r
check "r: window reset" wait_for 'class window reset'
keys q
check "q: exits with status 0" wait_for '^rc=0$'
check "q: prompt back" at_prompt
check "q: normal screen" [ "$(pane alternate_on)" = 0 ]
check "q: cursor visible" [ "$(pane cursor_flag)" = 1 ]
check "q: final summary printed after the dashboard" shows 'final'
check "q: no sanitizer report" lacks "Sanitizer|runtime error"

start 80 24
run "$CMD --ascii; echo rc=\$?"
wait_for 'frames [1-9]'
check "--ascii: panels" panels
check "--ascii: only ASCII on screen" screen_ascii
keys h
wait_for 'emotop dashboard keys'
check "--ascii: help only ASCII" screen_ascii
keys x q
check "--ascii: q quits" wait_for '^rc=0$'
finish
