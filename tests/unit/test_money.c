/*
 * test_money.c - lib/money.c: checked arithmetic at the int64 edges, the
 * MONEY-ROUND-01 rule at every half fen (against an independent oracle),
 * priced lines from docs/tariff-rules.md, and text parse/format round trips.
 * Tests whose name carries MONEY_ROUND_01 are the evidence for that rule.
 */
#include "money.h"
#include "test.h"

#include <stdio.h>

#define SENTINEL ((int64_t)777)

/* Checked ops: on error the accumulator must not move. */
#define CHECK_OP(fn, start, x, want_rc, want)                                  \
	do {                                                                   \
		int64_t acc_ = (start);                                        \
		CHECK_EQ_I64(fn(&acc_, (x)), (want_rc));                       \
		CHECK_EQ_I64(acc_, (want));                                    \
	} while (0)

#define CHECK_FMT(fn, v, want)                                                 \
	do {                                                                   \
		char out_[MONEY_STR_MAX];                                      \
		CHECK_EQ_I64(fn((v), out_, sizeof(out_)), XQ_OK);              \
		CHECK_STR(out_, (want));                                       \
	} while (0)

#define CHECK_PARSE(fn, s, want)                                               \
	do {                                                                   \
		int64_t v_ = SENTINEL;                                         \
		CHECK_EQ_I64(fn((s), &v_), XQ_OK);                             \
		CHECK_EQ_I64(v_, (want));                                      \
	} while (0)

#define CHECK_PARSE_FAIL(fn, s, want_rc)                                       \
	do {                                                                   \
		int64_t v_ = SENTINEL;                                         \
		CHECK_EQ_I64(fn((s), &v_), (want_rc));                         \
		CHECK_EQ_I64(v_, SENTINEL);                                    \
	} while (0)

#define CHECK_ROUND(num, den, want)                                            \
	do {                                                                   \
		int64_t r_ = SENTINEL;                                         \
		CHECK_EQ_I64(money_round_fen((num), (den), &r_), XQ_OK);      \
		CHECK_EQ_I64(r_, (want));                                      \
	} while (0)

#define CHECK_LINE(qty, per, price, want)                                      \
	do {                                                                   \
		int64_t f_ = SENTINEL;                                         \
		CHECK_EQ_I64(money_line_fen((qty), (per), (price), &f_), XQ_OK); \
		CHECK_EQ_I64(f_, (want));                                      \
	} while (0)

static __int128 i128_min(void)
{
	return -(__int128)(((unsigned __int128)1 << 127) - 1) - 1;
}

TEST(add)
{
	CHECK_OP(money_add, 1, 2, XQ_OK, 3);
	CHECK_OP(money_add, -5, 3, XQ_OK, -2);
	CHECK_OP(money_add, INT64_MAX, 0, XQ_OK, INT64_MAX);
	CHECK_OP(money_add, INT64_MAX - 1, 1, XQ_OK, INT64_MAX);
	CHECK_OP(money_add, INT64_MAX, 1, XQ_EOVERFLOW, INT64_MAX);
	CHECK_OP(money_add, INT64_MAX, INT64_MAX, XQ_EOVERFLOW, INT64_MAX);
	CHECK_OP(money_add, INT64_MIN, -1, XQ_EOVERFLOW, INT64_MIN);
	CHECK_OP(money_add, INT64_MIN, INT64_MIN, XQ_EOVERFLOW, INT64_MIN);
	CHECK_OP(money_add, INT64_MIN + 1, -1, XQ_OK, INT64_MIN);
	CHECK_OP(money_add, INT64_MIN, INT64_MAX, XQ_OK, -1);
	CHECK_OP(money_add, INT64_MAX, INT64_MIN, XQ_OK, -1);
}

