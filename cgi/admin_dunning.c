/*
 * admin_dunning.c - the console's side of the dunning area: waiving a
 * bill's late fee, the alert list with its lifecycle (open -> acked ->
 * closed, who and when, audited) and dashboard counts, and usage forecasts
 * for staff and residents (forecast_reply is shared with
 * GET /api/v1/houses/{id}/forecast). Late fees themselves are posted by
 * `xqctl daily` (lib/dunning.c).
 */
#include "alerts.h"
#include "audit.h"
#include "billing.h"
#include "crud.h"
#include "dunning.h"
#include "forecast.h"
#include "log.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- waiving a late fee (RULE: LATEFEE-WAIVE-01) ------------------------ */

#define WB_COLS "b.id, b.house_id, b.period, b.utility, b.status, b.amount_fen, b.paid_fen," \
	" b.late_fee_fen, b.late_fee_through, b.late_fee_waived_at, b.late_fee_waived_by," \
	" b.late_fee_waived_fen, b.late_fee_waive_reason"
#define WB_SIG "llssslllsslls"

DB_QUERY(q_wb_get) = {
	"waive_bill_get", "SELECT " WB_COLS " FROM bill b WHERE b.id = ?", "l", WB_SIG,
};
DB_QUERY(q_wb_lock) = {
	"waive_bill_lock", "SELECT " WB_COLS " FROM bill b WHERE b.id = ? FOR UPDATE", "l", WB_SIG,
};
DB_QUERY(q_wb_account) = {
	"waive_account", "SELECT id FROM account WHERE house_id = ? FOR UPDATE", "l", "l",
};
DB_QUERY(q_wb_entry) = {
	"waive_entry",
	"INSERT INTO late_fee_entry (bill_id, kind, day, amount_fen, cum_fen, idem_key, staff_id, note)"
	" VALUES (?, 'waive', DATE(CURRENT_TIMESTAMP(3) + INTERVAL 8 HOUR), ?, 0, ?, ?, ?)",
	"llsls", NULL,
};
DB_QUERY(q_wb_reverse) = {
	"waive_reverse",
	"INSERT INTO ledger_entry (account_id, kind, amount_fen, idem_key, bill_id, staff_id, note)"
	" VALUES (?, 'reverse', ?, ?, ?, ?, ?)",
	"llslls", NULL,
};
DB_QUERY(q_wb_balance) = {
	"waive_balance", "UPDATE account SET balance_fen = balance_fen + ? WHERE id = ?", "ll", NULL,
};
/* With the fee gone, a bill whose charges are covered is paid. */
DB_QUERY(q_wb_set) = {
	"waive_set",
	"UPDATE bill SET late_fee_waived_at = CURRENT_TIMESTAMP(3), late_fee_waived_by = ?,"
	" late_fee_waived_fen = late_fee_fen, late_fee_waive_reason = ?, late_fee_fen = 0,"
	" paid_fen = paid_fen - ?,"
	" paid_at = IF(status = 'issued' AND paid_fen >= amount_fen, CURRENT_TIMESTAMP(3), paid_at),"
	" status = IF(status = 'issued' AND paid_fen >= amount_fen, 'paid', status) WHERE id = ?",
	"lsll", NULL,
};

static const struct crud_entity ent_waive = {
	"bill", "账单", &q_wb_get, &q_wb_lock, NULL, "关联记录不存在", "账单已存在", "账单仍被引用",
};

struct waive_in {
	struct jval reason;
};

static const struct json_field waive_fields[] = {
	{ "reason", J_STRING, J_REQUIRED, offsetof(struct waive_in, reason), 2, 200, NULL, "减免原因" },
};

