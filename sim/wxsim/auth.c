/*
 * auth.c - both directions of WeChat Pay's signatures as WeChat's side sees
 * them: checking the merchant's Authorization header (§2.5) and signing our
 * answers and callbacks with the platform key (§3, with the §3.4 faults).
 * The cryptography itself is lib/wxpay_sign; this file only decides what
 * gets signed or verified and what WeChat answers when it fails.
 */
#include "wxsim.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* §2.5 step 4 (sandbox choice, §20.9): requests older or newer than this are refused. */
#define REQ_TS_WINDOW_S 300
/* A stale_timestamp fault signs as of this long ago (beyond the 5-minute check). */
#define STALE_S 600

/* Internal error ids WeChat appends to Request-ID (§1.2, [obs]). */
#define ERR_SIGN 268443699L

struct auth_hdr {
	char mchid[64];
	char nonce[128];
	char signature[WXPAY_SIG_B64_MAX + 64];
	char timestamp[32];
	char serial[128];
	unsigned seen; /* bit per field */
};

static int sign_error(struct req *rq, const char *message, const char *issue)
{
	cJSON *d = cJSON_CreateObject(), *dd = cJSON_CreateObject();

	cJSON_AddStringToObject(d, "field", "signature");
	cJSON_AddStringToObject(d, "location", "authorization");
	cJSON_AddStringToObject(dd, "issue", issue);
	cJSON_AddItemToObject(d, "detail", dd);
	return pay_fail(rq, 401, "SIGN_ERROR", message, d, ERR_SIGN);
}

/*
 * Parses `WECHATPAY2-SHA256-RSA2048 k="v",k="v"...` (§2.4). Optional spaces
 * around commas are tolerated (§2.4 [choice]); unknown keys, a missing or
 * repeated key, or an unquoted value are refused.
 */
static int parse_authorization(const char *h, struct auth_hdr *a, const char **why)
{
	static const char *const names[] = { "mchid", "nonce_str", "signature", "timestamp",
					     "serial_no" };
	size_t slen = strlen(WXPAY_SIGN_SCHEME);
	const char *p;

	memset(a, 0, sizeof(*a));
	if (!h || !*h) {
		*why = "missing Authorization header";
		return XQ_EAUTH;
	}
	if (strncmp(h, WXPAY_SIGN_SCHEME, slen) != 0 || h[slen] != ' ') {
		*why = "Authorization scheme is not " WXPAY_SIGN_SCHEME;
		return XQ_EAUTH;
	}
	p = h + slen;
	for (;;) {
		const char *k, *v, *vend;
		size_t klen, i;
		char *dst;
		size_t cap;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		k = p;
		while (*p && *p != '=' && *p != ',' && *p != ' ')
			p++;
		klen = (size_t)(p - k);
		if (*p != '=' || p[1] != '"') {
			*why = "Authorization fields must be key=\"value\"";
			return XQ_EAUTH;
		}
		v = p + 2;
		vend = strchr(v, '"');
		if (!vend) {
			*why = "unterminated value in Authorization";
			return XQ_EAUTH;
		}
		for (i = 0; i < XQ_ARRAY_LEN(names); i++)
			if (strlen(names[i]) == klen && !memcmp(k, names[i], klen))
				break;
		if (i == XQ_ARRAY_LEN(names)) {
			*why = "unknown field in Authorization";
			return XQ_EAUTH;
		}
		if (a->seen & (1u << i)) {
			*why = "duplicate field in Authorization";
			return XQ_EAUTH;
		}
		a->seen |= 1u << i;
		switch (i) {
		case 0: dst = a->mchid, cap = sizeof(a->mchid); break;
		case 1: dst = a->nonce, cap = sizeof(a->nonce); break;
		case 2: dst = a->signature, cap = sizeof(a->signature); break;
		case 3: dst = a->timestamp, cap = sizeof(a->timestamp); break;
		default: dst = a->serial, cap = sizeof(a->serial); break;
		}
		if ((size_t)(vend - v) >= cap) {
			*why = "Authorization value too long";
			return XQ_EAUTH;
		}
		memcpy(dst, v, (size_t)(vend - v));
		dst[vend - v] = '\0';
		p = vend + 1;
		while (*p == ' ')
			p++;
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p) {
			*why = "Authorization fields must be separated by commas";
			return XQ_EAUTH;
		}
	}
	if (a->seen != 0x1f) {
		*why = "Authorization lacks one of mchid, nonce_str, signature, timestamp, serial_no";
		return XQ_EAUTH;
	}
	return XQ_OK;
}

