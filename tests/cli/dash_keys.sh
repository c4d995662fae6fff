#!/bin/sh
# dash_keys.sh - each key does what the help says: h/?/F1 help, p/space
# pause, s/S sort, / filter (Enter applies, Esc cancels, ^U clears the line,
# Esc clears), arrows/j/k/PgDn scroll, r reset, v view, ^L, q quit; in tmux
# at 80x24.
. "$(dirname "$0")/dashlib.inc"

esc=$(printf '\033')
first_row() { screen | sed -n 5p | awk '{ print $1 }'; }
first_row_is() { [ "$(first_row)" = "$1" ]; }
first_row_not() { [ "$(first_row)" != "$1" ]; }

start 80 24 || skip_all "tmux cannot start a session here"
run "$DASH_CMD --students 24 --frame 100; echo rc=\$?"
wait_for 'STUDENTS 24'
check "starts sorted by name" shows 'sort: name'
check "first row is Ada" poll first_row_is Ada

keys h
check "h shows the help" wait_for 'emotop dashboard keys'
check "help lists the sort key" shows 'cycle sort: name, emotion, negative, seen'
check "help: the mouse wheel scrolls three rows (as the code does)" shows 'mouse wheel  scroll three rows'
check "help lists ^L" shows '\^L +redraw the whole screen'
check "help explains the header's latencies" shows 'capture and decode \(cap\), find faces \(det\),'
check "help explains the classifier's latency" shows 'classify \(cls\)'
check "help explains NEG" shows 'NEG: negative share'
check "help lists Enter" shows "Enter +the selected student's timeline"
keys x
check "any key closes the help" wait_gone 'emotop dashboard keys'
keys '?'
check "? shows the help too" wait_for 'emotop dashboard keys'
keys Escape
wait_gone 'emotop dashboard keys'
keys F1
check "F1 shows the help too" wait_for 'emotop dashboard keys'
keys x
wait_gone 'emotop dashboard keys'

keys p
check "p shows PAUSED" wait_for 'PAUSED'
check "footer offers resume" shows 'p resume'
f1=$(screen | sed -n 2p | sed 's/.*frames \([0-9]*\).*/\1/')
sleep 0.6
f2=$(screen | sed -n 2p | sed 's/.*frames \([0-9]*\).*/\1/')
check "paused: the caller stops analysing (frames $f1 = $f2)" [ "$f1" = "$f2" ]
keys p
check "p again resumes" wait_gone 'PAUSED'
keys Space
check "space pauses too" wait_for 'PAUSED'
keys Space
check "space again resumes" wait_gone 'PAUSED'

keys s
check "s: sort by emotion" wait_for 'sort: emotion'
keys s
check "s: sort by negativity" wait_for 'sort: negative'
neg_reversed() { tm capture-pane -e -p -t t | grep -Eq "$esc\\[([0-9;]*;)?7(;[0-9;]*)?m +NEG"; }
check "the sorted column's header in reverse video (NEG)" poll neg_reversed
check "most negative first (not Ada)" poll first_row_not Ada
keys s
check "s: sort by last seen" wait_for 'sort: seen'
keys s
check "s cycles back to name" wait_for 'sort: name'
check "Ada first again" poll first_row_is Ada
keys S
check "S: sort backwards (name -> seen)" wait_for 'sort: seen'
keys S
check "S again: negative" wait_for 'sort: negative'
keys s s
wait_for 'sort: name'

# the selected row's name is in reverse video
sel_is() { tm capture-pane -e -p -t t |
	grep -Eq "^($esc\\[[0-9;]*m)* $esc\\[([0-9;]*;)?7(;[0-9;]*)?m$1 "; }
check "the first row is selected" poll sel_is Ada
keys Down
check "Down selects the next row" poll sel_is Bruno
keys j
check "j selects the next row" poll sel_is 'Chloé'
keys k
check "k selects the previous row" poll sel_is Bruno
check "the list stays put" shows 'rows 1-[0-9]+ of 24'
keys Down Down Down Down Down Down Down Down Down Down
check "past the last visible row the list scrolls" wait_for 'rows 2-[0-9]+ of 24'
keys NPage
check "PgDn scrolls a page" wait_for 'rows 1[0-9]-[0-9]+ of 24'
keys PPage Home
check "Home goes back to the top" wait_for 'rows 1-[0-9]+ of 24'
check "Home selects the first row" poll sel_is Ada

