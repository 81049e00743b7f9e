/*
 * control.c - the /sim/... hooks: the simulator plays the resident and the
 * WeChat back office for tests and the demo. Mint login and phone codes and
 * subscription acceptances, pay or cancel an order (optionally checking the
 * wx.requestPayment paySign like the WeChat client does), finish refunds,
 * replay or hurry callbacks, arm response faults, move an order back in time
 * (for trade bills), and look at what was sent. These paths are not
 * WeChat's: they are outside /v3/, /sns/, /cgi-bin/ and /wxa/ on purpose.
 * Bodies are JSON decoded strictly (lib/json: unknown fields are refused);
 * errors are {"code","message"} with an HTTP status. sim/README.md lists them.
 */
#include "wxsim.h"
#include "json.h"
#include "log.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOGIN_CODE_TTL_MS 300000 /* §14.1: 5 minutes */
#define PHONE_CODE_TTL_MS 300000 /* §17 */
#define DAY_MS (24 * 3600 * 1000LL)

DB_QUERY(q_login_code_add) = {
	"wxsim_login_code_add",
	"INSERT INTO sim_login_code (code, appid, openid, created_ms, expires_ms)"
	" VALUES (?, ?, ?, ?, ?)",
	"sssll", NULL,
};

DB_QUERY(q_phone_code_add) = {
	"wxsim_phone_code_add",
	"INSERT INTO sim_phone_code (code, appid, phone, country_code, openid, created_ms,"
	" expires_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
	"sssssll", NULL,
};

DB_QUERY(q_template_one) = {
	"wxsim_template_one",
	"SELECT template_id FROM sim_template WHERE template_id = ?",
	"s", "s",
};

DB_QUERY(q_templates) = {
	"wxsim_templates",
	"SELECT template_id, title, keywords FROM sim_template ORDER BY template_id",
	"", "sss",
};

DB_QUERY(q_template_put) = {
	"wxsim_template_put",
	"INSERT INTO sim_template (template_id, title, keywords) VALUES (?, ?, ?)"
	" ON DUPLICATE KEY UPDATE title = VALUES(title), keywords = VALUES(keywords)",
	"sss", NULL,
};

DB_QUERY(q_quota_add) = {
	"wxsim_quota_add",
	"INSERT INTO sim_subscription (appid, openid, template_id, remaining) VALUES (?, ?, ?, ?)"
	" ON DUPLICATE KEY UPDATE remaining = remaining + VALUES(remaining)",
	"sssl", NULL,
};

DB_QUERY(q_quota_get) = {
	"wxsim_quota_get",
	"SELECT remaining FROM sim_subscription WHERE appid = ? AND openid = ? AND template_id = ?",
	"sss", "l",
};

DB_QUERY(q_messages) = {
	"wxsim_messages",
	"SELECT msgid, openid, template_id, page, miniprogram_state, lang, data, created_ms"
	" FROM sim_message WHERE (? IS NULL OR openid = ?) AND (? IS NULL OR template_id = ?)"
	" ORDER BY id DESC LIMIT 200",
	"ssss", "lsssssjl",
};

DB_QUERY(q_order_paid) = {
	"wxsim_order_paid",
	"UPDATE sim_order SET trade_state = 'SUCCESS', transaction_id = ?, bank_type = 'OTHERS',"
	" payer_total_fen = amount_total_fen, success_ms = ?, refund_outcome = ?,"
	" refund_delay_ms = ? WHERE id = ? AND trade_state = 'NOTPAY'",
	"slsLl", NULL,
};

DB_QUERY(q_notification_latest) = {
	"wxsim_notification_latest",
	"SELECT id FROM sim_notification WHERE out_trade_no = ? AND event_type = ?"
	" ORDER BY created_ms DESC LIMIT 1",
	"ss", "s",
};

DB_QUERY(q_deliver_now) = {
	"wxsim_deliver_now",
	"UPDATE sim_delivery d JOIN sim_notification n ON n.id = d.notification_id"
	" SET d.next_ms = ? WHERE n.out_trade_no = ? AND d.state = 'PENDING'",
	"ls", NULL,
};

DB_QUERY(q_notifications) = {
	"wxsim_notifications",
	"SELECT id, kind, event_type, out_trade_no, out_refund_no, notify_url, fault, body,"
	" plaintext, created_ms FROM sim_notification WHERE (? IS NULL OR out_trade_no = ?)"
	" ORDER BY created_ms, id LIMIT 200",
	"ss", "ssssssssjl",
};

DB_QUERY(q_deliveries) = {
	"wxsim_deliveries",
	"SELECT id, reason, state, attempts, next_ms, last_status FROM sim_delivery"
	" WHERE notification_id = ? ORDER BY id",
	"s", "lsslll",
};

DB_QUERY(q_attempts) = {
	"wxsim_attempts",
	"SELECT attempt, at_ms, http_status, error, fault, duration_ms FROM sim_attempt"
	" WHERE delivery_id = ? ORDER BY attempt, id",
	"l", "lllssl",
};

