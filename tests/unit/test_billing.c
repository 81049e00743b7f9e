/*
 * test_billing.c - lib/billing.c beside the hand-computed cases in
 * tests/cases/billing/: apportionment (APPORTION-LRM-01) against an
 * independent check, late fees (LATEFEE-*), dates, the day split
 * (PRORATE-DAYS-01), input rejection, XQ_EOVERFLOW at the int64 edges, the
 * fields of bill lines, and the model-B split never going negative; the
 * issue's seed examples, real provincial tariffs at and around every tier
 * bound against an independent calculator, properties on random inputs
 * (more use never costs less, an annual period split at any day bills the
 * same, apportionment sums exactly), and billrun.c's pure parts (period
 * bounds, register rollover).
 */
#include "billing.h"
#include "billrun.h"
#include "money.h"
#include "tariff.h"
#include "test.h"

#include <stdlib.h>

#define SENTINEL ((int64_t)777)

#define ZHEJIANG_A                                                             \
	"{\"utility\":\"electric\",\"basis\":\"annual\",\"tiers\":["               \
	"{\"upto_kwh\":2760,\"increment\":\"0\"},{\"upto_kwh\":4800,\"increment\":\"0.05\"}," \
	"{\"increment\":\"0.30\"}],\"tou\":{\"model\":\"A\",\"periods\":["          \
	"{\"name\":\"peak\",\"windows\":[\"08:00-22:00\"],\"price\":\"0.568\"},"    \
	"{\"name\":\"valley\",\"windows\":[\"22:00-08:00\"],\"price\":\"0.288\"}]}}"

#define BEIJING_MONTHLY                                                        \
	"{\"utility\":\"electric\",\"basis\":\"monthly\",\"tiers\":["              \
	"{\"upto_kwh\":240,\"price\":\"0.4883\"},{\"upto_kwh\":400,\"price\":\"0.5383\"}," \
	"{\"price\":\"0.7883\"}]}"

#define FLAT(price, extra)                                                     \
	"{\"utility\":\"electric\",\"basis\":\"monthly\",\"tiers\":[{\"price\":\"" price "\"}]" extra "}"

static struct tariff tariff_of(const char *json)
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

static int32_t day(int y, int m, int d)
{
	int32_t n = 0;

	XQ_ASSERT(billing_day(y, m, d, &n) == XQ_OK);
	return n;
}

/* One version in force from the start, whole June 2024. */
static void setup(struct billing_input *in, struct billing_version *v, const struct tariff *t)
{
	memset(in, 0, sizeof(*in));
	v->tariff = t;
	v->version_id = 42;
	v->effective_day = day(2024, 1, 1);
	in->versions = v;
	in->n_versions = 1;
	in->bill_year = 2024;
	in->bill_month = 6;
	in->first_day = day(2024, 6, 1);
	in->last_day = day(2024, 6, 30);
}

/* ------------------------------------------------------------------ apportionment */

#define CHECK_SPLIT(total, w, ...)                                             \
	do {                                                                   \
		const int64_t w_[] = { w };                                    \
		const int64_t want_[] = { __VA_ARGS__ };                       \
		int64_t out_[XQ_ARRAY_LEN(w_)];                                \
		CHECK_EQ_I64(billing_apportion((total), w_, XQ_ARRAY_LEN(w_), out_), XQ_OK); \
		for (size_t i_ = 0; i_ < XQ_ARRAY_LEN(w_); i_++)               \
			CHECK_EQ_I64(out_[i_], want_[i_]);                     \
	} while (0)

#define W(...) __VA_ARGS__

TEST(apportion_lrm_01_examples)
{
	CHECK_SPLIT(10000, W(8000, 9000, 10000), 2963, 3333, 3704);
	CHECK_SPLIT(1003, W(1, 1, 1, 1, 1), 201, 201, 201, 200, 200);
	CHECK_SPLIT(100, W(1, 1, 1), 34, 33, 33);
	CHECK_SPLIT(0, W(3, 4), 0, 0);
	CHECK_SPLIT(777, W(5), 777);
	CHECK_SPLIT(101, W(0, 1, 1), 0, 51, 50);  /* a zero weight never gets a leftover fen */
	CHECK_SPLIT(2, W(1, 0, 1, 0, 1), 1, 0, 1, 0, 0);
	CHECK_SPLIT(INT64_MAX, W(1, 1), INT64_MAX / 2 + 1, INT64_MAX / 2);
	CHECK_SPLIT(INT64_MAX, W(INT64_MAX - 1, 1), INT64_MAX - 1, 1);
}

TEST(apportion_rejects)
{
	int64_t out[3] = { SENTINEL, SENTINEL, SENTINEL };
	const int64_t ok[] = { 1, 2, 3 }, neg[] = { 1, -1, 3 }, zero[] = { 0, 0, 0 };
	const int64_t big[] = { INT64_MAX, 1, 0 };

	CHECK_EQ_I64(billing_apportion(100, ok, 0, out), XQ_EINVAL);
	CHECK_EQ_I64(billing_apportion(100, NULL, 3, out), XQ_EINVAL);
	CHECK_EQ_I64(billing_apportion(100, ok, 3, NULL), XQ_EINVAL);
	CHECK_EQ_I64(billing_apportion(-1, ok, 3, out), XQ_EINVAL);
	CHECK_EQ_I64(billing_apportion(100, neg, 3, out), XQ_EINVAL);
	CHECK_EQ_I64(billing_apportion(100, zero, 3, out), XQ_EINVAL);
	CHECK_EQ_I64(billing_apportion(100, big, 3, out), XQ_EOVERFLOW);
	CHECK_EQ_I64(out[0], SENTINEL);
	CHECK_EQ_I64(out[2], SENTINEL);
}

/* A small local generator: tests must not depend on rand(). */
static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005u + 1442695040888963407u;
	return *s >> 33;
}

/*
 * Against the definition, for many random splits: shares add up, each is
 * floor or floor + 1 of the exact share, and a +1 never goes to a smaller
 * remainder (or an equal remainder at a higher index) than a share left at
 * its floor.
 */