static int waive_apply(struct db *db, struct crud_op *op)
{
	struct waive_in *in = op->in;
	const char *st = crud_before_str(op, "status");
	int64_t fee = crud_before_i64(op, "late_fee_fen");
	int64_t paid_fee = crud_before_i64(op, "paid_fen") - crud_before_i64(op, "amount_fen");
	char key[48], note[255];
	int rc;

	if (st && !strcmp(st, "void"))
		return crud_reject(op, XQ_ECONFLICT, "status", "账单已作废");
	if (crud_before_str(op, "late_fee_waived_at"))
		return crud_reject(op, XQ_ECONFLICT, "late_fee_fen", "该账单的违约金已减免");
	paid_fee = paid_fee < 0 ? 0 : paid_fee > fee ? fee : paid_fee;
	xq_snprintf(note, sizeof(note), "减免违约金：%s", in->reason.s);
	if (fee > 0) {
		xq_snprintf(key, sizeof(key), "waive:%" PRId64, op->id);
		if ((rc = db_run(db, &q_wb_entry, NULL, op->id, -fee, key, op->rq->who.staff_id, note)))
			return rc;
	}
	if (paid_fee > 0) {
		/* the part of the fee already paid goes back to the wallet */
		struct db_res a;
		int64_t account_id;

		if ((rc = db_run(db, &q_wb_account, &a, crud_before_i64(op, "house_id"))))
			return rc;
		account_id = a.nrows ? db_i64(&a, 0, 0) : 0;
		db_res_release(&a);
		if (!account_id)
			return crud_reject(op, XQ_ECONFLICT, "house_id", "房屋没有账户，无法退回已付违约金");
		xq_snprintf(key, sizeof(key), "reverse:%" PRId64 ":waive", op->id);
		if ((rc = db_run(db, &q_wb_reverse, NULL, account_id, paid_fee, key, op->id,
				 op->rq->who.staff_id, note)) ||
		    (rc = db_run(db, &q_wb_balance, NULL, paid_fee, account_id)))
			return rc;
	}
	return db_run(db, &q_wb_set, NULL, op->rq->who.staff_id, in->reason.s, paid_fee, op->id);
}

int admin_bill_waive_late_fee(struct req *rq)
{
	struct waive_in in;
	struct crud_op op = { .rq = rq, .ent = &ent_waive, .in = &in, .apply = waive_apply,
			      .action = "waive_late_fee" };

	return crud_handle(&op, 1, waive_fields, XQ_ARRAY_LEN(waive_fields));
}

/* ---- alerts -------------------------------------------------------------- */

#define AL_COLS "a.id, a.community_id, a.kind, a.level, a.meter_id, a.house_id, a.ev_pile_id," \
	" a.message, a.detail, a.dedup_key, a.status, a.raised_at, a.acked_by, ua.username AS acked_by_name," \
	" a.acked_at, a.closed_by, uc.username AS closed_by_name, a.closed_at, a.close_note"
#define AL_SIG "lssslllsjssslsslsss"
#define AL_FROM " FROM alert a LEFT JOIN staff_user ua ON ua.id = a.acked_by" \
	" LEFT JOIN staff_user uc ON uc.id = a.closed_by"
#define AL_FILTER " WHERE (? IS NULL OR a.level = ?) AND (? IS NULL OR a.status = ?)" \
	" AND (? IS NULL OR a.kind = ?) AND (? IS NULL OR a.community_id = ?)"

DB_QUERY(q_al_get) = { "alert_get", "SELECT " AL_COLS AL_FROM " WHERE a.id = ?", "l", AL_SIG };
DB_QUERY(q_al_lock) = {
	"alert_lock", "SELECT " AL_COLS AL_FROM " WHERE a.id = ? FOR UPDATE", "l", AL_SIG,
};
DB_QUERY(q_al_count) = { "alert_count", "SELECT COUNT(*)" AL_FROM AL_FILTER, "ssssssLL", "l" };
DB_QUERY(q_al_page) = {
	"alert_page",
	"SELECT " AL_COLS AL_FROM AL_FILTER " ORDER BY a.id DESC LIMIT ? OFFSET ?",
	"ssssssLLll", AL_SIG,
};
DB_QUERY(q_al_summary) = {
	"alert_summary",
	"SELECT status, level, COUNT(*) FROM alert WHERE status <> 'closed'"
	" AND (? IS NULL OR community_id = ?) GROUP BY status, level",
	"LL", "ssl",
};
DB_QUERY(q_al_ack) = {
	"alert_ack",
	"UPDATE alert SET status = 'acked', acked_by = ?, acked_at = CURRENT_TIMESTAMP(3) WHERE id = ?",
	"ll", NULL,
};
DB_QUERY(q_al_close) = {
	"alert_close",
	"UPDATE alert SET status = 'closed', closed_by = ?, closed_at = CURRENT_TIMESTAMP(3),"
	" close_note = ? WHERE id = ?",
	"lsl", NULL,
};
DB_QUERY(q_notes) = {
	"staff_notifications",
	"SELECT n.id, n.community_id, n.alert_id, n.message, n.wx_sent, n.created_at, n.read_at"
	" FROM staff_notification n WHERE n.staff_id IS NULL OR n.staff_id = ?"
	" ORDER BY n.id DESC LIMIT 50",
	"l", "lllslss",
};

