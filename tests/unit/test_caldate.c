/*
 * test_caldate.c - lib/caldate.c: query-string dates and months, the
 * Asia/Shanghai day of an instant, RFC 3339 to UTC across day, month, year
 * and epoch boundaries, and everything that must be refused.
 */
#include "caldate.h"
#include "test.h"

#define SENTINEL ((int32_t)-777)

static void check_day(const char *s, const char *want)
{
	int32_t d = SENTINEL;
	char out[11];

	CHECK_EQ_I64(caldate_parse_day(s, &d), XQ_OK);
	caldate_format_day(d, out);
	CHECK_STR(out, want);
}

static void check_bad_day(const char *s)
{
	int32_t d = SENTINEL;

	CHECK_EQ_I64(caldate_parse_day(s, &d), XQ_EINVAL);
	CHECK_EQ_I64(d, SENTINEL);
}

TEST(days)
{
	int32_t a, b;

	check_day("1970-01-01", "1970-01-01");
	check_day("2024-02-29", "2024-02-29");
	check_day("2200-12-31", "2200-12-31");
	CHECK_EQ_I64(caldate_parse_day("1970-01-01", &a), XQ_OK);
	CHECK_EQ_I64(a, 0);
	CHECK_EQ_I64(caldate_parse_day("2025-10-27", &a), XQ_OK);
	CHECK_EQ_I64(caldate_parse_day("2026-11-30", &b), XQ_OK);
	CHECK_EQ_I64(b - a + 1, 400);
	check_bad_day("2026-02-29");
	check_bad_day("2026-02-30");
	check_bad_day("2026-13-01");
	check_bad_day("2026-00-10");
	check_bad_day("1969-12-31");
	check_bad_day("2201-01-01");
	check_bad_day("2026/11/01");
	check_bad_day("2026-1-01");
	check_bad_day("2026-11-01x");
	check_bad_day("２026-11-01");
	check_bad_day("");
}

TEST(months)
{
	int32_t m = SENTINEL, n;
	char out[8];

	CHECK_EQ_I64(caldate_parse_month("2026-11", &m), XQ_OK);
	CHECK_EQ_I64(m, 2026 * 12 + 10);
	CHECK_EQ_I64(caldate_parse_month("2026-11-15", &n), XQ_OK);
	CHECK_EQ_I64(n, m);
	caldate_format_month(m + 2, out);
	CHECK_STR(out, "2027-01");
	caldate_format_month(2021 * 12 + 11, out);
	CHECK_STR(out, "2021-12");
	m = SENTINEL;
	CHECK_EQ_I64(caldate_parse_month("2026-13", &m), XQ_EINVAL);
	CHECK_EQ_I64(caldate_parse_month("2026-00", &m), XQ_EINVAL);
	CHECK_EQ_I64(caldate_parse_month("2026-02-30", &m), XQ_EINVAL);
	CHECK_EQ_I64(caldate_parse_month("1969-12", &m), XQ_EINVAL);
	CHECK_EQ_I64(caldate_parse_month("2026-1", &m), XQ_EINVAL);
	CHECK_EQ_I64(caldate_parse_month("202611", &m), XQ_EINVAL);
	CHECK_EQ_I64(m, SENTINEL);
}

TEST(shanghai_day)
{
	int32_t d;
	char out[11];

	/* 2026-11-30T15:59:59.999Z is still the 30th in Shanghai, 16:00Z is the 1st */
	CHECK_EQ_I64(caldate_parse_day("2026-11-30", &d), XQ_OK);
	CHECK_EQ_I64(caldate_day_cn((int64_t)d * 86400000 + 16 * 3600000 - 1), d);
	CHECK_EQ_I64(caldate_day_cn((int64_t)d * 86400000 + 16 * 3600000), d + 1);
	caldate_format_day(caldate_day_cn(0), out);
	CHECK_STR(out, "1970-01-01");
}

static void check_ts(const char *s, const char *want)
{
	char out[20] = "";

	CHECK_EQ_I64(caldate_rfc3339_to_utc(s, out), XQ_OK);
	CHECK_STR(out, want);
}

TEST(rfc3339)
{
	char out[20];

	check_ts("2026-12-01T08:00:00Z", "2026-12-01 08:00:00");
	check_ts("2026-12-01 08:00:00z", "2026-12-01 08:00:00");
	check_ts("2026-12-01T08:00:00.123Z", "2026-12-01 08:00:00");
	check_ts("2026-12-01T08:00:00+08:00", "2026-12-01 00:00:00");
	check_ts("2026-12-01T07:59:59+08:00", "2026-11-30 23:59:59");
	check_ts("2027-01-01T05:30:00+08:00", "2026-12-31 21:30:00");
	check_ts("2024-03-01T00:00:00+00:01", "2024-02-29 23:59:00");
	check_ts("2026-12-31T20:00:00-05:00", "2027-01-01 01:00:00");
	check_ts("2026-06-15T12:00:00+14:00", "2026-06-14 22:00:00");
	check_ts("1970-01-01T00:00:00+08:00", "1969-12-31 16:00:00");
	/* refused: no zone, bad fields, bad zone, junk */
	CHECK_EQ_I64(caldate_rfc3339_to_utc("2026-12-01T08:00:00", out), XQ_EINVAL);
	CHECK_EQ_I64(caldate_rfc3339_to_utc("2026-12-01 08:00", out), XQ_EINVAL);
	CHECK_EQ_I64(caldate_rfc3339_to_utc("2026-12-01T24:00:00Z", out), XQ_EINVAL);
	CHECK_EQ_I64(caldate_rfc3339_to_utc("2026-12-01T08:60:00Z", out), XQ_EINVAL);
	CHECK_EQ_I64(caldate_rfc3339_to_utc("2026-02-29T08:00:00Z", out), XQ_EINVAL);
	CHECK_EQ_I64(caldate_rfc3339_to_utc("2026-12-01T08:00:00.Z", out), XQ_EINVAL);
	CHECK_EQ_I64(caldate_rfc3339_to_utc("2026-12-01T08:00:00+0800", out), XQ_EINVAL);
	CHECK_EQ_I64(caldate_rfc3339_to_utc("2026-12-01T08:00:00+15:00", out), XQ_EINVAL);
	CHECK_EQ_I64(caldate_rfc3339_to_utc("2026-12-01T08:00:00+08:60", out), XQ_EINVAL);
	CHECK_EQ_I64(caldate_rfc3339_to_utc("2026-12-01T08:00:00Zjunk", out), XQ_EINVAL);
	CHECK_EQ_I64(caldate_rfc3339_to_utc("2026-12-01X08:00:00Z", out), XQ_EINVAL);
	CHECK_EQ_I64(caldate_rfc3339_to_utc("", out), XQ_EINVAL);
}

int main(void)
{
	RUN(days);
	RUN(months);
	RUN(shanghai_day);
	RUN(rfc3339);
	return test_report();
}
