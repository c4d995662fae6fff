#!/bin/sh
# metrics_file.sh - --metrics-file without Prometheus: an unwritable place
# is exit 6 at start, naming it; the file of a demo run has the series,
# the host name as room by default, and no student with aggregate_only.
. "$(dirname "$0")/cli_lib.inc"

expect_rc "metrics in a missing directory: exit 6" 6 "$EMOTOP" --demo --headless --duration 1 \
	--metrics-file "$T/nodir/x.prom"
contains "the message names the directory" "$T/err" "$T/nodir"
expect_rc "metrics file naming a directory: exit 6" 6 "$EMOTOP" --demo --headless --duration 1 \
	--metrics-file "$T/"
expect_rc "demo run with --metrics-file" 0 "$EMOTOP" --demo --headless --duration 3 --interval 1 \
	--metrics-file "$T/m.prom"
contains "HELP line" "$T/m.prom" "# HELP emotop_faces "
contains "TYPE line" "$T/m.prom" "# TYPE emotop_frames_total counter"
contains "room is the host name" "$T/m.prom" "emotop_faces{room=\"$(hostname)\"}"
contains "source down after the end" "$T/m.prom" "emotop_source_up{room=\"$(hostname)\"} 0"
cat >"$T/seats.yaml" <<'YML'
seats:
  - {name: Ana, x: 0, y: 0, w: 0.5, h: 1}
  - {name: Bo, x: 0.5, y: 0, w: 0.5, h: 1}
output: {metrics_per_student: true, room: lab}
YML
expect_rc "per-student metrics" 0 "$EMOTOP" --config "$T/seats.yaml" --demo --headless --duration 3 \
	--interval 1 --metrics-file "$T/s.prom"
contains "a named student's series" "$T/s.prom" 'emotop_student_present{room="lab",student="'
expect_rc "aggregate_only" 0 "$EMOTOP" --config "$T/seats.yaml" --aggregate-only --demo --headless \
	--duration 3 --interval 1 --metrics-file "$T/a.prom"
lacks "aggregate_only: no student series" "$T/a.prom" "student"
lacks "aggregate_only: no name" "$T/a.prom" "Ana"
contains "aggregate_only: class series kept" "$T/a.prom" 'emotop_emotion_share{room="lab",emotion="happy"}'
done_tests