static const struct crud_entity ent_alert = {
	"alert", "告警", &q_al_get, &q_al_lock, NULL, "关联记录不存在", "告警已存在", "告警仍被引用",
};

static const char *const levels[] = { "info", "warning", "critical", NULL };
static const char *const states[] = { "open", "acked", "closed", NULL };
static const char *const kinds[] = { ALERT_KINDS, NULL };

int admin_alert_list(struct req *rq)
{
	struct page pg;
	struct db_res cnt, rows = { 0 };
	const char *level, *state, *kind;
	int64_t cid_v;
	const int64_t *cid;
	int rc;

	if (api_page(rq, &pg) || api_opt_enum(rq, "level", levels, &level) ||
	    api_opt_enum(rq, "state", states, &state) || api_opt_enum(rq, "kind", kinds, &kind) ||
	    api_opt_id(rq, "community_id", &cid_v, &cid))
		return rq->status;
	rc = db_run(rq->db, &q_al_count, &cnt, level, level, state, state, kind, kind, cid, cid);
	if (rc == XQ_OK)
		rc = db_run(rq->db, &q_al_page, &rows, level, level, state, state, kind, kind, cid, cid,
			    pg.size, pg.offset);
	return api_list_reply(rq, rc, &cnt, &rows, &pg);
}

int admin_alert_summary(struct req *rq)
{
	struct db_res r, nr;
	int64_t cid_v;
	const int64_t *cid;
	cJSON *o, *by[2];
	int64_t total = 0;
	int rc;

	if (api_opt_id(rq, "community_id", &cid_v, &cid))
		return rq->status;
	if ((rc = db_run(rq->db, &q_al_summary, &r, cid, cid)))
		return resp_fail(rq, rc);
	o = cJSON_CreateObject();
	for (int s = 0; s < 2; s++) {
		by[s] = cJSON_AddObjectToObject(o, states[s]);
		for (int l = 0; levels[l]; l++)
			cJSON_AddNumberToObject(by[s], levels[l], 0);
	}
	for (size_t i = 0; i < r.nrows; i++) {
		int s = !strcmp(db_str(&r, i, 0), "acked");
		cJSON_ReplaceItemInObject(by[s], db_str(&r, i, 1),
					  cJSON_CreateNumber((double)db_i64(&r, i, 2)));
		total += db_i64(&r, i, 2);
	}
	db_res_release(&r);
	cJSON_AddNumberToObject(o, "total_not_closed", (double)total);
	if ((rc = db_run(rq->db, &q_notes, &nr, rq->who.staff_id))) {
		cJSON_Delete(o);
		return resp_fail(rq, rc);
	}
	cJSON_AddItemToObject(o, "notifications", db_rows_json(&nr));
	db_res_release(&nr);
	return resp_json(rq, 200, o);
}

struct alert_in {
	struct jval note;
};

static const struct json_field alert_fields[] = {
	{ "note", J_STRING, 0, offsetof(struct alert_in, note), 0, 200, NULL, "备注" },
};

static int ack_apply(struct db *db, struct crud_op *op)
{
	const char *st = crud_before_str(op, "status");

	if (!st || strcmp(st, "open"))
		return crud_reject(op, XQ_ECONFLICT, "status", "告警已确认或已关闭");
	return db_run(db, &q_al_ack, NULL, op->rq->who.staff_id, op->id);
}

