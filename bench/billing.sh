#!/usr/bin/env bash
# billing.sh - billing throughput, two figures:
#   1. the engine alone (lib/billing.c), in memory, one core: bills/s with
#      line labels (bench/billing_engine.c);
#   2. a full run (`xqctl bill`) over N generated houses (default 100,000),
#      each with an electric TOU meter and a water meter whose opening and
#      closing readings are in MariaDB, to written bills, lines and usage;
#      the summary splits the time between compute, DB reads and DB writes.
# Release build (RelWithDebInfo) in build/ unless XQ_BENCH_BUILD says
# otherwise; a throw-away stack in $BUILD/benchbilling, stopped afterwards.
#
#   bash bench/billing.sh        (results printed; copy them into bench/README.md)
#
# Environment: XQ_BENCH_BUILD (default build), XQ_BENCH_HOUSES (default
# 100000, a multiple of 1000), XQ_BENCH_BILLS (engine bills, default 2000000),
# XQ_BENCH_PORT (default 18390; the stack also takes PORT + 10), XQ_BENCH_KEEP=1
# (leave the stack running afterwards, to look at the data or time queries;
# stop it with XQ_VAR=$BUILD/benchbilling bash deploy/stack.sh stop).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$REPO"
BUILD=$(cd "${XQ_BENCH_BUILD:-$REPO/build}" && pwd -P)
HOUSES=${XQ_BENCH_HOUSES:-100000}
BILLS=${XQ_BENCH_BILLS:-2000000}
PORT=${XQ_BENCH_PORT:-18390}
BUILDINGS=$((HOUSES / 1000))

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"

# ---- 1. the engine
# shellcheck disable=SC2046
cc -O2 -g -std=gnu11 -I lib -o "$BUILD/bench_billing_engine" bench/billing_engine.c \
	"$BUILD/lib/libxq.a" $(pkg-config --libs libmariadb libcjson libcurl openssl libargon2) \
	-lfcgi -lpthread -lm
echo "== engine (one core, in memory)"
"$BUILD/bench_billing_engine" "$BILLS"

# ---- 2. a full run from MariaDB
export XQ_VAR="$BUILD/benchbilling" XQ_PORT="$PORT" XQ_BUILD="$BUILD" XQ_FRESH=1 XQ_NO_DEMO=1 \
	XQ_SKIP_BUILD=1 XQ_SKIP_DEPS=1
bash deploy/stack.sh start >/dev/null
[ "${XQ_BENCH_KEEP:-0}" = 1 ] || trap 'XQ_FRESH=0 bash deploy/stack.sh stop >/dev/null' EXIT
export XQ_CONFIG="$XQ_VAR/xiaoqu.conf"
sql() { mariadb -S "$XQ_VAR/run/mysqld.sock" -u xiaoqu -p"$(cat "$XQ_VAR/secrets/db_password")" xiaoqu "$@"; }

echo "== generating $HOUSES houses ($BUILDINGS buildings x 1000), 2 meters and 4 readings each"
t0=$(date +%s.%N)
sql <<SQL
INSERT INTO community (code, name) VALUES ('BENCH', '基准小区');
SET @c = LAST_INSERT_ID();
INSERT INTO building (community_id, name, floors, units)
	SELECT @c, CONCAT(seq, '号楼'), 34, 1 FROM seq_1_to_${BUILDINGS};
INSERT INTO house (building_id, unit_no, room, floor, area_m2, household_size)
	SELECT b.id, '1', CONCAT(s.seq), 1 + s.seq DIV 30, 60 + s.seq MOD 80, 1 + s.seq MOD 5
	FROM building b JOIN seq_1_to_1000 s WHERE b.community_id = @c;
INSERT INTO meter (community_id, house_id, utility, kind, meter_no, digits, installed_at, initial_reading)
	SELECT @c, h.id, u.utility, 'household', CONCAT(IF(u.utility = 'electric', 'BE', 'BW'), h.id),
	       IF(u.utility = 'electric', 6, 5), '2026-01-01', 0
	FROM house h JOIN building b ON b.id = h.building_id
	JOIN (SELECT 'electric' AS utility UNION ALL SELECT 'water') u WHERE b.community_id = @c;
-- opening at 2026-10-01 00:00 +08:00, closing at 2026-11-01 00:00 +08:00
INSERT INTO meter_reading (meter_id, read_at, value, value_peak, value_flat, value_valley)
	SELECT m.id, '2026-09-30 16:00:00', o.v, o.v * 45 DIV 100, o.v * 30 DIV 100, o.v - o.v * 45 DIV 100 - o.v * 30 DIV 100
	FROM meter m JOIN (SELECT id, (id * 7919 MOD 50000) * 1000 AS v FROM meter) o ON o.id = m.id
	WHERE m.community_id = @c AND m.utility = 'electric';
