/*
 * admin_report.c - the console's reports (issue 8 part 4), each as JSON and
 * as .xlsx with the same filters (docs/reports.md defines every figure):
 *
 *   GET /admin/api/v1/reports/usage[.xlsx]          monthly usage by community|building|house
 *   GET /admin/api/v1/reports/billing[.xlsx]        billed vs collected by month, community|building
 *   GET /admin/api/v1/reports/arrears-ageing[.xlsx] owed by days past due, community|building|house
 *   GET /admin/api/v1/reports/payments[.xlsx]       payments and refunds by Beijing day and channel
 *   GET /admin/api/v1/reports/late-fees[.xlsx]      late fees accrued, waived, collected by month
 *   GET /admin/api/v1/reports/line-loss[.xlsx]      supply meter vs its sub-meters by month
 *   GET /admin/api/v1/reports/top-consumers[.xlsx]  top N houses by usage in a month range
 *   GET /admin/api/v1/reports/meters-offline[.xlsx] smart meters silent for N days
 *
 * Usage figures come from meter_usage_monthly (sql/005) only, never from
 * meter_reading. Billed/collected and ageing use the dashboard's definitions
 * (cgi/admin_dashboard.c: void bills are not owed; owed = amount + late fee -
 * paid on issued bills; days past due from due_date), so both pages agree.
 * Grouping is a CASE over a bound parameter, never SQL text built at runtime.
 */
#include "crud.h"
#include "xlsx_export.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define RPT_MAX_MONTHS 36
#define RPT_MAX_DAYS 366

/* The group key and label of a house-level row: community, building or house. */
#define GROUP_COLS                                                                             \
	" CASE ? WHEN 'community' THEN c.id WHEN 'building' THEN bd.id ELSE h.id END AS gid,"      \
	" CASE ? WHEN 'community' THEN c.name WHEN 'building' THEN CONCAT(c.name, ' ', bd.name)"   \
	"  ELSE CONCAT(c.name, ' ', bd.name, ' ', h.unit_no, '-', h.room) END AS gname"

DB_QUERY(q_rpt_usage) = {
	"rpt_usage",
	"SELECT x.month, x.gid AS group_id, MAX(x.gname) AS group_name, x.utility,"
	" COUNT(DISTINCT x.meter_id) AS meters, CAST(SUM(x.usage_total) AS SIGNED) AS usage_total"
	" FROM (SELECT u.month, u.meter_id, u.usage_total, m.utility," GROUP_COLS
	"  FROM meter_usage_monthly u JOIN meter m ON m.id = u.meter_id"
	"  JOIN house h ON h.id = m.house_id JOIN building bd ON bd.id = h.building_id"
	"  JOIN community c ON c.id = bd.community_id"
	"  WHERE m.kind = 'household' AND u.month BETWEEN ? AND ? AND (? IS NULL OR m.utility = ?)"
	"  AND (? IS NULL OR m.community_id = ?)) x"
	" GROUP BY x.month, x.gid, x.utility ORDER BY x.month, x.gid, x.utility",
	"ssssssLL", "slssll",
};

/* the dashboard's billed/collected (q_dash_billing), split by group */
DB_QUERY(q_rpt_billing) = {
	"rpt_billing",
	"SELECT x.period AS month, x.gid AS group_id, MAX(x.gname) AS group_name, COUNT(*) AS bills,"
	" CAST(SUM(x.amount_fen) AS SIGNED) AS billed_fen, CAST(SUM(x.paid_fen) AS SIGNED) AS paid_fen,"
	" CAST(SUM(x.late_fee_fen) AS SIGNED) AS late_fee_fen,"
	" CAST(SUM(x.amount_fen) - SUM(x.paid_fen) AS SIGNED) AS unpaid_fen,"
	" CAST(FLOOR(SUM(x.paid_fen) * 1000 / NULLIF(SUM(x.amount_fen), 0)) AS SIGNED) AS rate_permille"
	" FROM (SELECT b.period, b.amount_fen, b.paid_fen, b.late_fee_fen," GROUP_COLS
	"  FROM bill b JOIN house h ON h.id = b.house_id JOIN building bd ON bd.id = h.building_id"
	"  JOIN community c ON c.id = bd.community_id"
	"  WHERE b.status <> 'void' AND b.period BETWEEN ? AND ? AND (? IS NULL OR b.utility = ?)"
	"  AND (? IS NULL OR bd.community_id = ?)) x"
	" GROUP BY x.period, x.gid ORDER BY x.period, x.gid",
	"ssssssLL", "slsllllll",
};

