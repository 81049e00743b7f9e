#!/usr/bin/env bash
# test_collector.sh - xq-metersim -> xq-collector -> MariaDB on the test stack
# (docs/collector.md): 50 smart meters on 10 simulated gateways; readings
# match the simulator's registers exactly; a silent meter raises
# meter_offline and a register set backwards is flagged, while the others
# keep being read; MariaDB is stopped mid-run (the collector spools) and the
# collector is kill -9'd and restarted: every slot of every good meter is
# present exactly once and the spool ends empty.
set -uo pipefail
pass=0 fail=0
check() { if eval "$1"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1" >&2; fi; }
: "${XQ_VAR:?}" "${XQ_PORT:?}" "${XQ_BUILD:?}"

INTERVAL=4
export XQ_COLLECTOR_INTERVAL_S=$INTERVAL XQ_METERSIM_REPLY_LOG=$XQ_VAR/log/metersim-replies.log
CONF=$XQ_VAR/xiaoqu.conf
CTL_PORT=$((XQ_PORT + 99))
HTTP_PORT=$((XQ_PORT + 98))
RUN=$XQ_VAR/run
if [ "$(id -u)" -eq 0 ]; then DBU=root; else DBU=$(id -un); fi
sql() { mariadb --defaults-file="$XQ_VAR/my.cnf" -u "$DBU" -N -B xiaoqu "$@"; }

# One control command to xq-metersim; prints its answer without the final ".".
ctl() {
	local line
	exec 3<>"/dev/tcp/127.0.0.1/$CTL_PORT" || return 1
	printf '%s\n' "$1" >&3
	while IFS= read -r -t 5 line <&3; do
		[ "$line" = . ] && break
		printf '%s\n' "$line"
		[[ $line == ERR* ]] && break
	done
	exec 3<&-
}

metric() { curl -s "http://127.0.0.1:$HTTP_PORT/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }

# stop_one NAME: SIGTERM (or $2) to a stack daemon by its pid file, wait for it to go.
stop_one() {
	local pid
	pid=$(cat "$RUN/$1.pid" 2>/dev/null) || return 0
	kill "-${2:-TERM}" "$pid" 2>/dev/null
	for _ in $(seq 1 100); do
		[ -d "/proc/$pid" ] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] || break
		sleep 0.1
	done
}

restart_stack() { bash deploy/stack.sh start >"$XQ_VAR/log/test-collector-start.log" 2>&1; }

# --- the community, its gateways, both daemons with a short interval --------
if [ "$(sql -e "SELECT COUNT(*) FROM community WHERE code = 'COLLT'")" = 0 ]; then
	sql <<'EOF'
-- A small community for the collector tests (tests/e2e/test_collector.sh):
-- 5 buildings x (8 DL/T 645 electricity + 2 CJ/T 188 water meters) = 50
-- smart meters. The recursive CTE keeps it one statement per table.
INSERT INTO community (code, name) VALUES ('COLLT', '采集测试小区');
SET @c = LAST_INSERT_ID();
INSERT INTO building (community_id, name, floors, units)
	WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5)
	SELECT @c, CONCAT(i, '号楼'), 5, 1 FROM n;
INSERT INTO house (building_id, unit_no, room, floor, area_m2)
	WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10)
	SELECT b.id, '1', CONCAT(100 + n.i), 1, 90 FROM building b, n WHERE b.community_id = @c;
INSERT INTO meter (community_id, house_id, utility, meter_no, digits, protocol, address, smart, initial_reading)
	SELECT @c, h.id, IF(h.room > 108, 'water', 'electric'), CONCAT('CT', h.id),
		IF(h.room > 108, 5, 6), IF(h.room > 108, 'cjt188', 'dlt645'),
		IF(h.room > 108, LPAD(77000000000000 + h.id, 14, '0'), LPAD(770000000000 + h.id, 12, '0')),
		1, h.id * 1000
	FROM house h JOIN building b ON b.id = h.building_id WHERE b.community_id = @c;
