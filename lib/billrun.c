/*
 * billrun.c - the billing run (see billrun.h and docs/billing.md, "Billing
 * runs"). Reads happen outside the per-house transaction because nothing
 * else writes bills of a claimed (community, period); the existing bill is
 * still locked inside it so a re-run and a void cannot interleave.
 */
#include "billrun.h"
#include "audit.h"
#include "billing.h"
#include "db.h"
#include "money.h"
#include "tariff.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_METERS 4 /* household meters of one utility inside one period (replacements) */
#define TIME_LEN 24

/* ---- queries -------------------------------------------------------- */

DB_QUERY(q_job_insert) = {
	"billrun_job_insert",
	"INSERT INTO job (kind, community_id, period, owner) VALUES ('bill', ?, ?, ?)", "lss", NULL,
};
DB_QUERY(q_job_find) = {
	"billrun_job_find",
	"SELECT id, state, heartbeat_at < CURRENT_TIMESTAMP(3) - INTERVAL ? SECOND AS stale"
	" FROM job WHERE kind = 'bill' AND community_id = ? AND period = ? FOR UPDATE",
	"lls", "lsb",
};
DB_QUERY(q_job_takeover) = {
	"billrun_job_takeover",
	"UPDATE job SET state = 'running', owner = ?, attempt = attempt + 1, progress_done = 0,"
	" progress_total = 0, message = '', error = '', summary = NULL,"
	" started_at = CURRENT_TIMESTAMP(3), heartbeat_at = CURRENT_TIMESTAMP(3), finished_at = NULL"
	" WHERE id = ?",
	"sl", NULL,
};
DB_QUERY(q_job_progress) = {
	"billrun_job_progress",
	"UPDATE job SET progress_done = ?, progress_total = ?, message = ?,"
	" heartbeat_at = CURRENT_TIMESTAMP(3) WHERE id = ?",
	"llsl", NULL,
};
DB_QUERY(q_job_finish) = {
	"billrun_job_finish",
	"UPDATE job SET state = ?, progress_done = ?, progress_total = ?, message = ?, error = ?,"
	" summary = ?, heartbeat_at = CURRENT_TIMESTAMP(3), finished_at = CURRENT_TIMESTAMP(3)"
	" WHERE id = ?",
	"sllsssl", NULL,
};
DB_QUERY(q_houses) = {
	"billrun_houses",
	"SELECT h.id, h.household_size FROM house h JOIN building b ON b.id = h.building_id"
	" WHERE (? = 0 OR b.community_id = ?) ORDER BY h.id",
	"ll", "ll",
};
DB_QUERY(q_meters) = {
	"billrun_meters",
	"SELECT id, utility, meter_no, digits, multiplier, installed_at, initial_reading,"
	" removed_at, final_reading FROM meter WHERE house_id = ? AND kind = 'household'"
	" AND installed_at < ? AND (removed_at IS NULL OR removed_at > ?)"
	" ORDER BY utility, installed_at, id",
	"lss", "lssllslsl",
};
DB_QUERY(q_assignment) = {
	"billrun_assignment",
	"SELECT tariff_id FROM house_tariff WHERE house_id = ? AND utility = ? AND valid_from <= ?"
	" AND (valid_to IS NULL OR valid_to >= ?) ORDER BY valid_from DESC LIMIT 1",
	"lsss", "l",
};
DB_QUERY(q_versions) = {
	"billrun_versions",
	"SELECT id, effective_from, rules FROM tariff_version WHERE tariff_id = ?"
	" AND status = 'published' AND effective_from <= ? ORDER BY effective_from",
	"ls", "lsj",
};
/* the closing registers of the latest earlier bill that used this meter */
DB_QUERY(q_prev_usage) = {
	"billrun_prev_usage",
	"SELECT bu.bill_id, bu.register, bu.curr_read_at, bu.curr_value FROM bill_usage bu"
	" JOIN bill b ON b.id = bu.bill_id WHERE bu.meter_id = ? AND b.period < ?"
	" AND b.status <> 'void' ORDER BY b.period DESC, bu.id LIMIT 5",
	"ls", "lssl",
};
DB_QUERY(q_reading) = {
	"billrun_reading",
	"SELECT read_at, value, value_sharp, value_peak, value_flat, value_valley, status,"
	" flag_reason FROM meter_reading WHERE meter_id = ? AND read_at <= ? AND read_at >= ?"
	" AND status <> 'rejected' ORDER BY read_at DESC LIMIT 1",
	"lss", "slllllss",
};
DB_QUERY(q_ytd) = {
	"billrun_ytd",
	"SELECT COALESCE(SUM(qty_milli), 0) FROM bill WHERE house_id = ? AND utility = ?"
	" AND period >= ? AND period < ? AND status <> 'void'",
	"lsss", "l",
};
DB_QUERY(q_bill_lock) = {
	"billrun_bill_lock",
	"SELECT id, status, revision, qty_milli, amount_fen, paid_fen FROM bill"
	" WHERE house_id = ? AND period = ? AND utility = ? FOR UPDATE",
	"lss", "lsllll",
};
DB_QUERY(q_bill_usage_get) = {
	"billrun_bill_usage_get",
	"SELECT meter_id, register, prev_value, curr_value, qty_milli FROM bill_usage"
	" WHERE bill_id = ? ORDER BY meter_id, register",
	"l", "lslll",
};
DB_QUERY(q_bill_insert) = {
	"billrun_bill_insert",
	"INSERT INTO bill (house_id, period, utility, status, qty_milli, ytd_before_milli,"
	" amount_fen, due_date, issued_at, job_id) VALUES (?, ?, ?, 'issued', ?, ?, ?, ?,"
	" CURRENT_TIMESTAMP(3), ?)",
	"lsslLlsl", NULL,
};
DB_QUERY(q_bill_adjust) = {
	"billrun_bill_adjust",
	"UPDATE bill SET qty_milli = ?, amount_fen = ?, revision = revision + 1, job_id = ?"
	" WHERE id = ?",
	"llll", NULL,
};
DB_QUERY(q_bill_paid) = {
	"billrun_bill_paid",
	"UPDATE bill SET paid_fen = ?, status = ?,"
	" paid_at = CASE WHEN ? = 'paid' THEN COALESCE(paid_at, CURRENT_TIMESTAMP(3)) END"
	" WHERE id = ?",
	"lssl", NULL,
};
DB_QUERY(q_usage_insert) = {
	"billrun_usage_insert",
	"INSERT INTO bill_usage (bill_id, meter_id, register, prev_read_at, prev_value,"
	" curr_read_at, curr_value, rollover, multiplier, qty_milli)"
	" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	"llsslsliil", NULL,
};
DB_QUERY(q_usage_delete) = {
	"billrun_usage_delete", "DELETE FROM bill_usage WHERE bill_id = ?", "l", NULL,
};
DB_QUERY(q_line_insert) = {
	"billrun_line_insert",
	"INSERT INTO bill_line (bill_id, line_no, kind, tier, tou_window, component, label_zh,"
	" qty_milli, unit_price_hao, amount_fen, tariff_version_id, rule_id, seg_from, seg_to)"
	" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	"lisLsssLLlLsss", NULL,
};
DB_QUERY(q_line_max) = {
	"billrun_line_max", "SELECT COALESCE(MAX(line_no), 0) FROM bill_line WHERE bill_id = ?", "l",
	"l",
};
DB_QUERY(q_account_ensure) = {
	"billrun_account_ensure",
	"INSERT INTO account (house_id) VALUES (?) ON DUPLICATE KEY UPDATE house_id = house_id",
	"l", NULL,
};
DB_QUERY(q_account_lock) = {
	"billrun_account_lock", "SELECT id, balance_fen FROM account WHERE house_id = ? FOR UPDATE",
	"l", "ll",
};
DB_QUERY(q_account_add) = {
	"billrun_account_add", "UPDATE account SET balance_fen = balance_fen + ? WHERE id = ?", "ll",
	NULL,
};
DB_QUERY(q_ledger_insert) = {
	"billrun_ledger_insert",
	"INSERT INTO ledger_entry (account_id, kind, amount_fen, idem_key, bill_id, note)"
	" VALUES (?, ?, ?, ?, ?, ?)",
	"lslsls", NULL,
};