TEST(sub)
{
	CHECK_OP(money_sub, 10, 3, XQ_OK, 7);
	CHECK_OP(money_sub, 3, 10, XQ_OK, -7);
	CHECK_OP(money_sub, INT64_MIN, 0, XQ_OK, INT64_MIN);
	CHECK_OP(money_sub, INT64_MIN, 1, XQ_EOVERFLOW, INT64_MIN);
	CHECK_OP(money_sub, INT64_MIN + 1, 1, XQ_OK, INT64_MIN);
	CHECK_OP(money_sub, 0, INT64_MIN, XQ_EOVERFLOW, 0);
	CHECK_OP(money_sub, -1, INT64_MIN, XQ_OK, INT64_MAX);
	CHECK_OP(money_sub, INT64_MAX, -1, XQ_EOVERFLOW, INT64_MAX);
	CHECK_OP(money_sub, INT64_MAX, INT64_MAX, XQ_OK, 0);
	CHECK_OP(money_sub, INT64_MIN, INT64_MIN, XQ_OK, 0);
	CHECK_OP(money_sub, INT64_MAX, INT64_MIN, XQ_EOVERFLOW, INT64_MAX);
}

TEST(mul)
{
	CHECK_OP(money_mul, 6, 7, XQ_OK, 42);
	CHECK_OP(money_mul, -6, 7, XQ_OK, -42);
	CHECK_OP(money_mul, 0, INT64_MIN, XQ_OK, 0);
	CHECK_OP(money_mul, INT64_MAX, 1, XQ_OK, INT64_MAX);
	CHECK_OP(money_mul, INT64_MAX, -1, XQ_OK, -INT64_MAX);
	CHECK_OP(money_mul, INT64_MAX, 2, XQ_EOVERFLOW, INT64_MAX);
	CHECK_OP(money_mul, INT64_MIN, 1, XQ_OK, INT64_MIN);
	CHECK_OP(money_mul, INT64_MIN, -1, XQ_EOVERFLOW, INT64_MIN);
	CHECK_OP(money_mul, -1, INT64_MIN, XQ_EOVERFLOW, -1);
	CHECK_OP(money_mul, INT64_MIN / 2, 2, XQ_OK, INT64_MIN);
	CHECK_OP(money_mul, INT64_MIN / 2, -2, XQ_EOVERFLOW, INT64_MIN / 2);
	/* floor(sqrt(INT64_MAX)) = 3037000499 */
	CHECK_OP(money_mul, 3037000499, 3037000499, XQ_OK, INT64_C(9223372030926249001));
	CHECK_OP(money_mul, 3037000500, 3037000500, XQ_EOVERFLOW, 3037000500);
	CHECK_OP(money_mul, -3037000500, 3037000500, XQ_EOVERFLOW, -3037000500);
}

TEST(MONEY_ROUND_01_halves_away_from_zero)
{
	CHECK_ROUND(5, 2, 3);     /* 2.5 */
	CHECK_ROUND(-5, 2, -3);   /* -2.5, away from zero, not -2 */
	CHECK_ROUND(1, 2, 1);     /* 0.5 */
	CHECK_ROUND(-1, 2, -1);
	CHECK_ROUND(3, 2, 2);     /* 1.5: not banker's (which gives 2 too) */
	CHECK_ROUND(5, 2, 3);     /* 2.5: banker's would give 2 */
	CHECK_ROUND(25, 10, 3);
	CHECK_ROUND(-25, 10, -3);
	CHECK_ROUND(5000, 10000, 1);
	CHECK_ROUND(4999, 10000, 0);
	CHECK_ROUND(-5000, 10000, -1);
	CHECK_ROUND(-4999, 10000, 0);
	CHECK_ROUND(15001, 10000, 2);
	CHECK_ROUND(14999, 10000, 1);
	CHECK_ROUND(1, 3, 0);
	CHECK_ROUND(2, 3, 1);
	CHECK_ROUND(-2, 3, -1);
	CHECK_ROUND(0, 7, 0);
	CHECK_ROUND(42, 1, 42);
	/* the sign of den counts too */
	CHECK_ROUND(5, -2, -3);
	CHECK_ROUND(-5, -2, 3);
	CHECK_ROUND(4, -2, -2);
}