-- 6号楼: 10 Modbus RTU electricity meters, unit ids 1..10, two register maps
-- (docs/collector.md): Acrel ADW300 (int32 x 0.01 kWh) and Eastron SDM120 (float kWh)
INSERT INTO building (community_id, name, floors, units) VALUES (@c, '6号楼', 5, 1);
SET @b6 = LAST_INSERT_ID();
INSERT INTO house (building_id, unit_no, room, floor, area_m2)
	WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10)
	SELECT @b6, '1', CONCAT(100 + n.i), 1, 90 FROM n;
INSERT INTO meter (community_id, house_id, utility, meter_no, model, digits, protocol, address, smart, initial_reading)
	SELECT @c, h.id, 'electric', CONCAT('CT', h.id), IF(h.room % 2 = 1, 'acrel-adw300', 'eastron-sdm120'),
		6, 'modbus', CAST(h.room - 100 AS CHAR), 1, h.id * 1000
	FROM house h WHERE h.building_id = @b6;
EOF
fi
check "[ \"\$(sql -e \"SELECT COUNT(*) FROM meter m JOIN community c ON c.id = m.community_id WHERE c.code = 'COLLT'\")\" = 60 ]"
"$XQ_BUILD/collector/xq-collector" -c "$CONF" --setup COLLT >/dev/null
check "[ \$? -eq 0 ]"
sql -e "UPDATE gateway g JOIN community c ON c.id = g.community_id SET g.timeout_ms = 400 WHERE c.code = 'COLLT'"
check "[ \"\$(sql -e \"SELECT COUNT(*) FROM meter m JOIN community c ON c.id = m.community_id WHERE c.code = 'COLLT' AND m.gateway_id IS NOT NULL\")\" = 60 ]"
stop_one xq-collector
stop_one xq-metersim
rm -f "$XQ_METERSIM_REPLY_LOG"
restart_stack
check "[ \$? -eq 0 ]"

# --- meter_reading partitions (sql/008, xqctl partitions) -----------------------
nparts() { sql -e "SELECT COUNT(*) FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'meter_reading'"; }
p0=$(nparts)
out1=$(XQ_CONFIG=$CONF "$XQ_BUILD/cli/xqctl" partitions --ahead 40)
p1=$(nparts)
out2=$(XQ_CONFIG=$CONF "$XQ_BUILD/cli/xqctl" partitions --ahead 40)
p2=$(nparts)
added=$(sed -n 's/.*: \([0-9]*\) added.*/\1/p' <<<"$out1")
check "[ '${added:-0}' -gt 0 ] && [ '$p1' = \$((p0 + added)) ]"
check "[[ '$out2' == *': 0 added'* ]] && [ '$p2' = '$p1' ]"
check "[ \"\$(sql -e \"SELECT PARTITION_NAME FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'meter_reading' ORDER BY PARTITION_ORDINAL_POSITION DESC LIMIT 1\")\" = p_max ]"
# the demo (loaded by e2e.xqctl) has its rollups: one day row per meter and local day with readings
demo_days=$(sql -e "SELECT COUNT(*) FROM (SELECT DISTINCT r.meter_id, DATE(r.read_at + INTERVAL 8 HOUR) FROM meter_reading r
	JOIN meter m ON m.id = r.meter_id JOIN community c ON c.id = m.community_id WHERE c.code = 'DEMO01' AND r.status IN ('ok', 'corrected')) x")
demo_rows=$(sql -e "SELECT COUNT(*) FROM meter_usage_daily d JOIN meter m ON m.id = d.meter_id JOIN community c ON c.id = m.community_id WHERE c.code = 'DEMO01'")
check "[ '${demo_days:-0}' -gt 0 ] && [ '$demo_rows' = '$demo_days' ]"

# every meter read at least twice
ids="SELECT m.id FROM meter m JOIN community c ON c.id = m.community_id WHERE c.code = 'COLLT'"
for _ in $(seq 1 60); do
	n=$(sql -e "SELECT COUNT(*) FROM (SELECT meter_id FROM meter_reading WHERE meter_id IN ($ids)
		GROUP BY meter_id HAVING COUNT(*) >= 2) x")
	[ "$n" = 60 ] && break
	sleep 0.5
