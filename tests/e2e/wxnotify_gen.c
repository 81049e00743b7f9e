/*
 * wxnotify_gen.c - see wxnotify_gen.h. Test code: it holds WeChat's private
 * key of the local imitation, which only a test or benchmark may read.
 */
#include "wxnotify_gen.h"

#include "buf.h"
#include "config.h"
#include "wxpay_sign.h"
#include "xq.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *d;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	d = malloc((size_t)n + 1);
	if (fread(d, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	fclose(f);
	d[n] = '\0';
	*len = (size_t)n;
	return d;
}

static int load(const char *path, struct wxpay_privkey **k)
{
	size_t len = 0;
	char *pem = path ? slurp(path, &len) : NULL;
	int rc = pem ? wxpay_privkey_load(pem, len, k) : XQ_EINVAL;

	free(pem);
	return rc;
}

int wxgen_init(struct wxgen *g, const struct config *cfg)
{
	memset(g, 0, sizeof(*g));
	g->cfg = cfg;
	if (load(cfg->wxsim_platform_key_file, &g->platform) ||
	    load(cfg->wx_merchant_key_file, &g->merchant)) {
		fprintf(stderr, "wxgen: cannot load the platform or merchant key\n");
		return XQ_EINVAL;
	}
	return XQ_OK;
}

void wxgen_release(struct wxgen *g)
{
	wxpay_privkey_free(g->platform);
	wxpay_privkey_free(g->merchant);
	memset(g, 0, sizeof(*g));
}

static void rnd_alnum(char *out, size_t n)
{
	static const char al[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	unsigned char r[64];

	xq_random(r, n);
	for (size_t i = 0; i < n; i++)
		out[i] = al[r[i] % 62];
	out[n] = '\0';
}

char *wxgen_txn(const struct wxgen *g, const char *otn, int64_t total_fen, const char *appid,
		const char *mchid)
{
	cJSON *t = cJSON_CreateObject(), *a, *p;
	char tid[29], st[40];
	time_t now = time(NULL) + 8 * 3600;
	struct tm tm;
	char *s;

	/* 28 digits like WeChat's transaction ids, unique enough for a test */
	for (int i = 0; i < 28; i++) {
		unsigned char b;
		xq_random(&b, 1);
		tid[i] = (char)('0' + b % 10);
	}
	memcpy(tid, "4200", 4);
	tid[28] = '\0';
	gmtime_r(&now, &tm);
	strftime(st, sizeof(st), "%Y-%m-%dT%H:%M:%S+08:00", &tm);
	cJSON_AddStringToObject(t, "appid", appid ? appid : g->cfg->wx_appid);
	cJSON_AddStringToObject(t, "mchid", mchid ? mchid : g->cfg->wx_mchid);
	cJSON_AddStringToObject(t, "out_trade_no", otn);
	cJSON_AddStringToObject(t, "transaction_id", tid);
	cJSON_AddStringToObject(t, "trade_type", "JSAPI");
	cJSON_AddStringToObject(t, "trade_state", "SUCCESS");
	cJSON_AddStringToObject(t, "trade_state_desc", "支付成功");
	cJSON_AddStringToObject(t, "bank_type", "OTHERS");
	cJSON_AddStringToObject(t, "success_time", st);
	p = cJSON_AddObjectToObject(t, "payer");
	cJSON_AddStringToObject(p, "openid", "oTestPayerOpenid000000000000");
	a = cJSON_AddObjectToObject(t, "amount");
	cJSON_AddNumberToObject(a, "total", (double)total_fen);
	cJSON_AddNumberToObject(a, "payer_total", (double)total_fen);
	cJSON_AddStringToObject(a, "currency", "CNY");
	cJSON_AddStringToObject(a, "payer_currency", "CNY");
	s = cJSON_PrintUnformatted(t);
	cJSON_Delete(t);
	return s;
}

char *wxgen_envelope(const struct wxgen *g, const char *notify_id, const char *event_type,
		     const char *aad, const char *plain)
{
	struct buf ct;
	cJSON *e = cJSON_CreateObject(), *r;
	char nonce[13];
	char *s;

	buf_init(&ct, 1 << 20);
	rnd_alnum(nonce, 12);
	if (wxpay_aead_encrypt((const unsigned char *)g->cfg->wx_apiv3_key,
			       strlen(g->cfg->wx_apiv3_key), nonce, aad, plain, strlen(plain), &ct))
		fprintf(stderr, "wxgen: encrypt failed\n");
	cJSON_AddStringToObject(e, "id", notify_id);
	cJSON_AddStringToObject(e, "create_time", "2026-01-01T10:00:00+08:00");
	cJSON_AddStringToObject(e, "resource_type", "encrypt-resource");
	cJSON_AddStringToObject(e, "event_type", event_type);
	cJSON_AddStringToObject(e, "summary", "支付成功");
	r = cJSON_AddObjectToObject(e, "resource");
	cJSON_AddStringToObject(r, "original_type", aad);
	cJSON_AddStringToObject(r, "algorithm", "AEAD_AES_256_GCM");
	cJSON_AddStringToObject(r, "ciphertext", ct.data);
	cJSON_AddStringToObject(r, "associated_data", aad);
	cJSON_AddStringToObject(r, "nonce", nonce);
	s = cJSON_PrintUnformatted(e);
	cJSON_Delete(e);
	buf_release(&ct);
	return s;
}

void wxgen_sign(const struct wxgen *g, char *body, int64_t ts_skew_s, int forge, struct wxgen_req *r)
{
	struct buf msg;
	char ts[24], nonce[33], sig[WXPAY_SIG_B64_MAX];

	memset(r, 0, sizeof(*r));
	r->body = body;
	snprintf(ts, sizeof(ts), "%lld", (long long)(time(NULL) + ts_skew_s));
	rnd_alnum(nonce, 32);
	buf_init(&msg, 1 << 21);
	wxpay_response_message(&msg, ts, nonce, body, strlen(body));
	sig[0] = '\0';
	wxpay_sign_raw(forge ? g->merchant : g->platform, msg.data, msg.len, sig, sizeof(sig));
	buf_release(&msg);
	snprintf(r->hdr[0], sizeof(r->hdr[0]), "Wechatpay-Timestamp: %s", ts);
	snprintf(r->hdr[1], sizeof(r->hdr[1]), "Wechatpay-Nonce: %s", nonce);
	snprintf(r->hdr[2], sizeof(r->hdr[2]), "Wechatpay-Signature: %s", sig);
	snprintf(r->hdr[3], sizeof(r->hdr[3]), "Wechatpay-Serial: %s", g->cfg->wx_platform_key_id);
}

void wxgen_req_release(struct wxgen_req *r)
{
	free(r->body);
	r->body = NULL;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

struct slot {
	CURL *h;
	struct curl_slist *hl;
	size_t idx;
};

static void slot_start(CURLM *m, struct slot *s, const char *url, struct wxgen_req *r, size_t idx)
{
	curl_slist_free_all(s->hl);
	s->hl = curl_slist_append(NULL, "Content-Type: application/json");
	for (int i = 0; i < 4; i++)
		s->hl = curl_slist_append(s->hl, r->hdr[i]);
	s->hl = curl_slist_append(s->hl, "Wechatpay-Signature-Type: WECHATPAY2-SHA256-RSA2048");
	s->hl = curl_slist_append(s->hl, "Expect:");
	curl_easy_setopt(s->h, CURLOPT_URL, url);
	curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, r->body);
	curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE, (long)strlen(r->body));
	curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, s->hl);
	curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(s->h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(s->h, CURLOPT_PRIVATE, s);
	s->idx = idx;
	curl_multi_add_handle(m, s->h);
}

size_t wxgen_fire(const char *url, struct wxgen_req *r, size_t n, int conc)
{
	CURLM *m = curl_multi_init();
	struct slot *slots = calloc((size_t)conc, sizeof(*slots));
	size_t next = 0, done = 0, ok = 0;
	int running = 0;

	for (int i = 0; i < conc; i++) {
		slots[i].h = curl_easy_init();
		if (next < n) {
			slot_start(m, &slots[i], url, &r[next], next);
			next++;
		}
	}
	while (done < n) {
		CURLMsg *msg;
		int q;

		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &q))) {
			struct slot *s;
			long st = 0;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
			if (msg->data.result == CURLE_OK)
				curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &st);
			r[s->idx].status = st;
			ok += st == 200;
			done++;
			curl_multi_remove_handle(m, s->h);
			if (next < n) {
				slot_start(m, s, url, &r[next], next);
				next++;
			}
		}
		if (done < n)
			curl_multi_poll(m, NULL, 0, 100, NULL);
	}
	for (int i = 0; i < conc; i++) {
		curl_slist_free_all(slots[i].hl);
		curl_easy_cleanup(slots[i].h);
	}
	free(slots);
	curl_multi_cleanup(m);
	return ok;
}
