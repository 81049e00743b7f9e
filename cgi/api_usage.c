/*
 * api_usage.c - what a resident sees of the meters of a bound house: the
 * meters with their latest reading, one meter's readings page by page, and
 * usage series for charts read from the rollup tables meter_usage_daily /
 * meter_usage_monthly (sql/005_usage_rollup.sql). The series never scan
 * meter_reading; keeping the rollups current is lib/rollup.c's business.
 *
 * Days are Asia/Shanghai calendar days (UTC+8 all year, no DST), as in the
 * rollups. Every range is bounded (docs/resident-api.md) so no request can
 * ask for years of rows.
 */
#include "caldate.h"
#include "crud.h"
#include "money.h"
#include "resident_auth.h"

#include <stdio.h>
#include <string.h>

#define READINGS_MAX_DAYS 400
#define USAGE_MAX_DAYS 400
#define USAGE_MAX_MONTHS 60

/* ---- ranges --------------------------------------------------------- */

/*
 * The from/to query parameters as days, both inclusive, at most max_days
 * apart; defaults: to = today, from = to - (def_days - 1). Responds 400 on
 * error and returns non-zero.
 */
static int query_day_range(struct req *rq, int32_t def_days, int32_t max_days, int32_t *from,
			   int32_t *to)
{
	const char *f = req_query(rq, "from"), *t = req_query(rq, "to");
	char msg[160];

	*to = caldate_day_cn(xq_now_ms());
	if (t && *t && caldate_parse_day(t, to))
		return resp_fail_msg(rq, XQ_EINVAL, "结束日期格式应为 YYYY-MM-DD", "to"), XQ_EINVAL;
	*from = *to - (def_days - 1);
	if (f && *f && caldate_parse_day(f, from))
		return resp_fail_msg(rq, XQ_EINVAL, "开始日期格式应为 YYYY-MM-DD", "from"), XQ_EINVAL;
	if (*from > *to)
		return resp_fail_msg(rq, XQ_EINVAL, "开始日期不能晚于结束日期", "from"), XQ_EINVAL;
	if (*to - *from + 1 > max_days) {
		snprintf(msg, sizeof(msg), "查询范围不能超过 %d 天", (int)max_days);
		return resp_fail_msg(rq, XQ_EINVAL, msg, "to"), XQ_EINVAL;
	}
	return XQ_OK;
}

static int query_month_range(struct req *rq, int32_t *from, int32_t *to)
{
	const char *f = req_query(rq, "from"), *t = req_query(rq, "to");
	char msg[160], today[11];

	caldate_format_day(caldate_day_cn(xq_now_ms()), today);
	caldate_parse_month(today, to);
	if (t && *t && caldate_parse_month(t, to))
		return resp_fail_msg(rq, XQ_EINVAL, "结束月份格式应为 YYYY-MM 或 YYYY-MM-DD", "to"),
		       XQ_EINVAL;
	*from = *to - 11;
	if (f && *f && caldate_parse_month(f, from))
		return resp_fail_msg(rq, XQ_EINVAL, "开始月份格式应为 YYYY-MM 或 YYYY-MM-DD", "from"),
		       XQ_EINVAL;
	if (*from > *to)
		return resp_fail_msg(rq, XQ_EINVAL, "开始月份不能晚于结束月份", "from"), XQ_EINVAL;
	if (*to - *from + 1 > USAGE_MAX_MONTHS) {
		snprintf(msg, sizeof(msg), "查询范围不能超过 %d 个月", USAGE_MAX_MONTHS);
		return resp_fail_msg(rq, XQ_EINVAL, msg, "to"), XQ_EINVAL;
	}
	return XQ_OK;
}

/* Wh or litres as kWh or m³ with two decimals ("12.35"), MONEY-ROUND-01 on 10 units. */
static void qty_display(int64_t milli, char *out, size_t n)
{
	int64_t hundredths = 0;

	if (money_round_fen(milli, 10, &hundredths))
		hundredths = 0;
	json_dec2_format(hundredths, out, n);
}

static void add_qty(cJSON *o, const char *key, const char *display_key, int64_t milli)
{
	char d[32];

	cJSON_AddNumberToObject(o, key, (double)milli);
	if (display_key) {
		qty_display(milli, d, sizeof(d));
		cJSON_AddStringToObject(o, display_key, d);
	}
}

/* ---- meters of a house --------------------------------------------------- */