DB_QUERY(q_fault_add) = {
	"wxsim_fault_add",
	"INSERT INTO sim_fault (fault, path_prefix, remaining, delay_ms, created_ms)"
	" VALUES (?, ?, ?, ?, ?)",
	"sslll", NULL,
};

DB_QUERY(q_fault_list) = {
	"wxsim_fault_list",
	"SELECT id, fault, path_prefix, remaining, delay_ms FROM sim_fault WHERE remaining > 0"
	" ORDER BY id",
	"", "lssll",
};

DB_QUERY(q_fault_clear) = {
	"wxsim_fault_clear",
	"DELETE FROM sim_fault",
	"", NULL,
};

DB_QUERY(q_fault_next) = {
	"wxsim_fault_next",
	"SELECT id, fault, delay_ms FROM sim_fault WHERE remaining > 0"
	" AND LEFT(?, CHAR_LENGTH(path_prefix)) = path_prefix ORDER BY id LIMIT 1",
	"s", "lsl",
};

DB_QUERY(q_fault_dec) = {
	"wxsim_fault_dec",
	"UPDATE sim_fault SET remaining = remaining - 1 WHERE id = ? AND remaining > 0",
	"l", NULL,
};

DB_QUERY(q_backdate_order) = {
	"wxsim_backdate_order",
	"UPDATE sim_order SET created_ms = created_ms - ?, success_ms = success_ms - ?,"
	" prepay_expires_ms = prepay_expires_ms - ?, closed_ms = closed_ms - ? WHERE id = ?",
	"lllll", NULL,
};

DB_QUERY(q_backdate_refunds) = {
	"wxsim_backdate_refunds",
	"UPDATE sim_refund SET created_ms = created_ms - ?, success_ms = success_ms - ?"
	" WHERE order_id = ?",
	"lll", NULL,
};

/* Decodes the body by the field table; on failure it has answered 400 and returns non-zero. */
static int decode(struct req *rq, const struct json_field *f, size_t n, void *out)
{
	char msg[256], field[64];
	cJSON *root = NULL;
	int rc = json_decode(rq->body.data, rq->body.len, f, n, out, &root, msg, sizeof(msg), field,
			     sizeof(field));

	if (rc) {
		resp_fail_msg(rq, rc, msg, field);
		return rc;
	}
	req_json_keep(rq, root);
	return XQ_OK;
}

#define FIELD(s, name, type, flags, min, max, enums)                                        \
	{ #name, type, flags, offsetof(struct s, name), min, max, enums, #name }

static const char *const pay_faults[] = { "probe", "stale_timestamp", "wrong_serial", "tampered",
					  "unsigned", NULL };

int sim_healthz(struct req *rq)
{
	cJSON *o = cJSON_CreateObject();

	if (db_ping(rq->db)) {
		cJSON_AddStringToObject(o, "status", "unhealthy");
		cJSON_AddStringToObject(o, "db", "down");
		return resp_json(rq, 503, o);
	}
	cJSON_AddStringToObject(o, "status", "ok");
	cJSON_AddStringToObject(o, "db", "ok");
	cJSON_AddStringToObject(o, "key_mode", wxsim.cert_mode ? "certificate" : "pubkey");
	cJSON_AddStringToObject(o, "appid", wxsim.cfg.wx_appid);
	cJSON_AddStringToObject(o, "mchid", wxsim.cfg.wx_mchid);
	cJSON_AddStringToObject(o, "platform_key_id", wxsim.cfg.wx_platform_key_id);
	return resp_json(rq, 200, o);
}

/* ---- the resident's phone: codes and acceptances ---------------------------------------- */

struct login_in {
	struct jval openid, name;
};

int sim_login_code(struct req *rq)
{
	static const struct json_field f[] = {
		FIELD(login_in, openid, J_STRING, 0, 1, 128, NULL),
		FIELD(login_in, name, J_STRING, 0, 1, 64, NULL),
	};
	struct login_in in;
	char code[33], openid[129], name[17];
	int64_t now = xq_now_ms();
	cJSON *o;

	if (decode(rq, f, XQ_ARRAY_LEN(f), &in))
		return rq->status;
	if (in.openid.set) {
		xq_snprintf(openid, sizeof(openid), "%s", in.openid.s);
	} else {
		if (!in.name.set)
			sim_random_str(name, 16, SIM_ALNUM);
		mp_openid_for_name(wxsim.cfg.wx_appid, in.name.set ? in.name.s : name, openid);
	}
	sim_random_str(code, 32, SIM_ALNUM);
	if (db_run(rq->db, &q_login_code_add, NULL, code, wxsim.cfg.wx_appid, openid, now,
		   now + LOGIN_CODE_TTL_MS) ||
	    mp_user_register(rq->db, wxsim.cfg.wx_appid, openid))
		return resp_fail(rq, XQ_EDB);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "code", code);
	cJSON_AddStringToObject(o, "openid", openid);
	cJSON_AddNumberToObject(o, "expires_in", LOGIN_CODE_TTL_MS / 1000);
	return resp_json(rq, 200, o);
}