/* the dashboard's ageing (q_dash_ageing) as of a date, split by group */
DB_QUERY(q_rpt_ageing) = {
	"rpt_ageing",
	"SELECT x.gid AS group_id, MAX(x.gname) AS group_name, COUNT(*) AS bills,"
	" COUNT(DISTINCT x.house_id) AS houses,"
	" CAST(SUM(CASE WHEN x.d <= 0 THEN x.owed ELSE 0 END) AS SIGNED) AS not_due_fen,"
	" CAST(SUM(CASE WHEN x.d BETWEEN 1 AND 30 THEN x.owed ELSE 0 END) AS SIGNED) AS d1_30_fen,"
	" CAST(SUM(CASE WHEN x.d BETWEEN 31 AND 90 THEN x.owed ELSE 0 END) AS SIGNED) AS d31_90_fen,"
	" CAST(SUM(CASE WHEN x.d BETWEEN 91 AND 180 THEN x.owed ELSE 0 END) AS SIGNED) AS d91_180_fen,"
	" CAST(SUM(CASE WHEN x.d > 180 THEN x.owed ELSE 0 END) AS SIGNED) AS over_180_fen,"
	" CAST(SUM(x.owed) AS SIGNED) AS owed_fen, CAST(MAX(x.d) AS SIGNED) AS max_days"
	" FROM (SELECT b.house_id, b.amount_fen + b.late_fee_fen - b.paid_fen AS owed,"
	"  DATEDIFF(?, COALESCE(b.due_date, DATE(b.issued_at), DATE(b.created_at))) AS d," GROUP_COLS
	"  FROM bill b JOIN house h ON h.id = b.house_id JOIN building bd ON bd.id = h.building_id"
	"  JOIN community c ON c.id = bd.community_id"
	"  WHERE b.status = 'issued' AND b.amount_fen + b.late_fee_fen > b.paid_fen"
	"  AND (? IS NULL OR bd.community_id = ?)) x"
	" GROUP BY x.gid ORDER BY owed_fen DESC, x.gid",
	"sssLL", "lslllllllll",
};

/*
 * Payments by the Beijing day they were received and channel; refunds that
 * succeeded, by their own Beijing day and the channel of the payment they
 * return. Reversed payments are not money received. The UTC range keeps the
 * paid_at / success_at indexes usable.
 */
DB_QUERY(q_rpt_payments) = {
	"rpt_payments",
	"SELECT x.day, x.channel, CAST(SUM(x.np) AS SIGNED) AS payments,"
	" CAST(SUM(x.pf) AS SIGNED) AS paid_fen, CAST(SUM(x.nr) AS SIGNED) AS refunds,"
	" CAST(SUM(x.rf) AS SIGNED) AS refund_fen, CAST(SUM(x.pf) - SUM(x.rf) AS SIGNED) AS net_fen"
	" FROM (SELECT DATE_FORMAT(p.paid_at + INTERVAL 8 HOUR, '%Y-%m-%d') AS day, p.channel,"
	"  1 AS np, p.amount_fen AS pf, 0 AS nr, 0 AS rf"
	"  FROM payment p JOIN house h ON h.id = p.house_id JOIN building bd ON bd.id = h.building_id"
	"  WHERE p.status = 'success' AND p.paid_at >= CAST(? AS DATETIME) - INTERVAL 8 HOUR"
	"  AND p.paid_at < CAST(? AS DATETIME) + INTERVAL 16 HOUR AND (? IS NULL OR bd.community_id = ?)"
	"  UNION ALL SELECT DATE_FORMAT(r.success_at + INTERVAL 8 HOUR, '%Y-%m-%d'), p.channel,"
	"  0, 0, 1, r.amount_fen"
	"  FROM refund r JOIN payment p ON p.id = r.payment_id JOIN house h ON h.id = r.house_id"
	"  JOIN building bd ON bd.id = h.building_id"
	"  WHERE r.state = 'success' AND r.success_at >= CAST(? AS DATETIME) - INTERVAL 8 HOUR"
	"  AND r.success_at < CAST(? AS DATETIME) + INTERVAL 16 HOUR AND (? IS NULL OR bd.community_id = ?)) x"
	" GROUP BY x.day, x.channel ORDER BY x.day, x.channel",
	"ssLLssLL", "sslllll",
};

/*
 * Late fees by month: accruals and waivers by the month of their
 * late_fee_entry day; collected is the fee part of bills settled in full
 * (status paid) in the month, by Beijing paid_at: what was paid beyond the
 * bill's amount, at most its fee (payments cover the amount first).
 */
