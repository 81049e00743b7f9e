#!/usr/bin/env bash
# daily.sh - `xqctl daily` over N generated overdue bills (default 10,000
# houses, one electricity bill each, due 2026-06-20, a resident with a mobile
# number per house so every SMS step goes to the sms_outbox sink), three runs:
#   1. 2026-06-21: day 1 of every bill (late fee + step 1, no WeChat binding: skipped)
#   2. 2026-07-20: 29 missed days caught up per bill + step 3 (a ticket each)
#   3. 2026-07-20 again: nothing to do (idempotent re-run)
# Release build (RelWithDebInfo) in build/ unless XQ_BENCH_BUILD says
# otherwise; a throw-away stack in $BUILD/benchdaily, stopped afterwards.
#
#   bash bench/daily.sh        (results printed; copy them into bench/README.md)
#
# Environment: XQ_BENCH_BUILD (default build), XQ_BENCH_HOUSES (default 10000,
# a multiple of 1000), XQ_BENCH_PORT (default 18490; the stack also takes PORT + 10).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$REPO"
BUILD=$(cd "${XQ_BENCH_BUILD:-$REPO/build}" && pwd -P)
HOUSES=${XQ_BENCH_HOUSES:-10000}
PORT=${XQ_BENCH_PORT:-18490}
BUILDINGS=$((HOUSES / 1000))

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
export XQ_VAR="$BUILD/benchdaily" XQ_PORT="$PORT" XQ_BUILD="$BUILD" XQ_FRESH=1 XQ_NO_DEMO=1 \
	XQ_SKIP_BUILD=1 XQ_SKIP_DEPS=1
bash deploy/stack.sh start >/dev/null
trap 'XQ_FRESH=0 bash deploy/stack.sh stop >/dev/null' EXIT
export XQ_CONFIG="$XQ_VAR/xiaoqu.conf"
sql() { mariadb -S "$XQ_VAR/run/mysqld.sock" -u xiaoqu -p"$(cat "$XQ_VAR/secrets/db_password")" xiaoqu "$@"; }

echo "== generating $HOUSES houses with a resident and an overdue bill each"
sql <<SQL
INSERT INTO community (code, name) VALUES ('BENCHD', '催缴基准小区');
SET @c = LAST_INSERT_ID();
INSERT INTO building (community_id, name) SELECT @c, CONCAT(seq, '号楼') FROM seq_1_to_${BUILDINGS};
INSERT INTO house (building_id, unit_no, room)
	SELECT b.id, '1', CONCAT(s.seq) FROM building b JOIN seq_1_to_1000 s WHERE b.community_id = @c;
INSERT INTO resident (community_id, code, name, mobile)
	SELECT @c, CONCAT('R', h.id), '基准住户', CONCAT('138', LPAD(h.id, 8, '0'))
	FROM house h JOIN building b ON b.id = h.building_id WHERE b.community_id = @c;
INSERT INTO house_resident (house_id, resident_id, relation, move_in)
	SELECT h.id, r.id, 'owner', '2024-01-01' FROM house h JOIN resident r ON r.code = CONCAT('R', h.id)
	AND r.community_id = @c;
INSERT INTO bill (house_id, period, utility, status, amount_fen, issued_at, due_date)
	SELECT h.id, '2026-05', 'electric', 'issued', 5000 + h.id MOD 20000, '2026-06-01', '2026-06-20'
	FROM house h JOIN building b ON b.id = h.building_id WHERE b.community_id = @c;
SQL

run() {
	local t0 t1
	echo "== xqctl daily --date $1"
	t0=$(date +%s.%N)
	"$BUILD/cli/xqctl" daily --date "$1" 2>/dev/null
	t1=$(date +%s.%N)
	printf 'wall %.2f s\n' "$(echo "$t1 - $t0" | bc)"
}
run 2026-06-21
run 2026-07-20
run 2026-07-20
sql -e "SELECT COUNT(*) AS late_fee_rows, SUM(amount_fen) AS fen FROM late_fee_entry;
	SELECT channel, status, COUNT(*) FROM dunning_event GROUP BY channel, status;
	SELECT COUNT(*) AS sms FROM sms_outbox; SELECT COUNT(*) AS tickets FROM ticket"