done
check "[ '$n' = 60 ]"
# the Modbus meters hang on modbus-rtu gateways of their own
check "[ \"\$(sql -e \"SELECT COUNT(DISTINCT g.id) FROM meter m JOIN gateway g ON g.id = m.gateway_id JOIN community c ON c.id = m.community_id WHERE c.code = 'COLLT' AND m.protocol = 'modbus' AND g.protocol = 'modbus-rtu'\")\" = 1 ]"

# --- faults: one meter goes silent, another's register goes backwards ----------
collt="FROM meter m JOIN community c ON c.id = m.community_id WHERE c.code = 'COLLT' AND m.protocol = 'dlt645'"
silent_id=$(sql -e "SELECT MIN(m.id) $collt")
silent=$(sql -e "SELECT address FROM meter WHERE id = $silent_id")
# on another gateway, so the silent meter's timeouts do not touch it
back_id=$(sql -e "SELECT MIN(m.id) $collt AND m.gateway_id <> (SELECT gateway_id FROM meter WHERE id = $silent_id)")
back=$(sql -e "SELECT address FROM meter WHERE id = $back_id")
check "[ \"\$(ctl 'FAULT $silent silence')\" = OK ]"
check "[ \"\$(ctl 'SET $back 10')\" = OK ]"
sleep $((INTERVAL * 4 + 2))
check "[ \"\$(sql -e \"SELECT COUNT(*) FROM alert WHERE kind = 'meter_offline' AND meter_id = $silent_id\")\" = 1 ]"
check "[ \"\$(sql -e \"SELECT COUNT(*) FROM meter_reading WHERE meter_id = $back_id AND status = 'flagged' AND flag_reason = 'backwards'\")\" = 1 ]"
check "[ \"\$(sql -e \"SELECT COUNT(*) FROM alert WHERE kind = 'reading_flagged' AND meter_id = $back_id\")\" = 1 ]"
good="$ids AND m.id NOT IN ($silent_id, $back_id)"
check "[ \"\$(sql -e \"SELECT COUNT(*) FROM meter_reading WHERE meter_id IN ($good) AND status <> 'ok'\")\" = 0 ]"

# --- the database goes away; then the collector is killed -9 ------------------
t_down=$(date +%s)
stop_one mariadb
sleep $((INTERVAL * 2 + 1))
spooled=$(metric xq_collector_spool_records)
check "[ '${spooled:-0}' -gt 0 ]"
t_kill=$(date +%s)
stop_one xq-collector KILL
restart_stack
check "[ \$? -eq 0 ]"
check "grep -q 'records to replay' '$XQ_VAR/log/xq-collector.log'"
sleep $((INTERVAL * 2 + 1))
# the spool is emptied every second: what is left is at most the last second's readings
check "[ \"\$(metric xq_collector_db_up)\" = 1 ]"
left=$(metric xq_collector_spool_records)
check "[ '${left:-999}' -lt 40 ]"

# every slot while the database was down is there for every good meter
first=$(( (t_down + INTERVAL) / INTERVAL * INTERVAL + INTERVAL ))
last=$(( t_kill / INTERVAL * INTERVAL - INTERVAL ))
want=$(( (last - first) / INTERVAL + 1 ))
if [ "$want" -gt 0 ]; then
	bad=$(sql -e "SELECT COUNT(*) FROM (SELECT m.id, (SELECT COUNT(*) FROM meter_reading r WHERE r.meter_id = m.id
		AND r.read_at BETWEEN FROM_UNIXTIME($first) AND FROM_UNIXTIME($last)) n
		FROM meter m JOIN community c ON c.id = m.community_id
		WHERE c.code = 'COLLT' AND m.id NOT IN ($silent_id, $back_id)) x WHERE n <> $want")
	check "[ '$bad' = 0 ]"