struct phone_in {
	struct jval phone, country_code, openid;
};

int sim_phone_code(struct req *rq)
{
	static const struct json_field f[] = {
		FIELD(phone_in, phone, J_STRING, J_REQUIRED, 5, 20, NULL),
		FIELD(phone_in, country_code, J_STRING, 0, 1, 4, NULL),
		FIELD(phone_in, openid, J_STRING, 0, 1, 128, NULL),
	};
	struct phone_in in;
	char code[33];
	int64_t now = xq_now_ms();
	cJSON *o;

	if (decode(rq, f, XQ_ARRAY_LEN(f), &in))
		return rq->status;
	if (strspn(in.phone.s, "0123456789") != strlen(in.phone.s) ||
	    (in.country_code.set && strspn(in.country_code.s, "0123456789") != strlen(in.country_code.s)))
		return resp_fail_msg(rq, XQ_EINVAL, "手机号和国家码只能包含数字", "phone");
	sim_random_str(code, 32, SIM_ALNUM);
	if (db_run(rq->db, &q_phone_code_add, NULL, code, wxsim.cfg.wx_appid, in.phone.s,
		   in.country_code.set ? in.country_code.s : "86", in.openid.set ? in.openid.s : NULL,
		   now, now + PHONE_CODE_TTL_MS))
		return resp_fail(rq, XQ_EDB);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "code", code);
	cJSON_AddNumberToObject(o, "expires_in", PHONE_CODE_TTL_MS / 1000);
	return resp_json(rq, 200, o);
}

struct accept_in {
	struct jval openid, template_id, count;
};

int sim_subscribe_accept(struct req *rq)
{
	static const struct json_field f[] = {
		FIELD(accept_in, openid, J_STRING, J_REQUIRED, 1, 128, NULL),
		FIELD(accept_in, template_id, J_STRING, J_REQUIRED, 1, 64, NULL),
		FIELD(accept_in, count, J_INT64, 0, 1, 1000, NULL),
	};
	struct accept_in in;
	struct db_res r;
	cJSON *o;

	if (decode(rq, f, XQ_ARRAY_LEN(f), &in))
		return rq->status;
	if (db_run(rq->db, &q_template_one, &r, in.template_id.s))
		return resp_fail(rq, XQ_EDB);
	if (!r.nrows) {
		db_res_release(&r);
		return sim_fail(rq, 404, "NOT_FOUND", "模板不存在");
	}
	db_res_release(&r);
	if (db_run(rq->db, &q_quota_add, NULL, wxsim.cfg.wx_appid, in.openid.s, in.template_id.s,
		   in.count.set ? in.count.i : (int64_t)1) ||
	    db_run(rq->db, &q_quota_get, &r, wxsim.cfg.wx_appid, in.openid.s, in.template_id.s))
		return resp_fail(rq, XQ_EDB);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "remaining", (double)(r.nrows ? db_i64(&r, 0, 0) : 0));
	db_res_release(&r);
	return resp_json(rq, 200, o);
}

int sim_templates(struct req *rq)
{
	struct db_res r;
	cJSON *o, *a;

	if (db_run(rq->db, &q_templates, &r))
		return resp_fail(rq, XQ_EDB);
	o = cJSON_CreateObject();
	a = cJSON_AddArrayToObject(o, "templates");
	for (size_t i = 0; i < r.nrows; i++) {
		cJSON *t = cJSON_CreateObject();
		cJSON_AddStringToObject(t, "template_id", db_str(&r, i, 0));
		cJSON_AddStringToObject(t, "title", db_str(&r, i, 1));
		cJSON_AddStringToObject(t, "keywords", db_str(&r, i, 2));
		cJSON_AddItemToArray(a, t);
	}
	db_res_release(&r);
	return resp_json(rq, 200, o);
}

struct template_in {
	struct jval template_id, title, keywords;
};

int sim_template_add(struct req *rq)
{
	static const struct json_field f[] = {
		FIELD(template_in, template_id, J_STRING, J_REQUIRED, 1, 64, NULL),
		FIELD(template_in, title, J_STRING, J_REQUIRED, 1, 32, NULL),
		FIELD(template_in, keywords, J_STRING, J_REQUIRED, 1, 255, NULL),
	};
	struct template_in in;

	if (decode(rq, f, XQ_ARRAY_LEN(f), &in))
		return rq->status;
	if (strspn(in.keywords.s, "abcdefghijklmnopqrstuvwxyz_0123456789,") != strlen(in.keywords.s))
		return resp_fail_msg(rq, XQ_EINVAL, "keywords 形如 thing1,amount2,time3", "keywords");
	if (db_run(rq->db, &q_template_put, NULL, in.template_id.s, in.title.s, in.keywords.s))
		return resp_fail(rq, XQ_EDB);
	return sim_templates(rq);
}

