#!/bin/sh
# man_lint.sh - every man page in man/ passes mandoc's lint at warning level
# (CI runs the same check; skipped, saying so, where mandoc is not installed).
. tests/cli/cli_lib.inc
if ! command -v mandoc >/dev/null 2>&1; then
	skip "man pages: mandoc not installed"
	done_tests; exit $?
fi
for page in man/*.1 man/*.5; do
	if mandoc -Tlint -Wwarning "$page" >"$T/lint" 2>&1; then
		ok "mandoc lint $page"
	else
		no "mandoc lint $page" "$(head -c 600 "$T/lint")"
	fi
	# the page renders and names itself
	name=$(basename "$page"); name=${name%.*}
	if mandoc -Tascii "$page" 2>/dev/null | grep -qi "$name"; then
		ok "renders $page"
	else
		no "renders $page"
	fi
done
done_tests
