#!/bin/sh
# tests/run.sh UNIT_TEST... -- SHELL_TEST...
# Runs each test, keeps its log only on failure, prints one summary line.
# VALGRIND=1 runs unit tests under valgrind (leaks are errors).
pass=0; fail=0; skip=0; failed=""
logdir=$(mktemp -d "${TMPDIR:-/tmp}/emotop-test.XXXXXX") || exit 1
mode=unit
for t in "$@"; do
	if [ "$t" = "--" ]; then mode=cli; continue; fi
	log="$logdir/$(basename "$t").log"
	if [ "$mode" = unit ]; then
		if [ -n "$VALGRIND" ]; then
			valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect "$t" >"$log" 2>&1
		else
			"$t" >"$log" 2>&1
		fi
	else
		sh "$t" >"$log" 2>&1
	fi
	rc=$?
	# each test prints "N passed, N failed, N skipped" last
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
	f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	s=$(echo "$line" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
	pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0})); skip=$((skip + ${s:-0}))
	if [ $rc -ne 0 ] || [ -z "$line" ]; then
		[ -z "$line" ] && fail=$((fail + 1))
		failed="$failed $t"
		echo "FAIL $t (exit $rc)"; sed 's/^/    /' "$log"
		grep '^ *FAIL' "$log" | sed "s|^ *|    $t: |" >>"$logdir/failed"
	else
		echo "ok   $t: $line"
		grep -h '^ *SKIP' "$log" | sed 's/^ */    /'
	fi
done
# the failed checks again, last, where a truncated CI log still shows them
if [ -n "$failed" ]; then
	echo "failed:$failed"
	[ -f "$logdir/failed" ] && cat "$logdir/failed"
fi
rm -rf "$logdir"
echo "$pass passed, $fail failed, $skip skipped"
[ -z "$failed" ]