fi
check "[ \"\$(sql -e \"SELECT COUNT(*) - COUNT(DISTINCT meter_id, read_at) FROM meter_reading\")\" = 0 ]"

# --- exactness: frozen registers = the last stored reading of every good meter
check "[ \"\$(ctl 'FREEZE 1')\" = OK ]"
sleep $((INTERVAL * 2 + 2))
ctl DUMP | awk '{ print $1, $2, $3, $4, $5, $6 }' | sort >"$XQ_VAR/log/test-collector-sim.txt"
sql -e "SELECT m.address, r.value, COALESCE(r.value_sharp, s.x), COALESCE(r.value_peak, s.x),
		COALESCE(r.value_flat, s.x), COALESCE(r.value_valley, s.x)
	FROM meter m JOIN community c ON c.id = m.community_id
	JOIN meter_reading r ON r.meter_id = m.id
	AND r.read_at = (SELECT MAX(read_at) FROM meter_reading WHERE meter_id = m.id)
	JOIN (SELECT '-' x) s
	WHERE c.code = 'COLLT' AND m.id NOT IN ($silent_id)" | tr '\t' ' ' | sort >"$XQ_VAR/log/test-collector-db.txt"
# water meters have no TOU registers: compare their totals only
mism=$(join "$XQ_VAR/log/test-collector-db.txt" "$XQ_VAR/log/test-collector-sim.txt" |
	awk '$2 != $7 || ($3 != "-" && ($3 != $8 || $4 != $9 || $5 != $10 || $6 != $11))' | wc -l)
rows=$(join "$XQ_VAR/log/test-collector-db.txt" "$XQ_VAR/log/test-collector-sim.txt" | wc -l)
check "[ '$rows' = 59 ]"
# 10 of them Modbus (unit ids 1..10), equal total for total
mb_equal=$(join "$XQ_VAR/log/test-collector-db.txt" "$XQ_VAR/log/test-collector-sim.txt" |
	awk 'length($1) <= 3 && $2 == $7' | wc -l)
check "[ '$mb_equal' = 10 ]"
check "[ '$mism' = 0 ]"

# every stored value is one the simulator sent (its reply log)
sql -e "SELECT m.address, r.value FROM meter_reading r JOIN meter m ON m.id = r.meter_id
	JOIN community c ON c.id = m.community_id WHERE c.code = 'COLLT'" | tr '\t' ' ' |
	sort -u >"$XQ_VAR/log/test-collector-rows.txt"
awk '{ print $1, $3 }' "$XQ_METERSIM_REPLY_LOG" | sort -u >"$XQ_VAR/log/test-collector-sent.txt"
check "[ \"\$(comm -23 '$XQ_VAR/log/test-collector-rows.txt' '$XQ_VAR/log/test-collector-sent.txt' | wc -l)\" = 0 ]"

ctl 'FREEZE 0' >/dev/null
ctl "FAULT $silent none" >/dev/null

# --- usage rollups (lib/rollup.c) equal the sum of the raw deltas ------------
# per good meter and local day: consecutive good readings' deltas (modulo the
# register range) times the multiplier; the first reading of a meter adds 0
good_ids="$ids AND m.id NOT IN ($silent_id, $back_id)"
deltas="WITH g AS (SELECT r.meter_id, DATE(r.read_at + INTERVAL 8 HOUR) AS d, r.value,
		LAG(r.value) OVER (PARTITION BY r.meter_id ORDER BY r.read_at) AS pv,
		CAST(POW(10, m.digits + 3) AS SIGNED) AS mo, m.multiplier AS mult
		FROM meter_reading r JOIN meter m ON m.id = r.meter_id
		WHERE r.meter_id IN ($good_ids) AND r.status IN ('ok', 'corrected')),
	s AS (SELECT meter_id, d, SUM(CASE WHEN pv IS NULL THEN 0 ELSE MOD(value - pv + mo, mo) END * mult) AS u
		FROM g GROUP BY meter_id, d)"
