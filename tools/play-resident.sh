#!/usr/bin/env bash
# play-resident.sh - plays one mini-program resident end to end against a
# running stack, with curl and jq, printing each step:
#   staff log in (cookie + CSRF) and issue a binding code for a house of the
#   demo community that has unpaid bills (running a billing run first if
#   there are none), the resident logs in with a test-<name> code (xq-wxsim),
#   binds the house, lists houses and bills, shows one bill's lines, orders
#   the unpaid bills, pays with the wx.requestPayment parameters through
#   xq-wxsim (/sim/pay, paySign checked like the WeChat client), waits until
#   the bills show paid, and prints the receipt and the balance.
# Exits non-zero at the first step that fails, saying which and why.
#
#   bash tools/play-resident.sh [NAME]
#
# Environment (defaults for `bash deploy/stack.sh start`):
#   XQ_URL             the stack through nginx      (http://127.0.0.1:8080)
#   XQ_WXSIM_URL       xq-wxsim through nginx       (XQ_URL's port + 10)
#   XQ_ADMIN_USER      staff user                   (admin)
#   XQ_ADMIN_PASSWORD  its password                 (Xiaoqu@2026)
#   XQ_COMMUNITY       community code to play in    (DEMO01, from xqctl demo)
#   XQ_PLAY_BIND       code: bind with a staff-issued binding code (default);
#                      owner: bind with the owner's name + last 4 mobile digits
# NAME ([A-Za-z0-9_-], default "player") makes the resident's openid, so the
# same NAME is the same WeChat user on every run; the login code is
# test-<NAME>.<unique suffix> because each code works only once.
set -euo pipefail

XQ_URL=${XQ_URL:-http://127.0.0.1:8080}
XQ_URL=${XQ_URL%/}
if [ -z "${XQ_WXSIM_URL:-}" ]; then
	port=${XQ_URL##*:}
	[[ $port =~ ^[0-9]+$ ]] || port=80
	XQ_WXSIM_URL="${XQ_URL%:*}:$((port + 10))"
fi
ADMIN_USER=${XQ_ADMIN_USER:-admin}
ADMIN_PW=${XQ_ADMIN_PASSWORD:-Xiaoqu@2026}
COMMUNITY=${XQ_COMMUNITY:-DEMO01}
BIND=${XQ_PLAY_BIND:-code}
case $BIND in code | owner) ;; *) echo "play-resident: XQ_PLAY_BIND must be code or owner" >&2; exit 2 ;; esac
NAME=${1:-player}
[[ $NAME =~ ^[A-Za-z0-9_-]{1,64}$ ]] || { echo "play-resident: NAME must be 1-64 of A-Z a-z 0-9 _ -" >&2; exit 2; }
LOGIN_CODE="test-$NAME.$(date +%s)-$$"
A=/admin/api/v1