int sim_messages(struct req *rq)
{
	const char *openid = req_query(rq, "openid"), *tid = req_query(rq, "template_id");
	struct db_res r;
	cJSON *o, *a;
	char when[32];

	if (db_run(rq->db, &q_messages, &r, openid, openid, tid, tid))
		return resp_fail(rq, XQ_EDB);
	o = cJSON_CreateObject();
	a = cJSON_AddArrayToObject(o, "messages");
	for (size_t i = 0; i < r.nrows; i++) {
		cJSON *m = cJSON_CreateObject();
		cJSON_AddNumberToObject(m, "msgid", (double)db_i64(&r, i, 0));
		cJSON_AddStringToObject(m, "touser", db_str(&r, i, 1));
		cJSON_AddStringToObject(m, "template_id", db_str(&r, i, 2));
		if (db_str(&r, i, 3))
			cJSON_AddStringToObject(m, "page", db_str(&r, i, 3));
		cJSON_AddStringToObject(m, "miniprogram_state", db_str(&r, i, 4));
		cJSON_AddStringToObject(m, "lang", db_str(&r, i, 5));
		cJSON_AddItemToObject(m, "data", cJSON_Parse(db_str(&r, i, 6)));
		sim_rfc3339(db_i64(&r, i, 7) / 1000, when);
		cJSON_AddStringToObject(m, "sent_time", when);
		cJSON_AddItemToArray(a, m);
	}
	db_res_release(&r);
	return resp_json(rq, 200, o);
}

/* ---- the resident pays -------------------------------------------------------------------- */

struct pay_in {
	struct jval out_trade_no, prepay_id, appId, timeStamp, nonceStr, package, signType, paySign;
	struct jval outcome, fault, fault_attempts, repeat, delay_ms, retry_scale;
	struct jval refund_outcome, refund_delay_ms;
};

struct paying {
	struct pay_in *in;
	const char *prepay_id;
	struct sim_order o;
	char notification_id[37];
	int status;
	const char *code, *message;
};

static int pay_refuse(struct paying *p, int status, const char *code, const char *message)
{
	p->status = status;
	p->code = code;
	p->message = message;
	return XQ_OK;
}

static void new_transaction_id(char out[33])
{
	char date[11], digits[16];
	sim_bj_date(sim_now_s(), date);
	sim_random_str(digits, 15, SIM_DIGITS);
	xq_snprintf(out, 33, "42000%.4s%.2s%.2s%s", date, date + 5, date + 8, digits);
}

static int pay_tx(struct db *db, void *arg)
{
	struct paying *p = arg;
	struct pay_in *in = p->in;
	struct notify_opts opts = { 0 };
	int64_t now = xq_now_ms();
	char tid[33], *text;
	const char *outcome = in->outcome.set ? in->outcome.s : "SUCCESS";
	int rc;

	p->status = 200;
	rc = p->prepay_id ? order_by_prepay(db, p->prepay_id, &p->o)
			  : order_by_otn(db, wxsim.cfg.wx_mchid, in->out_trade_no.s, 1, &p->o);
	if (rc == XQ_ENOTFOUND)
		return pay_refuse(p, 404, "ORDER_NOT_EXIST", "订单不存在");
	if (rc)
		return rc;
	if (in->out_trade_no.set && strcmp(in->out_trade_no.s, p->o.out_trade_no) != 0)
		return pay_refuse(p, 400, "INVALID_REQUEST", "prepay_id与out_trade_no不是同一笔订单");
	if (!strcmp(p->o.trade_state, "NOTPAY") && p->o.created_ms + 7 * DAY_MS <= now)
		return pay_refuse(p, 409, "ORDER_CLOSED", "订单已关闭（超过7天未支付）");
	if (!strcmp(p->o.trade_state, "CLOSED"))
		return pay_refuse(p, 409, "ORDER_CLOSED", "订单已关闭");
	if (strcmp(p->o.trade_state, "NOTPAY") != 0)
		return pay_refuse(p, 409, "ORDERPAID", "该订单已支付");
	if (p->prepay_id && p->o.prepay_expires_ms <= now)
		return pay_refuse(p, 409, "PREPAY_EXPIRED", "prepay_id已失效，请重新下单");
	if (p->o.time_expire_s && p->o.time_expire_s * 1000 <= now)
		return pay_refuse(p, 409, "ORDER_EXPIRED", "订单已过支付截止时间");
	if (strcmp(outcome, "SUCCESS") != 0)
		return XQ_OK; /* the resident cancelled or the payment failed: still NOTPAY */
	new_transaction_id(tid);
	rc = db_run(db, &q_order_paid, NULL, tid, now,
		    in->refund_outcome.set ? in->refund_outcome.s : "SUCCESS",
		    in->refund_delay_ms.set ? &in->refund_delay_ms.i : NULL, p->o.id);
	if (rc)
		return rc;
	if ((rc = order_by_id(db, p->o.id, 0, &p->o)))
		return rc;
	opts.fault = in->fault.set ? in->fault.s : NULL;
	opts.fault_attempts = in->fault_attempts.set ? in->fault_attempts.i : 1;
	opts.repeat = in->repeat.set ? in->repeat.i : 1;
	opts.delay_ms = in->delay_ms.set ? in->delay_ms.i : 0;
	opts.retry_scale = in->retry_scale.set ? in->retry_scale.i : 0;
	{
		cJSON *t = order_json(&p->o);
		text = cJSON_PrintUnformatted(t);
		cJSON_Delete(t);
	}
	rc = notify_enqueue(db, "transaction", "TRANSACTION.SUCCESS", "支付成功", p->o.id,
			    p->o.out_trade_no, NULL, p->o.notify_url, text, &opts,
			    p->notification_id);
	free(text);
	return rc;
}