static int close_apply(struct db *db, struct crud_op *op)
{
	struct alert_in *in = op->in;
	const char *st = crud_before_str(op, "status");

	if (!st || !strcmp(st, "closed"))
		return crud_reject(op, XQ_ECONFLICT, "status", "告警已关闭");
	return db_run(db, &q_al_close, NULL, op->rq->who.staff_id,
		      in->note.set && in->note.s ? in->note.s : "", op->id);
}

int admin_alert_ack(struct req *rq)
{
	struct alert_in in;
	struct crud_op op = { .rq = rq, .ent = &ent_alert, .in = &in, .apply = ack_apply,
			      .action = "ack" };

	return crud_handle(&op, 1, alert_fields, XQ_ARRAY_LEN(alert_fields));
}

int admin_alert_close(struct req *rq)
{
	struct alert_in in;
	struct crud_op op = { .rq = rq, .ent = &ent_alert, .in = &in, .apply = close_apply,
			      .action = "close" };

	return crud_handle(&op, 1, alert_fields, XQ_ARRAY_LEN(alert_fields));
}

/* ---- forecasts ---------------------------------------------------------- */

DB_QUERY(q_fc_house) = {
	"forecast_house",
	"SELECT u.month, SUM(u.usage_total) FROM meter_usage_monthly u"
	" JOIN meter m ON m.id = u.meter_id AND m.kind = 'household'"
	" WHERE m.house_id = ? AND m.utility = ? AND u.month <= ? GROUP BY u.month ORDER BY u.month",
	"lss", "sl",
};
DB_QUERY(q_fc_community) = {
	"forecast_community",
	"SELECT u.month, SUM(u.usage_total) FROM meter_usage_monthly u"
	" JOIN meter m ON m.id = u.meter_id AND m.kind = 'household'"
	" WHERE m.community_id = ? AND m.utility = ? AND u.month <= ? GROUP BY u.month ORDER BY u.month",
	"lss", "sl",
};

static int month_index(const char *s)
{
	int y, m;
	if (!s || sscanf(s, "%4d-%2d", &y, &m) != 2 || m < 1 || m > 12)
		return -1;
	return y * 12 + (m - 1);
}

static void month_text(int idx, char out[8])
{
	xq_snprintf(out, 8, "%04d-%02d", idx / 12, idx % 12 + 1);
}

static const char *const utilities[] = { "electric", "water", NULL };

int forecast_reply(struct req *rq, int64_t house_id, int64_t community_id)
{
	struct db_res r;
	const char *utility;
	int64_t y[240], fc[FORECAST_HORIZON_MAX], used = 0;
	struct forecast f;
	size_t n = 0;
	int cur, last = -1, y0, m0, d0, rc;
	char cur_s[8], ms[8];
	cJSON *o, *a;

	if (api_opt_enum(rq, "utility", utilities, &utility))
		return rq->status;
	if (!utility)
		utility = "electric";
	billing_civil(daily_today(), &y0, &m0, &d0);
	cur = y0 * 12 + (m0 - 1);
	month_text(cur, cur_s);
	rc = house_id ? db_run(rq->db, &q_fc_house, &r, house_id, utility, cur_s)
		      : db_run(rq->db, &q_fc_community, &r, community_id, utility, cur_s);
	if (rc)
		return resp_fail(rq, rc);
	/* the complete months before this one; a gap restarts the series (a meter without data) */
	for (size_t i = 0; i < r.nrows; i++) {
		int mi = month_index(db_str(&r, i, 0));
		if (mi == cur) {
			used = db_i64(&r, i, 1);
			continue;
		}
		if (mi < 0)
			continue;
		if (last >= 0 && mi != last + 1)
			n = 0;
		if (n < XQ_ARRAY_LEN(y))
			y[n++] = db_i64(&r, i, 1) < 0 ? 0 : db_i64(&r, i, 1);
		last = mi;
	}
	db_res_release(&r);
	o = cJSON_CreateObject();
	if (house_id)
		cJSON_AddNumberToObject(o, "house_id", (double)house_id);
	else
		cJSON_AddNumberToObject(o, "community_id", (double)community_id);
	cJSON_AddStringToObject(o, "utility", utility);
	cJSON_AddStringToObject(o, "unit", !strcmp(utility, "water") ? "L" : "Wh");
	cJSON_AddNumberToObject(o, "history_months", (double)n);
	cJSON_AddStringToObject(o, "month", cur_s);
	cJSON_AddNumberToObject(o, "used_this_month", (double)used);
	a = cJSON_AddArrayToObject(o, "months");
	if (n && cur - last >= 1 && cur - last + 1 <= FORECAST_HORIZON_MAX &&
	    forecast_series(y, n, (size_t)(cur - last + 1), fc, &f) == XQ_OK) {
		cJSON_AddStringToObject(o, "method", forecast_method_name(f.method));
		if (f.method == FORECAST_HW)
			cJSON_AddStringToObject(o, "seasonality",
						f.multiplicative ? "multiplicative" : "additive");
		/* this month and the next */
		for (int k = 0; k < 2; k++) {
			cJSON *e = cJSON_CreateObject();
			month_text(cur + k, ms);
			cJSON_AddStringToObject(e, "month", ms);
			cJSON_AddStringToObject(e, "which", k ? "next_month" : "this_month");
			cJSON_AddNumberToObject(e, "expected", (double)fc[cur - last - 1 + k]);
			cJSON_AddItemToArray(a, e);
		}
	} else {
		cJSON_AddStringToObject(o, "method", "none");
	}
	return resp_json(rq, 200, o);
}