DB_QUERY(q_rpt_latefee) = {
	"rpt_latefee",
	"SELECT x.month, CAST(SUM(x.acc) AS SIGNED) AS accrued_fen,"
	" CAST(SUM(x.wv) AS SIGNED) AS waived_fen, CAST(SUM(x.col) AS SIGNED) AS collected_fen,"
	" CAST(SUM(x.nb) AS SIGNED) AS bills_paid_with_fee"
	" FROM (SELECT DATE_FORMAT(e.day, '%Y-%m') AS month,"
	"  CASE WHEN e.kind = 'accrue' THEN e.amount_fen ELSE 0 END AS acc,"
	"  CASE WHEN e.kind = 'waive' THEN -e.amount_fen ELSE 0 END AS wv, 0 AS col, 0 AS nb"
	"  FROM late_fee_entry e JOIN bill b ON b.id = e.bill_id JOIN house h ON h.id = b.house_id"
	"  JOIN building bd ON bd.id = h.building_id"
	"  WHERE e.day BETWEEN CAST(CONCAT(?, '-01') AS DATE) AND LAST_DAY(CAST(CONCAT(?, '-01') AS DATE))"
	"  AND (? IS NULL OR bd.community_id = ?)"
	"  UNION ALL SELECT DATE_FORMAT(b.paid_at + INTERVAL 8 HOUR, '%Y-%m'), 0, 0,"
	"  LEAST(b.late_fee_fen, GREATEST(b.paid_fen - b.amount_fen, 0)), 1"
	"  FROM bill b JOIN house h ON h.id = b.house_id JOIN building bd ON bd.id = h.building_id"
	"  WHERE b.status = 'paid' AND b.late_fee_fen > 0"
	"  AND b.paid_at >= CAST(CONCAT(?, '-01') AS DATETIME) - INTERVAL 8 HOUR"
	"  AND b.paid_at < CAST(CONCAT(?, '-01') AS DATETIME) + INTERVAL 1 MONTH - INTERVAL 8 HOUR"
	"  AND (? IS NULL OR bd.community_id = ?)) x"
	" GROUP BY x.month ORDER BY x.month",
	"ssLLssLL", "sllll",
};

/*
 * Line loss per supply meter and month, as the line_loss detector judges a
 * day (docs/dunning.md): the supply meter's use against the sum of its
 * active sub-meters (parent_meter_id), all from meter_usage_monthly.
 * sub_meters_reporting < sub_meters means part of the month is missing.
 */
DB_QUERY(q_rpt_lineloss) = {
	"rpt_lineloss",
	"SELECT y.*, CAST(y.supply_usage - y.sub_usage AS SIGNED) AS loss_usage,"
	" CAST(FLOOR((y.supply_usage - y.sub_usage) * 10000 / NULLIF(y.supply_usage, 0)) AS SIGNED)"
	" AS loss_pct_x100 FROM (SELECT u.month, s.id AS meter_id, s.meter_no, s.utility, c.name AS community_name,"
	" u.usage_total AS supply_usage,"
	" CAST(COALESCE((SELECT SUM(cu.usage_total) FROM meter cm JOIN meter_usage_monthly cu"
	"  ON cu.meter_id = cm.id AND cu.month = u.month"
	"  WHERE cm.parent_meter_id = s.id AND cm.status = 'active'), 0) AS SIGNED) AS sub_usage,"
	" (SELECT COUNT(*) FROM meter cm WHERE cm.parent_meter_id = s.id AND cm.status = 'active')"
	"  AS sub_meters,"
	" (SELECT COUNT(*) FROM meter cm JOIN meter_usage_monthly cu ON cu.meter_id = cm.id"
	"  AND cu.month = u.month WHERE cm.parent_meter_id = s.id AND cm.status = 'active')"
	"  AS sub_meters_reporting"
	" FROM meter s JOIN meter_usage_monthly u ON u.meter_id = s.id"
	" JOIN community c ON c.id = s.community_id"
	" WHERE s.kind = 'supply' AND u.month BETWEEN ? AND ? AND (? IS NULL OR s.utility = ?)"
	" AND (? IS NULL OR s.community_id = ?)) y ORDER BY y.month, y.meter_id",
	"ssssLL", "slsssllllll",
};

DB_QUERY(q_rpt_top) = {
	"rpt_top",
	"SELECT h.id AS house_id, CONCAT(c.name, ' ', bd.name, ' ', h.unit_no, '-', h.room) AS house_label,"
	" CAST(SUM(u.usage_total) AS SIGNED) AS usage_total, COUNT(DISTINCT u.meter_id) AS meters"
	" FROM meter_usage_monthly u JOIN meter m ON m.id = u.meter_id"
	" JOIN house h ON h.id = m.house_id JOIN building bd ON bd.id = h.building_id"
	" JOIN community c ON c.id = bd.community_id"
	" WHERE m.kind = 'household' AND m.utility = ? AND u.month BETWEEN ? AND ?"
	" AND (? IS NULL OR m.community_id = ?)"
	" GROUP BY h.id ORDER BY usage_total DESC, h.id LIMIT ?",
	"sssLLl", "lsll",
};

