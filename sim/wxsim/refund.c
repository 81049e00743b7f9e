/*
 * refund.c - domestic refunds (§11): create with the same-out_refund_no rule,
 * query, and the state machine PROCESSING -> SUCCESS | ABNORMAL | CLOSED
 * with its callback (§11.3). What a PROCESSING refund turns into, and when,
 * is chosen per order (/sim/pay refund_outcome, refund_delay_ms) or forced
 * with /sim/refund/complete; the sender thread (notify.c) finishes due ones.
 */
#include "wxsim.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REFUND_MAX_PER_ORDER 50			/* §11.1 */
#define REFUND_WINDOW_MS (365LL * 24 * 3600 * 1000) /* within 1 year of payment */

#define REFUND_COLS                                                                        \
	"r.id, r.order_id, r.mchid, r.out_refund_no, r.refund_id, r.status, r.outcome,"    \
	" r.reason, r.notify_url, r.refund_fen, r.total_fen, r.created_ms, r.success_ms," \
	" r.complete_at_ms, o.out_trade_no, o.transaction_id, o.payer_total_fen"
#define REFUND_SIG "llssssssslllllssl"

DB_QUERY(q_refund_by_no) = {
	"wxsim_refund_by_no",
	"SELECT " REFUND_COLS " FROM sim_refund r JOIN sim_order o ON o.id = r.order_id"
	" WHERE r.mchid = ? AND r.out_refund_no = ?",
	"ss", REFUND_SIG,
};

DB_QUERY(q_refund_by_no_lock) = {
	"wxsim_refund_by_no_lock",
	"SELECT " REFUND_COLS " FROM sim_refund r JOIN sim_order o ON o.id = r.order_id"
	" WHERE r.mchid = ? AND r.out_refund_no = ? FOR UPDATE",
	"ss", REFUND_SIG,
};

DB_QUERY(q_refund_by_id) = {
	"wxsim_refund_by_id",
	"SELECT " REFUND_COLS " FROM sim_refund r JOIN sim_order o ON o.id = r.order_id"
	" WHERE r.id = ?",
	"l", REFUND_SIG,
};

DB_QUERY(q_refund_by_id_lock) = {
	"wxsim_refund_by_id_lock",
	"SELECT " REFUND_COLS " FROM sim_refund r JOIN sim_order o ON o.id = r.order_id"
	" WHERE r.id = ? FOR UPDATE",
	"l", REFUND_SIG,
};

DB_QUERY(q_refund_sums) = {
	"wxsim_refund_sums",
	"SELECT COUNT(*), COALESCE(SUM(CASE WHEN status <> 'CLOSED' THEN refund_fen ELSE 0 END), 0)"
	" FROM sim_refund WHERE order_id = ?",
	"l", "ll",
};

DB_QUERY(q_refund_add) = {
	"wxsim_refund_add",
	"INSERT INTO sim_refund (mchid, out_refund_no, refund_id, order_id, reason, notify_url,"
	" refund_fen, total_fen, currency, status, outcome, created_ms, complete_at_ms)"
	" VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'CNY', 'PROCESSING', ?, ?, ?)",
	"ssslssllslL", NULL,
};

DB_QUERY(q_refund_set) = {
	"wxsim_refund_set",
	"UPDATE sim_refund SET status = ?, success_ms = ?, complete_at_ms = NULL"
	" WHERE id = ? AND status = 'PROCESSING'",
	"sLl", NULL,
};

DB_QUERY(q_order_refunded) = {
	"wxsim_order_refunded",
	"UPDATE sim_order SET trade_state = 'REFUND' WHERE id = ? AND trade_state = 'SUCCESS'",
	"l", NULL,
};