TEST(apportion_lrm_01_property)
{
	uint64_t seed = 12345;

	for (int iter = 0; iter < 2000; iter++) {
		int64_t w[20], out[20], rem[20], fl[20], total, wsum = 0, sum = 0;
		size_t n = 1 + lcg(&seed) % 20;
		int ok = 1;

		for (size_t i = 0; i < n; i++) {
			w[i] = (int64_t)(lcg(&seed) % 4 == 0 ? 0 : lcg(&seed) % 100000);
			wsum += w[i];
		}
		if (wsum == 0)
			w[0] = 1, wsum = 1;
		total = (int64_t)(lcg(&seed) % 1000000000);
		CHECK_EQ_I64(billing_apportion(total, w, n, out), XQ_OK);
		for (size_t i = 0; i < n; i++) {
			fl[i] = (int64_t)((__int128)total * w[i] / wsum);
			rem[i] = (int64_t)((__int128)total * w[i] % wsum);
			sum += out[i];
			ok &= out[i] == fl[i] || (out[i] == fl[i] + 1 && rem[i] > 0);
		}
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < n; j++)
				if (out[i] == fl[i] && out[j] == fl[j] + 1)
					ok &= rem[j] > rem[i] || (rem[j] == rem[i] && j < i);
		CHECK_EQ_I64(sum, total);
		CHECK(ok);
	}
}

/* ------------------------------------------------------------------ late fees */

#define CHECK_FEE(p, r, d, want)                                               \
	do {                                                                   \
		int64_t f_ = SENTINEL;                                         \
		CHECK_EQ_I64(billing_late_fee((p), (r), (d), &f_), XQ_OK);     \
		CHECK_EQ_I64(f_, (want));                                      \
	} while (0)

TEST(latefee_daily_01)
{
	int64_t f = SENTINEL;

	CHECK_FEE(14210, 1000, 15, 213); /* 213.15 fen */
	CHECK_FEE(500, 1000, 1, 1);      /* exactly half a fen rounds up */
	CHECK_FEE(499, 1000, 1, 0);
	CHECK_FEE(1500, 1000, 1, 2);
	CHECK_FEE(333, 1000, 3, 1);      /* 0.999 rounded once; per day it would be 0 */
	CHECK_FEE(14210, 1000, 0, 0);
	CHECK_FEE(0, 1000, 30, 0);
	CHECK_FEE(100000, 3000, 10, 3000); /* 3‰ on prior-year arrears */
	CHECK_EQ_I64(billing_late_fee(-1, 1000, 1, &f), XQ_EINVAL);
	CHECK_EQ_I64(billing_late_fee(1, -1, 1, &f), XQ_EINVAL);
	CHECK_EQ_I64(billing_late_fee(1, 1000, -1, &f), XQ_EINVAL);
	CHECK_EQ_I64(billing_late_fee(INT64_MAX, 10000, 1000, &f), XQ_EOVERFLOW);
	CHECK_EQ_I64(billing_late_fee(INT64_MAX, INT64_MAX, INT64_MAX, &f), XQ_EOVERFLOW);
	CHECK_EQ_I64(f, SENTINEL);
	/* The largest fee that fits. */
	CHECK_FEE(INT64_MAX, 1000000, 1, INT64_MAX);
}

TEST(latefee_policy)
{
	struct tariff_late_fee p = { 1000, 0, 0, 0 };
	struct billing_arrear two[] = { { 10000, 10 }, { 5000, 20 } };
	struct billing_arrear tiny[] = { { 400, 1 }, { 400, 1 } };
	struct billing_arrear one = { 10000, 10 }, year = { 1000, 365 }, small = { 50, 20 };
	struct billing_arrear huge[] = { { INT64_MAX, 0 }, { 1, 0 } };
	int64_t f = SENTINEL;

	/* RULE: LATEFEE-SEGMENTS-01: a part paid early stops accruing. */
	CHECK_EQ_I64(billing_late_fee_policy(&p, two, 2, &f), XQ_OK);
	CHECK_EQ_I64(f, 200);
	CHECK_EQ_I64(billing_late_fee_policy(&p, tiny, 2, &f), XQ_OK);
	CHECK_EQ_I64(f, 1); /* 0.4 + 0.4 rounded once, not 0 + 0 */
	p.grace_days = 3;
	CHECK_EQ_I64(billing_late_fee_policy(&p, &one, 1, &f), XQ_OK);
	CHECK_EQ_I64(f, 70);
	p.grace_days = 30;
	p.minimum_fen = 100;
	CHECK_EQ_I64(billing_late_fee_policy(&p, &one, 1, &f), XQ_OK);
	CHECK_EQ_I64(f, 0); /* within grace: no fee, and no minimum either */
	p.grace_days = 0;
	CHECK_EQ_I64(billing_late_fee_policy(&p, &small, 1, &f), XQ_OK);
	CHECK_EQ_I64(f, 100); /* 1 fen raised to the minimum */
	p.minimum_fen = 0;
	p.cap_pct = 10;
	CHECK_EQ_I64(billing_late_fee_policy(&p, &year, 1, &f), XQ_OK);
	CHECK_EQ_I64(f, 100); /* 365 capped at 10 % of 1000 */
	p.minimum_fen = 100;
	p.cap_pct = 100;
	CHECK_EQ_I64(billing_late_fee_policy(&p, &small, 1, &f), XQ_OK);
	CHECK_EQ_I64(f, 50); /* minimum 100, but never above the principal */
	f = SENTINEL;
	CHECK_EQ_I64(billing_late_fee_policy(NULL, &one, 1, &f), XQ_EINVAL);
	CHECK_EQ_I64(billing_late_fee_policy(&p, NULL, 1, &f), XQ_EINVAL);
	CHECK_EQ_I64(billing_late_fee_policy(&p, huge, 2, &f), XQ_EOVERFLOW);
	CHECK_EQ_I64(f, SENTINEL);
	CHECK_EQ_I64(billing_late_fee_policy(&p, NULL, 0, &f), XQ_OK);
	CHECK_EQ_I64(f, 0);
}

TEST(latefee_line)
{
	struct tariff_late_fee p = { 1000, 0, 0, 0 };
	struct bill_line l;

	CHECK_EQ_I64(billing_late_fee_line(&p, 14210, 15, &l), XQ_OK);
	CHECK_STR(l.label_zh, "违约金 142.10 元 × 1‰ × 15 天 = 2.13 元");
	CHECK_STR(l.kind, "late_fee");
	CHECK_STR(l.rule, "LATEFEE-DAILY-01");
	CHECK_EQ_I64(l.amount_fen, 213);
	p = (struct tariff_late_fee){ 500, 3, 0, 0 };
	CHECK_EQ_I64(billing_late_fee_line(&p, 10000, 13, &l), XQ_OK);
	CHECK_STR(l.label_zh, "违约金 100.00 元 × 0.5‰ × 10 天（逾期 13 天，宽限 3 天） = 0.50 元");
	p = (struct tariff_late_fee){ 1000, 0, 0, 10 };
	CHECK_EQ_I64(billing_late_fee_line(&p, 1000, 365, &l), XQ_OK);
	CHECK_STR(l.label_zh, "违约金 10.00 元 × 1‰ × 365 天 = 3.65 元，以本金的 10% 为上限，计 1.00 元");
	CHECK_STR(l.rule, "LATEFEE-CAP-01");
	p = (struct tariff_late_fee){ 1000, 0, 100, 100 };
	CHECK_EQ_I64(billing_late_fee_line(&p, 50, 20, &l), XQ_OK);
	CHECK_STR(l.label_zh, "违约金 0.50 元 × 1‰ × 20 天 = 0.01 元，不足 1.00 元按 1.00 元计，"
			      "以本金的 100% 为上限，计 0.50 元");
	CHECK_EQ_I64(l.amount_fen, 50);
	p = (struct tariff_late_fee){ 1250, 0, 0, 0 };
	CHECK_EQ_I64(billing_late_fee_line(&p, 100000, 1, &l), XQ_OK);
	CHECK_STR(l.label_zh, "违约金 1000.00 元 × 1.25‰ × 1 天 = 1.25 元");
	p = (struct tariff_late_fee){ 1, 0, 0, 0 };
	CHECK_EQ_I64(billing_late_fee_line(&p, 100000000, 1, &l), XQ_OK);
	CHECK_STR(l.label_zh, "违约金 1000000.00 元 × 0.001‰ × 1 天 = 1.00 元");
}

