#!/bin/sh
# A FUMO campaign over `omadm sim` devices, in separate processes, with
# `omadm serve` killed (SIGKILL) once KILL_AT devices are done and restarted
# on the same data directory. Prints the campaign's end, the device
# completion percentiles and the accounting checks from the database.
#
#   scripts/bench-campaign-kill.sh BIN DEVICES [KILL_AT]
#
# BIN is an omadm binary (go build -o /tmp/omadm ./cmd/omadm); KILL_AT
# defaults to a third of DEVICES, 0 runs without a kill. Needs sqlite3.
# Everything runs on 127.0.0.1; the data goes to a temporary directory
# (the devices' FUMO state to /dev/shm when present).
set -eu
BIN=$1
N=$2
KILL_AT=${3:-$((N / 3))}
PORT=${PORT:-18481}
WORK=$(mktemp -d /tmp/omadm-kill-XXXXXX)
SIMTMP=$WORK
[ -d /dev/shm ] && SIMTMP=$(mktemp -d /dev/shm/omadm-kill-sim-XXXXXX)
SERVER=http://127.0.0.1:$PORT
SOCKS=$(( (N + 199) / 200 ))
SERVE_PID= SIM_PID=
cleanup() {
	[ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null || true
	[ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$SIMTMP"
}
trap cleanup EXIT
serve() {
	"$BIN" serve --listen 127.0.0.1:$PORT --data "$WORK/data" --log-level warn \
		--max-conns 16384 --max-conns-per-addr -1 --campaign-interval 200ms --campaign-lease 5s --op-sweep 1s \
		>>"$WORK/serve.log" 2>&1 &
	SERVE_PID=$!
	for _ in $(seq 1 100); do
		curl -fs "$SERVER/healthz" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "serve did not start" >&2
	exit 1
}
ctl() { "$BIN" ctl --server "$SERVER" --token "$(cat "$WORK/data/api-token")" "$@"; }
done_count() { ctl campaign get "$1" -o json | sed -n 's/.*"done": *\([0-9]*\).*/\1/p' | head -1; }

serve
echo "serve pid $SERVE_PID; load: $(cat /proc/loadavg)"
t0=$(date +%s)
TMPDIR=$SIMTMP "$BIN" sim --server "$SERVER" --devices "$N" --enroll --api-token "$(cat "$WORK/data/api-token")" \
	--notify-listen 127.0.0.1:0 --notify-sockets "$SOCKS" --duration 60m --interval 24h --concurrency 512 \
	--scomo=false >"$WORK/sim.out" 2>"$WORK/sim.err" &
SIM_PID=$!
until grep -q "enrolled $N devices" "$WORK/sim.err" 2>/dev/null; do
	kill -0 "$SIM_PID" || { cat "$WORK/sim.err"; exit 1; }
	sleep 1
done
echo "sim pid $SIM_PID: enrolled $N devices in $(($(date +%s) - t0)) s"
start=$(date +%s.%N)
ID=$(ctl campaign create --name kill --mo fumo --param pkg_url=http://fw.example/v2.bin --all \
	--waves 1%,10% --max-in-flight 1000 --notify-rate 500 --max-failure-percent 5 \
	--renotify-interval 20s --op-timeout 3m -o json |
	sed -n 's/^  "id": *\([0-9]*\).*/\1/p' | head -1)
echo "campaign $ID created"
if [ "$KILL_AT" -gt 0 ]; then
	while [ "$(done_count "$ID")" -lt "$KILL_AT" ]; do sleep 0.5; done
	kill -9 "$SERVE_PID"
	wait "$SERVE_PID" 2>/dev/null || true
	echo "killed serve at $(date -u +%T) with $(sqlite3 "$WORK/data/omadm.db" "SELECT count(*) FROM campaign_devices WHERE state IN ('succeeded','failed','timed_out')") devices done; restarting"
	serve
fi
ctl campaign get "$ID" --wait 60m >/dev/null || true # non-zero when not every device succeeded
end=$(date +%s.%N)
echo "campaign over in $(echo "$end - $start" | bc) s; load: $(cat /proc/loadavg)"
ctl campaign get "$ID"
DB=$WORK/data/omadm.db
sqlite3 "$DB" <<SQL
.mode list
SELECT 'operations ' || count(*) || ', devices with one ' || count(DISTINCT device_id) FROM operations;
SELECT 'devices with more than one operation: ' || count(*) FROM (SELECT device_id FROM operations GROUP BY device_id HAVING count(*) > 1);
SELECT 'campaign targets by state: ' || group_concat(state || '=' || n, ' ') FROM (SELECT state, count(*) n FROM campaign_devices GROUP BY state);
SELECT 're-notified (package 0 sent again after no answer): ' || count(*) FROM campaign_devices WHERE notifies > 1;
WITH t AS (SELECT (done_at - created_at) / 1000.0 AS ms FROM operations WHERE done_at IS NOT NULL),
     o AS (SELECT ms, row_number() OVER (ORDER BY ms) AS r, count(*) OVER () AS c FROM t)
SELECT 'completion ms p50 ' || (SELECT printf('%.0f', ms) FROM o WHERE r = (c + 1) / 2) ||
       ' p99 ' || (SELECT printf('%.0f', ms) FROM o WHERE r = (c * 99 + 99) / 100) ||
       ' max ' || (SELECT printf('%.0f', max(ms)) FROM o);
SQL
echo "sim: $(tail -3 "$WORK/sim.err" | tr '\n' ' ')"
echo "work dir $WORK"
