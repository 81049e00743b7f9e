/*
 * mp.c - the api.weixin.qq.com side: code2Session (§14), access tokens
 * (§15, classic and stable), subscribe messages (§16) and phone numbers
 * (§17). Answers are HTTP 200 with {"errcode":..,"errmsg":".., rid: .."}
 * on failure, as WeChat's. Codes and openids are rows in xiaoqu_wxsim; the
 * /sim/... hooks in control.c mint them.
 */
#include "wxsim.h"
#include "json.h"
#include "log.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A classic token stays valid this long after a newer one was issued (§15). */
#define TOKEN_OVERLAP_MS 300000
/* Stable tokens roll this long before they expire (§15). */
#define STABLE_ROLL_MS 300000

DB_QUERY(q_user_add) = {
	"wxsim_user_add",
	"INSERT IGNORE INTO sim_user (appid, openid, created_ms) VALUES (?, ?, ?)",
	"ssl", NULL,
};

DB_QUERY(q_user_get) = {
	"wxsim_user_get",
	"SELECT openid FROM sim_user WHERE appid = ? AND openid = ?",
	"ss", "s",
};

DB_QUERY(q_code_get) = {
	"wxsim_code_get",
	"SELECT openid, expires_ms, used_ms FROM sim_login_code WHERE code = ? FOR UPDATE",
	"s", "lll",
};

DB_QUERY(q_code_use) = {
	"wxsim_code_use",
	"UPDATE sim_login_code SET used_ms = ? WHERE code = ? AND used_ms IS NULL",
	"ls", NULL,
};

DB_QUERY(q_code_add_used) = {
	"wxsim_code_add_used",
	"INSERT INTO sim_login_code (code, appid, openid, created_ms, expires_ms, used_ms)"
	" VALUES (?, ?, ?, ?, 0, ?)",
	"sssll", NULL,
};

DB_QUERY(q_token_retire) = {
	"wxsim_token_retire",
	"UPDATE sim_token SET expires_ms = LEAST(expires_ms, ?)"
	" WHERE appid = ? AND kind = ? AND expires_ms > ?",
	"lssl", NULL,
};

DB_QUERY(q_token_add) = {
	"wxsim_token_add",
	"INSERT INTO sim_token (token, appid, kind, created_ms, expires_ms) VALUES (?, ?, ?, ?, ?)",
	"sssll", NULL,
};

DB_QUERY(q_token_latest) = {
	"wxsim_token_latest",
	"SELECT token, expires_ms FROM sim_token WHERE appid = ? AND kind = 'stable'"
	" AND expires_ms > ? ORDER BY created_ms DESC LIMIT 1 FOR UPDATE",
	"sl", "sl",
};

DB_QUERY(q_token_get) = {
	"wxsim_token_get",
	"SELECT appid, expires_ms FROM sim_token WHERE token = ?",
	"s", "sl",
};

DB_QUERY(q_template_get) = {
	"wxsim_template_get",
	"SELECT keywords FROM sim_template WHERE template_id = ?",
	"s", "s",
};

DB_QUERY(q_quota_take) = {
	"wxsim_quota_take",
	"UPDATE sim_subscription SET remaining = remaining - 1"
	" WHERE appid = ? AND openid = ? AND template_id = ? AND remaining > 0",
	"sss", NULL,
};

DB_QUERY(q_message_add) = {
	"wxsim_message_add",
	"INSERT INTO sim_message (msgid, appid, openid, template_id, page, miniprogram_state,"
	" lang, data, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
	"lsssssssl", NULL,
};

DB_QUERY(q_phone_get) = {
	"wxsim_phone_get",
	"SELECT phone, country_code, openid, expires_ms, used_ms FROM sim_phone_code"
	" WHERE code = ? AND appid = ? FOR UPDATE",
	"ss", "sssll",
};

DB_QUERY(q_phone_use) = {
	"wxsim_phone_use",
	"UPDATE sim_phone_code SET used_ms = ? WHERE code = ?",
	"ls", NULL,
};