/* ------------------------------------------------------------------ dates */

TEST(dates)
{
	int32_t d = -1, last = 0;
	int y, m, md;

	CHECK_EQ_I64(billing_day(1970, 1, 1, &d), XQ_OK);
	CHECK_EQ_I64(d, 0);
	CHECK_EQ_I64(billing_day(2000, 3, 1, &d), XQ_OK);
	CHECK_EQ_I64(d, 11017);
	CHECK_EQ_I64(billing_day(2024, 2, 29, &d), XQ_OK);
	CHECK_EQ_I64(billing_day(2023, 2, 29, &d), XQ_EINVAL);
	CHECK_EQ_I64(billing_day(2100, 2, 29, &d), XQ_EINVAL);
	CHECK_EQ_I64(billing_day(2024, 13, 1, &d), XQ_EINVAL);
	CHECK_EQ_I64(billing_day(2024, 4, 31, &d), XQ_EINVAL);
	CHECK_EQ_I64(billing_day(1969, 12, 31, &d), XQ_EINVAL);
	CHECK_EQ_I64(billing_day(2200, 12, 31, &last), XQ_OK);
	/* Every day of the range survives civil -> day. */
	for (int32_t n = 0; n <= last; n++) {
		int32_t back = -1;

		billing_civil(n, &y, &m, &md);
		if (billing_day(y, m, md, &back) != XQ_OK || back != n) {
			CHECK_EQ_I64(back, n);
			break;
		}
	}
	billing_civil(day(2024, 12, 31) + 1, &y, &m, &md);
	CHECK(y == 2025 && m == 1 && md == 1);
}

/* ------------------------------------------------------------------ day split */

TEST(prorate_days_01_split)
{
	int64_t parts[5];
	const int64_t two[] = { 20, 30 }, five[] = { 2, 4, 6, 8, 9 }, frac[] = { 19, 20 };
	uint64_t seed = 99;

	CHECK_EQ_I64(billing_split_days(300000, two, 2, 30, parts), XQ_OK);
	CHECK_EQ_I64(parts[0], 200000);
	CHECK_EQ_I64(parts[1], 100000);
	/*
	 * 7 kWh over 2+2+2+2+1 days: "round each but the last" would give
	 * 2, 2, 2, 2 and then -1; the cumulative form gives 2, 1, 2, 1, 1.
	 */
	CHECK_EQ_I64(billing_split_days(7000, five, 5, 9, parts), XQ_OK);
	CHECK(parts[0] == 2000 && parts[1] == 1000 && parts[2] == 2000 && parts[3] == 1000 &&
	      parts[4] == 1000);
	/* A fractional total never gives a part more than the whole. */
	CHECK_EQ_I64(billing_split_days(1600, frac, 2, 20, parts), XQ_OK);
	CHECK(parts[0] == 1600 && parts[1] == 0);
	/* Two segments are exactly tariff-rules.md 6.5: round(q x d / D), remainder last. */
	for (int i = 0; i < 500; i++) {
		int64_t q = (int64_t)(lcg(&seed) % 100000) * 1000, days = 28 + (int64_t)(lcg(&seed) % 35);
		int64_t d1 = 1 + (int64_t)(lcg(&seed) % (uint64_t)(days - 1)), cum[2] = { d1, days };
		int64_t want = 0;

		money_muldiv_round(q / 1000, d1, days, &want);
		CHECK_EQ_I64(billing_split_days(q, cum, 2, days, parts), XQ_OK);
		if (parts[0] != want * 1000 || parts[0] + parts[1] != q) {
			CHECK_EQ_I64(parts[0], want * 1000);
			break;
		}
	}
}

/* ------------------------------------------------------------------ compute: rejections */

#define CHECK_REFUSED(in, want_rc, msg)                                        \
	do {                                                                   \
		struct billing_result r_;                                      \
		char err_[256];                                                \
		CHECK_EQ_I64(billing_compute((in), &r_, err_, sizeof(err_)), (want_rc)); \
		CHECK_STR(err_, (msg));                                        \
		CHECK(r_.lines == NULL && r_.n_lines == 0 && r_.total_fen == 0); \
	} while (0)

