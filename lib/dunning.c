/*
 * dunning.c - the daily job of dunning.h: the claim, late-fee posting and the
 * dunning steps; the detectors are alerts.c. Each bill is its own
 * transaction, so a run stopped half-way is finished by the next one.
 */
#include "dunning.h"
#include "alerts.h"
#include "billing.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "money.h"
#include "sms.h"
#include "wxmsg.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_PORTIONS 64
#define MAX_STEPS 64
#define TARIFF_CACHE 32

/* ---- dates ------------------------------------------------------------ */

int daily_parse_date(const char *s, int32_t *day)
{
	int y, m, d;
	char tail;

	if (!s || strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 ||
	    s[4] != '-' || s[7] != '-')
		return XQ_EINVAL;
	if (m < 1 || m > 12 || d < 1 || d > 31 || y < 2000 || y > 2199)
		return XQ_EINVAL;
	if (billing_day(y, m, d, day))
		return XQ_EINVAL;
	{
		/* 2026-02-31 is not a date: the round trip must give it back */
		int y2, m2, d2;
		billing_civil(*day, &y2, &m2, &d2);
		if (y2 != y || m2 != m || d2 != d)
			return XQ_EINVAL;
	}
	return XQ_OK;
}

void daily_date_text(int32_t day, char out[11])
{
	int y, m, d;

	billing_civil(day, &y, &m, &d);
	xq_snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
}

int32_t daily_today(void)
{
	/* Asia/Shanghai is UTC+8 all year */
	return (int32_t)(((int64_t)time(NULL) + 8 * 3600) / 86400);
}

/* ---- queries ---------------------------------------------------------- */

DB_QUERY(q_job_insert) = {
	"daily_job_insert",
	"INSERT INTO job (kind, community_id, period, owner) VALUES ('daily', 0, ?, ?)", "ss", NULL,
};
DB_QUERY(q_job_find) = {
	"daily_job_find",
	"SELECT id, state, heartbeat_at < CURRENT_TIMESTAMP(3) - INTERVAL ? SECOND AS stale"
	" FROM job WHERE kind = 'daily' AND community_id = 0 AND period = ? FOR UPDATE",
	"ls", "lsb",
};
DB_QUERY(q_job_takeover) = {
	"daily_job_takeover",
	"UPDATE job SET state = 'running', owner = ?, attempt = attempt + 1, progress_done = 0,"
	" progress_total = 0, message = '', error = '', summary = NULL,"
	" started_at = CURRENT_TIMESTAMP(3), heartbeat_at = CURRENT_TIMESTAMP(3), finished_at = NULL"
	" WHERE id = ?",
	"sl", NULL,
};
DB_QUERY(q_job_progress) = {
	"daily_job_progress",
	"UPDATE job SET progress_done = ?, progress_total = ?, message = ?,"
	" heartbeat_at = CURRENT_TIMESTAMP(3) WHERE id = ?",
	"llsl", NULL,
};
DB_QUERY(q_job_finish) = {
	"daily_job_finish",
	"UPDATE job SET state = ?, message = ?, error = ?, summary = ?,"
	" heartbeat_at = CURRENT_TIMESTAMP(3), finished_at = CURRENT_TIMESTAMP(3) WHERE id = ?",
	"ssssl", NULL,
};

/*
 * Unpaid overdue bills whose fee is not posted through the date. A paid
 * bill is never charged more (RULE: LATEFEE-PAID-01).
 */
