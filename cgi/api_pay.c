/*
 * api_pay.c - residents pay: POST /api/v1/orders (bills or a top-up) places
 * a WeChat Pay JSAPI order and answers the wx.requestPayment parameters;
 * GET /api/v1/orders/{out_trade_no} reports the state and, while still
 * "created", asks WeChat and settles a payment it reports.
 *
 * pay_settle() (lib/payops.c) is THE place money is credited: the
 * notification (api_wxnotify.c), the order query and xqctl pay-sync all end
 * there, in one transaction keyed by out_trade_no, so repeats and
 * reorderings credit once.
 * docs/payments.md describes the state machine.
 */
#include "api.h"
#include "config.h"
#include "crud.h"
#include "log.h"
#include "money.h"
#include "resident_auth.h"
#include "wxclient.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ORDER_MAX_BILLS 24

/* pay_txn_parse(), pay_txn_check() and pay_settle() live in lib/payops.c (shared with xqctl). */

/* ---- POST /api/v1/orders ------------------------------------------------------------- */

struct order_in {
	struct jval house_id, bill_ids, topup_fen;
};

#define OI(f) offsetof(struct order_in, f)
static const struct json_field order_fields[] = {
	{ "house_id", J_INT64, J_REQUIRED, OI(house_id), 1, INT64_MAX, NULL, "房屋" },
	{ "bill_ids", J_RAW_ARRAY, 0, OI(bill_ids), 1, ORDER_MAX_BILLS, NULL, "账单" },
	{ "topup_fen", J_INT64, 0, OI(topup_fen), 1, 100000000, NULL, "充值金额" },
};

DB_QUERY(q_ord_bill) = {
	"order_bill",
	"SELECT house_id, status, amount_fen + late_fee_fen - paid_fen FROM bill WHERE id = ?",
	"l",
	"lsl",
};
DB_QUERY(q_ord_reuse) = {
	"order_reuse",
	"SELECT o.out_trade_no FROM wx_order o WHERE o.house_id = ? AND o.wx_user_id = ?"
	" AND o.state = 'created' AND o.purpose = 'bill' AND o.amount_fen = ?"
	" AND o.created_at > NOW(3) - INTERVAL 6 DAY"
	" AND (SELECT GROUP_CONCAT(i.bill_id ORDER BY i.bill_id SEPARATOR ',')"
	"      FROM wx_order_item i WHERE i.wx_order_id = o.id) = ?"
	" ORDER BY o.id DESC LIMIT 1",
	"llls",
	"s",
};
DB_QUERY(q_ord_house_label) = {
	"order_house_label",
	"SELECT c.name, b.name, h.unit_no, h.room FROM house h JOIN building b ON b.id = h.building_id"
	" JOIN community c ON c.id = b.community_id WHERE h.id = ?",
	"l",
	"ssss",
};
DB_QUERY(q_ord_insert) = {
	"order_insert",
	"INSERT INTO wx_order (out_trade_no, house_id, wx_user_id, openid, purpose, amount_fen,"
	" description) VALUES (?, ?, ?, ?, ?, ?, ?)",
	"sllssls",
	NULL,
};
DB_QUERY(q_ord_item) = {
	"order_item_insert",
	"INSERT INTO wx_order_item (wx_order_id, bill_id, amount_fen) VALUES (?, ?, ?)",
	"lll",
	NULL,
};
DB_QUERY(q_ord_get) = {
	"order_get",
	"SELECT id, out_trade_no, house_id, purpose, amount_fen, state, description, openid,"
	" transaction_id, success_time, created_at FROM wx_order WHERE out_trade_no = ?",
	"s",
	"lslslssssss",
};
DB_QUERY(q_ord_prepay) = {
	"order_prepay",
	"UPDATE wx_order SET prepay_id = ?, prepay_expires_at = NOW(3) + INTERVAL 2 HOUR WHERE id = ?",
	"sl",
	NULL,
};

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* Cuts s to at most max bytes on a UTF-8 character boundary. */
static void utf8_cut(char *s, size_t max)
{
	size_t n = strlen(s);
	if (n <= max)
		return;
	n = max;
	while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	s[n] = '\0';
}