DB_QUERY(q_res_meters) = {
	"resident_house_meters",
	"SELECT m.id, m.utility, m.meter_no, m.kind, m.digits, m.multiplier, m.smart, m.status,"
	" r.read_at, r.value, r.value_sharp, r.value_peak, r.value_flat, r.value_valley, r.status,"
	" r.source"
	/* newest first along the primary key, stopping at the first usable row */
	" FROM meter m LEFT JOIN meter_reading r ON r.meter_id = m.id AND r.read_at ="
	"   (SELECT x.read_at FROM meter_reading x WHERE x.meter_id = m.id"
	"    AND x.status <> 'rejected' ORDER BY x.read_at DESC LIMIT 1)"
	" WHERE m.house_id = ? ORDER BY m.status = 'removed', m.utility, m.id",
	"l",
	"lsssllbsslllllss",
};

int api_resident_house_meters(struct req *rq)
{
	struct db_res r;
	int64_t house_id;
	cJSON *o, *items;
	int rc;

	/* the router has checked the binding (R_OWN_HOUSE) */
	if (req_param_id(rq, "id", &house_id))
		return resp_fail(rq, XQ_ENOTFOUND);
	if ((rc = db_run(rq->db, &q_res_meters, &r, house_id)))
		return resp_fail(rq, rc);
	o = cJSON_CreateObject();
	items = cJSON_AddArrayToObject(o, "items");
	for (size_t i = 0; i < r.nrows; i++) {
		static const char *const rate_cols[] = { "value_sharp", "value_peak", "value_flat",
							 "value_valley" };
		cJSON *m = cJSON_CreateObject(), *lr;
		char d[32];

		cJSON_AddNumberToObject(m, "id", (double)db_i64(&r, i, 0));
		cJSON_AddStringToObject(m, "utility", db_str(&r, i, 1));
		cJSON_AddStringToObject(m, "meter_no", db_str(&r, i, 2));
		cJSON_AddStringToObject(m, "kind", db_str(&r, i, 3));
		cJSON_AddNumberToObject(m, "digits", (double)db_i64(&r, i, 4));
		cJSON_AddNumberToObject(m, "multiplier", (double)db_i64(&r, i, 5));
		cJSON_AddBoolToObject(m, "smart", db_i64(&r, i, 6) != 0);
		cJSON_AddStringToObject(m, "status", db_str(&r, i, 7));
		cJSON_AddStringToObject(m, "unit", !strcmp(db_str(&r, i, 1), "water") ? "m³" : "kWh");
		if (!db_str(&r, i, 8)) {
			cJSON_AddNullToObject(m, "latest_reading");
		} else {
			char iso[48];
			lr = cJSON_AddObjectToObject(m, "latest_reading");
			xq_snprintf(iso, sizeof(iso), "%.10sT%.12sZ", db_str(&r, i, 8),
				    db_str(&r, i, 8) + 11);
			cJSON_AddStringToObject(lr, "read_at", iso);
			cJSON_AddNumberToObject(lr, "value", (double)db_i64(&r, i, 9));
			qty_display(db_i64(&r, i, 9), d, sizeof(d));
			cJSON_AddStringToObject(lr, "value_display", d);
			for (size_t k = 0; k < 4; k++) {
				if (db_str(&r, i, 10 + k))
					cJSON_AddNumberToObject(lr, rate_cols[k],
								(double)db_i64(&r, i, 10 + k));
				else
					cJSON_AddNullToObject(lr, rate_cols[k]);
			}
			cJSON_AddStringToObject(lr, "status", db_str(&r, i, 14));
			cJSON_AddStringToObject(lr, "source", db_str(&r, i, 15));
		}
		cJSON_AddItemToArray(items, m);
	}
	db_res_release(&r);
	return resp_json(rq, 200, o);
}

/* ---- readings of one meter ----------------------------------------------- */

DB_QUERY(q_res_meter_house) = {
	"resident_meter_house", "SELECT house_id FROM meter WHERE id = ?", "l", "l",
};

/* [from 00:00, to+1 00:00) Asia/Shanghai as UTC: -8 h and +16 h */
#define READINGS_RANGE " WHERE meter_id = ? AND status <> 'rejected'" \
	" AND read_at >= CAST(? AS DATETIME) - INTERVAL 8 HOUR" \
	" AND read_at < CAST(? AS DATETIME) + INTERVAL 16 HOUR"

DB_QUERY(q_res_readings_count) = {
	"resident_readings_count", "SELECT COUNT(*) FROM meter_reading" READINGS_RANGE, "lss", "l",
};