DB_QUERY(q_fee_bills) = {
	"daily_fee_bills",
	"SELECT b.id FROM bill b"
	" WHERE b.status = 'issued' AND b.due_date < ? AND b.late_fee_waived_at IS NULL"
	" AND (b.late_fee_through IS NULL OR b.late_fee_through < ?) ORDER BY b.id",
	"ss", "l",
};
DB_QUERY(q_fee_bill_lock) = {
	"daily_fee_bill_lock",
	"SELECT b.utility, b.status, b.amount_fen, b.late_fee_fen, b.due_date, b.late_fee_through,"
	" b.late_fee_waived_at IS NOT NULL, COALESCE(a.late_fee_waived, 0),"
	" (SELECT MAX(l.tariff_version_id) FROM bill_line l WHERE l.bill_id = b.id)"
	" FROM bill b LEFT JOIN account a ON a.house_id = b.house_id WHERE b.id = ? FOR UPDATE",
	"l", "sslsssbbl",
};
/* Settled portions and their Beijing day (LATEFEE-SEGMENTS-01). */
DB_QUERY(q_fee_portions) = {
	"daily_fee_portions",
	"SELECT -amount_fen, DATE(created_at + INTERVAL 8 HOUR) FROM ledger_entry"
	" WHERE bill_id = ? AND kind = 'settle' ORDER BY created_at, id",
	"l", "ls",
};
DB_QUERY(q_tariff_rules) = {
	"daily_tariff_rules", "SELECT rules FROM tariff_version WHERE id = ?", "l", "j",
};
DB_QUERY(q_fee_post) = {
	"daily_fee_post",
	"INSERT INTO late_fee_entry (bill_id, kind, day, amount_fen, cum_fen, idem_key, note)"
	" VALUES (?, 'accrue', ?, ?, ?, ?, ?)",
	"lsllss", NULL,
};
DB_QUERY(q_fee_bill_set) = {
	"daily_fee_bill_set",
	"UPDATE bill SET late_fee_fen = ?, late_fee_through = ? WHERE id = ?", "lsl", NULL,
};

DB_QUERY(q_steps) = {
	"daily_steps",
	"SELECT COALESCE(community_id, 0), step, days_after_due, channel, template FROM dunning_step"
	" WHERE enabled = 1 ORDER BY community_id, step, channel",
	"", "lllss",
};
DB_QUERY(q_dun_bills) = {
	"daily_dun_bills",
	"SELECT b.id, b.house_id, bd.community_id, b.period, b.utility,"
	" b.amount_fen + b.late_fee_fen - b.paid_fen, b.late_fee_fen, b.due_date, DATEDIFF(?, b.due_date),"
	" CONCAT(bd.name, h.unit_no, '单元', h.room)"
	" FROM bill b JOIN house h ON h.id = b.house_id JOIN building bd ON bd.id = h.building_id"
	" WHERE b.status = 'issued' AND b.amount_fen + b.late_fee_fen > b.paid_fen AND b.due_date < ?"
	" ORDER BY b.id",
	"ss", "lllssllsls",
};
/* The steps already taken for the bills dunned today, in one read. */
DB_QUERY(q_dun_done) = {
	"daily_dun_done",
	"SELECT e.bill_id, e.step, e.channel FROM dunning_event e JOIN bill b ON b.id = e.bill_id"
	" WHERE b.status = 'issued' AND b.amount_fen + b.late_fee_fen > b.paid_fen AND b.due_date < ?"
	" GROUP BY e.bill_id, e.step, e.channel ORDER BY e.bill_id",
	"s", "lls",
};
DB_QUERY(q_dun_claim) = {
	"daily_dun_claim",
	"INSERT INTO dunning_event (bill_id, house_id, step, channel, recipient, status, scheduled_for,"
	" error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	"llisssss", NULL,
};
DB_QUERY(q_dun_result) = {
	"daily_dun_result",
	"UPDATE dunning_event SET status = ?, sent_at = IF(? = 'sent', CURRENT_TIMESTAMP(3), NULL),"
	" error = ? WHERE id = ?",
	"sssl", NULL,
};
DB_QUERY(q_dun_openids) = {
	"daily_dun_openids",
	"SELECT DISTINCT u.openid FROM wx_binding w JOIN wx_user u ON u.id = w.wx_user_id"
	" WHERE w.house_id = ? AND w.status = 'active' AND u.staff_id IS NULL ORDER BY u.openid",
	"l", "s",
};
DB_QUERY(q_dun_mobiles) = {
	"daily_dun_mobiles",
	"SELECT DISTINCT r.mobile FROM house_resident hr JOIN resident r ON r.id = hr.resident_id"
	" WHERE hr.house_id = ? AND hr.move_out IS NULL AND r.mobile <> '' ORDER BY r.mobile",
	"l", "s",
};
DB_QUERY(q_dun_ticket) = {
	"daily_dun_ticket",
	"INSERT INTO ticket (community_id, house_id, kind, title, content) VALUES (?, ?, 'billing', ?, ?)",
	"llss", NULL,
};

