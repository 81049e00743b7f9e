/*
 * pay.c - WeChat Pay v3 orders as api.mch.weixin.qq.com keeps them: the
 * JSAPI/mini-program order with the re-entry rules of §6.3, order queries
 * (§9), close (§10) and, in certificate mode, /v3/certificates (§4.2).
 * Paying an order is the resident's doing: /sim/pay in control.c.
 */
#include "wxsim.h"
#include "json.h"
#include "log.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREPAY_TTL_MS (2 * 3600 * 1000LL)		/* §6.2 */
#define AUTO_CLOSE_MS (7 * 24 * 3600 * 1000LL)	/* §6.3: unpaid orders close after 7 days */

/* Internal error ids WeChat appends to Request-ID (§1.2, [obs]). */
#define ERR_REENTRY 268498688L
#define ERR_PAID 268449538L

#define ORDER_COLS                                                                                 \
	"id, mchid, out_trade_no, appid, description, attach, notify_url, time_expire,"            \
	" time_expire_s, amount_total_fen, currency, openid, device_id, params_hash, prepay_id,"   \
	" prepay_expires_ms, trade_state, transaction_id, bank_type, payer_total_fen, success_ms," \
	" created_ms, refund_outcome, refund_delay_ms"
/* id, 7 strings, time_expire_s, total, 5 strings, prepay exp, 3 strings, 3 ints, outcome, delay */
#define ORDER_SIG "lsssssssllssssslssslllsl"

DB_QUERY(q_order_otn) = {
	"wxsim_order_otn",
	"SELECT " ORDER_COLS " FROM sim_order WHERE mchid = ? AND out_trade_no = ?",
	"ss", ORDER_SIG,
};

DB_QUERY(q_order_otn_lock) = {
	"wxsim_order_otn_lock",
	"SELECT " ORDER_COLS " FROM sim_order WHERE mchid = ? AND out_trade_no = ? FOR UPDATE",
	"ss", ORDER_SIG,
};

DB_QUERY(q_order_tid) = {
	"wxsim_order_tid",
	"SELECT " ORDER_COLS " FROM sim_order WHERE mchid = ? AND transaction_id = ?",
	"ss", ORDER_SIG,
};

DB_QUERY(q_order_prepay) = {
	"wxsim_order_prepay",
	"SELECT " ORDER_COLS " FROM sim_order WHERE prepay_id = ? FOR UPDATE",
	"s", ORDER_SIG,
};

DB_QUERY(q_order_id) = {
	"wxsim_order_id",
	"SELECT " ORDER_COLS " FROM sim_order WHERE id = ?",
	"l", ORDER_SIG,
};

DB_QUERY(q_order_id_lock) = {
	"wxsim_order_id_lock",
	"SELECT " ORDER_COLS " FROM sim_order WHERE id = ? FOR UPDATE",
	"l", ORDER_SIG,
};

DB_QUERY(q_order_add) = {
	"wxsim_order_add",
	"INSERT INTO sim_order (mchid, out_trade_no, appid, description, attach, notify_url,"
	" time_expire, time_expire_s, amount_total_fen, currency, openid, device_id, params_hash,"
	" prepay_id, prepay_expires_ms, trade_state, created_ms)"
	" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'NOTPAY', ?)",
	/* 7 strings, time_expire_s, total, 5 strings, prepay exp, created */
	"sssssssLlsssssll", NULL,
};

DB_QUERY(q_order_new_prepay) = {
	"wxsim_order_new_prepay",
	"UPDATE sim_order SET prepay_id = ?, prepay_expires_ms = ? WHERE id = ?",
	"sll", NULL,
};

DB_QUERY(q_order_close) = {
	"wxsim_order_close",
	"UPDATE sim_order SET trade_state = 'CLOSED', closed_ms = ?"
	" WHERE id = ? AND trade_state = 'NOTPAY'",
	"ll", NULL,
};

/* ---- loading -------------------------------------------------------------------- */

static void cpy(char *dst, size_t n, const char *src)
{
	xq_snprintf(dst, n, "%.*s", (int)(n - 1), src ? src : "");
}

