#!/usr/bin/env bash
# collector.sh - xq-collector figures (docs/collector.md), three of them:
#   1. the spool/batch path into MariaDB: readings/s appended to the spool
#      (fsync'd) and readings/s moved from the spool into meter_reading
#      (xq-collector --bench-store N, on a throw-away stack);
#   2. bus utilisation at 9600 baud: one gateway with 100 DL/T 645 meters,
#      one sweep; air time of the frames / wall time of the sweep;
#   3. gateways one collector sustains: N gateways x 8 meters (xq-metersim
#      from a file), interval 10 s; the share of meter-slots read and the
#      collector's CPU. No database in 2 and 3 (readings go to the spool).
# Release build (RelWithDebInfo) in build/ unless XQ_BENCH_BUILD says otherwise.
#
#   bash bench/collector.sh     (results printed; copy them into bench/README.md)
#
# Environment: XQ_BENCH_BUILD (default build), XQ_BENCH_READINGS (default
# 200000), XQ_BENCH_GATEWAYS (default "100 250 500 1000"), XQ_BENCH_PORT
# (default 18420; the stack also takes PORT + 10 and PORT + 98..100),
# XQ_BENCH_GW_PORT (default 30000: the simulated gateways take GW_PORT ..
# GW_PORT + N), XQ_BENCH_GAPS (default "80 50": inter-frame gaps in ms for 2).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$REPO"
BUILD=$(cd "${XQ_BENCH_BUILD:-$REPO/build}" && pwd -P)
READINGS=${XQ_BENCH_READINGS:-200000}
GATEWAYS=${XQ_BENCH_GATEWAYS:-100 250 500 1000}
PORT=${XQ_BENCH_PORT:-18420}
GW_PORT=${XQ_BENCH_GW_PORT:-30000}
GAPS=${XQ_BENCH_GAPS:-80 50}
TMP=$(mktemp -d /tmp/xq-bench-collector.XXXXXX)
SIM_PID="" COLL_PID=""
ulimit -n 8192 2>/dev/null || true

