/*
 * wxclient.c - the libcurl side of WeChat for xq-api: code2Session and the
 * signed Pay API v3 calls with verified answers. The cryptography itself is
 * wxpay_sign.c; the handlers that decide what to do with answers are
 * cgi/api_resident.c and cgi/api_pay.c.
 */
#include "wxclient.h"
#include "config.h"
#include "log.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WX_REPLY_MAX (1024 * 1024)
#define WX_TIMEOUT_S 10L
#define WX_UA "xiaoqu-xq-api/1.0"

static pthread_mutex_t keys_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static struct wx_keys keys;
static int keys_loaded;

static char *slurp(const char *path, size_t *len)
{
	FILE *f;
	char *data;
	long n;

	if (!path || !*path || !(f = fopen(path, "rb")))
		return NULL;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || n > 65536 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return NULL;
	}
	data = xq_malloc((size_t)n + 1);
	if (fread(data, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(data);
		return NULL;
	}
	fclose(f);
	data[n] = '\0';
	*len = (size_t)n;
	return data;
}

int wxclient_keys(const struct config *cfg, const struct wx_keys **out)
{
	char *pem;
	size_t len = 0;
	int rc = XQ_OK;

	pthread_mutex_lock(&keys_mu);
	if (keys_loaded)
		goto done;
	if (!keys.merchant) {
		pem = slurp(cfg->wx_merchant_key_file, &len);
		if (!pem || wxpay_privkey_load(pem, len, &keys.merchant)) {
			rc = xq_error(XQ_EINVAL, "cannot load wx.merchant_key_file '%s'",
				      cfg->wx_merchant_key_file);
		}
		if (pem) {
			OPENSSL_cleanse(pem, len);
			free(pem);
		}
		if (rc)
			goto done;
	}
	pem = slurp(cfg->wx_platform_pubkey_file, &len);
	if (!pem || wxpay_pubkey_load(pem, len, &keys.platform)) {
		free(pem);
		rc = xq_error(XQ_EINVAL, "cannot load wx.platform_pubkey_file '%s'",
			      cfg->wx_platform_pubkey_file);
		goto done;
	}
	free(pem);
	keys.entry.serial = cfg->wx_platform_key_id;
	keys.entry.key = keys.platform;
	keys.keyset.v = &keys.entry;
	keys.keyset.n = 1;
	keys_loaded = 1;
done:
	pthread_mutex_unlock(&keys_mu);
	*out = rc ? NULL : &keys;
	return rc;
}

/* ---- transport -------------------------------------------------------- */

struct hdrs {
	char timestamp[32], nonce[80], signature[WXPAY_SIG_B64_MAX], serial[WXPAY_SERIAL_MAX + 1];
	char sigtype[48], request_id[80];
	int has_ts, has_nonce, has_sig, has_serial, has_type;
};

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct buf *b = arg;
	if (buf_append(b, p, sz * n))
		return 0;
	return sz * n;
}