static int order_load(struct db *db, int rc, struct db_res *r, struct sim_order *o)
{
	if (rc)
		return rc;
	if (!r->nrows) {
		db_res_release(r);
		return XQ_ENOTFOUND;
	}
	memset(o, 0, sizeof(*o));
	o->id = db_i64(r, 0, 0);
	cpy(o->mchid, sizeof(o->mchid), db_str(r, 0, 1));
	cpy(o->out_trade_no, sizeof(o->out_trade_no), db_str(r, 0, 2));
	cpy(o->appid, sizeof(o->appid), db_str(r, 0, 3));
	cpy(o->description, sizeof(o->description), db_str(r, 0, 4));
	o->has_attach = db_str(r, 0, 5) != NULL;
	cpy(o->attach, sizeof(o->attach), db_str(r, 0, 5));
	cpy(o->notify_url, sizeof(o->notify_url), db_str(r, 0, 6));
	cpy(o->time_expire, sizeof(o->time_expire), db_str(r, 0, 7));
	o->time_expire_s = db_i64(r, 0, 8);
	o->total_fen = db_i64(r, 0, 9);
	cpy(o->currency, sizeof(o->currency), db_str(r, 0, 10));
	cpy(o->openid, sizeof(o->openid), db_str(r, 0, 11));
	cpy(o->device_id, sizeof(o->device_id), db_str(r, 0, 12));
	cpy(o->params_hash, sizeof(o->params_hash), db_str(r, 0, 13));
	cpy(o->prepay_id, sizeof(o->prepay_id), db_str(r, 0, 14));
	o->prepay_expires_ms = db_i64(r, 0, 15);
	cpy(o->trade_state, sizeof(o->trade_state), db_str(r, 0, 16));
	cpy(o->transaction_id, sizeof(o->transaction_id), db_str(r, 0, 17));
	cpy(o->bank_type, sizeof(o->bank_type), db_str(r, 0, 18));
	o->payer_total_fen = db_i64(r, 0, 19);
	o->success_ms = db_i64(r, 0, 20);
	o->created_ms = db_i64(r, 0, 21);
	cpy(o->refund_outcome, sizeof(o->refund_outcome), db_str(r, 0, 22));
	o->refund_delay_ms = db_str(r, 0, 23) ? db_i64(r, 0, 23) : -1;
	db_res_release(r);
	(void)db;
	return XQ_OK;
}

int order_by_otn(struct db *db, const char *mchid, const char *otn, int lock, struct sim_order *o)
{
	struct db_res r;
	return order_load(db, db_run(db, lock ? &q_order_otn_lock : &q_order_otn, &r, mchid, otn),
			  &r, o);
}

int order_by_tid(struct db *db, const char *mchid, const char *tid, struct sim_order *o)
{
	struct db_res r;
	return order_load(db, db_run(db, &q_order_tid, &r, mchid, tid), &r, o);
}

int order_by_prepay(struct db *db, const char *prepay_id, struct sim_order *o)
{
	struct db_res r;
	return order_load(db, db_run(db, &q_order_prepay, &r, prepay_id), &r, o);
}

int order_by_id(struct db *db, int64_t id, int lock, struct sim_order *o)
{
	struct db_res r;
	return order_load(db, db_run(db, lock ? &q_order_id_lock : &q_order_id, &r, id), &r, o);
}

/* WeChat closes unpaid orders after 7 days; we do it when someone looks. */
static int order_autoclose(struct db *db, struct sim_order *o)
{
	int rc;

	if (strcmp(o->trade_state, "NOTPAY") != 0 || o->created_ms + AUTO_CLOSE_MS > xq_now_ms())
		return XQ_OK;
	if ((rc = db_run(db, &q_order_close, NULL, o->created_ms + AUTO_CLOSE_MS, o->id)))
		return rc;
	cpy(o->trade_state, sizeof(o->trade_state), "CLOSED");
	return XQ_OK;
}

static const char *state_desc(const char *state)
{
	if (!strcmp(state, "SUCCESS"))
		return "支付成功";
	if (!strcmp(state, "REFUND"))
		return "订单发生过退款，退款详情请查询退款单";
	if (!strcmp(state, "CLOSED"))
		return "订单已关闭";
	return "订单未支付";
}

