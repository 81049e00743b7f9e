#!/usr/bin/env bash
# notify.sh - WeChat Pay notifications verified and committed per second end
# to end (nginx -> xq-api -> MariaDB), and GET /api/v1/houses/{id}/bills per
# second at 64 connections next to nginx serving a static file of the same
# size (the ceiling), in the same run. Release build (build/, RelWithDebInfo).
#
#   bash bench/notify.sh        (results printed; copy them into bench/README.md)
#
# Environment: XQ_BENCH_PORT (default 22390), XQ_BENCH_NOTIFY (default 5000
# notifications), XQ_BENCH_NOTIFY_CONC (default "16 64"), XQ_BENCH_SECONDS
# (default 10), XQ_API_THREADS (xq-api worker threads, default the config's 8).
# The notifications are signed (platform key) and encrypted (APIv3 key)
# beforehand by bench/notify_load.c with tests/e2e/wxnotify_gen.c, each for
# its own order, so every one is verified, decrypted and credited once.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$REPO"
BUILD=$(cd "${XQ_BENCH_BUILD:-$REPO/build}" && pwd -P)
PORT=${XQ_BENCH_PORT:-22390}
N=${XQ_BENCH_NOTIFY:-5000}
CONCS=${XQ_BENCH_NOTIFY_CONC:-16 64}
SECS=${XQ_BENCH_SECONDS:-10}
command -v wrk >/dev/null || { echo "bench: installing wrk" >&2; DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null; }

# shellcheck disable=SC2046
cc -O2 -g -std=gnu11 -I lib -I tests/e2e -o "$BUILD/bench_notify_load" bench/notify_load.c \
	tests/e2e/wxnotify_gen.c "$BUILD/lib/libxq.a" \
	$(pkg-config --libs libmariadb libcjson libcurl openssl libargon2) -lfcgi -lpthread -lm

export XQ_VAR="$BUILD/benchnotify" XQ_PORT="$PORT" XQ_BUILD="$BUILD" XQ_FRESH=1 XQ_NO_DEMO=1 \
	XQ_SKIP_BUILD=1 XQ_SKIP_DEPS=1
STATIC="$REPO/console/placeholder/bench-bills.json"
bash deploy/stack.sh start >/dev/null
trap 'rm -f "$STATIC"; XQ_FRESH=0 bash deploy/stack.sh stop >/dev/null' EXIT
export XQ_CONFIG="$XQ_VAR/xiaoqu.conf" XQ_URL="http://127.0.0.1:$PORT" \
	XQ_WXSIM_URL="http://127.0.0.1:$((PORT + 10))"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "xq-api threads: ${XQ_API_THREADS:-$(grep -E '^threads' "$XQ_CONFIG" | head -1 | cut -d= -f2 || echo 8)}"
echo "== notifications (each: RSA verify, AES-GCM decrypt, inbox insert, settle transaction)"
for c in $CONCS; do
	"$BUILD/bench_notify_load" notify "$N" "$c" || echo "(not every notification was credited: see above)"
done

echo "== GET /api/v1/houses/{id}/bills (12 bills) vs a static file of the same size, 64 connections, ${SECS}s"
read -r TOKEN HOUSE < <("$BUILD/bench_notify_load" bills "bench$$")
curl -fsS -H "Authorization: Bearer $TOKEN" "$XQ_URL/api/v1/houses/$HOUSE/bills" >"$STATIC"
echo "body: $(stat -c %s "$STATIC") bytes"
printf '%-34s %10s %9s %9s %9s\n' what req/s p50 p99 non-2xx
run() { # run NAME URL [HEADER]
	local out
	out=$(wrk -t2 -c64 -d"${SECS}s" --latency ${3:+-H "$3"} "$2" 2>&1)
	printf '%-34s %10s %9s %9s %9s\n' "$1" \
		"$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
		"$(awk '$1 == "50%" {print $2}' <<<"$out")" \
		"$(awk '$1 == "99%" {print $2}' <<<"$out")" \
		"$(awk '/Non-2xx/ {print $4}' <<<"$out" | grep . || echo 0)"
}
run "static file (nginx ceiling)" "$XQ_URL/bench-bills.json"
run "GET /api/v1/houses/{id}/bills" "$XQ_URL/api/v1/houses/$HOUSE/bills" "Authorization: Bearer $TOKEN"
run "static file again" "$XQ_URL/bench-bills.json"
