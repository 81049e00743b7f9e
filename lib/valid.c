/*
 * valid.c - reading plausibility (valid.h). The collector judges a reading
 * against the previous one only; manual entry also against the next one.
 */
#include "valid.h"

#include <stdio.h>
#include <string.h>

#define CN_OFFSET_MS (8 * 3600 * 1000LL) /* Asia/Shanghai: UTC+8, no DST */

int64_t valid_modulus(int64_t digits)
{
	int64_t v = 1000;

	while (digits-- > 0)
		v *= 10;
	return v;
}

/* Elapsed hours x 1000 from a to b, at least in->min_hours_x1000 and 1. */
static int64_t hours_x1000(const struct valid_in *in, int64_t a, int64_t b)
{
	int64_t h = (b - a) / 3600;

	if (h < in->min_hours_x1000)
		h = in->min_hours_x1000;
	return h < 1 ? 1 : h;
}

/* Physical ceiling for h hours x 1000; saturates instead of overflowing. */
static int64_t physical(const struct valid_in *in, int64_t h)
{
	if (in->max_per_h > 0 && h > INT64_MAX / in->max_per_h)
		return INT64_MAX;
	return in->max_per_h * h / 1000;
}

/* k x daily average x max(days, 1); INT64_MAX when off or unknown. */
static int64_t historical(const struct valid_in *in, int64_t h)
{
	__int128 v;

	if (in->spike_factor <= 0 || in->daily_avg <= 0)
		return INT64_MAX;
	if (h < 24000)
		h = 24000;
	v = (__int128)in->spike_factor * in->daily_avg * h / 24000;
	return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

static void flag(struct valid_out *out, const char *why)
{
	out->flagged = 1;
	out->reason = why;
}

void valid_check(const struct valid_in *in, struct valid_out *out)
{
	int64_t h, ceil, hist;

	out->flagged = 0;
	out->reason = "";
	out->delta = -1;
	out->ceiling = 0;
	if (in->value < 0 || (in->modulus > 0 && in->value >= in->modulus)) {
		flag(out, VALID_BEYOND_DIGITS);
		return;
	}
	if (in->prev.have && in->at_ms > in->prev.at_ms) {
		h = hours_x1000(in, in->prev.at_ms, in->at_ms);
		ceil = physical(in, h);
		hist = historical(in, h);
		if (in->value < in->prev.value) {
			int64_t wrapped = in->value + in->modulus - in->prev.value;

			/* 6.5: a wrap only from near the top and with a plausible distance */
			if (in->prev.value > in->modulus / 10 * 9 && wrapped <= ceil) {
				out->reason = VALID_ROLLOVER;
				out->delta = wrapped;
			} else {
				flag(out, VALID_BACKWARDS);
				return;
			}
		} else {
			out->delta = in->value - in->prev.value;
		}
		if (out->delta > ceil) {
			out->ceiling = ceil;
			flag(out, VALID_SPIKE);
			return;
		}
		if (out->delta > hist) {
			out->ceiling = hist;
			flag(out, VALID_SPIKE_HISTORY);
			return;
		}
	}
	if (in->next.have && in->next.at_ms > in->at_ms && in->next.value < in->value) {
		int64_t wrapped = in->next.value + in->modulus - in->value;

		h = hours_x1000(in, in->at_ms, in->next.at_ms);
		/* the next reading may legitimately be past a wrap of this one */
		if (!(in->value > in->modulus / 10 * 9 && wrapped <= physical(in, h)))
			flag(out, VALID_ABOVE_NEXT);
	}
}

const char *valid_reason_zh(const char *reason)
{
	static const struct {
		const char *code, *zh;
	} t[] = {
	    {VALID_ROLLOVER, "表盘走满归零（按翻转计算用量）"},
	    {VALID_BACKWARDS, "读数小于上一次读数（倒走）"},
	    {VALID_ABOVE_NEXT, "读数大于其后一次读数"},
	    {VALID_SPIKE, "用量超过表计物理上限（最大功率/流量 × 时长）"},
	    {VALID_SPIKE_HISTORY, "用量远高于该表近 90 天的日均用量"},
	    {VALID_BEYOND_DIGITS, "读数超出表盘位数"},
	    {"stuck", "读数长时间不变"},
	};

	for (size_t i = 0; i < XQ_ARRAY_LEN(t); i++)
		if (reason && !strcmp(reason, t[i].code))
			return t[i].zh;
	return "";
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* n decimal digits at *p into *v; advances *p. */
static int digits(const char **p, int n, int64_t *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return 0;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return 1;
}

int valid_parse_time(const char *s, int64_t *ms)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	const char *p = s;
	int64_t y, mo, d, hh, mi, ss = 0, frac = 0, off_ms = CN_OFFSET_MS;
	char sep;

	if (!s || !digits(&p, 4, &y) || (*p != '-' && *p != '/'))
		return XQ_EINVAL;
	sep = *p++;
	if (!digits(&p, 2, &mo) || *p++ != sep || !digits(&p, 2, &d))
		return XQ_EINVAL;
	if (*p != 'T' && *p != ' ')
		return XQ_EINVAL;
	p++;
	if (!digits(&p, 2, &hh) || *p++ != ':' || !digits(&p, 2, &mi))
		return XQ_EINVAL;
	if (*p == ':') {
		p++;
		if (!digits(&p, 2, &ss))
			return XQ_EINVAL;
		if (*p == '.') {
			int n = 0;

			p++;
			while (*p >= '0' && *p <= '9') {
				if (n < 3)
					frac = frac * 10 + (*p - '0');
				n++;
				p++;
			}
			if (n == 0)
				return XQ_EINVAL;
			for (; n < 3; n++)
				frac *= 10;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		off_ms = 0;
		p++;
	} else if (*p == '+' || *p == '-') {
		int64_t oh, om;
		int neg = *p == '-';

		p++;
		if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) || oh > 14 || om > 59)
			return XQ_EINVAL;
		off_ms = (oh * 60 + om) * 60000 * (neg ? -1 : 1);
	}
	if (*p)
		return XQ_EINVAL;
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || hh > 23 ||
	    mi > 59 || ss > 59)
		return XQ_EINVAL;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return XQ_EINVAL;
	*ms = ((days_from_civil(y, mo, d) * 24 + hh) * 60 + mi) * 60000 + ss * 1000 + frac - off_ms;
	return XQ_OK;
}

void valid_time_sql(int64_t ms, char *out, size_t n)
{
	int64_t z = (ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000));
	int64_t rem = ms - z * 86400000, era, doe, yoe, y, doy, mp, d, m;

	/* civil_from_days, the inverse of days_from_civil */
	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp + (mp < 10 ? 3 : -9);
	y += m <= 2;
	snprintf(out, n, "%04lld-%02lld-%02lld %02lld:%02lld:%02lld.%03lld", (long long)y,
	         (long long)m, (long long)d, (long long)(rem / 3600000),
	         (long long)(rem / 60000 % 60), (long long)(rem / 1000 % 60),
	         (long long)(rem % 1000));
}