static void copy_value(char *dst, size_t cap, const char *v, size_t n)
{
	while (n && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
		n--;
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static size_t on_header(char *p, size_t sz, size_t n, void *arg)
{
	struct hdrs *h = arg;
	size_t len = sz * n;
	const char *colon = memchr(p, ':', len);
	size_t nl;

	if (!colon)
		return len;
	nl = (size_t)(colon - p);
	colon++;
#define HDR(name, field, flag)                                                               \
	if (nl == sizeof(name) - 1 && !strncasecmp(p, name, nl)) {                          \
		copy_value(h->field, sizeof(h->field), colon, len - nl - 1);                \
		h->flag = 1;                                                                  \
	}
	HDR("Wechatpay-Timestamp", timestamp, has_ts)
	HDR("Wechatpay-Nonce", nonce, has_nonce)
	HDR("Wechatpay-Signature", signature, has_sig)
	HDR("Wechatpay-Serial", serial, has_serial)
	HDR("Wechatpay-Signature-Type", sigtype, has_type)
#undef HDR
	if (nl == 10 && !strncasecmp(p, "Request-ID", 10))
		copy_value(h->request_id, sizeof(h->request_id), colon, len - nl - 1);
	return len;
}

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* One HTTP exchange. Returns XQ_OK when an answer (any status) arrived. */
static int http_do(const char *method, const char *url, struct curl_slist *hl, const char *body,
		   long *status, struct buf *out, struct hdrs *h)
{
	CURL *c;
	CURLcode cc;

	pthread_once(&curl_once, curl_init_once);
	c = curl_easy_init();

	if (!c)
		return XQ_ERROR;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_USERAGENT, WX_UA);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, WX_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	if (h) {
		curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
	}
	cc = curl_easy_perform(c);
	*status = 0;
	if (cc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(c);
	if (cc != CURLE_OK) {
		/* the URL may carry the app secret: log the curl error only */
		log_warn("wechat %s call failed: %s", method, curl_easy_strerror(cc));
		return XQ_EAGAIN;
	}
	return XQ_OK;
}

/* ---- code2Session ------------------------------------------------------ */

const char *wx_login_message_zh(long errcode)
{
	switch (errcode) {
	case -1:
		return "微信系统繁忙，请稍后重试";
	case 40029:
		return "登录凭证无效或已过期，请重新登录";
	case 40163:
		return "登录凭证已被使用，请重新登录";
	case 45011:
		return "登录过于频繁，请一分钟后再试";
	case 40226:
		return "该微信账号存在风险，暂时无法登录";
	case 40013:
	case 40125:
	case 41002:
	case 41004:
		return "小程序配置错误，请联系物业";
	default:
		return "微信登录失败，请稍后重试";
	}
}

static void json_copy(const cJSON *o, const char *name, char *dst, size_t cap)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
	dst[0] = '\0';
	if (cJSON_IsString(it) && strlen(it->valuestring) < cap)
		memcpy(dst, it->valuestring, strlen(it->valuestring) + 1);
}

int wx_code2session(const struct config *cfg, const char *code, struct wx_session *out)
{
	struct buf url, body;
	struct curl_slist *hl = NULL;
	char *e_appid, *e_secret, *e_code;
	cJSON *j = NULL;
	const cJSON *ec;
	long status = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	buf_init(&url, 4096);
	buf_init(&body, WX_REPLY_MAX);
	e_appid = curl_easy_escape(NULL, cfg->wx_appid, 0);
	e_secret = curl_easy_escape(NULL, cfg->wx_app_secret ? cfg->wx_app_secret : "", 0);
	e_code = curl_easy_escape(NULL, code, 0);
	if (!e_appid || !e_secret || !e_code) {
		rc = XQ_ERROR;
		goto out;
	}
	buf_printf(&url, "%s/sns/jscode2session?appid=%s&secret=%s&js_code=%s"
			 "&grant_type=authorization_code",
		   cfg->wx_api_base_url, e_appid, e_secret, e_code);
	hl = curl_slist_append(hl, "Accept: application/json");
	rc = http_do("GET", url.data, hl, NULL, &status, &body, NULL);
	if (rc)
		goto out;
	if (status != 200 || !(j = cJSON_ParseWithLength(body.data, body.len)) || !cJSON_IsObject(j)) {
		log_warn("code2session: http %ld, unparsable answer", status);
		rc = status >= 500 || status == 0 ? XQ_EAGAIN : XQ_EPROTO;
		goto out;
	}
	ec = cJSON_GetObjectItemCaseSensitive(j, "errcode");
	if (cJSON_IsNumber(ec) && ec->valuedouble != 0) {
		out->errcode = (long)ec->valuedouble;
		json_copy(j, "errmsg", out->errmsg, sizeof(out->errmsg));
		log_warn("code2session refused: errcode %ld (%s)", out->errcode, out->errmsg);
		rc = out->errcode == -1 || out->errcode == 45011 ? XQ_EAGAIN : XQ_EINVAL;
		goto out;
	}
	json_copy(j, "openid", out->openid, sizeof(out->openid));
	json_copy(j, "unionid", out->unionid, sizeof(out->unionid));
	json_copy(j, "session_key", out->session_key, sizeof(out->session_key));
	rc = out->openid[0] ? XQ_OK : XQ_EPROTO;
	if (rc)
		log_warn("code2session: answer without openid");
out:
	cJSON_Delete(j);
	if (e_secret)
		OPENSSL_cleanse(e_secret, strlen(e_secret));
	curl_free(e_appid);
	curl_free(e_secret);
	curl_free(e_code);
	curl_slist_free_all(hl);
	OPENSSL_cleanse(url.data, url.len);
	OPENSSL_cleanse(body.data, body.len);
	buf_release(&url);
	buf_release(&body);
	return rc;
}

/* ---- Pay API v3 ---------------------------------------------------------- */

void wxpay_reply_init(struct wxpay_reply *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body, WX_REPLY_MAX);
}

