#!/usr/bin/env bash
# run.sh - builds the libFuzzer targets of the meter codecs with clang (a
# build of their own: the codecs need nothing but libc) and runs each for a
# bounded time over a seed corpus made from the known frames in
# /work/shared/vectors/meters (or $XQ_FUZZ_VECTORS), broken ones included.
#
#   bash tests/fuzz/run.sh OUTDIR [SECONDS]      (ctest fuzz.codecs: 10 s each)
#
# Longer runs keep their corpus in OUTDIR/corpus-<proto>, e.g. an hour each:
#   bash tests/fuzz/run.sh build-fuzz 3600
# A crash leaves OUTDIR/crash-* and fails the run (libFuzzer exits non-zero).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
OUT=${1:?usage: run.sh OUTDIR [SECONDS]}
SECS=${2:-10}
VEC=${XQ_FUZZ_VECTORS:-$REPO/../shared/vectors/meters/published-frames.json}
[ -f "$VEC" ] || VEC=/work/shared/vectors/meters/published-frames.json
command -v clang >/dev/null || { echo "run.sh: clang not installed (deploy/install-deps.sh)" >&2; exit 1; }
mkdir -p "$OUT"
cd "$REPO"

# seeds: every "hex" of the vectors file into the corpus of its protocol
for p in dlt645 cjt188 modbus; do mkdir -p "$OUT/corpus-$p"; done
if [ -f "$VEC" ]; then
	n=0 proto=
	while IFS= read -r line; do
		case $line in
		*'"protocol":'*) proto=$(sed 's/.*"protocol": *"\([a-z0-9]*\).*/\1/' <<<"$line") ;;
		*'"hex":'*)
			hex=$(sed 's/.*"hex": *"\([0-9A-Fa-f ]*\)".*/\1/' <<<"$line" | tr -d ' ')
			case $proto in dlt645*) d=dlt645 ;; cjt188*) d=cjt188 ;; modbus*) d=modbus ;; *) continue ;; esac
			esc=$(sed 's/\(..\)/\\x\1/g' <<<"$hex")
			printf '%b' "$esc" >"$OUT/corpus-$d/seed-$n"
			n=$((n + 1)) ;;
		esac
	done <"$VEC"
	echo "run.sh: $n seed frames from $VEC"
fi

rc=0
for p in dlt645 cjt188 modbus; do
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Ilib \
		"tests/fuzz/fuzz_$p.c" lib/proto/meter_proto.c lib/proto/dlt645.c lib/proto/modbus.c \
		lib/proto/cjt188.c -o "$OUT/fuzz_$p"
	echo "run.sh: fuzz_$p for $SECS s"
	(cd "$OUT" && ./"fuzz_$p" -max_total_time="$SECS" -print_final_stats=1 "corpus-$p" \
		>"fuzz_$p.log" 2>&1) || { rc=1; echo "run.sh: fuzz_$p FAILED, see $OUT/fuzz_$p.log" >&2; tail -30 "$OUT/fuzz_$p.log" >&2; }
	grep -E '^stat::number_of_executed_units' "$OUT/fuzz_$p.log" || true
done
[ "$rc" -eq 0 ] && echo "run.sh: all fuzz targets ran clean"
exit "$rc"