keys Enter
check "Enter: the selected student's detail view" wait_for '^ STUDENT Ada  \(track #1\)  Esc back'
check "detail: mood, NEG, seen" shows '^ mood angry [0-9]+%  NEG [0-9]+%  seen now'
check "detail: the timeline fills (one letter a bucket, A for angry)" wait_for '^ mood +AA+ *$'
check "detail: a line per class" shows '^ surprise +[^ ].* +[0-9]+%$'
check "detail: the footer says how back" shows '^Esc back'
keys Down
check "detail: Down shows the next student" wait_for '^ STUDENT Bruno  '
keys q
check "detail: q goes back to the list" wait_for 'STUDENTS 24  sort: name'
check "detail: ... without quitting" lacks 'quit after'
check "back: the selection stayed on Bruno" poll sel_is Bruno
keys Enter
wait_for '^ STUDENT Bruno  '
keys Escape
check "detail: Esc goes back to the list" wait_for 'STUDENTS 24  sort: name'
keys Home

keys /
check "/ opens the filter prompt" wait_for '^filter: '
keys a d
check "typing shows the filter text" wait_for '^filter: ad'
keys Enter
check "Enter applies: 2 of 24 rows" wait_for 'STUDENTS 2 of 24  sort: name  filter: ad'
check "filter keeps Ada" shows '^ Ada '
check "filter keeps Nadia" shows '^ Nadia '
check "filter drops Bruno" lacks '^ Bruno '
keys / z z C-u
check "^U clears the line being edited" wait_for '^filter:  *Enter apply'
keys Escape
keys / z z Escape
check "Esc cancels an edit" wait_for 'STUDENTS 2 of 24  sort: name  filter: ad'
keys Escape
check "Esc clears the filter" wait_for 'STUDENTS 24  sort: name'
check "Bruno is back" shows '^ Bruno '
keys / Z Z Z Enter
check "no match says so" wait_for 'no student matches the filter'
keys Escape

keys r
check "r resets the class window" wait_for 'class window reset'
check "window counts restart" wait_for 'CLASS  window 60s  \(0s, 0 frames\)|\([0-9]s, [0-9] frames\)'

keys v
check "v switches to stacked bars" wait_for 'MIX ADFHSUN'
keys v
check "v switches back to seven bars" wait_for 'angry +disg'
keys C-l
check "^L repaints (still the dashboard)" wait_for 'STUDENTS 24'

keys q
check "q quits" wait_for 'quit after [0-9]+ frames'
check "prompt is back" at_prompt
check "exit status 0" shows '^rc=0$'
check "no sanitizer report" lacks 'Sanitizer|runtime error'

# a long session: the timeline's buckets merge (1 s, 2 s, ... 16 s a cell
# after 1000 s) so it all fits
start 80 24
run "$DASH_CMD --students 3 --frame 5000; echo rc=\$?"
wait_for 'STUDENTS 3'
keys Enter
check "long session: 16 s a cell" wait_for 'timeline: 1[67]m of the session, 16s a cell'
check "long session: the mood line" wait_for '^ mood +A+ *$'
keys q
wait_for 'STUDENTS 3'
keys q
check "long session: q quits" at_prompt

# unnamed students sort by track id as numbers: #9, #10, #11, not #1, #10
start 80 24
run "$DASH_CMD --unnamed --students 12 --frame 100; echo rc=\$?"
wait_for 'STUDENTS 12'
ids_in_order() { [ "$(screen | sed -n '5,15p' | awk '{ printf "%s ", $1 }')" = \
	'#1 #2 #3 #4 #5 #6 #7 #8 #9 #10 #11 ' ]; }
check "ids sort as numbers (#9 before #10)" poll ids_in_order
keys s s s s
wait_for 'sort: name'
check "still after a round of sorts" poll ids_in_order
keys q
check "unnamed: q quits" at_prompt
finish
