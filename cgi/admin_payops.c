/*
 * admin_payops.c - payments in the console and from the balance: the list of
 * payments and refunds, refunds of WeChat payments, cash and bank payments
 * recorded by staff, bills paid from the account credit (staff and
 * residents), and the stored daily reconciliation. The money work is in
 * lib/payops.c (the code xqctl's jobs share); this file decodes, checks and
 * answers. docs/payments.md has the rules.
 */
#include "api.h"
#include "audit.h"
#include "crud.h"
#include "db.h"
#include "log.h"
#include "payops.h"
#include "resident_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const channels[] = { "wechat", "cash", "bank", "balance", NULL };
static const char *const refund_states[] = { "requested", "rejected", "processing", "success",
					     "closed", "abnormal", NULL };

/* An optional YYYY-MM-DD query value; NULL if absent. Responds 400 when malformed. */
static int opt_date(struct req *rq, const char *name, const char **out)
{
	const char *v = req_query(rq, name);
	int y, m, d, n = 0;

	*out = NULL;
	if (!v || !*v)
		return 0;
	if (strlen(v) != 10 || sscanf(v, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 || m < 1 ||
	    m > 12 || d < 1 || d > 31) {
		char msg[80];
		xq_snprintf(msg, sizeof(msg), "查询参数 %s 必须是 YYYY-MM-DD", name);
		resp_fail_msg(rq, XQ_EINVAL, msg, name);
		return 1;
	}
	*out = v;
	return 0;
}

/* ---- GET /admin/api/v1/payments?house_id&channel&from&to --------------------------- */

#define PAYMENT_FILTER                                                                  \
	" WHERE (? IS NULL OR p.house_id = ?) AND (? IS NULL OR p.channel = ?)"         \
	" AND (? IS NULL OR p.paid_at >= CONVERT_TZ(?, '+08:00', '+00:00'))"            \
	" AND (? IS NULL OR p.paid_at < CONVERT_TZ(? + INTERVAL 1 DAY, '+08:00', '+00:00'))"

DB_QUERY(q_payment_count) = {
	"admin_payment_count", "SELECT COUNT(*) FROM payment p" PAYMENT_FILTER, "LLssssss", "l",
};
DB_QUERY(q_payment_page) = {
	"admin_payment_page",
	"SELECT p.id, p.house_id, p.channel, p.purpose, p.amount_fen, p.external_ref, p.status,"
	" p.paid_at, p.recorded_by, p.note, o.out_trade_no, o.transaction_id, o.state AS order_state,"
	" (SELECT COALESCE(SUM(r.amount_fen), 0) FROM refund r WHERE r.payment_id = p.id"
	"   AND r.state = 'success') AS refunded_fen"
	" FROM payment p LEFT JOIN wx_order o ON o.id = p.wx_order_id" PAYMENT_FILTER
	" ORDER BY p.paid_at DESC, p.id DESC LIMIT ? OFFSET ?",
	"LLssssssll",
	"llsslssslssssl",
};

int admin_payment_list(struct req *rq)
{
	struct page pg;
	struct db_res cnt, rows = { 0 };
	int64_t hid_v;
	const int64_t *hid;
	const char *channel, *from, *to;
	int rc;

	if (api_page(rq, &pg) || api_opt_id(rq, "house_id", &hid_v, &hid) ||
	    api_opt_enum(rq, "channel", channels, &channel) || opt_date(rq, "from", &from) ||
	    opt_date(rq, "to", &to))
		return rq->status;
	rc = db_run(rq->db, &q_payment_count, &cnt, hid, hid, channel, channel, from, from, to, to);
	if (rc == XQ_OK)
		rc = db_run(rq->db, &q_payment_page, &rows, hid, hid, channel, channel, from, from, to,
			    to, pg.size, pg.offset);
	return api_list_reply(rq, rc, &cnt, &rows, &pg);
}

/* ---- GET /admin/api/v1/refunds?payment_id&state ------------------------------------ */

DB_QUERY(q_refund_count) = {
	"admin_refund_count",
	"SELECT COUNT(*) FROM refund r WHERE (? IS NULL OR r.payment_id = ?)"
	" AND (? IS NULL OR r.state = ?)",
	"LLss", "l",
};
DB_QUERY(q_refund_page) = {
	"admin_refund_page",
	"SELECT r.id, r.out_refund_no, r.payment_id, r.house_id, r.out_trade_no, r.amount_fen,"
	" r.reason, r.state, r.wx_refund_id, r.user_received_account, r.error, r.requested_by,"
	" r.success_at, r.created_at FROM refund r WHERE (? IS NULL OR r.payment_id = ?)"
	" AND (? IS NULL OR r.state = ?) ORDER BY r.id DESC LIMIT ? OFFSET ?",
	"LLssll",
	"lsllslssssslss",
};

int admin_refund_list(struct req *rq)
{
	struct page pg;
	struct db_res cnt, rows = { 0 };
	int64_t pid_v;
	const int64_t *pid;
	const char *state;
	int rc;

	if (api_page(rq, &pg) || api_opt_id(rq, "payment_id", &pid_v, &pid) ||
	    api_opt_enum(rq, "state", refund_states, &state))
		return rq->status;
	rc = db_run(rq->db, &q_refund_count, &cnt, pid, pid, state, state);
	if (rc == XQ_OK)
		rc = db_run(rq->db, &q_refund_page, &rows, pid, pid, state, state, pg.size, pg.offset);
	return api_list_reply(rq, rc, &cnt, &rows, &pg);
}

/* ---- POST /admin/api/v1/payments/{id}/refund ---------------------------------------- */

struct refund_in {
	struct jval amount_fen, reason;
};

static const struct json_field refund_fields[] = {
	{ "amount_fen", J_INT64, J_REQUIRED, offsetof(struct refund_in, amount_fen), 1, 100000000000,
	  NULL, "退款金额" },
	{ "reason", J_STRING, J_REQUIRED, offsetof(struct refund_in, reason), 2, 80, NULL,
	  "退款原因" },
};

int admin_payment_refund(struct req *rq)
{
	struct refund_in in;
	struct refund_result res;
	struct audit_actor who = { rq->who.staff_id, rq->who.username, rq->remote_addr, rq->rid };
	int64_t id;
	cJSON *o;
	int rc;

	if (req_param_id(rq, "id", &id))
		return resp_fail_msg(rq, XQ_ENOTFOUND, "收款记录不存在", NULL);
	memset(&in, 0, sizeof(in));
	if (api_decode(rq, refund_fields, XQ_ARRAY_LEN(refund_fields), &in))
		return rq->status;
	rc = payops_refund_create(rq->db, rq->cfg, &who, id, in.amount_fen.i, in.reason.s, &res);
	if (rc == XQ_ENOTFOUND)
		return resp_fail_msg(rq, rc, "收款记录不存在", NULL);
	if (rc == XQ_ECONFLICT)
		return resp_fail_msg(rq, rc, res.message_zh, "amount_fen");
	if (rc)
		return resp_fail(rq, rc);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)res.refund_id);
	cJSON_AddNumberToObject(o, "payment_id", (double)id);
	cJSON_AddStringToObject(o, "out_refund_no", res.out_refund_no);
	cJSON_AddNumberToObject(o, "amount_fen", (double)in.amount_fen.i);
	cJSON_AddStringToObject(o, "state", res.state);
	if (res.message_zh[0])
		cJSON_AddStringToObject(o, "message", res.message_zh);
	/* 201 whatever WeChat said: the refund row exists and says where it stands */
	return resp_json(rq, 201, o);
}

