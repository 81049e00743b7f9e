#!/usr/bin/env bash
# test_console_api.sh - the console's own routes through nginx on the test
# stack: GET /admin/api/v1/dashboard (counts, the month's billed/collected,
# arrears ageing, usage trend) over a community of its own whose bills and
# monthly usage rows it writes straight into MariaDB, so every figure is
# known; and the Excel exports houses/bills/meters.xlsx: a valid xlsx (zip)
# whose sheet1.xml has the Chinese headers, money as numbers in yuan, the
# list's filters applied, a Chinese RFC 5987 file name; refusals (no
# session 401, bad filters 400). Prints a tally.
set -uo pipefail
pass=0 fail=0
check() { if eval "$1"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1" >&2; fi; }
: "${XQ_VAR:?}" "${XQ_TEST_URL:?}"
A=$XQ_TEST_URL/admin/api/v1
if [ "$(id -u)" -eq 0 ]; then DBU=root; else DBU=$(id -un); fi
sql() { mariadb --defaults-file="$XQ_VAR/my.cnf" -u "$DBU" -N -B xiaoqu "$@"; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
J=$T/cookies
jget() { python3 -c 'import sys,json; d=json.load(sys.stdin)
for k in sys.argv[1].split("."): d=d[int(k)] if isinstance(d,list) else d[k]
print(d if not isinstance(d,(dict,list)) else json.dumps(d))' "$1"; }

code=$(curl -s -o /dev/null -w '%{http_code}' "$A/dashboard")
check "[ $code = 401 ]"
code=$(curl -s -o /dev/null -w '%{http_code}' "$A/houses.xlsx")
check "[ $code = 401 ]"

curl -s -c "$J" -H 'Content-Type: application/json' \
	-d '{"username":"admin","password":"Xiaoqu@2026"}' "$A/auth/login" >"$T/login.json"
CSRF=$(jget csrf_token <"$T/login.json")
check "[ -n '$CSRF' ]"
post() { curl -s -b "$J" -H 'Content-Type: application/json' -H "X-CSRF-Token: $CSRF" -d "$2" "$A$1"; }
get() { curl -s -b "$J" "$A$1"; }

tag=$$$RANDOM
CID=$(post /communities "{\"code\":\"DASH$tag\",\"name\":\"看板测试$tag\"}" | jget id)
BID=$(post /buildings "{\"community_id\":$CID,\"name\":\"1号楼\"}" | jget id)
H1=$(post /houses "{\"building_id\":$BID,\"unit_no\":\"1\",\"room\":\"101\",\"area_m2\":\"89.50\"}" | jget id)
H2=$(post /houses "{\"building_id\":$BID,\"unit_no\":\"1\",\"room\":\"102\",\"status\":\"vacant\"}" | jget id)
M1=$(post /meters "{\"community_id\":$CID,\"utility\":\"electric\",\"house_id\":$H1,\"meter_no\":\"DE$tag\",\"installed_at\":\"2025-01-01\",\"initial_reading\":1000}" | jget id)
M2=$(post /meters "{\"community_id\":$CID,\"utility\":\"water\",\"house_id\":$H1,\"meter_no\":\"DW$tag\",\"installed_at\":\"2025-01-01\"}" | jget id)
M3=$(post /meters "{\"community_id\":$CID,\"utility\":\"electric\",\"kind\":\"supply\",\"meter_no\":\"DS$tag\",\"installed_at\":\"2025-01-01\"}" | jget id)
check "[ -n '$M1' ] && [ -n '$M2' ] && [ -n '$M3' ]"

# Bills with known figures. The Beijing date drives the ageing buckets.
TODAY="DATE(CONVERT_TZ(UTC_TIMESTAMP(), '+00:00', '+08:00'))"
P=2025-06
sql -e "
INSERT INTO bill (house_id, period, utility, status, amount_fen, paid_fen, due_date, issued_at) VALUES
 ($H1, '$P', 'electric', 'issued', 12345, 2345, $TODAY + INTERVAL 5 DAY, NOW()),
 ($H1, '$P', 'water', 'paid', 5000, 5000, $TODAY - INTERVAL 3 DAY, NOW()),
 ($H2, '$P', 'electric', 'issued', 700, 0, $TODAY - INTERVAL 10 DAY, NOW()),
 ($H2, '2025-05', 'electric', 'issued', 900, 100, $TODAY - INTERVAL 100 DAY, NOW()),
 ($H2, '2025-01', 'electric', 'issued', 4000, 0, $TODAY - INTERVAL 400 DAY, NOW());
INSERT INTO bill (house_id, period, utility, status, amount_fen, due_date, issued_at, voided_at, void_reason)
 VALUES ($H2, '$P', 'water', 'void', 99999, $TODAY, NOW(), NOW(), '测试作废');
INSERT INTO meter_usage_monthly (meter_id, month, usage_total, days) VALUES
 ($M1, '$P', 150000, 30), ($M1, '2025-05', 120500, 31), ($M2, '$P', 8000, 30), ($M3, '$P', 999999, 30);"
check "[ $? -eq 0 ]"

D=$T/dash.json
get "/dashboard?community_id=$CID&period=$P&months=3" >"$D"
check "[ \"\$(jget period <$D)\" = $P ]"
check "[ \"\$(jget counts.houses <$D)\" = 2 ] && [ \"\$(jget counts.buildings <$D)\" = 1 ]"
check "[ \"\$(jget counts.communities <$D)\" = 1 ]"
check "[ \"\$(jget counts.meters <$D)\" = 3 ]"
# billed: 12345 + 5000 + 700 (the void bill is not owed); collected 2345 + 5000
check "[ \"\$(jget month.billed_fen <$D)\" = 18045 ]"
check "[ \"\$(jget month.paid_fen <$D)\" = 7345 ]"
check "[ \"\$(jget month.bills <$D)\" = 3 ]"
# 7345 / 18045 = 40.70...% -> 40.7 (per mille, truncated)
check "[ \"\$(jget month.collection_rate <$D)\" = 40.7 ]"
check "[ \"\$(jget trend.0.period <$D)\" = 2025-04 ] && [ \"\$(jget trend.2.period <$D)\" = $P ]"
check "[ \"\$(jget trend.1.billed_fen <$D)\" = 900 ] && [ \"\$(jget trend.1.paid_fen <$D)\" = 100 ]"
# household meters only: the supply meter's 999999 Wh is not added
check "[ \"\$(jget trend.2.electric_wh <$D)\" = 150000 ] && [ \"\$(jget trend.2.water_l <$D)\" = 8000 ]"
check "[ \"\$(jget trend.1.electric_wh <$D)\" = 120500 ]"
# arrears: 10000 not due, 700 at 10 days, 800 at 100 days, 4000 over 180 days
check "[ \"\$(jget arrears.total_fen <$D)\" = 15500 ] && [ \"\$(jget arrears.bills <$D)\" = 4 ]"
check "[ \"\$(jget arrears.houses <$D)\" = 2 ]"
check "[ \"\$(jget arrears.ageing.0.owed_fen <$D)\" = 10000 ] && [ \"\$(jget arrears.ageing.0.bucket <$D)\" = not_due ]"
check "[ \"\$(jget arrears.ageing.1.owed_fen <$D)\" = 700 ]"
check "[ \"\$(jget arrears.ageing.2.owed_fen <$D)\" = 0 ]"
check "[ \"\$(jget arrears.ageing.3.owed_fen <$D)\" = 800 ]"
check "[ \"\$(jget arrears.ageing.4.owed_fen <$D)\" = 4000 ] && [ \"\$(jget arrears.ageing.4.label <$D)\" = 逾期180天以上 ]"
# the whole estate counts at least this community
all=$(get "/dashboard" | jget counts.houses)
check "[ '$all' -ge 2 ]"
code=$(curl -s -b "$J" -o "$T/e.json" -w '%{http_code}' "$A/dashboard?period=2025-13")
check "[ $code = 400 ] && grep -q '\"field\":\"period\"' '$T/e.json'"
code=$(curl -s -b "$J" -o /dev/null -w '%{http_code}' "$A/dashboard?months=99")
check "[ $code = 400 ]"
code=$(curl -s -b "$J" -o /dev/null -w '%{http_code}' "$A/dashboard?community_id=abc")
check "[ $code = 400 ]"

# ---- exports ----
# export URL FILE: downloads with headers into FILE and FILE.h
export_get() { curl -s -b "$J" -D "$2.h" -o "$2" -w '%{http_code}' "$A$1"; }
code=$(export_get "/houses.xlsx?community_id=$CID" "$T/h.xlsx")
check "[ $code = 200 ]"
check "grep -qi '^Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' '$T/h.xlsx.h'"
check "grep -qi \"filename\\*=UTF-8''%E6%88%BF%E5%B1%8B%E5%88%97%E8%A1%A8-[0-9]\\{8\\}\\.xlsx\" '$T/h.xlsx.h'"
check "grep -qi 'filename=\"houses-[0-9]\{8\}.xlsx\"' '$T/h.xlsx.h'"
check "unzip -tq '$T/h.xlsx' >/dev/null"
unzip -p "$T/h.xlsx" xl/worksheets/sheet1.xml >"$T/h.xml" 2>/dev/null
check "grep -q '<t>房号</t>' '$T/h.xml' && grep -q '<t>建筑面积(㎡)</t>' '$T/h.xml'"
check "grep -q '<t>102</t>' '$T/h.xml' && grep -q '<t>空置</t>' '$T/h.xml'"
# the area is a number cell, not text
check "grep -Eq '<c r=\"F[0-9]+\"( s=\"[0-9]+\")?><v>89.5</v>' '$T/h.xml'"
# exactly the community's two houses plus the header
check "[ \"\$(grep -o '<row ' '$T/h.xml' | wc -l)\" = 3 ]"
# filters of the list apply: status=vacant leaves one house
export_get "/houses.xlsx?community_id=$CID&status=vacant" "$T/h2.xlsx" >/dev/null
check "[ \"\$(unzip -p '$T/h2.xlsx' xl/worksheets/sheet1.xml | grep -o '<row ' | wc -l)\" = 2 ]"

code=$(export_get "/bills.xlsx?community_id=$CID&period=$P" "$T/b.xlsx")
check "[ $code = 200 ] && unzip -tq '$T/b.xlsx' >/dev/null"
unzip -p "$T/b.xlsx" xl/worksheets/sheet1.xml >"$T/b.xml" 2>/dev/null
check "grep -q '<t>应收金额(元)</t>' '$T/b.xml' && grep -q '<t>已作废</t>' '$T/b.xml'"
# 12345 fen as the number 123.45 with a 0.00 format
check "grep -Eq '<v>123.45</v>' '$T/b.xml' && grep -Eq '<v>23.45</v>' '$T/b.xml'"
check "unzip -p '$T/b.xlsx' xl/styles.xml | grep -q 'formatCode=\"0.00\"'"
# four bills of the period (void included, as in the list) plus the header
check "[ \"\$(grep -o '<row ' '$T/b.xml' | wc -l)\" = 5 ]"
# due date as a real date cell (a serial number with a date format)
check "unzip -p '$T/b.xlsx' xl/styles.xml | grep -q 'yyyy-mm-dd'"

code=$(export_get "/meters.xlsx?community_id=$CID&utility=water" "$T/m.xlsx")
check "[ $code = 200 ]"
unzip -p "$T/m.xlsx" xl/worksheets/sheet1.xml >"$T/m.xml" 2>/dev/null
check "grep -q '<t>表号</t>' '$T/m.xml' && grep -q \"<t>DW$tag</t>\" '$T/m.xml' && ! grep -q \"<t>DE$tag</t>\" '$T/m.xml'"
check "grep -qi \"filename\\*=UTF-8''%E8%A1%A8%E8%AE%A1\" '$T/m.xlsx.h'"

code=$(curl -s -b "$J" -o "$T/e.json" -w '%{http_code}' "$A/bills.xlsx?status=bogus")
check "[ $code = 400 ] && grep -q 'INVALID_ARGUMENT' '$T/e.json'"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
