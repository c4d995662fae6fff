#!/bin/sh
# config_errors.sh - every class of config error: exit 3 and file:line:col.
. "$(dirname "$0")/cli_lib.inc"

data=$(cd "$(dirname "$0")/../data" && pwd)
for f in "$data"/bad_*.yaml; do
	b=$(basename "$f")
	lc=$(sed -n '1s/^# expect \([0-9]*:[0-9]*\) .*/\1/p' "$f")
	msg=$(sed -n '1s/^# expect [0-9]*:[0-9]* //p' "$f")
	"$EMOTOP" --config "$f" --dump-config >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	if [ $rc -eq 3 ] && grep -qF "$f:$lc: " "$T/err" && grep -qF -- "$msg" "$T/err" && [ ! -s "$T/out" ]; then
		ok "$b"
	else
		no "$b" "exit $rc (want 3), want '$f:$lc: ...$msg'" "stderr: $(cat "$T/err")"
	fi
done

expect_rc "missing --config file" 3 "$EMOTOP" --config "$T/none.yaml" --dump-config
contains "missing file named" "$T/err" "$T/none.yaml: cannot open"
expect_rc "directory as config" 3 "$EMOTOP" --config "$T" --dump-config
head -c 2048 "$EMOTOP" >"$T/binary.yaml"
expect_rc "binary file" 3 "$EMOTOP" --config "$T/binary.yaml" --dump-config
contains "binary named" "$T/err" "$T/binary.yaml:1:"
printf 'source: caf\351\n' >"$T/latin1.yaml"
expect_rc "non-UTF-8 file" 3 "$EMOTOP" --config "$T/latin1.yaml" --dump-config
contains "non-UTF-8 position" "$T/err" "$T/latin1.yaml:1:12: not valid UTF-8"
: >"$T/empty.yaml"
expect_rc "empty file = defaults" 0 "$EMOTOP" --config "$T/empty.yaml" --dump-config
"$EMOTOP" --dump-config --config /dev/null >"$T/def" 2>&1
if cmp -s "$T/out" "$T/def"; then ok "empty file dump equals defaults"; else no "empty file dump equals defaults"; fi
expect_rc "example config loads" 0 "$EMOTOP" --config "$(dirname "$0")/../../config/emotop.yaml" --dump-config
if cmp -s "$T/out" "$T/def"; then ok "example config shows the defaults"; else no "example config shows the defaults"; fi
# bad config stops before any source is touched
expect_rc "config error before source" 3 "$EMOTOP" --config "$data/bad_range_fps.yaml" --headless "$T/none.mp4"

done_tests