/* ---- periods and dates ---------------------------------------------- */

/* Local midnight at the start of day d, as UTC DATETIME text (Asia/Shanghai is +08:00, no DST). */
static void utc_midnight(int32_t d, char out[TIME_LEN])
{
	int y, m, md;

	billing_civil(d - 1, &y, &m, &md);
	xq_snprintf(out, TIME_LEN, "%04d-%02d-%02d 16:00:00.000", y, m, md);
}

static void date_text(int32_t d, char out[16])
{
	int y, m, md;

	billing_civil(d, &y, &m, &md);
	xq_snprintf(out, 16, "%04d-%02d-%02d", y, m, md);
}

static int parse_date(const char *s, int32_t *d)
{
	int64_t y, m, md;
	char buf[8];

	if (!s || strlen(s) < 10 || s[4] != '-' || s[7] != '-')
		return XQ_EINVAL;
	memcpy(buf, s, 4);
	buf[4] = '\0';
	if (xq_parse_i64(buf, &y))
		return XQ_EINVAL;
	memcpy(buf, s + 5, 2);
	buf[2] = '\0';
	if (xq_parse_i64(buf, &m))
		return XQ_EINVAL;
	memcpy(buf, s + 8, 2);
	if (xq_parse_i64(buf, &md))
		return XQ_EINVAL;
	return billing_day((int)y, (int)m, (int)md, d);
}

int billrun_period(const char *period, int *year, int *month, int32_t *first_day,
		   int32_t *last_day, char start_utc[24], char end_utc[24])
{
	int64_t y, m;
	char buf[8];
	int32_t f, next;

	if (!period || strlen(period) != 7 || period[4] != '-')
		return XQ_EINVAL;
	for (int i = 0; i < 7; i++)
		if (i != 4 && (period[i] < '0' || period[i] > '9'))
			return XQ_EINVAL;
	memcpy(buf, period, 4);
	buf[4] = '\0';
	if (xq_parse_i64(buf, &y) || y < 2000 || y > 2199)
		return XQ_EINVAL;
	memcpy(buf, period + 5, 2);
	buf[2] = '\0';
	if (xq_parse_i64(buf, &m) || m < 1 || m > 12)
		return XQ_EINVAL;
	if (billing_day((int)y, (int)m, 1, &f) ||
	    billing_day((int)(m == 12 ? y + 1 : y), (int)(m == 12 ? 1 : m + 1), 1, &next))
		return XQ_EINVAL;
	*year = (int)y;
	*month = (int)m;
	*first_day = f;
	*last_day = next - 1;
	utc_midnight(f, start_utc);
	utc_midnight(next, end_utc);
	return XQ_OK;
}

int billrun_register_delta(int64_t prev, int64_t curr, int digits, int64_t *delta, int *rollover)
{
	int64_t top = TARIFF_UNIT_MILLI;

	if (prev < 0 || curr < 0 || digits < 1 || digits > 12)
		return XQ_EINVAL;
	for (int i = 0; i < digits; i++)
		top *= 10;
	/* RULE: METER-ROLLOVER-01: a smaller closing value means the register wrapped once */
	if (curr >= prev) {
		*delta = curr - prev;
		*rollover = 0;
		return XQ_OK;
	}
	if (prev >= top)
		return XQ_EINVAL; /* cannot have wrapped: the opening is above the register's top */
	*delta = top - prev + curr;
	*rollover = 1;
	return XQ_OK;
}

/* ---- tariff cache ---------------------------------------------------- */

struct tcache {
	int64_t tariff_id;
	int ok;                  /* versions usable; else code/reason say why */
	const char *code;
	char reason[160];
	size_t n;
	struct tariff t[BILLING_SEGMENTS_MAX];
	struct billing_version v[BILLING_SEGMENTS_MAX];
	int tou;                 /* some version has TOU: registers needed */
	enum tariff_basis basis;
};

struct run {
	struct db *db;
	const struct billrun_opts *o;
	struct billrun_summary *s;
	int64_t job_id;
	int year, month;
	int32_t first_day, last_day;
	char start_utc[TIME_LEN], end_utc[TIME_LEN], stale_utc[TIME_LEN];
	char first_date[16], last_date[16], due_date[16];
	struct tcache **tc;
	size_t ntc;
};

