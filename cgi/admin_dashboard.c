/*
 * admin_dashboard.c - the console's home page figures in one request:
 * estate counts, the month's billed and collected totals, arrears with
 * their ageing, billed/collected and household usage per month, open
 * alerts. All money is integer fen; the console formats it.
 *
 *   GET /admin/api/v1/dashboard?community_id=&period=YYYY-MM&months=1..36
 *
 * period defaults to the current month in Beijing time, months (the length
 * of the trends, ending with period) to 12. Usage comes from
 * meter_usage_monthly (sql/005), household meters only, so supply meters
 * are not counted twice.
 */
#include "crud.h"

#include <stdio.h>
#include <string.h>
#include <time.h>


DB_QUERY(q_dash_counts) = {
	"dash_counts",
	"SELECT (SELECT COUNT(*) FROM community c WHERE ? IS NULL OR c.id = ?) AS communities,"
	" (SELECT COUNT(*) FROM building b WHERE ? IS NULL OR b.community_id = ?) AS buildings,"
	" (SELECT COUNT(*) FROM house h JOIN building b ON b.id = h.building_id"
	"   WHERE ? IS NULL OR b.community_id = ?) AS houses,"
	" (SELECT COUNT(*) FROM meter m WHERE m.status = 'active'"
	"   AND (? IS NULL OR m.community_id = ?)) AS meters,"
	" (SELECT COUNT(*) FROM resident r WHERE ? IS NULL OR r.community_id = ?) AS residents,"
	" (SELECT COUNT(*) FROM alert a WHERE a.status = 'open'"
	"   AND (? IS NULL OR a.community_id = ?)) AS alerts_open",
	"LLLLLLLLLLLL", "llllll",
};

/* billed and collected per period; void bills are not owed */
DB_QUERY(q_dash_billing) = {
	"dash_billing",
	"SELECT b.period, COUNT(*), CAST(SUM(b.amount_fen) AS SIGNED), CAST(SUM(b.paid_fen) AS SIGNED)"
	" FROM bill b JOIN house h ON h.id = b.house_id JOIN building bd ON bd.id = h.building_id"
	" WHERE b.status <> 'void' AND b.period BETWEEN ? AND ?"
	" AND (? IS NULL OR bd.community_id = ?) GROUP BY b.period ORDER BY b.period",
	"ssLL", "slll",
};

/* what is still owed on issued bills, by days past the due date */
DB_QUERY(q_dash_ageing) = {
	"dash_ageing",
	"SELECT CASE WHEN x.d <= 0 THEN 0 WHEN x.d <= 30 THEN 1 WHEN x.d <= 90 THEN 2"
	" WHEN x.d <= 180 THEN 3 ELSE 4 END AS bucket, COUNT(*), COUNT(DISTINCT x.house_id),"
	" CAST(SUM(x.owed) AS SIGNED) FROM (SELECT b.house_id,"
	"  DATEDIFF(?, COALESCE(b.due_date, DATE(b.issued_at), DATE(b.created_at))) AS d,"
	"  b.amount_fen + b.late_fee_fen - b.paid_fen AS owed"
	"  FROM bill b JOIN house h ON h.id = b.house_id JOIN building bd ON bd.id = h.building_id"
	"  WHERE b.status = 'issued' AND b.amount_fen + b.late_fee_fen > b.paid_fen"
	"  AND (? IS NULL OR bd.community_id = ?)) x GROUP BY bucket ORDER BY bucket",
	"sLL", "llll",
};

DB_QUERY(q_dash_arrears_houses) = {
	"dash_arrears_houses",
	"SELECT COUNT(DISTINCT b.house_id) FROM bill b JOIN house h ON h.id = b.house_id"
	" JOIN building bd ON bd.id = h.building_id"
	" WHERE b.status = 'issued' AND b.amount_fen + b.late_fee_fen > b.paid_fen"
	" AND (? IS NULL OR bd.community_id = ?)",
	"LL", "l",
};