/* ---- the claim -------------------------------------------------------- */

struct claim_arg {
	const char *date, *owner;
	int64_t job_id;
	int taken;
};

static int claim_tx(struct db *db, void *arg)
{
	struct claim_arg *c = arg;
	struct db_res res;
	int rc;

	c->taken = 0;
	rc = db_run(db, &q_job_insert, NULL, c->date, c->owner);
	if (rc == XQ_OK) {
		c->job_id = db_insert_id(db);
		c->taken = 1;
		return XQ_OK;
	}
	if (rc != XQ_ECONFLICT)
		return rc;
	if ((rc = db_run(db, &q_job_find, &res, (int64_t)DAILY_STALE_S, c->date)))
		return rc;
	if (res.nrows == 0) {
		db_res_release(&res);
		return XQ_EAGAIN;
	}
	c->job_id = db_i64(&res, 0, 0);
	/* a live claim is left alone; a finished (re-run: idempotent), failed or silent one is taken over */
	if (!strcmp(db_str(&res, 0, 1), "running") && !db_i64(&res, 0, 2)) {
		db_res_release(&res);
		return XQ_OK;
	}
	db_res_release(&res);
	c->taken = 1;
	return db_run(db, &q_job_takeover, NULL, c->owner, c->job_id);
}

int daily_claim(struct db *db, const struct daily_opts *o, int64_t *job_id)
{
	char date[11];
	struct claim_arg c = { date, o->owner, 0, 0 };
	int rc;

	daily_date_text(o->day, date);
	rc = db_tx(db, claim_tx, &c);
	*job_id = c.job_id;
	if (rc)
		return rc;
	return c.taken ? XQ_OK : XQ_ECONFLICT;
}

/* ---- late fees -------------------------------------------------------- */

int latefee_through(const struct tariff_late_fee *policy, int32_t due_day,
		    const struct latefee_portion *p, size_t n, int32_t day, int64_t *fen)
{
	struct billing_arrear a[MAX_PORTIONS];

	if (n > MAX_PORTIONS)
		return XQ_EINVAL;
	for (size_t i = 0; i < n; i++) {
		int32_t end = p[i].paid_day && p[i].paid_day < day ? p[i].paid_day : day;
		a[i].principal_fen = p[i].principal_fen;
		a[i].days = end > due_day ? end - due_day : 0;
	}
	return billing_late_fee_policy(policy, a, n, fen);
}

struct run {
	struct db *db;
	const struct daily_opts *o;
	struct daily_summary *s;
	int64_t job_id;
	char date[11];
	struct {
		int64_t version_id;
		struct tariff_late_fee fee;
	} tc[TARIFF_CACHE];
	size_t ntc;
};

/* The late-fee policy of a bill: its tariff version's, else the utility default. */
static int bill_policy(struct run *r, const char *utility, int64_t version_id,
		       struct tariff_late_fee *out)
{
	struct db_res res;
	struct tariff t;
	char err[256];
	int rc;

	memset(out, 0, sizeof(*out));
	if (!version_id) {
		/* RULE: LATEFEE-DEFAULT-01: no priced line to name a tariff: residential electricity 1‰ */
		if (!strcmp(utility, "electric"))
			out->rate_ppm_per_day = TARIFF_LATE_RATE_ELECTRIC_PPM;
		return XQ_OK;
	}
	for (size_t i = 0; i < r->ntc; i++)
		if (r->tc[i].version_id == version_id) {
			*out = r->tc[i].fee;
			return XQ_OK;
		}
	if ((rc = db_run(r->db, &q_tariff_rules, &res, version_id)))
		return rc;
	if (res.nrows == 0 || !db_str(&res, 0, 0)) {
		db_res_release(&res);
		return XQ_ENOTFOUND;
	}
	rc = tariff_parse(db_str(&res, 0, 0), &t, err, sizeof(err));
	db_res_release(&res);
	if (rc) {
		log_warn("daily: tariff version %lld does not parse: %s", (long long)version_id, err);
		return rc;
	}
	*out = t.late_fee;
	tariff_release(&t);
	if (r->ntc < TARIFF_CACHE) {
		r->tc[r->ntc].version_id = version_id;
		r->tc[r->ntc].fee = *out;
		r->ntc++;
	}
	return XQ_OK;
}