TEST(compute_rejects)
{
	struct tariff t = tariff_of(BEIJING_MONTHLY), zj = tariff_of(ZHEJIANG_A);
	struct tariff w = tariff_of("{\"utility\":\"water\",\"basis\":\"monthly\",\"tiers\":[{}],"
				    "\"components\":[{\"name\":\"water\",\"price\":\"5\"}]}");
	struct billing_version v[2];
	struct billing_input in;
	struct billing_result r;

	setup(&in, v, &t);
	in.n_versions = 0;
	CHECK_REFUSED(&in, XQ_EINVAL, "没有可用的价格版本");
	setup(&in, v, &t);
	v[0].effective_day = day(2024, 6, 2);
	CHECK_REFUSED(&in, XQ_EINVAL, "计费期首日 2024-06-01 还没有生效的价格");
	setup(&in, v, &t);
	v[1] = v[0];
	in.n_versions = 2;
	CHECK_REFUSED(&in, XQ_EINVAL, "价格版本须按生效日期升序排列，且日期不能重复");
	v[1].tariff = &w;
	v[1].effective_day = day(2024, 6, 15);
	CHECK_REFUSED(&in, XQ_EINVAL, "同一账单的价格版本必须是同一种费用（电或水）");
	setup(&in, v, &t);
	in.total_raw_milli = -1;
	CHECK_REFUSED(&in, XQ_EINVAL, "用量不能为负数（退补请用调整行）");
	setup(&in, v, &t);
	in.period_raw_milli[TARIFF_VALLEY] = -1;
	CHECK_REFUSED(&in, XQ_EINVAL, "用量不能为负数（退补请用调整行）");
	setup(&in, v, &t);
	in.last_day = in.first_day - 1;
	CHECK_REFUSED(&in, XQ_EINVAL, "计费期的结束日早于开始日");
	setup(&in, v, &t);
	in.last_day = in.first_day + 366;
	CHECK_REFUSED(&in, XQ_EINVAL, "计费期不能超过 366 天");
	setup(&in, v, &t);
	in.bill_month = 13;
	CHECK_REFUSED(&in, XQ_EINVAL, "账期年月无效");
	setup(&in, v, &t);
	in.multiplier = -30;
	CHECK_REFUSED(&in, XQ_EINVAL, "倍率必须在 1 到 1000000 之间");
	setup(&in, v, &t);
	in.household_size = 100;
	CHECK_REFUSED(&in, XQ_EINVAL, "户籍人数必须在 0 到 99 之间");
	setup(&in, v, &t);
	in.tier_year_months = 13;
	CHECK_REFUSED(&in, XQ_EINVAL, "阶梯年度月数必须在 1 到 12 之间");

	/* Rate registers must add up to a given total, and fit the tariff's periods. */
	setup(&in, v, &zj);
	in.total_raw_milli = 100000;
	in.period_raw_milli[TARIFF_PEAK] = 60000;
	in.period_raw_milli[TARIFF_VALLEY] = 30000;
	CHECK_REFUSED(&in, XQ_EINVAL, "总电量与各时段电量之和不一致");
	in.total_raw_milli = 0;
	in.period_raw_milli[TARIFF_SHARP] = 1000;
	CHECK_REFUSED(&in, XQ_EINVAL, "读数含尖峰电量，但 2024-01-01 起的价格没有该时段");
	setup(&in, v, &zj);
	in.total_raw_milli = 100000;
	CHECK_REFUSED(&in, XQ_EINVAL, "2024-01-01 起的分时电价需要各时段（尖峰、峰、平、谷）读数");
	/* err may be NULL. */
	CHECK_EQ_I64(billing_compute(&in, &r, NULL, 0), XQ_EINVAL);
	CHECK_EQ_I64(billing_compute(NULL, &r, NULL, 0), XQ_EINVAL);
}

TEST(compute_overflow)
{
	struct tariff t = tariff_of(FLAT("100", ",\"multiplier_round\":\"none\""));
	struct tariff tu = tariff_of(FLAT("100", ""));
	struct tariff an = tariff_of("{\"utility\":\"electric\",\"basis\":\"annual\",\"tiers\":["
				     "{\"upto_kwh\":2880,\"price\":\"0.4883\"},{\"price\":\"0.5383\"}]}");
	struct tariff w4 = tariff_of("{\"utility\":\"water\",\"basis\":\"monthly\",\"tiers\":[{}],"
				     "\"multiplier_round\":\"none\",\"components\":["
				     "{\"name\":\"a\",\"label\":\"甲\",\"price\":\"100\"},"
				     "{\"name\":\"b\",\"label\":\"乙\",\"price\":\"100\"},"
				     "{\"name\":\"c\",\"label\":\"丙\",\"price\":\"100\"},"
				     "{\"name\":\"d\",\"label\":\"丁\",\"price\":\"100\"}]}");
	struct billing_version v;
	struct billing_input in;
	struct billing_result r;

	/* quantity x multiplier */
	setup(&in, &v, &t);
	in.total_raw_milli = INT64_MAX / 2;
	in.multiplier = 3;
	CHECK_REFUSED(&in, XQ_EOVERFLOW, "");
	setup(&in, &v, &tu);
	in.total_raw_milli = INT64_MAX / 2;
	in.multiplier = 3;
	CHECK_REFUSED(&in, XQ_EOVERFLOW, "");
	/* year-to-date + this bill */
	setup(&in, &v, &an);
	in.ytd_before_milli = INT64_MAX - 1000;
	in.total_raw_milli = 10000;
	CHECK_REFUSED(&in, XQ_EOVERFLOW, "");
	/* one line's amount: 9e15 kWh x 100 yuan = 9e19 fen */
	setup(&in, &v, &t);
	in.total_raw_milli = 9000000000000000000;
	CHECK_REFUSED(&in, XQ_EOVERFLOW, "");
	/* each line fits, their sum does not: 4 x 3e18 fen */
	setup(&in, &v, &w4);
	in.total_raw_milli = 300000000000000000;
	CHECK_REFUSED(&in, XQ_EOVERFLOW, "");
	/* large but representable bills still work, with full labels */
	setup(&in, &v, &t);
	in.total_raw_milli = 90000000000000000;
	CHECK_EQ_I64(billing_compute(&in, &r, NULL, 0), XQ_OK);
	CHECK_EQ_I64(r.total_fen, 900000000000000000);
	CHECK_STR(r.lines[0].label_zh, "电费 90000000000000.00 kWh × 100.0000 = 9000000000000000.00 元");
	billing_result_release(&r);
}

/* ------------------------------------------------------------------ compute: lines */

TEST(line_fields_tou_model_a)
{
	struct tariff t = tariff_of(ZHEJIANG_A);
	struct billing_version v;
	struct billing_input in;
	struct billing_result r;

	setup(&in, &v, &t);
	in.ytd_before_milli = 2600000;
	in.period_raw_milli[TARIFF_PEAK] = 60000;
	in.period_raw_milli[TARIFF_VALLEY] = 165000;
	in.total_raw_milli = 225000; /* may be given: it matches */
	CHECK_EQ_I64(billing_compute(&in, &r, NULL, 0), XQ_OK);
	CHECK_EQ_I64(r.n_lines, 3);
	CHECK_EQ_I64(r.total_fen, 8485);
	CHECK_EQ_I64(r.qty_milli, 225000);
	CHECK_EQ_I64(r.ytd_after_milli, 2825000);
	CHECK_STR(r.lines[0].kind, "energy");
	CHECK_STR(r.lines[0].period, "peak");
	CHECK_EQ_I64(r.lines[0].tier, 0);
	CHECK_EQ_I64(r.lines[0].qty_milli, 60000);
	CHECK_EQ_I64(r.lines[0].price_hao, 5680);
	CHECK_STR(r.lines[0].rule, "TOU-MODEL-A-01");
	CHECK_EQ_I64(r.lines[0].version_id, 42);
	CHECK_EQ_I64(r.lines[0].seg_first_day, in.first_day);
	CHECK_EQ_I64(r.lines[0].seg_last_day, in.last_day);
	CHECK_STR(r.lines[2].period, "");
	CHECK_EQ_I64(r.lines[2].tier, 2);
	CHECK_EQ_I64(r.lines[2].price_hao, 500);
	CHECK_STR(r.lines[2].component, "");
	billing_result_release(&r);
	CHECK(r.lines == NULL && r.n_lines == 0);
	billing_result_release(&r); /* twice is fine */
}

