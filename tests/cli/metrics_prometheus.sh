#!/bin/sh
# metrics_prometheus.sh - the --metrics-file through Debian's real
# prometheus-node-exporter (textfile collector) and Debian's real prometheus
# scraping it every second, both on 127.0.0.1 at free ports with temporary
# directories; the series are read back through Prometheus's HTTP query API.
# Prometheus also loads config/emotop.rules.yml. Skipped, saying so, where
# the packages (or python3, used to find ports and read the JSON) are absent.
. "$(dirname "$0")/cli_lib.inc"
NODE_EXPORTER=$(command -v prometheus-node-exporter || command -v node_exporter)
PROMETHEUS=$(command -v prometheus)
if [ -z "$PROMETHEUS" ] || [ -z "$NODE_EXPORTER" ]; then
	skip "metrics through Prometheus: prometheus not installed (Debian packages prometheus prometheus-node-exporter)"
	done_tests; exit $?
fi
if ! command -v python3 >/dev/null 2>&1; then
	skip "metrics through Prometheus: python3 absent"
	done_tests; exit $?
fi
RULES=$(pwd)/config/emotop.rules.yml
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# q EXPR: the sum of the values of an instant query, "none" when empty
q() {
	python3 - "$PP" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
url = "http://127.0.0.1:%s/api/v1/query?%s" % (sys.argv[1], urllib.parse.urlencode({"query": sys.argv[2]}))
try:
    r = json.load(urllib.request.urlopen(url, timeout=5))
except Exception as e:
    print("error: %s" % e); sys.exit(0)
res = r.get("data", {}).get("result", [])
print("none" if not res else repr(sum(float(x["value"][1]) for x in res)))
PY
}

# wait_q EXPR PYCOND [TRIES]: poll (0.5 s steps) until the value v meets PYCOND
wait_q() {
	i=0; n=${3:-60}
	while [ $i -lt "$n" ]; do
		v=$(q "$1")
		case $v in none|error*) ;; *) python3 -c "import sys; v = float(sys.argv[1]); sys.exit(0 if ($2) else 1)" "$v" && return 0 ;; esac
		sleep 0.5; i=$((i + 1))
	done
	echo "     last value of $1: $v"
	return 1
}

mkdir -p "$T/textfile" "$T/tsdb"
NP=$(free_port); PP=$(free_port)
"$NODE_EXPORTER" --web.listen-address="127.0.0.1:$NP" --collector.disable-defaults \
	--collector.textfile --collector.textfile.directory="$T/textfile" >"$T/ne.log" 2>&1 &
pids="$pids $!"
cat >"$T/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $RULES
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:$NP']
YML
"$PROMETHEUS" --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
	--web.listen-address="127.0.0.1:$PP" >"$T/prom.log" 2>&1 &
pids="$pids $!"
if wait_q 'up{job="node"}' 'v == 1' 80; then ok "prometheus scrapes node_exporter"; else
	no "prometheus scrapes node_exporter" "$(tail -n 5 "$T/prom.log")" "$(tail -n 5 "$T/ne.log")"
	done_tests; exit $?
fi

"$EMOTOP" --demo --headless --realtime --duration 40 --interval 1 --format ndjson \
	--metrics-file "$T/textfile/emotop.prom" --set 'output.room=lab "1"' >"$T/out" 2>"$T/err" &
epid=$!
pids="$pids $epid"
R='room="lab \"1\""'
if wait_q "emotop_frames_total{$R}" 'v > 0'; then ok "emotop_frames_total read back"; else
	no "emotop_frames_total read back" "$(head -c 400 "$T/err")"; fi
wait_q "emotop_source_up{$R}" 'v == 1' 10 && ok "emotop_source_up is 1 while running" \
	|| no "emotop_source_up is 1 while running"
wait_q "count(emotop_emotion_share{$R})" 'v == 7' 10 && ok "7 emotion shares" || no "7 emotion shares"
for e in angry disgust fear happy sad surprise neutral; do
	wait_q "emotop_emotion_share{$R,emotion=\"$e\"}" '0 <= v <= 1' 4 || no "emotion_share $e in 0..1"
done
wait_q "sum(emotop_emotion_share{$R})" 'abs(v - 1) < 0.01' 4 && ok "the shares sum to 1" || no "the shares sum to 1"
wait_q "emotop_negative_share{$R}" '0 <= v <= 1' 4 && ok "negative share" || no "negative share"
wait_q "emotop_faces{$R}" 'v >= 1' 10 && ok "faces of the demo" || no "faces of the demo"
wait_q "emotop_stage_seconds{$R,stage=\"detect\"}" '0 < v < 5' 10 && ok "detect stage in seconds" \
	|| no "detect stage in seconds"
wait_q "count(emotop_stage_seconds{$R})" 'v == 3' 4 && ok "3 stages" || no "3 stages"
wait_q "emotop_frames_dropped_total{$R}" 'v >= 0' 4 && ok "dropped frames counter" || no "dropped frames counter"
wait_q "emotop_reconnects_total{$R}" 'v == 0' 4 && ok "reconnects counter" || no "reconnects counter"
wait_q "emotop_uptime_seconds{$R}" 'v > 0' 4 && ok "uptime" || no "uptime"
# the counter grows between scrapes
wait_q "increase(emotop_frames_total{$R}[5s])" 'v > 0' 20 && ok "frames_total increases" \
	|| no "frames_total increases"
wait_q 'node_textfile_scrape_error' 'v == 0' 4 && ok "node_exporter reads the file without error" \
	|| no "node_exporter reads the file without error" "$(tail -n 5 "$T/ne.log")"
# the alerting rules are loaded
if python3 - "$PP" <<'PY'
import json, sys, urllib.request
r = json.load(urllib.request.urlopen("http://127.0.0.1:%s/api/v1/rules" % sys.argv[1], timeout=5))
names = {x["name"] for g in r["data"]["groups"] for x in g["rules"]}
want = {"EmotopSourceDown", "EmotopMetricsStale", "EmotopClassMoodNegative", "EmotopNoFaces"}
sys.exit(0 if want <= names else 1)
PY
then ok "Prometheus loads config/emotop.rules.yml"; else no "Prometheus loads config/emotop.rules.yml"; fi

# SIGTERM: the last file says the source is no longer watched
kill -TERM $epid
wait $epid
rc=$?
[ $rc -eq 0 ] && ok "emotop exits 0 on SIGTERM" || no "emotop exits 0 on SIGTERM" "exit $rc" "$(head -c 400 "$T/err")"
wait_q "emotop_source_up{$R}" 'v == 0' 20 && ok "emotop_source_up is 0 after the end" \
	|| no "emotop_source_up is 0 after the end"
ls -a "$T/textfile" >"$T/ls"
[ "$(grep -cv '^\.\.*$' "$T/ls")" -eq 1 ] && ok "no temporary file left" || no "no temporary file left" "$(cat "$T/ls")"
done_tests