static int refund_load(int rc, struct db_res *r, struct sim_refund *f)
{
	if (rc)
		return rc;
	if (!r->nrows) {
		db_res_release(r);
		return XQ_ENOTFOUND;
	}
	memset(f, 0, sizeof(*f));
	f->id = db_i64(r, 0, 0);
	f->order_id = db_i64(r, 0, 1);
	xq_snprintf(f->mchid, sizeof(f->mchid), "%.32s", db_str(r, 0, 2));
	xq_snprintf(f->out_refund_no, sizeof(f->out_refund_no), "%.64s", db_str(r, 0, 3));
	xq_snprintf(f->refund_id, sizeof(f->refund_id), "%.32s", db_str(r, 0, 4));
	xq_snprintf(f->status, sizeof(f->status), "%.16s", db_str(r, 0, 5));
	xq_snprintf(f->outcome, sizeof(f->outcome), "%.16s", db_str(r, 0, 6));
	xq_snprintf(f->reason, sizeof(f->reason), "%.255s", db_str(r, 0, 7) ? db_str(r, 0, 7) : "");
	xq_snprintf(f->notify_url, sizeof(f->notify_url), "%.256s",
		    db_str(r, 0, 8) ? db_str(r, 0, 8) : "");
	f->refund_fen = db_i64(r, 0, 9);
	f->total_fen = db_i64(r, 0, 10);
	f->created_ms = db_i64(r, 0, 11);
	f->success_ms = db_i64(r, 0, 12);
	f->complete_at_ms = db_i64(r, 0, 13);
	xq_snprintf(f->out_trade_no, sizeof(f->out_trade_no), "%.32s", db_str(r, 0, 14));
	xq_snprintf(f->transaction_id, sizeof(f->transaction_id), "%.32s",
		    db_str(r, 0, 15) ? db_str(r, 0, 15) : "");
	f->payer_total_fen = db_i64(r, 0, 16);
	db_res_release(r);
	return XQ_OK;
}

int refund_by_no(struct db *db, const char *mchid, const char *out_refund_no, int lock,
		 struct sim_refund *f)
{
	struct db_res r;
	return refund_load(db_run(db, lock ? &q_refund_by_no_lock : &q_refund_by_no, &r, mchid,
				  out_refund_no), &r, f);
}

int refund_by_id(struct db *db, int64_t id, int lock, struct sim_refund *f)
{
	struct db_res r;
	return refund_load(db_run(db, lock ? &q_refund_by_id_lock : &q_refund_by_id, &r, id), &r,
			   f);
}

/* The refund's share of what the payer paid (no coupons here: payer_total = total). */
static int64_t payer_refund(const struct sim_refund *f)
{
	return f->refund_fen;
}

cJSON *refund_json(const struct sim_refund *f)
{
	cJSON *o = cJSON_CreateObject(), *a;
	char when[32];

	cJSON_AddStringToObject(o, "refund_id", f->refund_id);
	cJSON_AddStringToObject(o, "out_refund_no", f->out_refund_no);
	cJSON_AddStringToObject(o, "transaction_id", f->transaction_id);
	cJSON_AddStringToObject(o, "out_trade_no", f->out_trade_no);
	cJSON_AddStringToObject(o, "channel", "ORIGINAL");
	cJSON_AddStringToObject(o, "user_received_account", "支付用户零钱");
	if (!strcmp(f->status, "SUCCESS")) {
		sim_rfc3339(f->success_ms / 1000, when);
		cJSON_AddStringToObject(o, "success_time", when);
	}
	sim_rfc3339(f->created_ms / 1000, when);
	cJSON_AddStringToObject(o, "create_time", when);
	cJSON_AddStringToObject(o, "status", f->status);
	cJSON_AddStringToObject(o, "funds_account", "AVAILABLE");
	a = cJSON_AddObjectToObject(o, "amount");
	cJSON_AddNumberToObject(a, "total", (double)f->total_fen);
	cJSON_AddNumberToObject(a, "refund", (double)f->refund_fen);
	cJSON_AddArrayToObject(a, "from");
	cJSON_AddNumberToObject(a, "payer_total", (double)f->payer_total_fen);
	cJSON_AddNumberToObject(a, "payer_refund", (double)payer_refund(f));
	cJSON_AddNumberToObject(a, "settlement_refund", (double)f->refund_fen);
	cJSON_AddNumberToObject(a, "settlement_total", (double)f->total_fen);
	cJSON_AddNumberToObject(a, "discount_refund", 0);
	cJSON_AddStringToObject(a, "currency", "CNY");
	cJSON_AddNumberToObject(a, "refund_fee", 0);
	cJSON_AddArrayToObject(o, "promotion_detail");
	return o;
}