int admin_forecast(struct req *rq)
{
	int64_t hid_v, cid_v;
	const int64_t *hid, *cid;

	if (api_opt_id(rq, "house_id", &hid_v, &hid) || api_opt_id(rq, "community_id", &cid_v, &cid))
		return rq->status;
	if (!hid == !cid)
		return resp_fail_msg(rq, XQ_EINVAL, "请指定 house_id 或 community_id 之一", "house_id");
	return forecast_reply(rq, hid ? *hid : 0, cid ? *cid : 0);
}

int api_house_forecast(struct req *rq)
{
	int64_t house_id;

	/* the router has checked the binding (R_OWN_HOUSE) */
	if (req_param_id(rq, "id", &house_id))
		return resp_fail_msg(rq, XQ_ENOTFOUND, "房屋不存在或未绑定", NULL);
	return forecast_reply(rq, house_id, 0);
}

/* ---- a bill's late fees and reminders ------------------------------------ */

DB_QUERY(q_bd_bill) = {
	"bill_dunning_bill",
	"SELECT id, status, amount_fen, paid_fen, late_fee_fen, late_fee_through, due_date,"
	" late_fee_waived_at, late_fee_waived_fen, late_fee_waive_reason FROM bill WHERE id = ?",
	"l", "lslllsssls",
};
DB_QUERY(q_bd_entries) = {
	"bill_dunning_entries",
	"SELECT id, kind, day, amount_fen, cum_fen, idem_key, staff_id, note, created_at"
	" FROM late_fee_entry WHERE bill_id = ? ORDER BY id",
	"l", "lsslllsss",
};
DB_QUERY(q_bd_events) = {
	"bill_dunning_events",
	"SELECT id, step, channel, recipient, status, scheduled_for, sent_at, error, created_at"
	" FROM dunning_event WHERE bill_id = ? ORDER BY id",
	"l", "llsssssss",
};

int admin_bill_dunning(struct req *rq)
{
	static const struct crud_child kids[] = { { "late_fee_entries", &q_bd_entries },
						  { "dunning_events", &q_bd_events } };

	return crud_row_reply(rq, &q_bd_bill, "账单不存在", kids, sizeof(kids) / sizeof(kids[0]));
}

/* ---- alert thresholds per community ----------------------------------------- */