# one good meter moves on by 10 Wh for sure (one register unit: under the spike limit)
mover_id=$(sql -e "SELECT MAX(m.id) $collt AND m.id NOT IN ($silent_id, $back_id)")
mover=$(sql -e "SELECT address FROM meter WHERE id = $mover_id")
mv=$(ctl "GET $mover" | awk '{print $2}')
ctl "SET $mover $((mv + 10))" >/dev/null
sleep $((INTERVAL * 2 + 2))
n_days=$(sql -e "$deltas SELECT COUNT(*) FROM s")
check "[ '${n_days:-0}' -ge 48 ]"
check "[ \"\$(sql -e \"$deltas SELECT COUNT(*) FROM s LEFT JOIN meter_usage_daily u ON u.meter_id = s.meter_id AND u.day = s.d WHERE u.usage_total IS NULL OR u.usage_total <> s.u\")\" = 0 ]"
moved=$(sql -e "$deltas SELECT COALESCE(SUM(u), 0) FROM s WHERE meter_id = $mover_id")
check "[ '${moved:-0}' -ge 10 ]"
check "[ \"\$(sql -e \"SELECT COUNT(*) FROM meter_usage_monthly mm WHERE mm.meter_id IN ($good_ids) AND mm.usage_total <> (SELECT SUM(d.usage_total) FROM meter_usage_daily d WHERE d.meter_id = mm.meter_id AND DATE_FORMAT(d.day, '%Y-%m') = mm.month)\")\" = 0 ]"

# --- remote trip/close: request, approval by another staff member, execution --
API=http://127.0.0.1:$XQ_PORT/admin/api/v1
PW='Collt@2026x'
for u in cmd_req cmd_appr; do
	XQ_ADMIN_PASSWORD=$PW XQ_CONFIG=$CONF "$XQ_BUILD/cli/xqctl" create-staff $u --role admin >/dev/null 2>&1
