#!/bin/sh
# rules_check.sh - config/emotop.rules.yml passes `promtool check rules`
# and its unit tests (tests/data/emotop.rules.test.yml); skipped, saying
# so, where promtool (Debian's prometheus package) is not installed.
. "$(dirname "$0")/cli_lib.inc"
if ! command -v promtool >/dev/null 2>&1; then
	skip "alerting rules: promtool not installed (Debian package prometheus)"
	done_tests; exit $?
fi
if promtool check rules config/emotop.rules.yml >"$T/check" 2>&1; then
	ok "promtool check rules config/emotop.rules.yml"
else
	no "promtool check rules config/emotop.rules.yml" "$(head -c 800 "$T/check")"
fi
contains "four rules" "$T/check" "4 rules found"
if (cd tests/data && promtool test rules emotop.rules.test.yml) >"$T/test" 2>&1; then
	ok "promtool test rules: each alert fires when it should, not before"
else
	no "promtool test rules" "$(head -c 1500 "$T/test")"
fi
done_tests