TEST(MONEY_ROUND_01_limits)
{
	int64_t r = SENTINEL;
	__int128 max = INT64_MAX, min = INT64_MIN;

	CHECK_EQ_I64(money_round_fen(1, 0, &r), XQ_EINVAL);
	CHECK_EQ_I64(r, SENTINEL);
	CHECK_EQ_I64(money_round_fen(0, 0, &r), XQ_EINVAL);
	CHECK_EQ_I64(r, SENTINEL);

	CHECK_ROUND(max, 1, INT64_MAX);
	CHECK_ROUND(min, 1, INT64_MIN);
	CHECK_ROUND(max * 10000 + 4999, 10000, INT64_MAX);
	CHECK_EQ_I64(money_round_fen(max * 10000 + 5000, 10000, &r), XQ_EOVERFLOW);
	CHECK_EQ_I64(r, SENTINEL);
	CHECK_EQ_I64(money_round_fen(max + 1, 1, &r), XQ_EOVERFLOW);
	CHECK_EQ_I64(r, SENTINEL);
	/* -2^63 + 0.5 rounds away from zero to exactly INT64_MIN */
	CHECK_ROUND(min * 2 + 1, 2, INT64_MIN);
	/* -2^63 - 0.5 would be -2^63 - 1 */
	CHECK_EQ_I64(money_round_fen(min * 2 - 1, 2, &r), XQ_EOVERFLOW);
	CHECK_EQ_I64(r, SENTINEL);
	CHECK_EQ_I64(money_round_fen(min, -1, &r), XQ_EOVERFLOW);
	CHECK_EQ_I64(r, SENTINEL);
	/* the most negative 128-bit values must not trip the sign handling */
	CHECK_ROUND(i128_min(), i128_min(), 1);
	CHECK_ROUND(1, i128_min(), 0);
	CHECK_EQ_I64(money_round_fen(i128_min(), 1, &r), XQ_EOVERFLOW);
	CHECK_EQ_I64(r, SENTINEL);
}

/*
 * Every half-fen boundary over a range, against an oracle written a
 * different way: for x = n/d >= 0, round(x) = floor((2n + d) / 2d), and the
 * negative side mirrors it.
 */
static int64_t oracle_round(int64_t n, int64_t d)
{
	if (n < 0)
		return -oracle_round(-n, d);
	return (2 * n + d) / (2 * d);
}

TEST(MONEY_ROUND_01_every_half_fen)
{
	static const int64_t prices[] = { 1, 5, 4883, 5000, 5283, 5383, 7883, 9999, 49999 };
	int bad = 0, halves = 0;

	for (size_t i = 0; i < XQ_ARRAY_LEN(prices); i++) {
		for (int64_t wh = -30000; wh <= 30000; wh++) {
			int64_t got = SENTINEL, num = wh * prices[i];

			if (money_line_fen(wh, 1000, prices[i], &got) != XQ_OK ||
			    got != oracle_round(num, 100000)) {
				if (bad++ < 5)
					CHECK_EQ_I64(got, oracle_round(num, 100000));
			}
			if (num % 100000 == 50000 || num % 100000 == -50000)
				halves++;
		}
	}
	CHECK_EQ_I64(bad, 0);
	CHECK(halves > 1000); /* the loop really crossed many exact halves */

	for (int64_t n = -100000; n <= 100000; n++) {
		int64_t got = SENTINEL;
		if (money_muldiv_round(n, 1, 100, &got) != XQ_OK || got != oracle_round(n, 100))
			if (bad++ < 5)
				CHECK_EQ_I64(got, oracle_round(n, 100));
	}
	CHECK_EQ_I64(bad, 0);
}