done
# login USER: cookie jar $XQ_VAR/log/USER.jar, CSRF token printed
login() {
	curl -s -c "$XQ_VAR/log/$1.jar" -H 'Content-Type: application/json' \
		-d "{\"username\":\"$1\",\"password\":\"$PW\"}" "$API/auth/login" |
		sed -n 's/.*"csrf_token":"\([0-9a-f]*\)".*/\1/p'
}
# call USER CSRF METHOD PATH [BODY]: prints "STATUS BODY"
call() {
	local out
	out=$(curl -s -b "$XQ_VAR/log/$1.jar" -X "$3" -H "X-CSRF-Token: $2" -H 'Content-Type: application/json' \
		${5:+-d "$5"} -w '\n%{http_code}' "$API$4")
	printf '%s %s\n' "$(tail -n1 <<<"$out")" "$(head -n -1 <<<"$out")"
}
jnum() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" | head -n1; }
csrf_r=$(login cmd_req)
csrf_a=$(login cmd_appr)
check "[ -n '$csrf_r' ] && [ -n '$csrf_a' ]"
relay_id=$(sql -e "SELECT MIN(m.id) $collt AND m.id NOT IN ($silent_id, $back_id)")
relay=$(sql -e "SELECT address FROM meter WHERE id = $relay_id")
norelay_id=$(sql -e "SELECT MAX(m.id) $collt")
sql -e "UPDATE meter SET has_relay = 1 WHERE id = $relay_id"
wait_state() { # wait_state CMD_ID STATE
	for _ in $(seq 1 60); do
		[ "$(sql -e "SELECT state FROM meter_command WHERE id = $1")" = "$2" ] && return 0
		sleep 0.5
	done
	return 1
}
r=$(call cmd_req "$csrf_r" POST "/meters/$norelay_id/commands" '{"command":"trip","reason":"欠费"}')
check "[ '${r%% *}' = 400 ]"
r=$(call cmd_req "$csrf_r" POST "/meters/$relay_id/commands" '{"command":"trip","reason":"欠费停电"}')
check "[ '${r%% *}' = 201 ]"
trip_id=$(jnum id <<<"${r#* }")
r=$(call cmd_req "$csrf_r" POST "/meters/$relay_id/commands" '{"command":"close","reason":"重复"}')
check "[ '${r%% *}' = 409 ]"
# the requester cannot approve their own command; without CSRF nothing happens
r=$(call cmd_req "$csrf_r" POST "/meter-commands/$trip_id/approve")
check "[ '${r%% *}' = 403 ]"
r=$(call cmd_appr "bad" POST "/meter-commands/$trip_id/approve")
check "[ '${r%% *}' = 403 ]"
check "[ \"\$(sql -e \"SELECT state FROM meter_command WHERE id = $trip_id\")\" = requested ]"
r=$(call cmd_appr "$csrf_a" POST "/meter-commands/$trip_id/approve")
check "[ '${r%% *}' = 200 ]"
wait_state "$trip_id" done
check "[ \$? -eq 0 ]"
relay_state() { ctl "GET $relay" | awk '{print $8}'; }
st=$(relay_state)
check "[ '$st' = tripped ]"
check "sql -e \"SELECT result FROM meter_command WHERE id = $trip_id\" | grep -q '拉闸成功'"
check "[ \"\$(sql -e \"SELECT COUNT(*) FROM audit_log WHERE entity = 'meter' AND entity_id = $relay_id AND action = 'trip' AND actor = 'xq-collector/0'\")\" = 1 ]"
check "[ \"\$(sql -e \"SELECT COUNT(*) FROM audit_log WHERE entity = 'meter_command' AND entity_id = $trip_id AND action IN ('request', 'approve')\")\" = 2 ]"
# tripped: the register stands still while the others move
v1=$(ctl "GET $relay" | awk '{print $2}')
sleep 3
v2=$(ctl "GET $relay" | awk '{print $2}')
check "[ '$v1' = '$v2' ]"
# a close that is rejected leaves the relay open; an approved one closes it
r=$(call cmd_req "$csrf_r" POST "/meters/$relay_id/commands" '{"command":"close","reason":"已缴费"}')
close1=$(jnum id <<<"${r#* }")
r=$(call cmd_appr "$csrf_a" POST "/meter-commands/$close1/reject")
check "[ '${r%% *}' = 200 ]"
check "[ \"\$(sql -e \"SELECT CONCAT(state, ' ', approved_by IS NOT NULL) FROM meter_command WHERE id = $close1\")\" = 'rejected 1' ]"
sleep $((INTERVAL / 2 + 2))
st=$(relay_state)
check "[ '$st' = tripped ]"
r=$(call cmd_req "$csrf_r" POST "/meters/$relay_id/commands" '{"command":"close","reason":"已缴费"}')
close2=$(jnum id <<<"${r#* }")
r=$(call cmd_appr "$csrf_a" POST "/meter-commands/$close2/approve")
wait_state "$close2" done
check "[ \$? -eq 0 ]"
st=$(relay_state)
check "[ '$st' = closed ]"
r=$(call cmd_appr "$csrf_a" GET "/meter-commands?meter_id=$relay_id")
check "[ '${r%% *}' = 200 ] && [ \"\$(jnum total <<<\"\${r#* }\")\" = 3 ]"
r=$(call cmd_appr "$csrf_a" GET "/meter-commands?state=bogus")
check "[ '${r%% *}' = 400 ]"
# a meter that does not answer: retried with backoff, then failed
st=$(ctl "FAULT $relay silence")
check "[ '$st' = OK ]"
r=$(call cmd_req "$csrf_r" POST "/meters/$relay_id/commands" '{"command":"trip","reason":"测试无应答"}')
lost=$(jnum id <<<"${r#* }")
call cmd_appr "$csrf_a" POST "/meter-commands/$lost/approve" >/dev/null
wait_state "$lost" failed
check "[ \$? -eq 0 ]"
check "sql -e \"SELECT result FROM meter_command WHERE id = $lost\" | grep -q '电表无应答'"
ctl "FAULT $relay none" >/dev/null