cJSON *order_json(const struct sim_order *o)
{
	cJSON *t = cJSON_CreateObject(), *payer, *amount;
	int paid = !strcmp(o->trade_state, "SUCCESS") || !strcmp(o->trade_state, "REFUND");
	char when[32];

	cJSON_AddStringToObject(t, "appid", o->appid);
	cJSON_AddStringToObject(t, "mchid", o->mchid);
	cJSON_AddStringToObject(t, "out_trade_no", o->out_trade_no);
	if (paid)
		cJSON_AddStringToObject(t, "transaction_id", o->transaction_id);
	cJSON_AddStringToObject(t, "trade_type", "JSAPI");
	cJSON_AddStringToObject(t, "trade_state", o->trade_state);
	cJSON_AddStringToObject(t, "trade_state_desc", state_desc(o->trade_state));
	if (paid) {
		cJSON_AddStringToObject(t, "bank_type", o->bank_type[0] ? o->bank_type : "OTHERS");
		if (o->has_attach)
			cJSON_AddStringToObject(t, "attach", o->attach);
		sim_rfc3339(o->success_ms / 1000, when);
		cJSON_AddStringToObject(t, "success_time", when);
	}
	payer = cJSON_AddObjectToObject(t, "payer");
	cJSON_AddStringToObject(payer, "openid", o->openid);
	amount = cJSON_AddObjectToObject(t, "amount");
	cJSON_AddNumberToObject(amount, "total", (double)o->total_fen);
	if (paid)
		cJSON_AddNumberToObject(amount, "payer_total", (double)o->payer_total_fen);
	cJSON_AddStringToObject(amount, "currency", o->currency);
	if (paid)
		cJSON_AddStringToObject(amount, "payer_currency", o->currency);
	if (o->device_id[0]) {
		cJSON *si = cJSON_AddObjectToObject(t, "scene_info");
		cJSON_AddStringToObject(si, "device_id", o->device_id);
	}
	return t;
}

/* ---- JSAPI order (§6) -------------------------------------------------------------------- */

static int by_name(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	return strcmp(x->string, y->string);
}

/* A copy of v with every object's keys sorted: key order is irrelevant to WeChat (§1.1). */
static cJSON *canon(const cJSON *v)
{
	if (cJSON_IsObject(v)) {
		size_t n = (size_t)cJSON_GetArraySize(v), i = 0;
		const cJSON **kids = xq_calloc(n ? n : 1, sizeof(*kids));
		const cJSON *c;
		cJSON *o = cJSON_CreateObject();

		cJSON_ArrayForEach(c, v)
			kids[i++] = c;
		qsort(kids, n, sizeof(*kids), by_name);
		for (i = 0; i < n; i++)
			cJSON_AddItemToObject(o, kids[i]->string, canon(kids[i]));
		free(kids);
		return o;
	}
	if (cJSON_IsArray(v)) {
		cJSON *a = cJSON_CreateArray();
		const cJSON *c;
		cJSON_ArrayForEach(c, v)
			cJSON_AddItemToArray(a, canon(c));
		return a;
	}
	return cJSON_Duplicate(v, 0);
}

/* SHA-256 (hex) of the parameters that make an order what it is (§6.3). */
static void params_hash(const cJSON *b, const char *currency, char out[65])
{
	static const char *const keys[] = { "appid",	  "mchid",	 "description",
					    "out_trade_no", "time_expire", "attach",
					    "notify_url",   "goods_tag",	 "support_fapiao",
					    "payer",	    "detail",	 "scene_info",
					    "settle_info",  NULL };
	cJSON *c = cJSON_CreateObject(), *amount;
	const cJSON *a = sim_jobj(b, "amount");
	unsigned char md[32];
	unsigned int mdlen = 0;
	char *text;

	for (size_t i = 0; keys[i]; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(b, keys[i]);
		if (v)
			cJSON_AddItemToObject(c, keys[i], canon(v));
	}
	amount = cJSON_AddObjectToObject(c, "amount");
	cJSON_AddItemToObject(amount, "total",
			      cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(a, "total"), 0));
	cJSON_AddStringToObject(amount, "currency", currency);
	text = cJSON_PrintUnformatted(c);
	cJSON_Delete(c);
	EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(), NULL);
	free(text);
	xq_hex(md, sizeof(md), out);
}