/* ---- helpers ---------------------------------------------------------------- */

/* Constant-time string equality (secrets). */
static int secret_eq(const char *a, const char *b)
{
	size_t n = strlen(a);
	return n == strlen(b) && n && CRYPTO_memcmp(a, b, n) == 0;
}

static void b64url(const unsigned char *in, size_t n, char *out /* 4*ceil(n/3)+1 */)
{
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	for (char *p = out; *p; p++) {
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
	}
}

void mp_openid_for_name(const char *appid, const char *name, char out[29])
{
	struct buf b;
	unsigned char md[32];
	unsigned int mdlen = 0;
	char enc[48];

	buf_init(&b, 1024);
	buf_printf(&b, "wxsim-openid\n%s\n%s", appid, name);
	EVP_Digest(b.data, b.len, md, &mdlen, EVP_sha256(), NULL);
	buf_release(&b);
	b64url(md, sizeof(md), enc);
	out[0] = 'o';
	memcpy(out + 1, enc, 27);
	out[28] = '\0';
}

int mp_user_register(struct db *db, const char *appid, const char *openid)
{
	return db_run(db, &q_user_add, NULL, appid, openid, xq_now_ms());
}

int mp_user_known(struct db *db, const char *appid, const char *openid, int *known)
{
	struct db_res r;
	int rc = db_run(db, &q_user_get, &r, appid, openid);

	if (rc)
		return rc;
	*known = r.nrows > 0;
	db_res_release(&r);
	return XQ_OK;
}

