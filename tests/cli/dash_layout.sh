#!/bin/sh
# dash_layout.sh - the dashboard's panels at 80x24 and 200x60, re-layout on
# resize, "too small" below the minimum, in tmux.
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

start 80 24 || skip_all "tmux cannot start a session here"
run "$DASH_CMD --students 30 --frame 100; echo rc=\$?"
wait_for 'ALERTS [1-9]'  # alerts fire every 50 frames
check "80x24: all panels and labels" labels
check "80x24: seven bars with class labels" shows 'angry +disg +fear +happy +sad +surpr +neutr'
check "80x24: scroll position shown" shows 'rows 1-[0-9]+ of 30'
check "80x24: alert line with a time stamp, value and duration" shows ' [0-2][0-9]:[0-5][0-9]:[0-5][0-9]  negative>40%  0\.4[0-9] for 30s'
check "80x24: nothing beyond 80 columns" [ "$(width_of_longest)" -le 80 ]

resize 200 60
wait_for '^ ALERTS' # full-width alerts panel at the left edge
check "200x60: re-laid out, all labels" labels
check "200x60: full class names over the bars" shows 'angry +disgust +fear +happy +sad +surprise +neutral'
check "200x60: roomy mood panel" shows 'mood +[a-z]+'
check "200x60: all 30 rows fit" lacks 'rows [0-9]+-[0-9]+ of 30'
check "200x60: lines use the width" [ "$(width_of_longest)" -gt 150 ]

resize 30 6
wait_for 'terminal too small'
check "30x6: degrades to a message" shows 'too small: 30x6'
check "30x6: says the minimum" shows 'need 40x8'
resize 60 14
wait_for 'STUDENTS'
check "60x14: compact layout keeps students, mood and alerts" \
	sh -c "tmux -L '$SOCK' capture-pane -p -t t | grep -q STUDENTS && tmux -L '$SOCK' capture-pane -p -t t | grep -q 'MOOD' && tmux -L '$SOCK' capture-pane -p -t t | grep -q ALERTS"
check "60x14: stacked bars when narrow" shows 'MIX ADFHSUN'
resize 80 24
wait_for 'CLASS  window'
check "back to 80x24: class panel again" labels

keys q
wait_for 'quit after'
check "q exits to the prompt" at_prompt
finish