TEST(MONEY_ROUND_01_half_fen_lines)
{
	/* 0.5000 yuan/kWh: 1 Wh = 0.05 fen, so 10 Wh steps cross half fen */
	CHECK_LINE(1000, 1000, 5000, 50);  /* 0.50 */
	CHECK_LINE(1005, 1000, 5000, 50);  /* 50.25 fen */
	CHECK_LINE(1009, 1000, 5000, 50);  /* 50.45 */
	CHECK_LINE(1010, 1000, 5000, 51);  /* 50.50: half, up */
	CHECK_LINE(1011, 1000, 5000, 51);  /* 50.55 */
	CHECK_LINE(1030, 1000, 5000, 52);  /* 51.50: half, up (banker's: 52 too) */
	CHECK_LINE(1050, 1000, 5000, 53);  /* 52.50: half, up (banker's: 52) */
	CHECK_LINE(10, 1000, 5000, 1);     /* 0.5 fen -> 1 fen */
	CHECK_LINE(9, 1000, 5000, 0);      /* 0.45 fen -> 0 */
	/* negative (refund / correction lines) mirror: away from zero */
	CHECK_LINE(-1010, 1000, 5000, -51);
	CHECK_LINE(-1009, 1000, 5000, -50);
	CHECK_LINE(1010, 1000, -5000, -51);
	CHECK_LINE(-1010, 1000, -5000, 51);
	CHECK_LINE(-10, 1000, 5000, -1);
	CHECK_LINE(-9, 1000, 5000, 0);
	/* 1 hao per unit: 50 units = 0.5 fen */
	CHECK_LINE(50, 1, 1, 1);
	CHECK_LINE(49, 1, 1, 0);
	CHECK_LINE(150, 1, 1, 2);
	CHECK_LINE(250, 1, 1, 3);
	CHECK_LINE(-250, 1, 1, -3);
}

TEST(MONEY_ROUND_01_tariff_rules_examples)
{
	int64_t t1 = 0, t2 = 0, total = 0, f = 0;
	char line[128], q[MONEY_STR_MAX], p[MONEY_STR_MAX], a[MONEY_STR_MAX];

	/* docs/tariff-rules.md 9.2: Beijing, 290 kWh across tiers 1 and 2 */
	CHECK_EQ_I64(money_line_fen(280000, 1000, 4883, &t1), XQ_OK);
	CHECK_EQ_I64(t1, 13672); /* 136.724 -> 136.72 */
	CHECK_EQ_I64(money_line_fen(10000, 1000, 5383, &t2), XQ_OK);
	CHECK_EQ_I64(t2, 538);   /* 5.383 -> 5.38 */
	CHECK_EQ_I64(money_add(&total, t1), XQ_OK);
	CHECK_EQ_I64(money_add(&total, t2), XQ_OK);
	CHECK_EQ_I64(total, 14210); /* 142.10, not 142.11 from the unrounded total */
	CHECK_EQ_I64(money_round_fen((__int128)280000 * 4883 + (__int128)10000 * 5383, 100000, &f),
		     XQ_OK);
	CHECK_EQ_I64(f, 14211);     /* ...which is why lines are rounded one by one */

	/* 9.3: the binary FP trap, 50 x 0.4883 = 24.415 must give 24.42 */
	CHECK_LINE(50000, 1000, 4883, 2442);
	CHECK_LINE(50, 1, 4883, 2442);

	/* 第二档 100.00 kWh × 0.5383 = 53.83 元 */
	CHECK_LINE(100000, 1000, 5383, 5383);
	CHECK_EQ_I64(money_format_qty(100000, q, sizeof(q)), XQ_OK);
	CHECK_EQ_I64(money_format_price(5383, p, sizeof(p)), XQ_OK);
	CHECK_EQ_I64(money_format_yuan(5383, a, sizeof(a)), XQ_OK);
	snprintf(line, sizeof(line), "第二档 %s kWh × %s = %s 元", q, p, a);
	CHECK_STR(line, "第二档 100.00 kWh × 0.5383 = 53.83 元");

	/* water: 15 m³ (litres) at 5.00 yuan, and 12.345 m³ at 1.30 */
	CHECK_LINE(15000, 1000, 50000, 7500);
	CHECK_LINE(12345, 1000, 13000, 1605);   /* 16.0485 -> 16.05 */
	/* drainage on 90 % of volume (tariff-rules 9.4): exact, rounded once:
	 * 17 m³ x 0.9 x 0.95 = 14.535 yuan -> 14.54 */
	CHECK_ROUND((__int128)17000 * 90 * 9500, (__int128)1000 * 100 * 100, 1454);
}