/*
 * Active smart meters whose last good reading (the newest rollup row's
 * last_read_at, i.e. a PK lookup per meter) is older than the cut-off, or
 * that never reported; plus open meter_offline alerts on them.
 */
DB_QUERY(q_rpt_offline) = {
	"rpt_offline",
	"SELECT x.* FROM (SELECT m.id AS meter_id, m.meter_no, m.utility, m.kind,"
	" c.name AS community_name,"
	" CONCAT(bd.name, ' ', h.unit_no, '-', h.room) AS house_label,"
	" (SELECT u.last_read_at FROM meter_usage_monthly u WHERE u.meter_id = m.id"
	"  ORDER BY u.month DESC LIMIT 1) AS last_read_at,"
	" (SELECT COUNT(*) FROM alert a WHERE a.meter_id = m.id AND a.kind = 'meter_offline'"
	"  AND a.status = 'open') AS open_alerts"
	" FROM meter m JOIN community c ON c.id = m.community_id"
	" LEFT JOIN house h ON h.id = m.house_id LEFT JOIN building bd ON bd.id = h.building_id"
	" WHERE m.smart = 1 AND m.status = 'active' AND (? IS NULL OR m.community_id = ?)) x"
	" WHERE x.last_read_at IS NULL OR x.last_read_at < UTC_TIMESTAMP(3) - INTERVAL ? DAY"
	" ORDER BY x.last_read_at IS NOT NULL, x.last_read_at, x.meter_id LIMIT 50001",
	"LLl", "lssssssl",
};

/* ---- sheets: Chinese headers, money as yuan numbers (xlsx_export.h) ---- */

static const struct xlsx_label utility_zh[] = {
	{ "electric", "电" }, { "water", "水" }, { NULL, NULL },
};
static const struct xlsx_label channel_zh[] = {
	{ "wechat", "微信支付" }, { "cash", "现金" }, { "bank", "银行转账" }, { "balance", "余额" },
	{ NULL, NULL },
};
static const struct xlsx_label meter_kind_zh[] = {
	{ "household", "户表" }, { "supply", "总表" }, { "public", "公共表" }, { NULL, NULL },
};

static const struct xlsx_col usage_cols[] = {
	{ "month", "月份", XLSX_TEXT, 10, NULL },
	{ "group_id", "编号", XLSX_INT, 8, NULL },
	{ "group_name", "名称", XLSX_TEXT, 28, NULL },
	{ "utility", "类型", XLSX_TEXT, 6, utility_zh },
	{ "meters", "表计数", XLSX_INT, 8, NULL },
	{ "usage_total", "用量(kWh/m³)", XLSX_MILLI, 16, NULL },
};
static const struct xlsx_sheet sheet_usage = {
	"用量", "用量报表", "usage-report", usage_cols, XQ_ARRAY_LEN(usage_cols),
};

static const struct xlsx_col billing_cols[] = {
	{ "month", "账期", XLSX_TEXT, 10, NULL },
	{ "group_id", "编号", XLSX_INT, 8, NULL },
	{ "group_name", "名称", XLSX_TEXT, 24, NULL },
	{ "bills", "账单数", XLSX_INT, 8, NULL },
	{ "billed_fen", "应收金额(元)", XLSX_FEN, 14, NULL },
	{ "paid_fen", "实收金额(元)", XLSX_FEN, 14, NULL },
	{ "unpaid_fen", "未收金额(元)", XLSX_FEN, 14, NULL },
	{ "late_fee_fen", "滞纳金(元)", XLSX_FEN, 12, NULL },
	{ "rate_permille", "收缴率(‰)", XLSX_INT, 10, NULL },
};
static const struct xlsx_sheet sheet_billing = {
	"收缴", "收缴报表", "billing-report", billing_cols, XQ_ARRAY_LEN(billing_cols),
};

static const struct xlsx_col ageing_cols[] = {
	{ "group_id", "编号", XLSX_INT, 8, NULL },
	{ "group_name", "名称", XLSX_TEXT, 28, NULL },
	{ "bills", "欠费账单数", XLSX_INT, 10, NULL },
	{ "houses", "欠费户数", XLSX_INT, 10, NULL },
	{ "not_due_fen", "未到期(元)", XLSX_FEN, 12, NULL },
	{ "d1_30_fen", "逾期1-30天(元)", XLSX_FEN, 14, NULL },
	{ "d31_90_fen", "逾期31-90天(元)", XLSX_FEN, 14, NULL },
	{ "d91_180_fen", "逾期91-180天(元)", XLSX_FEN, 15, NULL },
	{ "over_180_fen", "逾期180天以上(元)", XLSX_FEN, 16, NULL },
	{ "owed_fen", "欠费合计(元)", XLSX_FEN, 14, NULL },
	{ "max_days", "最长逾期天数", XLSX_INT, 12, NULL },
};
static const struct xlsx_sheet sheet_ageing = {
	"欠费账龄", "欠费账龄报表", "arrears-ageing", ageing_cols, XQ_ARRAY_LEN(ageing_cols),
};

