#!/usr/bin/env bash
# test.sh - THE test command: every test, the way CI runs it (.ci/run).
#
#   bash deploy/test.sh
#
# Installs missing Debian packages, builds everything with ASan+UBSan in
# build-asan/ (XQ_TEST_BUILD), and runs ctest there. The e2e tests bring up their own
# throw-away stack (deploy/stack.sh with XQ_VAR=build-asan/teststack,
# port XQ_TEST_PORT, default 18080) through a ctest fixture. Exits with ctest's status.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$REPO"
BUILD=${XQ_TEST_BUILD:-build-asan}
TESTSTACK="$BUILD/teststack"

# LeakSanitizer stays on: it stops the process with ptrace at exit, which some
# containers forbid ("LeakSanitizer has encountered a fatal error"); on this
# machine type (Debian 12, root) a deliberately leaking program built with
# -fsanitize=address aborts with a proper leak report, so it works here.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

PHASES=()

# Microseconds; EPOCHREALTIME's decimal separator follows the locale.
now_us() { printf '%s\n' "${EPOCHREALTIME//[!0-9]/}"; }
T_ALL=$(now_us)

elapsed() {
	local d=$(($(now_us) - $1))
	printf '%d.%d s' $((d / 1000000)) $((d / 100000 % 10))
}

# phase NAME CMD...: runs one phase, timing it.
phase() {
	local name=$1 t0 rc=0
	t0=$(now_us)
	shift
	printf '\n==> %s\n' "$name"
	"$@" || rc=$?
	PHASES+=("$(printf '%-10s %s%s' "$name" "$(elapsed "$t0")" "$([ "$rc" -eq 0 ] || echo "  (failed, exit $rc)")")")
	return "$rc"
}

summary() {
	local line
	printf '\n==> timing\n'
	for line in "${PHASES[@]}"; do
		printf '  %s\n' "$line"
	done
	printf '  %-10s %s\n' total "$(elapsed "$T_ALL")"
}
trap summary EXIT

# A stack left running by an interrupted run would be reused with old binaries.
stop_teststack() {
	if [ -d "$TESTSTACK" ]; then
		XQ_VAR="$TESTSTACK" bash deploy/stack.sh stop >/dev/null 2>&1 || true
	fi
}

run_ctest() {
	(cd "$BUILD" && ctest --output-on-failure --timeout 300 --no-tests=error)
}

phase deps bash deploy/install-deps.sh
phase configure cmake -S . -B "$BUILD" -DXQ_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
	-DXQ_TEST_PORT="${XQ_TEST_PORT:-18080}"
phase build cmake --build "$BUILD" -j2
# the staff console, served by the test stack's nginx and driven by e2e.console_browser
phase console bash deploy/console-build.sh
stop_teststack
rc=0
phase ctest run_ctest || rc=$?
stop_teststack
exit "$rc"