/* wx.requestPayment's paySign (§7), checked as the WeChat client does. */
static int check_pay_sign(const struct pay_in *in, char prepay_id[65])
{
	struct buf msg;
	int rc;

	if (!in->appId.set || !in->timeStamp.set || !in->nonceStr.set || !in->signType.set ||
	    !in->paySign.set)
		return XQ_EINVAL;
	if (strcmp(in->signType.s, "RSA") != 0 || strncmp(in->package.s, "prepay_id=", 10) != 0 ||
	    strcmp(in->appId.s, wxsim.cfg.wx_appid) != 0)
		return XQ_EAUTH;
	if (in->prepay_id.set && strcmp(in->prepay_id.s, in->package.s + 10) != 0)
		return XQ_EAUTH;
	xq_snprintf(prepay_id, 65, "%.64s", in->package.s + 10);
	buf_init(&msg, 4096);
	buf_printf(&msg, "%s\n%s\n%s\n%s\n", in->appId.s, in->timeStamp.s, in->nonceStr.s,
		   in->package.s);
	rc = wxpay_verify_raw(wxsim.merchant_cert, msg.data, msg.len, in->paySign.s);
	buf_release(&msg);
	return rc ? XQ_EAUTH : XQ_OK;
}

int sim_pay(struct req *rq)
{
	static const char *const outcomes[] = { "SUCCESS", "CANCEL", "FAIL", NULL };
	static const char *const refund_outcomes[] = { "SUCCESS", "ABNORMAL", "CLOSED", "HOLD", NULL };
	static const struct json_field f[] = {
		FIELD(pay_in, out_trade_no, J_STRING, 0, 1, 32, NULL),
		FIELD(pay_in, prepay_id, J_STRING, 0, 1, 64, NULL),
		FIELD(pay_in, appId, J_STRING, 0, 1, 32, NULL),
		FIELD(pay_in, timeStamp, J_STRING, 0, 1, 16, NULL),
		FIELD(pay_in, nonceStr, J_STRING, 0, 1, 32, NULL),
		FIELD(pay_in, package, J_STRING, 0, 1, 80, NULL),
		FIELD(pay_in, signType, J_STRING, 0, 1, 8, NULL),
		FIELD(pay_in, paySign, J_STRING, 0, 1, 700, NULL),
		FIELD(pay_in, outcome, J_ENUM, 0, 0, 0, outcomes),
		FIELD(pay_in, fault, J_ENUM, 0, 0, 0, pay_faults),
		FIELD(pay_in, fault_attempts, J_INT64, 0, 1, 100, NULL),
		FIELD(pay_in, repeat, J_INT64, 0, 1, 20, NULL),
		FIELD(pay_in, delay_ms, J_INT64, 0, 0, 86400000, NULL),
		FIELD(pay_in, retry_scale, J_INT64, 0, 1, 1000000, NULL),
		FIELD(pay_in, refund_outcome, J_ENUM, 0, 0, 0, refund_outcomes),
		FIELD(pay_in, refund_delay_ms, J_INT64, 0, 0, 86400000, NULL),
	};
	struct pay_in in;
	struct paying p = { &in };
	char prepay_id[65];
	cJSON *o;
	int rc;

	if (decode(rq, f, XQ_ARRAY_LEN(f), &in))
		return rq->status;
	if (in.package.set) {
		rc = check_pay_sign(&in, prepay_id);
		if (rc == XQ_EINVAL)
			return resp_fail_msg(rq, XQ_EINVAL,
					     "package 须与 appId、timeStamp、nonceStr、signType、paySign 一起提供",
					     "package");
		if (rc)
			return sim_fail(rq, 400, "PAY_SIGN_ERROR", "支付验证签名失败");
		p.prepay_id = prepay_id;
	} else if (in.prepay_id.set) {
		p.prepay_id = in.prepay_id.s;
	} else if (!in.out_trade_no.set) {
		return resp_fail_msg(rq, XQ_EINVAL, "需要 out_trade_no 或 prepay_id", "out_trade_no");
	}
	if ((rc = db_tx(rq->db, pay_tx, &p)))
		return resp_fail(rq, rc == XQ_EINVAL ? XQ_EINVAL : XQ_EDB);
	if (p.status != 200)
		return sim_fail(rq, p.status, p.code, p.message);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "out_trade_no", p.o.out_trade_no);
	if (!strcmp(p.o.trade_state, "SUCCESS")) {
		notify_kick();
		log_info("wxsim: resident paid %s (%s)", p.o.out_trade_no, p.o.transaction_id);
		cJSON_AddStringToObject(o, "result", "requestPayment:ok");
		cJSON_AddStringToObject(o, "transaction_id", p.o.transaction_id);
		cJSON_AddStringToObject(o, "notification_id", p.notification_id);
	} else {
		cJSON_AddStringToObject(o, "result", !strcmp(in.outcome.s, "CANCEL")
							     ? "requestPayment:fail cancel"
							     : "requestPayment:fail");
	}
	cJSON_AddStringToObject(o, "trade_state", p.o.trade_state);
	return resp_json(rq, 200, o);
}

