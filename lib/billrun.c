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
#include "rollup.h"
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
DB_QUERY(q_versions) = {
	"billrun_versions",
	"SELECT id, effective_from, rules FROM tariff_version WHERE tariff_id = ?"
	" AND status = 'published' AND effective_from <= ? ORDER BY effective_from",
	"ls", "lsj",
};
DB_QUERY(q_reading) = {
	"billrun_reading",
	"SELECT read_at, value, value_sharp, value_peak, value_flat, value_valley, status,"
	" flag_reason FROM meter_reading WHERE meter_id = ? AND read_at <= ? AND read_at >= ?"
	" AND status <> 'rejected' AND source <> 'estimate' ORDER BY read_at DESC LIMIT 1",
	"lss", "slllllss",
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
	char ytd_from[8];    /* 11 months before the period: the oldest tier-year start */
	struct batch *b;     /* the houses being read and written together */
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
	int est_periods, est_days; /* > 0: priced on an estimate (RULE: BILL-ESTIMATE-01) */
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

/* ---- batches: the reads of many houses at once --------------------------
 *
 * A run works through the houses BILLRUN_BATCH at a time (by house id). For
 * a batch it reads, in a handful of set-based queries: the meters, the
 * tariff assignments, the previous bills' closing registers, the readings
 * around the period's start and end, the tier-year usage and any bill that
 * already exists for the period. The plan of each house is then exactly
 * what the per-house reads gave (the same rules, the same skips); only a
 * reading outside the one-day windows below is fetched per meter.
 */

DB_QUERY(q_b_meters) = {
	"billrun_b_meters",
	"SELECT id, utility, meter_no, digits, multiplier, installed_at, initial_reading,"
	" removed_at, final_reading, house_id FROM meter WHERE house_id BETWEEN ? AND ?"
	" AND kind = 'household' AND installed_at < ? AND (removed_at IS NULL OR removed_at > ?)"
	" ORDER BY house_id, utility, installed_at, id",
	"llss", "lssllslsll",
};
DB_QUERY(q_b_assignments) = {
	"billrun_b_assignments",
	"SELECT house_id, utility, tariff_id FROM house_tariff WHERE house_id BETWEEN ? AND ?"
	" AND valid_from <= ? AND (valid_to IS NULL OR valid_to >= ?)"
	" ORDER BY house_id, utility, valid_from DESC",
	"llss", "lsl",
};
/* per meter, the usage rows of the latest earlier non-void bill that used it */
DB_QUERY(q_b_prev_usage) = {
	"billrun_b_prev_usage",
	"SELECT bu.meter_id, bu.bill_id, bu.register, bu.curr_read_at, bu.curr_value"
	" FROM bill_usage bu JOIN bill b ON b.id = bu.bill_id JOIN"
	" (SELECT bu2.meter_id, MAX(b2.period) AS p FROM meter m FORCE INDEX (meter_house_ix)"
	"  JOIN bill_usage bu2 ON bu2.meter_id = m.id JOIN bill b2 ON b2.id = bu2.bill_id"
	"  WHERE m.house_id BETWEEN ? AND ? AND m.kind = 'household' AND b2.period < ?"
	"  AND b2.status <> 'void' GROUP BY bu2.meter_id) x"
	" ON x.meter_id = bu.meter_id AND b.period = x.p WHERE b.status <> 'void'"
	" ORDER BY bu.meter_id, bu.id",
	"lls", "llssl",
};
/*
 * per meter, the latest non-rejected reading in (lo, hi]. FORCE INDEX: left
 * alone the optimiser walks every meter by primary key for the GROUP BY,
 * which grows with the whole table instead of the batch.
 */
DB_QUERY(q_b_readings) = {
	"billrun_b_readings",
	"SELECT r.meter_id, r.read_at, r.value, r.value_sharp, r.value_peak, r.value_flat,"
	" r.value_valley, r.status, r.flag_reason FROM meter_reading r JOIN"
	" (SELECT r2.meter_id, MAX(r2.read_at) AS at FROM meter m FORCE INDEX (meter_house_ix)"
	"  JOIN meter_reading r2 ON r2.meter_id = m.id"
	"  WHERE m.house_id BETWEEN ? AND ? AND m.kind = 'household' AND r2.read_at > ?"
	"  AND r2.read_at <= ? AND r2.status <> 'rejected' AND r2.source <> 'estimate'"
	"  GROUP BY r2.meter_id) x"
	" ON r.meter_id = x.meter_id AND r.read_at = x.at ORDER BY r.meter_id",
	"llss", "lslllllss",
};
DB_QUERY(q_b_ytd) = {
	"billrun_b_ytd",
	"SELECT house_id, utility, period, SUM(qty_milli) FROM bill WHERE house_id BETWEEN ? AND ?"
	" AND period >= ? AND period < ? AND status <> 'void' GROUP BY house_id, utility, period"
	" ORDER BY house_id, utility, period",
	"llss", "lssl",
};
DB_QUERY(q_b_bills) = {
	"billrun_b_bills",
	"SELECT house_id, id, utility, status FROM bill WHERE house_id BETWEEN ? AND ?"
	" AND period = ? ORDER BY house_id, utility",
	"lls", "llss",
};
DB_QUERY(q_b_bill_usage) = {
	"billrun_b_bill_usage",
	"SELECT bu.bill_id, bu.meter_id, bu.register, bu.prev_value, bu.curr_value"
	" FROM bill_usage bu JOIN bill b ON b.id = bu.bill_id WHERE b.house_id BETWEEN ? AND ?"
	" AND b.period = ? ORDER BY bu.bill_id",
	"lls", "llsll",
};

/* One reading found by q_b_readings. */
struct brd {
	int64_t meter_id;
	struct mread rd;
	int flagged;
	const char *why;
};

/* One house of a batch. */
struct bhouse {
	int64_t id;
	int household;
	int64_t account_id; /* set by batch_tx */
	size_t m_lo, m_hi; /* its rows in batch.meters */
	struct plan p[2];  /* electric, water */
	int route;         /* ROUTE_* */
};

enum { ROUTE_NONE, ROUTE_NEW, ROUTE_UNCHANGED, ROUTE_HOUSE };

struct batch {
	int64_t lo, hi; /* house ids */
	size_t n;
	struct bhouse *h;
	struct db_res meters, assign, prev, opening, closing, ytd, bills, usage;
	struct brd *open, *close;
	size_t nopen, nclose;
};

static int cmp_brd(const void *a, const void *b)
{
	const struct brd *x = a, *y = b;

	return x->meter_id < y->meter_id ? -1 : x->meter_id > y->meter_id;
}

static struct brd *parse_readings(const struct db_res *res)
{
	struct brd *out = xq_calloc(res->nrows + 1, sizeof(*out));

	for (size_t i = 0; i < res->nrows; i++) {
		struct brd *b = &out[i];
		b->meter_id = db_i64(res, i, 0);
		xq_snprintf(b->rd.at, sizeof(b->rd.at), "%s", db_str(res, i, 1));
		b->rd.v = db_i64(res, i, 2);
		for (int k = 0; k < TARIFF_PERIODS_MAX; k++) {
			b->rd.has_reg[k] = db_str(res, i, (size_t)(3 + k)) != NULL;
			b->rd.reg[k] = db_i64(res, i, (size_t)(3 + k));
		}
		b->flagged = !strcmp(db_str(res, i, 7), "flagged");
		b->why = db_str(res, i, 8) ? db_str(res, i, 8) : "";
	}
	return out; /* ordered by meter_id by the query */
}

static int reading_at(struct run *r, int64_t meter_id, const char *hi, const char *lo,
		      struct mread *out, int *flagged, char *why, size_t whylen);

/*
 * The latest non-rejected reading in [lo, hi] from the batch's window
 * (hi - 1 day, hi]: the latest at or before hi when the window has one (it
 * is then the latest overall), else asked of the database for this meter.
 */
static int batch_reading(struct run *r, const struct brd *w, size_t n, int64_t meter_id,
			 const char *hi, const char *lo, struct mread *out, int *flagged, char *why,
			 size_t whylen)
{
	struct brd key = { .meter_id = meter_id };
	const struct brd *f = n ? bsearch(&key, w, n, sizeof(*w), cmp_brd) : NULL;

	if (!f)
		return reading_at(r, meter_id, hi, lo, out, flagged, why, whylen);
	if (strcmp(f->rd.at, lo) < 0)
		return XQ_ENOTFOUND;
	*out = f->rd;
	*flagged = f->flagged;
	xq_snprintf(why, whylen, "%s", f->why);
	return XQ_OK;
}

/* Lower bound of key in column 0 (sorted ascending) of rows [0, nrows). */
static size_t lower_bound(const struct db_res *res, int64_t key)
{
	size_t lo = 0, hi = res->nrows;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (db_i64(res, mid, 0) < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The previous bill's closing registers of a meter, if one used it. */
static int batch_prev(const struct batch *b, struct meter_use *mu, int *found)
{
	const struct db_res *res = &b->prev;
	size_t i = lower_bound(res, mu->meter_id);
	int64_t bill_id;

	*found = 0;
	if (i >= res->nrows || db_i64(res, i, 0) != mu->meter_id)
		return XQ_OK;
	bill_id = db_i64(res, i, 1);
	for (; i < res->nrows && db_i64(res, i, 0) == mu->meter_id && db_i64(res, i, 1) == bill_id;
	     i++) {
		const char *reg = db_str(res, i, 2);
		if (!strcmp(reg, "total")) {
			xq_snprintf(mu->prev.at, sizeof(mu->prev.at), "%s", db_str(res, i, 3));
			mu->prev.v = db_i64(res, i, 4);
		}
		for (int k = 0; k < TARIFF_PERIODS_MAX; k++)
			if (!strcmp(reg, reg_names[k])) {
				mu->prev.has_reg[k] = 1;
				mu->prev.reg[k] = db_i64(res, i, 4);
			}
	}
	*found = mu->prev.at[0] != '\0';
	return XQ_OK;
}

/* The assignment in force on the last day (latest valid_from), 0 if none. */
static int64_t batch_assignment(const struct batch *b, int64_t house_id, const char *utility)
{
	const struct db_res *res = &b->assign;

	for (size_t i = lower_bound(res, house_id); i < res->nrows && db_i64(res, i, 0) == house_id;
	     i++)
		if (!strcmp(db_str(res, i, 1), utility))
			return db_i64(res, i, 2);
	return 0;
}

/* Tier-year usage before this period: the house's non-void bills from `from` on. */
static int64_t batch_ytd(const struct batch *b, int64_t house_id, const char *utility,
			 const char *from)
{
	const struct db_res *res = &b->ytd;
	int64_t sum = 0;

	for (size_t i = lower_bound(res, house_id); i < res->nrows && db_i64(res, i, 0) == house_id;
	     i++)
		if (!strcmp(db_str(res, i, 1), utility) && strcmp(db_str(res, i, 2), from) >= 0)
			sum += db_i64(res, i, 3);
	return sum;
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
	char why[80];
	int flagged = 0, found = 0, rc;

	if (strcmp(installed_at, r->start_utc) > 0) {
		/* installed inside the period: it counts from its initial register */
		xq_snprintf(mu->prev.at, sizeof(mu->prev.at), "%s", installed_at);
		mu->prev.v = initial;
		return XQ_OK;
	}
	if ((rc = batch_prev(r->b, mu, &found)))
		return rc;
	if (found)
		return XQ_OK;
	rc = batch_reading(r, r->b->open, r->b->nopen, mu->meter_id, r->start_utc, installed_at,
			   &mu->prev, &flagged, why, sizeof(why));
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

/* ---- labelled estimates chosen by staff (RULE: BILL-ESTIMATE-01) ------- */

/* per register, the raw use and the seconds of the meter's last 3 non-void bills */
DB_QUERY(q_est_history) = {
	"billrun_est_history",
	"SELECT bu.register, SUM(bu.qty_milli DIV GREATEST(bu.multiplier, 1)),"
	" SUM(TIMESTAMPDIFF(SECOND, bu.prev_read_at, bu.curr_read_at)), COUNT(*)"
	" FROM bill_usage bu JOIN (SELECT b.id FROM bill b JOIN bill_usage u ON u.bill_id = b.id"
	" AND u.register = 'total' WHERE u.meter_id = ? AND b.period < ? AND b.status <> 'void'"
	" ORDER BY b.period DESC LIMIT 3) t ON t.id = bu.bill_id WHERE bu.meter_id = ?"
	" GROUP BY bu.register",
	"lsl", "slll",
};
DB_QUERY(q_est_get) = {
	"billrun_est_get",
	"SELECT source, value, value_sharp, value_peak, value_flat, value_valley FROM meter_reading"
	" WHERE meter_id = ? AND read_at = ?",
	"ls", "slllll",
};
DB_QUERY(q_est_insert) = {
	"billrun_est_insert",
	"INSERT INTO meter_reading (meter_id, read_at, value, value_sharp, value_peak, value_flat,"
	" value_valley, source, status, entered_by) VALUES (?, ?, ?, ?, ?, ?, ?, 'estimate', 'ok', ?)",
	"lslLLLLL", NULL,
};

static int wants_estimate(const struct run *r, int64_t house_id)
{
	for (size_t i = 0; i < r->o->n_estimate; i++)
		if (r->o->estimate_house_ids[i] == house_id)
			return 1;
	return 0;
}

/*
 * The closing registers of a meter whose closing reading is missing, stale
 * or flagged, for a house staff chose to estimate: each register's average
 * daily use over the meter's last BILLRUN_ESTIMATE_PERIODS bills times the
 * period's days, in whole kWh / m³ (MONEY-ROUND-01), stored as a reading
 * with source 'estimate' one millisecond before the period's end (so a
 * flagged reading at the boundary is kept) and audited. Readings with
 * source 'estimate' are never chosen as real ones, so a later real reading
 * corrects the bill through BILL-ADJUST-01; a re-run with the same choice
 * reuses the stored estimate.
 */
static int estimate_closing(struct run *r, struct plan *p, int64_t house_id, struct meter_use *mu,
			    const char *code)
{
	struct db_res res;
	int64_t use[TARIFF_PERIODS_MAX + 1] = { 0 }, secs[TARIFF_PERIODS_MAX + 1] = { 0 };
	int64_t est[TARIFF_PERIODS_MAX + 1] = { 0 }, top = TARIFF_UNIT_MILLI, periods = 0;
	int have[TARIFF_PERIODS_MAX + 1] = { 0 };
	int64_t days = (int64_t)r->last_day - r->first_day + 1;
	char at[TIME_LEN];
	int rc;

	if ((rc = db_run(r->db, &q_est_history, &res, mu->meter_id, r->o->period, mu->meter_id)))
		return rc;
	for (size_t i = 0; i < res.nrows; i++) {
		const char *reg = db_str(&res, i, 0);
		int k = -1;
		for (int j = 0; j < TARIFF_PERIODS_MAX; j++)
			if (!strcmp(reg, reg_names[j]))
				k = j;
		if (k < 0 && strcmp(reg, "total"))
			continue;
		use[k + 1] = db_i64(&res, i, 1);
		secs[k + 1] = db_i64(&res, i, 2);
		have[k + 1] = secs[k + 1] > 0;
		if (k < 0)
			periods = db_i64(&res, i, 3);
	}
	db_res_release(&res);
	if (!have[0])
		return skip(p, house_id, "estimate_unavailable",
			    "表 %s 没有可用于估算的历史账单（近%d期用量），请录入读数", mu->meter_no,
			    BILLRUN_ESTIMATE_PERIODS);
	for (int i = 0; i < mu->digits; i++)
		top *= 10;
	for (int k = 0; k <= TARIFF_PERIODS_MAX; k++) {
		int64_t units;
		if (!have[k])
			continue;
		/* use x days / (seconds / 86400), in whole units, exact until the one rounding */
		if (money_round_fen((__int128)use[k] * days * 86400,
				    (__int128)secs[k] * TARIFF_UNIT_MILLI, &units))
			return skip(p, house_id, "estimate_unavailable", "表 %s 的估算用量超出范围",
				    mu->meter_no);
		est[k] = units * TARIFF_UNIT_MILLI;
	}
	xq_snprintf(at, sizeof(at), "%.10s 15:59:59.999", r->end_utc);
	if ((rc = db_run(r->db, &q_est_get, &res, mu->meter_id, at)))
		return rc;
	if (res.nrows) {
		int mine = !strcmp(db_str(&res, 0, 0), "estimate");
		if (mine) {
			/* staff chose this before: the same estimate, so a re-run is unchanged */
			mu->curr.v = db_i64(&res, 0, 1);
			for (int k = 0; k < TARIFF_PERIODS_MAX; k++) {
				mu->curr.has_reg[k] = db_str(&res, 0, (size_t)(2 + k)) != NULL;
				mu->curr.reg[k] = db_i64(&res, 0, (size_t)(2 + k));
			}
		}
		db_res_release(&res);
		if (!mine)
			return skip(p, house_id, "estimate_unavailable",
				    "表 %s 在 %s 已有读数，不能再写估算读数", mu->meter_no, at);
	} else {
		struct audit_actor who = { r->o->staff_id, r->o->actor ? r->o->actor : "xqctl", "", "" };
		int64_t regs[TARIFF_PERIODS_MAX], staff = r->o->staff_id, sum = 0;
		int any = 0;
		cJSON *after;

		db_res_release(&res);

		for (int k = 0; k < TARIFF_PERIODS_MAX; k++) {
			mu->curr.has_reg[k] = mu->prev.has_reg[k] && have[k + 1];
			any |= mu->curr.has_reg[k];
			regs[k] = mu->curr.has_reg[k] ? (mu->prev.reg[k] + est[k + 1]) % top : 0;
			sum += mu->curr.has_reg[k] ? est[k + 1] : 0;
		}
		/* a meter with rate registers: its total moves by the registers' sum */
		mu->curr.v = (mu->prev.v + (any ? sum : est[0])) % top;
		for (int k = 0; k < TARIFF_PERIODS_MAX; k++)
			mu->curr.reg[k] = regs[k];
		if ((rc = db_run(r->db, &q_est_insert, NULL, mu->meter_id, at, mu->curr.v,
				 mu->curr.has_reg[0] ? &regs[0] : NULL, mu->curr.has_reg[1] ? &regs[1] : NULL,
				 mu->curr.has_reg[2] ? &regs[2] : NULL, mu->curr.has_reg[3] ? &regs[3] : NULL,
				 staff ? &staff : NULL)))
			return rc;
		after = cJSON_CreateObject();
		cJSON_AddNumberToObject(after, "house_id", (double)house_id);
		cJSON_AddStringToObject(after, "period", r->o->period);
		cJSON_AddStringToObject(after, "because", code);
		cJSON_AddStringToObject(after, "read_at", at);
		cJSON_AddNumberToObject(after, "value", (double)mu->curr.v);
		cJSON_AddNumberToObject(after, "periods_averaged", (double)periods);
		cJSON_AddNumberToObject(after, "days", (double)days);
		rc = audit_write(r->db, &who, "estimate", "meter", mu->meter_id, NULL, after);
		cJSON_Delete(after);
		if (rc)
			return rc;
		/*
		 * Like every writer of readings, keep the usage rollups true
		 * (lib/rollup.h). at is UTC "YYYY-MM-DD HH:...": its local
		 * (UTC+8) day is the next one from 16:00 on.
		 */
		{
			struct rollup_key key = { mu->meter_id, 0 };
			char ymd[11];

			xq_snprintf(ymd, sizeof(ymd), "%.10s", at);
			if ((rc = rollup_day_parse(ymd, &key.day)) != XQ_OK)
				return rc;
			if (strlen(at) >= 13 && strncmp(at + 11, "16", 2) >= 0)
				key.day++;
			if ((rc = rollup_refresh(r->db, &key, 1)) != XQ_OK)
				return rc;
		}
	}
	xq_snprintf(mu->curr.at, sizeof(mu->curr.at), "%s", at);
	p->est_periods = (int)periods;
	p->est_days = (int)days;
	return XQ_OK;
}

/* RULE: BILL-ESTIMATE-01: every priced line of an estimated bill says so. */
static void label_estimate(struct plan *p)
{
	char pre[96], buf[sizeof(p->res.lines[0].label_zh)];

	xq_snprintf(pre, sizeof(pre), "估算用量（近%d期日均 × %d天）", p->est_periods, p->est_days);
	for (size_t i = 0; i < p->res.n_lines; i++) {
		struct bill_line *l = &p->res.lines[i];
		size_t chars = 0;
		if (!strcmp(l->kind, "fixed"))
			continue;
		for (const char *c = pre; *c; c++)
			chars += ((unsigned char)*c & 0xC0) != 0x80;
		for (const char *c = l->label_zh; *c; c++)
			chars += ((unsigned char)*c & 0xC0) != 0x80;
		if (strlen(pre) + strlen(l->label_zh) < sizeof(buf) && chars <= 128)
			xq_snprintf(buf, sizeof(buf), "%s%s", pre, l->label_zh);
		else
			xq_snprintf(buf, sizeof(buf), "估算 %s", l->label_zh);
		xq_snprintf(l->label_zh, sizeof(l->label_zh), "%s", buf);
	}
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
	rc = batch_reading(r, r->b->close, r->b->nclose, mu->meter_id, r->end_utc, mu->prev.at,
			   &mu->curr, &flagged, why, sizeof(why));
	if (rc && rc != XQ_ENOTFOUND)
		return rc;
	if ((rc == XQ_ENOTFOUND || flagged || strcmp(mu->curr.at, r->stale_utc) < 0) &&
	    wants_estimate(r, house_id))
		return estimate_closing(r, p, house_id, mu,
					rc == XQ_ENOTFOUND ? "closing_missing"
					: flagged	   ? "reading_flagged"
							   : "closing_stale");
	if (rc == XQ_ENOTFOUND)
		return skip(p, house_id, "closing_missing", "表 %s 缺少期末读数", mu->meter_no);
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
			size_t m_lo, size_t m_hi, struct plan *p)
{
	struct billing_input in;
	int64_t tariff_id, mult = 0, mixed = 0;
	char err[256];
	int rc;

	p->nm = 0;
	for (size_t i = m_lo; i < m_hi; i++) {
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

	tariff_id = batch_assignment(r->b, house_id, p->utility);
	if (tariff_id == 0)
		return skip(p, house_id, "no_tariff", "房屋没有分配%s价格方案",
			    !strcmp(p->utility, "electric") ? "电" : "水");
	p->tc = tariff_load(r, tariff_id);
	if (!p->tc->ok)
		return skip(p, house_id, p->tc->code, "%s", p->tc->reason);

	/* readings, meter by meter (a replaced meter and its successor both count) */
	size_t j = 0;
	for (size_t i = m_lo; i < m_hi; i++) {
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
		p->ytd_before = batch_ytd(r->b, house_id, p->utility, from);
		in.ytd_before_milli = p->ytd_before;
	}
	int64_t t0 = xq_mono_us();
	rc = billing_compute(&in, &p->res, err, sizeof(err));
	r->s->compute_us += xq_mono_us() - t0;
	if (rc)
		return skip(p, house_id, "compute_failed", "计费失败：%s", err);
	if (p->est_periods)
		label_estimate(p);
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

/* A stored bill_usage row, as far as the comparison needs it. */
struct urow {
	int64_t meter_id;
	const char *reg;
	int64_t pv, cv;
};

/* True when the stored usage rows u[0..n) are exactly the ones this plan would write. */
static int usage_matches(const struct plan *p, const struct urow *u, size_t n)
{
	size_t want = 0, found = 0;

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
			for (size_t j = 0; j < n; j++)
				if (u[j].meter_id == mu->meter_id && !strcmp(u[j].reg, reg) &&
				    u[j].pv == pv && u[j].cv == cv)
					hit = 1;
			found += (size_t)hit;
		}
	}
	return found == want && n == want;
}

/* True when the stored usage rows are exactly the ones this plan would write. */
static int same_usage(struct db *db, int64_t bill_id, const struct plan *p, int *same)
{
	struct db_res res;
	struct urow *u;
	int rc = db_run(db, &q_bill_usage_get, &res, bill_id);

	if (rc)
		return rc;
	u = xq_calloc(res.nrows + 1, sizeof(*u));
	for (size_t j = 0; j < res.nrows; j++)
		u[j] = (struct urow){ db_i64(&res, j, 0), db_str(&res, j, 1), db_i64(&res, j, 2),
				      db_i64(&res, j, 3) };
	*same = usage_matches(p, u, res.nrows);
	free(u);
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

/* Adds one house's outcome (both utilities) to the summary. */
static void tally(struct run *r, int64_t house_id, struct plan *p)
{
	for (int u = 0; u < 2; u++) {
		if (p[u].state == 2)
			add_skip(r->s, &p[u].skip);
		if (p[u].state == 1) {
			switch (p[u].outcome) {
			case 1:
				r->s->bills_new++;
				r->s->total_fen += p[u].amount_fen;
				r->s->estimated += p[u].est_periods > 0;
				break;
			case 2:
				r->s->bills_adjusted++;
				r->s->adjust_fen += p[u].adjust_fen;
				r->s->estimated += p[u].est_periods > 0;
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
	}
}

/* ---- batches: planning and writing ------------------------------------ */

DB_QUERY(q_b_bill_insert) = {
	"billrun_b_bill_insert",
	"INSERT INTO bill (house_id, period, utility, status, qty_milli, ytd_before_milli,"
	" amount_fen, paid_fen, paid_at, due_date, issued_at, job_id) VALUES (?, ?, ?, ?, ?, ?, ?,"
	" ?, IF(? = 'paid', CURRENT_TIMESTAMP(3), NULL), ?, CURRENT_TIMESTAMP(3), ?)",
	"lssslLllssl", NULL,
};
/*
 * FORCE INDEX: on a small table the optimiser would scan and so lock every
 * account (a payment elsewhere would wait for the batch); by the unique key
 * only the batch's range (and the next key) is locked.
 */
DB_QUERY(q_b_accounts) = {
	"billrun_b_accounts",
	"SELECT house_id, id, balance_fen FROM account FORCE INDEX (account_house_uq)"
	" WHERE house_id BETWEEN ? AND ? ORDER BY house_id FOR UPDATE",
	"ll", "lll",
};

static void batch_release(struct batch *b)
{
	struct db_res *all[] = { &b->meters, &b->assign, &b->prev, &b->opening,
				 &b->closing, &b->ytd, &b->bills, &b->usage };

	for (size_t i = 0; i < b->n; i++)
		for (int u = 0; u < 2; u++)
			billing_result_release(&b->h[i].p[u].res);
	for (size_t i = 0; i < XQ_ARRAY_LEN(all); i++)
		db_res_release(all[i]);
	free(b->open);
	free(b->close);
	free(b->h);
	memset(b, 0, sizeof(*b));
}

/* Local midnight one day before the UTC text t (both "YYYY-MM-DD 16:00:00.000"). */
static void day_before(const char *t, char out[TIME_LEN])
{
	int32_t d;

	if (parse_date(t, &d)) {
		xq_snprintf(out, TIME_LEN, "%s", t);
		return;
	}
	utc_midnight(d, out); /* t is local midnight of day d + 1 */
}

static int batch_read(struct run *r, struct batch *b)
{
	char open_lo[TIME_LEN], close_lo[TIME_LEN];
	struct db *db = r->db;
	int rc;

	day_before(r->start_utc, open_lo);
	day_before(r->end_utc, close_lo);
	if ((rc = db_run(db, &q_b_meters, &b->meters, b->lo, b->hi, r->end_utc, r->start_utc)) ||
	    (rc = db_run(db, &q_b_assignments, &b->assign, b->lo, b->hi, r->last_date,
			 r->first_date)) ||
	    (rc = db_run(db, &q_b_prev_usage, &b->prev, b->lo, b->hi, r->o->period)) ||
	    (rc = db_run(db, &q_b_readings, &b->opening, b->lo, b->hi, open_lo, r->start_utc)) ||
	    (rc = db_run(db, &q_b_readings, &b->closing, b->lo, b->hi, close_lo, r->end_utc)) ||
	    (rc = db_run(db, &q_b_ytd, &b->ytd, b->lo, b->hi, r->ytd_from, r->o->period)) ||
	    (rc = db_run(db, &q_b_bills, &b->bills, b->lo, b->hi, r->o->period)))
		return rc;
	if (b->bills.nrows &&
	    (rc = db_run(db, &q_b_bill_usage, &b->usage, b->lo, b->hi, r->o->period)))
		return rc;
	b->open = parse_readings(&b->opening);
	b->nopen = b->opening.nrows;
	b->close = parse_readings(&b->closing);
	b->nclose = b->closing.nrows;
	return XQ_OK;
}

/* The period's existing bill of (house, utility): its row in b->bills, or -1. */
static ssize_t batch_bill(const struct batch *b, int64_t house_id, const char *utility)
{
	const struct db_res *res = &b->bills;

	for (size_t i = lower_bound(res, house_id); i < res->nrows && db_i64(res, i, 0) == house_id;
	     i++)
		if (!strcmp(db_str(res, i, 2), utility))
			return (ssize_t)i;
	return -1;
}

static int batch_usage_same(const struct batch *b, int64_t bill_id, const struct plan *p)
{
	const struct db_res *res = &b->usage;
	size_t i = lower_bound(res, bill_id), n = 0;
	struct urow u[4 * MAX_METERS * (TARIFF_PERIODS_MAX + 1)];

	for (; i < res->nrows && db_i64(res, i, 0) == bill_id; i++) {
		if (n == XQ_ARRAY_LEN(u))
			return 0;
		u[n++] = (struct urow){ db_i64(res, i, 1), db_str(res, i, 2), db_i64(res, i, 3),
					db_i64(res, i, 4) };
	}
	return usage_matches(p, u, n);
}

/*
 * Plans every house of the batch and decides how it is written: houses with
 * no bill yet for the period go into the batch's one transaction, houses
 * whose bills all exist with the same usage need nothing, and anything
 * else (a corrected reading, a void bill, one utility billed and the other
 * not) takes the per-house transaction that locks and re-checks the bill.
 */
static int batch_plan(struct run *r, struct batch *b)
{
	static const char *const utilities[2] = { "electric", "water" };
	size_t m = 0;
	int rc = XQ_OK;

	for (size_t i = 0; i < b->n && rc == XQ_OK; i++) {
		struct bhouse *h = &b->h[i];
		int planned = 0, existing = 0, fresh = 0, same = 1;

		while (m < b->meters.nrows && db_i64(&b->meters, m, 9) < h->id)
			m++;
		h->m_lo = m;
		while (m < b->meters.nrows && db_i64(&b->meters, m, 9) == h->id)
			m++;
		h->m_hi = m;
		for (int u = 0; u < 2 && rc == XQ_OK; u++) {
			struct plan *p = &h->p[u];
			ssize_t row;

			p->utility = utilities[u];
			rc = plan_utility(r, h->id, h->household, &b->meters, h->m_lo, h->m_hi, p);
			if (rc || p->state != 1)
				continue;
			planned = 1;
			row = batch_bill(b, h->id, p->utility);
			if (row < 0) {
				fresh = 1;
			} else {
				existing = 1;
				if (!strcmp(db_str(&b->bills, (size_t)row, 3), "void") ||
				    !batch_usage_same(b, db_i64(&b->bills, (size_t)row, 1), p))
					same = 0;
			}
		}
		if (!planned)
			h->route = ROUTE_NONE;
		else if (!existing)
			h->route = ROUTE_NEW;
		else if (!fresh && same)
			h->route = ROUTE_UNCHANGED;
		else
			h->route = ROUTE_HOUSE;
		if (h->route == ROUTE_UNCHANGED)
			for (int u = 0; u < 2; u++)
				if (h->p[u].state == 1)
					h->p[u].outcome = 3;
	}
	return rc;
}

struct batch_w {
	struct run *r;
	struct batch *b;
	struct db_bulk *accounts, *bills, *usage, *lines, *ledger, *credit;
};

static void bulk_usage_rows(struct db_bulk *q, int64_t bill_id, const struct plan *p)
{
	for (size_t i = 0; i < p->nm; i++) {
		const struct meter_use *mu = &p->m[i];
		for (int k = -1; k < TARIFF_PERIODS_MAX; k++) {
			if (k >= 0 && !(p->tc->tou && mu->prev.has_reg[k] && mu->curr.has_reg[k]))
				continue;
			db_bulk_i64(q, bill_id);
			db_bulk_i64(q, mu->meter_id);
			db_bulk_str(q, k < 0 ? "total" : reg_names[k]);
			db_bulk_str(q, mu->prev.at);
			db_bulk_i64(q, k < 0 ? mu->prev.v : mu->prev.reg[k]);
			db_bulk_str(q, mu->curr.at);
			db_bulk_i64(q, k < 0 ? mu->curr.v : mu->curr.reg[k]);
			db_bulk_i64(q, k < 0 ? mu->roll_total : mu->roll_reg[k]);
			db_bulk_i64(q, mu->mult);
			db_bulk_i64(q, (k < 0 ? mu->d_total : mu->d_reg[k]) * mu->mult);
		}
	}
}

static void bulk_line_row(struct db_bulk *q, int64_t bill_id, int line_no, const struct bill_line *l)
{
	char from[16], to[16];
	int fixed = !strcmp(l->kind, "fixed");

	db_bulk_i64(q, bill_id);
	db_bulk_i64(q, line_no);
	db_bulk_str(q, l->kind);
	if (l->tier)
		db_bulk_i64(q, l->tier);
	else
		db_bulk_null(q);
	db_bulk_str(q, l->period[0] ? l->period : NULL);
	db_bulk_str(q, l->component);
	db_bulk_str(q, l->label_zh);
	if (fixed) {
		db_bulk_null(q);
		db_bulk_null(q);
	} else {
		db_bulk_i64(q, l->qty_milli);
		db_bulk_i64(q, l->price_hao);
	}
	db_bulk_i64(q, l->amount_fen);
	if (l->version_id)
		db_bulk_i64(q, l->version_id);
	else
		db_bulk_null(q);
	db_bulk_str(q, l->rule);
	if (l->seg_first_day || l->seg_last_day) {
		date_text(l->seg_first_day, from);
		date_text(l->seg_last_day, to);
		db_bulk_str(q, from);
		db_bulk_str(q, to);
	} else {
		db_bulk_null(q);
		db_bulk_null(q);
	}
}

/*
 * The batch's new bills in one transaction: account rows, bills, usage,
 * lines and credit settlements of every ROUTE_NEW house, each house
 * complete, written with bulk statements. A house is all-or-nothing
 * because the whole batch is; db_tx() retries it whole on a deadlock.
 */
static int batch_tx(struct db *db, void *arg)
{
	struct batch_w *w = arg;
	struct run *r = w->r;
	struct batch *b = w->b;
	struct db_res acc, ids;
	int64_t lo = 0, hi = 0;
	int rc;

	db_bulk_clear(w->accounts);
	db_bulk_clear(w->bills);
	db_bulk_clear(w->usage);
	db_bulk_clear(w->lines);
	db_bulk_clear(w->ledger);
	db_bulk_clear(w->credit);
	for (size_t i = 0; i < b->n; i++)
		if (b->h[i].route == ROUTE_NEW) {
			db_bulk_i64(w->accounts, b->h[i].id);
			if (!lo)
				lo = b->h[i].id;
			hi = b->h[i].id;
		}
	if (!lo)
		return XQ_OK;
	if ((rc = db_bulk_run(db, w->accounts)) ||
	    (rc = db_run(db, &q_b_accounts, &acc, lo, hi)))
		return rc;
	for (size_t i = 0; i < b->n; i++) {
		struct bhouse *h = &b->h[i];
		size_t a;
		int64_t balance, account_id;

		if (h->route != ROUTE_NEW)
			continue;
		a = lower_bound(&acc, h->id);
		if (a >= acc.nrows || db_i64(&acc, a, 0) != h->id) {
			db_res_release(&acc);
			return XQ_ERROR;
		}
		account_id = h->account_id = db_i64(&acc, a, 1);
		balance = db_i64(&acc, a, 2);
		for (int u = 0; u < 2; u++) {
			struct plan *p = &h->p[u];
			int64_t amount = p->res.total_fen, s = 0, ytd = p->ytd_before;
			const char *st;

			p->settled_fen = p->adjust_fen = 0;
			p->outcome = 0;
			if (p->state != 1)
				continue;
			/* RULE: BILL-SETTLE-01: credit pays what it can at once */
			if (balance > 0 && amount > 0)
				s = amount < balance ? amount : balance;
			balance -= s;
			p->settled_fen = s;
			st = s >= amount ? "paid" : "issued";
			db_bulk_i64(w->bills, h->id);
			db_bulk_str(w->bills, r->o->period);
			db_bulk_str(w->bills, p->utility);
			db_bulk_str(w->bills, st);
			db_bulk_i64(w->bills, p->res.qty_milli);
			if (ytd >= 0)
				db_bulk_i64(w->bills, ytd);
			else
				db_bulk_null(w->bills);
			db_bulk_i64(w->bills, amount);
			db_bulk_i64(w->bills, s);
			db_bulk_str(w->bills, st);
			db_bulk_str(w->bills, r->due_date);
			db_bulk_i64(w->bills, r->job_id);
			if (s) {
				db_bulk_i64(w->credit, -s);
				db_bulk_i64(w->credit, account_id);
			}
		}
	}
	db_res_release(&acc);
	if ((rc = db_bulk_run(db, w->bills)) ||
	    (rc = db_run(db, &q_b_bills, &ids, lo, hi, r->o->period)))
		return rc;
	/* bill ids by the unique key (house, period, utility): no guessing from LAST_INSERT_ID */
	for (size_t i = 0; i < b->n; i++) {
		struct bhouse *h = &b->h[i];
		if (h->route != ROUTE_NEW)
			continue;
		for (int u = 0; u < 2; u++) {
			struct plan *p = &h->p[u];
			size_t k = lower_bound(&ids, h->id);
			int64_t bill_id = 0;
			char idem[96];

			if (p->state != 1)
				continue;
			for (; k < ids.nrows && db_i64(&ids, k, 0) == h->id; k++)
				if (!strcmp(db_str(&ids, k, 2), p->utility))
					bill_id = db_i64(&ids, k, 1);
			if (!bill_id) {
				db_res_release(&ids);
				return XQ_ERROR;
			}
			bulk_usage_rows(w->usage, bill_id, p);
			for (size_t l = 0; l < p->res.n_lines; l++)
				bulk_line_row(w->lines, bill_id, (int)l + 1, &p->res.lines[l]);
			if (p->settled_fen) {
				xq_snprintf(idem, sizeof(idem), "settle:%lld:credit", (long long)bill_id);
				db_bulk_i64(w->ledger, h->account_id);
				db_bulk_str(w->ledger, "settle");
				db_bulk_i64(w->ledger, -p->settled_fen);
				db_bulk_str(w->ledger, idem);
				db_bulk_i64(w->ledger, bill_id);
				db_bulk_str(w->ledger, "账户余额抵扣");
			}
			p->outcome = 1;
			p->amount_fen = p->res.total_fen;
		}
	}
	db_res_release(&ids);
	if ((rc = db_bulk_run(db, w->usage)) || (rc = db_bulk_run(db, w->lines)))
		return rc;
	if (db_bulk_rows(w->ledger) &&
	    ((rc = db_bulk_run(db, w->ledger)) || (rc = db_bulk_run(db, w->credit))))
		return rc;
	return XQ_OK;
}

static void tally(struct run *r, int64_t house_id, struct plan *p);

/* Reads, plans and writes one batch of houses. */
static int batch_run(struct run *r, struct batch *b)
{
	struct batch_w w = { r, b, NULL, NULL, NULL, NULL, NULL, NULL };
	int64_t t0 = xq_mono_us(), c0 = r->s->compute_us;
	size_t nnew = 0;
	int rc;

	r->b = b;
	rc = batch_read(r, b);
	if (rc == XQ_OK)
		rc = batch_plan(r, b);
	r->b = NULL;
	/* the plan's engine time is compute, the rest of it is reading */
	r->s->db_read_us += xq_mono_us() - t0 - (r->s->compute_us - c0);
	if (rc)
		return rc;
	t0 = xq_mono_us();
	for (size_t i = 0; i < b->n; i++)
		nnew += b->h[i].route == ROUTE_NEW;
	if (nnew) {
		w.accounts = db_bulk_new(&q_account_ensure);
		w.bills = db_bulk_new(&q_b_bill_insert);
		w.usage = db_bulk_new(&q_usage_insert);
		w.lines = db_bulk_new(&q_line_insert);
		w.ledger = db_bulk_new(&q_ledger_insert);
		w.credit = db_bulk_new(&q_account_add);
		rc = db_tx(r->db, batch_tx, &w);
		if (rc == XQ_ECONFLICT) {
			/* a bill appeared since the read (another writer): each house on its own,
			 * where the bill lock and the usage comparison decide */
			for (size_t i = 0; i < b->n; i++)
				if (b->h[i].route == ROUTE_NEW)
					b->h[i].route = ROUTE_HOUSE;
			rc = XQ_OK;
		}
		db_bulk_free(w.accounts);
		db_bulk_free(w.bills);
		db_bulk_free(w.usage);
		db_bulk_free(w.lines);
		db_bulk_free(w.ledger);
		db_bulk_free(w.credit);
	}
	for (size_t i = 0; i < b->n && rc == XQ_OK; i++) {
		struct bhouse *h = &b->h[i];
		struct house_tx tx = { r, h->id, h->p, 2 };
		if (h->route == ROUTE_HOUSE)
			rc = db_tx(r->db, house_tx, &tx);
	}
	r->s->db_write_us += xq_mono_us() - t0;
	if (rc)
		return rc;
	for (size_t i = 0; i < b->n; i++)
		tally(r, b->h[i].id, b->h[i].p);
	return XQ_OK;
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
	/* the tier year starts at most 11 months before the period */
	xq_snprintf(r.ytd_from, sizeof(r.ytd_from), "%04d-%02d", r.month == 12 ? r.year : r.year - 1,
		    r.month == 12 ? 1 : r.month + 1);
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
		for (size_t i = 0; i < houses.nrows && rc == XQ_OK; i += BILLRUN_BATCH) {
			struct batch b;
			memset(&b, 0, sizeof(b));
			b.n = houses.nrows - i < BILLRUN_BATCH ? houses.nrows - i : BILLRUN_BATCH;
			b.h = xq_calloc(b.n, sizeof(*b.h));
			for (size_t k = 0; k < b.n; k++) {
				b.h[k].id = db_i64(&houses, i + k, 0);
				b.h[k].household = (int)db_i64(&houses, i + k, 1);
			}
			b.lo = b.h[0].id;
			b.hi = b.h[b.n - 1].id;
			rc = batch_run(&r, &b);
			if (rc == XQ_OK)
				done += (int64_t)b.n;
			batch_release(&b);
			/* once a batch, always: a batch is 1,000 houses, and a run waiting on a lock
			 * still shows how far it got */
			progress(&r, done, total, &last, 1);
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
	cJSON_AddNumberToObject(o, "estimated", (double)s->estimated);
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