# --- a serial bus: a second xq-metersim serves two meters on a pty, the
# collector opens its slave with termios (collector/link_serial.c) ------------
PTY_PORT=$((XQ_PORT + 150))
PTY_CTL=$((XQ_PORT + 151))
PTY_FILE=$XQ_VAR/run/metersim-pty.path
rm -f "$PTY_FILE"
printf '%d dlt645 770000009001 6 5000\n%d dlt645 770000009002 6 7000\n' "$PTY_PORT" "$PTY_PORT" >"$XQ_VAR/log/pty-meters.txt"
XQ_METERSIM_CONTROL_PORT=$PTY_CTL XQ_METERSIM_REPLY_LOG= XQ_METERSIM_STATE_FILE= \
	"$XQ_BUILD/sim/metersim/xq-metersim" -c "$CONF" -f "$XQ_VAR/log/pty-meters.txt" -P "$PTY_PORT:$PTY_FILE" \
	>"$XQ_VAR/log/xq-metersim-pty.log" 2>&1 &
pty_pid=$!
for _ in $(seq 1 50); do [ -s "$PTY_FILE" ] && break; sleep 0.1; done
pty=$(cat "$PTY_FILE" 2>/dev/null)
check "[ -c '$pty' ]"
sql <<SQL
INSERT INTO building (community_id, name, floors, units) SELECT id, '8号楼', 1, 1 FROM community WHERE code = 'COLLT';
SET @b = LAST_INSERT_ID();
INSERT INTO house (building_id, unit_no, room, floor, area_m2) VALUES (@b, '1', '801', 1, 90), (@b, '1', '802', 1, 90);
INSERT INTO gateway (community_id, name, host, port, protocol, baud, timeout_ms)
	SELECT id, '8号楼 串口', '$pty', $PTY_PORT, 'dlt645', 9600, 400 FROM community WHERE code = 'COLLT';
SET @g = LAST_INSERT_ID();
INSERT INTO meter (community_id, house_id, utility, meter_no, digits, protocol, address, smart, gateway_id, initial_reading)
	SELECT b.community_id, h.id, 'electric', CONCAT('CTPTY', h.room), 6, 'dlt645', CONCAT('77000000900', h.room - 800), 1, @g, 0
	FROM house h JOIN building b ON b.id = h.building_id WHERE b.id = @b;
SQL
# (the main simulator listens on the same port over TCP: harmless, nobody connects there)
stop_one xq-collector
restart_stack
pty_ids="SELECT m.id FROM meter m WHERE m.meter_no LIKE 'CTPTY%'"
for _ in $(seq 1 60); do
	n=$(sql -e "SELECT COUNT(*) FROM (SELECT meter_id FROM meter_reading WHERE meter_id IN ($pty_ids)
		GROUP BY meter_id HAVING COUNT(*) >= 2) x")
	[ "$n" = 2 ] && break
	sleep 0.5
done
check "[ '$n' = 2 ]"
check "grep -q 'opened $pty at 9600 baud 8E1' '$XQ_VAR/log/xq-collector.log'"
# exact: the pty simulator's frozen registers = the last stored readings
MAIN_CTL=$CTL_PORT
CTL_PORT=$PTY_CTL
st=$(ctl 'FREEZE 1')
check "[ '$st' = OK ]"
sleep $((INTERVAL * 2 + 2))
sim_pty=$(ctl DUMP | awk '{ print $1, $2 }' | sort | tr '\n' ' ')
CTL_PORT=$MAIN_CTL
db_pty=$(sql -e "SELECT m.address, r.value FROM meter m JOIN meter_reading r ON r.meter_id = m.id
	AND r.read_at = (SELECT MAX(read_at) FROM meter_reading WHERE meter_id = m.id)
	WHERE m.meter_no LIKE 'CTPTY%'" | tr '\t' ' ' | sort | tr '\n' ' ')
check "[ -n '$sim_pty' ] && [ '$sim_pty' = '$db_pty' ]"
kill "$pty_pid" 2>/dev/null
wait "$pty_pid" 2>/dev/null
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