/* ---- callbacks: replay, hurry, inspect ---------------------------------------------------- */

struct replay_in {
	struct jval out_trade_no, event_type, notification_id, fault, retry_scale, delay_ms;
};

int sim_notify_replay(struct req *rq)
{
	static const struct json_field f[] = {
		FIELD(replay_in, out_trade_no, J_STRING, 0, 1, 32, NULL),
		FIELD(replay_in, event_type, J_STRING, 0, 1, 32, NULL),
		FIELD(replay_in, notification_id, J_STRING, 0, 1, 36, NULL),
		FIELD(replay_in, fault, J_ENUM, 0, 0, 0, pay_faults),
		FIELD(replay_in, retry_scale, J_INT64, 0, 1, 1000000, NULL),
		FIELD(replay_in, delay_ms, J_INT64, 0, 0, 86400000, NULL),
	};
	struct replay_in in;
	struct db_res r;
	char id[37];
	cJSON *o;
	int rc;

	if (decode(rq, f, XQ_ARRAY_LEN(f), &in))
		return rq->status;
	if (in.notification_id.set) {
		xq_snprintf(id, sizeof(id), "%s", in.notification_id.s);
	} else {
		if (!in.out_trade_no.set)
			return resp_fail_msg(rq, XQ_EINVAL, "需要 out_trade_no 或 notification_id",
					     "out_trade_no");
		if (db_run(rq->db, &q_notification_latest, &r, in.out_trade_no.s,
			   in.event_type.set ? in.event_type.s : "TRANSACTION.SUCCESS"))
			return resp_fail(rq, XQ_EDB);
		if (!r.nrows) {
			db_res_release(&r);
			return sim_fail(rq, 404, "NOT_FOUND", "该订单没有这类通知");
		}
		xq_snprintf(id, sizeof(id), "%s", db_str(&r, 0, 0));
		db_res_release(&r);
	}
	rc = notify_requeue(rq->db, id, in.fault.set ? in.fault.s : NULL,
			    in.retry_scale.set ? in.retry_scale.i : 0,
			    in.delay_ms.set ? in.delay_ms.i : 0);
	if (rc == XQ_ENOTFOUND)
		return sim_fail(rq, 404, "NOT_FOUND", "通知不存在");
	if (rc)
		return resp_fail(rq, XQ_EDB);
	notify_kick();
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "notification_id", id);
	cJSON_AddNumberToObject(o, "queued", 1);
	return resp_json(rq, 200, o);
}

struct deliver_in {
	struct jval out_trade_no;
};

int sim_notify_deliver(struct req *rq)
{
	static const struct json_field f[] = {
		FIELD(deliver_in, out_trade_no, J_STRING, J_REQUIRED, 1, 32, NULL),
	};
	struct deliver_in in;
	cJSON *o;

	if (decode(rq, f, XQ_ARRAY_LEN(f), &in))
		return rq->status;
	if (db_run(rq->db, &q_deliver_now, NULL, xq_now_ms(), in.out_trade_no.s))
		return resp_fail(rq, XQ_EDB);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "due", (double)db_affected(rq->db));
	notify_kick();
	return resp_json(rq, 200, o);
}

static cJSON *attempts_json(struct db *db, int64_t delivery_id)
{
	struct db_res r;
	cJSON *a = cJSON_CreateArray();
	char when[32];

	if (db_run(db, &q_attempts, &r, delivery_id))
		return a;
	for (size_t i = 0; i < r.nrows; i++) {
		cJSON *t = cJSON_CreateObject();
		cJSON_AddNumberToObject(t, "attempt", (double)db_i64(&r, i, 0));
		sim_rfc3339(db_i64(&r, i, 1) / 1000, when);
		cJSON_AddStringToObject(t, "time", when);
		cJSON_AddNumberToObject(t, "at_ms", (double)db_i64(&r, i, 1));
		cJSON_AddNumberToObject(t, "http_status", (double)db_i64(&r, i, 2));
		if (db_str(&r, i, 3))
			cJSON_AddStringToObject(t, "error", db_str(&r, i, 3));
		if (db_str(&r, i, 4))
			cJSON_AddStringToObject(t, "fault", db_str(&r, i, 4));
		cJSON_AddNumberToObject(t, "duration_ms", (double)db_i64(&r, i, 5));
		cJSON_AddItemToArray(a, t);
	}
	db_res_release(&r);
	return a;
}