/* ---- POST /admin/api/v1/houses/{id}/payments and /api/v1/houses/{id}/pay-from-balance -- */

struct payment_in {
	struct jval channel, amount_fen, bill_ids, external_ref, note;
};

static const char *const staff_channels[] = { "cash", "bank", "balance", NULL };

static const struct json_field payment_fields[] = {
	{ "channel", J_ENUM, J_REQUIRED, offsetof(struct payment_in, channel), 0, 0, staff_channels,
	  "收款方式" },
	{ "amount_fen", J_INT64, 0, offsetof(struct payment_in, amount_fen), 1, 100000000000, NULL,
	  "金额" },
	{ "bill_ids", J_RAW_ARRAY, 0, offsetof(struct payment_in, bill_ids), 1, PAYOPS_MAX_BILLS,
	  NULL, "账单" },
	{ "external_ref", J_STRING, 0, offsetof(struct payment_in, external_ref), 1, 64, NULL,
	  "流水号" },
	{ "note", J_STRING, 0, offsetof(struct payment_in, note), 0, 200, NULL, "备注" },
};

static const struct json_field balance_fields[] = {
	{ "bill_ids", J_RAW_ARRAY, 0, offsetof(struct payment_in, bill_ids), 1, PAYOPS_MAX_BILLS,
	  NULL, "账单" },
};