/* [A-Za-z0-9_-]{1,64} */
static int is_name(const char *s, size_t n)
{
	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/*
 * The deterministic rule: "test-<name>" or "test-<name>.<suffix>" is a valid
 * login code for openid mp_openid_for_name(appid, name); each distinct code
 * can still be used only once.
 */
static int test_code_name(const char *code, char name[65])
{
	const char *p, *dot;
	size_t n;

	if (strncmp(code, "test-", 5) != 0)
		return 0;
	p = code + 5;
	dot = strchr(p, '.');
	n = dot ? (size_t)(dot - p) : strlen(p);
	if (!is_name(p, n) || (dot && !is_name(dot + 1, strlen(dot + 1))))
		return 0;
	memcpy(name, p, n);
	name[n] = '\0';
	return 1;
}

/* Common appid/secret checks of §14/§15; 0 when both are right, else the errcode. */
static long check_app(const char *appid, const char *secret, const char **msg)
{
	if (!appid || !*appid)
		return *msg = "appid missing", 41002;
	if (!secret || !*secret)
		return *msg = "appsecret missing", 41004;
	if (strcmp(appid, wxsim.cfg.wx_appid) != 0)
		return *msg = "invalid appid", 40013;
	if (!secret_eq(secret, wxsim.cfg.wx_app_secret))
		return *msg = "invalid appsecret", 40125;
	return 0;
}

/* ---- code2Session ------------------------------------------------------------- */

struct c2s {
	const char *appid, *code;
	char openid[129];
	long errcode;
	const char *errmsg;
};

static int c2s_tx(struct db *db, void *arg)
{
	struct c2s *c = arg;
	struct db_res r;
	char name[65];
	int64_t now = xq_now_ms();
	int rc;

	c->errcode = 0;
	if ((rc = db_run(db, &q_code_get, &r, c->code)))
		return rc;
	if (r.nrows == 0) {
		db_res_release(&r);
		if (!test_code_name(c->code, name)) {
			c->errcode = 40029, c->errmsg = "invalid code";
			return XQ_OK;
		}
		mp_openid_for_name(c->appid, name, c->openid);
		rc = db_run(db, &q_code_add_used, NULL, c->code, c->appid, c->openid, now, now);
		if (rc == XQ_ECONFLICT) {
			c->errcode = 40163, c->errmsg = "code been used";
			return XQ_OK;
		}
		if (rc)
			return rc;
	} else {
		int64_t expires = db_i64(&r, 0, 1);
		int used = db_str(&r, 0, 2) != NULL;

		xq_snprintf(c->openid, sizeof(c->openid), "%s", db_str(&r, 0, 0));
		db_res_release(&r);
		if (used) {
			c->errcode = 40163, c->errmsg = "code been used";
			return XQ_OK;
		}
		if (expires && expires < now) {
			c->errcode = 40029, c->errmsg = "invalid code";
			return XQ_OK;
		}
		if ((rc = db_run(db, &q_code_use, NULL, now, c->code)))
			return rc;
	}
	return mp_user_register(db, c->appid, c->openid);
}

/* Armed errcode faults (POST /sim/faults): busy, rate_limited, code_blocked. */
static int mp_fault(struct req *rq, int *answered)
{
	char fault[33];
	int64_t delay = 0;

	*answered = 0;
	if (!fault_take(rq->db, rq->path, fault, &delay))
		return 0;
	*answered = 1;
	if (!strcmp(fault, "rate_limited"))
		return mp_fail(rq, 45011, "api minute-quota reach limit  mustslower  retry next minute");
	if (!strcmp(fault, "code_blocked"))
		return mp_fail(rq, 40226, "code blocked");
	return mp_fail(rq, -1, "system error");
}

int mp_jscode2session(struct req *rq)
{
	const char *appid = req_query(rq, "appid"), *secret = req_query(rq, "secret");
	const char *code = req_query(rq, "js_code"), *gt = req_query(rq, "grant_type");
	const char *msg = "";
	struct c2s c = { 0 };
	unsigned char key[16];
	char session_key[32];
	cJSON *o;
	long e;
	int rc, answered;

	rc = mp_fault(rq, &answered);
	if (answered)
		return rc;
	if ((e = check_app(appid, secret, &msg)))
		return mp_fail(rq, e, msg);
	if (!code || !*code)
		return mp_fail(rq, 41008, "missing code");
	if (!gt || strcmp(gt, "authorization_code") != 0)
		return mp_fail(rq, 40002, "invalid grant_type");
	c.appid = appid;
	c.code = code;
	if ((rc = db_tx(rq->db, c2s_tx, &c)))
		return mp_fail(rq, -1, "system error");
	if (c.errcode)
		return mp_fail(rq, c.errcode, c.errmsg);
	xq_random(key, sizeof(key));
	EVP_EncodeBlock((unsigned char *)session_key, key, sizeof(key));
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "session_key", session_key);
	cJSON_AddStringToObject(o, "openid", c.openid);
	/* text/plain is what integrators report for this endpoint (§14.2) */
	{
		char *text = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		resp_text(rq, 200, "text/plain", text);
		free(text);
	}
	return 200;
}

/* ---- access tokens ------------------------------------------------------------------ */

static void new_token(char out[137])
{
	char r[134];
	sim_random_str(r, 133, SIM_ALNUM "_-");
	xq_snprintf(out, 137, "86_%s", r);
}

struct tok {
	const char *appid;
	int force;
	char token[137];
	int64_t expires_ms;
};

static int classic_tx(struct db *db, void *arg)
{
	struct tok *t = arg;
	int64_t now = xq_now_ms();
	int rc;

	/* every call issues a new token; the previous one lives ~5 more minutes */
	if ((rc = db_run(db, &q_token_retire, NULL, now + TOKEN_OVERLAP_MS, t->appid, "classic", now)))
		return rc;
	new_token(t->token);
	t->expires_ms = now + wxsim.cfg.wxsim_token_ttl_s * 1000;
	return db_run(db, &q_token_add, NULL, t->token, t->appid, "classic", now, t->expires_ms);
}

