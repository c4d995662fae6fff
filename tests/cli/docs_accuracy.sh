#!/bin/sh
# docs_accuracy.sh - the classifier's accuracy in the README's introduction
# and in emotop(1) ("right on N % of ... test faces") is the int8 figure of
# the README's measured table, rounded to a whole percent (train_eval.sh
# checks that figure against the shipped model). The man page said 54 %
# and the introduction 63 % for a model measured at 65.76 %.
. "$(dirname "$0")/cli_lib.inc"

flat() { tr '\n' ' ' <"$1" | sed 's/  */ /g'; }
table=$(sed -n 's/.*int8 accuracy on the FER2013 public test split[^*]*\*\*\([0-9.]*\) %\*\*.*/\1/p' README.md | head -n 1)
if [ -z "$table" ]; then
	no "README: the measured table states the int8 accuracy" "no '**N %**' in its int8 accuracy row"
else
	want=$(awk -v a="$table" 'BEGIN { printf "%d", a + 0.5 }')
	flat README.md >"$T/readme"
	flat man/emotop.1 >"$T/man1"
	for f in readme man1; do
		got=$(sed -n 's/.*classifier is right on \([0-9][0-9]*\) % of FER2013.s test faces.*/\1/p' "$T/$f" | head -n 1)
		if [ "$got" = "$want" ]; then
			ok "$f: the classifier is right on $got % (the table's $table %)"
		else
			no "$f: the accuracy stated is the table's, rounded" "states '${got:-nothing}' %, the table $table % (want $want)"
		fi
	done
fi
done_tests
