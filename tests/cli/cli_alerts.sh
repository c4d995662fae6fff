#!/bin/sh
# cli_alerts.sh - alert lines go out when the alert fires, flushed, not at
# the next summary line (--interval 10 held an alert fired at 1 s until 10 s).
. "$(dirname "$0")/cli_lib.inc"

cat >"$T/alerts.yaml" <<'YAML'
alerts:
  - {name: always, condition: "faces < 1000", for: 0}
YAML
"$EMOTOP" --demo --headless --format ndjson --duration 12 --interval 10 --config "$T/alerts.yaml" \
	>"$T/probe" 2>"$T/probe.err" </dev/null
if ! grep -q '"type":"summary"' "$T/probe"; then
	skip "no classifier model: no alerts ($(head -c 200 "$T/probe.err"))"
	done_tests; exit
fi

# media clock (demo:12 read at full speed): the order of the lines
first=$(grep -m 1 -o '"type":"\(alert\|summary\)"' "$T/probe")
[ "$first" = '"type":"alert"' ] && ok "alert before the first summary line" \
	|| no "alert before the first summary line" "$(head -n 3 "$T/probe")"
[ "$(grep -c '"type":"alert"' "$T/probe")" -eq 1 ] && ok "alert written once" \
	|| no "alert written once" "$(grep '"type":"alert"' "$T/probe")"

# the same in text and CSV
for f in text csv; do
	"$EMOTOP" --demo --headless --format $f --duration 12 --interval 10 --config "$T/alerts.yaml" \
		>"$T/$f" 2>/dev/null </dev/null
	if [ $f = csv ]; then pat='^\(alert\|summary\),'; want=alert; else pat=' \(ALERT\|up\) '; want=ALERT; fi
	first=$(grep -m 1 -o "$pat" "$T/$f")
	case $first in *$want*) ok "$f: alert before the first summary line" ;;
	*) no "$f: alert before the first summary line" "$(head -n 3 "$T/$f")" ;; esac
done

# wall clock (--realtime): the alert reaches stdout within seconds, long
# before the first summary line at 10 s
"$EMOTOP" --demo --realtime --headless --format ndjson --duration 30 --interval 10 \
	--config "$T/alerts.yaml" >"$T/live" 2>"$T/live.err" </dev/null &
pid=$!
if wait_for "$T/live" '"type":"alert"' 60; then
	lacks "live: alert out before any summary line" "$T/live" '"type":"summary"'
else
	no "live: alert within 6 s" "$(head -c 300 "$T/live")" "$(head -c 300 "$T/live.err")"
fi
kill -TERM $pid 2>/dev/null
wait $pid

done_tests
