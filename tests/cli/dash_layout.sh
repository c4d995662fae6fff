#!/bin/sh
# dash_layout.sh - the dashboard's panels at 80x24, 200x60 and 260x50,
# re-layout on resize, "too small" below the minimum, PAUSED on a narrow
# terminal, emoji sequences in names, in tmux.
. "$(dirname "$0")/dashlib.inc"

labels() { # every panel's labels are on screen
	for l in ' emotop ' 'src demo:classroom' '640x480' 'fps [0-9]' 'lat cap [0-9.]+ det [0-9.]+ cls [0-9.]+ ms' \
		' faces [0-9]+' ' up [0-9]' 'dropped [0-9]+' 'STUDENTS [0-9]+  sort: name' 'NAME' 'MOOD' 'SEEN' \
		' CLASS  window 60s' '^ angry ' '^ neutral ' 'MOOD [a-z]+ [0-9]+%  negative [0-9]+%' \
		'timeline' 'ALERTS [0-9]+' 'q quit'; do
		shows "$l" || { echo "missing: $l"; return 1; }
	done
}
width_of_longest() { screen | LC_ALL=C.UTF-8 wc -L; }
wider_than() { [ "$(width_of_longest)" -gt "$1" ]; }
# rows_reach W: every visible student row is exactly W columns and ends in
# its SEEN column (a row that drifts left or right, or wraps, fails this;
# capture-pane itself never returns more than the pane width)
rows_reach() {
	scr=$(screen) # one capture: the checks below must see the same frame
	rn=$(printf '%s\n' "$scr" | sed -nE 's/.*rows 1-([0-9]+) of.*/\1/p')
	[ -n "$rn" ] || rn=$(printf '%s\n' "$scr" | sed -nE 's/.*STUDENTS ([0-9]+) .*/\1/p')
	[ "${rn:-0}" -gt 0 ] || { echo "no student rows"; return 1; }
	bad=$(printf '%s\n' "$scr" | sed -n "5,$((4 + rn))p" | while IFS= read -r l; do
		w=$(printf '%s\n' "$l" | LC_ALL=C.UTF-8 wc -L)
		if [ "$w" -ne "$1" ] || ! printf '%s\n' "$l" | grep -Eq ' (now|-|>?[0-9][0-9a-z]*)$'; then
			echo "$w: $l"
		fi
	done)
	[ -z "$bad" ] || { echo "rows not ending at column $1:"; echo "$bad"; return 1; }
}
# blocks_match LINE_ERE CUT_ERE CELLS: the first line matching LINE_ERE, with
# CUT_ERE removed, has as many full blocks as its percentage of CELLS
blocks_match() {
	l=$(screen | grep -E -- "$1" | head -n 1 | sed -E "s/$2//")
	pct=$(printf '%s\n' "$l" | grep -oE '[0-9]+%' | head -n 1 | tr -d %)
	nb=$(printf '%s' "$l" | grep -o '█' | wc -l)
	exp=$(( ${pct:-0} * $3 / 100 ))
	echo "$nb full blocks for ${pct:-?}% of $3 cells (about $exp expected)"
	[ -n "$pct" ] && [ "$nb" -ge $((exp - 2)) ] && [ "$nb" -le $((exp + 1)) ]
}

start 80 24 || skip_all "tmux cannot start a session here"
run "$DASH_CMD --students 30 --frame 100; echo rc=\$?"
wait_for 'ALERTS [1-9]'  # alerts fire every 50 frames
check "80x24: all panels and labels" labels
check "80x24: seven bars with class labels" shows 'angry +disg +fear +happy +sad +surpr +neutr'
check "80x24: scroll position shown" shows 'rows 1-[0-9]+ of 30'
check "80x24: alert line with a time stamp, value and duration" shows ' [0-2][0-9]:[0-5][0-9]:[0-5][0-9]  negative>40%  0\.4[0-9] for 30s'
check "80x24: every student row ends at column 80" poll rows_reach 80
check "80x24: bars of 5 cells, a NEG column before SEEN" shows ' MOOD +NEG +SEEN$'
check "80x24: each row: mood and its share, negative share, seen" \
	shows '^ Ada +[^ ].* angry +[0-9]+% +[0-9]+% +now$'

