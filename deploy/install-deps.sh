#!/usr/bin/env bash
# install-deps.sh - install the Debian packages Xiaoqu builds and runs with.
#
# Idempotent: asks dpkg what is missing and does nothing else when nothing is.
# Otherwise runs one `apt-get update` and one `apt-get install` of exactly the
# missing packages. Installing never starts a system service: unless the machine
# already has a /usr/sbin/policy-rc.d, a temporary one that answers 101
# ("action forbidden") is put in place and removed again on exit.
#
# Runs as root, or through `sudo -n` when that works without a password.
# Otherwise it lists what is missing and fails.
set -euo pipefail

# nginx: on bookworm the binary is in `nginx`; `nginx-light` is only `nginx`
# plus the echo module, which we do not use.
PACKAGES=(
	build-essential cmake pkg-config
	mariadb-server-core mariadb-client-core mariadb-client libmariadb-dev
	libfcgi-dev nginx
	libcjson-dev libcurl4-openssl-dev libssl-dev libargon2-dev
	libxlsxwriter-dev libmodbus-dev zlib1g-dev
	curl ca-certificates openssl
	jq # resident area: tools/play-resident.sh
	# miniprogram (issue 7): jest + miniprogram-simulate tests (npm ci)
	nodejs
	# console (issue 6): headless browser tests, and CJK fonts so Chinese renders
	chromium fonts-noto-cjk unzip
	clang libclang-rt-14-dev # tests/fuzz/run.sh (ctest fuzz.codecs)
)
# miniprogram: Debian's npm only where no npm exists (NodeSource's nodejs
# carries its own, and Debian's npm package would conflict with it).
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)
POLICY=/usr/sbin/policy-rc.d

die() { printf 'install-deps: %s\n' "$*" >&2; exit 1; }

command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script supports Debian 12 (bookworm) only"

# One dpkg-query for all packages. A package is installed when the second
# letter of its status abbreviation is 'i' ("ii", "hi"); unknown packages are
# simply absent from the output.
installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${PACKAGES[@]}" 2>/dev/null |
	awk 'substr($2, 2, 1) == "i" { print $1 }' || true)
missing=()
for p in "${PACKAGES[@]}"; do
	grep -qxF -- "$p" <<<"$installed" || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "install-deps: all ${#PACKAGES[@]} packages present"
	exit 0
fi

echo "install-deps: missing: ${missing[*]}"

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		SUDO=(sudo -n)
	else
		die "not root and no password-less sudo; install them yourself:
  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
	fi
fi

made_policy=0
cleanup() {
	if [ "$made_policy" -eq 1 ]; then
		"${SUDO[@]}" rm -f "$POLICY"
	fi
}
trap cleanup EXIT

if [ ! -e "$POLICY" ]; then
	made_policy=1
	printf '#!/bin/sh\n# temporary, from xiaoqu deploy/install-deps.sh\nexit 101\n' |
		"${SUDO[@]}" tee "$POLICY" >/dev/null
	"${SUDO[@]}" chmod 755 "$POLICY"
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps: installed ${missing[*]}"