/* bill_ids into p; responds 400 and returns non-zero on a bad or repeated id. */
static int read_bills(struct req *rq, const struct jval *v, struct staff_payment *p)
{
	const cJSON *it;

	p->nbills = 0;
	if (!v->set)
		return 0;
	cJSON_ArrayForEach(it, v->raw) {
		if (!cJSON_IsNumber(it) || it->valuedouble < 1 || it->valuedouble > 9e15 ||
		    it->valuedouble != (double)(int64_t)it->valuedouble) {
			resp_fail_msg(rq, XQ_EINVAL, "账单编号不正确", "bill_ids");
			return 1;
		}
		for (size_t i = 0; i < p->nbills; i++)
			if (p->bill[i] == (int64_t)it->valuedouble) {
				resp_fail_msg(rq, XQ_EINVAL, "账单重复", "bill_ids");
				return 1;
			}
		p->bill[p->nbills++] = (int64_t)it->valuedouble;
	}
	return 0;
}

static int payment_answer(struct req *rq, int rc, const struct staff_payment *p,
			  const struct staff_payment_result *res)
{
	cJSON *o;

	if (rc == XQ_ENOTFOUND)
		return resp_fail_msg(rq, rc, "房屋不存在", NULL);
	if (rc == XQ_ECONFLICT)
		return resp_fail_msg(rq, rc, res->message_zh[0] ? res->message_zh : "数据冲突",
				     "bill_ids");
	if (rc)
		return resp_fail(rq, rc);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "payment_id", (double)res->payment_id);
	cJSON_AddNumberToObject(o, "house_id", (double)p->house_id);
	cJSON_AddStringToObject(o, "channel", p->channel);
	cJSON_AddBoolToObject(o, "duplicate", res->duplicate);
	if (!res->duplicate) {
		cJSON_AddNumberToObject(o, "settled_fen", (double)res->settled_fen);
		cJSON_AddNumberToObject(o, "credit_fen", (double)res->credit_fen);
		cJSON_AddNumberToObject(o, "balance_fen", (double)res->balance_fen);
	}
	return resp_json(rq, res->duplicate ? 200 : 201, o);
}