struct fee_arg {
	struct run *r;
	int64_t bill_id;
	int64_t entries, fen;
};

static int fee_tx(struct db *db, void *arg)
{
	struct fee_arg *f = arg;
	struct run *r = f->r;
	struct db_res b, p;
	struct latefee_portion por[MAX_PORTIONS];
	struct tariff_late_fee pol;
	int64_t amount, posted, settled = 0, cum, total = 0;
	int32_t due, from, pd;
	size_t n = 0;
	char utility[16];
	int rc;

	f->entries = f->fen = 0;
	if ((rc = db_run(db, &q_fee_bill_lock, &b, f->bill_id)))
		return rc;
	if (b.nrows == 0) {
		db_res_release(&b);
		return XQ_OK;
	}
	xq_snprintf(utility, sizeof(utility), "%s", db_str(&b, 0, 0));
	amount = db_i64(&b, 0, 2);
	posted = db_i64(&b, 0, 3);
	/* paid or voided since the list was read: LATEFEE-PAID-01 */
	if (strcmp(db_str(&b, 0, 1), "issued") || db_i64(&b, 0, 6) || db_i64(&b, 0, 7) ||
	    daily_parse_date(db_str(&b, 0, 4), &due)) {
		/* RULE: LATEFEE-WAIVE-01: a waived bill or account accrues nothing */
		db_res_release(&b);
		return XQ_OK;
	}
	from = due;
	if (db_str(&b, 0, 5) && daily_parse_date(db_str(&b, 0, 5), &from) == XQ_OK && from < due)
		from = due;
	rc = bill_policy(r, utility, db_i64(&b, 0, 8), &pol);
	db_res_release(&b);
	if (rc == XQ_EINVAL || rc == XQ_ENOTFOUND) {
		/* a broken tariff must not stop every other bill's fee and reminders */
		log_warn("daily: bill %lld skipped: its tariff version has no usable late-fee policy",
			 (long long)f->bill_id);
		return XQ_OK;
	}
	if (rc)
		return rc;
	if (from >= r->o->day)
		return XQ_OK;
	if ((rc = db_run(db, &q_fee_portions, &p, f->bill_id)))
		return rc;
	for (size_t i = 0; i < p.nrows && n < MAX_PORTIONS - 1; i++) {
		int64_t x = db_i64(&p, i, 0);
		if (x > amount - settled)
			x = amount - settled;
		if (x <= 0 || daily_parse_date(db_str(&p, i, 1), &pd))
			continue;
		por[n].principal_fen = x;
		por[n].paid_day = pd;
		settled += x;
		n++;
	}
	db_res_release(&p);
	if (amount - settled > 0) {
		por[n].principal_fen = amount - settled;
		por[n].paid_day = 0;
		n++;
	}
	for (int32_t d = from + 1; d <= r->o->day; d++) {
		char key[64], dt[11], note[128], cy[MONEY_STR_MAX];
		int64_t delta;

		if ((rc = latefee_through(&pol, due, por, n, d, &cum)))
			return rc;
		delta = cum - posted;
		if (delta <= 0)
			continue;
		daily_date_text(d, dt);
		money_format_yuan(cum, cy, sizeof(cy));
		xq_snprintf(key, sizeof(key), "latefee:%" PRId64 ":%s", f->bill_id, dt);
		xq_snprintf(note, sizeof(note), "违约金 %s 逾期第 %d 天，累计 %s 元", dt, (int)(d - due), cy);
		/* RULE: LATEFEE-POST-01 */
		if ((rc = db_run(db, &q_fee_post, NULL, f->bill_id, dt, delta, cum, key, note)))
			return rc;
		posted = cum;
		total += delta;
		f->entries++;
	}
	f->fen = total;
	return db_run(db, &q_fee_bill_set, NULL, posted, r->date, f->bill_id);
}

