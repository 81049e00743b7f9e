/*
 * caldate.c - the date and timestamp parsing of caldate.h, on top of
 * billing_day()/billing_civil() (the one civil-calendar implementation).
 */
#include "caldate.h"
#include "billing.h"

#include <string.h>

static int digits(const char *s, size_t n, int *out)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 1;
}

int caldate_parse_day(const char *s, int32_t *day)
{
	int y, m, d;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4, &y) ||
	    !digits(s + 5, 2, &m) || !digits(s + 8, 2, &d))
		return XQ_EINVAL;
	return billing_day(y, m, d, day);
}

int caldate_parse_month(const char *s, int32_t *month)
{
	int32_t day;
	int y, m;
	size_t n = strlen(s);

	if (n == 10 ? caldate_parse_day(s, &day) != XQ_OK : n != 7)
		return XQ_EINVAL;
	if (s[4] != '-' || !digits(s, 4, &y) || !digits(s + 5, 2, &m) || y < 1970 || y > 2200 ||
	    m < 1 || m > 12)
		return XQ_EINVAL;
	*month = y * 12 + m - 1;
	return XQ_OK;
}

void caldate_format_day(int32_t day, char out[11])
{
	int y, m, d;

	billing_civil(day, &y, &m, &d);
	xq_snprintf(out, 11, "%04d-%02d-%02d", y % 10000, m % 100, d % 100);
}

void caldate_format_month(int32_t month, char out[8])
{
	xq_snprintf(out, 8, "%04d-%02d", (month / 12) % 10000, (month % 12 + 1) % 100);
}

int32_t caldate_day_cn(int64_t now_ms)
{
	return (int32_t)((now_ms / 1000 + CALDATE_CN_OFFSET_S) / 86400);
}

int caldate_rfc3339_to_utc(const char *s, char out[20])
{
	int32_t day;
	int y, mo, d, h, mi, se, oh, om, off;
	int64_t t;
	size_t i = 19, n = strlen(s);

	if (n < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') ||
	    s[13] != ':' || s[16] != ':' || !digits(s, 4, &y) || !digits(s + 5, 2, &mo) ||
	    !digits(s + 8, 2, &d) || !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) ||
	    !digits(s + 17, 2, &se))
		return XQ_EINVAL;
	if (s[i] == '.') {
		size_t f = ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == f)
			return XQ_EINVAL;
	}
	if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n) {
		off = 0;
	} else if ((s[i] == '+' || s[i] == '-') && i + 6 == n && s[i + 3] == ':' &&
		   digits(s + i + 1, 2, &oh) && digits(s + i + 4, 2, &om) && om < 60 &&
		   oh * 60 + om <= 14 * 60) {
		off = (s[i] == '-' ? -1 : 1) * (oh * 60 + om);
	} else {
		return XQ_EINVAL;
	}
	if (h > 23 || mi > 59 || se > 59 || billing_day(y, mo, d, &day))
		return XQ_EINVAL;
	t = (int64_t)day * 86400 + h * 3600 + mi * 60 + se - (int64_t)off * 60;
	/* floor division: an offset can move 1970-01-01 before the epoch */
	day = (int32_t)(t >= 0 ? t / 86400 : -((-t + 86399) / 86400));
	t -= (int64_t)day * 86400;
	billing_civil(day, &y, &mo, &d);
	xq_snprintf(out, 20, "%04d-%02d-%02d %02d:%02d:%02d", y % 10000, mo % 100, d % 100,
		    (int)(t / 3600), (int)(t / 60 % 60), (int)(t % 60));
	return XQ_OK;
}