static int stable_tx(struct db *db, void *arg)
{
	struct tok *t = arg;
	struct db_res r;
	int64_t now = xq_now_ms();
	int rc;

	if ((rc = db_run(db, &q_token_latest, &r, t->appid, now)))
		return rc;
	if (r.nrows && !t->force && db_i64(&r, 0, 1) - now > STABLE_ROLL_MS) {
		xq_snprintf(t->token, sizeof(t->token), "%s", db_str(&r, 0, 0));
		t->expires_ms = db_i64(&r, 0, 1);
		db_res_release(&r);
		return XQ_OK;
	}
	db_res_release(&r);
	/* force_refresh invalidates the current token at once */
	if (t->force && (rc = db_run(db, &q_token_retire, NULL, now, t->appid, "stable", now)))
		return rc;
	new_token(t->token);
	t->expires_ms = now + wxsim.cfg.wxsim_token_ttl_s * 1000;
	return db_run(db, &q_token_add, NULL, t->token, t->appid, "stable", now, t->expires_ms);
}

static int token_answer(struct req *rq, const struct tok *t)
{
	cJSON *o = cJSON_CreateObject();
	int64_t left = (t->expires_ms - xq_now_ms() + 999) / 1000;

	cJSON_AddStringToObject(o, "access_token", t->token);
	cJSON_AddNumberToObject(o, "expires_in", (double)(left > 0 ? left : 0));
	return mp_ok(rq, o);
}

int mp_token(struct req *rq)
{
	const char *gt = req_query(rq, "grant_type"), *msg = "";
	struct tok t = { 0 };
	long e;
	int rc, answered;

	rc = mp_fault(rq, &answered);
	if (answered)
		return rc;
	if (!gt || strcmp(gt, "client_credential") != 0)
		return mp_fail(rq, 40002, "invalid grant_type");
	t.appid = req_query(rq, "appid");
	if ((e = check_app(t.appid, req_query(rq, "secret"), &msg)))
		return mp_fail(rq, e, msg);
	if (db_tx(rq->db, classic_tx, &t))
		return mp_fail(rq, -1, "system error");
	return token_answer(rq, &t);
}

int mp_stable_token(struct req *rq)
{
	cJSON *body = req_json_keep(rq, cJSON_ParseWithLength(rq->body.data, rq->body.len));
	const cJSON *force;
	const char *gt, *msg = "";
	struct tok t = { 0 };
	long e;
	int rc, answered;

	rc = mp_fault(rq, &answered);
	if (answered)
		return rc;
	if (!cJSON_IsObject(body))
		return mp_fail(rq, 47001, "data format error");
	gt = sim_jstr(body, "grant_type");
	if (!gt || strcmp(gt, "client_credential") != 0)
		return mp_fail(rq, 40002, "invalid grant_type");
	t.appid = sim_jstr(body, "appid");
	if ((e = check_app(t.appid, sim_jstr(body, "secret"), &msg)))
		return mp_fail(rq, e, msg);
	force = cJSON_GetObjectItemCaseSensitive(body, "force_refresh");
	t.force = cJSON_IsTrue(force);
	if (db_tx(rq->db, stable_tx, &t))
		return mp_fail(rq, -1, "system error");
	return token_answer(rq, &t);
}

/*
 * Checks ?access_token=; 0 and the token's appid in appid[33] when valid,
 * else the errcode (with *msg): 41001 missing, 40001 unknown or superseded,
 * 42001 expired.
 */
static long token_check(struct req *rq, char appid[33], const char **msg)
{
	const char *tok = req_query(rq, "access_token");
	struct db_res r;
	int64_t exp;

	if (!tok || !*tok)
		return *msg = "access_token missing", 41001;
	if (db_run(rq->db, &q_token_get, &r, tok))
		return *msg = "system error", -1;
	if (!r.nrows) {
		db_res_release(&r);
		return *msg = "invalid credential, access_token is invalid or not latest", 40001;
	}
	xq_snprintf(appid, 33, "%s", db_str(&r, 0, 0));
	exp = db_i64(&r, 0, 1);
	db_res_release(&r);
	if (exp <= xq_now_ms())
		return *msg = "access_token expired", 42001;
	return 0;
}

/* ---- subscribe messages (§16) ------------------------------------------------------- */

