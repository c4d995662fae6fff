#!/bin/sh
# dash_color.sh - colours by default, monochrome with NO_COLOR or --no-color
# (titles still in reverse video), checked on tmux's escape-coded capture.
. "$(dirname "$0")/dashlib.inc"

esc=$(printf '\033')
# any SGR that sets a foreground/background colour (30-37, 40-47; 39/49 are defaults)
colored() { tm capture-pane -e -p -t t | grep -Eq "$esc\\[([0-9;]*;)?[34][0-7](;[0-9;]*)?m"; }
reverse() { tm capture-pane -e -p -t t | grep -Eq "$esc\\[([0-9;]*;)?7(;[0-9;]*)?m +STUDENTS"; }

start 80 24 || skip_all "tmux cannot start a session here"
run "$DASH_CMD --frame 100; echo rc=\$?"
wait_for 'STUDENTS 12'
check "colours by default" poll colored
keys q
at_prompt

NO_COLOR_UNDER_TEST=1
start 80 24
run "$DASH_CMD --frame 100; echo rc=\$?"
wait_for 'STUDENTS 12'
check "NO_COLOR: no colour codes" poll sh -c "! tmux -L '$SOCK' capture-pane -e -p -t t | grep -Eq '$esc\\[([0-9;]*;)?[34][0-7](;[0-9;]*)?m'"
check "NO_COLOR: titles in reverse video" poll reverse
keys q
at_prompt
NO_COLOR_UNDER_TEST=

# a dead source is shown, coloured and in reverse video (so also without colour)
state_shown() { tm capture-pane -e -p -t t | grep -Eq "$esc\\[([0-9;]*;)?7(;[0-9;]*)?m($esc\\[[0-9;]*m)* +RECONNECTING"; }
start 80 24
run "$DASH_CMD --frame 100 --source reconnecting; echo rc=\$?"
wait_for 'STUDENTS 12'
check "source reconnecting: in the header" wait_for '^ source  RECONNECTING   faces '
check "source reconnecting: reverse video" state_shown
check "source reconnecting: red" sh -c "tmux -L '$SOCK' capture-pane -e -p -t t | grep -Eq '$esc\\[([0-9;]*;)?31(;[0-9;]*)?m[^ ]* *RECONNECTING'"
keys q
at_prompt
NO_COLOR_UNDER_TEST=1
start 80 24
run "$DASH_CMD --frame 100 --source lost; echo rc=\$?"
wait_for 'STUDENTS 12'
check "NO_COLOR: source lost in reverse video" sh -c "tmux -L '$SOCK' capture-pane -e -p -t t | grep -Eq '$esc\\[([0-9;]*;)?7(;[0-9;]*)?m +LOST'"
keys q
at_prompt
NO_COLOR_UNDER_TEST=

start 80 24
run "$DASH_CMD --no-color --frame 100; echo rc=\$?"
wait_for 'STUDENTS 12'
check "--no-color: no colour codes" poll sh -c "! tmux -L '$SOCK' capture-pane -e -p -t t | grep -Eq '$esc\\[([0-9;]*;)?[34][0-7](;[0-9;]*)?m'"
keys v
check "--no-color: stacked view uses letters" wait_for '^ Ada +AAAA'
keys q
check "--no-color: q quits" at_prompt
finish