static struct tcache *tariff_load(struct run *r, int64_t tariff_id)
{
	struct tcache *c;
	struct db_res res;
	size_t start = 0;
	char err[256];

	for (size_t i = 0; i < r->ntc; i++)
		if (r->tc[i]->tariff_id == tariff_id)
			return r->tc[i];
	c = xq_calloc(1, sizeof(*c));
	c->tariff_id = tariff_id;
	r->tc = xq_realloc(r->tc, (r->ntc + 1) * sizeof(*r->tc));
	r->tc[r->ntc++] = c;
	if (db_run(r->db, &q_versions, &res, tariff_id, r->last_date)) {
		c->code = "db_error";
		xq_snprintf(c->reason, sizeof(c->reason), "读取电价版本失败");
		return c;
	}
	/* the version in force on the first day, and every later one inside the period */
	for (size_t i = 0; i < res.nrows; i++) {
		int32_t d;
		if (parse_date(db_str(&res, i, 1), &d) == XQ_OK && d <= r->first_day)
			start = i;
	}
	c->code = "no_version";
	xq_snprintf(c->reason, sizeof(c->reason), "价格方案 %lld 在账期开始时没有已发布的版本",
		    (long long)tariff_id);
	if (res.nrows == 0 || res.nrows - start > BILLING_SEGMENTS_MAX) {
		db_res_release(&res);
		return c;
	}
	for (size_t i = start; i < res.nrows; i++) {
		int32_t d;
		if (parse_date(db_str(&res, i, 1), &d) || (i == start && d > r->first_day))
			goto out;
		if (tariff_parse(db_str(&res, i, 2), &c->t[c->n], err, sizeof(err))) {
			c->code = "bad_tariff";
			xq_snprintf(c->reason, sizeof(c->reason), "价格版本 %s 无效：%s",
				    db_str(&res, i, 0), err);
			goto out;
		}
		c->v[c->n].tariff = &c->t[c->n];
		c->v[c->n].version_id = db_i64(&res, i, 0);
		c->v[c->n].effective_day = d > r->first_day ? d : r->first_day;
		if (c->t[c->n].tou_model != TARIFF_TOU_NONE)
			c->tou = 1;
		c->basis = c->t[c->n].basis;
		c->n++;
	}
	c->ok = 1;
	c->code = "";
	c->reason[0] = '\0';
out:
	db_res_release(&res);
	return c;
}

/* ---- one house ------------------------------------------------------- */

static const char *const reg_names[TARIFF_PERIODS_MAX] = { "sharp", "peak", "flat", "valley" };

struct mread {
	char at[TIME_LEN];
	int64_t v;
	int64_t reg[TARIFF_PERIODS_MAX];
	int has_reg[TARIFF_PERIODS_MAX];
};

struct meter_use {
	int64_t meter_id;
	char meter_no[40];
	int digits, mult;
	struct mread prev, curr;
	int64_t d_total, d_reg[TARIFF_PERIODS_MAX];
	int roll_total, roll_reg[TARIFF_PERIODS_MAX];
};

/* What one (house, utility) will be billed, decided before the transaction. */
struct plan {
	const char *utility;
	int state; /* 0 nothing to bill, 1 bill, 2 skipped */
	struct billrun_skip skip;
	struct tcache *tc;
	size_t nm;
	struct meter_use m[MAX_METERS];
	int64_t ytd_before;
	struct billing_result res;
	/* written by the transaction */
	int outcome; /* 1 new, 2 adjusted, 3 unchanged, 4 void */
	int64_t amount_fen, adjust_fen, settled_fen;
};

static int skip(struct plan *p, int64_t house_id, const char *code, const char *fmt, ...)
	XQ_PRINTF(4, 5);