static const struct xlsx_col payment_cols[] = {
	{ "day", "日期", XLSX_DATE, 12, NULL },
	{ "channel", "收款渠道", XLSX_TEXT, 10, channel_zh },
	{ "payments", "收款笔数", XLSX_INT, 10, NULL },
	{ "paid_fen", "收款金额(元)", XLSX_FEN, 14, NULL },
	{ "refunds", "退款笔数", XLSX_INT, 10, NULL },
	{ "refund_fen", "退款金额(元)", XLSX_FEN, 14, NULL },
	{ "net_fen", "净收金额(元)", XLSX_FEN, 14, NULL },
};
static const struct xlsx_sheet sheet_payments = {
	"收款", "收款报表", "payments-report", payment_cols, XQ_ARRAY_LEN(payment_cols),
};

static const struct xlsx_col latefee_cols[] = {
	{ "month", "月份", XLSX_TEXT, 10, NULL },
	{ "accrued_fen", "计提滞纳金(元)", XLSX_FEN, 14, NULL },
	{ "waived_fen", "减免滞纳金(元)", XLSX_FEN, 14, NULL },
	{ "collected_fen", "实收滞纳金(元)", XLSX_FEN, 14, NULL },
	{ "bills_paid_with_fee", "缴清含滞纳金账单数", XLSX_INT, 18, NULL },
};
static const struct xlsx_sheet sheet_latefee = {
	"滞纳金", "滞纳金报表", "late-fees", latefee_cols, XQ_ARRAY_LEN(latefee_cols),
};

static const struct xlsx_col lineloss_cols[] = {
	{ "month", "月份", XLSX_TEXT, 10, NULL },
	{ "meter_id", "总表ID", XLSX_INT, 8, NULL },
	{ "meter_no", "总表表号", XLSX_TEXT, 16, NULL },
	{ "utility", "类型", XLSX_TEXT, 6, utility_zh },
	{ "community_name", "小区", XLSX_TEXT, 16, NULL },
	{ "supply_usage", "总表用量(kWh/m³)", XLSX_MILLI, 16, NULL },
	{ "sub_usage", "分表用量合计(kWh/m³)", XLSX_MILLI, 18, NULL },
	{ "loss_usage", "损耗量(kWh/m³)", XLSX_MILLI, 14, NULL },
	{ "loss_pct_x100", "损耗率(万分比)", XLSX_INT, 12, NULL },
	{ "sub_meters", "分表数", XLSX_INT, 8, NULL },
	{ "sub_meters_reporting", "有数据分表数", XLSX_INT, 12, NULL },
};
static const struct xlsx_sheet sheet_lineloss = {
	"线损", "线损报表", "line-loss", lineloss_cols, XQ_ARRAY_LEN(lineloss_cols),
};

static const struct xlsx_col top_cols[] = {
	{ "house_id", "房屋ID", XLSX_INT, 8, NULL },
	{ "house_label", "房屋", XLSX_TEXT, 28, NULL },
	{ "usage_total", "用量(kWh/m³)", XLSX_MILLI, 16, NULL },
	{ "meters", "表计数", XLSX_INT, 8, NULL },
};
static const struct xlsx_sheet sheet_top = {
	"用量排行", "用量排行", "top-consumers", top_cols, XQ_ARRAY_LEN(top_cols),
};

static const struct xlsx_col offline_cols[] = {
	{ "meter_id", "表计ID", XLSX_INT, 8, NULL },
	{ "meter_no", "表号", XLSX_TEXT, 16, NULL },
	{ "utility", "类型", XLSX_TEXT, 6, utility_zh },
	{ "kind", "表计类别", XLSX_TEXT, 10, meter_kind_zh },
	{ "community_name", "小区", XLSX_TEXT, 16, NULL },
	{ "house_label", "房屋", XLSX_TEXT, 18, NULL },
	{ "last_read_at", "最后抄表时间", XLSX_DATETIME, 20, NULL },
	{ "open_alerts", "未处理离线告警", XLSX_INT, 14, NULL },
};
static const struct xlsx_sheet sheet_offline = {
	"离线表计", "离线表计", "meters-offline", offline_cols, XQ_ARRAY_LEN(offline_cols),
};

/* ---- filters: bounded, with a 400 naming the parameter ---- */

struct rpt_args {
	char from[8], to[8];      /* months YYYY-MM */
	char dfrom[16], dto[16];  /* days YYYY-MM-DD (payments) */
	char as_of[16];           /* arrears-ageing */
	const char *group;        /* community | building | house */
	const char *utility;      /* NULL: both */
	int64_t cid_v;
	const int64_t *cid;
};

