/*
 * billing_engine.c - lib/billing.c alone, in memory, on one core: how many
 * bills a second billing_compute() prices, line labels included. The mix
 * is what a run sees: Zhejiang annual tiers on TOU model A (three rate
 * registers, year-to-date anywhere in the tier year) and an annual
 * three-component water tariff, quantities from a fixed PRNG stream.
 * Built and run by bench/billing.sh; prints one line per tariff.
 *   billing_engine [BILLS]     (default 2,000,000 per tariff)
 */
#include "billing.h"
#include "tariff.h"
#include "xq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* CPU time of this thread: on a shared, loaded machine wall time says little. */
static int64_t cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const char electric[] =
	"{\"utility\":\"electric\",\"basis\":\"annual\",\"tiers\":["
	"{\"upto_kwh\":2760,\"increment\":\"0\"},{\"upto_kwh\":4800,\"increment\":\"0.05\"},"
	"{\"increment\":\"0.30\"}],\"tou\":{\"model\":\"A\",\"periods\":["
	"{\"name\":\"peak\",\"windows\":[\"08:00-11:00\",\"18:00-22:00\"],\"price\":\"0.568\"},"
	"{\"name\":\"flat\",\"windows\":[\"11:00-18:00\"],\"price\":\"0.538\"},"
	"{\"name\":\"valley\",\"windows\":[\"22:00-08:00\"],\"price\":\"0.288\"}]}}";

static const char water[] =
	"{\"utility\":\"water\",\"basis\":\"annual\",\"tiers\":["
	"{\"upto_m3\":216},{\"upto_m3\":300},{}],\"components\":["
	"{\"name\":\"water\",\"label\":\"水费\",\"prices\":[\"1.75\",\"2.70\",\"5.55\"]},"
	"{\"name\":\"resource\",\"label\":\"水资源费\",\"price\":\"0.20\"},"
	"{\"name\":\"sewage\",\"label\":\"污水处理费\",\"price\":\"0.95\"}]}";

static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int bench(const char *name, const char *json, int tou, long n)
{
	struct tariff t;
	struct billing_version v;
	struct billing_input in;
	struct billing_result r;
	char err[256];
	uint64_t s = 0x2545f4914f6cdd1dull;
	int64_t t0, c0, us, cus, fen = 0, lines = 0;

	memset(&t, 0, sizeof(t));
	if (tariff_parse(json, &t, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", name, err);
		return 1;
	}
	memset(&v, 0, sizeof(v));
	v.tariff = &t;
	v.version_id = 1;
	billing_day(2026, 1, 1, &v.effective_day);
	memset(&in, 0, sizeof(in));
	in.versions = &v;
	in.n_versions = 1;
	in.bill_year = 2026;
	in.bill_month = 10;
	billing_day(2026, 10, 1, &in.first_day);
	billing_day(2026, 10, 31, &in.last_day);
	t0 = xq_mono_us();
	c0 = cpu_us();
	for (long i = 0; i < n; i++) {
		in.ytd_before_milli = (int64_t)(next(&s) % 5500000);
		if (tou) {
			in.period_raw_milli[TARIFF_PEAK] = (int64_t)(next(&s) % 300000);
			in.period_raw_milli[TARIFF_FLAT] = (int64_t)(next(&s) % 200000);
			in.period_raw_milli[TARIFF_VALLEY] = (int64_t)(next(&s) % 200000);
		} else {
			in.ytd_before_milli %= 320000;
			in.total_raw_milli = (int64_t)(next(&s) % 30000);
		}
		if (billing_compute(&in, &r, err, sizeof(err))) {
			fprintf(stderr, "%s: %s\n", name, err);
			return 1;
		}
		fen += r.total_fen;
		lines += (int64_t)r.n_lines;
		billing_result_release(&r);
	}
	us = xq_mono_us() - t0;
	cus = cpu_us() - c0;
	printf("%-8s %ld bills in %lld.%03lld s = %lld bills/s wall, %lld bills/s of CPU time"
	       " (%.1f lines/bill, checksum %lld fen)\n",
	       name, n, (long long)(us / 1000000), (long long)(us / 1000 % 1000),
	       (long long)(n * 1000000LL / (us ? us : 1)), (long long)(n * 1000000LL / (cus ? cus : 1)),
	       (double)lines / (double)n, (long long)fen);
	tariff_release(&t);
	return 0;
}

int main(int argc, char **argv)
{
	int64_t n = 2000000;

	if (argc > 1 && (xq_parse_i64(argv[1], &n) || n < 1)) {
		fprintf(stderr, "usage: billing_engine [BILLS]\n");
		return 2;
	}
	return bench("electric", electric, 1, (long)n) || bench("water", water, 0, (long)n);
}