/* Serials compare as hex: case-insensitive, leading zeros ignored. */
static int serial_same(const char *a, const char *b)
{
	while (*a == '0' && a[1])
		a++;
	while (*b == '0' && b[1])
		b++;
	return strcasecmp(a, b) == 0;
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

int pay_auth(struct req *rq, cJSON **json)
{
	struct auth_hdr a;
	const char *why = "", *uri = req_env(rq, "REQUEST_URI");
	cJSON *body = NULL;
	struct buf msg;
	int64_t ts;
	int rc;

	if (json)
		*json = NULL;
	if (!uri)
		uri = rq->path;
	if (!req_header(rq, "User-Agent"))
		log_warn("wxsim: %s %s without User-Agent (WeChat may refuse such requests)",
			 rq->method, rq->path);
	/* 1. syntax */
	if (parse_authorization(req_header(rq, "Authorization"), &a, &why)) {
		log_info("wxsim: SIGN_ERROR: %s", why);
		return sign_error(rq, "Http头Authorization值格式错误，请参考《微信支付商户REST API签名规则》",
				  why);
	}
	/* 2. merchant and its certificate */
	if (strcmp(a.mchid, wxsim.cfg.wx_mchid) != 0)
		return pay_fail(rq, 400, "MCH_NOT_EXISTS", "商户号不存在", NULL, 0);
	if (!serial_same(a.serial, wxpay_pubkey_serial(wxsim.merchant_cert))) {
		log_info("wxsim: SIGN_ERROR: unknown merchant certificate serial '%.64s'", a.serial);
		return sign_error(rq, "商户证书序列号有误。请使用签名私钥匹配的证书序列号",
				  "unknown certificate serial_no");
	}
	/* 3. a body that names a merchant must name this one */
	if (rq->body.len) {
		body = cJSON_ParseWithLength(rq->body.data, rq->body.len);
		req_json_keep(rq, body);
		if (cJSON_IsObject(body)) {
			const char *bm = sim_jstr(body, "mchid");
			if (!bm)
				bm = sim_jstr(body, "sp_mchid");
			if (bm && strcmp(bm, a.mchid) != 0)
				return pay_fail(rq, 400, "INVALID_REQUEST",
						"请求中的mchid与Authorization中的mchid不匹配",
						NULL, 0);
		}
	}
	/* 4. freshness: seconds, within the window */
	if (strlen(a.timestamp) > 10 || !all_digits(a.timestamp) ||
	    xq_parse_i64(a.timestamp, &ts)) {
		log_info("wxsim: SIGN_ERROR: timestamp '%.20s' is not unix seconds", a.timestamp);
		return sign_error(rq, "Http头Authorization中的timestamp格式错误，应为秒级时间戳",
				  "timestamp is not unix seconds");
	}
	if (ts > sim_now_s() + REQ_TS_WINDOW_S || ts < sim_now_s() - REQ_TS_WINDOW_S) {
		log_info("wxsim: SIGN_ERROR: timestamp %lld is %lld s from now", (long long)ts,
			 (long long)(sim_now_s() - ts));
		return sign_error(rq, "Http头Authorization中的timestamp已过期，请使用当前时间重新签名",
				  "timestamp expired");
	}
	/* 6. the signature over what actually arrived */
	buf_init(&msg, rq->body.len + 8192);
	rc = wxpay_request_message(&msg, rq->method, uri, a.timestamp, a.nonce, rq->body.data,
				   rq->body.len);
	if (rc == XQ_OK)
		rc = wxpay_verify_raw(wxsim.merchant_cert, msg.data, msg.len, a.signature);
	else
		rc = XQ_EAUTH;
	if (rc) {
		cJSON *d = cJSON_CreateObject(), *dd = cJSON_CreateObject();
		cJSON *si = cJSON_CreateObject();
		/* WeChat shows the start of the string it verified (§2.5) */
		size_t cut = 0, lines = 0;
		char *trunc;

		while (cut < msg.len && lines < 4)
			if (msg.data[cut++] == '\n')
				lines++;
		trunc = xq_malloc(cut + 8);
		memcpy(trunc, msg.data, cut);
		memcpy(trunc + cut, cut < msg.len ? "\xe2\x80\xa6\n" : "", cut < msg.len ? 5 : 1);
		cJSON_AddStringToObject(d, "field", "signature");
		cJSON_AddStringToObject(d, "location", "authorization");
		cJSON_AddStringToObject(dd, "issue", "sign not match");
		cJSON_AddItemToObject(d, "detail", dd);
		cJSON_AddStringToObject(si, "method", rq->method);
		cJSON_AddStringToObject(si, "url", uri);
		cJSON_AddNumberToObject(si, "sign_message_length", (double)msg.len);
		cJSON_AddStringToObject(si, "truncated_sign_message", trunc);
		cJSON_AddItemToObject(d, "sign_information", si);
		free(trunc);
		buf_release(&msg);
		log_info("wxsim: SIGN_ERROR: signature does not verify for %s %s", rq->method, uri);
		return pay_fail(rq, 401, "SIGN_ERROR", "签名错误，请检查后再试", d, ERR_SIGN);
	}
	buf_release(&msg);
	if (rq->body.len) {
		const char *ct = req_header(rq, "Content-Type");
		if (!ct || strncasecmp(ct, "application/json", 16) != 0)
			return pay_param_error(rq, "Content-Type", "Content-Type必须为application/json",
					       "header");
		if (!cJSON_IsObject(body))
			return pay_fail(rq, 400, "PARAM_ERROR", "请求体不是合法的JSON对象", NULL, 0);
	}
	if (json)
		*json = body;
	return 0;
}

/* ---- signing as WeChat ------------------------------------------------------ */

static const char *const faults[] = { "probe",	  "stale_timestamp", "wrong_serial",
				      "tampered", "unsigned",	     NULL };

int sim_fault_known(const char *name)
{
	for (size_t i = 0; faults[i]; i++)
		if (!strcmp(name, faults[i]))
			return 1;
	return 0;
}

int sim_sign(const char *fault, const char *body, size_t len, struct sim_sig *out,
	     char **tampered)
{
	struct buf msg;
	int64_t ts = sim_now_s();
	int rc;

	memset(out, 0, sizeof(*out));
	*tampered = NULL;
	if (fault && !strcmp(fault, "unsigned")) {
		out->unsigned_ = 1;
		return XQ_OK;
	}
	if (fault && !strcmp(fault, "stale_timestamp"))
		ts -= STALE_S;
	xq_snprintf(out->timestamp, sizeof(out->timestamp), "%lld", (long long)ts);
	sim_random_str(out->nonce, 32, SIM_HEX_UPPER);
	xq_snprintf(out->serial, sizeof(out->serial), "%s", wxsim.cfg.wx_platform_key_id);
	buf_init(&msg, len + 256);
	rc = wxpay_response_message(&msg, out->timestamp, out->nonce, body, len);
	if (!rc)
		rc = wxpay_sign_raw(wxsim.platform_key, msg.data, msg.len, out->signature,
				    sizeof(out->signature));
	buf_release(&msg);
	if (rc)
		return rc;
	if (!fault)
		return XQ_OK;
	if (!strcmp(fault, "probe")) {
		/* WeChat's probe traffic: a deliberately wrong signature (§3.3 step 4) */
		char r[345];
		sim_random_str(r, 344 - strlen(WXPAY_SIGNTEST_PREFIX), SIM_ALNUM);
		xq_snprintf(out->signature, sizeof(out->signature), "%s%s", WXPAY_SIGNTEST_PREFIX, r);
	} else if (!strcmp(fault, "wrong_serial")) {
		/* a key id of the same kind that the merchant does not have */
		if (wxsim.cert_mode)
			xq_snprintf(out->serial, sizeof(out->serial), "%s", "5157F09EFDC096DE15EBE81A47057A7232F1B8E1");
		else
			xq_snprintf(out->serial, sizeof(out->serial), "%s", "PUB_KEY_ID_0114232010922024000000");
		if (!strcmp(out->serial, wxsim.cfg.wx_platform_key_id))
			out->serial[strlen(out->serial) - 1] = '9';
	} else if (!strcmp(fault, "tampered")) {
		/* the body changes after signing: one character of a value differs */
		if (len) {
			char *t = xq_strndup(body, len);
			size_t i = len / 2;
			while (i < len && !((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'z') ||
					    (t[i] >= 'A' && t[i] <= 'Z')))
				i++;
			if (i == len)
				i = 0;
			t[i] = t[i] == '1' ? '2' : '1';
			*tampered = t;
		} else {
			/* nothing to change in an empty body: the signed nonce differs instead */
			out->nonce[0] = out->nonce[0] == 'A' ? 'B' : 'A';
		}
	}
	return XQ_OK;
}