static void beijing_today(struct tm *tm)
{
	time_t now = time(NULL) + 8 * 3600; /* the staff's calendar */

	gmtime_r(&now, tm);
}

static int month_num(const char *s, int *out)
{
	int y, m;

	if (!s || strlen(s) != 7 || s[4] != '-' || sscanf(s, "%4d-%2d", &y, &m) != 2 || m < 1 ||
	    m > 12 || y < 2000 || y > 2100)
		return -1;
	*out = y * 12 + (m - 1);
	return 0;
}

static int day_num(const char *s, int64_t *out)
{
	int y, m, d;
	struct tm tm = { 0 };

	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
	    sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3 || y < 2000 || y > 2100 || m < 1 || m > 12 ||
	    d < 1 || d > 31)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	*out = (int64_t)timegm(&tm) / 86400;
	/* 2025-02-30 normalises to March: not a date */
	if (tm.tm_mday != d || tm.tm_mon != m - 1)
		return -1;
	return 0;
}

/* from/to months, default: the 12 months ending with the current one. */
static int arg_months(struct req *rq, struct rpt_args *a)
{
	const char *f = req_query(rq, "from"), *t = req_query(rq, "to");
	struct tm tm;
	int fn, tn;

	beijing_today(&tm);
	if (t && *t) {
		if (month_num(t, &tn))
			return resp_fail_msg(rq, XQ_EINVAL, "查询参数 to 必须是 YYYY-MM", "to");
	} else {
		tn = (tm.tm_year + 1900) * 12 + tm.tm_mon;
	}
	if (f && *f) {
		if (month_num(f, &fn))
			return resp_fail_msg(rq, XQ_EINVAL, "查询参数 from 必须是 YYYY-MM", "from");
	} else {
		fn = tn - 11;
	}
	if (fn > tn)
		return resp_fail_msg(rq, XQ_EINVAL, "起始月份不能晚于结束月份", "from");
	if (tn - fn + 1 > RPT_MAX_MONTHS)
		return resp_fail_msg(rq, XQ_EINVAL, "月份范围不能超过 36 个月", "from");
	xq_snprintf(a->from, sizeof(a->from), "%04d-%02d", fn / 12, fn % 12 + 1);
	xq_snprintf(a->to, sizeof(a->to), "%04d-%02d", tn / 12, tn % 12 + 1);
	return XQ_OK;
}

static int arg_days(struct req *rq, struct rpt_args *a)
{
	const char *f = req_query(rq, "from"), *t = req_query(rq, "to");
	int64_t fn, tn;

	if (!f || !*f || !t || !*t)
		return resp_fail_msg(rq, XQ_EINVAL, "请提供查询参数 from 和 to（YYYY-MM-DD）",
				     f && *f ? "to" : "from");
	if (day_num(f, &fn))
		return resp_fail_msg(rq, XQ_EINVAL, "查询参数 from 必须是 YYYY-MM-DD", "from");
	if (day_num(t, &tn))
		return resp_fail_msg(rq, XQ_EINVAL, "查询参数 to 必须是 YYYY-MM-DD", "to");
	if (fn > tn)
		return resp_fail_msg(rq, XQ_EINVAL, "起始日期不能晚于结束日期", "from");
	if (tn - fn + 1 > RPT_MAX_DAYS)
		return resp_fail_msg(rq, XQ_EINVAL, "日期范围不能超过 366 天", "from");
	xq_snprintf(a->dfrom, sizeof(a->dfrom), "%s", f);
	xq_snprintf(a->dto, sizeof(a->dto), "%s", t);
	return XQ_OK;
}

static int arg_group(struct req *rq, struct rpt_args *a, int allow_house)
{
	const char *g = req_query(rq, "group");

	a->group = "community";
	if (!g || !*g)
		return XQ_OK;
	if (!strcmp(g, "community") || !strcmp(g, "building") || (allow_house && !strcmp(g, "house"))) {
		a->group = g;
		return XQ_OK;
	}
	return resp_fail_msg(rq, XQ_EINVAL,
			     allow_house ? "查询参数 group 必须是 community、building 或 house"
					 : "查询参数 group 必须是 community 或 building",
			     "group");
}

static int arg_utility(struct req *rq, struct rpt_args *a, const char *def)
{
	const char *u = req_query(rq, "utility");

	a->utility = def;
	if (!u || !*u)
		return XQ_OK;
	if (strcmp(u, "electric") && strcmp(u, "water"))
		return resp_fail_msg(rq, XQ_EINVAL, "查询参数 utility 必须是 electric 或 water",
				     "utility");
	a->utility = u;
	return XQ_OK;
}