TEST(MONEY_ROUND_01_late_fee_rounded_once)
{
	/* 1 permille a day on two principal segments, 1 day each, 14.00 yuan:
	 * exact 1.4 + 1.4 = 2.8 fen -> 3 fen; rounding each would give 2. */
	__int128 acc = 0;
	int64_t fee = SENTINEL;

	acc += (__int128)1400 * 1 * 1;
	acc += (__int128)1400 * 1 * 1;
	CHECK_EQ_I64(money_round_fen(acc, 1000, &fee), XQ_OK);
	CHECK_EQ_I64(fee, 3);
	/* 123.45 yuan, 7 days: 86.415 fen -> 86 */
	CHECK_EQ_I64(money_muldiv_round(12345, 7, 1000, &fee), XQ_OK);
	CHECK_EQ_I64(fee, 86);
}

TEST(muldiv)
{
	int64_t r = SENTINEL;

	CHECK_EQ_I64(money_muldiv_round(7, 1, -2, &r), XQ_OK);
	CHECK_EQ_I64(r, -4);
	CHECK_EQ_I64(money_muldiv_round(INT64_MAX, INT64_MAX, INT64_MAX, &r), XQ_OK);
	CHECK_EQ_I64(r, INT64_MAX);
	CHECK_EQ_I64(money_muldiv_round(INT64_MIN, INT64_MIN, INT64_MIN, &r), XQ_OK);
	CHECK_EQ_I64(r, INT64_MIN);
	CHECK_EQ_I64(money_muldiv_round(INT64_MIN, -1, -1, &r), XQ_OK);
	CHECK_EQ_I64(r, INT64_MIN);
	r = SENTINEL;
	CHECK_EQ_I64(money_muldiv_round(INT64_MAX, 3, 2, &r), XQ_EOVERFLOW);
	CHECK_EQ_I64(r, SENTINEL);
	CHECK_EQ_I64(money_muldiv_round(INT64_MIN, -1, 1, &r), XQ_EOVERFLOW);
	CHECK_EQ_I64(r, SENTINEL);
	CHECK_EQ_I64(money_muldiv_round(INT64_MAX, INT64_MAX, 1, &r), XQ_EOVERFLOW);
	CHECK_EQ_I64(r, SENTINEL);
	CHECK_EQ_I64(money_muldiv_round(1, 1, 0, &r), XQ_EINVAL);
	CHECK_EQ_I64(r, SENTINEL);
	/* (2^62 * 3) / 2 = 1.5 * 2^62 fits although the product does not */
	CHECK_EQ_I64(money_muldiv_round(INT64_C(1) << 62, 3, 2, &r), XQ_OK);
	CHECK_EQ_I64(r, (INT64_C(3) << 61));
}

TEST(line_errors_and_limits)
{
	int64_t f = SENTINEL;

	CHECK_EQ_I64(money_line_fen(1000, 0, 5000, &f), XQ_EINVAL);
	CHECK_EQ_I64(money_line_fen(1000, -1000, 5000, &f), XQ_EINVAL);
	CHECK_EQ_I64(money_line_fen(INT64_MAX, 1, 10000, &f), XQ_EOVERFLOW);
	CHECK_EQ_I64(money_line_fen(INT64_MIN, 1, 10000, &f), XQ_EOVERFLOW);
	CHECK_EQ_I64(f, SENTINEL);
	CHECK_LINE(0, 1000, 5283, 0);
	CHECK_LINE(123456, 1000, 0, 0);
	/* the 128-bit product and qty_per_unit * 100 never overflow */
	CHECK_LINE(INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX / 100);
	/* INT64_MAX Wh at 0.01 yuan: 9223372036854775.807 fen, rounds up */
	CHECK_LINE(INT64_MAX, 1000, 100, INT64_C(9223372036854776));
	/* exactly INT64_MAX fen: 1 hao x 100 x INT64_MAX units */
	CHECK_LINE(INT64_MAX, 1, 100, INT64_MAX);
	CHECK_LINE(INT64_MIN, 1, 100, INT64_MIN);
	CHECK_EQ_I64(money_line_fen(INT64_MIN, 1, -100, &f), XQ_EOVERFLOW);
}

