#!/usr/bin/env bash
# xqctl against the running test stack: migrate twice (second is a no-op),
# a changed applied migration is refused, create-admin reports an existing
# user with exit 3, and the demo data arrives in the API. Prints a tally.
set -uo pipefail
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
check() { if eval "$1"; then ok; else bad "$1"; fi; }

: "${XQCTL:?}" "${XQ_CONFIG:?}" "${XQ_TEST_URL:?}"
# every SQL statement of both programs prepares against the real schema
out=$("$XQCTL" -c "$XQ_CONFIG" check-sql 2>&1); rc=$?
check "[ $rc -eq 0 ]" || echo "$out" >&2
out=$("${XQAPI:?}" -c "$XQ_CONFIG" --check-sql 2>&1); rc=$?
if [ $rc -eq 0 ]; then ok; else bad "xq-api --check-sql"; echo "$out" >&2; fi

out=$("$XQCTL" -c "$XQ_CONFIG" migrate 2>&1); rc=$?
check "[ $rc -eq 0 ]"
check "grep -q '0 applied' <<<\"\$out\""

# an applied migration that changed is refused, and nothing is recorded
tmp=$(mktemp -d)
cp sql/*.sql "$tmp/"
first=$(ls "$tmp" | head -1)
echo "-- edited after it was applied" >>"$tmp/$first"
"$XQCTL" -c "$XQ_CONFIG" migrate --dir "$tmp" >"$tmp/log" 2>&1; rc=$?
check "[ $rc -eq 1 ]"
check "grep -q 'has changed since' '$tmp/log'"
rm -rf "$tmp"

XQ_ADMIN_PASSWORD='Xiaoqu@2026' "$XQCTL" -c "$XQ_CONFIG" create-admin admin >/dev/null 2>&1; rc=$?
check "[ $rc -eq 3 ]"
XQ_ADMIN_PASSWORD='short' "$XQCTL" -c "$XQ_CONFIG" create-admin weakling >/dev/null 2>&1; rc=$?
check "[ $rc -eq 2 ]"

"$XQCTL" -c "$XQ_CONFIG" demo --houses 24 --months 2 >/dev/null 2>&1; rc=$?
check "[ $rc -eq 0 ]"
"$XQCTL" -c "$XQ_CONFIG" demo --houses 24 --months 2 >/dev/null 2>&1; rc=$?
check "[ $rc -eq 3 ]"

jar=$(mktemp)
curl -fsS -c "$jar" -H 'Content-Type: application/json' \
  -d '{"username":"admin","password":"Xiaoqu@2026"}' "$XQ_TEST_URL/admin/api/v1/auth/login" >/dev/null
check "[ $? -eq 0 ]"
cid=$(curl -fsS -b "$jar" "$XQ_TEST_URL/admin/api/v1/communities?q=DEMO01" | grep -o '"id":[0-9]*' | head -1 | cut -d: -f2)
check "[ -n '$cid' ]"
houses=$(curl -fsS -b "$jar" "$XQ_TEST_URL/admin/api/v1/houses?community_id=$cid&page_size=1" | grep -o '"total":[0-9]*' | cut -d: -f2)
check "[ '$houses' = 24 ]"
meters=$(curl -fsS -b "$jar" "$XQ_TEST_URL/admin/api/v1/meters?community_id=$cid&utility=electric&kind=household&page_size=1" | grep -o '"total":[0-9]*' | cut -d: -f2)
check "[ '$meters' = 24 ]"
rm -f "$jar"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
