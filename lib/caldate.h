/*
 * caldate.h - calendar dates and timestamps as the residents' API takes them
 * in query strings and bodies. Pure: no I/O, and the clock is a parameter.
 *
 * Days are day numbers since 1970-01-01 (the billing_day() numbering) and
 * months are year * 12 + month - 1. Residents' days are Asia/Shanghai
 * calendar days: UTC+8 all year (China has had no DST since 1991), so a
 * fixed offset is exact.
 */
#ifndef XQ_CALDATE_H
#define XQ_CALDATE_H

#include "xq.h"

#include <stdint.h>

#define CALDATE_CN_OFFSET_S (8 * 3600)

/* "YYYY-MM-DD", a real date in 1970..2200, to a day number; XQ_EINVAL otherwise. */
int caldate_parse_day(const char *s, int32_t *day /* OUT */);
/* "YYYY-MM" or "YYYY-MM-DD" (a real date), years 1970..2200, to a month number. */
int caldate_parse_month(const char *s, int32_t *month /* OUT */);
/* "YYYY-MM-DD" of a day number. */
void caldate_format_day(int32_t day, char out[11]);
/* "YYYY-MM" of a month number. */
void caldate_format_month(int32_t month, char out[8]);
/* The Asia/Shanghai day number at now_ms (milliseconds since the epoch, >= 0). */
int32_t caldate_day_cn(int64_t now_ms);

/*
 * RFC 3339 "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)" (a space is
 * accepted for the T; the fraction is dropped) to the UTC text MariaDB
 * stores, "YYYY-MM-DD HH:MM:SS". A time without a zone is XQ_EINVAL: the
 * console and the server might not agree on it. Offsets up to ±14:00.
 */
int caldate_rfc3339_to_utc(const char *s, char out[20]);

#endif