static int all_in(const char *s, const char *set)
{
	for (; *s; s++)
		if (!strchr(set, *s))
			return 0;
	return 1;
}

static int is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

/* "12.34", "¥12.34", "12.34元", "-1" ... : currency symbol + digits (<= 2 decimals) + optional 元. */
static int is_amount(const char *s)
{
	const char *p = s, *dot;
	size_t n;

	if (!strncmp(p, "\xef\xbf\xa5", 3))	/* ￥ */
		p += 3;
	else if (!strncmp(p, "\xc2\xa5", 2))	/* ¥ */
		p += 2;
	else if (*p == '$')
		p++;
	n = strlen(p);
	if (n >= 3 && !strcmp(p + n - 3, "\xe5\x85\x83")) /* 元 */
		n -= 3;
	if (n == 0 || p[0] < '0' || p[0] > '9')
		return 0;
	dot = memchr(p, '.', n);
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p + i == dot)))
			return 0;
	return !dot || ((size_t)(p + n - dot - 1) >= 1 && (size_t)(p + n - dot - 1) <= 2);
}

/*
 * The value rules of §16 by keyword type ("thing1" -> "thing"). Returns NULL
 * when value fits, else the issue for the 47003 message.
 */
static const char *check_keyword(const char *key, const char *value)
{
	char type[32];
	size_t n = strcspn(key, "0123456789");
	long len = json_utf8_len(value);

	if (n == 0 || n >= sizeof(type))
		return "unknown keyword";
	memcpy(type, key, n);
	type[n] = '\0';
	if (len <= 0)
		return "is empty";
	if (!strcmp(type, "thing"))
		return len <= 20 ? NULL : "exceed max length 20";
	if (!strcmp(type, "number"))
		return len <= 32 && all_in(value, "0123456789.-") ? NULL : "is not a number";
	if (!strcmp(type, "letter"))
		return len <= 32 && all_in(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
			       ? NULL : "is not letters";
	if (!strcmp(type, "symbol"))
		return len <= 5 && is_ascii(value) ? NULL : "is not symbols";
	if (!strcmp(type, "character_string"))
		return len <= 32 && is_ascii(value) ? NULL : "is not a character string";
	if (!strcmp(type, "time") || !strcmp(type, "date")) {
		/* digits and separators; a time needs hh:mm, a date a year */
		const char *seps = "0123456789-/: \xe5\xb9\xb4\xe6\x9c\x88\xe6\x97\xa5"; /* 年月日 bytes */
		if (len > 32 || !all_in(value, seps))
			return "is not a time/date";
		if (!strcmp(type, "time") && !strchr(value, ':'))
			return "is not a time";
		if (!strcmp(type, "date") && strspn(value, "0123456789") < 4)
			return "is not a date";
		return NULL;
	}
	if (!strcmp(type, "amount"))
		return is_amount(value) ? NULL : "is not an amount";
	if (!strcmp(type, "phone_number"))
		return len <= 17 && all_in(value, "0123456789+-() ") ? NULL : "is not a phone number";
	if (!strcmp(type, "car_number"))
		return len <= 8 ? NULL : "exceed max length 8";
	if (!strcmp(type, "name"))
		return (is_ascii(value) ? len <= 20 : len <= 10) ? NULL : "exceed max length";
	if (!strcmp(type, "phrase"))
		return len <= 5 && !is_ascii(value) ? NULL : "is not a phrase";
	return "unknown keyword type";
}

/* 0 if data matches the template's keywords, else fills msg (47003). */
static int check_data(const cJSON *data, const char *keywords, char *msg, size_t n)
{
	char kw[256], *save = NULL;
	const cJSON *item;

	if (!cJSON_IsObject(data)) {
		xq_snprintf(msg, n, "argument invalid! data is not an object");
		return 1;
	}
	xq_snprintf(kw, sizeof(kw), "%s", keywords);
	for (char *k = strtok_r(kw, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(data, k);
		const char *v = cJSON_IsObject(e) ? sim_jstr(e, "value") : NULL, *issue;
		if (!v) {
			xq_snprintf(msg, n, "argument invalid! data.%s.value is empty", k);
			return 1;
		}
		if ((issue = check_keyword(k, v))) {
			xq_snprintf(msg, n, "argument invalid! data.%s.value %s", k, issue);
			return 1;
		}
	}
	cJSON_ArrayForEach(item, data)
	{
		char pat[80];
		xq_snprintf(pat, sizeof(pat), ",%.60s,", item->string);
		xq_snprintf(kw, sizeof(kw), ",%s,", keywords);
		if (!strstr(kw, pat)) {
			xq_snprintf(msg, n, "argument invalid! data.%.60s is not a keyword of the template",
				    item->string);
			return 1;
		}
	}
	return 0;
}

int mp_subscribe_send(struct req *rq)
{
	static const char *const states[] = { "developer", "trial", "formal", NULL };
	static const char *const langs[] = { "zh_CN", "en_US", "zh_HK", "zh_TW", NULL };
	cJSON *body;
	const char *msg = "", *touser, *tid, *page, *state, *lang;
	char appid[33], errbuf[200], *data_text;
	struct db_res r;
	unsigned char rb[8];
	int64_t msgid;
	long e;
	int known = 0, ok, rc, answered;
	cJSON *o;

	rc = mp_fault(rq, &answered);
	if (answered)
		return rc;
	if ((e = token_check(rq, appid, &msg)))
		return mp_fail(rq, e, msg);
	body = req_json_keep(rq, cJSON_ParseWithLength(rq->body.data, rq->body.len));
	if (!cJSON_IsObject(body))
		return mp_fail(rq, 47001, "data format error");
	touser = sim_jstr(body, "touser");
	if (!touser || !*touser || mp_user_known(rq->db, appid, touser, &known) || !known)
		return mp_fail(rq, 40003, "invalid openid");
	tid = sim_jstr(body, "template_id");
	if (!tid || !*tid || db_run(rq->db, &q_template_get, &r, tid))
		return mp_fail(rq, 40037, "invalid template_id");
	if (!r.nrows) {
		db_res_release(&r);
		return mp_fail(rq, 40037, "invalid template_id");
	}
	page = sim_jstr(body, "page");
	if (cJSON_GetObjectItemCaseSensitive(body, "page") && (!page || strlen(page) > 512 || strstr(page, "://"))) {
		db_res_release(&r);
		return mp_fail(rq, 41030, "invalid page");
	}
	state = sim_jstr(body, "miniprogram_state");
	lang = sim_jstr(body, "lang");
	ok = 1;
	if (cJSON_GetObjectItemCaseSensitive(body, "miniprogram_state")) {
		ok = 0;
		for (size_t i = 0; state && states[i]; i++)
			ok |= !strcmp(state, states[i]);
	}
	if (!ok) {
		db_res_release(&r);
		return mp_fail(rq, 47003, "argument invalid! miniprogram_state");
	}
	if (cJSON_GetObjectItemCaseSensitive(body, "lang")) {
		ok = 0;
		for (size_t i = 0; lang && langs[i]; i++)
			ok |= !strcmp(lang, langs[i]);
	}
	if (!ok) {
		db_res_release(&r);
		return mp_fail(rq, 47003, "argument invalid! lang");
	}
	rc = check_data(cJSON_GetObjectItemCaseSensitive(body, "data"), db_str(&r, 0, 0), errbuf,
			sizeof(errbuf));
	db_res_release(&r);
	if (rc)
		return mp_fail(rq, 47003, errbuf);
	/* one acceptance, one message */
	if (db_run(rq->db, &q_quota_take, NULL, appid, touser, tid))
		return mp_fail(rq, -1, "system error");
	if (db_affected(rq->db) == 0)
		return mp_fail(rq, 43101, "user refuse to accept the msg");
	xq_random(rb, sizeof(rb));
	msgid = 1000000000000000LL + (int64_t)(((uint64_t)rb[0] << 40 | (uint64_t)rb[1] << 32 |
						(uint64_t)rb[2] << 24 | (uint64_t)rb[3] << 16 |
						(uint64_t)rb[4] << 8 | rb[5]) % 8000000000000000ULL);
	data_text = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(body, "data"));
	rc = db_run(rq->db, &q_message_add, NULL, msgid, appid, touser, tid, page,
		    state ? state : "formal", lang ? lang : "zh_CN", data_text, xq_now_ms());
	free(data_text);
	if (rc)
		return mp_fail(rq, -1, "system error");
	log_info("wxsim: subscribe message %lld to %.40s (%s)", (long long)msgid, touser, tid);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "errcode", 0);
	cJSON_AddStringToObject(o, "errmsg", "ok");
	cJSON_AddNumberToObject(o, "msgid", (double)msgid);
	return mp_ok(rq, o);
}

