/*
 * test_billing_props.c - the billing area's second unit file: the printf-free
 * label formatter (lib/money.c money_put_*, lib/billing.c priced labels)
 * against a printf reference that writes the labels exactly as the engine
 * did before, byte for byte, on edge values and a million random ones; and
 * properties of the engine on seeded random inputs that test_billing.c does
 * not cover (water components and TOU model B monotonic, apportionment
 * within one fen of its exact share by area and per household). Every
 * random test prints its seed and case number when a check fails, so a
 * failure can be replayed (XQ_TEST_SEED=<n> overrides the seed).
 */
#include "billing.h"
#include "money.h"
#include "tariff.h"
#include "test.h"

#include <inttypes.h>
#include <stdlib.h>

static uint64_t seed_of(uint64_t dflt)
{
	const char *s = getenv("XQ_TEST_SEED");

	return s && *s ? strtoull(s, NULL, 10) : dflt;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random int64 with every magnitude equally likely (1 to 19 digits), either sign. */
static int64_t rnd_i64(uint64_t *s)
{
	uint64_t digits = 1 + rnd(s) % 19, mod = 1;
	int64_t v;

	for (uint64_t i = 0; i < digits; i++)
		mod *= 10;
	v = (int64_t)(rnd(s) % mod);
	return rnd(s) & 1 ? -v : v;
}

#define FAILED_AT(seed, i)                                                     \
	fprintf(stderr, "  (seed %" PRIu64 ", case %d: XQ_TEST_SEED=%" PRIu64 " replays it)\n", \
		(uint64_t)(seed), (int)(i), (uint64_t)(seed))

/* ------------------------------------------------------------------ the printf reference */

/* v / 10^dec with dec decimals, as the engine's labels have always shown it. */
static void ref_fixed(int64_t v, int dec, char *out, size_t n)
{
	uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v, p = dec == 2 ? 100 : 10000;

	snprintf(out, n, "%s%" PRIu64 ".%0*" PRIu64, v < 0 ? "-" : "", mag / p, dec, mag % p);
}

/* milli -> hundredths by MONEY-ROUND-01 (half away from zero), then 2 decimals. */
static void ref_qty(int64_t milli, char *out, size_t n)
{
	int64_t centi = 0;

	XQ_ASSERT(money_round_fen(milli, 10, &centi) == XQ_OK);
	ref_fixed(centi, 2, out, n);
}

static void ref_label(char *out, size_t n, int32_t first, int32_t last, const char *name,
		      int64_t qty, const char *unit, int64_t price, int64_t fen)
{
	char prefix[64] = "", q[32], p[32], a[32];

	if (first || last) {
		int y1, m1, d1, y2, m2, d2;
		billing_civil(first, &y1, &m1, &d1);
		billing_civil(last, &y2, &m2, &d2);
		snprintf(prefix, sizeof(prefix), "%04d-%02d-%02d至%04d-%02d-%02d ", y1, m1, d1, y2, m2,
			 d2);
	}
	ref_qty(qty, q, sizeof(q));
	ref_fixed(price, 4, p, sizeof(p));
	ref_fixed(fen, 2, a, sizeof(a));
	snprintf(out, n, "%s%s %s %s × %s = %s 元", prefix, name, q, unit, p, a);
}

/* ------------------------------------------------------------------ formatter tests */

static void check_one_number(int64_t v)
{
	char got[MONEY_STR_MAX], want[64], fmt[MONEY_STR_MAX];
	size_t len;

	len = money_put_yuan(v, got);
	ref_fixed(v, 2, want, sizeof(want));
	CHECK_STR(got, want);
	CHECK_EQ_I64(len, strlen(want));
	CHECK_EQ_I64(money_format_yuan(v, fmt, sizeof(fmt)), XQ_OK);
	CHECK_STR(fmt, want);
	len = money_put_price(v, got);
	ref_fixed(v, 4, want, sizeof(want));
	CHECK_STR(got, want);
	CHECK_EQ_I64(len, strlen(want));
	CHECK_EQ_I64(money_format_price(v, fmt, sizeof(fmt)), XQ_OK);
	CHECK_STR(fmt, want);
	len = money_put_qty(v, got);
	ref_qty(v, want, sizeof(want));
	CHECK_STR(got, want);
	CHECK_EQ_I64(len, strlen(want));
	CHECK_EQ_I64(money_format_qty(v, fmt, sizeof(fmt)), XQ_OK);
	CHECK_STR(fmt, want);
}

TEST(format_edges)
{
	static const int64_t edge[] = {
		0, 1, -1, 4, 5, 6, -4, -5, -6, 9, 10, 99, 100, 101, -99, -100, -101, 994, 995, 996,
		-994, -995, -996, 1004, 1005, 1006, -1005, 9999, 10000, -10000, 10005, 99995,
		-99995, 4883, 5383, 7883, 24415, INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1,
		INT64_MAX / 10, INT64_MIN / 10, 922337203685477580LL, -922337203685477585LL,
	};
	char b[MONEY_STR_MAX];

	for (size_t i = 0; i < XQ_ARRAY_LEN(edge); i++)
		check_one_number(edge[i]);
	/* the worked examples of money.h */
	money_put_qty(1005, b);
	CHECK_STR(b, "1.01");
	money_put_qty(1004, b);
	CHECK_STR(b, "1.00");
	money_put_qty(-1005, b);
	CHECK_STR(b, "-1.01");
	money_put_yuan(INT64_MIN, b);
	CHECK_STR(b, "-92233720368547758.08");
	money_put_price(-300, b);
	CHECK_STR(b, "-0.0300");
	/* too small a buffer: refused, untouched */
	memcpy(b, "xyz", 4);
	CHECK_EQ_I64(money_format_yuan(123456, b, 6), XQ_EINVAL);
	CHECK_STR(b, "xyz");
	CHECK_EQ_I64(money_format_yuan(123456, b, 8), XQ_OK);
	CHECK_STR(b, "1234.56");
}

TEST(format_random_matches_printf)
{
	uint64_t seed = seed_of(20261201), s = seed;

	for (int i = 0; i < 300000; i++) {
		int before = test_failed_;
		int64_t v = rnd_i64(&s);
		/* the 0.005 boundaries: ...5 in the third decimal of a quantity */
		if (i % 4 == 0)
			v = v / 10 * 10 + (v < 0 ? -5 : 5);
		check_one_number(v);
		if (test_failed_ != before) {
			FAILED_AT(seed, i);
			break;
		}
	}
}

TEST(priced_label_matches_printf)
{
	static const char *const names[] = { "第一档", "第二档 峰时", "峰时", "第二档加价",
					     "第一档 水费", "水资源费", "污水处理费", "电费" };
	static const char *const units[] = { "kWh", "m³" };
	uint64_t seed = seed_of(7741), s = seed;
	char got[160], want[256];
	int32_t d0 = 0;

	XQ_ASSERT(billing_day(2024, 6, 11, &d0) == XQ_OK);
	/* the documented examples */
	CHECK_EQ_I64(billing_priced_label(got, sizeof(got), 0, 0, "第二档", 100000, "kWh", 5383,
					  5383),
		     XQ_OK);
	CHECK_STR(got, "第二档 100.00 kWh × 0.5383 = 53.83 元");
	CHECK_EQ_I64(billing_priced_label(got, sizeof(got), d0, d0 + 19, "第一档", 160000, "kWh",
					  4883, 7813),
		     XQ_OK);
	CHECK_STR(got, "2024-06-11至2024-06-30 第一档 160.00 kWh × 0.4883 = 78.13 元");
	for (int i = 0; i < 200000; i++) {
		int before = test_failed_;
		int segs = (int)(rnd(&s) % 3 == 0);
		int32_t first = segs ? (int32_t)(rnd(&s) % 80000) : 0;
		int32_t last = segs ? first + (int32_t)(rnd(&s) % 40) : 0;
		const char *name = names[rnd(&s) % XQ_ARRAY_LEN(names)];
		const char *unit = units[rnd(&s) % 2];
		int64_t qty = i % 5 ? (int64_t)(rnd(&s) % 10000000) : rnd_i64(&s);
		int64_t price = i % 7 ? (int64_t)(rnd(&s) % 100000) : rnd_i64(&s);
		int64_t fen = i % 3 ? (int64_t)(rnd(&s) % 100000000) : rnd_i64(&s);

		ref_label(want, sizeof(want), first, last, name, qty, unit, price, fen);
		if (strlen(want) < sizeof(got)) {
			CHECK_EQ_I64(billing_priced_label(got, sizeof(got), first, last, name, qty, unit,
							  price, fen),
				     XQ_OK);
			CHECK_STR(got, want);
		} else {
			/* a label that does not fit is refused, never cut */
			CHECK_EQ_I64(billing_priced_label(got, sizeof(got), first, last, name, qty, unit,
							  price, fen),
				     XQ_EOVERFLOW);
		}
		if (test_failed_ != before) {
			FAILED_AT(seed, i);
			break;
		}
	}
}


/* ------------------------------------------------------------------ engine properties */

#define WATER3                                                                 \
	"{\"utility\":\"water\",\"basis\":\"annual\",\"tiers\":["                   \
	"{\"upto_m3\":180},{\"upto_m3\":260},{}],\"components\":["                 \
	"{\"name\":\"water\",\"label\":\"水费\",\"prices\":[\"2.07\",\"4.07\",\"6.07\"]}," \
	"{\"name\":\"resource\",\"label\":\"水资源费\",\"price\":\"1.57\"},"         \
	"{\"name\":\"sewage\",\"label\":\"污水处理费\",\"prices\":[\"1.36\",\"1.36\",\"1.36\"]}]}"

#define SHANGHAI_B                                                             \
	"{\"utility\":\"electric\",\"basis\":\"annual\",\"tiers\":["                \
	"{\"upto_kwh\":3120,\"prices\":{\"peak\":\"0.617\",\"valley\":\"0.307\"}},"       \
	"{\"upto_kwh\":4800,\"prices\":{\"peak\":\"0.677\",\"valley\":\"0.337\"}},"       \
	"{\"prices\":{\"peak\":\"0.977\",\"valley\":\"0.487\"}}],"                        \
	"\"tou\":{\"model\":\"B\",\"periods\":["                                    \
	"{\"name\":\"peak\",\"windows\":[\"06:00-22:00\"]},"                          \
	"{\"name\":\"valley\",\"windows\":[\"22:00-06:00\"]}]}}"

static struct tariff parsed(const char *json)
{
	struct tariff t;
	char err[256];

	memset(&t, 0, sizeof(t));
	if (tariff_parse(json, &t, err, sizeof(err))) {
		fprintf(stderr, "test tariff rejected: %s\n", err);
		abort();
	}
	return t;
}

/* Total of one bill over June 2024 (total register, or peak + valley registers). */
static int64_t bill_fen(const struct tariff *t, int64_t total, int64_t peak, int64_t valley,
			int64_t ytd)
{
	struct billing_version v = { t, 1, 0 };
	struct billing_input in;
	struct billing_result r;
	int64_t fen;
	char err[256];

	XQ_ASSERT(billing_day(2024, 1, 1, &v.effective_day) == XQ_OK);
	memset(&in, 0, sizeof(in));
	in.versions = &v;
	in.n_versions = 1;
	in.bill_year = 2024;
	in.bill_month = 6;
	XQ_ASSERT(billing_day(2024, 6, 1, &in.first_day) == XQ_OK);
	XQ_ASSERT(billing_day(2024, 6, 30, &in.last_day) == XQ_OK);
	in.total_raw_milli = total;
	in.period_raw_milli[TARIFF_PEAK] = peak;
	in.period_raw_milli[TARIFF_VALLEY] = valley;
	in.ytd_before_milli = ytd;
	if (billing_compute(&in, &r, err, sizeof(err))) {
		fprintf(stderr, "compute: %s\n", err);
		return -1;
	}
	fen = r.total_fen;
	billing_result_release(&r);
	return fen;
}

/* More water never costs less, whatever the year-to-date (three components on tiers). */
TEST(property_water_components_monotonic)
{
	struct tariff w = parsed(WATER3);
	uint64_t seed = seed_of(31337), s = seed;

	for (int i = 0; i < 5000; i++) {
		int before = test_failed_;
		int64_t q = (int64_t)(rnd(&s) % 60000), d = 1 + (int64_t)(rnd(&s) % 5000);
		int64_t ytd = (int64_t)(rnd(&s) % 320000);
		int64_t a = bill_fen(&w, q, 0, 0, ytd), b = bill_fen(&w, q + d, 0, 0, ytd);

		CHECK(a >= 0);
		CHECK(b >= a);
		/* (a later point in the tier year moves the same use into dearer tiers, but
		 * each line is rounded on its own, so that is only true within 1 fen a line:
		 * not a property; more use is, because every tier portion grows) */
		if (test_failed_ != before) {
			FAILED_AT(seed, i);
			break;
		}
	}
	tariff_release(&w);
}

/* TOU model B (per-tier, per-period prices): more in either period never costs less. */
TEST(property_tou_model_b_monotonic)
{
	struct tariff t = parsed(SHANGHAI_B);
	uint64_t seed = seed_of(4242), s = seed;

	for (int i = 0; i < 5000; i++) {
		int before = test_failed_;
		int64_t pk = (int64_t)(rnd(&s) % 800) * 1000, vl = (int64_t)(rnd(&s) % 800) * 1000;
		int64_t d = (1 + (int64_t)(rnd(&s) % 50)) * 1000, ytd = (int64_t)(rnd(&s) % 5500) * 1000;
		int64_t a = bill_fen(&t, 0, pk, vl, ytd);

		CHECK(a >= 0);
		CHECK(bill_fen(&t, 0, pk + d, vl, ytd) >= a);
		CHECK(bill_fen(&t, 0, pk, vl + d, ytd) >= a);
		if (test_failed_ != before) {
			FAILED_AT(seed, i);
			break;
		}
	}
	tariff_release(&t);
}

/*
 * A supply meter's remainder shared by floor area (0.01 m²) and per household:
 * the shares add up to the remainder exactly and no share is 1 fen or more
 * away from its exact value total x w / W.
 */
TEST(property_apportion_within_one_fen)
{
	uint64_t seed = seed_of(8080), s = seed;

	for (int i = 0; i < 4000; i++) {
		int before = test_failed_;
		int64_t w[64], out[64], sum = 0, wsum = 0;
		size_t n = 1 + rnd(&s) % 64;
		int per_household = i % 2;
		/* the remainder in fen: the supply meter's kWh less the sub-meters', priced */
		int64_t total = (int64_t)(rnd(&s) % 10000000);

		for (size_t k = 0; k < n; k++) {
			w[k] = per_household ? 1 : 3000 + (int64_t)(rnd(&s) % 20000); /* 30-230 m² */
			wsum += w[k];
		}
		CHECK_EQ_I64(billing_apportion(total, w, n, out), XQ_OK);
		for (size_t k = 0; k < n; k++) {
			__int128 exact = (__int128)total * w[k], mine = (__int128)out[k] * wsum;
			__int128 diff = mine > exact ? mine - exact : exact - mine;
			sum += out[k];
			CHECK(diff < wsum); /* |out - total x w / W| < 1 fen */
		}
		CHECK_EQ_I64(sum, total);
		if (test_failed_ != before) {
			FAILED_AT(seed, i);
			break;
		}
	}
}

int main(void)
{
	RUN(format_edges);
	RUN(format_random_matches_printf);
	RUN(priced_label_matches_printf);
	RUN(property_water_components_monotonic);
	RUN(property_tou_model_b_monotonic);
	RUN(property_apportion_within_one_fen);
	return test_report();
}
