#!/bin/sh
# docs_realtime.sh - README, emotop(1), emotop.yaml(5), config/emotop.yaml
# and --help say what the code does with a file: headless lines read it as
# fast as possible unless --realtime; the dashboard always plays it at its
# own speed (src/pipeline.c: co.realtime = realtime || dashboard). README
# said `emotop lecture.mp4` on a terminal was "analysed as fast as possible".
. "$(dirname "$0")/cli_lib.inc"

# the rule in the code (when it changes, so must the documents below)
contains "code: the dashboard plays files in real time" src/pipeline.c \
	'co.realtime = r->cfg->realtime || r->dashboard;'

line=$(grep -E '^emotop lecture\.mp4 ' README.md)
case $line in
*"as fast as possible"*) no "README: emotop lecture.mp4 (a terminal) is not 'as fast as possible'" "$line" ;;
*"own speed"*) ok "README: emotop lecture.mp4 (a terminal) plays at its own speed" ;;
*) no "README: emotop lecture.mp4 (a terminal) plays at its own speed" "${line:-no such line}" ;;
esac
contains "README: headless example is as fast as possible" README.md \
	'emotop --headless lecture.mp4 > l.txt   # ... analysed as fast as possible'
# the prose, lines joined
flat() { tr '\n' ' ' <"$1" | sed 's/  */ /g'; }
flat README.md >"$T/readme"
contains "README: the dashboard always plays files at their own speed" "$T/readme" \
	'on the dashboard (a terminal) they always play at their own speed'
flat man/emotop.1 >"$T/man1"
contains "emotop(1): the dashboard plays files at their own speed" "$T/man1" \
	'on the dashboard they always play at their own speed'
contains "emotop(1): --realtime is for headless mode" "$T/man1" \
	'Play files at their own speed in headless mode too (the dashboard always does).'
flat man/emotop.yaml.5 >"$T/man5"
contains "emotop.yaml(5): realtime is for headless mode" "$T/man5" \
	'the dashboard always plays them at their own speed'
flat config/emotop.yaml >"$T/yaml"
contains "config/emotop.yaml: the same" "$T/yaml" 'the dashboard always plays them at their own speed'
"$EMOTOP" --help >"$T/help" 2>&1
contains "--help: the same" "$T/help" 'play files at their own speed (the dashboard always does)'
done_tests
