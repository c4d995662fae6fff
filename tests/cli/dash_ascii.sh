#!/bin/sh
# dash_ascii.sh - the ASCII fallback (--ascii, or a non-UTF-8 locale) puts no
# byte >= 0x80 on the screen, names included; UTF-8 mode does use blocks.
. "$(dirname "$0")/dashlib.inc"

start 80 24 || skip_all "tmux cannot start a session here"
run "$DASH_CMD --students 24 --frame 100; echo rc=\$?"
wait_for 'STUDENTS 24'
check "UTF-8 mode draws block characters" shows '█'
check "UTF-8 mode keeps names" shows '^ Chloé '
keys q
at_prompt

start 80 24
run "$DASH_CMD --ascii --students 24 --frame 100; echo rc=\$?"
wait_for 'STUDENTS 24'
check "--ascii: only ASCII on screen" screen_ascii
check "--ascii: '#' bars" shows '^ Ada +##'
check "--ascii: non-ASCII names become ?" shows '^ Chlo\? '
keys End
wait_for 'rows 1[0-9]-24 of 24'
check "--ascii: wide names become ?" shows '^ \?\? '
check "--ascii: still only ASCII after scrolling" screen_ascii
keys h
wait_for 'emotop dashboard keys'
check "--ascii: help box in ASCII" screen_ascii
check "--ascii: help box corners are +" shows '\+-{10}'
keys x v
wait_for 'MIX ADFHSUN'
check "--ascii: stacked view in ASCII" screen_ascii
check "--ascii: stacked letters" shows '^ Oskar +AAAAAAAAAA'
resize 200 60
wait_for '^ ALERTS'
check "--ascii: 200x60 only ASCII" screen_ascii
keys q
at_prompt

# a non-UTF-8 locale falls back without --ascii
LANG_UNDER_TEST=C
start 100 30
run "$DASH_CMD --students 24 --frame 100; echo rc=\$?"
wait_for 'STUDENTS 24'
check "C locale: only ASCII on screen" screen_ascii
check "C locale: '#' bars" shows '##'
keys q
check "C locale: q quits" at_prompt
finish