int admin_house_payment(struct req *rq)
{
	struct payment_in in;
	struct staff_payment p;
	struct staff_payment_result res;
	struct audit_actor who = { rq->who.staff_id, rq->who.username, rq->remote_addr, rq->rid };
	const char *idem = req_header(rq, "Idempotency-Key");
	int rc;

	memset(&p, 0, sizeof(p));
	memset(&res, 0, sizeof(res));
	if (req_param_id(rq, "id", &p.house_id))
		return resp_fail_msg(rq, XQ_ENOTFOUND, "房屋不存在", NULL);
	memset(&in, 0, sizeof(in));
	if (api_decode(rq, payment_fields, XQ_ARRAY_LEN(payment_fields), &in) ||
	    read_bills(rq, &in.bill_ids, &p))
		return rq->status;
	p.channel = in.channel.s;
	if (strcmp(p.channel, "balance") && !in.amount_fen.set)
		return resp_fail_msg(rq, XQ_EINVAL, "请填写收款金额", "amount_fen");
	if (!strcmp(p.channel, "balance") && in.amount_fen.set)
		return resp_fail_msg(rq, XQ_EINVAL, "余额缴费不填金额，按账单从余额扣除", "amount_fen");
	if (idem && (!*idem || strlen(idem) > 64))
		return resp_fail_msg(rq, XQ_EINVAL, "Idempotency-Key 长度须为 1-64", NULL);
	/* the bank serial is the natural key; without one, the console's Idempotency-Key */
	p.external_ref = in.external_ref.set ? in.external_ref.s : idem;
	if (!strcmp(p.channel, "bank") && !p.external_ref)
		return resp_fail_msg(rq, XQ_EINVAL, "银行收款须填写银行流水号", "external_ref");
	p.amount_fen = in.amount_fen.i;
	p.note = in.note.set ? in.note.s : "";
	p.staff_id = rq->who.staff_id;
	rc = payops_staff_payment(rq->db, &who, &p, &res);
	return payment_answer(rq, rc, &p, &res);
}

int api_pay_from_balance(struct req *rq)
{
	struct payment_in in;
	struct staff_payment p;
	struct staff_payment_result res;
	int rc;

	memset(&p, 0, sizeof(p));
	memset(&res, 0, sizeof(res));
	/* R_OWN_HOUSE: the router has checked the binding of {id} */
	if (req_param_id(rq, "id", &p.house_id))
		return resp_fail_msg(rq, XQ_ENOTFOUND, "房屋不存在或未绑定", NULL);
	memset(&in, 0, sizeof(in));
	if ((rq->body.len && api_decode(rq, balance_fields, XQ_ARRAY_LEN(balance_fields), &in)) ||
	    read_bills(rq, &in.bill_ids, &p))
		return rq->status;
	p.channel = "balance";
	p.note = "住户余额缴费";
	rc = payops_staff_payment(rq->db, NULL, &p, &res);
	return payment_answer(rq, rc, &p, &res);
}

/* ---- GET /admin/api/v1/reconciliations?date= ---------------------------------------- */

DB_QUERY(q_recon_get) = {
	"admin_recon_get",
	"SELECT id, bill_date, status, wx_trades, wx_refunds, wx_total_fen, wx_refund_fen,"
	" our_trades, our_refunds, our_total_fen, our_refund_fen, diffs, detail, bill_sha1, run_by,"
	" runs, created_at, updated_at FROM reconciliation WHERE bill_date = ?",
	"s",
	"lssllllllllljsslss",
};
DB_QUERY(q_recon_list) = {
	"admin_recon_list",
	"SELECT id, bill_date, status, wx_trades, wx_refunds, wx_total_fen, wx_refund_fen,"
	" our_trades, our_refunds, our_total_fen, our_refund_fen, diffs, updated_at"
	" FROM reconciliation ORDER BY bill_date DESC LIMIT 100",
	"",
	"lssllllllllls",
};

int admin_reconciliation_get(struct req *rq)
{
	struct db_res r;
	const char *date;
	cJSON *o;
	int rc;

	if (opt_date(rq, "date", &date))
		return rq->status;
	if (!date) {
		if ((rc = db_run(rq->db, &q_recon_list, &r)))
			return resp_fail(rq, rc);
		o = cJSON_CreateObject();
		cJSON_AddItemToObject(o, "items", db_rows_json(&r));
		db_res_release(&r);
		return resp_json(rq, 200, o);
	}
	if ((rc = db_run(rq->db, &q_recon_get, &r, date)))
		return resp_fail(rq, rc);
	if (r.nrows != 1) {
		db_res_release(&r);
		return resp_fail_msg(rq, XQ_ENOTFOUND, "该日尚未对账", "date");
	}
	o = db_row_json(&r, 0);
	db_res_release(&r);
	return resp_json(rq, 200, o);
}
