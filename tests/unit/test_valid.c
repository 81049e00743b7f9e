/*
 * test_valid.c - lib/valid.c: the reading plausibility rules shared by the
 * collector and manual entry (rollover only from near the top, backwards,
 * physical and historical spikes, beyond digits, the next neighbour of a
 * reading dated in the past) and the reading-time parser.
 */
#include "test.h"
#include "valid.h"

#include <string.h>

#define H (3600 * 1000LL)

/* A 6-digit electric meter (modulus 10^9 Wh), 15 kW ceiling, prev 1000 kWh a day ago. */
static struct valid_in base(int64_t value)
{
	struct valid_in in = {0};

	in.at_ms = 1000 * 24 * H;
	in.value = value;
	in.prev.have = 1;
	in.prev.at_ms = in.at_ms - 24 * H;
	in.prev.value = 1000000;
	in.modulus = valid_modulus(6);
	in.max_per_h = 15000;
	return in;
}

TEST(modulus)
{
	CHECK_EQ_I64(valid_modulus(6), 1000000000LL);
	CHECK_EQ_I64(valid_modulus(4), 10000000LL);
}

TEST(ok_and_delta)
{
	struct valid_in in = base(1010000);
	struct valid_out o;

	valid_check(&in, &o);
	CHECK_EQ_I64(o.flagged, 0);
	CHECK_STR(o.reason, "");
	CHECK_EQ_I64(o.delta, 10000);
	in.prev.have = 0; /* first reading of a meter: nothing to compare with */
	valid_check(&in, &o);
	CHECK_EQ_I64(o.flagged, 0);
	CHECK_EQ_I64(o.delta, -1);
}

TEST(backwards_and_rollover)
{
	struct valid_in in = base(999000);
	struct valid_out o;

	valid_check(&in, &o);
	CHECK_EQ_I64(o.flagged, 1);
	CHECK_STR(o.reason, VALID_BACKWARDS);
	/* near the top: 999,990 kWh -> 5 kWh is a wrap of 15 kWh */
	in.prev.value = 999990000;
	in.value = 5000;
	valid_check(&in, &o);
	CHECK_EQ_I64(o.flagged, 0);
	CHECK_STR(o.reason, VALID_ROLLOVER);
	CHECK_EQ_I64(o.delta, 15000);
	/* near the top but the wrapped distance is more than 15 kW x 24 h */
	in.value = 400000;
	valid_check(&in, &o);
	CHECK_EQ_I64(o.flagged, 1);
	CHECK_STR(o.reason, VALID_BACKWARDS);
	/* exactly 90 % of the range is not "near the top" */
	in.prev.value = 900000000;
	in.value = 0;
	valid_check(&in, &o);
	CHECK_STR(o.reason, VALID_BACKWARDS);
}

TEST(spikes)
{
	struct valid_in in = base(1000000 + 360000); /* 15 kW x 24 h exactly */
	struct valid_out o;

	valid_check(&in, &o);
	CHECK_EQ_I64(o.flagged, 0);
	in.value++;
	valid_check(&in, &o);
	CHECK_EQ_I64(o.flagged, 1);
	CHECK_STR(o.reason, VALID_SPIKE);
	CHECK_EQ_I64(o.ceiling, 360000);
	/* history: 10 kWh a day, k = 5: 50 kWh over one day is the limit */
	in.daily_avg = 10000;
	in.spike_factor = 5;
	in.value = 1050000;
	valid_check(&in, &o);
	CHECK_EQ_I64(o.flagged, 0);
	in.value = 1050001;
	valid_check(&in, &o);
	CHECK_STR(o.reason, VALID_SPIKE_HISTORY);
	CHECK_EQ_I64(o.ceiling, 50000);
	/* over three days the limit triples; under a day it stays one day's worth */
	in.prev.at_ms = in.at_ms - 72 * H;
	in.value = 1150000;
	valid_check(&in, &o);
	CHECK_EQ_I64(o.flagged, 0);
	in.prev.at_ms = in.at_ms - 1 * H;
	in.value = 1014000; /* 14 kWh in an hour: under 15 kW, under 50 kWh */
	valid_check(&in, &o);
	CHECK_EQ_I64(o.flagged, 0);
	in.spike_factor = 0; /* off */
	in.prev.at_ms = in.at_ms - 24 * H;
	in.value = 1300000;
	valid_check(&in, &o);
	CHECK_EQ_I64(o.flagged, 0);
}