/* Optional string member: NULL if absent; *bad set if present but not a string. */
static const char *opt_str(const cJSON *o, const char *name, int *bad)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	if (!v)
		return NULL;
	if (!cJSON_IsString(v)) {
		*bad = 1;
		return NULL;
	}
	return v->valuestring;
}

static int is_otn_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '_' || c == '-' || c == '|' || c == '*';
}

int sim_valid_no(const char *s, size_t min, size_t max, int allow_at)
{
	size_t n = strlen(s);
	if (n < min || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_otn_char(s[i]) && !(allow_at && s[i] == '@'))
			return 0;
	return 1;
}

int sim_valid_notify_url(const char *u, size_t max)
{
	static const char *const loop[] = { "127.0.0.1", "localhost", "[::1]", NULL };
	const char *host;

	if (strlen(u) > max || strchr(u, '?') || strpbrk(u, " \t\r\n"))
		return 0;
	if (!strncmp(u, "https://", 8))
		return u[8] && u[8] != '/';
	if (strncmp(u, "http://", 7) != 0)
		return 0;
	/* plain http only to this machine: the sandbox's allowance for tests (§20.13) */
	host = u + 7;
	for (size_t i = 0; loop[i]; i++) {
		size_t n = strlen(loop[i]);
		if (!strncmp(host, loop[i], n) && (host[n] == ':' || host[n] == '/' || !host[n]))
			return 1;
	}
	return 0;
}

const char *sim_text_issue(const char *s, size_t max)
{
	if (json_utf8_len(s) < 0)
		return "不是合法的UTF-8字符串";
	if (sim_has_non_bmp(s))
		return "包含不支持的字符（如emoji），仅支持1-3字节的UTF-8字符";
	if (strlen(s) > max)
		return "长度超过限制";
	return NULL;
}

struct jsapi {
	const cJSON *b;
	const char *appid, *mchid, *description, *otn, *time_expire, *attach, *notify_url;
	const char *currency, *openid, *device_id;
	int64_t time_expire_s, total;
	char hash[65];
	char prepay_id[65];
	/* outcome */
	int status;
	const char *code, *message;
	long err;
};

static void new_prepay_id(char out[65])
{
	char stamp[15], hex[21];
	sim_bj_stamp(sim_now_s(), stamp);
	sim_random_str(hex, 20, SIM_HEX_LOWER);
	xq_snprintf(out, 65, "wx%s%s", stamp, hex);
}

static int jsapi_tx(struct db *db, void *arg)
{
	struct jsapi *j = arg;
	struct sim_order o;
	int64_t now = xq_now_ms();
	int rc;

	j->status = 200;
	rc = order_by_otn(db, j->mchid, j->otn, 1, &o);
	if (rc == XQ_ENOTFOUND) {
		new_prepay_id(j->prepay_id);
		rc = db_run(db, &q_order_add, NULL, j->mchid, j->otn, j->appid, j->description,
			    j->attach, j->notify_url, j->time_expire,
			    j->time_expire ? &j->time_expire_s : NULL, j->total, j->currency,
			    j->openid, j->device_id, j->hash, j->prepay_id, now + PREPAY_TTL_MS, now);
		/* a concurrent identical request won: run again and take the re-entry path */
		return rc == XQ_ECONFLICT ? XQ_EAGAIN : rc;
	}
	if (rc)
		return rc;
	if ((rc = order_autoclose(db, &o)))
		return rc;
	if (!strcmp(o.trade_state, "CLOSED")) {
		j->status = 400, j->code = "ORDER_CLOSED", j->message = "订单已关闭";
		return XQ_OK;
	}
	if (strcmp(o.trade_state, "NOTPAY") != 0) {
		j->status = 400, j->code = "ORDERPAID", j->message = "该订单已支付", j->err = ERR_PAID;
		return XQ_OK;
	}
	if (strcmp(o.params_hash, j->hash) != 0) {
		j->status = 400, j->code = "INVALID_REQUEST";
		j->message = "201 商户订单号重复：请求重入时，参数与首次请求时不一致";
		j->err = ERR_REENTRY;
		return XQ_OK;
	}
	if (o.prepay_expires_ms > now) {
		cpy(j->prepay_id, sizeof(j->prepay_id), o.prepay_id);
		return XQ_OK;
	}
	/* the prepay_id lived its 2 hours: the same order gets a fresh one */
	new_prepay_id(j->prepay_id);
	return db_run(db, &q_order_new_prepay, NULL, j->prepay_id, now + PREPAY_TTL_MS, o.id);
}