int sim_notifications(struct req *rq)
{
	const char *otn = req_query(rq, "out_trade_no");
	struct db_res r, d;
	cJSON *o, *a;
	char when[32];

	if (db_run(rq->db, &q_notifications, &r, otn, otn))
		return resp_fail(rq, XQ_EDB);
	o = cJSON_CreateObject();
	a = cJSON_AddArrayToObject(o, "notifications");
	for (size_t i = 0; i < r.nrows; i++) {
		cJSON *n = cJSON_CreateObject(), *ds;
		cJSON_AddStringToObject(n, "id", db_str(&r, i, 0));
		cJSON_AddStringToObject(n, "kind", db_str(&r, i, 1));
		cJSON_AddStringToObject(n, "event_type", db_str(&r, i, 2));
		cJSON_AddStringToObject(n, "out_trade_no", db_str(&r, i, 3));
		if (db_str(&r, i, 4))
			cJSON_AddStringToObject(n, "out_refund_no", db_str(&r, i, 4));
		cJSON_AddStringToObject(n, "notify_url", db_str(&r, i, 5));
		if (db_str(&r, i, 6))
			cJSON_AddStringToObject(n, "fault", db_str(&r, i, 6));
		cJSON_AddStringToObject(n, "body", db_str(&r, i, 7));
		cJSON_AddItemToObject(n, "resource", cJSON_Parse(db_str(&r, i, 8)));
		sim_rfc3339(db_i64(&r, i, 9) / 1000, when);
		cJSON_AddStringToObject(n, "create_time", when);
		ds = cJSON_AddArrayToObject(n, "deliveries");
		if (db_run(rq->db, &q_deliveries, &d, db_str(&r, i, 0)) == XQ_OK) {
			for (size_t j = 0; j < d.nrows; j++) {
				cJSON *x = cJSON_CreateObject();
				cJSON_AddNumberToObject(x, "id", (double)db_i64(&d, j, 0));
				cJSON_AddStringToObject(x, "reason", db_str(&d, j, 1));
				cJSON_AddStringToObject(x, "state", db_str(&d, j, 2));
				cJSON_AddNumberToObject(x, "sends", (double)db_i64(&d, j, 3));
				if (!strcmp(db_str(&d, j, 2), "PENDING"))
					cJSON_AddNumberToObject(x, "next_ms", (double)db_i64(&d, j, 4));
				if (db_str(&d, j, 5))
					cJSON_AddNumberToObject(x, "last_status", (double)db_i64(&d, j, 5));
				cJSON_AddItemToObject(x, "attempts", attempts_json(rq->db, db_i64(&d, j, 0)));
				cJSON_AddItemToArray(ds, x);
			}
			db_res_release(&d);
		}
		cJSON_AddItemToArray(a, n);
	}
	db_res_release(&r);
	return resp_json(rq, 200, o);
}

/* ---- refunds ------------------------------------------------------------------------------ */

struct complete_in {
	struct jval out_refund_no, status, fault, fault_attempts, retry_scale;
};

struct completing {
	struct complete_in *in;
	struct sim_refund f;
	int status;
};

static int complete_tx(struct db *db, void *arg)
{
	struct completing *c = arg;
	struct complete_in *in = c->in;
	int rc = refund_by_no(db, wxsim.cfg.wx_mchid, in->out_refund_no.s, 1, &c->f);

	c->status = 200;
	if (rc == XQ_ENOTFOUND) {
		c->status = 404;
		return XQ_OK;
	}
	if (rc)
		return rc;
	rc = refund_finish(db, c->f.id, in->status.set ? in->status.s : "SUCCESS",
			   in->fault.set ? in->fault.s : NULL,
			   in->fault_attempts.set ? in->fault_attempts.i : 1,
			   in->retry_scale.set ? in->retry_scale.i : 0);
	if (rc == XQ_ECONFLICT) {
		c->status = 409;
		return XQ_OK;
	}
	if (rc)
		return rc;
	return refund_by_id(db, c->f.id, 0, &c->f);
}

int sim_refund_complete(struct req *rq)
{
	static const char *const statuses[] = { "SUCCESS", "ABNORMAL", "CLOSED", NULL };
	static const struct json_field f[] = {
		FIELD(complete_in, out_refund_no, J_STRING, J_REQUIRED, 1, 64, NULL),
		FIELD(complete_in, status, J_ENUM, 0, 0, 0, statuses),
		FIELD(complete_in, fault, J_ENUM, 0, 0, 0, pay_faults),
		FIELD(complete_in, fault_attempts, J_INT64, 0, 1, 100, NULL),
		FIELD(complete_in, retry_scale, J_INT64, 0, 1, 1000000, NULL),
	};
	struct complete_in in;
	struct completing c = { &in };

	if (decode(rq, f, XQ_ARRAY_LEN(f), &in))
		return rq->status;
	if (db_tx(rq->db, complete_tx, &c))
		return resp_fail(rq, XQ_EDB);
	if (c.status == 404)
		return sim_fail(rq, 404, "NOT_FOUND", "退款单不存在");
	if (c.status == 409)
		return sim_fail(rq, 409, "NOT_PROCESSING", "退款单已不在处理中");
	notify_kick();
	return resp_json(rq, 200, refund_json(&c.f));
}