DB_QUERY(q_res_readings_page) = {
	"resident_readings_page",
	"SELECT read_at, value, value_sharp, value_peak, value_flat, value_valley, source, status"
	" FROM meter_reading" READINGS_RANGE " ORDER BY read_at DESC LIMIT ? OFFSET ?",
	"lssll",
	"slllllss",
};

int api_resident_meter_readings(struct req *rq)
{
	struct db_res r, cnt, rows = { 0 };
	int64_t meter_id, house_id = 0;
	int32_t from, to;
	char f[11], t[11];
	struct page pg;
	int rc;

	if (req_param_id(rq, "id", &meter_id))
		return resp_fail_msg(rq, XQ_ENOTFOUND, "表计不存在", NULL);
	if ((rc = db_run(rq->db, &q_res_meter_house, &r, meter_id)))
		return resp_fail(rq, rc);
	if (r.nrows == 1)
		house_id = db_i64(&r, 0, 0); /* 0 for supply and public meters */
	db_res_release(&r);
	/* the one ownership helper: another resident's meter is "not found" */
	rc = resident_house_check(rq->db, rq->who.wx_user_id, house_id);
	if (rc == XQ_ENOTFOUND)
		return resp_fail_msg(rq, XQ_ENOTFOUND, "表计不存在", NULL);
	if (rc)
		return resp_fail(rq, rc);
	if (query_day_range(rq, 30, READINGS_MAX_DAYS, &from, &to) || api_page(rq, &pg))
		return rq->status;
	caldate_format_day(from, f);
	caldate_format_day(to, t);
	rc = db_run(rq->db, &q_res_readings_count, &cnt, meter_id, f, t);
	if (rc == XQ_OK)
		rc = db_run(rq->db, &q_res_readings_page, &rows, meter_id, f, t, pg.size, pg.offset);
	if (rc) {
		db_res_release(&cnt);
		db_res_release(&rows);
		return resp_fail(rq, rc);
	}
	{
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "meter_id", (double)meter_id);
		cJSON_AddStringToObject(o, "from", f);
		cJSON_AddStringToObject(o, "to", t);
		cJSON_AddItemToObject(o, "items", db_rows_json(&rows));
		cJSON_AddNumberToObject(o, "total", (double)db_i64(&cnt, 0, 0));
		cJSON_AddNumberToObject(o, "page", (double)pg.page);
		cJSON_AddNumberToObject(o, "page_size", (double)pg.size);
		db_res_release(&cnt);
		db_res_release(&rows);
		return resp_json(rq, 200, o);
	}
}

/* ---- usage series ---------------------------------------------------------- */

/*
 * One row per period with data: period, total, the four rates (NULL if no
 * meter has them). STRAIGHT_JOIN: the house's few meters first, then each
 * meter's rows by the primary key (meter_id, ...), so the work is the
 * house's own rollup rows; never the day/month index across every meter of
 * the estate, which the statistics of a small table can suggest.
 */
#define USAGE_SUMS "SUM(u.usage_total), SUM(u.usage_sharp), SUM(u.usage_peak)," \
	" SUM(u.usage_flat), SUM(u.usage_valley)"

DB_QUERY(q_res_usage_daily) = {
	"resident_usage_daily",
	"SELECT u.day, " USAGE_SUMS " FROM meter m"
	" STRAIGHT_JOIN meter_usage_daily u FORCE INDEX (PRIMARY) ON u.meter_id = m.id"
	" WHERE m.house_id = ? AND m.utility = ? AND u.day BETWEEN ? AND ?"
	" GROUP BY u.day ORDER BY u.day",
	"lsss",
	"slllll",
};

DB_QUERY(q_res_usage_monthly) = {
	"resident_usage_monthly",
	"SELECT u.month, " USAGE_SUMS " FROM meter m"
	" STRAIGHT_JOIN meter_usage_monthly u FORCE INDEX (PRIMARY) ON u.meter_id = m.id"
	" WHERE m.house_id = ? AND m.utility = ? AND u.month BETWEEN ? AND ?"
	" GROUP BY u.month ORDER BY u.month",
	"lsss",
	"slllll",
};

DB_QUERY(q_res_usage_meters) = {
	"resident_usage_meters",
	"SELECT id, meter_no, status FROM meter WHERE house_id = ? AND utility = ? ORDER BY id",
	"ls",
	"lss",
};

static const char *const utilities[] = { "electric", "water", NULL };
static const char *const granularities[] = { "day", "month", NULL };
static const char *const rate_names[] = { "sharp", "peak", "flat", "valley" };