static int arg_community(struct req *rq, struct rpt_args *a)
{
	return api_opt_id(rq, "community_id", &a->cid_v, &a->cid) ? rq->status : XQ_OK;
}

/* ---- replies ---- */

/*
 * JSON: {filters, rows, totals} where totals sums the named integer columns
 * over all rows, so a caller can check a report against the ledger. xlsx:
 * the rows as a sheet (the same result, so both variants always agree).
 */
static int rpt_reply(struct req *rq, const struct xlsx_sheet *sheet, int rc, struct db_res *r,
		     cJSON *filters, const char *const *sum_cols)
{
	cJSON *o, *tot;

	if (rc) {
		cJSON_Delete(filters);
		return resp_fail(rq, rc);
	}
	if (rq->export_sheet) {
		cJSON_Delete(filters);
		rq->export_sheet = sheet;
		return xlsx_reply_rows(rq, r);
	}
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "filters", filters);
	cJSON_AddItemToObject(o, "rows", db_rows_json(r));
	tot = cJSON_AddObjectToObject(o, "totals");
	cJSON_AddNumberToObject(tot, "rows", (double)r->nrows);
	for (const char *const *c = sum_cols; c && *c; c++) {
		int64_t s = 0;
		size_t col = r->ncols;

		for (size_t k = 0; k < r->ncols; k++)
			if (!strcmp(r->names[k], *c))
				col = k;
		for (size_t k = 0; k < r->nrows && col < r->ncols; k++)
			s += db_i64(r, k, col);
		cJSON_AddNumberToObject(tot, *c, (double)s);
	}
	db_res_release(r);
	return resp_json(rq, 200, o);
}

static cJSON *filters_json(const struct rpt_args *a, const char *from, const char *to)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_AddStringToObject(f, "from", from);
	cJSON_AddStringToObject(f, "to", to);
	if (a->cid)
		cJSON_AddNumberToObject(f, "community_id", (double)*a->cid);
	else
		cJSON_AddNullToObject(f, "community_id");
	if (a->group)
		cJSON_AddStringToObject(f, "group", a->group);
	if (a->utility)
		cJSON_AddStringToObject(f, "utility", a->utility);
	return f;
}

/* The route sets export_sheet to any non-NULL sheet to ask for xlsx; the
 * handler replaces it with its own. */
static const struct xlsx_sheet xlsx_wanted = { "", "", "", NULL, 0 };

static int report_usage(struct req *rq)
{
	static const char *const sums[] = { "usage_total", NULL };
	struct rpt_args a = { 0 };
	struct db_res r;
	int rc;

	if (arg_community(rq, &a) || arg_months(rq, &a) || arg_group(rq, &a, 1) ||
	    arg_utility(rq, &a, NULL))
		return rq->status;
	rc = db_run(rq->db, &q_rpt_usage, &r, a.group, a.group, a.from, a.to, a.utility, a.utility,
		    a.cid, a.cid);
	return rpt_reply(rq, &sheet_usage, rc, &r, filters_json(&a, a.from, a.to), sums);
}

static int report_billing(struct req *rq)
{
	static const char *const sums[] = { "bills", "billed_fen", "paid_fen", "unpaid_fen",
					    "late_fee_fen", NULL };
	struct rpt_args a = { 0 };
	struct db_res r;
	int rc;

	if (arg_community(rq, &a) || arg_months(rq, &a) || arg_group(rq, &a, 0) ||
	    arg_utility(rq, &a, NULL))
		return rq->status;
	rc = db_run(rq->db, &q_rpt_billing, &r, a.group, a.group, a.from, a.to, a.utility, a.utility,
		    a.cid, a.cid);
	return rpt_reply(rq, &sheet_billing, rc, &r, filters_json(&a, a.from, a.to), sums);
}

static int report_ageing(struct req *rq)
{
	static const char *const sums[] = { "bills", "houses", "not_due_fen", "d1_30_fen",
					    "d31_90_fen", "d91_180_fen", "over_180_fen", "owed_fen",
					    NULL };
	struct rpt_args a = { 0 };
	const char *as_of = req_query(rq, "as_of");
	struct db_res r;
	struct tm tm;
	int64_t dn;
	cJSON *f;
	int rc;

	if (arg_community(rq, &a) || arg_group(rq, &a, 1))
		return rq->status;
	if (as_of && *as_of) {
		if (day_num(as_of, &dn))
			return resp_fail_msg(rq, XQ_EINVAL, "查询参数 as_of 必须是 YYYY-MM-DD", "as_of");
		xq_snprintf(a.as_of, sizeof(a.as_of), "%s", as_of);
	} else {
		beijing_today(&tm);
		strftime(a.as_of, sizeof(a.as_of), "%Y-%m-%d", &tm);
	}
	rc = db_run(rq->db, &q_rpt_ageing, &r, a.as_of, a.group, a.group, a.cid, a.cid);
	f = filters_json(&a, a.as_of, a.as_of);
	cJSON_DeleteItemFromObject(f, "from");
	cJSON_DeleteItemFromObject(f, "to");
	cJSON_AddStringToObject(f, "as_of", a.as_of);
	return rpt_reply(rq, &sheet_ageing, rc, &r, f, sums);
}