/* One more kWh than a bound goes to the next tier, priced on its own line. */
TEST(tier_interval_01_bound_plus_one)
{
	struct tariff t = tariff_of(BEIJING_MONTHLY);
	struct billing_version v;
	struct billing_input in;
	struct billing_result r;

	setup(&in, &v, &t);
	in.total_raw_milli = 241000;
	CHECK_EQ_I64(billing_compute(&in, &r, NULL, 0), XQ_OK);
	CHECK_EQ_I64(r.n_lines, 2);
	CHECK_STR(r.lines[1].label_zh, "第二档 1.00 kWh × 0.5383 = 0.54 元");
	CHECK_EQ_I64(r.lines[1].tier, 2);
	CHECK_STR(r.lines[1].rule, "TIER-INTERVAL-01");
	CHECK_EQ_I64(r.total_fen, 11719 + 54);
	billing_result_release(&r);
}

/*
 * RULE: TOU-MODEL-B-01: one kWh in each of three periods and three tiers
 * of one kWh. A split "in proportion to the original kWh, remainder to the
 * last period" puts -1 kWh in a cell here; ours must not.
 */
TEST(tou_model_b_01_never_negative)
{
	struct tariff t = tariff_of(
		"{\"utility\":\"electric\",\"basis\":\"monthly\",\"tiers\":["
		"{\"upto_kwh\":1,\"prices\":{\"peak\":\"1\",\"flat\":\"0.8\",\"valley\":\"0.5\"}},"
		"{\"upto_kwh\":2,\"prices\":{\"peak\":\"2\",\"flat\":\"1.8\",\"valley\":\"1.5\"}},"
		"{\"prices\":{\"peak\":\"3\",\"flat\":\"2.8\",\"valley\":\"2.5\"}}],"
		"\"tou\":{\"model\":\"B\",\"periods\":[{\"name\":\"peak\",\"windows\":[\"08:00-16:00\"]},"
		"{\"name\":\"flat\",\"windows\":[\"16:00-24:00\"]},{\"name\":\"valley\",\"windows\":[\"00:00-08:00\"]}]}}");
	struct billing_version v;
	struct billing_input in;
	struct billing_result r;

	setup(&in, &v, &t);
	in.period_raw_milli[TARIFF_PEAK] = 1000;
	in.period_raw_milli[TARIFF_FLAT] = 1000;
	in.period_raw_milli[TARIFF_VALLEY] = 1000;
	CHECK_EQ_I64(billing_compute(&in, &r, NULL, 0), XQ_OK);
	CHECK_EQ_I64(r.n_lines, 3);
	CHECK_STR(r.lines[0].label_zh, "第一档 峰时 1.00 kWh × 1.0000 = 1.00 元");
	CHECK_STR(r.lines[1].label_zh, "第二档 平时 1.00 kWh × 1.8000 = 1.80 元");
	CHECK_STR(r.lines[2].label_zh, "第三档 谷时 1.00 kWh × 2.5000 = 2.50 元");
	CHECK_EQ_I64(r.total_fen, 530);
	billing_result_release(&r);
}

/* RULE: METER-MULT-01 with multiplier_round "none": Wh are billed exactly. */
TEST(meter_mult_01_exact)
{
	struct tariff t = tariff_of(FLAT("0.4883", ",\"multiplier_round\":\"none\""));
	struct tariff u = tariff_of(FLAT("0.4883", ""));
	struct billing_version v;
	struct billing_input in;
	struct billing_result r;

	setup(&in, &v, &t);
	in.total_raw_milli = 12345;
	CHECK_EQ_I64(billing_compute(&in, &r, NULL, 0), XQ_OK);
	CHECK_EQ_I64(r.qty_milli, 12345);
	/* 12.345 x 0.4883 = 6.0280635 -> 6.03; the label shows 12.35 for display only */
	CHECK_STR(r.lines[0].label_zh, "电费 12.35 kWh × 0.4883 = 6.03 元");
	billing_result_release(&r);
	in.multiplier = 3;
	CHECK_EQ_I64(billing_compute(&in, &r, NULL, 0), XQ_OK);
	CHECK_EQ_I64(r.qty_milli, 37035);
	billing_result_release(&r);
	/* "unit": each rate register is rounded on its own after multiplying */
	setup(&in, &v, &u);
	in.period_raw_milli[TARIFF_PEAK] = 1500;
	in.period_raw_milli[TARIFF_VALLEY] = 1499;
	CHECK_EQ_I64(billing_compute(&in, &r, NULL, 0), XQ_OK);
	CHECK_EQ_I64(r.qty_milli, 3000);
	billing_result_release(&r);
}

TEST(zero_use_01_water_with_fixed)
{
	struct tariff t = tariff_of("{\"utility\":\"water\",\"basis\":\"monthly\",\"tiers\":[{}],"
				    "\"components\":[{\"name\":\"water\",\"price\":\"5\"}],"
				    "\"fixed\":[{\"name\":\"meter\",\"label\":\"水表维护费\",\"amount\":\"2.50\"}]}");
	struct billing_version v;
	struct billing_input in;
	struct billing_result r;

	setup(&in, &v, &t);
	CHECK_EQ_I64(billing_compute(&in, &r, NULL, 0), XQ_OK);
	CHECK_EQ_I64(r.n_lines, 2);
	CHECK_STR(r.lines[0].kind, "component");
	CHECK_STR(r.lines[0].label_zh, "本期用水量 0.00 m³，水费 0.00 元");
	CHECK_STR(r.lines[0].rule, "ZERO-USE-01");
	CHECK_STR(r.lines[1].kind, "fixed");
	CHECK_STR(r.lines[1].component, "meter");
	CHECK_STR(r.lines[1].label_zh, "水表维护费 2.50 元");
	CHECK_EQ_I64(r.total_fen, 250);
	billing_result_release(&r);
}