INSERT INTO meter_reading (meter_id, read_at, value, value_peak, value_flat, value_valley)
	SELECT m.id, '2026-10-31 16:00:00', o.v + d.u, o.v * 45 DIV 100 + d.u * 45 DIV 100,
	       o.v * 30 DIV 100 + d.u * 30 DIV 100,
	       o.v - o.v * 45 DIV 100 - o.v * 30 DIV 100 + d.u - d.u * 45 DIV 100 - d.u * 30 DIV 100
	FROM meter m JOIN (SELECT id, (id * 7919 MOD 50000) * 1000 AS v FROM meter) o ON o.id = m.id
	JOIN (SELECT id, (50 + id * 31 MOD 450) * 1000 AS u FROM meter) d ON d.id = m.id
	WHERE m.community_id = @c AND m.utility = 'electric';
INSERT INTO meter_reading (meter_id, read_at, value)
	SELECT m.id, '2026-09-30 16:00:00', (m.id * 104729 MOD 90000) * 1000
	FROM meter m WHERE m.community_id = @c AND m.utility = 'water';
INSERT INTO meter_reading (meter_id, read_at, value)
	SELECT m.id, '2026-10-31 16:00:00', (m.id * 104729 MOD 90000 + 2 + m.id MOD 15) * 1000
	FROM meter m WHERE m.community_id = @c AND m.utility = 'water';
INSERT INTO tariff (community_id, code, name, utility) VALUES (@c, 'BENCH-E', '基准电价', 'electric');
INSERT INTO tariff_version (tariff_id, effective_from, status, rules) VALUES (LAST_INSERT_ID(), '2026-01-01', 'published',
 '{"utility":"electric","basis":"annual","tiers":[{"upto_kwh":2760,"increment":"0"},{"upto_kwh":4800,"increment":"0.05"},{"increment":"0.30"}],"tou":{"model":"A","periods":[{"name":"peak","windows":["08:00-11:00","18:00-22:00"],"price":"0.568"},{"name":"flat","windows":["11:00-18:00"],"price":"0.538"},{"name":"valley","windows":["22:00-08:00"],"price":"0.288"}]}}');
INSERT INTO house_tariff (house_id, utility, tariff_id, valid_from)
	SELECT h.id, 'electric', (SELECT id FROM tariff WHERE code = 'BENCH-E'), '2026-01-01'
	FROM house h JOIN building b ON b.id = h.building_id WHERE b.community_id = @c;
INSERT INTO tariff (community_id, code, name, utility) VALUES (@c, 'BENCH-W', '基准水价', 'water');
INSERT INTO tariff_version (tariff_id, effective_from, status, rules) VALUES (LAST_INSERT_ID(), '2026-01-01', 'published',
 '{"utility":"water","basis":"annual","tiers":[{"upto_m3":216},{"upto_m3":300},{}],"components":[{"name":"water","label":"水费","prices":["1.75","2.70","5.55"]},{"name":"resource","label":"水资源费","price":"0.20"},{"name":"sewage","label":"污水处理费","price":"0.95"}]}');
INSERT INTO house_tariff (house_id, utility, tariff_id, valid_from)
	SELECT h.id, 'water', (SELECT id FROM tariff WHERE code = 'BENCH-W'), '2026-01-01'
	FROM house h JOIN building b ON b.id = h.building_id WHERE b.community_id = @c;
SQL
cid=$(sql -N -e "SELECT id FROM community WHERE code = 'BENCH'")
echo "generated in $(echo "$(date +%s.%N) - $t0" | bc) s"

echo "== xqctl bill --period 2026-10 --community $cid (first run: everything written)"
/usr/bin/time -f "wall %e s, xqctl cpu user %U s sys %S s, max rss %M KiB" \
	"$BUILD/cli/xqctl" bill --period 2026-10 --community "$cid" 2>&1 | grep -v '^xqctl bill: [0-9]'
echo "== the same again (re-run: compares, writes nothing)"
/usr/bin/time -f "wall %e s, xqctl cpu user %U s sys %S s, max rss %M KiB" \
	"$BUILD/cli/xqctl" bill --period 2026-10 --community "$cid" 2>&1 | grep -v '^xqctl bill: [0-9]'
sql -N -e "SELECT CONCAT('rows: ', (SELECT COUNT(*) FROM bill), ' bills, ', (SELECT COUNT(*) FROM bill_line), ' lines, ', (SELECT COUNT(*) FROM bill_usage), ' usage')"