TEST(parse_yuan)
{
	CHECK_PARSE(money_parse_yuan, "12", 1200);
	CHECK_PARSE(money_parse_yuan, "12.3", 1230);
	CHECK_PARSE(money_parse_yuan, "12.34", 1234);
	CHECK_PARSE(money_parse_yuan, "-0.05", -5);
	CHECK_PARSE(money_parse_yuan, "0", 0);
	CHECK_PARSE(money_parse_yuan, "-0", 0);
	CHECK_PARSE(money_parse_yuan, "-0.00", 0);
	CHECK_PARSE(money_parse_yuan, "0.5", 50);
	CHECK_PARSE(money_parse_yuan, "007.10", 710);
	CHECK_PARSE(money_parse_yuan, "92233720368547758.07", INT64_MAX);
	CHECK_PARSE(money_parse_yuan, "-92233720368547758.08", INT64_MIN);
	CHECK_PARSE(money_parse_yuan, "000000000000000000000000000001", 100);

	CHECK_PARSE_FAIL(money_parse_yuan, "92233720368547758.08", XQ_EOVERFLOW);
	CHECK_PARSE_FAIL(money_parse_yuan, "-92233720368547758.09", XQ_EOVERFLOW);
	CHECK_PARSE_FAIL(money_parse_yuan, "92233720368547759", XQ_EOVERFLOW);
	CHECK_PARSE_FAIL(money_parse_yuan, "99999999999999999999999999", XQ_EOVERFLOW);
	CHECK_PARSE_FAIL(money_parse_yuan, "-99999999999999999999999999.99", XQ_EOVERFLOW);

	CHECK_PARSE_FAIL(money_parse_yuan, NULL, XQ_EINVAL);
	CHECK_PARSE_FAIL(money_parse_yuan, "", XQ_EINVAL);
	CHECK_PARSE_FAIL(money_parse_yuan, "-", XQ_EINVAL);
	CHECK_PARSE_FAIL(money_parse_yuan, "+1", XQ_EINVAL);
	CHECK_PARSE_FAIL(money_parse_yuan, " 1", XQ_EINVAL);
	CHECK_PARSE_FAIL(money_parse_yuan, "1 ", XQ_EINVAL);
	CHECK_PARSE_FAIL(money_parse_yuan, "1\n", XQ_EINVAL);
	CHECK_PARSE_FAIL(money_parse_yuan, "\t1", XQ_EINVAL);
	CHECK_PARSE_FAIL(money_parse_yuan, "- 1", XQ_EINVAL);
	CHECK_PARSE_FAIL(money_parse_yuan, "1.", XQ_EINVAL);
	CHECK_PARSE_FAIL(money_parse_yuan, ".5", XQ_EINVAL);
	CHECK_PARSE_FAIL(money_parse_yuan, "-.5", XQ_EINVAL);
	CHECK_PARSE_FAIL(money_parse_yuan, "1.234", XQ_EINVAL);
	CHECK_PARSE_FAIL(money_parse_yuan, "1.230", XQ_EINVAL);
	CHECK_PARSE_FAIL(money_parse_yuan, "1.2.3", XQ_EINVAL);
	CHECK_PARSE_FAIL(money_parse_yuan, "1.-2", XQ_EINVAL);
	CHECK_PARSE_FAIL(money_parse_yuan, "--1", XQ_EINVAL);
	CHECK_PARSE_FAIL(money_parse_yuan, "1e3", XQ_EINVAL);
	CHECK_PARSE_FAIL(money_parse_yuan, "0x10", XQ_EINVAL);
	CHECK_PARSE_FAIL(money_parse_yuan, "1,000", XQ_EINVAL);
	CHECK_PARSE_FAIL(money_parse_yuan, "1_000", XQ_EINVAL);
	CHECK_PARSE_FAIL(money_parse_yuan, "12元", XQ_EINVAL);
	CHECK_PARSE_FAIL(money_parse_yuan, "¥12", XQ_EINVAL);
	CHECK_PARSE_FAIL(money_parse_yuan, "１２", XQ_EINVAL); /* full-width digits */
	CHECK_PARSE_FAIL(money_parse_yuan, "nan", XQ_EINVAL);
	CHECK_PARSE_FAIL(money_parse_yuan, "inf", XQ_EINVAL);
	/* junk wins over overflow: malformed text is always EINVAL */
	CHECK_PARSE_FAIL(money_parse_yuan, "99999999999999999999999x", XQ_EINVAL);
	CHECK_PARSE_FAIL(money_parse_yuan, "99999999999999999999999.999", XQ_EINVAL);
}