/* ---- phone number (§17) -------------------------------------------------------------- */

struct phone {
	const char *appid, *code, *openid;
	char phone[33], cc[9];
	long errcode;
	const char *errmsg;
};

static int phone_tx(struct db *db, void *arg)
{
	struct phone *p = arg;
	struct db_res r;
	int64_t now = xq_now_ms();
	int rc;

	p->errcode = 0;
	if ((rc = db_run(db, &q_phone_get, &r, p->code, p->appid)))
		return rc;
	if (!r.nrows || db_str(&r, 0, 4) || db_i64(&r, 0, 3) < now) {
		db_res_release(&r);
		p->errcode = 40029, p->errmsg = "invalid code";
		return XQ_OK;
	}
	if (p->openid && db_str(&r, 0, 2) && strcmp(p->openid, db_str(&r, 0, 2)) != 0) {
		db_res_release(&r);
		p->errcode = 40003, p->errmsg = "invalid openid";
		return XQ_OK;
	}
	xq_snprintf(p->phone, sizeof(p->phone), "%s", db_str(&r, 0, 0));
	xq_snprintf(p->cc, sizeof(p->cc), "%s", db_str(&r, 0, 1));
	db_res_release(&r);
	return db_run(db, &q_phone_use, NULL, now, p->code);
}