DB_QUERY(q_ar_list) = {
	"alert_rule_list",
	"SELECT id, community_id, kind, level, params, enabled, updated_at FROM alert_rule"
	" WHERE community_id IS NULL OR ? IS NULL OR community_id = ? ORDER BY kind, community_id",
	"LL", "llssjbs",
};
DB_QUERY(q_ar_find) = {
	"alert_rule_find",
	"SELECT id, community_id, kind, level, params, enabled, updated_at FROM alert_rule"
	" WHERE community_id <=> ? AND kind = ? ORDER BY id LIMIT 1 FOR UPDATE",
	"Ls", "llssjbs",
};
DB_QUERY(q_ar_get) = {
	"alert_rule_get",
	"SELECT id, community_id, kind, level, params, enabled, updated_at FROM alert_rule WHERE id = ?",
	"l", "llssjbs",
};
DB_QUERY(q_ar_insert) = {
	"alert_rule_insert",
	"INSERT INTO alert_rule (community_id, kind, level, params, enabled) VALUES (?, ?, ?, ?, ?)",
	"Lsssi", NULL,
};
DB_QUERY(q_ar_update) = {
	"alert_rule_update",
	"UPDATE alert_rule SET level = ?, params = ?, enabled = ? WHERE id = ?", "ssil", NULL,
};

int admin_alert_rule_list(struct req *rq)
{
	struct db_res r;
	int64_t cid_v;
	const int64_t *cid;
	cJSON *o;
	int rc;

	if (api_opt_id(rq, "community_id", &cid_v, &cid))
		return rq->status;
	if ((rc = db_run(rq->db, &q_ar_list, &r, cid, cid)))
		return resp_fail(rq, rc);
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "items", db_rows_json(&r));
	db_res_release(&r);
	return resp_json(rq, 200, o);
}

struct rule_in {
	struct jval community_id, kind, level, params, enabled;
};

static const char *const rule_kinds[] = { "usage_spike", "zero_use", "usage_while_vacant",
					  "water_leak", "line_loss", NULL };

#define RU(f) offsetof(struct rule_in, f)
static const struct json_field rule_fields[] = {
	{ "community_id", J_INT64, J_NULLABLE, RU(community_id), 1, INT64_MAX, NULL, "小区" },
	{ "kind", J_ENUM, J_REQUIRED, RU(kind), 0, 0, rule_kinds, "告警类型" },
	{ "level", J_ENUM, J_REQUIRED, RU(level), 0, 0, levels, "告警级别" },
	{ "params", J_RAW_OBJECT, J_REQUIRED, RU(params), 0, 16, NULL, "阈值参数" },
	{ "enabled", J_BOOL, J_REQUIRED, RU(enabled), 0, 1, NULL, "是否启用" },
};

struct rule_op {
	struct req *rq;
	struct rule_in *in;
	const int64_t *cid;
	char *params;
	int64_t id;
	cJSON *after;
};

static int rule_tx(struct db *db, void *arg)
{
	struct rule_op *op = arg;
	struct audit_actor who = { op->rq->who.staff_id, op->rq->who.username, op->rq->remote_addr,
				   op->rq->rid };
	struct db_res r;
	cJSON *before = NULL;
	int rc;

	cJSON_Delete(op->after);
	op->after = NULL;
	if ((rc = db_run(db, &q_ar_find, &r, op->cid, op->in->kind.s)))
		return rc;
	if (r.nrows) {
		before = db_row_json(&r, 0);
		op->id = db_i64(&r, 0, 0);
	}
	db_res_release(&r);
	if (before)
		rc = db_run(db, &q_ar_update, NULL, op->in->level.s, op->params, (int)op->in->enabled.i,
			    op->id);
	else if ((rc = db_run(db, &q_ar_insert, NULL, op->cid, op->in->kind.s, op->in->level.s,
			      op->params, (int)op->in->enabled.i)) == XQ_OK)
		op->id = db_insert_id(db);
	if (rc == XQ_OK)
		rc = crud_load_row(db, &q_ar_get, op->id, &op->after);
	if (rc == XQ_OK)
		rc = audit_write(db, &who, before ? "update" : "create", "alert_rule", op->id, before,
				 op->after);
	cJSON_Delete(before);
	return rc;
}