TEST(min_hours)
{
	/* the collector counts at least one poll period: 1 minute = 16/1000 h (truncated) at 15 kW
	 * = 240 Wh */
	struct valid_in in = base(1000240);
	struct valid_out o;

	in.prev.at_ms = in.at_ms - 1000;
	in.min_hours_x1000 = 60000 / 3600;
	valid_check(&in, &o);
	CHECK_EQ_I64(o.flagged, 0);
	in.value = 1000241;
	valid_check(&in, &o);
	CHECK_STR(o.reason, VALID_SPIKE);
}

TEST(beyond_digits)
{
	struct valid_in in = base(1000000000);
	struct valid_out o;

	valid_check(&in, &o);
	CHECK_EQ_I64(o.flagged, 1);
	CHECK_STR(o.reason, VALID_BEYOND_DIGITS);
	in.value = 999999999;
	in.prev.have = 0;
	valid_check(&in, &o);
	CHECK_EQ_I64(o.flagged, 0);
}

TEST(next_neighbour)
{
	struct valid_in in = base(1010000);
	struct valid_out o;

	in.next.have = 1;
	in.next.at_ms = in.at_ms + 24 * H;
	in.next.value = 1005000; /* the later reading is lower: the new one is wrong */
	valid_check(&in, &o);
	CHECK_EQ_I64(o.flagged, 1);
	CHECK_STR(o.reason, VALID_ABOVE_NEXT);
	in.next.value = 1020000;
	valid_check(&in, &o);
	CHECK_EQ_I64(o.flagged, 0);
	/* the new reading near the top, the next one past the wrap: fine */
	in.prev.value = 999900000;
	in.value = 999950000;
	in.next.value = 10000;
	valid_check(&in, &o);
	CHECK_EQ_I64(o.flagged, 0);
}

TEST(parse_time)
{
	int64_t ms = 0;
	char s[32];

	CHECK_EQ_I64(valid_parse_time("2026-11-02T00:30:00Z", &ms), XQ_OK);
	valid_time_sql(ms, s, sizeof(s));
	CHECK_STR(s, "2026-11-02 00:30:00.000");
	/* no offset: China time */
	CHECK_EQ_I64(valid_parse_time("2026-11-02 08:30", &ms), XQ_OK);
	valid_time_sql(ms, s, sizeof(s));
	CHECK_STR(s, "2026-11-02 00:30:00.000");
	CHECK_EQ_I64(valid_parse_time("2026/11/02 08:30:05", &ms), XQ_OK);
	valid_time_sql(ms, s, sizeof(s));
	CHECK_STR(s, "2026-11-02 00:30:05.000");
	CHECK_EQ_I64(valid_parse_time("2026-03-01T01:02:03.5+08:00", &ms), XQ_OK);
	valid_time_sql(ms, s, sizeof(s));
	CHECK_STR(s, "2026-02-28 17:02:03.500");
	CHECK_EQ_I64(valid_parse_time("2024-02-29T23:59:59.999-01:00", &ms), XQ_OK);
	valid_time_sql(ms, s, sizeof(s));
	CHECK_STR(s, "2024-03-01 00:59:59.999");
	CHECK_EQ_I64(valid_parse_time("1970-01-01T00:00:00Z", &ms), XQ_OK);
	CHECK_EQ_I64(ms, 0);
	CHECK_EQ_I64(valid_parse_time("2025-02-29 00:00", &ms), XQ_EINVAL);
	CHECK_EQ_I64(valid_parse_time("2026-13-01 00:00", &ms), XQ_EINVAL);
	CHECK_EQ_I64(valid_parse_time("2026-11-02", &ms), XQ_EINVAL);
	CHECK_EQ_I64(valid_parse_time("2026-11-02 24:00", &ms), XQ_EINVAL);
	CHECK_EQ_I64(valid_parse_time("2026-11-02 08:30Zx", &ms), XQ_EINVAL);
	CHECK_EQ_I64(valid_parse_time("2026-11/02 08:30", &ms), XQ_EINVAL);
	CHECK_EQ_I64(valid_parse_time("", &ms), XQ_EINVAL);
}

TEST(reason_text)
{
	CHECK(strlen(valid_reason_zh(VALID_BACKWARDS)) > 0);
	CHECK_STR(valid_reason_zh("nonsense"), "");
	CHECK_STR(valid_reason_zh(NULL), "");
}

int main(void)
{
	RUN(modulus);
	RUN(ok_and_delta);
	RUN(backwards_and_rollover);
	RUN(spikes);
	RUN(min_hours);
	RUN(beyond_digits);
	RUN(next_neighbour);
	RUN(parse_time);
	RUN(reason_text);
	return test_report();
}
