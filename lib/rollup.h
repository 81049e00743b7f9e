/*
 * rollup.h - daily and monthly usage per meter (sql/005_usage_rollup.sql).
 *
 * Every path that stores or changes readings calls rollup_refresh() for the
 * (meter, day) pairs it touched: xq-collector after each stored batch,
 * xqctl demo through rollup_backfill(), and manual entry, import and
 * review/correction when they are written (they must, or charts and reports
 * go stale). A refresh recomputes each day row from that day's raw readings
 * of that meter (a primary-key range scan) and the last good reading before
 * the day, then the affected month rows from their day rows, so it is
 * idempotent: replaying readings or refreshing twice changes nothing.
 *
 * Days are Asia/Shanghai calendar dates (UTC+8, no daylight saving). Good
 * readings are status ok or corrected; flagged ones are counted, rejected
 * ones ignored. Usage = (last good of the day - last good before the day, or
 * the first of the day when there is none) modulo 10^digits kWh / m3 (so a
 * register rollover counts as the distance travelled), times the meter's
 * multiplier. A day without good readings has no row.
 */
#ifndef XQ_ROLLUP_H
#define XQ_ROLLUP_H

#include "xq.h"

struct db;

struct rollup_key {
	int64_t meter_id;
	int64_t day; /* Asia/Shanghai date as days since 1970-01-01 */
};

/* The Asia/Shanghai day (days since 1970-01-01) of a UTC instant in ms. */
int64_t rollup_day_of_ms(int64_t utc_ms);
/* "YYYY-MM-DD" of a day number (out: at least 11 bytes). */
void rollup_day_str(int64_t day, char *out, size_t n);
/* Parses "YYYY-MM-DD" into a day number: XQ_OK or XQ_EINVAL. */
int rollup_day_parse(const char *s, int64_t *day /* OUT */);

/*
 * Recomputes the day rows of keys (duplicates allowed, any order), plus for
 * each meter the next existing day row after its latest key (its base may
 * have changed), then their month rows. Runs in one transaction (db_tx),
 * so it must not be called inside another. XQ_OK or a db error.
 */
int rollup_refresh(struct db *db, const struct rollup_key *keys, size_t n);

/*
 * Backfill: refreshes every (meter, day) from..to (inclusive day numbers)
 * that has readings or a day row, for one meter or all (meter_id 0), in
 * chunks of one transaction each. *days_out (may be NULL) gets the number
 * of (meter, day) pairs refreshed.
 */
int rollup_backfill(struct db *db, int64_t from, int64_t to, int64_t meter_id,
		    int64_t *days_out /* OUT */);

#endif