/* PUT /alert-rules: the community's rule for a kind (or the default, community_id null), upserted. */
int admin_alert_rule_put(struct req *rq)
{
	struct rule_in in;
	struct rule_op op = { .rq = rq, .in = &in };
	int64_t cid;
	const cJSON *it;
	int rc;

	if (api_decode(rq, rule_fields, XQ_ARRAY_LEN(rule_fields), &in))
		return rq->status;
	/* thresholds are whole numbers (see docs/dunning.md for the keys of each kind) */
	cJSON_ArrayForEach(it, in.params.raw)
	{
		if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble > 1e12 ||
		    it->valuedouble != (double)(int64_t)it->valuedouble)
			return resp_fail_msg(rq, XQ_EINVAL, "阈值参数必须是非负整数", "params");
	}
	if (in.community_id.set && !in.community_id.null) {
		cid = in.community_id.i;
		op.cid = &cid;
	}
	op.params = cJSON_PrintUnformatted(in.params.raw);
	rc = db_tx(rq->db, rule_tx, &op);
	free(op.params);
	if (rc) {
		cJSON_Delete(op.after);
		if (rc == XQ_EINVAL)
			return resp_fail_msg(rq, rc, "小区不存在", "community_id");
		return resp_fail(rq, rc);
	}
	return resp_json(rq, 200, op.after);
}

/* ---- the dunning policy of a community -------------------------------------- */

DB_QUERY(q_ds_list) = {
	"dunning_steps_list",
	"SELECT step, days_after_due, channel, template, enabled FROM dunning_step"
	" WHERE community_id <=> ? ORDER BY step, channel",
	"L", "llssb",
};
DB_QUERY(q_ds_community) = {
	"dunning_steps_community", "SELECT id FROM community WHERE id = ? FOR UPDATE", "l", "l",
};
DB_QUERY(q_ds_delete) = {
	"dunning_steps_delete", "DELETE FROM dunning_step WHERE community_id = ?", "l", NULL,
};
DB_QUERY(q_ds_insert) = {
	"dunning_steps_insert",
	"INSERT INTO dunning_step (community_id, step, days_after_due, channel, template, enabled)"
	" VALUES (?, ?, ?, ?, ?, ?)",
	"lllssi", NULL,
};

/* The policy in force for a community: its own steps, else the default ones. */
static int policy_json(struct db *db, int64_t community_id, cJSON **out)
{
	struct db_res r;
	int own = 1, rc;

	if ((rc = db_run(db, &q_ds_list, &r, &community_id)))
		return rc;
	if (r.nrows == 0) {
		db_res_release(&r);
		own = 0;
		if ((rc = db_run(db, &q_ds_list, &r, (const int64_t *)NULL)))
			return rc;
	}
	*out = cJSON_CreateObject();
	cJSON_AddNumberToObject(*out, "community_id", (double)community_id);
	cJSON_AddStringToObject(*out, "source", own ? "community" : "default");
	cJSON_AddItemToObject(*out, "steps", db_rows_json(&r));
	db_res_release(&r);
	return XQ_OK;
}

int admin_dunning_policy_get(struct req *rq)
{
	int64_t id;
	cJSON *o;
	int rc;

	if (req_param_id(rq, "id", &id))
		return resp_fail_msg(rq, XQ_ENOTFOUND, "小区不存在", NULL);
	if ((rc = policy_json(rq->db, id, &o)))
		return resp_fail(rq, rc);
	return resp_json(rq, 200, o);
}

struct policy_in {
	struct jval steps;
};

static const struct json_field policy_fields[] = {
	{ "steps", J_RAW_ARRAY, J_REQUIRED, offsetof(struct policy_in, steps), 0, 20, NULL, "催缴步骤" },
};

struct step_in {
	int64_t step, days;
	const char *channel, *tmpl;
	int enabled;
};

struct policy_op {
	struct req *rq;
	int64_t community_id;
	struct step_in s[20];
	size_t n;
	cJSON *after;
};

