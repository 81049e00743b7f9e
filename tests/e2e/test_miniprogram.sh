#!/usr/bin/env bash
# The residents' mini-program (miniprogram/): WXML/WXSS checked by WeChat's
# compilers, component tests (miniprogram-simulate) and page tests whose wx
# stand-in talks HTTP to the running test stack (XQ_TEST_URL, XQ_CONFIG,
# XQ_WXSIM_URL). Installs the pinned npm packages with `npm ci` only when
# node_modules is missing or package-lock.json changed since.
set -euo pipefail
: "${XQ_TEST_URL:?}" "${XQ_CONFIG:?}"
cd "$(dirname "${BASH_SOURCE[0]}")/../../miniprogram/test"
command -v npm >/dev/null || { echo "npm not found: install nodejs (deploy/install-deps.sh)" >&2; exit 1; }
stamp=node_modules/.xq-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -d node_modules ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
	npm ci --no-audit --no-fund --loglevel=error
	echo "$want" >"$stamp"
fi
node lint-wx.js ..
out=$(mktemp)
rc=0
npx jest --ci --json --outputFile="$out" || rc=$?
# a closing line in the plain "N passed, N failed" form
node -e "const r=JSON.parse(require('fs').readFileSync(process.argv[1],'utf8'));console.log(r.numPassedTests+' passed, '+r.numFailedTests+' failed, '+r.numPendingTests+' skipped')" "$out"
rm -f "$out"
exit "$rc"
