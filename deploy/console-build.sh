#!/usr/bin/env bash
# console-build.sh - builds the staff console (console/, Vue 3 + Vite) into
# console/dist, which nginx serves at / (nginx/local.conf.in; without dist
# the stack serves console/placeholder).
#
#   bash deploy/console-build.sh [--force]
#
# Idempotent: does nothing when dist is newer than every source file. Runs
# `npm ci` (from the committed package-lock.json) only when node_modules is
# missing or older than the lock file, then `npm run build` into a fresh
# directory that replaces dist in one rename, so a running nginx never sees
# a half-written console. Needs Node.js >= 20.19 and npm (Vite 8).
# Called by deploy/stack.sh start (unless XQ_SKIP_BUILD=1) and deploy/test.sh.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
C="$REPO/console"
say() { printf 'console-build: %s\n' "$*"; }
die() { printf 'console-build: error: %s\n' "$*" >&2; exit 1; }

command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
	die "node and npm are needed to build the console (Node.js >= 20.19)"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a==20&&b>=19)?0:1)' ||
	die "Node.js $(node -v) is too old for Vite 8: need >= 20.19"

sources=("$C/src" "$C/public" "$C/index.html" "$C/vite.config.js" "$C/package.json" "$C/package-lock.json")
if [ "${1:-}" != --force ] && [ -f "$C/dist/index.html" ]; then
	newer=$(find "${sources[@]}" -newer "$C/dist/index.html" -print -quit 2>/dev/null || true)
	if [ -z "$newer" ]; then
		say "console/dist is up to date"
		exit 0
	fi
	say "rebuilding: $newer changed"
fi

cd "$C"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
	say "npm ci"
	npm ci --no-audit --no-fund --loglevel=error
fi
rm -rf dist.new
say "npm run build"
npm run build --silent -- --outDir dist.new --emptyOutDir
[ -f dist.new/index.html ] || die "the build wrote no dist.new/index.html"
rm -rf dist.old
if [ -d dist ]; then mv dist dist.old; fi
mv dist.new dist
rm -rf dist.old
say "built console/dist"