cleanup() {
	[ -n "$COLL_PID" ] && kill "$COLL_PID" 2>/dev/null
	[ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null
	wait 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"

# ---- 1. spool -> MariaDB
(
	export XQ_VAR="$BUILD/benchcollector" XQ_PORT="$PORT" XQ_BUILD="$BUILD" XQ_FRESH=1 XQ_NO_DEMO=1 \
		XQ_SKIP_BUILD=1 XQ_SKIP_DEPS=1
	bash deploy/stack.sh start >/dev/null
	trap 'XQ_FRESH=0 bash deploy/stack.sh stop >/dev/null' EXIT
	echo "== 1. spool/batch path, $READINGS readings"
	XQ_COLLECTOR_SPOOL_FILE="$TMP/bench.spool" "$BUILD/collector/xq-collector" \
		-c "$XQ_VAR/xiaoqu.conf" --bench-store "$READINGS"
)

# A configuration without a database: the readings stay in the spool.
conf() { # conf INTERVAL_S
	cat >"$TMP/xq.conf" <<EOF
[db]
socket = $TMP/no-such-db.sock
[log]
level = warn
[metersim]
control_port = $((PORT + 199))
baud = 9600
state_file =
[collector]
interval_s = $1
http_port = $((PORT + 198))
spool_file = $TMP/collector.spool
gateways_file = $TMP/gateways.txt
EOF
	rm -f "$TMP/collector.spool"
}

# meters NGW PER [GAP_MS]: files for both programs, DL/T 645 meters from port GW_PORT.
meters() {
	local g m id=0
	: >"$TMP/meters.txt"
	: >"$TMP/gateways.txt"
	for ((g = 0; g < $1; g++)); do
		echo "gateway $((g + 1)) 1 127.0.0.1 $((GW_PORT + g)) dlt645 9600 1000 ${3:-80}" >>"$TMP/gateways.txt"
		for ((m = 0; m < $2; m++)); do
			id=$((id + 1))
			printf '%d dlt645 %012d 6 %d\n' $((GW_PORT + g)) "$id" $((id * 1000)) >>"$TMP/meters.txt"
			printf 'meter %d 1 %d %012d 6\n' "$id" $((g + 1)) "$id" >>"$TMP/gateways.txt"
		done
	done
}

start() {
	XQ_CONFIG="$TMP/xq.conf" "$BUILD/sim/metersim/xq-metersim" -f "$TMP/meters.txt" >"$TMP/sim.log" 2>&1 &
	SIM_PID=$!
	sleep 1
	XQ_CONFIG="$TMP/xq.conf" "$BUILD/collector/xq-collector" >"$TMP/coll.log" 2>&1 &
	COLL_PID=$!
}

stop() {
	kill "$COLL_PID" "$SIM_PID" 2>/dev/null || true
	wait "$COLL_PID" "$SIM_PID" 2>/dev/null || true
	COLL_PID="" SIM_PID=""
}

metric_sum() {
	curl -s "http://127.0.0.1:$((PORT + 198))/metrics" | awk -v k="$1" 'index($0, k) == 1 { s += $2 } END { print s + 0 }'
}

# ---- 2. one bus at 9600 baud
# Two figures per gap: (a) the air time of the frames exchanged over the wall
# time per reading = utilisation of the raw line rate; (b) that against the
# best the protocol timing allows: air / (air + meter turnaround + gap).
# Request: 4 FE + 16 bytes; block reply: 12 + 4 DI + 20 value bytes (0x0001FF00);
# the simulator paces 10 bits a byte (8N1; a real 645 bus is 8E1, 11 bits).
echo "== 2. one bus, 100 DL/T 645 meters, 9600 baud, block read of total + 4 rates"
for gap in $GAPS; do
	conf 600
	meters 1 100 "$gap"
	start
	t0=$(date +%s.%N)
	while [ "$(metric_sum 'xq_collector_polls_total{gateway="1",result="ok"}')" -lt 100 ]; do sleep 0.05; done
	t1=$(date +%s.%N)
	stop
	awk -v t0="$t0" -v t1="$t1" -v gap="$gap" 'BEGIN {
		sweep = t1 - t0; air = (20 + 36) * 10 / 9600; wall = sweep / 100; best = air + 0.020 + gap / 1000;
		printf "gap %d ms: sweep of 100 meters %.2f s; per reading: frames %.1f ms on the wire, %.1f ms wall\n",
			gap, sweep, air * 1000, wall * 1000;
		printf "  (a) line utilisation %.0f%% (%.1f of %.1f readings/s the raw line would carry)\n",
			100 * air / wall, 1 / wall, 1 / air;
		printf "  (b) protocol-timing maximum %.0f%% (20 ms turnaround + %d ms gap): achieved %.0f%% of it\n",
			100 * air / best, gap, 100 * best / wall }'
done

# ---- 3. gateways per collector
echo "== 3. N gateways x 8 meters, interval 10 s, two slots"
for n in $GATEWAYS; do
	conf 10
	meters "$n" 8
	start
	# measure two whole slots from mid-slot (a slot's sweep of 8 meters takes ~1.3 s)
	sleep $((10 - $(date +%s) % 10 + 5))
	okr0=$(curl -s "http://127.0.0.1:$((PORT + 198))/metrics" | grep 'result="ok"' | awk '{ s += $2 } END { print s + 0 }')
	cpu0=$(awk '{ print $14 + $15 }' "/proc/$COLL_PID/stat")
	sleep 20
	okr1=$(curl -s "http://127.0.0.1:$((PORT + 198))/metrics" | grep 'result="ok"' | awk '{ s += $2 } END { print s + 0 }')
	cpu1=$(awk '{ print $14 + $15 }' "/proc/$COLL_PID/stat")
	stop
	awk -v n="$n" -v a="$okr0" -v b="$okr1" -v c0="$cpu0" -v c1="$cpu1" -v hz="$(getconf CLK_TCK)" 'BEGIN {
		want = n * 8 * 2;
		printf "%5d gateways, %5d meters: %6d of %6d meter-slots read (%.1f%%), collector CPU %.1f%%\n",
			n, n * 8, b - a, want, 100 * (b - a) / want, 100 * (c1 - c0) / hz / 20 }'
done