static int policy_tx(struct db *db, void *arg)
{
	struct policy_op *op = arg;
	struct audit_actor who = { op->rq->who.staff_id, op->rq->who.username, op->rq->remote_addr,
				   op->rq->rid };
	struct db_res r;
	cJSON *before = NULL;
	int rc;

	cJSON_Delete(op->after);
	op->after = NULL;
	if ((rc = db_run(db, &q_ds_community, &r, op->community_id)))
		return rc;
	rc = r.nrows ? XQ_OK : XQ_ENOTFOUND;
	db_res_release(&r);
	if (rc || (rc = policy_json(db, op->community_id, &before)))
		return rc;
	if ((rc = db_run(db, &q_ds_delete, NULL, op->community_id)))
		goto out;
	for (size_t i = 0; i < op->n && rc == XQ_OK; i++)
		rc = db_run(db, &q_ds_insert, NULL, op->community_id, op->s[i].step, op->s[i].days,
			    op->s[i].channel, op->s[i].tmpl, op->s[i].enabled);
	if (rc == XQ_OK)
		rc = policy_json(db, op->community_id, &op->after);
	if (rc == XQ_OK)
		rc = audit_write(db, &who, "update", "dunning_policy", op->community_id, before, op->after);
out:
	cJSON_Delete(before);
	return rc;
}

static int64_t step_int(const cJSON *o, const char *k, int64_t def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!v)
		return def;
	return cJSON_IsNumber(v) && v->valuedouble == (double)(int64_t)v->valuedouble
		       ? (int64_t)v->valuedouble : -1;
}

/*
 * PUT /communities/{id}/dunning-policy {"steps": [{step, days_after_due,
 * channel, template?, enabled?}]}: replaces the community's own policy;
 * an empty list goes back to the default policy.
 */
int admin_dunning_policy_put(struct req *rq)
{
	static const char *const channels[] = { "wx_subscribe", "sms", "staff_task", NULL };
	static const char *const tmpls[] = { "reminder", "arrears", NULL };
	struct policy_in in;
	struct policy_op op = { .rq = rq };
	const cJSON *it;
	int rc;

	if (req_param_id(rq, "id", &op.community_id))
		return resp_fail_msg(rq, XQ_ENOTFOUND, "小区不存在", NULL);
	if (api_decode(rq, policy_fields, XQ_ARRAY_LEN(policy_fields), &in))
		return rq->status;
	cJSON_ArrayForEach(it, in.steps.raw)
	{
		struct step_in *s = &op.s[op.n];
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(it, "channel");
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(it, "template");
		int okc = 0, okt = 0;

		if (!cJSON_IsObject(it) || op.n >= XQ_ARRAY_LEN(op.s))
			return resp_fail_msg(rq, XQ_EINVAL, "催缴步骤格式不正确", "steps");
		s->step = step_int(it, "step", -1);
		s->days = step_int(it, "days_after_due", -1);
		s->enabled = (int)step_int(it, "enabled", 1);
		s->channel = cJSON_IsString(c) ? c->valuestring : "";
		s->tmpl = cJSON_IsString(t) ? t->valuestring : t ? "" : "reminder";
		for (size_t k = 0; channels[k]; k++)
			okc |= !strcmp(s->channel, channels[k]);
		for (size_t k = 0; tmpls[k]; k++)
			okt |= !strcmp(s->tmpl, tmpls[k]);
		if (s->step < 1 || s->step > 20 || s->days < 1 || s->days > 3650 || !okc || !okt ||
		    (s->enabled != 0 && s->enabled != 1))
			return resp_fail_msg(rq, XQ_EINVAL,
					     "每个步骤须有 step（1-20）、days_after_due（1-3650）、"
					     "channel（wx_subscribe/sms/staff_task）",
					     "steps");
		/* a later step never comes earlier: escalation order is day order */
		for (size_t k = 0; k < op.n; k++) {
			const struct step_in *o = &op.s[k];
			int bad = o->step == s->step ? o->days != s->days
						     : o->days == s->days || (o->step < s->step) != (o->days < s->days);
			if (bad)
				return resp_fail_msg(rq, XQ_EINVAL, "步骤编号须随逾期天数递增，同一步骤天数相同",
						     "steps");
		}
		op.n++;
	}
	rc = db_tx(rq->db, policy_tx, &op);
	if (rc == XQ_ECONFLICT)
		return resp_fail_msg(rq, rc, "同一步骤的同一渠道只能出现一次", "steps");
	if (rc == XQ_ENOTFOUND)
		return resp_fail_msg(rq, rc, "小区不存在", NULL);
	if (rc)
		return resp_fail(rq, rc);
	return resp_json(rq, 200, op.after);
}