DB_QUERY(q_dash_usage) = {
	"dash_usage",
	"SELECT u.month, m.utility, CAST(SUM(u.usage_total) AS SIGNED) FROM meter_usage_monthly u"
	" JOIN meter m ON m.id = u.meter_id WHERE m.kind = 'household' AND u.month BETWEEN ? AND ?"
	" AND (? IS NULL OR m.community_id = ?) GROUP BY u.month, m.utility ORDER BY u.month",
	"ssLL", "ssl",
};

static const char *const bucket_code[] = { "not_due", "1_30", "31_90", "91_180", "over_180" };
static const char *const bucket_zh[] = { "未到期", "逾期1-30天", "逾期31-90天", "逾期91-180天",
					 "逾期180天以上" };

#define DASH_MAX_MONTHS 36

/* Months from (y, m) back n-1 months, oldest first, as "YYYY-MM". */
static void month_list(int y, int m, int n, char out[][8])
{
	int yy = y, mm = m;

	for (int i = n - 1; i >= 0; i--) {
		xq_snprintf(out[i], 8, "%04d-%02d", yy, mm);
		if (--mm == 0) {
			mm = 12;
			yy--;
		}
	}
}

static int month_index(char months[][8], int n, const char *p)
{
	for (int i = 0; i < n; i++)
		if (p && !strcmp(months[i], p))
			return i;
	return -1;
}