int pay_jsapi(struct req *rq)
{
	struct jsapi j = { 0 };
	const cJSON *amount, *payer, *v;
	cJSON *b, *res;
	const char *issue;
	int bad = 0, known = 0, st;

	if ((st = pay_auth(rq, &b)))
		return st;
	if (!b)
		return pay_fail(rq, 400, "PARAM_ERROR", "请求体不能为空", NULL, 0);
	j.b = b;
	/* required strings */
	j.appid = opt_str(b, "appid", &bad);
	if (bad || !j.appid || !*j.appid || strlen(j.appid) > 32)
		return pay_param_error(rq, "/appid", "appid为必填字符串，长度不超过32", "body");
	j.mchid = opt_str(b, "mchid", &bad);
	if (bad || !j.mchid || !*j.mchid || strlen(j.mchid) > 32)
		return pay_param_error(rq, "/mchid", "mchid为必填字符串，长度不超过32", "body");
	j.description = opt_str(b, "description", &bad);
	if (bad || !j.description || !*j.description)
		return pay_param_error(rq, "/description", "description为必填字符串", "body");
	if ((issue = sim_text_issue(j.description, 127)))
		return pay_param_error(rq, "/description", issue, "body");
	j.otn = opt_str(b, "out_trade_no", &bad);
	if (bad || !j.otn || !sim_valid_no(j.otn, 6, 32, 0))
		return pay_param_error(rq, "/out_trade_no",
				       "out_trade_no为6-32位数字、大小写字母或_-|*", "body");
	j.time_expire = opt_str(b, "time_expire", &bad);
	if (bad || (j.time_expire && (strlen(j.time_expire) > 64 ||
				      sim_parse_rfc3339(j.time_expire, &j.time_expire_s))))
		return pay_param_error(rq, "/time_expire",
				       "time_expire须为rfc3339格式，如2018-06-08T10:34:56+08:00", "body");
	j.attach = opt_str(b, "attach", &bad);
	if (bad || (j.attach && (issue = sim_text_issue(j.attach, 128))))
		return pay_param_error(rq, "/attach", bad ? "attach须为字符串" : issue, "body");
	j.notify_url = opt_str(b, "notify_url", &bad);
	if (bad || !j.notify_url || !sim_valid_notify_url(j.notify_url, 255))
		return pay_param_error(rq, "/notify_url",
				       "notify_url须为https地址（沙箱允许http://127.0.0.1），不能携带参数",
				       "body");
	v = cJSON_GetObjectItemCaseSensitive(b, "goods_tag");
	if (v && (!cJSON_IsString(v) || strlen(v->valuestring) > 32))
		return pay_param_error(rq, "/goods_tag", "goods_tag须为字符串，长度不超过32", "body");
	v = cJSON_GetObjectItemCaseSensitive(b, "support_fapiao");
	if (v && !cJSON_IsBool(v))
		return pay_param_error(rq, "/support_fapiao", "support_fapiao须为布尔值", "body");
	amount = sim_jobj(b, "amount");
	if (!amount)
		return pay_param_error(rq, "/amount", "amount为必填对象", "body");
	if (!sim_jint(amount, "total", &j.total) || j.total <= 0 || j.total > 100000000000LL)
		return pay_param_error(rq, "/amount/total", "total须为大于0的整数（单位：分）", "body");
	j.currency = opt_str(amount, "currency", &bad);
	if (bad || (j.currency && strcmp(j.currency, "CNY") != 0))
		return pay_param_error(rq, "/amount/currency", "Currency code is invalid", "body");
	if (!j.currency)
		j.currency = "CNY";
	payer = sim_jobj(b, "payer");
	j.openid = payer ? opt_str(payer, "openid", &bad) : NULL;
	if (bad || !j.openid || !*j.openid || strlen(j.openid) > 128)
		return pay_param_error(rq, "/payer/openid", "payer.openid为必填字符串", "body");
	for (const char *const *k = (const char *const[]){ "detail", "scene_info", "settle_info", NULL };
	     *k; k++) {
		v = cJSON_GetObjectItemCaseSensitive(b, *k);
		if (v && !cJSON_IsObject(v)) {
			char f[32];
			xq_snprintf(f, sizeof(f), "/%s", *k);
			return pay_param_error(rq, f, "须为JSON对象", "body");
		}
	}
	v = sim_jobj(b, "scene_info");
	if (v) {
		j.device_id = opt_str(v, "device_id", &bad);
		if (bad || !sim_jstr(v, "payer_client_ip"))
			return pay_param_error(rq, "/scene_info/payer_client_ip",
					       "scene_info.payer_client_ip为必填字符串", "body");
	}
	/* business rules */
	if (strcmp(j.appid, wxsim.cfg.wx_appid) != 0)
		return pay_fail(rq, 400, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配", NULL, 0);
	if (mp_user_known(rq->db, j.appid, j.openid, &known) || !known)
		return pay_fail(rq, 400, "INVALID_REQUEST", "appid和openid不匹配", NULL, 0);
	params_hash(b, j.currency, j.hash);
	if (db_tx(rq->db, jsapi_tx, &j))
		return pay_fail(rq, 500, "SYSTEM_ERROR", "系统错误", NULL, 0);
	if (j.status != 200)
		return pay_fail(rq, j.status, j.code, j.message, NULL, j.err);
	log_info("wxsim: order %s prepay_id %s", j.otn, j.prepay_id);
	res = cJSON_CreateObject();
	cJSON_AddStringToObject(res, "prepay_id", j.prepay_id);
	return pay_ok(rq, 200, res);
}

/* ---- query (§9) and close (§10) ------------------------------------------------------- */

/* ?mchid= is required and must be the caller's merchant. Responds on error. */
static int query_mchid(struct req *rq)
{
	const char *m = req_query(rq, "mchid");

	if (!m || !*m)
		return pay_param_error(rq, "mchid", "缺少参数mchid", "query");
	if (strcmp(m, wxsim.cfg.wx_mchid) != 0)
		return pay_fail(rq, 400, "INVALID_REQUEST", "请求中的mchid与Authorization中的mchid不匹配",
				NULL, 0);
	return 0;
}

static int answer_order(struct req *rq, int rc, struct sim_order *o)
{
	if (rc == XQ_ENOTFOUND)
		return pay_fail(rq, 404, "ORDER_NOT_EXIST", "订单不存在", NULL, 0);
	if (rc || order_autoclose(rq->db, o))
		return pay_fail(rq, 500, "SYSTEM_ERROR", "系统错误", NULL, 0);
	return pay_ok(rq, 200, order_json(o));
}

int pay_query_out_trade_no(struct req *rq)
{
	struct sim_order o;
	int st;

	if ((st = pay_auth(rq, NULL)) || (st = query_mchid(rq)))
		return st;
	return answer_order(rq, order_by_otn(rq->db, wxsim.cfg.wx_mchid,
					     req_param(rq, "out_trade_no"), 0, &o), &o);
}

int pay_query_id(struct req *rq)
{
	struct sim_order o;
	int st;

	if ((st = pay_auth(rq, NULL)) || (st = query_mchid(rq)))
		return st;
	return answer_order(rq, order_by_tid(rq->db, wxsim.cfg.wx_mchid,
					     req_param(rq, "transaction_id"), &o), &o);
}

struct closing {
	const char *otn;
	int status;
};

static int close_tx(struct db *db, void *arg)
{
	struct closing *c = arg;
	struct sim_order o;
	int rc = order_by_otn(db, wxsim.cfg.wx_mchid, c->otn, 1, &o);

	if (rc == XQ_ENOTFOUND) {
		c->status = 404;
		return XQ_OK;
	}
	if (rc || (rc = order_autoclose(db, &o)))
		return rc;
	if (!strcmp(o.trade_state, "SUCCESS") || !strcmp(o.trade_state, "REFUND")) {
		c->status = 400;
		return XQ_OK;
	}
	c->status = 204; /* closing a closed order answers 204 again (§10, sandbox choice) */
	if (!strcmp(o.trade_state, "NOTPAY"))
		return db_run(db, &q_order_close, NULL, xq_now_ms(), o.id);
	return XQ_OK;
}

int pay_close(struct req *rq)
{
	struct closing c = { req_param(rq, "out_trade_no"), 0 };
	cJSON *b;
	int st, bad = 0;

	if ((st = pay_auth(rq, &b)))
		return st;
	if (!b || !opt_str(b, "mchid", &bad) || bad)
		return pay_param_error(rq, "/mchid", "mchid为必填字符串", "body");
	if (db_tx(rq->db, close_tx, &c))
		return pay_fail(rq, 500, "SYSTEM_ERROR", "系统错误", NULL, 0);
	if (c.status == 404)
		return pay_fail(rq, 404, "ORDER_NOT_EXIST", "订单不存在", NULL, 0);
	if (c.status == 400)
		return pay_fail(rq, 400, "ORDERPAID", "该订单已支付", NULL, ERR_PAID);
	log_info("wxsim: order %s closed", c.otn);
	return pay_ok(rq, 204, NULL);
}

/* ---- /v3/certificates (§4.2) -------------------------------------------------------------- */

int pay_certificates(struct req *rq)
{
	const char *alg = req_query(rq, "algorithm_type");
	cJSON *res, *data, *item, *enc;
	char nonce[13], when[32];
	struct buf ct;
	int st;

	if ((st = pay_auth(rq, NULL)))
		return st;
	if (alg && strcmp(alg, "RSA") && strcmp(alg, "SM2") && strcmp(alg, "ALL"))
		return pay_param_error(rq, "algorithm_type", "algorithm_type须为RSA、SM2或ALL", "query");
	if (!wxsim.cert_mode)
		return pay_fail(rq, 404, "RESOURCE_NOT_EXISTS",
				"无可用的平台证书，请使用微信支付公钥验签", NULL, 0);
	res = cJSON_CreateObject();
	data = cJSON_AddArrayToObject(res, "data");
	if (!alg || strcmp(alg, "SM2") != 0) {
		sim_random_str(nonce, 12, SIM_ALNUM);
		buf_init(&ct, 1u << 20);
		if (wxpay_aead_encrypt((const unsigned char *)wxsim.cfg.wx_apiv3_key,
				       strlen(wxsim.cfg.wx_apiv3_key), nonce, "certificate",
				       wxsim.platform_cert_pem, strlen(wxsim.platform_cert_pem), &ct)) {
			buf_release(&ct);
			cJSON_Delete(res);
			return pay_fail(rq, 500, "SYSTEM_ERROR", "系统错误", NULL, 0);
		}
		item = cJSON_CreateObject();
		cJSON_AddStringToObject(item, "serial_no", wxsim.cfg.wx_platform_key_id);
		sim_rfc3339(wxsim.cert_not_before_s, when);
		cJSON_AddStringToObject(item, "effective_time", when);
		sim_rfc3339(wxsim.cert_not_after_s, when);
		cJSON_AddStringToObject(item, "expire_time", when);
		enc = cJSON_AddObjectToObject(item, "encrypt_certificate");
		cJSON_AddStringToObject(enc, "algorithm", "AEAD_AES_256_GCM");
		cJSON_AddStringToObject(enc, "nonce", nonce);
		cJSON_AddStringToObject(enc, "associated_data", "certificate");
		cJSON_AddStringToObject(enc, "ciphertext", ct.data);
		cJSON_AddItemToArray(data, item);
		buf_release(&ct);
	}
	return pay_ok(rq, 200, res);
}