struct new_order {
	char out_trade_no[33];
	int64_t house_id, wx_user_id, amount;
	const char *openid, *purpose, *description;
	size_t nbills;
	int64_t bill[ORDER_MAX_BILLS], part[ORDER_MAX_BILLS];
};

static int order_insert_tx(struct db *db, void *arg)
{
	struct new_order *o = arg;
	int64_t id;
	int rc;

	if ((rc = db_run(db, &q_ord_insert, NULL, o->out_trade_no, o->house_id, o->wx_user_id,
			 o->openid, o->purpose, o->amount, o->description)))
		return rc;
	id = db_insert_id(db);
	for (size_t i = 0; i < o->nbills; i++)
		if ((rc = db_run(db, &q_ord_item, NULL, id, o->bill[i], o->part[i])))
			return rc;
	return XQ_OK;
}

/* Builds the JSAPI body of a stored order (so a re-submission is byte-identical). */
static char *jsapi_body(const struct config *cfg, const char *otn, const char *desc, int64_t amount,
			const char *openid)
{
	cJSON *b = cJSON_CreateObject(), *a, *p;
	char *s;

	cJSON_AddStringToObject(b, "appid", cfg->wx_appid);
	cJSON_AddStringToObject(b, "mchid", cfg->wx_mchid);
	cJSON_AddStringToObject(b, "description", desc);
	cJSON_AddStringToObject(b, "out_trade_no", otn);
	cJSON_AddStringToObject(b, "notify_url", cfg->wx_notify_url);
	a = cJSON_AddObjectToObject(b, "amount");
	cJSON_AddNumberToObject(a, "total", (double)amount);
	cJSON_AddStringToObject(a, "currency", "CNY");
	p = cJSON_AddObjectToObject(b, "payer");
	cJSON_AddStringToObject(p, "openid", openid);
	s = cJSON_PrintUnformatted(b);
	cJSON_Delete(b);
	return s;
}

/* Queries WeChat for a created order and settles it when paid. XQ_OK when nothing is left to do. */
static int order_sync(struct req *rq, const char *otn)
{
	struct wxpay_reply wr;
	struct pay_txn t;
	int rc;

	wxpay_reply_init(&wr);
	rc = wxpay_query(rq->cfg, otn, &wr);
	if (!rc)
		rc = pay_txn_parse(wr.body.data, wr.body.len, &t);
	OPENSSL_cleanse(wr.body.data, wr.body.len);
	wxpay_reply_release(&wr);
	if (rc == XQ_ENOTFOUND)
		return XQ_OK; /* never reached WeChat: nothing was paid */
	if (rc)
		return rc;
	if (strcmp(t.out_trade_no, otn))
		return xq_error(XQ_EPROTO, "query of '%s' answered '%s'", otn, t.out_trade_no);
	if ((rc = pay_txn_check(rq->cfg, &t)))
		return rc;
	if (!strcmp(t.trade_state, "SUCCESS"))
		return pay_settle(rq->db, &t, 0, NULL);
	return XQ_OK;
}

