#!/usr/bin/env bash
# reports.sh - the console's reports (cgi/admin_report.c) over a year of data
# for N houses (default 10,000): generates, set-based, one community of N/1000
# buildings x 1000 houses, an electric and a water meter per house (smart),
# an electric supply meter per building over its houses' electric meters,
# 12 months of meter_usage_monthly per meter (and December's day rows),
# 24 bills per house (80 % paid, each with a payment and its ledger entry), 10 late-fee accruals per unpaid bill; then times each report's
# JSON through nginx (curl time_total, best of 3), for the whole estate and
# with a community filter.
# Release build (RelWithDebInfo) in build/ (built here if missing); a
# throw-away stack in build/benchreports, stopped afterwards.
#
#   bash bench/reports.sh        (results printed; copy them into bench/README.md)
#
# Environment: XQ_BENCH_HOUSES (default 10000, a multiple of 1000),
# XQ_BENCH_PORT (default 26390; the stack also takes PORT + 10).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$REPO"
BUILD=$REPO/build
HOUSES=${XQ_BENCH_HOUSES:-10000}
PORT=${XQ_BENCH_PORT:-26390}
BUILDINGS=$((HOUSES / 1000))
if [ ! -x "$BUILD/cgi/xq-api" ] || [ ! -x "$BUILD/cli/xqctl" ]; then
	cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$BUILD" -j2 --target xq-api xqctl xq-wxsim xq-collector xq-metersim >/dev/null
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"

export XQ_VAR="$BUILD/benchreports" XQ_PORT="$PORT" XQ_BUILD="$BUILD" XQ_FRESH=1 XQ_NO_DEMO=1 \
	XQ_SKIP_BUILD=1 XQ_SKIP_DEPS=1
bash deploy/stack.sh start >/dev/null
trap 'XQ_FRESH=0 bash deploy/stack.sh stop >/dev/null' EXIT
sql() { mariadb -S "$XQ_VAR/run/mysqld.sock" -u xiaoqu -p"$(cat "$XQ_VAR/secrets/db_password")" xiaoqu "$@"; }

echo "== generating $HOUSES houses, a year of rollups, bills, payments, late fees"
t0=$(date +%s.%N)
sql <<SQL
INSERT INTO community (code, name) VALUES ('RBENCH', '报表基准小区');
SET @c = LAST_INSERT_ID();
INSERT INTO building (community_id, name, floors, units)
	SELECT @c, CONCAT(seq, '号楼'), 34, 1 FROM seq_1_to_${BUILDINGS};
INSERT INTO house (building_id, unit_no, room, floor, area_m2, household_size)
	SELECT b.id, '1', CONCAT(s.seq), 1 + s.seq DIV 30, 60 + s.seq MOD 80, 1 + s.seq MOD 5
	FROM building b JOIN seq_1_to_1000 s WHERE b.community_id = @c;
INSERT INTO meter (community_id, utility, kind, meter_no, digits, installed_at, initial_reading, smart)
	SELECT @c, 'electric', 'supply', CONCAT('RS', b.id), 8, '2025-01-01', 0, 1
	FROM building b WHERE b.community_id = @c;
INSERT INTO meter (community_id, house_id, parent_meter_id, utility, kind, meter_no, digits,
		   installed_at, initial_reading, smart)
	SELECT @c, h.id, IF(u.utility = 'electric', s.id, NULL), u.utility, 'household',
	       CONCAT(IF(u.utility = 'electric', 'RE', 'RW'), h.id), 6, '2025-01-01', 0, 1
	FROM house h JOIN building b ON b.id = h.building_id
	JOIN meter s ON s.meter_no = CONCAT('RS', b.id)
	JOIN (SELECT 'electric' AS utility UNION ALL SELECT 'water') u WHERE b.community_id = @c;
-- 12 month rows per meter (what the reports read), and day rows for December
-- only: no report reads meter_usage_daily, and 7.3 million generated day rows
-- would take longer than the whole benchmark on this machine
INSERT INTO meter_usage_monthly (meter_id, month, usage_total, days, last_read_at, last_value)
	SELECT m.id, CONCAT('2025-', LPAD(p.seq, 2, '0')),
	       IF(m.kind = 'supply', 1000 * 300000, 30 * (8000 + m.id MOD 2000)), 30,
	       TIMESTAMP(LAST_DAY(CONCAT('2025-', LPAD(p.seq, 2, '0'), '-01')), '15:45:00'), p.seq * 300000
	FROM meter m JOIN seq_1_to_12 p WHERE m.community_id = @c
	AND NOT (m.id MOD 97 = 0 AND p.seq > 10); -- some meters fall silent in November
INSERT INTO meter_usage_daily (meter_id, day, first_read_at, last_read_at, last_value, usage_total, readings)
	SELECT m.id, DATE '2025-12-01' + INTERVAL (d.seq - 1) DAY,
	       TIMESTAMP '2025-11-30 16:15:00' + INTERVAL (d.seq - 1) DAY,
	       TIMESTAMP '2025-12-01 15:45:00' + INTERVAL (d.seq - 1) DAY,
	       d.seq * 9000, IF(m.kind = 'supply', 1000 * 9600, 8000 + m.id MOD 2000), 96
	FROM meter m JOIN seq_1_to_31 d WHERE m.community_id = @c AND m.id MOD 97 <> 0;