TEST(parse_price)
{
	CHECK_PARSE(money_parse_price, "0.5283", 5283);
	CHECK_PARSE(money_parse_price, "0.05", 500);
	CHECK_PARSE(money_parse_price, "0.3", 3000);
	CHECK_PARSE(money_parse_price, "1", 10000);
	CHECK_PARSE(money_parse_price, "-0.03", -300);
	CHECK_PARSE(money_parse_price, "0.0001", 1);
	CHECK_PARSE(money_parse_price, "922337203685477.5807", INT64_MAX);
	CHECK_PARSE(money_parse_price, "-922337203685477.5808", INT64_MIN);
	CHECK_PARSE_FAIL(money_parse_price, "922337203685477.5808", XQ_EOVERFLOW);
	CHECK_PARSE_FAIL(money_parse_price, "922337203685478", XQ_EOVERFLOW);
	CHECK_PARSE_FAIL(money_parse_price, "0.00001", XQ_EINVAL);
	CHECK_PARSE_FAIL(money_parse_price, "0.52830", XQ_EINVAL);
	CHECK_PARSE_FAIL(money_parse_price, "", XQ_EINVAL);
	CHECK_PARSE_FAIL(money_parse_price, ".5283", XQ_EINVAL);
	CHECK_PARSE_FAIL(money_parse_price, "0.5283 ", XQ_EINVAL);
	CHECK_PARSE_FAIL(money_parse_price, NULL, XQ_EINVAL);
}

TEST(format)
{
	char out[8];

	CHECK_FMT(money_format_yuan, 1234, "12.34");
	CHECK_FMT(money_format_yuan, -5, "-0.05");
	CHECK_FMT(money_format_yuan, 5, "0.05");
	CHECK_FMT(money_format_yuan, 0, "0.00");
	CHECK_FMT(money_format_yuan, 100, "1.00");
	CHECK_FMT(money_format_yuan, -100, "-1.00");
	CHECK_FMT(money_format_yuan, -1234, "-12.34");
	CHECK_FMT(money_format_yuan, 10, "0.10");
	CHECK_FMT(money_format_yuan, INT64_MAX, "92233720368547758.07");
	CHECK_FMT(money_format_yuan, INT64_MIN, "-92233720368547758.08");

	CHECK_FMT(money_format_price, 5283, "0.5283");
	CHECK_FMT(money_format_price, 3000, "0.3000");
	CHECK_FMT(money_format_price, -300, "-0.0300");
	CHECK_FMT(money_format_price, 1, "0.0001");
	CHECK_FMT(money_format_price, 0, "0.0000");
	CHECK_FMT(money_format_price, 50000, "5.0000");
	CHECK_FMT(money_format_price, INT64_MAX, "922337203685477.5807");
	CHECK_FMT(money_format_price, INT64_MIN, "-922337203685477.5808");

	/* buffer exactly the size, one short, and none: short leaves out alone */
	CHECK_EQ_I64(money_format_yuan(-1234, out, 7), XQ_OK);
	CHECK_STR(out, "-12.34");
	memcpy(out, "xxxxxxx", 8);
	CHECK_EQ_I64(money_format_yuan(-1234, out, 6), XQ_EINVAL);
	CHECK_STR(out, "xxxxxxx");
	CHECK_EQ_I64(money_format_price(5283, out, 6), XQ_EINVAL);
	CHECK_EQ_I64(money_format_qty(100000, out, 6), XQ_EINVAL);
	CHECK_STR(out, "xxxxxxx");
	CHECK_EQ_I64(money_format_yuan(0, out, 0), XQ_EINVAL);
	CHECK_STR(out, "xxxxxxx");
}

