/*
 * valid.h - plausibility rules for a meter reading (meter-protocols.md 6.5,
 * 6.8), shared by xq-collector (each reading against the previous one) and
 * the console/reader entry paths (a reading against both neighbours in
 * time, since a manual reading may be dated in the past). Pure: no
 * database, no clock. docs/readings.md states the rules.
 */
#ifndef XQ_VALID_H
#define XQ_VALID_H

#include "xq.h"

/* A neighbouring good reading; have = 0 when there is none. */
struct valid_point {
	int have;
	int64_t at_ms; /* UTC */
	int64_t value; /* raw register, Wh or L */
};

struct valid_in {
	int64_t at_ms, value;    /* the reading judged */
	struct valid_point prev; /* the latest good reading before it */
	struct valid_point next; /* the earliest good reading after it (manual entry only) */
	int64_t modulus;         /* the register wraps here: 10^digits x 1000 (Wh or L) */
	int64_t max_per_h;       /* physical ceiling, register units per hour */
	int64_t min_hours_x1000; /* elapsed time is counted as at least this (poll period) */
	/* history: typical raw register units per day (0 = unknown) and the factor k */
	int64_t daily_avg;
	int64_t spike_factor; /* flag when use > k x daily_avg x max(days, 1); 0 = off */
};

/* Reasons, stored in meter_reading.flag_reason. */
#define VALID_ROLLOVER      "rollover"      /* status ok: the register wrapped */
#define VALID_BACKWARDS     "backwards"     /* below the previous reading */
#define VALID_ABOVE_NEXT    "above_next"    /* above the following reading */
#define VALID_SPIKE         "spike"         /* more than max power x elapsed time */
#define VALID_SPIKE_HISTORY "spike_history" /* more than k x the meter's daily average */
#define VALID_BEYOND_DIGITS "beyond_digits" /* value not below 10^digits */

struct valid_out {
	int flagged;        /* 1: store flagged, for review */
	const char *reason; /* one of the above, or "" (plain ok) */
	int64_t delta;      /* use since prev after rollover, -1 if no prev */
	int64_t ceiling;    /* the limit the delta was compared with (spike reasons) */
};

/* Judges in->value; fills out. Never fails. */
void valid_check(const struct valid_in *in, struct valid_out *out /* OUT */);

/* The modulus of a register with digits integer digits (10^digits kWh or m3 in Wh or L). */
int64_t valid_modulus(int64_t digits);

/* Chinese text for a flag reason, for warnings shown to people ("" for none). */
const char *valid_reason_zh(const char *reason);

/*
 * Parses a reading time: RFC 3339 ("2026-11-02T08:30:00Z", "...+08:00",
 * optional .fff) or a local Asia/Shanghai time without offset
 * ("2026-11-02 08:30", "2026-11-02T08:30:00", "2026/11/02 08:30:00").
 * XQ_OK with *ms (UTC ms since the epoch) or XQ_EINVAL.
 */
int valid_parse_time(const char *s, int64_t *ms /* OUT */);
/* UTC ms as "YYYY-MM-DD HH:MM:SS.fff" for a DATETIME(3) parameter (out >= 24 bytes). */
void valid_time_sql(int64_t ms, char *out, size_t n);

#endif
