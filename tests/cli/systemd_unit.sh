#!/bin/sh
# systemd_unit.sh - systemd/emotop@.service.in, made for the built binary
# (a temporary copy with @BINDIR@ replaced), passes `systemd-analyze verify`
# and keeps its `systemd-analyze security --offline=yes` exposure at most
# 2.0 (README gives the score); skipped, saying so, without systemd-analyze.
. "$(dirname "$0")/cli_lib.inc"
UNIT_IN=systemd/emotop@.service.in
for d in ExecStart=@BINDIR@/emotop DynamicUser=yes SupplementaryGroups=video ProtectSystem=strict \
	ProtectHome=yes PrivateTmp=yes NoNewPrivileges=yes DevicePolicy=closed \
	'DeviceAllow=char-video4linux rw' RestrictAddressFamilies= SystemCallFilter=@system-service \
	Restart=on-failure RestartSec=5 StandardOutput=journal 'ExecReload=/bin/kill -HUP $MAINPID'; do
	contains "unit sets $d" "$UNIT_IN" "$d"
done
if ! command -v systemd-analyze >/dev/null 2>&1; then
	skip "systemd unit: systemd-analyze not installed"
	done_tests; exit $?
fi
mkdir -p "$T/units"
sed "s|@BINDIR@|$(dirname "$EMOTOP")|g" "$UNIT_IN" >"$T/units/emotop@.service"
# verify wants an instance; --man=no: the pages need not be installed here
if (cd "$T/units" && systemd-analyze verify --man=no "./emotop@.service") >"$T/verify" 2>&1 \
	&& ! grep -qi 'warn\|unknown\|invalid\|ignoring' "$T/verify"; then
	ok "systemd-analyze verify"
else
	no "systemd-analyze verify" "$(head -c 1200 "$T/verify")"
fi
if (cd "$T/units" && systemd-analyze security --offline=yes "./emotop@.service") >"$T/sec" 2>&1; then
	ok "systemd-analyze security --offline=yes runs"
else
	no "systemd-analyze security --offline=yes runs" "$(tail -c 800 "$T/sec")"
fi
score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$T/sec")
echo "     exposure level: ${score:-?}"
if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
	ok "exposure level $score <= 2.0"
else
	no "exposure level ${score:-?} <= 2.0" "$(grep '✗' "$T/sec" | head -n 20)"
fi
done_tests
