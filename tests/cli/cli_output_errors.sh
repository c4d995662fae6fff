#!/bin/sh
# cli_output_errors.sh - outputs that cannot be written: every lost line is
# counted and said (once when the loss begins, once when it ends), a full
# file keeps whole lines only, exit 6 unless the output recovered (a later
# line written whole); a closed pipe ends the run quietly with 0.
. "$(dirname "$0")/cli_lib.inc"

# whole_lines NAME FILE: FILE ends with a newline and every line is a whole
# NDJSON object
whole_lines() {
	if [ ! -s "$2" ] || { [ "$(tail -c 1 "$2" | od -An -c | tr -d ' ')" = '\n' ] &&
		awk '!/^\{.*\}$/ { bad = 1 } END { exit bad }' "$2"; }; then
		ok "$1"
	else
		no "$1" "torn line in $2:" "$(tail -c 300 "$2")"
	fi
}

run_demo() { "$EMOTOP" --demo --headless --format ndjson --duration 10 --interval 1 "$@"; }

# The lines a run writes (media clock: the same count every time).
run_demo --log "$T/all.ndjson" >/dev/null 2>"$T/err" </dev/null
total=$(wc -l <"$T/all.ndjson")
[ "$total" -ge 5 ] && ok "reference run: $total lines" || no "reference run" "$(cat "$T/err")"

if [ -w /dev/full ]; then
	# --log /dev/full: every line lost, counted, said twice at most, exit 6
	expect_rc "--log /dev/full: exit 6" 6 run_demo --log /dev/full
	n=$(wc -l <"$T/out")
	[ "$n" -eq "$total" ] && ok "--log /dev/full: stdout keeps every line" || no "stdout lines" "$n, want $total"
	contains "--log /dev/full: count of lost lines" "$T/err" "/dev/full: $total lines lost"
	[ "$(grep -c /dev/full "$T/err")" -eq 2 ] && ok "--log /dev/full: said once, counted at the end" \
		|| no "--log /dev/full: said once, counted at the end" "$(cat "$T/err")"
	# stdout on /dev/full
	"$EMOTOP" --demo --headless --duration 10 --interval 1 >/dev/full 2>"$T/err" </dev/null
	rc=$?
	[ $rc -eq 6 ] && ok "stdout /dev/full: exit 6" || no "stdout /dev/full: exit 6" "exit $rc"
	contains "stdout /dev/full: count of lost lines" "$T/err" "standard output: $total lines lost"
	# faces only (no classifier): the same sink, the same messages, the same exit
	expect_rc "--model none --log /dev/full: exit 6" 6 run_demo --model none --log /dev/full
	grep -v 'classifier off' "$T/err" >"$T/none.err"
	run_demo --log /dev/full >/dev/null 2>"$T/cls.err" </dev/null
	if cmp -s "$T/none.err" "$T/cls.err"; then
		ok "--model none --log /dev/full: the messages of a classifier run"
	else
		no "--model none --log /dev/full: the messages of a classifier run" \
			"faces only: $(head -c 300 "$T/none.err")" "classifier: $(head -c 300 "$T/cls.err")"
	fi
	"$EMOTOP" --demo --headless --model none --duration 10 --interval 1 >/dev/full 2>"$T/err" </dev/null
	rc=$?
	[ $rc -eq 6 ] && ok "--model none, stdout /dev/full: exit 6" || no "--model none, stdout /dev/full: exit 6" "exit $rc"
	contains "--model none, stdout /dev/full: count of lost lines" "$T/err" "standard output: $total lines lost"
else
	skip "no writable /dev/full"
fi

# A closed pipe (`| head -1`) ends the run at the next line, quietly, with
# exit 0 (a fifo, to see emotop's own status); the log still gets the final
# line.
mkfifo "$T/pipe"
head -n 1 <"$T/pipe" >"$T/head.out" &
hpid=$!
timeout 30 "$EMOTOP" --demo --headless --duration 600 --interval 1 --log "$T/pipe.log" --format ndjson \
	>"$T/pipe" 2>"$T/pipe.err" </dev/null