command -v curl >/dev/null || { echo "play-resident: curl is required" >&2; exit 2; }
command -v jq >/dev/null || { echo "play-resident: jq is required (apt-get install jq)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
jar="$tmp/jar"
step=0

say() { printf '%s\n' "$*"; }
fail() {
	printf 'play-resident: FAILED at step %d: %s\n' "$step" "$*" >&2
	exit 1
}
next() {
	step=$((step + 1))
	printf '\n==> %d. %s\n' "$step" "$*"
}

# http WANT METHOD URL [BODY] [curl args...]: the reply body goes to $tmp/out;
# anything but status WANT fails the run with the reply.
http() {
	local want=$1 method=$2 url=$3 body=${4:-} st
	if [ $# -ge 4 ]; then shift 4; else shift $#; fi
	local args=(-sS -o "$tmp/out" -w '%{http_code}' -X "$method" --max-time 30 "$@")
	[ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
	st=$(curl "${args[@]}" "$url") || fail "$method $url: curl could not connect"
	if [ "$st" != "$want" ]; then
		fail "$method $url answered $st, expected $want: $(head -c 600 "$tmp/out")"
	fi
}
j() { jq -r "$@" "$tmp/out"; }
staff() { http "$1" "$2" "$XQ_URL$A$3" "${4:-}" -b "$jar" -c "$jar" -H "X-CSRF-Token: ${csrf:-}"; }
resident() { http "$1" "$2" "$XQ_URL/api/v1$3" "${4:-}" -H "Authorization: Bearer ${token:-}"; }
sim() { http "$1" "$2" "$XQ_WXSIM_URL/sim$3" "${4:-}"; }
yuan() { awk -v f="$1" 'BEGIN { s = f < 0 ? "-" : ""; f = f < 0 ? -f : f; printf "%s%d.%02d", s, int(f / 100), f % 100 }'; }

say "Playing resident '$NAME' against $XQ_URL (WeChat imitation: $XQ_WXSIM_URL)"

next "staff log in as $ADMIN_USER"
staff 200 POST /auth/login "$(jq -nc --arg u "$ADMIN_USER" --arg p "$ADMIN_PW" '{username: $u, password: $p}')"
csrf=$(j .csrf_token)
[ -n "$csrf" ] && [ "$csrf" != null ] || fail "no CSRF token in the login answer"
say "logged in, CSRF token received"

next "find a house of community $COMMUNITY with unpaid bills"
staff 200 GET "/communities?q=$COMMUNITY&page_size=1"
cid=$(j '.items[0].id // empty')
[ -n "$cid" ] || fail "community $COMMUNITY not found (load it with: xqctl demo)"
staff 200 GET "/bills?community_id=$cid&status=issued&page_size=1"
house=$(j '.items[0].house_id // empty')
if [ -z "$house" ]; then
	# bills for last month (Asia/Shanghai), the demo's last full month of readings
	period=$(TZ=Asia/Shanghai date -d "$(TZ=Asia/Shanghai date +%Y-%m-15) -1 month" +%Y-%m)
	say "no unpaid bills yet: billing run for $period"
	staff 202 POST /billing/runs "{\"period\":\"$period\",\"community_id\":$cid}"
	job=$(j .job_id)
	for _ in $(seq 1 300); do
		staff 200 GET "/billing/runs/$job"
		[ "$(j .state)" != running ] && break
		sleep 0.2
	done
	[ "$(j .state)" = done ] || fail "billing run $job ended '$(j .state)': $(j .error)"
	staff 200 GET "/bills?community_id=$cid&status=issued&page_size=1"
	house=$(j '.items[0].house_id // empty')
	[ -n "$house" ] || fail "still no unpaid bill in community $COMMUNITY"
fi
say "house $house ($(j -r '.items[0].house_label'))"

if [ "$BIND" = code ]; then
	next "staff issue a binding code for house $house"
	staff 201 POST "/houses/$house/binding-code" '{"ttl_hours":1}'
	code=$(j .code)
	say "binding code $code (valid until $(j .expires_at))"
else
	next "staff look up who lives in house $house"
	staff 200 GET "/residents?house_id=$house&page_size=10"
	# name and last 4 mobile digits of each person linked to the house; only
	# the current owner will match, which is what a resident would type
	people=$(j -c '[.items[] | select((.mobile | length) >= 4) | {name, last4: .mobile[-4:]}]')
	[ "$(jq length <<<"$people")" -gt 0 ] || fail "nobody with a mobile number lives in house $house"
	say "$(jq length <<<"$people") candidate(s): $(jq -r '[.[] | "\(.name) (****\(.last4))"] | join(", ")' <<<"$people")"
fi

next "resident log in with WeChat code $LOGIN_CODE"
http 200 POST "$XQ_URL/api/v1/auth/login" "$(jq -nc --arg c "$LOGIN_CODE" '{code: $c}')"
token=$(j .token)
[ ${#token} -eq 64 ] || fail "no session token in the login answer"
say "logged in as wx_user $(j .user.id), session valid $(j .expires_in) s"

if [ "$BIND" = code ]; then
	next "bind the house with the code"
	resident 201 POST /bindings "{\"binding_code\":\"$code\"}"
else
	next "bind the house with the owner's name and the last 4 digits of the mobile"
	bound=0
	for k in $(seq 0 $(($(jq length <<<"$people") - 1))); do
		body=$(jq -c --argjson h "$house" ".[$k] | {house_id: \$h, owner_name: .name, phone_last4: .last4}" <<<"$people")
		st=$(curl -sS -o "$tmp/out" -w '%{http_code}' --max-time 30 -X POST \
			-H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
			--data-binary "$body" "$XQ_URL/api/v1/bindings") || fail "POST /api/v1/bindings: curl could not connect"
		say "  $(jq -r .owner_name <<<"$body") ****$(jq -r .phone_last4 <<<"$body"): $st $(j -r '.message // .status')"
		if [ "$st" = 201 ]; then
			bound=1
			break
		fi
		[ "$st" = 400 ] || fail "POST /api/v1/bindings answered $st: $(head -c 600 "$tmp/out")"
	done
	[ $bound -eq 1 ] || fail "no owner of house $house matched"
fi
[ "$(j .house_id)" = "$house" ] || fail "bound house $(j .house_id), expected $house"
say "bound house $house as $(j .relation)"

next "list my houses"
resident 200 GET /houses
j '.items[] | "  house \(.id): \(.community) \(.building) \(.unit_no)单元\(.room)  balance \(.balance_fen) fen, arrears \(.arrears_fen) fen"'
arrears=$(j --argjson h "$house" '.items[] | select(.id == $h) | .arrears_fen')
[ -n "$arrears" ] && [ "$arrears" -gt 0 ] || fail "house $house shows no arrears"

next "list the house's bills"
resident 200 GET "/houses/$house/bills"
j '.items[] | "  bill \(.id): \(.period) \(.utility) \(.status)  amount \(.amount_fen) fen, unpaid \(.unpaid_fen) fen"'
bills=$(j '[.items[] | select(.status == "issued" and .unpaid_fen > 0) | .id]')
first=$(jq -r '.[0] // empty' <<<"$bills")
[ -n "$first" ] || fail "no unpaid bill listed"
due=$(j '[.items[] | select(.status == "issued") | .unpaid_fen] | add')

next "show bill $first"
resident 200 GET "/bills/$first"
say "  $(j .period) $(j .utility): $(j .amount_fen) fen"
j '.lines[] | "    \(.line_no). \(.label_zh)  \(.qty_milli // 0) × \(.unit_price_hao // 0) hao = \(.amount_fen) fen"'
[ "$(j '.lines | length')" -gt 0 ] || fail "bill $first has no lines"

next "order the unpaid bills $(jq -c . <<<"$bills")"
resident 201 POST /orders "{\"house_id\":$house,\"bill_ids\":$bills}"
otn=$(j .out_trade_no)
[ "$(j .amount_fen)" = "$due" ] || fail "order amount $(j .amount_fen), expected $due"
say "order $otn for $(j .amount_fen) fen ($(yuan "$(j .amount_fen)") yuan)"
pay=$(j '{timeStamp, nonceStr, package, signType, paySign}')

next "pay with wx.requestPayment in the WeChat imitation"
sim 200 GET /healthz
appid=$(j .appid)
sim 200 POST /pay "$(jq -c --arg a "$appid" '. + {appId: $a, retry_scale: 1000}' <<<"$pay")"
say "WeChat says $(j .trade_state), transaction $(j .transaction_id)"

next "wait until the bills show paid"
paid=0
for _ in $(seq 1 100); do
	resident 200 GET "/bills/$first"
	if [ "$(j .status)" = paid ]; then
		paid=1
		break
	fi
	# the app asking for its order makes us query WeChat if no callback came yet
	resident 200 GET "/orders/$otn"
	sleep 0.2
done
[ $paid -eq 1 ] || fail "bill $first still '$(j .status)' after 20 s"
resident 200 GET "/orders/$otn"
[ "$(j .state)" = paid ] || fail "order $otn is '$(j .state)'"
say "order $otn paid; bill $first paid"

next "receipt"
resident 200 GET "/houses/$house/payments?page_size=1"
pid=$(j '.items[0].id // empty')
[ -n "$pid" ] || fail "no payment listed for house $house"
resident 200 GET "/payments/$pid/receipt"
[ "$(j .total_fen)" = "$due" ] || fail "receipt total $(j .total_fen), expected $due"
say "  $(j .title) $(j .receipt_no)  $(j .house.address)"
j '.items[] | "    \(.label_zh)  \(.amount_fen) fen"'
say "  合计 $(j .total_yuan) 元  人民币大写 $(j .total_upper)"

next "balance"
resident 200 GET /houses
arrears=$(j --argjson h "$house" '.items[] | select(.id == $h) | .arrears_fen')
balance=$(j --argjson h "$house" '.items[] | select(.id == $h) | .balance_fen')
say "house $house: balance $balance fen ($(yuan "$balance") yuan), arrears $arrears fen"
[ "$arrears" = 0 ] || fail "arrears $arrears fen remain after paying"

printf '\nplay-resident: OK (%d steps)\n' "$step"
