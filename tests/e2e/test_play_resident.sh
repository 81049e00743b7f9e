#!/usr/bin/env bash
# test_play_resident.sh - tools/play-resident.sh against the test stack, so the
# script cannot rot: once binding with a staff-issued code, once with the
# owner's name + last 4 mobile digits (each pays a different house's bills),
# and once pointed at a community that does not exist, which must fail with
# a non-zero exit and say at which step. Prints a tally.
set -uo pipefail
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
: "${XQ_URL:?}" "${XQ_WXSIM_URL:?}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

if bash tools/play-resident.sh player >"$log" 2>&1 && grep -q '^play-resident: OK' "$log"; then
	ok
else
	bad "play-resident.sh (binding code)"
	cat "$log" >&2
fi
grep -q '人民币大写 ' "$log" && ok || bad "no receipt printed"

if XQ_PLAY_BIND=owner bash tools/play-resident.sh owner-player >"$log" 2>&1 &&
	grep -q '^play-resident: OK' "$log"; then
	ok
else
	bad "play-resident.sh (owner name + phone)"
	cat "$log" >&2
fi

XQ_COMMUNITY=NO-SUCH-COMMUNITY bash tools/play-resident.sh player >"$log" 2>&1
rc=$?
[ $rc -eq 1 ] && ok || bad "a failing run exited $rc, want 1"
grep -q 'FAILED at step 2: community NO-SUCH-COMMUNITY not found' "$log" && ok ||
	{ bad "a failing run did not say where"; cat "$log" >&2; }

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
