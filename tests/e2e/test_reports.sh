#!/usr/bin/env bash
# test_reports.sh - GET /admin/api/v1/reports/* through nginx on the test
# stack (issue 8 part 4, docs/reports.md). Plants a community of its own with
# straight SQL: monthly rollups, bills, payments with their ledger entries, a
# refund, late-fee entries, a supply meter over sub-meters, silent smart
# meters with an open meter_offline alert; then asserts every report's
# figures exactly, that report totals equal the ledger's and the bills'
# sums, that the .xlsx variants carry Chinese headers and money as numbers
# in yuan, bounded inputs (400) and the report.read permission (403 for a
# reader). Prints a tally.
set -uo pipefail
pass=0 fail=0
check() { if eval "$1"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1" >&2; fi; }
: "${XQ_VAR:?}" "${XQ_TEST_URL:?}" "${XQ_BUILD:?}"
A=$XQ_TEST_URL/admin/api/v1
if [ "$(id -u)" -eq 0 ]; then DBU=root; else DBU=$(id -un); fi
sql() { mariadb --defaults-file="$XQ_VAR/my.cnf" -u "$DBU" -N -B xiaoqu "$@"; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
J=$T/cookies
jget() { python3 -c 'import sys,json; d=json.load(sys.stdin)
for k in sys.argv[1].split("."): d=d[int(k)] if isinstance(d,list) else d[k]
print(d if not isinstance(d,(dict,list)) else json.dumps(d,separators=(",",":"),ensure_ascii=False))' "$1"; }

code=$(curl -s -o /dev/null -w '%{http_code}' "$A/reports/usage")
check "[ $code = 401 ]"

curl -s -c "$J" -H 'Content-Type: application/json' \
	-d '{"username":"admin","password":"Xiaoqu@2026"}' "$A/auth/login" >"$T/login.json"
CSRF=$(jget csrf_token <"$T/login.json")
post() { curl -s -b "$J" -H 'Content-Type: application/json' -H "X-CSRF-Token: $CSRF" -d "$2" "$A$1"; }
get() { curl -s -b "$J" "$A$1"; }

tag=$$$RANDOM
CID=$(post /communities "{\"code\":\"RPT$tag\",\"name\":\"报表测试$tag\"}" | jget id)
B1=$(post /buildings "{\"community_id\":$CID,\"name\":\"1号楼\"}" | jget id)
B2=$(post /buildings "{\"community_id\":$CID,\"name\":\"2号楼\"}" | jget id)
H1=$(post /houses "{\"building_id\":$B1,\"unit_no\":\"1\",\"room\":\"101\"}" | jget id)
H2=$(post /houses "{\"building_id\":$B1,\"unit_no\":\"1\",\"room\":\"102\"}" | jget id)
H3=$(post /houses "{\"building_id\":$B2,\"unit_no\":\"1\",\"room\":\"201\"}" | jget id)
mk() { post /meters "{\"community_id\":$CID,$1,\"meter_no\":\"$2$tag\",\"installed_at\":\"2023-01-01\"}" | jget id; }
S=$(mk '"utility":"electric","kind":"supply"' RS)
E1=$(mk "\"utility\":\"electric\",\"house_id\":$H1" RE1)
E2=$(mk "\"utility\":\"electric\",\"house_id\":$H2" RE2)
E3=$(mk "\"utility\":\"electric\",\"house_id\":$H3" RE3)
W1=$(mk "\"utility\":\"water\",\"house_id\":$H1" RW1)
check "[ -n '$S' ] && [ -n '$E1' ] && [ -n '$E2' ] && [ -n '$E3' ] && [ -n '$W1' ]"
STAFF=$(sql -e "SELECT id FROM staff_user WHERE username = 'admin'")

sql -e "
UPDATE meter SET parent_meter_id = $S WHERE id IN ($E1, $E2);
UPDATE meter SET smart = 1 WHERE id IN ($E1, $E2, $E3);
INSERT INTO meter_usage_monthly (meter_id, month, usage_total, days, last_read_at) VALUES
 ($E1, '2024-01', 100000, 31, '2024-01-31 15:00:00'),
 ($E1, '2024-02', 200000, 29, UTC_TIMESTAMP(3) - INTERVAL 1 HOUR),
 ($E2, '2024-01', 50000, 31, UTC_TIMESTAMP(3) - INTERVAL 10 DAY),
 ($E3, '2024-01', 30000, 31, NULL),
 ($W1, '2024-01', 7000, 31, NULL),
 ($S, '2024-01', 200000, 31, NULL), ($S, '2024-02', 210000, 29, NULL);
INSERT INTO alert (community_id, kind, level, meter_id, message, dedup_key) VALUES
 ($CID, 'meter_offline', 'warning', $E2, '表计离线', 'rpt:off:$tag'),
 ($CID, 'meter_offline', 'warning', $E1, '表计离线', 'rpt:off1:$tag');
UPDATE alert SET status = 'closed' WHERE dedup_key = 'rpt:off1:$tag';
INSERT INTO bill (house_id, period, utility, status, amount_fen, paid_fen, late_fee_fen, due_date, issued_at, paid_at) VALUES
 ($H1, '2024-01', 'electric', 'issued', 10000, 4000, 0, '2024-06-20', '2024-02-01', NULL),
 ($H2, '2024-01', 'electric', 'issued', 5000, 0, 300, '2024-04-30', '2024-02-01', NULL),
 ($H3, '2024-01', 'electric', 'issued', 8000, 0, 0, '2023-12-01', '2024-02-01', NULL),
 ($H1, '2024-01', 'water', 'paid', 2000, 2150, 150, '2024-01-15', '2024-01-05', '2024-02-10 02:00:00'),
 ($H3, '2024-02', 'electric', 'issued', 1000, 0, 0, '2024-07-15', '2024-03-01', NULL),
 ($H2, '2024-02', 'electric', 'issued', 4000, 0, 0, '2024-03-01', '2024-03-01', NULL);
INSERT INTO bill (house_id, period, utility, status, amount_fen, due_date, issued_at, voided_at, void_reason)
 VALUES ($H2, '2024-01', 'water', 'void', 99999, '2024-02-01', '2024-02-01', NOW(), '测试作废');
INSERT INTO account (house_id) SELECT h.id FROM house h WHERE h.id IN ($H1, $H2, $H3)
 AND NOT EXISTS (SELECT 1 FROM account a WHERE a.house_id = h.id);
INSERT INTO payment (house_id, channel, purpose, amount_fen, external_ref, status, paid_at) VALUES
 ($H1, 'wechat', 'bill', 4000, 'rp1$tag', 'success', '2024-03-01 15:59:59'),
 ($H1, 'cash', 'bill', 2150, 'rp2$tag', 'success', '2024-03-01 16:00:00'),
 ($H2, 'wechat', 'bill', 1000, 'rp3$tag', 'success', '2024-02-29 15:59:59'),
 ($H3, 'bank', 'bill', 500, 'rp4$tag', 'reversed', '2024-03-02 01:00:00');
INSERT INTO ledger_entry (account_id, kind, amount_fen, idem_key, payment_id)
 SELECT a.id, 'payment', p.amount_fen, CONCAT('rpt:pay:', p.id), p.id FROM payment p
 JOIN account a ON a.house_id = p.house_id WHERE p.external_ref LIKE 'rp_$tag';
INSERT INTO refund (out_refund_no, payment_id, house_id, amount_fen, state, success_at)
 SELECT 'rr$tag', p.id, p.house_id, 1000, 'success', '2024-03-02 02:00:00' FROM payment p
 WHERE p.external_ref = 'rp1$tag';
INSERT INTO ledger_entry (account_id, kind, amount_fen, idem_key, payment_id, refund_id)
 SELECT a.id, 'refund', -r.amount_fen, CONCAT('rpt:ref:', r.id), r.payment_id, r.id FROM refund r
 JOIN account a ON a.house_id = r.house_id WHERE r.out_refund_no = 'rr$tag';
INSERT INTO late_fee_entry (bill_id, kind, day, amount_fen, cum_fen, idem_key, staff_id)
 SELECT b.id, x.kind, x.day, x.amt, x.cum, CONCAT('rpt:', b.id, ':', x.day, ':', x.kind), x.st
 FROM bill b JOIN (
  SELECT $H2 AS h, 'electric' AS u, 'accrue' AS kind, DATE '2024-05-01' AS day, 100 AS amt, 100 AS cum, NULL AS st
  UNION ALL SELECT $H2, 'electric', 'accrue', '2024-05-02', 100, 200, NULL
  UNION ALL SELECT $H2, 'electric', 'accrue', '2024-06-01', 100, 300, NULL
  UNION ALL SELECT $H1, 'water', 'accrue', '2024-01-16', 150, 150, NULL
  UNION ALL SELECT $H3, 'electric', 'accrue', '2024-05-10', 50, 50, NULL
  UNION ALL SELECT $H3, 'electric', 'waive', '2024-05-15', -50, 0, $STAFF) x
 ON b.house_id = x.h AND b.utility = x.u AND b.period = '2024-01';"
check "[ $? -eq 0 ]"
C="community_id=$CID"

# ---- usage (meter_usage_monthly, household meters only) ----
get "/reports/usage?$C&from=2024-01&to=2024-02" >"$T/u.json"
check "[ \"\$(jget totals.usage_total <'$T/u.json')\" = 387000 ]"
check "[ \"\$(jget totals.rows <'$T/u.json')\" = 3 ]"
check "[ \"\$(jget rows.0.month <'$T/u.json')\" = 2024-01 ] && [ \"\$(jget rows.0.utility <'$T/u.json')\" = electric ] && [ \"\$(jget rows.0.usage_total <'$T/u.json')\" = 180000 ] && [ \"\$(jget rows.0.meters <'$T/u.json')\" = 3 ]"
get "/reports/usage?$C&from=2024-01&to=2024-01&group=building&utility=electric" >"$T/ub.json"
check "[ \"\$(jget rows.0.group_id <'$T/ub.json')\" = $B1 ] && [ \"\$(jget rows.0.usage_total <'$T/ub.json')\" = 150000 ] && [ \"\$(jget rows.1.usage_total <'$T/ub.json')\" = 30000 ]"
get "/reports/usage?$C&from=2024-01&to=2024-02&group=house&utility=water" >"$T/uh.json"
check "[ \"\$(jget totals.rows <'$T/uh.json')\" = 1 ] && [ \"\$(jget rows.0.group_id <'$T/uh.json')\" = $H1 ] && [ \"\$(jget rows.0.usage_total <'$T/uh.json')\" = 7000 ]"
# the report equals the rollup table's own sum (supply meter excluded)
check "[ \"\$(sql -e \"SELECT SUM(u.usage_total) FROM meter_usage_monthly u JOIN meter m ON m.id = u.meter_id WHERE m.community_id = $CID AND m.kind = 'household' AND u.month BETWEEN '2024-01' AND '2024-02'\")\" = \"\$(jget totals.usage_total <'$T/u.json')\" ]"

# ---- billing: billed vs collected ----
get "/reports/billing?$C&from=2024-01&to=2024-02" >"$T/b.json"
check "[ \"\$(jget rows.0.bills <'$T/b.json')\" = 4 ] && [ \"\$(jget rows.0.billed_fen <'$T/b.json')\" = 25000 ] && [ \"\$(jget rows.0.paid_fen <'$T/b.json')\" = 6150 ] && [ \"\$(jget rows.0.rate_permille <'$T/b.json')\" = 246 ]"
check "[ \"\$(jget rows.1.billed_fen <'$T/b.json')\" = 5000 ] && [ \"\$(jget rows.1.rate_permille <'$T/b.json')\" = 0 ]"
check "[ \"\$(jget totals.billed_fen <'$T/b.json')\" = \"\$(sql -e \"SELECT SUM(b.amount_fen) FROM bill b JOIN house h ON h.id = b.house_id JOIN building bd ON bd.id = h.building_id WHERE bd.community_id = $CID AND b.status <> 'void' AND b.period BETWEEN '2024-01' AND '2024-02'\")\" ]"
check "[ \"\$(jget totals.billed_fen <'$T/b.json')\" = 30000 ] && [ \"\$(jget totals.paid_fen <'$T/b.json')\" = 6150 ]"
get "/reports/billing?$C&from=2024-01&to=2024-01&group=building" >"$T/bb.json"
check "[ \"\$(jget totals.rows <'$T/bb.json')\" = 2 ] && [ \"\$(jget rows.0.group_id <'$T/bb.json')\" = $B1 ] && [ \"\$(jget rows.0.billed_fen <'$T/bb.json')\" = 17000 ]"

# ---- arrears ageing as of 2024-06-30 ----
get "/reports/arrears-ageing?$C&as_of=2024-06-30" >"$T/a.json"
check "[ \"\$(jget rows.0.bills <'$T/a.json')\" = 5 ] && [ \"\$(jget rows.0.houses <'$T/a.json')\" = 3 ]"
check "[ \"\$(jget rows.0.not_due_fen <'$T/a.json')\" = 1000 ] && [ \"\$(jget rows.0.d1_30_fen <'$T/a.json')\" = 6000 ] && [ \"\$(jget rows.0.d31_90_fen <'$T/a.json')\" = 5300 ] && [ \"\$(jget rows.0.d91_180_fen <'$T/a.json')\" = 4000 ] && [ \"\$(jget rows.0.over_180_fen <'$T/a.json')\" = 8000 ]"
check "[ \"\$(jget rows.0.owed_fen <'$T/a.json')\" = 24300 ] && [ \"\$(jget rows.0.max_days <'$T/a.json')\" = 212 ]"
get "/reports/arrears-ageing?$C&as_of=2024-06-30&group=house" >"$T/ah.json"
check "[ \"\$(jget totals.rows <'$T/ah.json')\" = 3 ] && [ \"\$(jget rows.0.group_id <'$T/ah.json')\" = $H2 ] && [ \"\$(jget rows.0.owed_fen <'$T/ah.json')\" = 9300 ] && [ \"\$(jget totals.owed_fen <'$T/ah.json')\" = 24300 ]"

# ---- payments by Beijing day and channel; refunds netted separately ----
get "/reports/payments?$C&from=2024-03-01&to=2024-03-02" >"$T/p.json"
check "[ \"\$(jget totals.rows <'$T/p.json')\" = 3 ]"
check "[ \"\$(jget rows.0.day <'$T/p.json')\" = 2024-03-01 ] && [ \"\$(jget rows.0.channel <'$T/p.json')\" = wechat ] && [ \"\$(jget rows.0.paid_fen <'$T/p.json')\" = 4000 ]"
check "[ \"\$(jget rows.1.channel <'$T/p.json')\" = cash ] && [ \"\$(jget rows.1.day <'$T/p.json')\" = 2024-03-02 ] && [ \"\$(jget rows.2.refund_fen <'$T/p.json')\" = 1000 ] && [ \"\$(jget rows.2.net_fen <'$T/p.json')\" = -1000 ]"
check "[ \"\$(jget totals.paid_fen <'$T/p.json')\" = 6150 ] && [ \"\$(jget totals.net_fen <'$T/p.json')\" = 5150 ]"
# report totals = ledger totals for the same Beijing days
LP=$(sql -e "SELECT SUM(le.amount_fen) FROM ledger_entry le JOIN payment p ON p.id = le.payment_id JOIN house h ON h.id = p.house_id JOIN building bd ON bd.id = h.building_id WHERE le.kind = 'payment' AND p.status = 'success' AND bd.community_id = $CID AND p.paid_at >= '2024-02-29 16:00:00' AND p.paid_at < '2024-03-02 16:00:00'")
LR=$(sql -e "SELECT -SUM(le.amount_fen) FROM ledger_entry le JOIN refund r ON r.id = le.refund_id JOIN house h ON h.id = r.house_id JOIN building bd ON bd.id = h.building_id WHERE le.kind = 'refund' AND bd.community_id = $CID AND r.success_at >= '2024-02-29 16:00:00' AND r.success_at < '2024-03-02 16:00:00'")
check "[ \"\$(jget totals.paid_fen <'$T/p.json')\" = '$LP' ] && [ \"\$(jget totals.refund_fen <'$T/p.json')\" = '$LR' ]"
get "/reports/payments?$C&from=2024-02-29&to=2024-02-29" >"$T/p2.json"
check "[ \"\$(jget totals.paid_fen <'$T/p2.json')\" = 1000 ]"

# ---- late fees by month ----
get "/reports/late-fees?$C&from=2024-01&to=2024-06" >"$T/l.json"
check "[ \"\$(jget totals.accrued_fen <'$T/l.json')\" = 500 ] && [ \"\$(jget totals.waived_fen <'$T/l.json')\" = 50 ] && [ \"\$(jget totals.collected_fen <'$T/l.json')\" = 150 ]"
check "[ \"\$(jget rows.0.month <'$T/l.json')\" = 2024-01 ] && [ \"\$(jget rows.0.accrued_fen <'$T/l.json')\" = 150 ] && [ \"\$(jget rows.1.month <'$T/l.json')\" = 2024-02 ] && [ \"\$(jget rows.1.collected_fen <'$T/l.json')\" = 150 ] && [ \"\$(jget rows.2.month <'$T/l.json')\" = 2024-05 ] && [ \"\$(jget rows.2.accrued_fen <'$T/l.json')\" = 250 ]"
check "[ \"\$(jget totals.accrued_fen <'$T/l.json')\" = \"\$(sql -e \"SELECT SUM(e.amount_fen) FROM late_fee_entry e WHERE e.kind = 'accrue' AND e.idem_key LIKE 'rpt:%' AND e.bill_id IN (SELECT b.id FROM bill b WHERE b.house_id IN ($H1, $H2, $H3))\")\" ]"

# ---- line loss per supply meter and month ----
get "/reports/line-loss?$C&from=2024-01&to=2024-02" >"$T/ll.json"
check "[ \"\$(jget totals.rows <'$T/ll.json')\" = 2 ] && [ \"\$(jget rows.0.meter_id <'$T/ll.json')\" = $S ]"
check "[ \"\$(jget rows.0.sub_usage <'$T/ll.json')\" = 150000 ] && [ \"\$(jget rows.0.loss_usage <'$T/ll.json')\" = 50000 ] && [ \"\$(jget rows.0.loss_pct_x100 <'$T/ll.json')\" = 2500 ] && [ \"\$(jget rows.0.sub_meters_reporting <'$T/ll.json')\" = 2 ]"
check "[ \"\$(jget rows.1.loss_usage <'$T/ll.json')\" = 10000 ] && [ \"\$(jget rows.1.loss_pct_x100 <'$T/ll.json')\" = 476 ] && [ \"\$(jget rows.1.sub_meters_reporting <'$T/ll.json')\" = 1 ]"

# ---- top consumers ----
get "/reports/top-consumers?$C&from=2024-01&to=2024-02&utility=electric&limit=2" >"$T/t.json"
check "[ \"\$(jget totals.rows <'$T/t.json')\" = 2 ] && [ \"\$(jget rows.0.house_id <'$T/t.json')\" = $H1 ] && [ \"\$(jget rows.0.usage_total <'$T/t.json')\" = 300000 ] && [ \"\$(jget rows.1.house_id <'$T/t.json')\" = $H2 ]"

# ---- meters offline: no reading for 3 days ----
get "/reports/meters-offline?$C&days=3" >"$T/o.json"
check "[ \"\$(jget totals.rows <'$T/o.json')\" = 2 ] && [ \"\$(jget rows.0.meter_id <'$T/o.json')\" = $E3 ] && [ \"\$(jget rows.1.meter_id <'$T/o.json')\" = $E2 ] && [ \"\$(jget rows.1.open_alerts <'$T/o.json')\" = 1 ] && [ \"\$(jget totals.open_alerts <'$T/o.json')\" = 1 ]"
get "/reports/meters-offline?$C&days=30" >"$T/o2.json"
check "[ \"\$(jget totals.rows <'$T/o2.json')\" = 1 ]"

# ---- xlsx variants: the same rows, Chinese headers, money as yuan numbers ----
export_get() { curl -s -b "$J" -D "$2.h" -o "$2" -w '%{http_code}' "$A$1"; }
code=$(export_get "/reports/billing.xlsx?$C&from=2024-01&to=2024-02" "$T/b.xlsx")
check "[ $code = 200 ] && unzip -tq '$T/b.xlsx' >/dev/null"
check "grep -qi 'filename=\"billing-report-[0-9]\{8\}.xlsx\"' '$T/b.xlsx.h'"
unzip -p "$T/b.xlsx" xl/worksheets/sheet1.xml >"$T/b.xml" 2>/dev/null
check "grep -q '<t>应收金额(元)</t>' '$T/b.xml' && grep -q '<t>实收金额(元)</t>' '$T/b.xml'"
check "grep -Eq '<v>250</v>' '$T/b.xml' && grep -Eq '<v>61.5</v>' '$T/b.xml'"
check "[ \"\$(grep -o '<row ' '$T/b.xml' | wc -l)\" = 3 ]"
code=$(export_get "/reports/payments.xlsx?$C&from=2024-03-01&to=2024-03-02" "$T/p.xlsx")
unzip -p "$T/p.xlsx" xl/worksheets/sheet1.xml >"$T/p.xml" 2>/dev/null
check "[ $code = 200 ] && grep -q '<t>微信支付</t>' '$T/p.xml' && grep -q '<t>净收金额(元)</t>' '$T/p.xml' && grep -Eq '<v>21.5</v>' '$T/p.xml' && grep -Eq '<v>-10</v>' '$T/p.xml'"
for r in "usage?$C&from=2024-01&to=2024-02" "arrears-ageing?$C&as_of=2024-06-30" \
	"late-fees?$C&from=2024-01&to=2024-06" "line-loss?$C&from=2024-01&to=2024-02" \
	"top-consumers?$C&from=2024-01&to=2024-02" "meters-offline?$C"; do
	name=${r%%\?*}
	code=$(export_get "/reports/$name.xlsx?${r#*\?}" "$T/x.xlsx")
	check "[ $code = 200 ] && unzip -tq '$T/x.xlsx' >/dev/null"
done
unzip -p "$T/x.xlsx" xl/worksheets/sheet1.xml | grep -q '<t>最后抄表时间</t>'
check "[ $? -eq 0 ]"

# ---- bounded inputs ----
for q in "usage?from=2024-13" "usage?from=2020-01&to=2024-01" "usage?from=2024-03&to=2024-01" \
	"usage?group=floor" "billing?group=house" "usage?utility=gas" "payments?from=2024-01-01" \
	"payments?from=2024-02-30&to=2024-03-01" "payments?from=2023-01-01&to=2024-03-01" \
	"arrears-ageing?as_of=yesterday" "top-consumers?limit=0" "top-consumers?limit=1001" \
	"meters-offline?days=0" "usage?community_id=abc" "payments.xlsx?from=x&to=y"; do
	code=$(curl -s -b "$J" -o "$T/e.json" -w '%{http_code}' "$A/reports/$q")
	check "[ $code = 400 ] && grep -q 'INVALID_ARGUMENT' '$T/e.json'"
done

# ---- permission: a reader has no report.read ----
PW='Rpt@2026xq'
XQ_ADMIN_PASSWORD=$PW XQ_CONFIG=$XQ_VAR/xiaoqu.conf "$XQ_BUILD/cli/xqctl" create-staff rpt$tag --role reader >/dev/null 2>&1
curl -s -c "$T/rj" -H 'Content-Type: application/json' \
	-d "{\"username\":\"rpt$tag\",\"password\":\"$PW\"}" "$A/auth/login" >/dev/null
code=$(curl -s -b "$T/rj" -o "$T/e.json" -w '%{http_code}' "$A/reports/billing?$C")
check "[ $code = 403 ]"
code=$(curl -s -b "$T/rj" -o /dev/null -w '%{http_code}' "$A/reports/payments.xlsx?$C&from=2024-03-01&to=2024-03-02")
check "[ $code = 403 ]"
code=$(curl -s -b "$T/rj" -o /dev/null -w '%{http_code}' "$A/meters?$C")
check "[ $code = 200 ]"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