/* RULE: FIXED-CHARGE-01: an unchanged charge stays one full line across versions. */
TEST(fixed_charge_01_unchanged_across_versions)
{
	struct tariff a = tariff_of(FLAT("0.5", ",\"fixed\":[{\"name\":\"x\",\"label\":\"公共照明费\",\"amount\":\"5.00\"}]"));
	struct tariff b = tariff_of(FLAT("0.6", ",\"fixed\":[{\"name\":\"x\",\"label\":\"公共照明费\",\"amount\":\"5.00\"}]"));
	struct billing_version v[2];
	struct billing_input in;
	struct billing_result r;

	setup(&in, v, &a);
	v[1] = (struct billing_version){ &b, 43, day(2024, 6, 11) };
	in.n_versions = 2;
	in.total_raw_milli = 30000;
	CHECK_EQ_I64(billing_compute(&in, &r, NULL, 0), XQ_OK);
	CHECK_EQ_I64(r.n_lines, 3);
	CHECK_STR(r.lines[0].label_zh, "2024-06-01至2024-06-10 电费 10.00 kWh × 0.5000 = 5.00 元");
	CHECK_STR(r.lines[1].label_zh, "2024-06-11至2024-06-30 电费 20.00 kWh × 0.6000 = 12.00 元");
	CHECK_EQ_I64(r.lines[1].version_id, 43);
	CHECK_EQ_I64(r.lines[1].seg_first_day, day(2024, 6, 11));
	CHECK_STR(r.lines[2].label_zh, "公共照明费 5.00 元");
	CHECK_STR(r.lines[2].rule, "FIXED-CHARGE-01");
	CHECK_EQ_I64(r.lines[2].seg_first_day, in.first_day);
	CHECK_EQ_I64(r.lines[2].seg_last_day, in.last_day);
	CHECK_EQ_I64(r.total_fen, 500 + 1200 + 500);
	billing_result_release(&r);
}

/* A customer joins TOU on the 16th: flat price first, then periods. */
TEST(switch_to_tou_mid_period)
{
	struct tariff a = tariff_of(FLAT("0.5", ""));
	struct tariff b = tariff_of("{\"utility\":\"electric\",\"basis\":\"monthly\",\"tiers\":[{\"increment\":\"0\"}],"
				    "\"tou\":{\"model\":\"A\",\"periods\":["
				    "{\"name\":\"peak\",\"windows\":[\"08:00-22:00\"],\"price\":\"0.6\"},"
				    "{\"name\":\"valley\",\"windows\":[\"22:00-08:00\"],\"price\":\"0.3\"}]}}");
	struct billing_version v[2];
	struct billing_input in;
	struct billing_result r;

	setup(&in, v, &a);
	v[1] = (struct billing_version){ &b, 43, day(2024, 6, 16) };
	in.n_versions = 2;
	in.period_raw_milli[TARIFF_PEAK] = 100000;
	in.period_raw_milli[TARIFF_VALLEY] = 50000;
	CHECK_EQ_I64(billing_compute(&in, &r, NULL, 0), XQ_OK);
	CHECK_EQ_I64(r.n_lines, 3);
	CHECK_STR(r.lines[0].label_zh, "2024-06-01至2024-06-15 电费 75.00 kWh × 0.5000 = 37.50 元");
	CHECK_STR(r.lines[1].label_zh, "2024-06-16至2024-06-30 峰时 50.00 kWh × 0.6000 = 30.00 元");
	CHECK_STR(r.lines[2].label_zh, "2024-06-16至2024-06-30 谷时 25.00 kWh × 0.3000 = 7.50 元");
	CHECK_EQ_I64(r.total_fen, 7500);
	billing_result_release(&r);
}

/*
 * RULE: PRORATE-DAYS-01 / PRORATE-BOUNDS-01 with five segments and tiny
 * numbers: quantities add up, nothing is negative, and the portions still
 * partition each segment (billing.c asserts it).
 */
TEST(prorate_days_01_many_segments)
{
	struct tariff t[5];
	struct billing_version v[5];
	struct billing_input in;
	struct billing_result r;
	const int starts[5] = { 1, 3, 5, 7, 9 };
	int64_t qty = 0, fen = 0;

	for (int i = 0; i < 5; i++)
		t[i] = tariff_of("{\"utility\":\"electric\",\"basis\":\"monthly\",\"tiers\":["
				 "{\"upto_kwh\":1,\"price\":\"0.4\"},{\"upto_kwh\":2,\"price\":\"0.5\"},"
				 "{\"price\":\"0.6\"}]}");
	setup(&in, v, &t[0]);
	for (int i = 0; i < 5; i++)
		v[i] = (struct billing_version){ &t[i], i + 1, day(2024, 6, starts[i]) };
	in.n_versions = 5;
	in.last_day = day(2024, 6, 9);
	in.total_raw_milli = 7000;
	CHECK_EQ_I64(billing_compute(&in, &r, NULL, 0), XQ_OK);
	for (size_t i = 0; i < r.n_lines; i++) {
		CHECK(r.lines[i].qty_milli > 0);
		qty += r.lines[i].qty_milli;
		fen += r.lines[i].amount_fen;
	}
	CHECK_EQ_I64(qty, 7000);
	CHECK_EQ_I64(fen, r.total_fen);
	billing_result_release(&r);
}

/* Billing twice gives the same bill, byte for byte. */
TEST(deterministic)
{
	struct tariff t = tariff_of(ZHEJIANG_A);
	struct billing_version v;
	struct billing_input in;
	struct billing_result a, b;

	setup(&in, &v, &t);
	in.ytd_before_milli = 4700000;
	in.period_raw_milli[TARIFF_PEAK] = 123456;
	in.period_raw_milli[TARIFF_VALLEY] = 65432;
	CHECK_EQ_I64(billing_compute(&in, &a, NULL, 0), XQ_OK);
	CHECK_EQ_I64(billing_compute(&in, &b, NULL, 0), XQ_OK);
	CHECK_EQ_I64(a.n_lines, b.n_lines);
	CHECK(a.n_lines == b.n_lines && memcmp(a.lines, b.lines, a.n_lines * sizeof(*a.lines)) == 0);
	CHECK_EQ_I64(a.total_fen, b.total_fen);
	billing_result_release(&a);
	billing_result_release(&b);
}

/* ------------------------------------------------------------------ seed examples */

#define SEED_TIERS                                                             \
	"{\"utility\":\"electric\",\"basis\":\"monthly\",\"tiers\":["              \
	"{\"upto_kwh\":200,\"price\":\"0.5\"},{\"upto_kwh\":400,\"price\":\"0.6\"}," \
	"{\"price\":\"0.8\"}]}"

#define SEED_TOU                                                               \
	"{\"utility\":\"electric\",\"basis\":\"monthly\",\"tiers\":[{\"increment\":\"0\"}]," \
	"\"tou\":{\"model\":\"A\",\"periods\":["                                   \
	"{\"name\":\"peak\",\"windows\":[\"08:00-22:00\"],\"price\":\"0.7\"},"     \
	"{\"name\":\"valley\",\"windows\":[\"22:00-08:00\"],\"price\":\"0.4\"}]}}"

