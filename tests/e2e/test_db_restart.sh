#!/usr/bin/env bash
# The database goes away under a running xq-api and comes back: /healthz says
# 503 with the error envelope meanwhile, and afterwards every worker serves
# again without a restart of xq-api (lost connections are re-opened).
set -uo pipefail
pass=0 fail=0
check() { if eval "$1"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1" >&2; fi; }
: "${XQ_VAR:?}" "${XQ_TEST_URL:?}"

api_pid=$(cat "$XQ_VAR/run/xq-api.pid")
db_pid=$(cat "$XQ_VAR/run/mariadb.pid")
kill "$db_pid"
for _ in $(seq 1 100); do
	[ -d "/proc/$db_pid" ] && [ "$(awk '{print $3}' "/proc/$db_pid/stat" 2>/dev/null)" != Z ] || break
	sleep 0.1
done
code=$(curl -s -o /tmp/xq-health.$$ -w '%{http_code}' "$XQ_TEST_URL/healthz")
check "[ '$code' = 503 ]"
check "grep -q DB_UNAVAILABLE /tmp/xq-health.$$"
rm -f /tmp/xq-health.$$

# start brings back only what is missing: the database
bash deploy/stack.sh start >/dev/null 2>&1
check "[ \$? -eq 0 ]"
check "[ \"\$(cat '$XQ_VAR/run/xq-api.pid')\" = '$api_pid' ]"
ok=0
# more requests than workers, so every worker's connection is exercised
for _ in $(seq 1 40); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$XQ_TEST_URL/healthz")" = 200 ] && ok=$((ok + 1))
done
check "[ $ok -eq 40 ]"
login=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
	-d '{"username":"admin","password":"Xiaoqu@2026"}' "$XQ_TEST_URL/admin/api/v1/auth/login")
check "[ '$login' = 200 ]"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