static void progress(struct run *r, const char *phase, int64_t done, int64_t total, int64_t *last,
		     int force)
{
	int64_t now = xq_mono_us();
	char msg[128];

	if (!force && now - *last < 200000)
		return;
	*last = now;
	xq_snprintf(msg, sizeof(msg), "%s %lld/%lld", phase, (long long)done, (long long)total);
	db_run(r->db, &q_job_progress, NULL, done, total, msg, r->job_id);
	if (r->o->progress)
		r->o->progress(r->o->progress_arg, phase, done, total);
}

/*
 * FEE_CHUNK bills per transaction: each bill is still locked and re-read
 * inside it, and a retried chunk recomputes every bill from its locked row,
 * so grouping changes nothing but the number of commits (one fsync each).
 */
#define FEE_CHUNK 100

struct chunk_arg {
	struct run *r;
	const struct db_res *bills;
	size_t from, to;
	int64_t accrued, entries, fen;
};

static int chunk_tx(struct db *db, void *arg)
{
	struct chunk_arg *c = arg;
	int rc;

	c->accrued = c->entries = c->fen = 0;
	for (size_t i = c->from; i < c->to; i++) {
		struct fee_arg f = { c->r, db_i64(c->bills, i, 0), 0, 0 };
		if ((rc = fee_tx(db, &f)))
			return rc;
		if (f.entries) {
			c->accrued++;
			c->entries += f.entries;
			c->fen += f.fen;
		}
	}
	return XQ_OK;
}

static int late_fees(struct run *r)
{
	struct db_res bills;
	int64_t last = 0;
	int rc;

	if ((rc = db_run(r->db, &q_fee_bills, &bills, r->date, r->date)))
		return rc;
	progress(r, "latefee", 0, (int64_t)bills.nrows, &last, 1);
	for (size_t i = 0; i < bills.nrows && rc == XQ_OK; i += FEE_CHUNK) {
		struct chunk_arg c = { r, &bills, i, i + FEE_CHUNK < bills.nrows ? i + FEE_CHUNK : bills.nrows,
				       0, 0, 0 };
		rc = db_tx(r->db, chunk_tx, &c);
		r->s->bills_checked += (int64_t)(c.to - c.from);
		r->s->bills_accrued += c.accrued;
		r->s->latefee_entries += c.entries;
		r->s->latefee_fen += c.fen;
		progress(r, "latefee", (int64_t)c.to, (int64_t)bills.nrows, &last, 0);
	}
	progress(r, "latefee", (int64_t)bills.nrows, (int64_t)bills.nrows, &last, 1);
	db_res_release(&bills);
	return rc;
}

/* ---- dunning ---------------------------------------------------------- */

struct step {
	int64_t community_id;
	int step, days;
	char channel[16], tmpl[12];
};

struct dbill {
	int64_t id, house_id, community_id, owed_fen, late_fee_fen; /* owed includes the fee */
	int overdue;
	char period[8], utility[12], due[11], house[96];
};

/* Inserts the event row that claims (bill, step, channel, recipient); 0 if it already existed. */
static int claim_event(struct run *r, const struct dbill *b, int step, const char *channel,
		       const char *recipient, const char *status, const char *error, int64_t *id)
{
	int rc = db_run(r->db, &q_dun_claim, NULL, b->id, b->house_id, step, channel, recipient,
			status, r->date, error);
	*id = 0;
	if (rc == XQ_ECONFLICT)
		return XQ_OK;
	if (rc == XQ_OK)
		*id = db_insert_id(r->db);
	return rc;
}

static void finish_event(struct run *r, int64_t id, int rc, const char *err)
{
	const char *st = rc == XQ_OK ? "sent" : "failed";
	db_run(r->db, &q_dun_result, NULL, st, st, rc == XQ_OK ? "" : err, id);
	if (rc == XQ_OK)
		r->s->reminders_sent++;
	else
		r->s->reminders_failed++;
}

static const char *utility_zh(const char *u)
{
	return !strcmp(u, "water") ? "水费" : "电费";
}