int api_order_create(struct req *rq)
{
	struct order_in in;
	struct new_order o;
	struct db_res r;
	struct wxpay_reply wr;
	struct wxpay_jsapi_params jp;
	const struct wx_keys *k;
	char prepay[WXPAY_PREPAY_ID_MAX + 1], nonce[33], csv[ORDER_MAX_BILLS * 21], desc[128];
	char big[1024];
	unsigned char rnd[16];
	char *body = NULL;
	int64_t order_id = 0;
	cJSON *out;
	int rc, reused = 0;

	memset(&in, 0, sizeof(in));
	memset(&o, 0, sizeof(o));
	if (api_decode(rq, order_fields, XQ_ARRAY_LEN(order_fields), &in))
		return rq->status;
	if (in.bill_ids.set == in.topup_fen.set)
		return resp_fail_msg(rq, XQ_EINVAL, "请选择要缴的账单，或填写充值金额", "bill_ids");
	rc = resident_house_check(rq->db, rq->who.wx_user_id, in.house_id.i);
	if (rc == XQ_ENOTFOUND)
		return resp_fail_msg(rq, XQ_ENOTFOUND, "房屋不存在或未绑定", "house_id");
	if (rc)
		return resp_fail(rq, rc);
	o.house_id = in.house_id.i;
	o.wx_user_id = rq->who.wx_user_id;
	o.openid = rq->who.openid;

	if (in.bill_ids.set) {
		const cJSON *it;
		size_t pos = 0;

		o.purpose = "bill";
		cJSON_ArrayForEach(it, in.bill_ids.raw) {
			if (!cJSON_IsNumber(it) || it->valuedouble < 1 || it->valuedouble > 9e15 ||
			    it->valuedouble != (double)(int64_t)it->valuedouble)
				return resp_fail_msg(rq, XQ_EINVAL, "账单编号不正确", "bill_ids");
			o.bill[o.nbills++] = (int64_t)it->valuedouble;
		}
		qsort(o.bill, o.nbills, sizeof(o.bill[0]), cmp_i64);
		csv[0] = '\0';
		for (size_t i = 0; i < o.nbills; i++) {
			if (i && o.bill[i] == o.bill[i - 1])
				return resp_fail_msg(rq, XQ_EINVAL, "账单重复", "bill_ids");
			if ((rc = db_run(rq->db, &q_ord_bill, &r, o.bill[i])))
				return resp_fail(rq, rc);
			if (r.nrows != 1 || db_i64(&r, 0, 0) != o.house_id) {
				db_res_release(&r);
				return resp_fail_msg(rq, XQ_ENOTFOUND, "账单不存在", "bill_ids");
			}
			o.part[i] = db_i64(&r, 0, 2);
			rc = strcmp(db_str(&r, 0, 1), "issued") || o.part[i] <= 0;
			db_res_release(&r);
			if (rc)
				return resp_fail_msg(rq, XQ_ECONFLICT, "账单已缴清或不可缴费", "bill_ids");
			if (money_add(&o.amount, o.part[i]))
				return resp_fail(rq, XQ_EOVERFLOW);
			pos += (size_t)xq_snprintf(csv + pos, sizeof(csv) - pos, "%s%lld", i ? "," : "",
						   (long long)o.bill[i]);
		}
		if ((rc = db_run(rq->db, &q_ord_reuse, &r, o.house_id, o.wx_user_id, o.amount, csv)))
			return resp_fail(rq, rc);
		if (r.nrows == 1) {
			xq_snprintf(o.out_trade_no, sizeof(o.out_trade_no), "%s", db_str(&r, 0, 0));
			reused = 1;
		}
		db_res_release(&r);
	} else {
		o.purpose = "topup";
		o.amount = in.topup_fen.i;
	}

	if (!reused) {
		if ((rc = db_run(rq->db, &q_ord_house_label, &r, o.house_id)))
			return resp_fail(rq, rc);
		/* e.g. 阳光花园-3号楼502-水电费; cut to WeChat's 127 bytes on a character */
		if (r.nrows == 1)
			xq_snprintf(big, sizeof(big), "%s-%s%s%s-%s", db_str(&r, 0, 0), db_str(&r, 0, 1),
				    strcmp(db_str(&r, 0, 2), "1") ? db_str(&r, 0, 2) : "",
				    db_str(&r, 0, 3), in.topup_fen.set ? "预存" : "水电费");
		else
			xq_snprintf(big, sizeof(big), "%s", in.topup_fen.set ? "预存" : "水电费");
		db_res_release(&r);
		utf8_cut(big, 127);
		xq_snprintf(desc, sizeof(desc), "%s", big);
		o.description = desc;
		/* "XQ" + 24 hex: 26 of WeChat's allowed [0-9A-Za-z_-|*] */
		if (xq_random(rnd, 12))
			return resp_fail(rq, XQ_ERROR);
		o.out_trade_no[0] = 'X';
		o.out_trade_no[1] = 'Q';
		xq_hex(rnd, 12, o.out_trade_no + 2);
		if ((rc = db_tx(rq->db, order_insert_tx, &o)))
			return resp_fail(rq, rc);
	}

	/* from the stored row, so a re-submission is identical (§6.3) */
	if ((rc = db_run(rq->db, &q_ord_get, &r, o.out_trade_no)))
		return resp_fail(rq, rc);
	if (r.nrows != 1) {
		db_res_release(&r);
		return resp_fail(rq, XQ_ERROR);
	}
	order_id = db_i64(&r, 0, 0);
	body = jsapi_body(rq->cfg, o.out_trade_no, db_str(&r, 0, 6), o.amount, db_str(&r, 0, 7));
	db_res_release(&r);

	wxpay_reply_init(&wr);
	rc = wxpay_jsapi(rq->cfg, body, prepay, &wr);
	free(body);
	if (rc == XQ_EINVAL && !strcmp(wr.code, "ORDERPAID")) {
		wxpay_reply_release(&wr);
		order_sync(rq, o.out_trade_no);
		return resp_fail_msg(rq, XQ_ECONFLICT, "该订单已支付", NULL);
	}
	wxpay_reply_release(&wr);
	if (rc == XQ_EAGAIN)
		return resp_fail_msg(rq, XQ_EAGAIN, "微信支付繁忙，请稍后重试", NULL);
	if (rc)
		return resp_fail_msg(rq, XQ_EPROTO, "微信支付下单失败，请稍后重试", NULL);
	if ((rc = db_run(rq->db, &q_ord_prepay, NULL, prepay, order_id)))
		return resp_fail(rq, rc);

	if ((rc = wxclient_keys(rq->cfg, &k)) || xq_random(rnd, 16))
		return resp_fail(rq, XQ_ERROR);
	xq_hex(rnd, 16, nonce);
	if (wxpay_jsapi_params(k->merchant, rq->cfg->wx_appid, prepay, xq_now_ms() / 1000, nonce, &jp))
		return resp_fail(rq, XQ_ERROR);
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "out_trade_no", o.out_trade_no);
	cJSON_AddNumberToObject(out, "amount_fen", (double)o.amount);
	cJSON_AddStringToObject(out, "state", "created");
	cJSON_AddBoolToObject(out, "reused", reused);
	cJSON_AddStringToObject(out, "timeStamp", jp.time_stamp);
	cJSON_AddStringToObject(out, "nonceStr", jp.nonce_str);
	cJSON_AddStringToObject(out, "package", jp.package);
	cJSON_AddStringToObject(out, "signType", jp.sign_type);
	cJSON_AddStringToObject(out, "paySign", jp.pay_sign);
	return resp_json(rq, reused ? 200 : 201, out);
}