TEST(MONEY_ROUND_01_format_qty)
{
	CHECK_FMT(money_format_qty, 100000, "100.00");
	CHECK_FMT(money_format_qty, 1005, "1.01");  /* 1.005: half, up */
	CHECK_FMT(money_format_qty, 1015, "1.02");  /* 1.015: half, up (binary FP gives 1.01) */
	CHECK_FMT(money_format_qty, 1004, "1.00");
	CHECK_FMT(money_format_qty, 1006, "1.01");
	CHECK_FMT(money_format_qty, -1005, "-1.01");
	CHECK_FMT(money_format_qty, 0, "0.00");
	CHECK_FMT(money_format_qty, 5, "0.01");
	CHECK_FMT(money_format_qty, 4, "0.00");
	CHECK_FMT(money_format_qty, -4, "0.00");    /* never "-0.00" */
	CHECK_FMT(money_format_qty, -5, "-0.01");
	CHECK_FMT(money_format_qty, 12345, "12.35");
	CHECK_FMT(money_format_qty, INT64_MAX, "9223372036854775.81");
	CHECK_FMT(money_format_qty, INT64_MIN, "-9223372036854775.81");
}

/* Deterministic values for round trips (no rand()). */
static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s;
}

TEST(round_trips)
{
	static const int64_t edges[] = { 0, 1, -1, 9, -9, 10, 99, 100, 101, -101, 5283,
					 INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1 };
	uint64_t seed = 20240601;
	int bad = 0;

	for (size_t i = 0; i < XQ_ARRAY_LEN(edges) + 20000; i++) {
		int64_t v = i < XQ_ARRAY_LEN(edges) ? edges[i] : (int64_t)(lcg(&seed) >> (i % 64));
		int64_t back_fen = SENTINEL, back_hao = SENTINEL;
		char s[MONEY_STR_MAX], p[MONEY_STR_MAX];

		if (i >= XQ_ARRAY_LEN(edges) && i % 2 && v != INT64_MIN)
			v = -v;
		if (money_format_yuan(v, s, sizeof(s)) || money_parse_yuan(s, &back_fen) ||
		    back_fen != v || money_format_price(v, p, sizeof(p)) ||
		    money_parse_price(p, &back_hao) || back_hao != v) {
			if (bad++ < 5) {
				CHECK_EQ_I64(back_fen, v);
				CHECK_EQ_I64(back_hao, v);
			}
		}
	}
	CHECK_EQ_I64(bad, 0);

	/* canonical text survives parse -> format unchanged */
	{
		static const char *const yuan[] = { "0.00", "12.34", "-0.05", "1.00", "53.83",
						    "-92233720368547758.08" };
		static const char *const price[] = { "0.5283", "-0.0300", "5.0000" };
		for (size_t i = 0; i < XQ_ARRAY_LEN(yuan); i++) {
			int64_t v = 0;
			char s[MONEY_STR_MAX] = "";
			CHECK_EQ_I64(money_parse_yuan(yuan[i], &v), XQ_OK);
			CHECK_EQ_I64(money_format_yuan(v, s, sizeof(s)), XQ_OK);
			CHECK_STR(s, yuan[i]);
		}
		for (size_t i = 0; i < XQ_ARRAY_LEN(price); i++) {
			int64_t v = 0;
			char s[MONEY_STR_MAX] = "";
			CHECK_EQ_I64(money_parse_price(price[i], &v), XQ_OK);
			CHECK_EQ_I64(money_format_price(v, s, sizeof(s)), XQ_OK);
			CHECK_STR(s, price[i]);
		}
	}
}

int main(void)
{
	RUN(add);
	RUN(sub);
	RUN(mul);
	RUN(MONEY_ROUND_01_halves_away_from_zero);
	RUN(MONEY_ROUND_01_limits);
	RUN(MONEY_ROUND_01_every_half_fen);
	RUN(MONEY_ROUND_01_half_fen_lines);
	RUN(MONEY_ROUND_01_tariff_rules_examples);
	RUN(MONEY_ROUND_01_late_fee_rounded_once);
	RUN(muldiv);
	RUN(line_errors_and_limits);
	RUN(parse_yuan);
	RUN(parse_price);
	RUN(format);
	RUN(MONEY_ROUND_01_format_qty);
	RUN(round_trips);
	return test_report();
}