static int send_wx(struct run *r, const struct dbill *b, const struct step *st)
{
	struct db_res ids;
	char owed[MONEY_STR_MAX + 8], thing[64], page[160], when[24], note[64];
	int64_t total = b->owed_fen, id;
	const char *tpl = !strcmp(st->tmpl, "arrears") ? r->o->cfg->dunning_tpl_arrears
						       : r->o->cfg->dunning_tpl_reminder;
	int rc;

	if ((rc = db_run(r->db, &q_dun_openids, &ids, b->house_id)))
		return rc;
	if (ids.nrows == 0 || !tpl || !*tpl) {
		db_res_release(&ids);
		rc = claim_event(r, b, st->step, "wx_subscribe", "", "skipped",
				 tpl && *tpl ? "房屋未绑定微信用户" : "未配置订阅消息模板", &id);
		if (id)
			r->s->reminders_skipped++;
		return rc;
	}
	money_format_yuan(total, owed, sizeof(owed));
	xq_snprintf(owed + strlen(owed), sizeof(owed) - strlen(owed), "元");
	xq_snprintf(thing, sizeof(thing), "%s %s", b->period, utility_zh(b->utility));
	xq_snprintf(page, sizeof(page), "%s?id=%" PRId64, r->o->cfg->dunning_page, b->id);
	xq_snprintf(when, sizeof(when), "%s 23:59", b->due);
	xq_snprintf(note, sizeof(note), "已逾期%d天，请尽快缴费", b->overdue);
	for (size_t i = 0; i < ids.nrows && rc == XQ_OK; i++) {
		const char *openid = db_str(&ids, i, 0);
		struct wxmsg_result res;
		cJSON *data, *v;
		char err[200];
		int src;

		if ((rc = claim_event(r, b, st->step, "wx_subscribe", openid, "pending", "", &id)) || !id)
			continue;
		data = cJSON_CreateObject();
#define KW(k, val) (v = cJSON_CreateObject(), cJSON_AddStringToObject(v, "value", val), \
		    cJSON_AddItemToObject(data, k, v))
		KW("thing1", thing);
		KW("amount2", owed);
		if (!strcmp(st->tmpl, "arrears")) {
			KW("date3", b->due);
			KW("thing4", note);
		} else {
			KW("time3", when);
		}
#undef KW
		src = wxmsg_subscribe_send(r->db, r->o->cfg, openid, tpl, page, data, &res);
		cJSON_Delete(data);
		xq_snprintf(err, sizeof(err), "%s %ld %s", xq_strerror(src), res.errcode, res.errmsg);
		finish_event(r, id, src, err);
	}
	db_res_release(&ids);
	return rc;
}

static int send_sms(struct run *r, const struct dbill *b, const struct step *st)
{
	struct db_res mob;
	char owed[MONEY_STR_MAX], fee[MONEY_STR_MAX], text[300], ref[64];
	int64_t id;
	int rc;

	if ((rc = db_run(r->db, &q_dun_mobiles, &mob, b->house_id)))
		return rc;
	if (mob.nrows == 0) {
		db_res_release(&mob);
		rc = claim_event(r, b, st->step, "sms", "", "skipped", "住户未登记手机号", &id);
		if (id)
			r->s->reminders_skipped++;
		return rc;
	}
	money_format_yuan(b->owed_fen, owed, sizeof(owed));
	money_format_yuan(b->late_fee_fen, fee, sizeof(fee));
	xq_snprintf(text, sizeof(text), "%s %s %s账单 %s 元（含违约金 %s 元）已逾期 %d 天，请尽快缴纳。",
		    b->house, b->period, utility_zh(b->utility), owed, fee, b->overdue);
	xq_snprintf(ref, sizeof(ref), "dunning:%" PRId64 ":%d", b->id, st->step);
	for (size_t i = 0; i < mob.nrows && rc == XQ_OK; i++) {
		const char *m = db_str(&mob, i, 0);
		int src;
		if ((rc = claim_event(r, b, st->step, "sms", m, "pending", "", &id)) || !id)
			continue;
		src = sms_send(r->db, r->o->cfg, m, text, ref);
		finish_event(r, id, src, xq_strerror(src));
	}
	db_res_release(&mob);
	return rc;
}