int api_resident_house_usage(struct req *rq)
{
	const char *utility, *gran, *unit_sfx;
	int32_t from, to, n;
	struct db_res r, mr;
	int64_t house_id, total = 0, rate_total[4] = { 0 };
	int has_rates = 0, monthly;
	char f[11], t[11], key[32];
	cJSON *o, *points;
	size_t row = 0;
	int rc;

	/* the router has checked the binding (R_OWN_HOUSE) */
	if (req_param_id(rq, "id", &house_id))
		return resp_fail(rq, XQ_ENOTFOUND);
	if (api_opt_enum(rq, "utility", utilities, &utility) ||
	    api_opt_enum(rq, "granularity", granularities, &gran))
		return rq->status;
	if (!utility)
		return resp_fail_msg(rq, XQ_EINVAL, "请指定 utility：electric 或 water", "utility");
	monthly = gran && !strcmp(gran, "month");
	if (monthly ? query_month_range(rq, &from, &to)
		    : query_day_range(rq, 30, USAGE_MAX_DAYS, &from, &to))
		return rq->status;
	if (monthly) {
		caldate_format_month(from, f);
		caldate_format_month(to, t);
	} else {
		caldate_format_day(from, f);
		caldate_format_day(to, t);
	}
	rc = db_run(rq->db, monthly ? &q_res_usage_monthly : &q_res_usage_daily, &r, house_id,
		    utility, f, t);
	if (rc)
		return resp_fail(rq, rc);
	if ((rc = db_run(rq->db, &q_res_usage_meters, &mr, house_id, utility))) {
		db_res_release(&r);
		return resp_fail(rq, rc);
	}
	for (size_t i = 0; i < r.nrows; i++)
		for (size_t k = 0; k < 4; k++)
			if (db_str(&r, i, 2 + k))
				has_rates = 1;

	/* Wh for electricity, litres for water: the unit is in every key */
	unit_sfx = !strcmp(utility, "water") ? "_l" : "_wh";
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "house_id", (double)house_id);
	cJSON_AddStringToObject(o, "utility", utility);
	cJSON_AddStringToObject(o, "granularity", monthly ? "month" : "day");
	cJSON_AddStringToObject(o, "from", f);
	cJSON_AddStringToObject(o, "to", t);
	cJSON_AddStringToObject(o, "unit", !strcmp(utility, "water") ? "m³" : "kWh");
	cJSON_AddItemToObject(o, "meters", db_rows_json(&mr));
	db_res_release(&mr);
	{
		cJSON *rates = cJSON_AddArrayToObject(o, "rates");
		for (size_t k = 0; has_rates && k < 4; k++)
			cJSON_AddItemToArray(rates, cJSON_CreateString(rate_names[k]));
	}
	points = cJSON_AddArrayToObject(o, "points");
	n = to - from + 1;
	for (int32_t p = 0; p < n; p++) {
		char label[11];
		cJSON *pt = cJSON_CreateObject();
		int64_t v = 0;
		int have;

		if (monthly)
			caldate_format_month(from + p, label);
		else
			caldate_format_day(from + p, label);
		/* rows are sorted and a subset of the labels: a missing label is a zero */
		have = row < r.nrows && !strcmp(db_str(&r, row, 0), label);
		cJSON_AddStringToObject(pt, monthly ? "month" : "date", label);
		if (have)
			v = db_i64(&r, row, 1);
		xq_snprintf(key, sizeof(key), "usage%s", unit_sfx);
		add_qty(pt, key, "usage", v);
		total += v;
		for (size_t k = 0; has_rates && k < 4; k++) {
			int64_t rv = have ? db_i64(&r, row, 2 + k) : 0;
			xq_snprintf(key, sizeof(key), "%s%s", rate_names[k], unit_sfx);
			cJSON_AddNumberToObject(pt, key, (double)rv);
			rate_total[k] += rv;
		}
		cJSON_AddBoolToObject(pt, "has_data", have);
		if (have)
			row++;
		cJSON_AddItemToArray(points, pt);
	}
	db_res_release(&r);
	xq_snprintf(key, sizeof(key), "total%s", unit_sfx);
	add_qty(o, key, "total", total);
	for (size_t k = 0; has_rates && k < 4; k++) {
		xq_snprintf(key, sizeof(key), "total_%s%s", rate_names[k], unit_sfx);
		cJSON_AddNumberToObject(o, key, (double)rate_total[k]);
	}
	return resp_json(rq, 200, o);
}