void wxpay_reply_release(struct wxpay_reply *r)
{
	buf_release(&r->body);
}

/* 32 characters of [0-9A-Z] (§2.2 rule 4, our choice). */
static int make_nonce(char out[33])
{
	static const char al[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	unsigned char rnd[32];

	if (xq_random(rnd, sizeof(rnd)))
		return XQ_ERROR;
	for (size_t i = 0; i < 32; i++)
		out[i] = al[rnd[i] % 36];
	out[32] = '\0';
	return XQ_OK;
}

int wxpay_call(const struct config *cfg, const char *method, const char *path_query,
	       const char *body, struct wxpay_reply *r)
{
	const struct wx_keys *k;
	struct buf auth, url, line;
	struct curl_slist *hl = NULL;
	struct hdrs h;
	char nonce[33];
	int64_t now_s = xq_now_ms() / 1000;
	int rc;

	buf_init(&auth, 4096);
	buf_init(&url, 4096);
	buf_init(&line, 4200);
	memset(&h, 0, sizeof(h));
	if ((rc = wxclient_keys(cfg, &k)) || (rc = make_nonce(nonce)))
		goto out;
	rc = wxpay_sign_request(k->merchant, cfg->wx_mchid, cfg->wx_merchant_serial, method,
				path_query, body, body ? strlen(body) : 0, now_s, nonce, &auth);
	if (rc) {
		rc = xq_error(rc, "cannot sign %s '%s'", method, path_query);
		goto out;
	}
	buf_printf(&url, "%s%s", cfg->wx_pay_base_url, path_query);
	buf_printf(&line, "Authorization: %s", auth.data);
	hl = curl_slist_append(hl, line.data);
	hl = curl_slist_append(hl, "Accept: application/json");
	if (body)
		hl = curl_slist_append(hl, "Content-Type: application/json");
	if ((rc = http_do(method, url.data, hl, body, &r->status, &r->body, &h)))
		goto out;
	xq_snprintf(r->request_id, sizeof(r->request_id), "%s", h.request_id);
	if (r->status >= 200 && r->status < 300) {
		struct wxpay_sig_headers sh = {
			h.has_ts ? h.timestamp : NULL, h.has_nonce ? h.nonce : NULL,
			h.has_sig ? h.signature : NULL, h.has_serial ? h.serial : NULL,
			h.has_type ? h.sigtype : NULL,
		};
		rc = wxpay_verify_response(&k->keyset, &sh, r->body.data, r->body.len, now_s);
		if (rc) {
			log_error("wechat pay %s '%s': answer %ld fails verification (%s), request-id %s",
				  method, path_query, r->status, xq_strerror(rc), r->request_id);
			rc = XQ_EPROTO;
		}
		goto out;
	}
	{
		cJSON *j = cJSON_ParseWithLength(r->body.data, r->body.len);
		const cJSON *c = j ? cJSON_GetObjectItemCaseSensitive(j, "code") : NULL;
		if (cJSON_IsString(c))
			xq_snprintf(r->code, sizeof(r->code), "%.63s", c->valuestring);
		cJSON_Delete(j);
	}
	log_warn("wechat pay %s '%s': http %ld %s, request-id %s", method, path_query, r->status,
		 r->code, r->request_id);
	rc = r->status >= 500 || r->status == 429 ? XQ_EAGAIN : XQ_EINVAL;
out:
	curl_slist_free_all(hl);
	buf_release(&auth);
	buf_release(&url);
	buf_release(&line);
	return rc;
}

int wxpay_jsapi(const struct config *cfg, const char *body, char prepay_id[WXPAY_PREPAY_ID_MAX + 1],
		struct wxpay_reply *r)
{
	cJSON *j;
	const cJSON *p;
	int rc = wxpay_call(cfg, "POST", "/v3/pay/transactions/jsapi", body, r);

	prepay_id[0] = '\0';
	if (rc)
		return rc;
	j = cJSON_ParseWithLength(r->body.data, r->body.len);
	p = j ? cJSON_GetObjectItemCaseSensitive(j, "prepay_id") : NULL;
	if (cJSON_IsString(p) && *p->valuestring && strlen(p->valuestring) <= WXPAY_PREPAY_ID_MAX)
		memcpy(prepay_id, p->valuestring, strlen(p->valuestring) + 1);
	else
		rc = xq_error(XQ_EPROTO, "jsapi answer without prepay_id");
	cJSON_Delete(j);
	return rc;
}

int wxpay_query(const struct config *cfg, const char *out_trade_no, struct wxpay_reply *r)
{
	char path[256];
	int rc;

	xq_snprintf(path, sizeof(path), "/v3/pay/transactions/out-trade-no/%.32s?mchid=%.32s",
		    out_trade_no, cfg->wx_mchid);
	rc = wxpay_call(cfg, "GET", path, NULL, r);
	if (rc == XQ_EINVAL && r->status == 404)
		return XQ_ENOTFOUND;
	return rc;
}

/* ---- trade bill download (§12.2): signed request, unsigned answer ----------- */

#define WX_BILL_MAX (256u * 1024 * 1024)

int wxpay_download(const struct config *cfg, const char *path_query, struct wxpay_reply *r)
{
	const struct wx_keys *k;
	struct buf auth, url, line;
	struct curl_slist *hl = NULL;
	char nonce[33];
	int rc;

	buf_init(&auth, 4096);
	buf_init(&url, 4096);
	buf_init(&line, 4200);
	/* a bill file is far larger than an API answer: a busy estate's day is megabytes */
	buf_release(&r->body);
	buf_init(&r->body, WX_BILL_MAX);
	if ((rc = wxclient_keys(cfg, &k)) || (rc = make_nonce(nonce)))
		goto out;
	rc = wxpay_sign_request(k->merchant, cfg->wx_mchid, cfg->wx_merchant_serial, "GET",
				path_query, NULL, 0, xq_now_ms() / 1000, nonce, &auth);
	if (rc)
		goto out;
	buf_printf(&url, "%s%s", cfg->wx_pay_base_url, path_query);
	buf_printf(&line, "Authorization: %s", auth.data);
	hl = curl_slist_append(hl, line.data);
	if ((rc = http_do("GET", url.data, hl, NULL, &r->status, &r->body, NULL)))
		goto out;
	/* the file is not signed: the caller checks its SHA-1 against hash_value */
	if (r->status != 200) {
		log_warn("wechat pay bill download: http %ld", r->status);
		rc = r->status >= 500 || r->status == 429 ? XQ_EAGAIN : XQ_EINVAL;
	}
out:
	curl_slist_free_all(hl);
	buf_release(&auth);
	buf_release(&url);
	buf_release(&line);
	return rc;
}
