/*
 * rollup.c - daily and monthly usage per meter (rollup.h, sql/005).
 *
 * All the arithmetic is in SQL. A refresh runs one statement per (meter,
 * day) with the meter id and the day's UTC range bound as constants, so the
 * optimiser can only use primary-key ranges: the day's readings, and a
 * backward probe from the day's start for the last good reading before it.
 * (A set-based statement over a JSON list of pairs was tried first: with the
 * range bounds coming from a derived table MariaDB 10.11 falls back to a
 * ref on meter_id and reads the meter's whole history for every pair.)
 * The backfill is set-based over a date range instead: one pass with window
 * functions, each day's base being the previous day's last good reading.
 */
#include "rollup.h"

#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHUNK 500 /* pairs per transaction */

/* China has had no daylight saving since 1991: local = UTC + 8 h. */
#define CN_OFFSET_MS (8 * 3600 * 1000LL)

int64_t rollup_day_of_ms(int64_t utc_ms)
{
	int64_t t = utc_ms + CN_OFFSET_MS;

	return t >= 0 ? t / 86400000 : -((-t + 86399999) / 86400000);
}

void rollup_day_str(int64_t day, char *out, size_t n)
{
	time_t t = (time_t)(day * 86400);
	struct tm tm;

	gmtime_r(&t, &tm);
	xq_snprintf(out, n, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

int rollup_day_parse(const char *s, int64_t *day)
{
	struct tm tm;
	int y, m, d;
	char back[16];
	time_t t;

	if (!s || strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3)
		return XQ_EINVAL;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	t = timegm(&tm);
	*day = (int64_t)t / 86400;
	rollup_day_str(*day, back, sizeof(back));
	return strcmp(back, s) ? XQ_EINVAL : XQ_OK; /* 2026-02-30 does not round-trip */
}


/* A day's UTC range [lo, hi) as DATETIME text. */
static void day_range(int64_t day, char lo[24], char hi[24])
{
	time_t t = (time_t)(day * 86400 - 8 * 3600);
	struct tm tm;

	gmtime_r(&t, &tm);
	xq_snprintf(lo, 24, "%04d-%02d-%02d %02d:00:00", tm.tm_year + 1900, tm.tm_mon + 1,
		    tm.tm_mday, tm.tm_hour);
	t += 86400;
	gmtime_r(&t, &tm);
	xq_snprintf(hi, 24, "%04d-%02d-%02d %02d:00:00", tm.tm_year + 1900, tm.tm_mon + 1,
		    tm.tm_mday, tm.tm_hour);
}

#define GOOD "('ok', 'corrected')"

/*
 * Usage of one register: (end - base) modulo the register range (10^digits
 * kWh or m3 = 10^(digits+3) Wh or L), so a rollover counts as the distance
 * travelled through 0, times the multiplier. NULL unless both ends have the
 * register. `base` is the last good reading before the day, else the first
 * of the day.
 */
#define USAGE(end, base)                                                                          \
	"CASE WHEN " end " IS NULL OR " base " IS NULL THEN NULL ELSE MOD(MOD(" end " - " base       \
	", a.modulus) + a.modulus, a.modulus) * a.mult END"
#define BASE(col) "CASE WHEN b.read_at IS NOT NULL THEN b." col " ELSE f." col " END"

/* Only when the upsert changed nothing: the day may have lost its last good reading. */
DB_QUERY(q_del_day) = {
	"rollup_del_day",
	"DELETE FROM meter_usage_daily WHERE meter_id = ? AND day = ? AND NOT EXISTS"
	" (SELECT 1 FROM meter_reading r WHERE r.meter_id = ? AND r.read_at >= ? AND r.read_at < ?"
	"  AND r.status IN " GOOD ")",
	"lslss", NULL
};

DB_QUERY(q_ins_day) = {
	"rollup_ins_day",
	"INSERT INTO meter_usage_daily (meter_id, day, first_read_at, last_read_at, last_value,"
	" usage_total, usage_sharp, usage_peak, usage_flat, usage_valley, readings, flagged)"
	" SELECT * FROM (SELECT m.id, ?, a0.first_at, a0.last_at, l.value,"
	" " USAGE("l.value", BASE("value")) ", " USAGE("l.value_sharp", BASE("value_sharp")) ","
	" " USAGE("l.value_peak", BASE("value_peak")) ", " USAGE("l.value_flat", BASE("value_flat"))
	", " USAGE("l.value_valley", BASE("value_valley")) ", a0.n, a0.nflag"
	" FROM (SELECT MIN(CASE WHEN r.status IN " GOOD " THEN r.read_at END) AS first_at,"
	"   MAX(CASE WHEN r.status IN " GOOD " THEN r.read_at END) AS last_at,"
	"   SUM(r.status IN " GOOD ") AS n, SUM(r.status = 'flagged') AS nflag"
	"  FROM meter_reading r WHERE r.meter_id = ? AND r.read_at >= ? AND r.read_at < ?) AS a0"
	" JOIN (SELECT id, multiplier AS mult, CAST(POW(10, digits + 3) AS SIGNED) AS modulus"
	"  FROM meter WHERE id = ?) AS a"
	" JOIN meter m ON m.id = ?"
	" JOIN meter_reading f ON f.meter_id = m.id AND f.read_at = a0.first_at"
	" JOIN meter_reading l ON l.meter_id = m.id AND l.read_at = a0.last_at"
	" LEFT JOIN meter_reading b ON b.meter_id = m.id AND b.read_at ="
	"  (SELECT r0.read_at FROM meter_reading r0 WHERE r0.meter_id = ? AND r0.read_at < ?"
	"   AND r0.status IN " GOOD " ORDER BY r0.read_at DESC LIMIT 1)) AS x"
	" ON DUPLICATE KEY UPDATE first_read_at = VALUES(first_read_at),"
	" last_read_at = VALUES(last_read_at), last_value = VALUES(last_value),"
	" usage_total = VALUES(usage_total), usage_sharp = VALUES(usage_sharp),"
	" usage_peak = VALUES(usage_peak), usage_flat = VALUES(usage_flat),"
	" usage_valley = VALUES(usage_valley), readings = VALUES(readings), flagged = VALUES(flagged)",
	"slssllls", NULL
};

DB_QUERY(q_next_day) = {
	"rollup_next_day",
	"SELECT MIN(day) FROM meter_usage_daily WHERE meter_id = ? AND day > ?", "ls", "s"
};

DB_QUERY(q_del_month) = {
	"rollup_del_month",
	"DELETE FROM meter_usage_monthly WHERE meter_id = ? AND month = ? AND NOT EXISTS"
	" (SELECT 1 FROM meter_usage_daily d WHERE d.meter_id = ? AND d.day >= ? AND d.day < ?)",
	"lslss", NULL
};

DB_QUERY(q_ins_month) = {
	"rollup_ins_month",
	"INSERT INTO meter_usage_monthly (meter_id, month, usage_total, usage_sharp, usage_peak,"
	" usage_flat, usage_valley, days, last_read_at, last_value)"
	" SELECT meter_id, ?, SUM(usage_total), SUM(usage_sharp), SUM(usage_peak), SUM(usage_flat),"
	" SUM(usage_valley), COUNT(*), MAX(last_read_at),"
	" (SELECT d2.last_value FROM meter_usage_daily d2 WHERE d2.meter_id = ? AND d2.day >= ?"
	"  AND d2.day < ? ORDER BY d2.day DESC LIMIT 1)"
	" FROM meter_usage_daily WHERE meter_id = ? AND day >= ? AND day < ? GROUP BY meter_id"
	" ON DUPLICATE KEY UPDATE usage_total = VALUES(usage_total), usage_sharp = VALUES(usage_sharp),"
	" usage_peak = VALUES(usage_peak), usage_flat = VALUES(usage_flat),"
	" usage_valley = VALUES(usage_valley), days = VALUES(days),"
	" last_read_at = VALUES(last_read_at), last_value = VALUES(last_value)",
	"slsslss", NULL
};

static int key_cmp(const void *a, const void *b)
{
	const struct rollup_key *x = a, *y = b;

	if (x->meter_id != y->meter_id)
		return x->meter_id < y->meter_id ? -1 : 1;
	return x->day < y->day ? -1 : x->day > y->day;
}

static int refresh_day(struct db *db, int64_t meter, int64_t day)
{
	char d[16], lo[24], hi[24];
	int rc;

	rollup_day_str(day, d, sizeof(d));
	day_range(day, lo, hi);
	/* an upsert: the common case (a new reading) is one statement */
	if ((rc = db_run(db, &q_ins_day, NULL, d, meter, lo, hi, meter, meter, meter, lo)) != XQ_OK)
		return rc;
	if (db_affected(db) > 0)
		return XQ_OK;
	return db_run(db, &q_del_day, NULL, meter, d, meter, lo, hi);
}

/* The month row of (meter, the month of day) from its day rows. */
static int refresh_month(struct db *db, int64_t meter, int64_t day)
{
	char mon[8], first[16], next[16], d[16];
	int y, m, rc;

	rollup_day_str(day, d, sizeof(d));
	if (sscanf(d, "%4d-%2d", &y, &m) != 2)
		return XQ_EINVAL;
	xq_snprintf(mon, sizeof(mon), "%04d-%02d", y, m);
	xq_snprintf(first, sizeof(first), "%04d-%02d-01", y, m);
	xq_snprintf(next, sizeof(next), "%04d-%02d-01", m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1);
	if ((rc = db_run(db, &q_ins_month, NULL, mon, meter, first, next, meter, first, next)) !=
	    XQ_OK)
		return rc;
	if (db_affected(db) > 0)
		return XQ_OK;
	return db_run(db, &q_del_month, NULL, meter, mon, meter, first, next);
}

static int same_month(int64_t a, int64_t b)
{
	char x[16], y[16];

	rollup_day_str(a, x, sizeof(x));
	rollup_day_str(b, y, sizeof(y));
	return !memcmp(x, y, 7);
}

struct refresh_arg {
	const struct rollup_key *keys; /* sorted, unique */
	size_t n;
};

static int refresh_tx(struct db *db, void *arg)
{
	struct refresh_arg *ra = arg;
	int64_t today = rollup_day_of_ms(xq_now_ms());
	int rc = XQ_OK;

	for (size_t i = 0; i < ra->n && rc == XQ_OK;) {
		int64_t meter = ra->keys[i].meter_id, last = -1, mon_day = -1;
		struct db_res nx;

		/* this meter's days in order, then its next day row (its base is our last value) */
		for (; i < ra->n && ra->keys[i].meter_id == meter && rc == XQ_OK; i++) {
			last = ra->keys[i].day;
			rc = refresh_day(db, meter, last);
			if (rc == XQ_OK && mon_day >= 0 && !same_month(mon_day, last))
				rc = refresh_month(db, meter, mon_day);
			mon_day = last;
		}
		if (rc != XQ_OK)
			break;
		if (last >= today) {
			/* the collector's usual case: nothing can come after today */
			rc = refresh_month(db, meter, mon_day);
			continue;
		}
		{
			char d[16];

			rollup_day_str(last, d, sizeof(d));
			if ((rc = db_run(db, &q_next_day, &nx, meter, d)) != XQ_OK)
				break;
		}
		if (nx.nrows && db_str(&nx, 0, 0)) {
			int64_t next;

			if (rollup_day_parse(db_str(&nx, 0, 0), &next) == XQ_OK) {
				rc = refresh_day(db, meter, next);
				if (rc == XQ_OK && !same_month(mon_day, next))
					rc = refresh_month(db, meter, mon_day);
				mon_day = next;
			}
		}
		db_res_release(&nx);
		if (rc == XQ_OK)
			rc = refresh_month(db, meter, mon_day);
	}
	return rc;
}

int rollup_refresh(struct db *db, const struct rollup_key *keys, size_t n)
{
	struct rollup_key *k;
	size_t u = 0;
	int rc = XQ_OK;

	if (!n)
		return XQ_OK;
	k = xq_malloc(n * sizeof(*k));
	memcpy(k, keys, n * sizeof(*k));
	qsort(k, n, sizeof(*k), key_cmp);
	for (size_t i = 0; i < n; i++)
		if (!u || key_cmp(&k[u - 1], &k[i]))
			k[u++] = k[i];
	for (size_t i = 0; i < u && rc == XQ_OK;) {
		size_t j = i + CHUNK < u ? i + CHUNK : u;
		struct refresh_arg ra;

		/* a chunk never splits a meter: its days must be refreshed in order together */
		while (j < u && k[j].meter_id == k[j - 1].meter_id)
			j++;
		ra.keys = k + i;
		ra.n = j - i;
		rc = db_tx(db, refresh_tx, &ra);
		i = j;
	}
	free(k);
	return rc;
}

/* ---- backfill -------------------------------------------------------- */

/*
 * (? = 0 OR meter_id = ?) picks one meter or all. The range [lo, hi) is UTC;
 * from/to are the local days. Each day's base is the previous day's last good
 * reading (LAG), the first day's the last good reading before the range.
 */
#define SCOPE(t) t ".read_at >= ? AND " t ".read_at < ? AND (? = 0 OR " t ".meter_id = ?)"
#define LOCAL_DAY(t) "DATE(" t ".read_at + INTERVAL 8 HOUR)"
#define BF_BASE(col) \
	"CASE WHEN d.pday IS NOT NULL THEN d.p" col " WHEN b.read_at IS NOT NULL THEN b." col \
	" ELSE d.f" col " END"

DB_QUERY(q_bf_del_days) = {
	"rollup_bf_del_days",
	"DELETE FROM meter_usage_daily WHERE day BETWEEN ? AND ? AND (? = 0 OR meter_id = ?)",
	"ssll", NULL
};

DB_QUERY(q_bf_ins_days) = {
	"rollup_bf_ins_days",
	"INSERT INTO meter_usage_daily (meter_id, day, first_read_at, last_read_at, last_value,"
	" usage_total, usage_sharp, usage_peak, usage_flat, usage_valley, readings, flagged)"
	" WITH g AS (SELECT r.meter_id, " LOCAL_DAY("r") " AS day, r.read_at, r.value,"
	"   r.value_sharp, r.value_peak, r.value_flat, r.value_valley,"
	"   ROW_NUMBER() OVER (PARTITION BY r.meter_id, " LOCAL_DAY("r") " ORDER BY r.read_at DESC)"
	"    AS rl,"
	"   ROW_NUMBER() OVER (PARTITION BY r.meter_id, " LOCAL_DAY("r") " ORDER BY r.read_at) AS rf,"
	"   COUNT(*) OVER (PARTITION BY r.meter_id, " LOCAL_DAY("r") ") AS n"
	"  FROM meter_reading r WHERE " SCOPE("r") " AND r.status IN " GOOD "),"
	" d AS (SELECT l.meter_id, l.day, f.read_at AS first_at, l.read_at AS last_at, l.n,"
	"   l.value, l.value_sharp, l.value_peak, l.value_flat, l.value_valley,"
	"   f.value AS fvalue, f.value_sharp AS fvalue_sharp, f.value_peak AS fvalue_peak,"
	"   f.value_flat AS fvalue_flat, f.value_valley AS fvalue_valley,"
	"   LAG(l.day) OVER w AS pday, LAG(l.value) OVER w AS pvalue,"
	"   LAG(l.value_sharp) OVER w AS pvalue_sharp, LAG(l.value_peak) OVER w AS pvalue_peak,"
	"   LAG(l.value_flat) OVER w AS pvalue_flat, LAG(l.value_valley) OVER w AS pvalue_valley"
	"  FROM g l JOIN g f ON f.meter_id = l.meter_id AND f.day = l.day AND f.rf = 1"
	"  WHERE l.rl = 1 WINDOW w AS (PARTITION BY l.meter_id ORDER BY l.day)),"
	" firsts AS (SELECT m.id AS meter_id, (SELECT r0.read_at FROM meter_reading r0"
	"   WHERE r0.meter_id = m.id AND r0.read_at < ? AND r0.status IN " GOOD
	"   ORDER BY r0.read_at DESC LIMIT 1) AS base_at FROM meter m WHERE (? = 0 OR m.id = ?)),"
	" fl AS (SELECT r.meter_id, " LOCAL_DAY("r") " AS day, COUNT(*) AS nf FROM meter_reading r"
	"  WHERE " SCOPE("r") " AND r.status = 'flagged' GROUP BY r.meter_id, " LOCAL_DAY("r") ")"
	" SELECT d.meter_id, d.day, d.first_at, d.last_at, d.value,"
	" " USAGE("d.value", BF_BASE("value")) ", " USAGE("d.value_sharp", BF_BASE("value_sharp"))
	", " USAGE("d.value_peak", BF_BASE("value_peak")) ","
	" " USAGE("d.value_flat", BF_BASE("value_flat")) ", "
	USAGE("d.value_valley", BF_BASE("value_valley")) ", d.n, COALESCE(fl.nf, 0)"
	" FROM d JOIN (SELECT id, multiplier AS mult, CAST(POW(10, digits + 3) AS SIGNED) AS modulus"
	"  FROM meter) AS a ON a.id = d.meter_id"
	" LEFT JOIN firsts ON firsts.meter_id = d.meter_id AND d.pday IS NULL"
	" LEFT JOIN meter_reading b ON b.meter_id = d.meter_id AND b.read_at = firsts.base_at"
	" LEFT JOIN fl ON fl.meter_id = d.meter_id AND fl.day = d.day",
	"ssllsll" "ssll", NULL
};

DB_QUERY(q_bf_del_months) = {
	"rollup_bf_del_months",
	"DELETE FROM meter_usage_monthly WHERE month BETWEEN ? AND ? AND (? = 0 OR meter_id = ?)",
	"ssll", NULL
};

DB_QUERY(q_bf_ins_months) = {
	"rollup_bf_ins_months",
	"INSERT INTO meter_usage_monthly (meter_id, month, usage_total, usage_sharp, usage_peak,"
	" usage_flat, usage_valley, days, last_read_at, last_value)"
	" SELECT x.meter_id, x.month, SUM(x.usage_total), SUM(x.usage_sharp), SUM(x.usage_peak),"
	" SUM(x.usage_flat), SUM(x.usage_valley), COUNT(*), MAX(x.last_read_at),"
	" MAX(CASE WHEN x.rl = 1 THEN x.last_value END)"
	" FROM (SELECT d.*, DATE_FORMAT(d.day, '%Y-%m') AS month, ROW_NUMBER() OVER"
	"   (PARTITION BY d.meter_id, DATE_FORMAT(d.day, '%Y-%m') ORDER BY d.day DESC) AS rl"
	"  FROM meter_usage_daily d WHERE d.day >= ? AND d.day < ? AND (? = 0 OR d.meter_id = ?)) x"
	" GROUP BY x.meter_id, x.month",
	"ssll", NULL
};

/* For each meter, its first day row after the range: its base may have moved. */
DB_QUERY(q_bf_after) = {
	"rollup_bf_after",
	"SELECT meter_id, DATEDIFF(MIN(day), '1970-01-01') FROM meter_usage_daily"
	" WHERE day > ? AND (? = 0 OR meter_id = ?) GROUP BY meter_id",
	"sll", "ll"
};

struct backfill_arg {
	int64_t from, to, meter, rows;
};

static int backfill_tx(struct db *db, void *arg)
{
	struct backfill_arg *ba = arg;
	char f[16], t[16], lo[24], hi[24], x[24], mf[16], mt[16], m0[16], m1[16];
	int y, m, rc;

	rollup_day_str(ba->from, f, sizeof(f));
	rollup_day_str(ba->to, t, sizeof(t));
	day_range(ba->from, lo, x);
	day_range(ba->to, x, hi);
	if ((rc = db_run(db, &q_bf_del_days, NULL, f, t, ba->meter, ba->meter)) != XQ_OK ||
	    (rc = db_run(db, &q_bf_ins_days, NULL, lo, hi, ba->meter, ba->meter, lo, ba->meter,
			 ba->meter, lo, hi, ba->meter, ba->meter)) != XQ_OK)
		return rc;
	ba->rows = db_affected(db);
	/* whole months: their day rows outside the range are there already */
	xq_snprintf(mf, sizeof(mf), "%.7s", f);
	xq_snprintf(mt, sizeof(mt), "%.7s", t);
	xq_snprintf(m0, sizeof(m0), "%.7s-01", f);
	if (sscanf(t, "%4d-%2d", &y, &m) != 2)
		return XQ_EINVAL;
	xq_snprintf(m1, sizeof(m1), "%04d-%02d-01", m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1);
	if ((rc = db_run(db, &q_bf_del_months, NULL, mf, mt, ba->meter, ba->meter)) != XQ_OK)
		return rc;
	return db_run(db, &q_bf_ins_months, NULL, m0, m1, ba->meter, ba->meter);
}

int rollup_backfill(struct db *db, int64_t from, int64_t to, int64_t meter_id, int64_t *days_out)
{
	struct backfill_arg ba = { from, to, meter_id, 0 };
	struct db_res res;
	struct rollup_key *keys;
	char t[16];
	int rc;

	if (days_out)
		*days_out = 0;
	if (from > to)
		return XQ_EINVAL;
	if ((rc = db_tx(db, backfill_tx, &ba)) != XQ_OK)
		return rc;
	rollup_day_str(to, t, sizeof(t));
	if ((rc = db_run(db, &q_bf_after, &res, t, meter_id, meter_id)) != XQ_OK)
		return rc;
	keys = xq_calloc(res.nrows ? res.nrows : 1, sizeof(*keys));
	for (size_t r = 0; r < res.nrows; r++) {
		keys[r].meter_id = db_i64(&res, r, 0);
		keys[r].day = db_i64(&res, r, 1);
	}
	rc = rollup_refresh(db, keys, res.nrows);
	free(keys);
	db_res_release(&res);
	if (rc == XQ_OK && days_out)
		*days_out = ba.rows;
	return rc;
}
