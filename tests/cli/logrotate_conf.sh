#!/bin/sh
# logrotate_conf.sh - config/emotop.logrotate: rotates /var/log/emotop/,
# reloads the services (SIGHUP reopens the log) in postrotate, never
# copytruncate or create; `logrotate -d` (a dry run, with its own state
# file) accepts it when logrotate is installed (skipped, saying so,
# otherwise). The SIGHUP reopen itself is tested by test_report
# (reopen_after_rename) and cli_signals.sh.
. "$(dirname "$0")/cli_lib.inc"
CONF=config/emotop.logrotate

if [ ! -f "$CONF" ]; then
	no "$CONF exists"
	done_tests; exit
fi
ok "$CONF exists"
contains "rotates the service logs" "$CONF" '/var/log/emotop/*.log'
contains "postrotate reloads the services" "$CONF" "systemctl reload 'emotop@*.service'"
contains "one postrotate for all files" "$CONF" 'sharedscripts'
contains "emotop makes the new file" "$CONF" 'nocreate'
# no copytruncate / create directive (comments may name them)
if grep -v '^[[:space:]]*#' "$CONF" | grep -qwE 'copytruncate|create'; then
	no "no copytruncate or create directive" "$(grep -nwE 'copytruncate|create' "$CONF")"
else
	ok "no copytruncate or create directive"
fi
contains "the unit's reload sends SIGHUP" systemd/emotop@.service.in 'ExecReload=/bin/kill -HUP $MAINPID'

LOGROTATE=$(command -v logrotate || ls /usr/sbin/logrotate /sbin/logrotate 2>/dev/null | head -n 1)
if [ -z "$LOGROTATE" ]; then
	skip "logrotate -d: logrotate not installed"
	done_tests; exit
fi
# the same rules on a private directory (logrotate -d changes nothing)
mkdir -p "$T/log"
printf '{"type":"final"}\n' >"$T/log/room-101.log"
sed "s|/var/log/emotop/|$T/log/|g" "$CONF" >"$T/emotop.conf"
if "$LOGROTATE" -d -f -s "$T/state" "$T/emotop.conf" >"$T/lr" 2>&1 && ! grep -qi 'error' "$T/lr"; then
	ok "logrotate -d accepts it"
else
	no "logrotate -d accepts it" "$(head -c 1200 "$T/lr")"
fi
contains "logrotate -d: would rotate the log" "$T/lr" 'room-101.log'
contains "logrotate -d: would run postrotate" "$T/lr" 'running postrotate script'
done_tests