/* Bills qty (Wh, no TOU) or peak + valley (Wh) with t over June 2024. */
static int64_t cost(const struct tariff *t, int64_t qty, int64_t peak, int64_t valley,
		    int64_t ytd)
{
	struct billing_version v;
	struct billing_input in;
	struct billing_result r;
	int64_t fen;
	char err[256];

	setup(&in, &v, t);
	in.total_raw_milli = qty;
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

/* The examples: 200/400 kWh at 0.5/0.6/0.8, and TOU 0.7/0.4. */
TEST(seed_examples)
{
	struct tariff tiers = tariff_of(SEED_TIERS), tou = tariff_of(SEED_TOU);

	CHECK_EQ_I64(cost(&tiers, 150000, 0, 0, 0), 7500);
	CHECK_EQ_I64(cost(&tiers, 300000, 0, 0, 0), 16000);
	CHECK_EQ_I64(cost(&tiers, 500000, 0, 0, 0), 30000);
	CHECK_EQ_I64(cost(&tou, 0, 100000, 50000, 0), 9000);
	CHECK_EQ_I64(cost(&tou, 0, 200000, 100000, 0), 18000);
	tariff_release(&tiers);
	tariff_release(&tou);
}

/*
 * An independent tier calculator: the part of [ytd, ytd + q) inside each
 * tier, each line rounded once half-up (MONEY-ROUND-01), lines added.
 */
static int64_t ref_tiers(const int64_t *bound_kwh, const int64_t *price_hao, int n, int64_t q,
			 int64_t ytd)
{
	int64_t lo = 0, fen = 0;

	for (int k = 0; k < n; k++) {
		int64_t hi = k < n - 1 ? bound_kwh[k] * 1000 : INT64_MAX;
		int64_t a = ytd > lo ? ytd : lo, b = ytd + q < hi ? ytd + q : hi;
		if (b > a)
			fen += ((b - a) * price_hao[k] + 50000) / 100000;
		lo = hi;
	}
	return fen;
}

/* Real provincial tariffs at and around every tier boundary (±1 kWh, ±1 Wh). */
TEST(provincial_tier_boundaries)
{
	static const int64_t bj_b[] = { 240, 400 }, bj_p[] = { 4883, 5383, 7883 };
	static const int64_t bja_b[] = { 2880, 4800 };
	static const int64_t gd_s[] = { 260, 600 }, gd_p[] = { 6800, 7300, 9800 };
	struct tariff bj = tariff_of(BEIJING_MONTHLY);
	struct tariff bja = tariff_of("{\"utility\":\"electric\",\"basis\":\"annual\",\"tiers\":["
				      "{\"upto_kwh\":2880,\"price\":\"0.4883\"},{\"upto_kwh\":4800,"
				      "\"price\":\"0.5383\"},{\"price\":\"0.7883\"}]}");
	struct tariff gd = tariff_of("{\"utility\":\"electric\",\"basis\":\"monthly\",\"tiers\":["
				     "{\"upto_kwh\":200,\"price\":\"0.68\"},{\"upto_kwh\":400,\"price\":"
				     "\"0.73\"},{\"price\":\"0.98\"}],\"seasons\":[{\"months\":[5,6,7,8,"
				     "9,10],\"upto_kwh\":[260,600]}]}");
	static const int64_t deltas[] = { -1000, -1, 0, 1, 1000 };

	for (int b = 0; b < 2; b++)
		for (size_t d = 0; d < XQ_ARRAY_LEN(deltas); d++) {
			int64_t q = bj_b[b] * 1000 + deltas[d];
			CHECK_EQ_I64(cost(&bj, q, 0, 0, 0), ref_tiers(bj_b, bj_p, 3, q, 0));
			/* June is a summer month in Guangdong: the season's bounds apply */
			q = gd_s[b] * 1000 + deltas[d];
			CHECK_EQ_I64(cost(&gd, q, 0, 0, 0), ref_tiers(gd_s, gd_p, 3, q, 0));
			/* annual: 100 kWh this month, the year-to-date ends around the bound */
			int64_t ytd = bja_b[b] * 1000 - 50000 + deltas[d];
			CHECK_EQ_I64(cost(&bja, 100000, 0, 0, ytd), ref_tiers(bja_b, bj_p, 3, 100000, ytd));
		}
	/* by hand: Beijing 241 kWh = 240 x 0.4883 + 1 x 0.5383 = 117.19 + 0.54 */
	CHECK_EQ_I64(cost(&bj, 241000, 0, 0, 0), 11719 + 54);
	tariff_release(&bj);
	tariff_release(&bja);
	tariff_release(&gd);
}

/* ------------------------------------------------------------------ properties */

static uint64_t prop_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Using more never costs less: monthly tiers, annual tiers with any YTD, TOU in any period. */
TEST(property_more_never_costs_less)
{
	struct tariff bj = tariff_of(BEIJING_MONTHLY), zj = tariff_of(ZHEJIANG_A);
	uint64_t s = 88172645463325252ull;

	for (int i = 0; i < 20000; i++) {
		int64_t q = (int64_t)(prop_next(&s) % 2000000), d = (int64_t)(prop_next(&s) % 50000);
		int64_t pk = (int64_t)(prop_next(&s) % 1000000), vl = (int64_t)(prop_next(&s) % 1000000);
		int64_t ytd = (int64_t)(prop_next(&s) % 6000000);
		CHECK(cost(&bj, q + d, 0, 0, 0) >= cost(&bj, q, 0, 0, 0));
		CHECK(cost(&zj, 0, pk + d, vl, ytd) >= cost(&zj, 0, pk, vl, ytd));
		CHECK(cost(&zj, 0, pk, vl + d, ytd) >= cost(&zj, 0, pk, vl, ytd));
	}
	tariff_release(&bj);
	tariff_release(&zj);
}

/*
 * Splitting a period at any day and billing both parts with annual tiers
 * (the second part carrying the first one's YTD) equals billing it whole.
 * Exact when every line is a whole number of fen (whole kWh at prices in
 * whole fen); otherwise each line's rounding may differ, so the parts may
 * differ from the whole by at most one fen per line.
 */
TEST(property_split_period_annual)
{
	struct tariff exact = tariff_of("{\"utility\":\"electric\",\"basis\":\"annual\",\"tiers\":["
					"{\"upto_kwh\":2880,\"price\":\"0.49\"},{\"upto_kwh\":4800,"
					"\"price\":\"0.54\"},{\"price\":\"0.79\"}]}");
	struct tariff bj = tariff_of("{\"utility\":\"electric\",\"basis\":\"annual\",\"tiers\":["
				     "{\"upto_kwh\":2880,\"price\":\"0.4883\"},{\"upto_kwh\":4800,"
				     "\"price\":\"0.5383\"},{\"price\":\"0.7883\"}]}");
	uint64_t s = 0x9e3779b97f4a7c15ull;

	for (int i = 0; i < 20000; i++) {
		struct billing_version v;
		struct billing_input in;
		struct billing_result whole, a, b;
		int64_t q1 = (int64_t)(prop_next(&s) % 3000) * 1000;
		int64_t q2 = (int64_t)(prop_next(&s) % 3000) * 1000;
		int64_t ytd = (int64_t)(prop_next(&s) % 6000) * 1000;
		int split = 1 + (int)(prop_next(&s) % 29); /* last day of the first part */
		const struct tariff *t = i % 2 ? &exact : &bj;

		setup(&in, &v, t);
		in.ytd_before_milli = ytd;
		in.total_raw_milli = q1 + q2;
		CHECK_EQ_I64(billing_compute(&in, &whole, NULL, 0), XQ_OK);
		in.last_day = day(2024, 6, split);
		in.total_raw_milli = q1;
		CHECK_EQ_I64(billing_compute(&in, &a, NULL, 0), XQ_OK);
		in.first_day = day(2024, 6, split + 1);
		in.last_day = day(2024, 6, 30);
		in.total_raw_milli = q2;
		in.ytd_before_milli = a.ytd_after_milli;
		CHECK_EQ_I64(billing_compute(&in, &b, NULL, 0), XQ_OK);
		CHECK_EQ_I64(b.ytd_after_milli, whole.ytd_after_milli);
		if (t == &exact) {
			CHECK_EQ_I64(a.total_fen + b.total_fen, whole.total_fen);
		} else {
			int64_t diff = a.total_fen + b.total_fen - whole.total_fen;
			CHECK(diff >= -(int64_t)(a.n_lines + b.n_lines) &&
			      diff <= (int64_t)(a.n_lines + b.n_lines));
		}
		billing_result_release(&whole);
		billing_result_release(&a);
		billing_result_release(&b);
	}
	tariff_release(&exact);
	tariff_release(&bj);
}

/* Apportionment sums exactly for random totals and weights (LRM, see also above). */
TEST(property_apportion_sums_exactly)
{
	uint64_t s = 42;

	for (int i = 0; i < 5000; i++) {
		int64_t w[50], out[50], sum = 0, total = (int64_t)(prop_next(&s) % 100000000000ull);
		size_t n = 1 + prop_next(&s) % 50;
		for (size_t k = 0; k < n; k++)
			w[k] = 1 + (int64_t)(prop_next(&s) % 20000);
		CHECK_EQ_I64(billing_apportion(total, w, n, out), XQ_OK);
		for (size_t k = 0; k < n; k++)
			sum += out[k];
		CHECK_EQ_I64(sum, total);
	}
}

/* ------------------------------------------------------------------ billing runs (billrun.c) */

TEST(billrun_period_bounds)
{
	int y, m;
	int32_t f, l;
	char a[24], b[24];

	CHECK_EQ_I64(billrun_period("2026-10", &y, &m, &f, &l, a, b), XQ_OK);
	CHECK_EQ_I64(f, day(2026, 10, 1));
	CHECK_EQ_I64(l, day(2026, 10, 31));
	CHECK_STR(a, "2026-09-30 16:00:00.000");
	CHECK_STR(b, "2026-10-31 16:00:00.000");
	CHECK_EQ_I64(billrun_period("2026-12", &y, &m, &f, &l, a, b), XQ_OK);
	CHECK_STR(b, "2026-12-31 16:00:00.000");
	CHECK_EQ_I64(l, day(2026, 12, 31));
	CHECK_EQ_I64(billrun_period("2024-02", &y, &m, &f, &l, a, b), XQ_OK);
	CHECK_EQ_I64(l - f + 1, 29);
	CHECK_EQ_I64(billrun_period("2026-13", &y, &m, &f, &l, a, b), XQ_EINVAL);
	CHECK_EQ_I64(billrun_period("2026-1", &y, &m, &f, &l, a, b), XQ_EINVAL);
	CHECK_EQ_I64(billrun_period("2026/10", &y, &m, &f, &l, a, b), XQ_EINVAL);
	CHECK_EQ_I64(billrun_period(NULL, &y, &m, &f, &l, a, b), XQ_EINVAL);
}

TEST(billrun_register_rollover)
{
	int64_t d = SENTINEL;
	int roll = -1;

	CHECK_EQ_I64(billrun_register_delta(1000, 5000, 6, &d, &roll), XQ_OK);
	CHECK_EQ_I64(d, 4000);
	CHECK_EQ_I64(roll, 0);
	/* a 6-digit register wraps at 1 000 000 kWh = 10^9 Wh */
	CHECK_EQ_I64(billrun_register_delta(999990000, 20000, 6, &d, &roll), XQ_OK);
	CHECK_EQ_I64(d, 30000);
	CHECK_EQ_I64(roll, 1);
	CHECK_EQ_I64(billrun_register_delta(99999000, 1000, 5, &d, &roll), XQ_OK);
	CHECK_EQ_I64(d, 2000);
	/* an opening above the register's top cannot have wrapped */
	CHECK_EQ_I64(billrun_register_delta(2000000000, 1, 6, &d, &roll), XQ_EINVAL);
	CHECK_EQ_I64(billrun_register_delta(-1, 1, 6, &d, &roll), XQ_EINVAL);
}

int main(void)
{
	RUN(apportion_lrm_01_examples);
	RUN(apportion_rejects);
	RUN(apportion_lrm_01_property);
	RUN(latefee_daily_01);
	RUN(latefee_policy);
	RUN(latefee_line);
	RUN(dates);
	RUN(prorate_days_01_split);
	RUN(compute_rejects);
	RUN(compute_overflow);
	RUN(line_fields_tou_model_a);
	RUN(tier_interval_01_bound_plus_one);
	RUN(tou_model_b_01_never_negative);
	RUN(meter_mult_01_exact);
	RUN(zero_use_01_water_with_fixed);
	RUN(fixed_charge_01_unchanged_across_versions);
	RUN(switch_to_tou_mid_period);
	RUN(prorate_days_01_many_segments);
	RUN(deterministic);
	RUN(seed_examples);
	RUN(provincial_tier_boundaries);
	RUN(property_more_never_costs_less);
	RUN(property_split_period_annual);
	RUN(property_apportion_sums_exactly);
	RUN(billrun_period_bounds);
	RUN(billrun_register_rollover);
	return test_report();
}