int admin_dashboard(struct req *rq)
{
	struct db_res r;
	int64_t cid_v, n_months = 12, billed[DASH_MAX_MONTHS] = { 0 }, paid[DASH_MAX_MONTHS] = { 0 };
	int64_t bills[DASH_MAX_MONTHS] = { 0 }, elec[DASH_MAX_MONTHS] = { 0 }, water[DASH_MAX_MONTHS] = { 0 };
	int64_t ab[5] = { 0 }, ah[5] = { 0 }, af[5] = { 0 }, owed = 0, nbills = 0;
	const int64_t *cid;
	const char *period = req_query(rq, "period"), *months_q = req_query(rq, "months");
	char months[DASH_MAX_MONTHS][8], today[16];
	time_t now = time(NULL) + 8 * 3600; /* Beijing: the staff's calendar */
	struct tm tm;
	int y, m, rc, n, i;
	cJSON *o, *counts, *month, *arr, *it, *ar;

	if (api_opt_id(rq, "community_id", &cid_v, &cid))
		return rq->status;
	gmtime_r(&now, &tm);
	strftime(today, sizeof(today), "%Y-%m-%d", &tm);
	if (period && *period) {
		if (strlen(period) != 7 || sscanf(period, "%4d-%2d", &y, &m) != 2 || m < 1 || m > 12 ||
		    y < 2000 || y > 2100 || period[4] != '-')
			return resp_fail_msg(rq, XQ_EINVAL, "查询参数 period 必须是 YYYY-MM", "period");
	} else {
		y = tm.tm_year + 1900;
		m = tm.tm_mon + 1;
	}
	if (months_q && *months_q &&
	    (xq_parse_i64(months_q, &n_months) || n_months < 1 || n_months > DASH_MAX_MONTHS))
		return resp_fail_msg(rq, XQ_EINVAL, "查询参数 months 必须是 1 到 36 之间的整数",
				     "months");
	n = (int)n_months;
	month_list(y, m, n, months);

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "period", months[n - 1]);
	cJSON_AddStringToObject(o, "today", today);
	if (cid)
		cJSON_AddNumberToObject(o, "community_id", (double)*cid);
	else
		cJSON_AddNullToObject(o, "community_id");

	if ((rc = db_run(rq->db, &q_dash_counts, &r, cid, cid, cid, cid, cid, cid, cid, cid, cid, cid,
			 cid, cid)))
		goto fail;
	counts = db_row_json(&r, 0);
	cJSON_AddNumberToObject(o, "alerts_open", (double)db_i64(&r, 0, 5));
	cJSON_DeleteItemFromObject(counts, "alerts_open");
	cJSON_AddItemToObject(o, "counts", counts);
	db_res_release(&r);

	if ((rc = db_run(rq->db, &q_dash_billing, &r, months[0], months[n - 1], cid, cid)))
		goto fail;
	for (size_t k = 0; k < r.nrows; k++)
		if ((i = month_index(months, n, db_str(&r, k, 0))) >= 0) {
			bills[i] = db_i64(&r, k, 1);
			billed[i] = db_i64(&r, k, 2);
			paid[i] = db_i64(&r, k, 3);
		}
	db_res_release(&r);

	if ((rc = db_run(rq->db, &q_dash_usage, &r, months[0], months[n - 1], cid, cid)))
		goto fail;
	for (size_t k = 0; k < r.nrows; k++)
		if ((i = month_index(months, n, db_str(&r, k, 0))) >= 0) {
			if (!strcmp(db_str(&r, k, 1), "electric"))
				elec[i] += db_i64(&r, k, 2);
			else
				water[i] += db_i64(&r, k, 2);
		}
	db_res_release(&r);

	if ((rc = db_run(rq->db, &q_dash_ageing, &r, today, cid, cid)))
		goto fail;
	for (size_t k = 0; k < r.nrows; k++) {
		int64_t b = db_i64(&r, k, 0);
		if (b >= 0 && b < 5) {
			ab[b] = db_i64(&r, k, 1);
			ah[b] = db_i64(&r, k, 2);
			af[b] = db_i64(&r, k, 3);
			owed += af[b];
			nbills += ab[b];
		}
	}
	db_res_release(&r);

	month = cJSON_AddObjectToObject(o, "month");
	cJSON_AddStringToObject(month, "period", months[n - 1]);
	cJSON_AddNumberToObject(month, "bills", (double)bills[n - 1]);
	cJSON_AddNumberToObject(month, "billed_fen", (double)billed[n - 1]);
	cJSON_AddNumberToObject(month, "paid_fen", (double)paid[n - 1]);
	/* per mille from integers, shown as a percent with one decimal; null when nothing billed */
	if (billed[n - 1] > 0)
		cJSON_AddNumberToObject(month, "collection_rate",
					(double)(paid[n - 1] * 1000 / billed[n - 1]) / 10.0);
	else
		cJSON_AddNullToObject(month, "collection_rate");

	arr = cJSON_AddArrayToObject(o, "trend");
	for (i = 0; i < n; i++) {
		it = cJSON_CreateObject();
		cJSON_AddStringToObject(it, "period", months[i]);
		cJSON_AddNumberToObject(it, "bills", (double)bills[i]);
		cJSON_AddNumberToObject(it, "billed_fen", (double)billed[i]);
		cJSON_AddNumberToObject(it, "paid_fen", (double)paid[i]);
		cJSON_AddNumberToObject(it, "electric_wh", (double)elec[i]);
		cJSON_AddNumberToObject(it, "water_l", (double)water[i]);
		cJSON_AddItemToArray(arr, it);
	}

	if ((rc = db_run(rq->db, &q_dash_arrears_houses, &r, cid, cid)))
		goto fail;
	ar = cJSON_AddObjectToObject(o, "arrears");
	cJSON_AddNumberToObject(ar, "total_fen", (double)owed);
	cJSON_AddNumberToObject(ar, "bills", (double)nbills);
	cJSON_AddNumberToObject(ar, "houses", (double)db_i64(&r, 0, 0));
	db_res_release(&r);
	arr = cJSON_AddArrayToObject(ar, "ageing");
	for (i = 0; i < 5; i++) {
		it = cJSON_CreateObject();
		cJSON_AddStringToObject(it, "bucket", bucket_code[i]);
		cJSON_AddStringToObject(it, "label", bucket_zh[i]);
		cJSON_AddNumberToObject(it, "bills", (double)ab[i]);
		cJSON_AddNumberToObject(it, "houses", (double)ah[i]);
		cJSON_AddNumberToObject(it, "owed_fen", (double)af[i]);
		cJSON_AddItemToArray(arr, it);
	}
	return resp_json(rq, 200, o);
fail:
	cJSON_Delete(o);
	return resp_fail(rq, rc);
}
