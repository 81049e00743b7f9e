#!/usr/bin/env bash
# api.sh - HTTP throughput and latency of xq-api through nginx, measured with
# wrk on loopback against a throw-away stack with the demo data (200 houses,
# ~97k readings). Release build (RelWithDebInfo), not the sanitizer build.
#
#   bash bench/api.sh            (results printed; copy them into bench/README.md)
#
# Environment: XQ_BENCH_PORT (default 18180), XQ_BENCH_SECONDS (default 10),
# XQ_BENCH_CONN (default "8 32"). Stops its stack when done.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$REPO"
PORT=${XQ_BENCH_PORT:-18180}
SECS=${XQ_BENCH_SECONDS:-10}
CONNS=${XQ_BENCH_CONN:-8 32}
export XQ_VAR="$REPO/build/benchstack" XQ_PORT="$PORT" XQ_BUILD="$REPO/build" XQ_FRESH=1
command -v wrk >/dev/null || { echo "bench: installing wrk" >&2; DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null; }
bash deploy/stack.sh start >/dev/null
trap 'XQ_FRESH=0 bash deploy/stack.sh stop >/dev/null' EXIT
BASE="http://127.0.0.1:$PORT"

jar=$(mktemp)
curl -fsS -c "$jar" -H 'Content-Type: application/json' \
	-d '{"username":"admin","password":"Xiaoqu@2026"}' "$BASE/admin/api/v1/auth/login" >/dev/null
cookie="xq_sid=$(awk '$6 == "xq_sid" {print $7}' "$jar")"
rm -f "$jar"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "xq-api threads: $(grep -E '^api.threads' "$XQ_VAR/xiaoqu.conf" | cut -d= -f2 || echo 8), wrk ${SECS}s per row"
printf '%-46s %5s %10s %9s %9s %9s\n' route conns req/s p50 p99 errors
run() { # run NAME CONNS URL [HEADER]
	local out
	out=$(wrk -t2 -c"$2" -d"${SECS}s" --latency ${4:+-H "$4"} "$3" 2>&1)
	printf '%-46s %5s %10s %9s %9s %9s\n' "$1" "$2" \
		"$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
		"$(awk '$1 == "50%" {print $2}' <<<"$out")" \
		"$(awk '$1 == "99%" {print $2}' <<<"$out")" \
		"$(awk '/Non-2xx/ {print $4}' <<<"$out" | grep . || echo 0)"
}
for c in $CONNS; do
	run "GET /healthz (DB round trip)" "$c" "$BASE/healthz"
	run "GET /admin/api/v1/houses?page_size=20" "$c" "$BASE/admin/api/v1/houses?page_size=20" "Cookie: $cookie"
	run "GET /admin/api/v1/meters?page_size=50" "$c" "$BASE/admin/api/v1/meters?page_size=50" "Cookie: $cookie"
done
