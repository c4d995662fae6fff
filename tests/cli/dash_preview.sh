#!/bin/sh
# dash_preview.sh - the preview pane (key f) of the real emotop binary on the
# built-in demo source, in tmux: f shows the frame in block symbols with the
# legend (id, name -> label) and the gallery cells' names, f and Esc close
# it, the help names the key, --ascii draws it in ASCII, and nothing is
# written to disk (the run's directory and HOME stay empty). On a terminal
# with 8 colours the picture is symbols only; with 256 it is in gray shades
# with green face boxes, and NO_COLOR takes the shades away again.
. "$(dirname "$0")/dashlib.inc"

EMOTOP=${EMOTOP:-build/emotop}
[ -x "$EMOTOP" ] || skip_all "$EMOTOP not built"
case $EMOTOP in /*) ;; *) EMOTOP="$(pwd)/$EMOTOP" ;; esac

tmp=$(mktemp -d) || exit 1
mkdir "$tmp/run" "$tmp/home" "$tmp/etc"
trap 'cleanup; rm -rf "$tmp"' EXIT INT TERM
# a 1 x 3 gallery over the demo's frame: names for the cells
cat > "$tmp/etc/gallery.yaml" <<'YAML'
gallery:
  rows: 1
  cols: 3
  names: [Ana, Ben, Chloe]
YAML
CMD="cd '$tmp/run' && HOME='$tmp/home' XDG_CONFIG_HOME='$tmp/home/.config' $EMOTOP --dashboard --duration 0 --demo"

start 100 30 || skip_all "tmux cannot start a session here"
run "$CMD -c '$tmp/etc/gallery.yaml'; echo rc=\$?"
wait_for 'frames [1-9]'
keys f
check "f: the preview pane's title" shows '^ PREVIEW  frame [0-9]+x[0-9]+  faces [0-9]+  seats 3'
check "f: the frame in block symbols" shows '[▀▄█▌▐▖▗▘▝▙▛▜▟▁▂▃▅▆▇▉▊▋▍▎▏]{4}'
check "f: the legend's header" shows 'ID +NAME +LABEL'
check "f: a face in the legend with its label" \
	shows '#[0-9]+ +(Ana|Ben|Chloe|-) +(angry|disgust|fear|happy|sad|surprise|neutral)'
check "f: a named face in the legend" shows '#[0-9]+ +(Ana|Ben|Chloe) '
check "f: a face's id and label on its box" \
	shows '[0-9]+ (angry|disgust|fear|happy|sad|surprise|neutral)'
check "f: the student list is hidden" lacks '^ STUDENTS '
check "f: the footer names the key" shows ' f frame '
keys f
check "f again: the pane is gone" lacks 'PREVIEW'
check "f again: the student list is back" shows '^ STUDENTS '
keys f
wait_for 'PREVIEW'
keys Escape
check "Esc closes the pane" lacks 'PREVIEW'
keys Enter
wait_for '^ STUDENT .*Esc back'
keys f
check "detail view: f shows the pane" shows '^ PREVIEW '
keys Escape
check "detail view: Esc closes the pane first" lacks 'PREVIEW'
check "detail view: still there after" shows '^ STUDENT .*Esc back'
keys Escape
wait_for '^ STUDENTS '
keys h
check "the help names the key" shows 'f +preview: the frame'
keys x
lacks 'emotop dashboard keys'
keys q
at_prompt
check "q after the preview: exit status 0" shows '^rc=0'
check "nothing written to disk (run directory, HOME)" \
	sh -c "[ -z \"\$(find '$tmp/run' '$tmp/home' -mindepth 1 | head -n 1)\" ]"

run "$CMD --ascii; echo rc=\$?"
wait_for 'frames [1-9]'
keys f
wait_for 'PREVIEW'
check "--ascii: the pane in ASCII" poll sh -c "ascii_now() { [ \"\$(tmux -L '$SOCK' capture-pane -p -t t | LC_ALL=C tr -d '\\000-\\177' | wc -c)\" -eq 0 ]; }; tmux -L '$SOCK' capture-pane -p -t t | grep -q PREVIEW && ascii_now"
check "--ascii: the legend" shows '#[0-9]+ +- +(angry|disgust|fear|happy|sad|surprise|neutral)'
keys q
at_prompt
check "--ascii: nothing written to disk" \
	sh -c "[ -z \"\$(find '$tmp/run' '$tmp/home' -mindepth 1 | head -n 1)\" ]"

# the picture's colours: rows 4-10 of the pane are inside the picture
esc=$(printf '\033')
pic() { tm capture-pane -e -p -t t -S 3 -E 10; }
# distinct 256-palette grays (232-255 and the cube's 16, 59, 102, 145, 188, 231)
grays() { pic | grep -Eo "$esc\\[[34]8;5;(23[2-9]|24[0-9]|25[0-5]|16|59|102|145|188|231)m" | sort -u | wc -l; }
many_grays() { [ "$(grays)" -ge 8 ]; }
no_palette() { ! pic | grep -q "$esc\\[[34]8;5;"; }
green_box() { pic | grep -Eq "$esc\\[[34]8;5;(34|40|46)m"; }
keys_f_shown() { run "$CMD; echo rc=\$?"; wait_for 'frames [1-9]'; keys f; wait_for '^ PREVIEW .*faces [1-9]'; }

keys_f_shown
check "8 colours: the picture in symbols, no palette colours" poll no_palette
keys q
at_prompt

TERM_UNDER_TEST=screen-256color
start 100 30
keys_f_shown
check "256 colours: the picture in gray shades" poll many_grays
check "256 colours: a face box in green" poll green_box
keys q
at_prompt
check "256 colours: exit status 0" shows '^rc=0'
NO_COLOR_UNDER_TEST=1
start 100 30
keys_f_shown
check "256 colours, NO_COLOR: symbols only" poll no_palette
check "256 colours, NO_COLOR: still the picture" shows '[▀▄█▌▐▖▗▘▝▙▛▜▟▁▂▃▅▆▇▉▊▋▍▎▏]{4}'
keys q
at_prompt
NO_COLOR_UNDER_TEST=
TERM_UNDER_TEST=
finish