/* The decrypted resource of a refund callback (§11.3): note refund_status, not status. */
static char *refund_notice(const struct sim_refund *f)
{
	cJSON *o = cJSON_CreateObject(), *a;
	char when[32], *text;

	cJSON_AddStringToObject(o, "mchid", f->mchid);
	cJSON_AddStringToObject(o, "transaction_id", f->transaction_id);
	cJSON_AddStringToObject(o, "out_trade_no", f->out_trade_no);
	cJSON_AddStringToObject(o, "refund_id", f->refund_id);
	cJSON_AddStringToObject(o, "out_refund_no", f->out_refund_no);
	cJSON_AddStringToObject(o, "refund_status", f->status);
	if (!strcmp(f->status, "SUCCESS")) {
		sim_rfc3339(f->success_ms / 1000, when);
		cJSON_AddStringToObject(o, "success_time", when);
	}
	cJSON_AddStringToObject(o, "user_received_account", "支付用户零钱");
	a = cJSON_AddObjectToObject(o, "amount");
	cJSON_AddNumberToObject(a, "total", (double)f->total_fen);
	cJSON_AddNumberToObject(a, "refund", (double)f->refund_fen);
	cJSON_AddNumberToObject(a, "payer_total", (double)f->payer_total_fen);
	cJSON_AddNumberToObject(a, "payer_refund", (double)payer_refund(f));
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

int refund_finish(struct db *db, int64_t refund_id, const char *status, const char *fault,
		  int64_t fault_attempts, int64_t retry_scale)
{
	struct sim_refund f;
	struct notify_opts opts = { fault, fault_attempts, 1, 0, retry_scale };
	const char *event, *summary;
	int64_t now = xq_now_ms();
	char id[37], *text;
	int rc;

	if ((rc = refund_by_id(db, refund_id, 1, &f)))
		return rc;
	if (strcmp(f.status, "PROCESSING") != 0)
		return XQ_ECONFLICT;
	if (!strcmp(status, "SUCCESS"))
		event = "REFUND.SUCCESS", summary = "退款成功";
	else if (!strcmp(status, "ABNORMAL"))
		event = "REFUND.ABNORMAL", summary = "退款异常";
	else if (!strcmp(status, "CLOSED"))
		event = "REFUND.CLOSED", summary = "退款关闭";
	else
		return XQ_EINVAL;
	if ((rc = db_run(db, &q_refund_set, NULL, status, !strcmp(status, "SUCCESS") ? &now : NULL,
			 f.id)))
		return rc;
	xq_snprintf(f.status, sizeof(f.status), "%s", status);
	f.success_ms = now;
	log_info("wxsim: refund %s of order %s is %s", f.out_refund_no, f.out_trade_no, status);
	if (!f.notify_url[0])
		return XQ_OK; /* no refund callback URL anywhere: WeChat sends none */
	text = refund_notice(&f);
	rc = notify_enqueue(db, "refund", event, summary, f.order_id, f.out_trade_no,
			    f.out_refund_no, f.notify_url, text, &opts, id);
	free(text);
	return rc;
}

/* ---- POST /v3/refund/domestic/refunds -------------------------------------------------- */

struct refunding {
	const char *tid, *otn, *orn, *reason, *notify_url;
	int64_t refund, total;
	struct sim_refund out;
	int status;
	const char *code, *message;
};

static void new_refund_id(char out[33])
{
	char date[11], digits[19];
	sim_bj_date(sim_now_s(), date);
	sim_random_str(digits, 18, SIM_DIGITS);
	xq_snprintf(out, 33, "503%.4s%.2s%.2s%s", date, date + 5, date + 8, digits);
}

static int fail_with(struct refunding *x, int status, const char *code, const char *message)
{
	x->status = status;
	x->code = code;
	x->message = message;
	return XQ_OK;
}

static int refund_tx(struct db *db, void *arg)
{
	struct refunding *x = arg;
	struct sim_order o;
	struct db_res r;
	char refund_id[33];
	int64_t now = xq_now_ms(), count, sum, delay, complete_at;
	int rc;

	x->status = 200;
	/* the same out_refund_no never refunds twice: it is the same refund (§11.1) */
	rc = refund_by_no(db, wxsim.cfg.wx_mchid, x->orn, 1, &x->out);
	if (rc != XQ_ENOTFOUND)
		return rc;
	rc = x->tid ? order_by_tid(db, wxsim.cfg.wx_mchid, x->tid, &o)
		    : order_by_otn(db, wxsim.cfg.wx_mchid, x->otn, 1, &o);
	if (rc == XQ_ENOTFOUND)
		return fail_with(x, 404, "RESOURCE_NOT_EXISTS", "订单不存在");
	if (rc)
		return rc;
	if (x->tid && x->otn && strcmp(x->otn, o.out_trade_no) != 0)
		return fail_with(x, 400, "INVALID_REQUEST", "transaction_id与out_trade_no不是同一笔订单");
	/* lock the order row: refunds of one order are decided one at a time */
	if ((rc = order_by_id(db, o.id, 1, &o)))
		return rc;
	if (strcmp(o.trade_state, "SUCCESS") != 0 && strcmp(o.trade_state, "REFUND") != 0)
		return fail_with(x, 400, "INVALID_REQUEST", "订单未支付，不能退款");
	if (x->total != o.total_fen)
		return fail_with(x, 400, "INVALID_REQUEST", "订单金额total与原订单金额不一致");
	if (o.success_ms + REFUND_WINDOW_MS < now)
		return fail_with(x, 400, "INVALID_REQUEST", "订单已超过退款期限（一年）");
	if ((rc = db_run(db, &q_refund_sums, &r, o.id)))
		return rc;
	count = db_i64(&r, 0, 0);
	sum = db_i64(&r, 0, 1);
	db_res_release(&r);
	if (count >= REFUND_MAX_PER_ORDER)
		return fail_with(x, 400, "INVALID_REQUEST", "一笔订单最多退款50次");
	if (x->refund > o.total_fen - sum)
		return fail_with(x, 400, "INVALID_REQUEST", "申请退款金额超过订单可退金额");
	delay = o.refund_delay_ms >= 0 ? o.refund_delay_ms : wxsim.cfg.wxsim_refund_delay_ms;
	complete_at = now + delay;
	new_refund_id(refund_id);
	rc = db_run(db, &q_refund_add, NULL, wxsim.cfg.wx_mchid, x->orn, refund_id, o.id, x->reason,
		    x->notify_url, x->refund, x->total, o.refund_outcome, now,
		    strcmp(o.refund_outcome, "HOLD") ? &complete_at : NULL);
	if (rc == XQ_ECONFLICT)
		return XQ_EAGAIN; /* a concurrent request with the same out_refund_no */
	if (rc || (rc = db_run(db, &q_order_refunded, NULL, o.id)))
		return rc;
	return refund_by_no(db, wxsim.cfg.wx_mchid, x->orn, 0, &x->out);
}

int refund_create(struct req *rq)
{
	struct refunding x = { 0 };
	const cJSON *amount, *v;
	const char *cur, *issue;
	cJSON *b;
	int st;

	if ((st = pay_auth(rq, &b)))
		return st;
	if (!b)
		return pay_fail(rq, 400, "PARAM_ERROR", "请求体不能为空", NULL, 0);
	x.tid = sim_jstr(b, "transaction_id");
	x.otn = sim_jstr(b, "out_trade_no");
	if (!x.tid && !x.otn)
		return pay_param_error(rq, "/out_trade_no", "transaction_id和out_trade_no必须二选一",
				       "body");
	if ((x.tid && (strlen(x.tid) == 0 || strlen(x.tid) > 32)) ||
	    (x.otn && !sim_valid_no(x.otn, 1, 32, 0)))
		return pay_param_error(rq, x.tid ? "/transaction_id" : "/out_trade_no",
				       "订单号格式不正确", "body");
	x.orn = sim_jstr(b, "out_refund_no");
	if (!x.orn || !sim_valid_no(x.orn, 1, 64, 1))
		return pay_param_error(rq, "/out_refund_no",
				       "out_refund_no为必填，1-64位数字、大小写字母或_-|*@", "body");
	v = cJSON_GetObjectItemCaseSensitive(b, "reason");
	if (v) {
		if (!cJSON_IsString(v))
			return pay_param_error(rq, "/reason", "reason须为字符串", "body");
		if ((issue = sim_text_issue(v->valuestring, 80)))
			return pay_param_error(rq, "/reason", issue, "body");
		x.reason = v->valuestring;
	}
	v = cJSON_GetObjectItemCaseSensitive(b, "notify_url");
	if (v && (!cJSON_IsString(v) || !sim_valid_notify_url(v->valuestring, 256)))
		return pay_param_error(rq, "/notify_url",
				       "notify_url须为https地址（沙箱允许http://127.0.0.1），不能携带参数",
				       "body");
	/* no notify_url: the one set on the merchant platform, which here is wx.notify_url */
	x.notify_url = v ? v->valuestring
			 : (*wxsim.cfg.wx_notify_url ? wxsim.cfg.wx_notify_url : NULL);
	v = cJSON_GetObjectItemCaseSensitive(b, "funds_account");
	if (v && (!cJSON_IsString(v) || strcmp(v->valuestring, "AVAILABLE") != 0))
		return pay_param_error(rq, "/funds_account", "funds_account只能为AVAILABLE", "body");
	amount = sim_jobj(b, "amount");
	if (!amount)
		return pay_param_error(rq, "/amount", "amount为必填对象", "body");
	if (!sim_jint(amount, "refund", &x.refund) || x.refund <= 0)
		return pay_param_error(rq, "/amount/refund", "refund须为大于0的整数（单位：分）", "body");
	if (!sim_jint(amount, "total", &x.total) || x.total <= 0)
		return pay_param_error(rq, "/amount/total", "total须为大于0的整数（单位：分）", "body");
	cur = sim_jstr(amount, "currency");
	if (!cur || strcmp(cur, "CNY") != 0)
		return pay_param_error(rq, "/amount/currency", "currency为必填，只能为CNY", "body");
	v = cJSON_GetObjectItemCaseSensitive(amount, "from");
	if (v && !cJSON_IsArray(v))
		return pay_param_error(rq, "/amount/from", "from须为数组", "body");
	v = cJSON_GetObjectItemCaseSensitive(b, "goods_detail");
	if (v && !cJSON_IsArray(v))
		return pay_param_error(rq, "/goods_detail", "goods_detail须为数组", "body");
	if (db_tx(rq->db, refund_tx, &x))
		return pay_fail(rq, 500, "SYSTEM_ERROR", "系统错误", NULL, 0);
	if (x.status != 200)
		return pay_fail(rq, x.status, x.code, x.message, NULL, 0);
	notify_kick(); /* the sender thread also finishes due refunds */
	log_info("wxsim: refund %s of %s for %lld fen: %s", x.out.out_refund_no, x.out.out_trade_no,
		 (long long)x.out.refund_fen, x.out.status);
	return pay_ok(rq, 200, refund_json(&x.out));
}

int refund_query(struct req *rq)
{
	struct sim_refund f;
	int st, rc;

	if ((st = pay_auth(rq, NULL)))
		return st;
	rc = refund_by_no(rq->db, wxsim.cfg.wx_mchid, req_param(rq, "out_refund_no"), 0, &f);
	if (rc == XQ_ENOTFOUND)
		return pay_fail(rq, 404, "RESOURCE_NOT_EXISTS", "退款单不存在", NULL, 0);
	if (rc)
		return pay_fail(rq, 500, "SYSTEM_ERROR", "系统错误", NULL, 0);
	return pay_ok(rq, 200, refund_json(&f));
}