static int staff_task(struct run *r, const struct dbill *b, const struct step *st)
{
	char title[100], body[400], owed[MONEY_STR_MAX];
	int64_t id;
	int rc;

	if ((rc = claim_event(r, b, st->step, "staff_task", "", "pending", "", &id)) || !id)
		return rc;
	money_format_yuan(b->owed_fen, owed, sizeof(owed));
	xq_snprintf(title, sizeof(title), "欠费 %d 天：%s %s%s", b->overdue, b->house, b->period,
		    utility_zh(b->utility));
	xq_snprintf(body, sizeof(body),
		    "账单 %" PRId64 "（%s %s）截至 %s 仍欠 %s 元，已逾期 %d 天，已发送催缴提醒。"
		    "请联系住户；如需停电须提前至少 7 天书面通知。",
		    b->id, b->period, utility_zh(b->utility), r->date, owed, b->overdue);
	rc = db_run(r->db, &q_dun_ticket, NULL, b->community_id, b->house_id, title, body);
	{
		const char *res = rc == XQ_OK ? "sent" : "failed";
		db_run(r->db, &q_dun_result, NULL, res, res, rc == XQ_OK ? "" : xq_strerror(rc), id);
	}
	if (rc == XQ_OK)
		r->s->staff_tasks++;
	return rc;
}

/* Whether (step, channel) is among the done rows [from, to) of this bill. */
static int step_done(const struct db_res *done, size_t from, size_t to, int step, const char *channel)
{
	for (size_t i = from; i < to; i++)
		if (db_i64(done, i, 1) == step && !strcmp(db_str(done, i, 2), channel))
			return 1;
	return 0;
}

/*
 * A step (bill, step, channel) is taken once: when it has any event row it
 * is not looked at again, so a resident who binds later does not get old
 * steps, and a steady-state run costs no query per bill.
 */
static int dun_bill(struct run *r, const struct dbill *b, const struct step *steps, size_t ns,
		    const struct db_res *done, size_t dfrom, size_t dto)
{
	int64_t have_own = 0, id;
	int top = 0, rc = XQ_OK;

	for (size_t i = 0; i < ns; i++)
		if (steps[i].community_id == b->community_id)
			have_own = 1;
	/* the community's own policy, else the default one (community 0) */
	for (size_t i = 0; i < ns; i++)
		if (steps[i].community_id == (have_own ? b->community_id : 0) &&
		    steps[i].days <= b->overdue && steps[i].step > top)
			top = steps[i].step;
	if (!top)
		return XQ_OK;
	for (size_t i = 0; i < ns && rc == XQ_OK; i++) {
		const struct step *st = &steps[i];

		if (st->community_id != (have_own ? b->community_id : 0) || st->step > top ||
		    step_done(done, dfrom, dto, st->step, st->channel))
			continue;
		if (st->step < top) {
			/* RULE: DUNNING-CATCHUP-01: a missed earlier step is recorded, not sent late */
			rc = claim_event(r, b, st->step, st->channel, "", "skipped", "已被后续步骤取代", &id);
			if (id)
				r->s->reminders_skipped++;
			continue;
		}
		if (!strcmp(st->channel, "wx_subscribe"))
			rc = send_wx(r, b, st);
		else if (!strcmp(st->channel, "sms"))
			rc = send_sms(r, b, st);
		else
			rc = staff_task(r, b, st);
	}
	return rc;
}