int mp_phone_number(struct req *rq)
{
	struct phone p = { 0 };
	const char *msg = "";
	char appid[33], full[48];
	cJSON *body, *o, *info, *wm;
	long e;
	int rc, answered;

	rc = mp_fault(rq, &answered);
	if (answered)
		return rc;
	if ((e = token_check(rq, appid, &msg)))
		return mp_fail(rq, e, msg);
	body = req_json_keep(rq, cJSON_ParseWithLength(rq->body.data, rq->body.len));
	if (!cJSON_IsObject(body))
		return mp_fail(rq, 47001, "data format error");
	p.appid = appid;
	p.code = sim_jstr(body, "code");
	p.openid = sim_jstr(body, "openid");
	if (!p.code || !*p.code)
		return mp_fail(rq, 40029, "invalid code");
	if (db_tx(rq->db, phone_tx, &p))
		return mp_fail(rq, -1, "system error");
	if (p.errcode)
		return mp_fail(rq, p.errcode, p.errmsg);
	if (!strcmp(p.cc, "86"))
		xq_snprintf(full, sizeof(full), "%s", p.phone);
	else
		xq_snprintf(full, sizeof(full), "+%s %s", p.cc, p.phone);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "errcode", 0);
	cJSON_AddStringToObject(o, "errmsg", "ok");
	info = cJSON_AddObjectToObject(o, "phone_info");
	cJSON_AddStringToObject(info, "phoneNumber", full);
	cJSON_AddStringToObject(info, "purePhoneNumber", p.phone);
	cJSON_AddStringToObject(info, "countryCode", p.cc);
	wm = cJSON_AddObjectToObject(info, "watermark");
	cJSON_AddNumberToObject(wm, "timestamp", (double)sim_now_s());
	cJSON_AddStringToObject(wm, "appid", appid);
	return mp_ok(rq, o);
}