/* ---- armed response faults ------------------------------------------------------------------ */

struct fault_in {
	struct jval fault, count, path, delay_ms;
};

int sim_faults_add(struct req *rq)
{
	static const char *const names[] = { "probe", "stale_timestamp", "wrong_serial", "tampered",
					     "unsigned", "slow", "system_error", "frequency_limited",
					     "service_unavailable", "busy", "rate_limited",
					     "code_blocked", NULL };
	static const struct json_field f[] = {
		FIELD(fault_in, fault, J_ENUM, J_REQUIRED, 0, 0, names),
		FIELD(fault_in, count, J_INT64, 0, 1, 1000, NULL),
		FIELD(fault_in, path, J_STRING, 0, 1, 255, NULL),
		FIELD(fault_in, delay_ms, J_INT64, 0, 0, 60000, NULL),
	};
	struct fault_in in;
	const char *path;

	if (decode(rq, f, XQ_ARRAY_LEN(f), &in))
		return rq->status;
	path = in.path.set ? in.path.s : "/";
	if (path[0] != '/')
		return resp_fail_msg(rq, XQ_EINVAL, "path 须以 / 开头", "path");
	if (db_run(rq->db, &q_fault_add, NULL, in.fault.s, path, in.count.set ? in.count.i : (int64_t)1,
		   in.delay_ms.set ? in.delay_ms.i : (int64_t)(strcmp(in.fault.s, "slow") ? 0 : 6000),
		   xq_now_ms()))
		return resp_fail(rq, XQ_EDB);
	return sim_faults_list(rq);
}

int sim_faults_list(struct req *rq)
{
	struct db_res r;
	cJSON *o, *a;

	if (db_run(rq->db, &q_fault_list, &r))
		return resp_fail(rq, XQ_EDB);
	o = cJSON_CreateObject();
	a = cJSON_AddArrayToObject(o, "faults");
	for (size_t i = 0; i < r.nrows; i++) {
		cJSON *t = cJSON_CreateObject();
		cJSON_AddNumberToObject(t, "id", (double)db_i64(&r, i, 0));
		cJSON_AddStringToObject(t, "fault", db_str(&r, i, 1));
		cJSON_AddStringToObject(t, "path", db_str(&r, i, 2));
		cJSON_AddNumberToObject(t, "remaining", (double)db_i64(&r, i, 3));
		cJSON_AddNumberToObject(t, "delay_ms", (double)db_i64(&r, i, 4));
		cJSON_AddItemToArray(a, t);
	}
	db_res_release(&r);
	return resp_json(rq, 200, o);
}

int sim_faults_clear(struct req *rq)
{
	if (db_run(rq->db, &q_fault_clear, NULL))
		return resp_fail(rq, XQ_EDB);
	return sim_faults_list(rq);
}

int fault_take(struct db *db, const char *path, char fault[33], int64_t *delay_ms)
{
	for (int tries = 0; tries < 5; tries++) {
		struct db_res r;
		int64_t id;

		if (db_run(db, &q_fault_next, &r, path))
			return 0;
		if (!r.nrows) {
			db_res_release(&r);
			return 0;
		}
		id = db_i64(&r, 0, 0);
		xq_snprintf(fault, 33, "%.32s", db_str(&r, 0, 1));
		*delay_ms = db_i64(&r, 0, 2);
		db_res_release(&r);
		if (db_run(db, &q_fault_dec, NULL, id))
			return 0;
		if (db_affected(db) == 1)
			return 1;
		/* another request took the last one: look again */
	}
	return 0;
}

/* ---- time travel for one order ---------------------------------------------------------------- */

struct backdate_in {
	struct jval out_trade_no, days;
};

int sim_backdate(struct req *rq)
{
	static const struct json_field f[] = {
		FIELD(backdate_in, out_trade_no, J_STRING, J_REQUIRED, 1, 32, NULL),
		FIELD(backdate_in, days, J_INT64, J_REQUIRED, 1, 400, NULL),
	};
	struct backdate_in in;
	struct sim_order o;
	int64_t d;
	int rc;

	if (decode(rq, f, XQ_ARRAY_LEN(f), &in))
		return rq->status;
	rc = order_by_otn(rq->db, wxsim.cfg.wx_mchid, in.out_trade_no.s, 0, &o);
	if (rc == XQ_ENOTFOUND)
		return sim_fail(rq, 404, "ORDER_NOT_EXIST", "订单不存在");
	d = in.days.i * DAY_MS;
	if (rc || db_run(rq->db, &q_backdate_order, NULL, d, d, d, d, o.id) ||
	    db_run(rq->db, &q_backdate_refunds, NULL, d, d, o.id) ||
	    order_by_id(rq->db, o.id, 0, &o))
		return resp_fail(rq, XQ_EDB);
	return resp_json(rq, 200, order_json(&o));
}