/* ---- GET /api/v1/orders/{id} ------------------------------------------------------------ */

int api_order_get(struct req *rq)
{
	const char *otn = req_param(rq, "id");
	struct db_res r;
	cJSON *o;
	int rc;

	if (!otn || strlen(otn) > 32)
		return resp_fail_msg(rq, XQ_ENOTFOUND, "订单不存在", NULL);
	for (int pass = 0; pass < 2; pass++) {
		if ((rc = db_run(rq->db, &q_ord_get, &r, otn)))
			return resp_fail(rq, rc);
		if (r.nrows != 1) {
			db_res_release(&r);
			return resp_fail_msg(rq, XQ_ENOTFOUND, "订单不存在", NULL);
		}
		rc = resident_house_check(rq->db, rq->who.wx_user_id, db_i64(&r, 0, 2));
		if (rc) {
			db_res_release(&r);
			return rc == XQ_ENOTFOUND ? resp_fail_msg(rq, XQ_ENOTFOUND, "订单不存在", NULL)
						  : resp_fail(rq, rc);
		}
		if (pass == 0 && !strcmp(db_str(&r, 0, 5), "created")) {
			db_res_release(&r);
			rc = order_sync(rq, otn);
			if (rc)
				log_warn("order '%s': query failed: %s", otn, xq_strerror(rc));
			continue;
		}
		break;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "out_trade_no", db_str(&r, 0, 1));
	cJSON_AddNumberToObject(o, "house_id", (double)db_i64(&r, 0, 2));
	cJSON_AddStringToObject(o, "purpose", db_str(&r, 0, 3));
	cJSON_AddNumberToObject(o, "amount_fen", (double)db_i64(&r, 0, 4));
	cJSON_AddStringToObject(o, "state", db_str(&r, 0, 5));
	cJSON_AddStringToObject(o, "description", db_str(&r, 0, 6));
	db_res_release(&r);
	return resp_json(rq, 200, o);
}