resize 200 60
wait_for '^ ALERTS' # full-width alerts panel at the left edge
check "200x60: re-laid out, all labels" labels
check "200x60: full class names over the bars" shows 'angry +disgust +fear +happy +sad +surprise +neutral'
check "200x60: roomy mood panel" shows 'mood +[a-z]+'
check "200x60: all 30 rows fit" lacks 'rows [0-9]+-[0-9]+ of 30'
check "200x60: lines use the width" poll wider_than 150
check "200x60: every student row ends at column 200" poll rows_reach 200
# 7 bar numbers, the mood's share and NEG: 9 percentages on a row
ada_pcts() { [ "$(screen | grep -E '^ Ada ' | grep -o '[0-9]%' | wc -l)" -eq 9 ]; }
check "200x60: each bar ends in its number" poll ada_pcts

resize 30 6
check "30x6: degrades to a message" wait_for 'too small: 30x6'
check "30x6: says the minimum" shows 'need 40x8'
resize 60 14
wait_for 'STUDENTS'
check "60x14: compact layout keeps students, mood and alerts" \
	poll sh -c "tmux -L '$SOCK' capture-pane -p -t t | grep -q STUDENTS && tmux -L '$SOCK' capture-pane -p -t t | grep -q 'MOOD' && tmux -L '$SOCK' capture-pane -p -t t | grep -q ALERTS"
check "60x14: stacked bars when narrow" shows 'MIX ADFHSUN'
resize 80 24
wait_for 'CLASS  window'
check "back to 80x24: class panel again" labels

keys q
wait_for 'quit after'
check "q exits to the prompt" at_prompt

# 260 columns: bars longer than 85 cells (a 256-byte buffer held 85 blocks)
start 260 50
run "$DASH_CMD --students 1 --confident --frame 100; echo rc=\$?"
wait_for '^ ALERTS'
# class window: 130 columns, bar = 130 - 16 cells; mood bar = 130 - 11 - 6
check "260x50: class bar as long as its percentage" poll blocks_match '^ angry +█' '^' 114
check "260x50: negative bar as long as its percentage" poll blocks_match 'negative  +█' '.*negative  ' 113
keys q
at_prompt

# 40 columns: the counters of the second line reach the edge; PAUSED keeps
# its place at the right
start 40 20
run "$DASH_CMD --frame 100; echo rc=\$?"
wait_for 'STUDENTS'
keys p
check "40x20: p shows PAUSED at the right edge" wait_for '^ source up  faces .* PAUSED$'
line2_width() { [ "$(screen | sed -n 2p | LC_ALL=C.UTF-8 wc -L)" -eq "$1" ]; }
check "40x20: PAUSED ends at column 40 (its last cell a space)" poll line2_width 39
keys p
check "40x20: p again: PAUSED gone" wait_gone 'PAUSED'
keys q
at_prompt

# emoji sequences in names: a ZWJ family (joined into one 2-column glyph by
# tmux 3.3a, kitty, WezTerm, iTerm2, where curses counts 6) and a skin tone.
# The joiners and modifiers are dropped, so the row stays put while the bars
# move (--animate) and after ^L.
FAM='\360\237\221\250\342\200\215\360\237\221\251\342\200\215\360\237\221\247'
WAVE='\360\237\221\213\360\237\217\275'
fam_row() { # the family's row: members side by side, bars, mood, SEEN at 80
	l=$(screen | grep -E '^ 👨' | head -n 1)
	printf '%s\n' "$l" | grep -Eq '^ 👨👩👧 fam {2}[^ ].* [a-z]+ +[0-9]+% +[0-9]+% {4}now$' &&
		[ "$(printf '%s\n' "$l" | LC_ALL=C.UTF-8 wc -L)" -eq 80 ]
}
start 80 24
run "$DASH_CMD --students 3 --animate --name \"\$(printf '$FAM fam')\" --name \"\$(printf '$WAVE wave')\"; echo rc=\$?"
wait_for 'STUDENTS 3'
sleep 2 # let the bars move: partial updates land where curses thinks they go
check "ZWJ family: its row stays in its columns" poll fam_row
check "skin tone: dropped, the row stays in its columns" shows '^ 👋 wave {5}[^ ].* [a-z]+ +[0-9]+% +[0-9]+% {4}now$'
check "emoji names: every student row ends at column 80" poll rows_reach 80
keys C-l
sleep 1
check "ZWJ family: still in its columns after ^L" poll fam_row
keys q
check "emoji names: q quits" at_prompt
finish
