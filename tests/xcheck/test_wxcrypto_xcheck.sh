#!/usr/bin/env bash
# test_wxcrypto_xcheck.sh - our WeChat Pay crypto against implementations we
# did not write (the brief's "independent cross-check"):
#  - SHA256withRSA: our signature verified by `openssl dgst -sha256 -verify`,
#    openssl's signature verified by us, a changed byte refused by both;
#  - AES-256-GCM: a notification we encrypted decrypted by node's crypto
#    (and a tampered tag refused by node); node's encryption decrypted by us;
#  - paySign (§7): ours verified by node's crypto.verify over the four lines.
# Keys are made fresh with the openssl CLI in a temporary directory.
#   wxcrypto_tool [path]   (argv[1]: the tool built from wxcrypto_tool.c)
set -euo pipefail

TOOL=${1:?usage: test_wxcrypto_xcheck.sh PATH/TO/wxcrypto_tool}
command -v openssl >/dev/null || { echo "openssl CLI missing"; exit 1; }
command -v node >/dev/null || { echo "node missing (the cross-check needs its crypto module)"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
ok() { printf 'ok   %s\n' "$1"; }
bad() { printf 'FAIL %s\n' "$1"; fail=1; }

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/key.pem" 2>/dev/null
openssl pkey -in "$T/key.pem" -pubout -out "$T/pub.pem"
# the exact callback message: timestamp LF nonce LF body LF (§3.2), with UTF-8
printf '1700000000\nNONCE123\n{"summary":"支付成功","id":"EV-1"}\n' >"$T/msg"

# 1. ours -> openssl
"$TOOL" sign "$T/key.pem" "$T/msg" | base64 -d >"$T/sig.bin"
if openssl dgst -sha256 -verify "$T/pub.pem" -signature "$T/sig.bin" "$T/msg" | grep -q 'Verified OK'; then
	ok "openssl verifies our SHA256withRSA signature"
else
	bad "openssl rejects our signature"
fi
cp "$T/msg" "$T/msg2"
printf 'x' >>"$T/msg2"
if openssl dgst -sha256 -verify "$T/pub.pem" -signature "$T/sig.bin" "$T/msg2" >/dev/null 2>&1; then
	bad "openssl accepted our signature over a changed message"
else
	ok "openssl refuses it over a changed message"
fi
# 2. openssl -> ours
SIG=$(openssl dgst -sha256 -sign "$T/key.pem" "$T/msg" | base64 -w0)
if "$TOOL" verify "$T/pub.pem" "$T/msg" "$SIG"; then ok "we verify openssl's signature"; else bad "we reject openssl's signature"; fi
if "$TOOL" verify "$T/pub.pem" "$T/msg2" "$SIG"; then bad "we accepted openssl's signature over a changed message"; else ok "we refuse it over a changed message"; fi

# 3. AES-256-GCM: ours -> node
printf '%s' 'abcdefghijklmnopqrstuvwxyz012345' >"$T/apiv3"
printf '%s' '{"appid":"wx8888888888888888","mchid":"1900000001","out_trade_no":"XQ1","trade_state":"SUCCESS","amount":{"total":12345,"currency":"CNY"},"attach":"电费"}' >"$T/plain"
"$TOOL" encrypt "$T/apiv3" "0123456789ab" "transaction" "$T/plain" >"$T/body.json"
cat >"$T/dec.js" <<'JS'
const crypto = require('crypto'), fs = require('fs');
const [key, bodyFile, tamper] = [fs.readFileSync(process.argv[2]), process.argv[3], process.argv[4]];
const r = JSON.parse(fs.readFileSync(bodyFile, 'utf8')).resource;
const buf = Buffer.from(r.ciphertext, 'base64');
if (tamper) buf[buf.length - 1] ^= 1;
const d = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(r.nonce, 'utf8'));
d.setAAD(Buffer.from(r.associated_data, 'utf8'));
d.setAuthTag(buf.subarray(buf.length - 16));
process.stdout.write(Buffer.concat([d.update(buf.subarray(0, buf.length - 16)), d.final()]));
JS
if node "$T/dec.js" "$T/apiv3" "$T/body.json" >"$T/node_plain" && cmp -s "$T/node_plain" "$T/plain"; then
	ok "node decrypts our AES-256-GCM notification to the same bytes"
else
	bad "node cannot decrypt our notification"
fi
if node "$T/dec.js" "$T/apiv3" "$T/body.json" tamper >/dev/null 2>&1; then bad "node accepted a changed tag"; else ok "node refuses a changed tag"; fi
# 4. node -> ours
cat >"$T/enc.js" <<'JS'
const crypto = require('crypto'), fs = require('fs');
const key = fs.readFileSync(process.argv[2]), pt = fs.readFileSync(process.argv[3]);
const nonce = 'NodeNonce123', aad = 'transaction';
const c = crypto.createCipheriv('aes-256-gcm', key, Buffer.from(nonce));
c.setAAD(Buffer.from(aad));
const ct = Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]);
process.stdout.write(JSON.stringify({ id: 'EV-node', resource: { algorithm: 'AEAD_AES_256_GCM',
  ciphertext: ct.toString('base64'), associated_data: aad, nonce } }));
JS
node "$T/enc.js" "$T/apiv3" "$T/plain" >"$T/node_body.json"
if "$TOOL" decrypt "$T/apiv3" "$T/node_body.json" >"$T/our_plain" && cmp -s "$T/our_plain" "$T/plain"; then
	ok "we decrypt node's AES-256-GCM notification to the same bytes"
else
	bad "we cannot decrypt node's notification"
fi

# 5. paySign: ours -> node, over appid LF timeStamp LF nonceStr LF package LF (§7)
PS=$("$TOOL" paysign "$T/key.pem" wx8888888888888888 wx201410272009395522657a690389285100 1414561699 5K8264ILTKCH16CQ2502SI8ZNMTM67VS)
cat >"$T/ps.js" <<'JS'
const crypto = require('crypto'), fs = require('fs');
const [pub, sig, appid, prepay, ts, nonce] = process.argv.slice(2);
const msg = `${appid}\n${ts}\n${nonce}\nprepay_id=${prepay}\n`;
process.exit(crypto.verify('RSA-SHA256', Buffer.from(msg), fs.readFileSync(pub), Buffer.from(sig, 'base64')) ? 0 : 1);
JS
if node "$T/ps.js" "$T/pub.pem" "$PS" wx8888888888888888 wx201410272009395522657a690389285100 1414561699 5K8264ILTKCH16CQ2502SI8ZNMTM67VS; then
	ok "node verifies our paySign"
else
	bad "node rejects our paySign"
fi
if node "$T/ps.js" "$T/pub.pem" "$PS" wx8888888888888888 wx201410272009395522657a690389285100 1414561700 5K8264ILTKCH16CQ2502SI8ZNMTM67VS; then
	bad "node accepted our paySign for another timeStamp"
else
	ok "node refuses it for another timeStamp"
fi
exit $fail