static int skip(struct plan *p, int64_t house_id, const char *code, const char *fmt, ...)
{
	va_list ap;

	p->state = 2;
	p->skip.house_id = house_id;
	xq_snprintf(p->skip.utility, sizeof(p->skip.utility), "%s", p->utility);
	xq_snprintf(p->skip.code, sizeof(p->skip.code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(p->skip.reason_zh, sizeof(p->skip.reason_zh), fmt, ap);
	va_end(ap);
	return XQ_OK;
}

/*
 * The latest non-rejected reading in [lo, hi]. XQ_ENOTFOUND if none;
 * *flagged set (and reason copied) when it is flagged for review.
 */
static int reading_at(struct run *r, int64_t meter_id, const char *hi, const char *lo,
		      struct mread *out, int *flagged, char *why, size_t whylen)
{
	struct db_res res;
	int rc = db_run(r->db, &q_reading, &res, meter_id, hi, lo);

	if (rc)
		return rc;
	if (res.nrows == 0) {
		db_res_release(&res);
		return XQ_ENOTFOUND;
	}
	memset(out, 0, sizeof(*out));
	xq_snprintf(out->at, sizeof(out->at), "%s", db_str(&res, 0, 0));
	out->v = db_i64(&res, 0, 1);
	for (int k = 0; k < TARIFF_PERIODS_MAX; k++) {
		out->has_reg[k] = db_str(&res, 0, (size_t)(2 + k)) != NULL;
		out->reg[k] = db_i64(&res, 0, (size_t)(2 + k));
	}
	*flagged = !strcmp(db_str(&res, 0, 6), "flagged");
	xq_snprintf(why, whylen, "%s", db_str(&res, 0, 7));
	db_res_release(&res);
	return XQ_OK;
}

/* Opening registers: the previous bill's closing, else the reading at or before the start. */
static int meter_opening(struct run *r, struct plan *p, int64_t house_id, struct meter_use *mu,
			 const char *installed_at, int64_t initial)
{
	struct db_res res;
	char why[80];
	int flagged = 0, rc;

	if (strcmp(installed_at, r->start_utc) > 0) {
		/* installed inside the period: it counts from its initial register */
		xq_snprintf(mu->prev.at, sizeof(mu->prev.at), "%s", installed_at);
		mu->prev.v = initial;
		return XQ_OK;
	}
	if ((rc = db_run(r->db, &q_prev_usage, &res, mu->meter_id, r->o->period)))
		return rc;
	if (res.nrows) {
		int64_t bill_id = db_i64(&res, 0, 0);
		for (size_t i = 0; i < res.nrows && db_i64(&res, i, 0) == bill_id; i++) {
			const char *reg = db_str(&res, i, 1);
			if (!strcmp(reg, "total")) {
				xq_snprintf(mu->prev.at, sizeof(mu->prev.at), "%s", db_str(&res, i, 2));
				mu->prev.v = db_i64(&res, i, 3);
			}
			for (int k = 0; k < TARIFF_PERIODS_MAX; k++)
				if (!strcmp(reg, reg_names[k])) {
					mu->prev.has_reg[k] = 1;
					mu->prev.reg[k] = db_i64(&res, i, 3);
				}
		}
		db_res_release(&res);
		if (mu->prev.at[0])
			return XQ_OK;
	} else {
		db_res_release(&res);
	}
	rc = reading_at(r, mu->meter_id, r->start_utc, installed_at, &mu->prev, &flagged, why,
			sizeof(why));
	if (rc == XQ_ENOTFOUND)
		return skip(p, house_id, "opening_missing", "表 %s 缺少账期开始时（%s 之前）的读数",
			    mu->meter_no, r->first_date);
	if (rc)
		return rc;
	if (flagged)
		return skip(p, house_id, "reading_flagged", "表 %s 的期初读数（%s）待复核：%s",
			    mu->meter_no, mu->prev.at, why);
	return XQ_OK;
}

static int meter_closing(struct run *r, struct plan *p, int64_t house_id, struct meter_use *mu,
			 const char *removed_at, const char *final_reading)
{
	char why[80];
	int flagged = 0, rc;

	if (removed_at && strcmp(removed_at, r->end_utc) <= 0) {
		/* removed inside the period: its final register closes it */
		if (!final_reading)
			return skip(p, house_id, "closing_missing", "表 %s 已拆除但没有拆表读数",
				    mu->meter_no);
		xq_snprintf(mu->curr.at, sizeof(mu->curr.at), "%s", removed_at);
		if (xq_parse_i64(final_reading, &mu->curr.v))
			return XQ_EINVAL;
		return XQ_OK;
	}
	rc = reading_at(r, mu->meter_id, r->end_utc, mu->prev.at, &mu->curr, &flagged, why,
			sizeof(why));
	if (rc == XQ_ENOTFOUND)
		return skip(p, house_id, "closing_missing", "表 %s 缺少期末读数", mu->meter_no);
	if (rc)
		return rc;
	if (flagged)
		return skip(p, house_id, "reading_flagged", "表 %s 的期末读数（%s）待复核：%s",
			    mu->meter_no, mu->curr.at, why);
	if (strcmp(mu->curr.at, r->stale_utc) < 0)
		return skip(p, house_id, "closing_stale",
			    "表 %s 的最近读数 %s 早于账期结束前 %d 天，不能作为期末读数",
			    mu->meter_no, mu->curr.at, BILLRUN_STALE_READING_DAYS);
	return XQ_OK;
}

static int tier_start_period(struct run *r, const struct tcache *c, char out[8])
{
	const struct tariff *t = &c->t[c->n - 1];
	int ty;

	if (tariff_tier_year(t, r->year, r->month, &ty))
		return XQ_EINVAL;
	xq_snprintf(out, 8, "%04d-%02d", ty, t->tier_year_start_month);
	return XQ_OK;
}

/* Gathers readings and prices one (house, utility); p->state says what to do. */
static int plan_utility(struct run *r, int64_t house_id, int household, const struct db_res *mrows,
			struct plan *p)
{
	struct db_res res;
	struct billing_input in;
	int64_t tariff_id, mult = 0, mixed = 0;
	char err[256];
	int rc;

	p->nm = 0;
	for (size_t i = 0; i < mrows->nrows; i++) {
		if (strcmp(db_str(mrows, i, 1), p->utility))
			continue;
		if (p->nm == MAX_METERS)
			return skip(p, house_id, "too_many_meters", "账期内换表超过 %d 次，请人工处理",
				    MAX_METERS - 1);
		struct meter_use *mu = &p->m[p->nm++];
		memset(mu, 0, sizeof(*mu));
		mu->meter_id = db_i64(mrows, i, 0);
		xq_snprintf(mu->meter_no, sizeof(mu->meter_no), "%s", db_str(mrows, i, 2));
		mu->digits = (int)db_i64(mrows, i, 3);
		mu->mult = (int)db_i64(mrows, i, 4);
	}
	if (p->nm == 0)
		return XQ_OK; /* no meter of this utility: nothing to bill */

	if ((rc = db_run(r->db, &q_assignment, &res, house_id, p->utility, r->last_date,
			 r->first_date)))
		return rc;
	if (res.nrows == 0) {
		db_res_release(&res);
		return skip(p, house_id, "no_tariff", "房屋没有分配%s价格方案",
			    !strcmp(p->utility, "electric") ? "电" : "水");
	}
	tariff_id = db_i64(&res, 0, 0);
	db_res_release(&res);
	p->tc = tariff_load(r, tariff_id);
	if (!p->tc->ok)
		return skip(p, house_id, p->tc->code, "%s", p->tc->reason);

	/* readings, meter by meter (a replaced meter and its successor both count) */
	size_t j = 0;
	for (size_t i = 0; i < mrows->nrows; i++) {
		if (strcmp(db_str(mrows, i, 1), p->utility))
			continue;
		struct meter_use *mu = &p->m[j++];
		if ((rc = meter_opening(r, p, house_id, mu, db_str(mrows, i, 5), db_i64(mrows, i, 6))) ||
		    p->state == 2)
			return rc;
		if ((rc = meter_closing(r, p, house_id, mu, db_str(mrows, i, 7), db_str(mrows, i, 8))) ||
		    p->state == 2)
			return rc;
		if (billrun_register_delta(mu->prev.v, mu->curr.v, mu->digits, &mu->d_total,
					   &mu->roll_total))
			return skip(p, house_id, "bad_register", "表 %s 的读数超出 %d 位表盘",
				    mu->meter_no, mu->digits);
		for (int k = 0; p->tc->tou && k < TARIFF_PERIODS_MAX; k++) {
			if (!mu->prev.has_reg[k] && !mu->curr.has_reg[k])
				continue;
			if (!mu->prev.has_reg[k] || !mu->curr.has_reg[k])
				return skip(p, house_id, "registers_missing",
					    "分时价格需要分时读数，表 %s 的%s读数不完整", mu->meter_no,
					    tariff_period_label_zh((enum tariff_period)k));
			if (billrun_register_delta(mu->prev.reg[k], mu->curr.reg[k], mu->digits,
						   &mu->d_reg[k], &mu->roll_reg[k]))
				return skip(p, house_id, "bad_register", "表 %s 的读数超出 %d 位表盘",
					    mu->meter_no, mu->digits);
		}
		if (mult && mult != mu->mult)
			mixed = 1;
		mult = mu->mult;
	}

	memset(&in, 0, sizeof(in));
	in.versions = p->tc->v;
	in.n_versions = p->tc->n;
	in.bill_year = r->year;
	in.bill_month = r->month;
	in.first_day = r->first_day;
	in.last_day = r->last_day;
	/* one multiplier is applied by the engine; meters with different ones are pre-multiplied */
	in.multiplier = mixed ? 1 : mult;
	in.household_size = household;
	for (size_t i = 0; i < p->nm; i++) {
		int64_t f = mixed ? p->m[i].mult : 1;
		if (p->tc->tou) {
			int any = 0;
			for (int k = 0; k < TARIFF_PERIODS_MAX; k++) {
				in.period_raw_milli[k] += p->m[i].d_reg[k] * f;
				any |= p->m[i].prev.has_reg[k];
			}
			if (!any && p->m[i].d_total)
				return skip(p, house_id, "registers_missing",
					    "分时价格需要分时读数，表 %s 没有分时读数", p->m[i].meter_no);
		} else {
			in.total_raw_milli += p->m[i].d_total * f;
		}
	}
	p->ytd_before = -1;
	if (p->tc->basis == TARIFF_ANNUAL) {
		char from[8];
		if (tier_start_period(r, p->tc, from))
			return XQ_EINVAL;
		if ((rc = db_run(r->db, &q_ytd, &res, house_id, p->utility, from, r->o->period)))
			return rc;
		p->ytd_before = db_i64(&res, 0, 0);
		in.ytd_before_milli = p->ytd_before;
		db_res_release(&res);
	}
	int64_t t0 = xq_mono_us();
	rc = billing_compute(&in, &p->res, err, sizeof(err));
	r->s->compute_us += xq_mono_us() - t0;
	if (rc)
		return skip(p, house_id, "compute_failed", "计费失败：%s", err);
	p->state = 1;
	return XQ_OK;
}

/* ---- writing ----------------------------------------------------------- */

struct house_tx {
	struct run *r;
	int64_t house_id;
	struct plan *p;
	size_t np;
};

static int insert_usage(struct db *db, int64_t bill_id, const struct plan *p)
{
	int rc = XQ_OK;

	for (size_t i = 0; i < p->nm && rc == XQ_OK; i++) {
		const struct meter_use *mu = &p->m[i];
		rc = db_run(db, &q_usage_insert, NULL, bill_id, mu->meter_id, "total", mu->prev.at,
			    mu->prev.v, mu->curr.at, mu->curr.v, mu->roll_total, mu->mult,
			    mu->d_total * mu->mult);
		for (int k = 0; p->tc->tou && k < TARIFF_PERIODS_MAX && rc == XQ_OK; k++)
			if (mu->prev.has_reg[k] && mu->curr.has_reg[k])
				rc = db_run(db, &q_usage_insert, NULL, bill_id, mu->meter_id,
					    reg_names[k], mu->prev.at, mu->prev.reg[k], mu->curr.at,
					    mu->curr.reg[k], mu->roll_reg[k], mu->mult,
					    mu->d_reg[k] * mu->mult);
	}
	return rc;
}

/* True when the stored usage rows are exactly the ones this plan would write. */
static int same_usage(struct db *db, int64_t bill_id, const struct plan *p, int *same)
{
	struct db_res res;
	size_t want = 0, found = 0;
	int rc = db_run(db, &q_bill_usage_get, &res, bill_id);

	if (rc)
		return rc;
	*same = 1;
	for (size_t i = 0; i < p->nm; i++) {
		const struct meter_use *mu = &p->m[i];
		for (int k = -1; k < TARIFF_PERIODS_MAX; k++) {
			const char *reg = k < 0 ? "total" : reg_names[k];
			int64_t pv = k < 0 ? mu->prev.v : mu->prev.reg[k];
			int64_t cv = k < 0 ? mu->curr.v : mu->curr.reg[k];
			int hit = 0;
			if (k >= 0 && !(p->tc->tou && mu->prev.has_reg[k] && mu->curr.has_reg[k]))
				continue;
			want++;
			for (size_t j = 0; j < res.nrows; j++)
				if (db_i64(&res, j, 0) == mu->meter_id && !strcmp(db_str(&res, j, 1), reg) &&
				    db_i64(&res, j, 2) == pv && db_i64(&res, j, 3) == cv)
					hit = 1;
			found += (size_t)hit;
		}
	}
	if (found != want || res.nrows != want)
		*same = 0;
	db_res_release(&res);
	return XQ_OK;
}

static int insert_line(struct db *db, int64_t bill_id, int line_no, const struct bill_line *l)
{
	char from[16] = "", to[16] = "";
	int64_t tier = l->tier, ver = l->version_id;
	int fixed = !strcmp(l->kind, "fixed");

	if (l->seg_first_day || l->seg_last_day) {
		date_text(l->seg_first_day, from);
		date_text(l->seg_last_day, to);
	}
	return db_run(db, &q_line_insert, NULL, bill_id, line_no, l->kind, tier ? &tier : NULL,
		      l->period[0] ? l->period : NULL, l->component, l->label_zh,
		      fixed ? NULL : &l->qty_milli, fixed ? NULL : &l->price_hao, l->amount_fen,
		      ver ? &ver : NULL, l->rule, from[0] ? from : NULL, to[0] ? to : NULL);
}

/*
 * Brings paid_fen in line with amount_fen: settle from the account's credit
 * what is owed, or give back (reverse) what was paid beyond a lowered amount.
 */
static int settle(struct db *db, int64_t bill_id, int revision, int64_t amount, int64_t paid,
		  int64_t account_id, int64_t *balance, int64_t *settled)
{
	char idem[96];
	int rc;

	*settled = 0;
	if (paid > amount) {
		int64_t back = paid - amount;
		xq_snprintf(idem, sizeof(idem), "reverse:%lld:r%d", (long long)bill_id, revision);
		if ((rc = db_run(db, &q_ledger_insert, NULL, account_id, "reverse", back, idem,
				 bill_id, "账单更正后多付金额退回账户余额")) ||
		    (rc = db_run(db, &q_account_add, NULL, back, account_id)))
			return rc;
		*balance += back;
		paid = amount;
	} else if (paid < amount && *balance > 0) {
		int64_t s = amount - paid < *balance ? amount - paid : *balance;
		if (revision <= 1)
			xq_snprintf(idem, sizeof(idem), "settle:%lld:credit", (long long)bill_id);
		else
			xq_snprintf(idem, sizeof(idem), "settle:%lld:credit:r%d", (long long)bill_id,
				    revision);
		if ((rc = db_run(db, &q_ledger_insert, NULL, account_id, "settle", -s, idem, bill_id,
				 "账户余额抵扣")) ||
		    (rc = db_run(db, &q_account_add, NULL, -s, account_id)))
			return rc;
		*balance -= s;
		*settled = s;
		paid += s;
	}
	const char *st = paid >= amount ? "paid" : "issued";
	/* a new bill nobody paid is already stored as issued with paid_fen 0: save the round trip */
	if (revision <= 1 && paid == 0 && *settled == 0 && amount > 0)
		return XQ_OK;
	return db_run(db, &q_bill_paid, NULL, paid, st, st, bill_id);
}

static cJSON *usage_json(struct db *db, int64_t bill_id)
{
	struct db_res res;
	cJSON *a;

	if (db_run(db, &q_bill_usage_get, &res, bill_id))
		return cJSON_CreateArray();
	a = db_rows_json(&res);
	db_res_release(&res);
	return a;
}

static int adjust_bill(struct house_tx *h, struct plan *p, const struct db_res *b,
		       int64_t account_id, int64_t *balance)
{
	struct run *r = h->r;
	struct db *db = r->db;
	struct db_res res;
	struct bill_line l;
	struct audit_actor who = { r->o->staff_id, r->o->actor ? r->o->actor : "xqctl", "", "" };
	int64_t bill_id = db_i64(b, 0, 0), old_qty = db_i64(b, 0, 3), old_amt = db_i64(b, 0, 4);
	int revision = (int)db_i64(b, 0, 2) + 1;
	char q0[MONEY_STR_MAX], q1[MONEY_STR_MAX], a0[MONEY_STR_MAX], a1[MONEY_STR_MAX],
		d[MONEY_STR_MAX];
	cJSON *before, *after;
	int rc, line_no;

	if ((rc = db_run(db, &q_line_max, &res, bill_id)))
		return rc;
	line_no = (int)db_i64(&res, 0, 0) + 1;
	db_res_release(&res);

	memset(&l, 0, sizeof(l));
	xq_snprintf(l.kind, sizeof(l.kind), "adjust");
	xq_snprintf(l.rule, sizeof(l.rule), "BILL-ADJUST-01");
	l.qty_milli = p->res.qty_milli - old_qty;
	l.amount_fen = p->res.total_fen - old_amt;
	l.version_id = p->tc->v[p->tc->n - 1].version_id;
	money_format_qty(old_qty, q0, sizeof(q0));
	money_format_qty(p->res.qty_milli, q1, sizeof(q1));
	money_format_yuan(old_amt, a0, sizeof(a0));
	money_format_yuan(p->res.total_fen, a1, sizeof(a1));
	money_format_yuan(l.amount_fen, d, sizeof(d));
	/* at most 128 characters: the numbers a resident needs to check the correction */
	xq_snprintf(l.label_zh, sizeof(l.label_zh), "读数更正%s：用量 %s→%s %s，应收 %s→%s 元，差额 %s 元",
		    l.amount_fen < 0 ? "退费" : "补收", q0, q1, tariff_unit_text(p->tc->v[0].tariff),
		    a0, a1, d);

	before = cJSON_CreateObject();
	cJSON_AddNumberToObject(before, "qty_milli", (double)old_qty);
	cJSON_AddNumberToObject(before, "amount_fen", (double)old_amt);
	cJSON_AddItemToObject(before, "usage", usage_json(db, bill_id));

	if ((rc = insert_line(db, bill_id, line_no, &l)) ||
	    (rc = db_run(db, &q_usage_delete, NULL, bill_id)) || (rc = insert_usage(db, bill_id, p)) ||
	    (rc = db_run(db, &q_bill_adjust, NULL, p->res.qty_milli, p->res.total_fen, r->job_id,
			 bill_id))) {
		cJSON_Delete(before);
		return rc;
	}
	after = cJSON_CreateObject();
	cJSON_AddNumberToObject(after, "qty_milli", (double)p->res.qty_milli);
	cJSON_AddNumberToObject(after, "amount_fen", (double)p->res.total_fen);
	cJSON_AddNumberToObject(after, "adjust_fen", (double)l.amount_fen);
	cJSON_AddStringToObject(after, "label_zh", l.label_zh);
	cJSON_AddItemToObject(after, "usage", usage_json(db, bill_id));
	rc = audit_write(db, &who, "adjust", "bill", bill_id, before, after);
	cJSON_Delete(before);
	cJSON_Delete(after);
	if (rc)
		return rc;
	p->outcome = 2;
	p->adjust_fen = l.amount_fen;
	return settle(db, bill_id, revision, p->res.total_fen, db_i64(b, 0, 5), account_id, balance,
		      &p->settled_fen);
}

/* The house's account row, locked, created on first need (a house billed for the first time). */
static int account_get(struct db *db, int64_t house_id, int64_t *id, int64_t *balance, int *have)
{
	struct db_res res;
	int rc;

	if (*have)
		return XQ_OK;
	for (int attempt = 0; attempt < 2; attempt++) {
		if ((rc = db_run(db, &q_account_lock, &res, house_id)))
			return rc;
		if (res.nrows) {
			*id = db_i64(&res, 0, 0);
			*balance = db_i64(&res, 0, 1);
			*have = 1;
			db_res_release(&res);
			return XQ_OK;
		}
		db_res_release(&res);
		if ((rc = db_run(db, &q_account_ensure, NULL, house_id)))
			return rc;
	}
	return XQ_ERROR;
}

static int house_tx(struct db *db, void *arg)
{
	struct house_tx *h = arg;
	struct run *r = h->r;
	struct db_res b;
	int64_t account_id = 0, balance = 0;
	int have = 0, rc;

	for (size_t i = 0; i < h->np; i++) {
		struct plan *p = &h->p[i];
		int64_t bill_id, ytd = p->ytd_before;

		if (p->state != 1)
			continue;
		p->outcome = 0;
		p->adjust_fen = p->settled_fen = 0;
		if ((rc = db_run(db, &q_bill_lock, &b, h->house_id, r->o->period, p->utility)))
			return rc;
		if (b.nrows) {
			int same = 0;
			if (!strcmp(db_str(&b, 0, 1), "void")) {
				p->outcome = 4;
			} else if ((rc = same_usage(db, db_i64(&b, 0, 0), p, &same)) == XQ_OK) {
				if (same)
					p->outcome = 3;
				else if ((rc = account_get(db, h->house_id, &account_id, &balance,
							   &have)) == XQ_OK)
					rc = adjust_bill(h, p, &b, account_id, &balance);
			}
			db_res_release(&b);
			if (rc)
				return rc;
			continue;
		}
		db_res_release(&b);
		if ((rc = account_get(db, h->house_id, &account_id, &balance, &have)))
			return rc;
		if ((rc = db_run(db, &q_bill_insert, NULL, h->house_id, r->o->period, p->utility,
				 p->res.qty_milli, ytd >= 0 ? &ytd : NULL, p->res.total_fen, r->due_date,
				 r->job_id)))
			return rc;
		bill_id = db_insert_id(db);
		if ((rc = insert_usage(db, bill_id, p)))
			return rc;
		for (size_t k = 0; k < p->res.n_lines; k++)
			if ((rc = insert_line(db, bill_id, (int)k + 1, &p->res.lines[k])))
				return rc;
		if ((rc = settle(db, bill_id, 1, p->res.total_fen, 0, account_id, &balance,
				 &p->settled_fen)))
			return rc;
		p->outcome = 1;
		p->amount_fen = p->res.total_fen;
	}
	return XQ_OK;
}

static void add_skip(struct billrun_summary *s, const struct billrun_skip *k)
{
	s->skipped++;
	if (s->n_skips >= BILLRUN_SKIPS_KEPT)
		return;
	s->skips = xq_realloc(s->skips, (s->n_skips + 1) * sizeof(*s->skips));
	s->skips[s->n_skips++] = *k;
}

static int bill_house(struct run *r, int64_t house_id, int household)
{
	static const char *const utilities[2] = { "electric", "water" };
	struct plan p[2];
	struct db_res m;
	struct house_tx h = { r, house_id, p, 2 };
	int64_t t0 = xq_mono_us();
	int rc, todo = 0;

	memset(p, 0, sizeof(p));
	if ((rc = db_run(r->db, &q_meters, &m, house_id, r->end_utc, r->start_utc)))
		return rc;
	for (int u = 0; u < 2 && rc == XQ_OK; u++) {
		p[u].utility = utilities[u];
		rc = plan_utility(r, house_id, household, &m, &p[u]);
		todo |= p[u].state == 1;
	}
	db_res_release(&m);
	r->s->db_read_us += xq_mono_us() - t0;
	if (rc == XQ_OK && todo) {
		t0 = xq_mono_us();
		rc = db_tx(r->db, house_tx, &h);
		r->s->db_write_us += xq_mono_us() - t0;
	}
	for (int u = 0; u < 2; u++) {
		if (rc == XQ_OK && p[u].state == 2)
			add_skip(r->s, &p[u].skip);
		if (rc == XQ_OK && p[u].state == 1) {
			switch (p[u].outcome) {
			case 1:
				r->s->bills_new++;
				r->s->total_fen += p[u].amount_fen;
				break;
			case 2:
				r->s->bills_adjusted++;
				r->s->adjust_fen += p[u].adjust_fen;
				break;
			case 3:
				r->s->bills_unchanged++;
				break;
			case 4: {
				struct billrun_skip k = { .house_id = house_id };
				xq_snprintf(k.utility, sizeof(k.utility), "%s", p[u].utility);
				xq_snprintf(k.code, sizeof(k.code), "bill_void");
				xq_snprintf(k.reason_zh, sizeof(k.reason_zh),
					    "本期账单已作废，重开需人工处理");
				add_skip(r->s, &k);
				break;
			}
			default:
				break;
			}
			r->s->settled_fen += p[u].settled_fen;
		}
		billing_result_release(&p[u].res);
	}
	return rc;
}

/* ---- the run ---------------------------------------------------------- */

struct claim_arg {
	const struct billrun_opts *o;
	int64_t job_id;
	int taken;
};

static int claim_tx(struct db *db, void *arg)
{
	struct claim_arg *c = arg;
	struct db_res res;
	int rc;

	c->taken = 0;
	rc = db_run(db, &q_job_insert, NULL, c->o->community_id, c->o->period, c->o->owner);
	if (rc == XQ_OK) {
		c->job_id = db_insert_id(db);
		c->taken = 1;
		return XQ_OK;
	}
	if (rc != XQ_ECONFLICT)
		return rc;
	if ((rc = db_run(db, &q_job_find, &res, (int64_t)BILLRUN_STALE_S, c->o->community_id,
			 c->o->period)))
		return rc;
	if (res.nrows == 0) {
		db_res_release(&res);
		return XQ_EAGAIN;
	}
	c->job_id = db_i64(&res, 0, 0);
	/* a live claim is left alone; a finished, failed or silent one is taken over */
	if (!strcmp(db_str(&res, 0, 1), "running") && !db_i64(&res, 0, 2)) {
		db_res_release(&res);
		return XQ_OK;
	}
	db_res_release(&res);
	c->taken = 1;
	return db_run(db, &q_job_takeover, NULL, c->o->owner, c->job_id);
}

int billrun_claim(struct db *db, const struct billrun_opts *o, int64_t *job_id)
{
	struct claim_arg c = { o, 0, 0 };
	int y, m, rc;
	int32_t f, l;
	char a[TIME_LEN], b[TIME_LEN];

	if (billrun_period(o->period, &y, &m, &f, &l, a, b) || o->community_id < 0)
		return XQ_EINVAL;
	rc = db_tx(db, claim_tx, &c);
	*job_id = c.job_id;
	if (rc)
		return rc;
	return c.taken ? XQ_OK : XQ_ECONFLICT;
}

static void progress(struct run *r, int64_t done, int64_t total, int64_t *last_us, int force)
{
	int64_t now = xq_mono_us();
	char msg[128];

	if (!force && now - *last_us < 200000)
		return;
	*last_us = now;
	xq_snprintf(msg, sizeof(msg), "%lld/%lld 户，已出账 %lld，跳过 %lld", (long long)done,
		    (long long)total, (long long)r->s->bills_new, (long long)r->s->skipped);
	db_run(r->db, &q_job_progress, NULL, done, total, msg, r->job_id);
	if (r->o->progress)
		r->o->progress(r->o->progress_arg, done, total);
}

int billrun_run(struct db *db, int64_t job_id, const struct billrun_opts *o,
		struct billrun_summary *s)
{
	struct run r;
	struct db_res houses;
	int64_t last = 0, done = 0, total = 0;
	int32_t stale_day;
	char *js = NULL, msg[255], err[255] = "";
	cJSON *j;
	int rc;

	memset(s, 0, sizeof(*s));
	memset(&r, 0, sizeof(r));
	r.db = db;
	r.o = o;
	r.s = s;
	r.job_id = job_id;
	s->job_id = job_id;
	s->community_id = o->community_id;
	xq_snprintf(s->period, sizeof(s->period), "%s", o->period ? o->period : "");
	if ((rc = billrun_period(o->period, &r.year, &r.month, &r.first_day, &r.last_day,
				 r.start_utc, r.end_utc)))
		return rc;
	stale_day = r.last_day + 1 - BILLRUN_STALE_READING_DAYS;
	utc_midnight(stale_day, r.stale_utc);
	date_text(r.first_day, r.first_date);
	date_text(r.last_day, r.last_date);
	{
		/* RULE: BILL-DUE-01: due on the 20th of the month after the period */
		int32_t due;
		billing_day(r.month == 12 ? r.year + 1 : r.year, r.month == 12 ? 1 : r.month + 1,
			    BILLRUN_DUE_MDAY, &due);
		date_text(due, r.due_date);
	}

	rc = db_run(db, &q_houses, &houses, o->community_id, o->community_id);
	if (rc == XQ_OK) {
		total = (int64_t)houses.nrows;
		s->houses = total;
		progress(&r, 0, total, &last, 1);
		for (size_t i = 0; i < houses.nrows && rc == XQ_OK; i++) {
			rc = bill_house(&r, db_i64(&houses, i, 0), (int)db_i64(&houses, i, 1));
			done++;
			progress(&r, done, total, &last, 0);
		}
		db_res_release(&houses);
	}
	if (rc)
		xq_snprintf(err, sizeof(err), "%s: %s", xq_strerror(rc), db_errmsg(db));
	xq_snprintf(msg, sizeof(msg), "%lld/%lld 户，已出账 %lld，调整 %lld，跳过 %lld",
		    (long long)done, (long long)total, (long long)s->bills_new,
		    (long long)s->bills_adjusted, (long long)s->skipped);
	j = billrun_summary_json(s);
	js = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	db_run(db, &q_job_finish, NULL, rc ? "failed" : "done", done, total, msg, err, js, job_id);
	if (o->progress)
		o->progress(o->progress_arg, done, total);
	free(js);
	for (size_t i = 0; i < r.ntc; i++) {
		for (size_t k = 0; k < r.tc[i]->n; k++)
			tariff_release(&r.tc[i]->t[k]);
		free(r.tc[i]);
	}
	free(r.tc);
	return rc;
}

void billrun_summary_release(struct billrun_summary *s)
{
	free(s->skips);
	memset(s, 0, sizeof(*s));
}

cJSON *billrun_summary_json(const struct billrun_summary *s)
{
	cJSON *o = cJSON_CreateObject(), *a = cJSON_CreateArray();

	cJSON_AddNumberToObject(o, "job_id", (double)s->job_id);
	cJSON_AddStringToObject(o, "period", s->period);
	cJSON_AddNumberToObject(o, "community_id", (double)s->community_id);
	cJSON_AddNumberToObject(o, "houses", (double)s->houses);
	cJSON_AddNumberToObject(o, "billed", (double)s->bills_new);
	cJSON_AddNumberToObject(o, "adjusted", (double)s->bills_adjusted);
	cJSON_AddNumberToObject(o, "unchanged", (double)s->bills_unchanged);
	cJSON_AddNumberToObject(o, "skipped", (double)s->skipped);
	cJSON_AddNumberToObject(o, "total_fen", (double)s->total_fen);
	cJSON_AddNumberToObject(o, "adjust_fen", (double)s->adjust_fen);
	cJSON_AddNumberToObject(o, "settled_fen", (double)s->settled_fen);
	cJSON_AddNumberToObject(o, "compute_ms", (double)(s->compute_us / 1000));
	cJSON_AddNumberToObject(o, "db_read_ms", (double)(s->db_read_us / 1000));
	cJSON_AddNumberToObject(o, "db_write_ms", (double)(s->db_write_us / 1000));
	for (size_t i = 0; i < s->n_skips; i++) {
		cJSON *k = cJSON_CreateObject();
		cJSON_AddNumberToObject(k, "house_id", (double)s->skips[i].house_id);
		cJSON_AddStringToObject(k, "utility", s->skips[i].utility);
		cJSON_AddStringToObject(k, "code", s->skips[i].code);
		cJSON_AddStringToObject(k, "reason", s->skips[i].reason_zh);
		cJSON_AddItemToArray(a, k);
	}
	cJSON_AddItemToObject(o, "skipped_houses", a);
	return o;
}
