/*
 * test_dunning.c - the pure part of the daily job: latefee_through(), the
 * cumulative fee whose day-by-day differences are the posted entries
 * (RULE: LATEFEE-POST-01), and the date helpers.
 */
#include "dunning.h"
#include "test.h"

static const struct tariff_late_fee res_elec = { 1000, 0, 0, 0 };

TEST(latefee_post_01_daily_sum_is_rounded_once)
{
	/* 142.10 yuan x 1 per mille x 15 days = 213.15 fen -> 213 (docs/billing.md) */
	struct latefee_portion p = { 14210, 0 };
	int64_t fee = -1, prev = 0, sum = 0;
	int32_t due = 20000;

	CHECK_EQ_I64(latefee_through(&res_elec, due, &p, 1, due + 15, &fee), XQ_OK);
	CHECK_EQ_I64(fee, 213);
	/* the daily increments: 14.21 fen a day rounds to 14, 28, 43, ... and sum to the total */
	for (int32_t d = due + 1; d <= due + 15; d++) {
		int64_t c;
		CHECK_EQ_I64(latefee_through(&res_elec, due, &p, 1, d, &c), XQ_OK);
		CHECK(c >= prev);
		sum += c - prev;
		prev = c;
	}
	CHECK_EQ_I64(sum, 213);
	/* on or before the due date nothing */
	CHECK_EQ_I64(latefee_through(&res_elec, due, &p, 1, due, &fee), XQ_OK);
	CHECK_EQ_I64(fee, 0);
	CHECK_EQ_I64(latefee_through(&res_elec, due, &p, 1, due - 3, &fee), XQ_OK);
	CHECK_EQ_I64(fee, 0);
}

TEST(latefee_post_01_payment_stops_accrual)
{
	/* 100.00 yuan, 40.00 paid on day 5, the rest on day 10 */
	struct latefee_portion p[2] = { { 4000, 20005 }, { 6000, 20010 } };
	int64_t fee;

	/* day 12: 40.00 x 5 days + 60.00 x 10 days = 20 + 60 = 80 fen */
	CHECK_EQ_I64(latefee_through(&res_elec, 20000, p, 2, 20012, &fee), XQ_OK);
	CHECK_EQ_I64(fee, 80);
	/* nothing more after the last payment */
	CHECK_EQ_I64(latefee_through(&res_elec, 20000, p, 2, 20400, &fee), XQ_OK);
	CHECK_EQ_I64(fee, 80);
	/* day 3: both portions still unpaid */
	CHECK_EQ_I64(latefee_through(&res_elec, 20000, p, 2, 20003, &fee), XQ_OK);
	CHECK_EQ_I64(fee, 30);
}

TEST(latefee_post_01_policy_min_cap_grace)
{
	struct tariff_late_fee pol = { 1000, 2, 100, 0 };
	struct latefee_portion p = { 5000, 0 };
	int64_t fee;

	/* grace: days 1 and 2 are free */
	CHECK_EQ_I64(latefee_through(&pol, 100, &p, 1, 102, &fee), XQ_OK);
	CHECK_EQ_I64(fee, 0);
	/* day 3: 5 fen, raised to the 1-yuan minimum */
	CHECK_EQ_I64(latefee_through(&pol, 100, &p, 1, 103, &fee), XQ_OK);
	CHECK_EQ_I64(fee, 100);
	/* cap 10 % of 50.00 = 5.00 */
	pol.minimum_fen = 0;
	pol.cap_pct = 10;
	CHECK_EQ_I64(latefee_through(&pol, 100, &p, 1, 100 + 3000, &fee), XQ_OK);
	CHECK_EQ_I64(fee, 500);
}

TEST(dates)
{
	int32_t d;
	char s[11];

	CHECK_EQ_I64(daily_parse_date("2026-12-01", &d), XQ_OK);
	daily_date_text(d, s);
	CHECK_STR(s, "2026-12-01");
	daily_date_text(d + 31, s);
	CHECK_STR(s, "2027-01-01");
	CHECK_EQ_I64(daily_parse_date("2026-02-30", &d), XQ_EINVAL);
	CHECK_EQ_I64(daily_parse_date("2026-1-01", &d), XQ_EINVAL);
	CHECK_EQ_I64(daily_parse_date("2026-01-01x", &d), XQ_EINVAL);
	CHECK_EQ_I64(daily_parse_date(NULL, &d), XQ_EINVAL);
	CHECK(daily_today() > 20000);
}

int main(void)
{
	RUN(latefee_post_01_daily_sum_is_rounded_once);
	RUN(latefee_post_01_payment_stops_accrual);
	RUN(latefee_post_01_policy_min_cap_grace);
	RUN(dates);
	return test_report();
}