INSERT INTO bill (house_id, period, utility, status, qty_milli, amount_fen, paid_fen, due_date, issued_at, paid_at)
	SELECT h.id, CONCAT('2025-', LPAD(p.seq, 2, '0')), u.utility,
	       IF((h.id + p.seq) MOD 5 = 0, 'issued', 'paid'), 250000, 5000 + h.id MOD 7000,
	       IF((h.id + p.seq) MOD 5 = 0, 0, 5000 + h.id MOD 7000),
	       LAST_DAY(CONCAT('2025-', LPAD(p.seq, 2, '0'), '-01')) + INTERVAL 15 DAY,
	       LAST_DAY(CONCAT('2025-', LPAD(p.seq, 2, '0'), '-01')) + INTERVAL 1 DAY,
	       IF((h.id + p.seq) MOD 5 = 0, NULL,
		  TIMESTAMP(LAST_DAY(CONCAT('2025-', LPAD(p.seq, 2, '0'), '-01')) + INTERVAL 1 + h.id MOD 14 DAY,
			    SEC_TO_TIME(h.id * 37 MOD 86400)))
	FROM house h JOIN building b ON b.id = h.building_id JOIN seq_1_to_12 p
	JOIN (SELECT 'electric' AS utility UNION ALL SELECT 'water') u WHERE b.community_id = @c;
INSERT INTO account (house_id) SELECT h.id FROM house h JOIN building b ON b.id = h.building_id
	WHERE b.community_id = @c;
INSERT INTO payment (house_id, channel, purpose, amount_fen, external_ref, paid_at)
	SELECT b.house_id, ELT(1 + b.id MOD 3, 'wechat', 'cash', 'bank'), 'bill', b.paid_fen,
	       CONCAT('RB', b.id), b.paid_at FROM bill b WHERE b.status = 'paid';
INSERT INTO ledger_entry (account_id, kind, amount_fen, idem_key, payment_id, created_at)
	SELECT a.id, 'payment', p.amount_fen, CONCAT('rb:pay:', p.id), p.id, p.paid_at
	FROM payment p JOIN account a ON a.house_id = p.house_id;
INSERT INTO late_fee_entry (bill_id, kind, day, amount_fen, cum_fen, idem_key)
	SELECT b.id, 'accrue', b.due_date + INTERVAL d.seq DAY, 5, 5 * d.seq, CONCAT('rb:lf:', b.id, ':', d.seq)
	FROM bill b JOIN seq_1_to_10 d WHERE b.status = 'issued';
UPDATE bill SET late_fee_fen = 50, late_fee_through = due_date + INTERVAL 10 DAY WHERE status = 'issued';
ANALYZE TABLE meter_usage_daily, meter_usage_monthly, bill, payment, ledger_entry, late_fee_entry, meter, house;
SQL
printf 'generated in %.1f s: ' "$(echo "$(date +%s.%N) - $t0" | bc)"
sql -N -e "SELECT CONCAT((SELECT COUNT(*) FROM meter), ' meters, ', (SELECT COUNT(*) FROM meter_usage_daily),
	' daily rows, ', (SELECT COUNT(*) FROM meter_usage_monthly), ' monthly rows, ', (SELECT COUNT(*) FROM bill),
	' bills, ', (SELECT COUNT(*) FROM payment), ' payments, ', (SELECT COUNT(*) FROM late_fee_entry), ' late-fee entries')"
CID=$(sql -N -e "SELECT id FROM community WHERE code = 'RBENCH'")

BASE="http://127.0.0.1:$PORT/admin/api/v1"
jar=$(mktemp)
curl -fsS -c "$jar" -H 'Content-Type: application/json' \
	-d '{"username":"admin","password":"Xiaoqu@2026"}' "$BASE/auth/login" >/dev/null
best() { # best of 3 wall times in ms, plus the status and body size of the last
	local b=999999 t out
	for _ in 1 2 3; do
		out=$(curl -s -b "$jar" -o /dev/null -w '%{http_code} %{size_download} %{time_total}' "$BASE$1")
		t=$(awk '{printf "%d", $3 * 1000}' <<<"$out")
		[ "$t" -lt "$b" ] && b=$t
	done
	printf '%-78s %4s %9s %6d ms\n' "$1" "${out%% *}" "$(cut -d' ' -f2 <<<"$out")" "$b"
}
echo "== reports (JSON, best of 3)"
printf '%-78s %4s %9s %9s\n' report status bytes time
for q in "usage?from=2025-01&to=2025-12" "usage?from=2025-01&to=2025-12&group=building" \
	"usage?from=2025-01&to=2025-03&group=house&community_id=$CID" \
	"billing?from=2025-01&to=2025-12" "billing?from=2025-01&to=2025-12&group=building&community_id=$CID" \
	"arrears-ageing?as_of=2026-01-31" "arrears-ageing?as_of=2026-01-31&group=house" \
	"payments?from=2025-01-01&to=2025-12-31" "payments?from=2025-06-01&to=2025-06-30&community_id=$CID" \
	"late-fees?from=2025-01&to=2025-12" "line-loss?from=2025-01&to=2025-12" \
	"top-consumers?from=2025-01&to=2025-12&utility=electric&limit=100" \
	"meters-offline?days=3" "billing.xlsx?from=2025-01&to=2025-12&group=building"; do
	best "/reports/$q"
done
rm -f "$jar"