static int report_payments(struct req *rq)
{
	static const char *const sums[] = { "payments", "paid_fen", "refunds", "refund_fen",
					    "net_fen", NULL };
	struct rpt_args a = { 0 };
	struct db_res r;
	int rc;

	if (arg_community(rq, &a) || arg_days(rq, &a))
		return rq->status;
	rc = db_run(rq->db, &q_rpt_payments, &r, a.dfrom, a.dto, a.cid, a.cid, a.dfrom, a.dto, a.cid,
		    a.cid);
	return rpt_reply(rq, &sheet_payments, rc, &r, filters_json(&a, a.dfrom, a.dto), sums);
}

static int report_latefee(struct req *rq)
{
	static const char *const sums[] = { "accrued_fen", "waived_fen", "collected_fen",
					    "bills_paid_with_fee", NULL };
	struct rpt_args a = { 0 };
	struct db_res r;
	int rc;

	if (arg_community(rq, &a) || arg_months(rq, &a))
		return rq->status;
	rc = db_run(rq->db, &q_rpt_latefee, &r, a.from, a.to, a.cid, a.cid, a.from, a.to, a.cid,
		    a.cid);
	return rpt_reply(rq, &sheet_latefee, rc, &r, filters_json(&a, a.from, a.to), sums);
}

static int report_lineloss(struct req *rq)
{
	static const char *const sums[] = { "supply_usage", "sub_usage", "loss_usage", NULL };
	struct rpt_args a = { 0 };
	struct db_res r;
	int rc;

	if (arg_community(rq, &a) || arg_months(rq, &a) || arg_utility(rq, &a, NULL))
		return rq->status;
	rc = db_run(rq->db, &q_rpt_lineloss, &r, a.from, a.to, a.utility, a.utility, a.cid, a.cid);
	return rpt_reply(rq, &sheet_lineloss, rc, &r, filters_json(&a, a.from, a.to), sums);
}

static int report_top(struct req *rq)
{
	static const char *const sums[] = { "usage_total", NULL };
	struct rpt_args a = { 0 };
	struct db_res r;
	int64_t n;
	cJSON *f;
	int rc;

	if (arg_community(rq, &a) || arg_months(rq, &a) || arg_utility(rq, &a, "electric") ||
	    api_query_int(rq, "limit", 20, 1, 1000, &n))
		return rq->status;
	rc = db_run(rq->db, &q_rpt_top, &r, a.utility, a.from, a.to, a.cid, a.cid, n);
	f = filters_json(&a, a.from, a.to);
	cJSON_AddNumberToObject(f, "limit", (double)n);
	return rpt_reply(rq, &sheet_top, rc, &r, f, sums);
}

static int report_offline(struct req *rq)
{
	static const char *const sums[] = { "open_alerts", NULL };
	struct rpt_args a = { 0 };
	struct db_res r;
	int64_t days;
	cJSON *f;
	int rc;

	if (arg_community(rq, &a) || api_query_int(rq, "days", 3, 1, 365, &days))
		return rq->status;
	rc = db_run(rq->db, &q_rpt_offline, &r, a.cid, a.cid, days);
	f = cJSON_CreateObject();
	if (a.cid)
		cJSON_AddNumberToObject(f, "community_id", (double)*a.cid);
	else
		cJSON_AddNullToObject(f, "community_id");
	cJSON_AddNumberToObject(f, "days", (double)days);
	return rpt_reply(rq, &sheet_offline, rc, &r, f, sums);
}

#define RPT_ROUTE(fn, impl)                                                                    \
	int fn(struct req *rq) { return impl(rq); }                                             \
	int fn##_xlsx(struct req *rq)                                                          \
	{                                                                                      \
		rq->export_sheet = &xlsx_wanted;                                               \
		return impl(rq);                                                               \
	}

RPT_ROUTE(admin_report_usage, report_usage)
RPT_ROUTE(admin_report_billing, report_billing)
RPT_ROUTE(admin_report_ageing, report_ageing)
RPT_ROUTE(admin_report_payments, report_payments)
RPT_ROUTE(admin_report_latefee, report_latefee)
RPT_ROUTE(admin_report_lineloss, report_lineloss)
RPT_ROUTE(admin_report_top, report_top)
RPT_ROUTE(admin_report_offline, report_offline)