rc=$?
wait $hpid
[ $rc -eq 0 ] && ok "closed pipe: ends at once with exit 0" || no "closed pipe: ends at once with exit 0" \
	"exit $rc (124: still running after 30 s)" "$(head -c 400 "$T/pipe.err")"
[ ! -s "$T/pipe.err" ] && ok "closed pipe: nothing on stderr" || no "closed pipe: nothing on stderr" "$(cat "$T/pipe.err")"
[ "$(wc -l <"$T/head.out")" -eq 1 ] && ok "closed pipe: the reader got its line" || no "closed pipe: the reader got its line"
[ "$(tail -n 1 "$T/pipe.log" | grep -c '"type":"final"')" -eq 1 ] && ok "closed pipe: final line in the log" \
	|| no "closed pipe: final line in the log" "$(tail -n 1 "$T/pipe.log")"

# A disk that fills up: a file size limit (SIGXFSZ ignored: write fails
# with EFBIG after a short write) lets the log take a few lines only.
( trap '' XFSZ; ulimit -f 4 && exec "$EMOTOP" --demo --headless --format ndjson --duration 10 \
	--interval 1 --log "$T/full.ndjson" ) >/dev/null 2>"$T/err" </dev/null
rc=$?
[ $rc -eq 6 ] && ok "full disk: exit 6" || no "full disk: exit 6" "exit $rc" "$(cat "$T/err")"
kept=$(wc -l <"$T/full.ndjson")
[ "$kept" -ge 1 ] && [ "$kept" -lt "$total" ] && ok "full disk: $kept of $total lines kept" \
	|| no "full disk: some lines kept" "$kept of $total"
whole_lines "full disk: no torn line" "$T/full.ndjson"
# a short line (the source's end) may still fit where the summary lines did
# not: the loss then ends and begins again, and the counts add up
lost=$(sed -n 's/.*full\.ndjson: \(written again, \)\{0,1\}\([0-9]*\) lines\{0,1\} lost.*/\2/p' "$T/err" |
	awk '{ n += $1 } END { print n + 0 }')
[ "$lost" -eq $((total - kept)) ] && ok "full disk: count of lost lines" \
	|| no "full disk: count of lost lines" "counted $lost, want $((total - kept))" "$(cat "$T/err")"
began=$(grep -c 'cannot write .*full\.ndjson' "$T/err")
ended=$(grep -c 'full\.ndjson: written again' "$T/err")
grep -q 'full\.ndjson: [0-9]* lines\{0,1\} lost, the final line too' "$T/err" && [ "$began" -eq $((ended + 1)) ] \
	&& ok "full disk: said when it begins, counted when it ends" \
	|| no "full disk: said when it begins, counted when it ends" "$(cat "$T/err")"

# Room again (the full file is emptied, as by logrotate's copytruncate):
# said with the count, and the run ends with 0 when its last line is whole.
( trap '' XFSZ; ulimit -f 16 && exec "$EMOTOP" --demo --realtime --headless --format ndjson \
	--duration 120 --interval 0.2 --log "$T/rec.ndjson" ) >/dev/null 2>"$T/rec.err" </dev/null &
pid=$!
if wait_for "$T/rec.err" "cannot write" 300; then
	: >"$T/rec.ndjson"
	wait_for "$T/rec.err" "written again" 100 && ok "recovery: said" || no "recovery: said" "$(cat "$T/rec.err")"
else
	no "recovery: the log fills up" "$(cat "$T/rec.err")"
fi
kill -TERM $pid
wait $pid
rc=$?
[ $rc -eq 0 ] && ok "recovery: exit 0" || no "recovery: exit 0" "exit $rc" "$(cat "$T/rec.err")"
grep -q 'rec.ndjson: written again, [1-9][0-9]* lines\{0,1\} lost' "$T/rec.err" && ok "recovery: count of lost lines" \
	|| no "recovery: count of lost lines" "$(cat "$T/rec.err")"
[ "$(tail -n 1 "$T/rec.ndjson" | grep -c '"type":"final"')" -eq 1 ] && ok "recovery: final line" \
	|| no "recovery: final line" "$(tail -n 1 "$T/rec.ndjson")"
whole_lines "recovery: no torn line" "$T/rec.ndjson"

done_tests