static int dunning(struct run *r)
{
	struct db_res sr, br, done;
	struct step steps[MAX_STEPS];
	size_t ns = 0, d = 0;
	int64_t last = 0;
	int rc;

	if ((rc = db_run(r->db, &q_steps, &sr)))
		return rc;
	for (size_t i = 0; i < sr.nrows && ns < MAX_STEPS; i++, ns++) {
		steps[ns].community_id = db_i64(&sr, i, 0);
		steps[ns].step = (int)db_i64(&sr, i, 1);
		steps[ns].days = (int)db_i64(&sr, i, 2);
		xq_snprintf(steps[ns].channel, sizeof(steps[ns].channel), "%s", db_str(&sr, i, 3));
		xq_snprintf(steps[ns].tmpl, sizeof(steps[ns].tmpl), "%s", db_str(&sr, i, 4));
	}
	db_res_release(&sr);
	if ((rc = db_run(r->db, &q_dun_done, &done, r->date)))
		return rc;
	if ((rc = db_run(r->db, &q_dun_bills, &br, r->date, r->date))) {
		db_res_release(&done);
		return rc;
	}
	progress(r, "dunning", 0, (int64_t)br.nrows, &last, 1);
	for (size_t i = 0; i < br.nrows && rc == XQ_OK; i++) {
		struct dbill b;
		memset(&b, 0, sizeof(b));
		b.id = db_i64(&br, i, 0);
		b.house_id = db_i64(&br, i, 1);
		b.community_id = db_i64(&br, i, 2);
		xq_snprintf(b.period, sizeof(b.period), "%s", db_str(&br, i, 3));
		xq_snprintf(b.utility, sizeof(b.utility), "%s", db_str(&br, i, 4));
		b.owed_fen = db_i64(&br, i, 5);
		b.late_fee_fen = db_i64(&br, i, 6);
		xq_snprintf(b.due, sizeof(b.due), "%s", db_str(&br, i, 7));
		b.overdue = (int)db_i64(&br, i, 8);
		xq_snprintf(b.house, sizeof(b.house), "%s", db_str(&br, i, 9) ? db_str(&br, i, 9) : "");
		{
			size_t dto;
			/* both lists are in bill order: a merge */
			while (d < done.nrows && db_i64(&done, d, 0) < b.id)
				d++;
			for (dto = d; dto < done.nrows && db_i64(&done, dto, 0) == b.id; dto++)
				;
			rc = dun_bill(r, &b, steps, ns, &done, d, dto);
			d = dto;
		}
		progress(r, "dunning", (int64_t)i + 1, (int64_t)br.nrows, &last, 0);
	}
	progress(r, "dunning", (int64_t)br.nrows, (int64_t)br.nrows, &last, 1);
	db_res_release(&br);
	db_res_release(&done);
	return rc;
}

/* ---- the run ---------------------------------------------------------- */

static char *summary_json(const struct daily_summary *s)
{
	cJSON *o = cJSON_CreateObject();
	char *js;

#define N(k, v) cJSON_AddNumberToObject(o, k, (double)(v))
	cJSON_AddStringToObject(o, "date", s->date);
	N("bills_checked", s->bills_checked);
	N("bills_accrued", s->bills_accrued);
	N("latefee_entries", s->latefee_entries);
	N("latefee_fen", s->latefee_fen);
	N("reminders_sent", s->reminders_sent);
	N("reminders_failed", s->reminders_failed);
	N("reminders_skipped", s->reminders_skipped);
	N("staff_tasks", s->staff_tasks);
	N("alerts_raised", s->alerts_raised);
	N("alerts_critical", s->alerts_critical);
	N("notifications", s->notifications);
#undef N
	js = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return js;
}

int daily_run(struct db *db, int64_t job_id, const struct daily_opts *o, struct daily_summary *s)
{
	struct run *r = xq_calloc(1, sizeof(*r));
	struct alerts_summary as;
	char err[255] = "", msg[255], *js;
	int rc;

	memset(s, 0, sizeof(*s));
	r->db = db;
	r->o = o;
	r->s = s;
	r->job_id = job_id;
	s->job_id = job_id;
	daily_date_text(o->day, r->date);
	memcpy(s->date, r->date, sizeof(s->date));
	rc = late_fees(r);
	if (rc == XQ_OK)
		rc = dunning(r);
	if (rc == XQ_OK) {
		if (o->progress)
			o->progress(o->progress_arg, "alerts", 0, 1);
		rc = alerts_detect(db, o->cfg, o->day, &as);
		s->alerts_raised = as.raised;
		s->alerts_critical = as.critical;
		s->notifications = as.notifications;
		if (o->progress)
			o->progress(o->progress_arg, "alerts", 1, 1);
	}
	if (rc)
		xq_snprintf(err, sizeof(err), "%s: %s", xq_strerror(rc), db_errmsg(db));
	xq_snprintf(msg, sizeof(msg), "违约金 %lld 笔 %lld 分，提醒 %lld 条，工单 %lld，告警 %lld",
		    (long long)s->latefee_entries, (long long)s->latefee_fen,
		    (long long)s->reminders_sent, (long long)s->staff_tasks, (long long)s->alerts_raised);
	js = summary_json(s);
	db_run(db, &q_job_finish, NULL, rc ? "failed" : "done", msg, err, js, job_id);
	free(js);
	free(r);
	return rc;
}
