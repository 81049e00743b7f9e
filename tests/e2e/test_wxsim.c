/*
 * test_wxsim.c - xq-wxsim end to end through nginx, as a WeChat client sees
 * it: code2Session, access tokens and subscribe messages; Pay v3 orders signed
 * with the merchant key (good, forged, stale, foreign merchant, re-entered,
 * queried, closed); payments by the simulated resident whose callbacks reach
 * a small HTTP receiver in this process and must verify with the platform key
 * and decrypt with the APIv3 key; retries after failures and after every
 * §3.4 fault; refunds with their callbacks; the trade bill downloaded, hashed,
 * parsed and summed; and a kill -9 of the simulator in the middle of a retry.
 *
 * Reads the stack's own configuration (XQ_CONFIG) for the keys, so it signs
 * exactly like xq-api will. The kill -9 case also needs XQ_VAR (pid file)
 * and runs `bash deploy/stack.sh start` from the repository root.
 */
#include "buf.h"
#include "config.h"
#include "test.h"
#include "wxpay_sign.h"
#include "xq.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

static struct config cfg;
static struct wxpay_privkey *mkey;
static struct wxpay_pubkey *platform_pub;
static struct wxpay_keyset_entry ks_entry;
static struct wxpay_keyset ks;
static char base[256];
static char uniq[16];
static char openid[64];

/* ---- small helpers ---------------------------------------------------------------- */

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int64_t now_s(void)
{
	return xq_now_ms() / 1000;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p;
	size_t n;

	if (!f)
		return NULL;
	p = xq_malloc(1u << 20);
	n = fread(p, 1, (1u << 20) - 1, f);
	fclose(f);
	p[n] = '\0';
	if (len)
		*len = n;
	return p;
}

static void random_str(char *out, size_t n)
{
	static const char a[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	unsigned char r[64];
	xq_random(r, n < sizeof(r) ? n : sizeof(r));
	for (size_t i = 0; i < n && i < sizeof(r); i++)
		out[i] = a[r[i] % (sizeof(a) - 1)];
	out[n < sizeof(r) ? n : sizeof(r)] = '\0';
}

/* A value inside a JSON tree by "a.b.0.c". */
static cJSON *jat(cJSON *root, const char *path)
{
	char tmp[256], *save = NULL;
	cJSON *cur = root;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *t = strtok_r(tmp, ".", &save); t && cur; t = strtok_r(NULL, ".", &save)) {
		if (cJSON_IsArray(cur) && t[0] >= '0' && t[0] <= '9')
			cur = cJSON_GetArrayItem(cur, (int)strtol(t, NULL, 10));
		else
			cur = cJSON_GetObjectItemCaseSensitive(cur, t);
	}
	return cur;
}

static const char *jstr_at(cJSON *root, const char *path)
{
	cJSON *v = jat(root, path);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jnum_at(cJSON *root, const char *path)
{
	cJSON *v = jat(root, path);
	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* Header value from a raw header block ("Name: value\r\n"...), case-insensitive. */
static int header_in(const char *block, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	const char *p = block;

	while (p && *p) {
		const char *eol = strstr(p, "\r\n");
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len > nl && !strncasecmp(p, name, nl) && p[nl] == ':') {
			const char *v = p + nl + 1;
			while (*v == ' ')
				v++;
			snprintf(out, n, "%.*s", (int)(len - (size_t)(v - p)), v);
			return 1;
		}
		p = eol ? eol + 2 : NULL;
	}
	out[0] = '\0';
	return 0;
}

/* ---- HTTP client ------------------------------------------------------------------- */

struct resp {
	long status;
	struct buf body;
	struct buf head;
	cJSON *json;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	return buf_append(arg, p, size * n) ? 0 : size * n;
}

static void resp_init(struct resp *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body, 32u << 20);
	buf_init(&r->head, 1u << 20);
}

static void resp_release(struct resp *r)
{
	buf_release(&r->body);
	buf_release(&r->head);
	cJSON_Delete(r->json);
	memset(r, 0, sizeof(*r));
}

static const char *jcode(struct resp *r)
{
	const char *c = jstr_at(r->json, "code");
	return c ? c : "";
}

/* One request to the sim; target is path[?query]; auth may be NULL. */
static long http(struct resp *r, const char *method, const char *target, const char *body,
		 const char *auth)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[2048], line[2048];
	CURLcode rc;

	resp_release(r);
	resp_init(r);
	snprintf(url, sizeof(url), "%s%s", base, target);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r->head);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	h = curl_slist_append(h, "Accept: application/json");
	h = curl_slist_append(h, "User-Agent: xiaoqu-e2e/1.0");
	h = curl_slist_append(h, "Expect:");
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
		h = curl_slist_append(h, "Content-Type: application/json");
	} else if (!strcmp(method, "GET")) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
	if (auth) {
		snprintf(line, sizeof(line), "Authorization: %s", auth);
		h = curl_slist_append(h, line);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	rc = curl_easy_perform(c);
	curl_slist_free_all(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	else
		fprintf(stderr, "test: %s %s: %s\n", method, url, curl_easy_strerror(rc));
	curl_easy_cleanup(c);
	r->json = cJSON_ParseWithLength(r->body.data, r->body.len);
	return r->status;
}

/* How to sign (defaults: as xq-api would). */
struct how {
	int64_t ts_offset;
	const char *mchid;
	const char *serial;
	const char *signed_body; /* sign these bytes but send the real body */
};

static long pay_how(struct resp *r, const char *method, const char *target, const char *body,
		    const struct how *how)
{
	struct buf auth;
	char nonce[33];
	const char *sb = how && how->signed_body ? how->signed_body : body;
	long st;

	buf_init(&auth, 4096);
	random_str(nonce, 32);
	if (wxpay_sign_request(mkey, how && how->mchid ? how->mchid : cfg.wx_mchid,
			       how && how->serial ? how->serial : cfg.wx_merchant_serial, method,
			       target, sb ? sb : "", sb ? strlen(sb) : 0,
			       now_s() + (how ? how->ts_offset : 0), nonce, &auth)) {
		fprintf(stderr, "test: cannot sign %s %s\n", method, target);
		buf_release(&auth);
		return 0;
	}
	st = http(r, method, target, body, auth.data);
	buf_release(&auth);
	return st;
}

static long pay(struct resp *r, const char *method, const char *target, const char *body)
{
	return pay_how(r, method, target, body, NULL);
}

/* §3.3 on a response: XQ_OK only if it is WeChat's. */
static int verify_resp(struct resp *r)
{
	char ts[32], nonce[80], sig[800], serial[80], type[64];
	struct wxpay_sig_headers h = { ts, nonce, sig, serial, type };

	header_in(r->head.data, "Wechatpay-Timestamp", ts, sizeof(ts));
	header_in(r->head.data, "Wechatpay-Nonce", nonce, sizeof(nonce));
	header_in(r->head.data, "Wechatpay-Signature", sig, sizeof(sig));
	header_in(r->head.data, "Wechatpay-Serial", serial, sizeof(serial));
	if (!header_in(r->head.data, "Wechatpay-Signature-Type", type, sizeof(type)))
		h.signature_type = NULL;
	return wxpay_verify_response(&ks, &h, r->body.data, r->body.len, now_s());
}

/* ---- the merchant's callback receiver ------------------------------------------------- */

struct notice {
	char path[128];
	char *head;
	char *body;
	size_t len;
	int answered;
	int verified; /* XQ_OK if signature + timestamp checked out */
};

#define MAX_NOTICES 256
#define MAX_PLANS 32

struct plan {
	char path[128];
	int status[8];
	int n, used;
};

static struct {
	int fd, port;
	pthread_t thr;
	atomic_int stop;
	pthread_mutex_t mu;
	struct notice got[MAX_NOTICES];
	int n;
	struct plan plans[MAX_PLANS];
	int nplans;
} rx = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* The next answers for path: the statuses given, then the verifying default. */
static void rx_plan(const char *path, int n, const int *status)
{
	pthread_mutex_lock(&rx.mu);
	if (rx.nplans < MAX_PLANS) {
		struct plan *p = &rx.plans[rx.nplans++];
		snprintf(p->path, sizeof(p->path), "%s", path);
		for (int i = 0; i < n && i < 8; i++)
			p->status[i] = status[i];
		p->n = n < 8 ? n : 8;
		p->used = 0;
	}
	pthread_mutex_unlock(&rx.mu);
}

static void rx_unplan(const char *path)
{
	pthread_mutex_lock(&rx.mu);
	for (int i = 0; i < rx.nplans; i++)
		if (!strcmp(rx.plans[i].path, path))
			rx.plans[i].used = rx.plans[i].n;
	pthread_mutex_unlock(&rx.mu);
}

static int verify_notice(const struct notice *nt)
{
	char ts[32], nonce[80], sig[800], serial[80], type[64];
	struct wxpay_sig_headers h = { ts, nonce, sig, serial, type };

	header_in(nt->head, "Wechatpay-Timestamp", ts, sizeof(ts));
	header_in(nt->head, "Wechatpay-Nonce", nonce, sizeof(nonce));
	header_in(nt->head, "Wechatpay-Signature", sig, sizeof(sig));
	header_in(nt->head, "Wechatpay-Serial", serial, sizeof(serial));
	if (!header_in(nt->head, "Wechatpay-Signature-Type", type, sizeof(type)))
		h.signature_type = NULL;
	return wxpay_verify_response(&ks, &h, nt->body, nt->len, now_s());
}

static void serve_one(int c)
{
	struct buf in;
	char chunk[4096], cl[32], reply[160];
	const char *end;
	struct notice nt;
	size_t hlen;
	int64_t want = 0;
	int status = 204;
	ssize_t k;

	buf_init(&in, 4u << 20);
	memset(&nt, 0, sizeof(nt));
	for (;;) {
		end = strstr(in.data, "\r\n\r\n");
		if (end) {
			hlen = (size_t)(end - in.data) + 4;
			header_in(in.data, "Content-Length", cl, sizeof(cl));
			if (xq_parse_i64(cl, &want))
				want = 0;
			if (in.len >= hlen + (size_t)want)
				break;
		}
		k = recv(c, chunk, sizeof(chunk), 0);
		if (k <= 0 || buf_append(&in, chunk, (size_t)k)) {
			buf_release(&in);
			return;
		}
	}
	sscanf(in.data, "%*s %127s", nt.path);
	nt.head = xq_strndup(in.data, hlen);
	nt.body = xq_strndup(in.data + hlen, (size_t)want);
	nt.len = (size_t)want;
	buf_release(&in);
	nt.verified = verify_notice(&nt);
	status = nt.verified == XQ_OK ? 204 : 401;
	pthread_mutex_lock(&rx.mu);
	for (int i = 0; i < rx.nplans; i++) {
		struct plan *p = &rx.plans[i];
		if (!strcmp(p->path, nt.path) && p->used < p->n) {
			status = p->status[p->used++];
			break;
		}
	}
	nt.answered = status;
	if (rx.n < MAX_NOTICES) {
		rx.got[rx.n++] = nt;
	} else {
		free(nt.head);
		free(nt.body);
	}
	pthread_mutex_unlock(&rx.mu);
	snprintf(reply, sizeof(reply),
		 "HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status);
	if (send(c, reply, strlen(reply), MSG_NOSIGNAL) < 0)
		perror("receiver send");
}

static void *rx_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&rx.stop)) {
		struct pollfd p = { rx.fd, POLLIN, 0 };
		int c;

		if (poll(&p, 1, 100) <= 0)
			continue;
		c = accept(rx.fd, NULL, NULL);
		if (c < 0)
			continue;
		serve_one(c);
		close(c);
	}
	return NULL;
}

static int rx_start(void)
{
	struct sockaddr_in a = { 0 };
	socklen_t alen = sizeof(a);

	rx.fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (rx.fd < 0 || bind(rx.fd, (struct sockaddr *)&a, sizeof(a)) || listen(rx.fd, 64) ||
	    getsockname(rx.fd, (struct sockaddr *)&a, &alen))
		return -1;
	rx.port = ntohs(a.sin_port);
	return pthread_create(&rx.thr, NULL, rx_main, NULL);
}

static void rx_stop(void)
{
	atomic_store(&rx.stop, 1);
	pthread_join(rx.thr, NULL);
	close(rx.fd);
	for (int i = 0; i < rx.n; i++) {
		free(rx.got[i].head);
		free(rx.got[i].body);
	}
}

/* Waits until path has received at least n callbacks; returns how many it has. */
static int rx_wait(const char *path, int n, int timeout_ms)
{
	int have = 0;

	for (int waited = 0; waited <= timeout_ms; waited += 50) {
		have = 0;
		pthread_mutex_lock(&rx.mu);
		for (int i = 0; i < rx.n; i++)
			have += !strcmp(rx.got[i].path, path);
		pthread_mutex_unlock(&rx.mu);
		if (have >= n)
			break;
		sleep_ms(50);
	}
	return have;
}

/* The k-th (0-based) callback received on path; copied so the caller owns it. */
static int rx_get(const char *path, int k, struct notice *out)
{
	int seen = 0, ok = 0;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&rx.mu);
	for (int i = 0; i < rx.n; i++) {
		if (strcmp(rx.got[i].path, path) != 0)
			continue;
		if (seen++ == k) {
			*out = rx.got[i];
			out->head = xq_strdup(rx.got[i].head);
			out->body = xq_strndup(rx.got[i].body, rx.got[i].len);
			ok = 1;
			break;
		}
	}
	pthread_mutex_unlock(&rx.mu);
	return ok;
}

static void notice_free(struct notice *n)
{
	free(n->head);
	free(n->body);
	memset(n, 0, sizeof(*n));
}

/* Decrypts a callback's resource with the APIv3 key; caller deletes. NULL on failure. */
static cJSON *decrypt_notice(const struct notice *n)
{
	struct buf pt;
	cJSON *j = NULL;

	buf_init(&pt, 1u << 20);
	if (wxpay_notify_decrypt((const unsigned char *)cfg.wx_apiv3_key, strlen(cfg.wx_apiv3_key),
				 n->body, n->len, &pt) == XQ_OK)
		j = cJSON_Parse(pt.data);
	buf_release(&pt);
	return j;
}

/* ---- building blocks ------------------------------------------------------------------------ */

static void notify_path(char *out, size_t n, const char *otn)
{
	snprintf(out, n, "/n/%s", otn);
}

static void make_otn(char *out, size_t n, const char *tag)
{
	snprintf(out, n, "T%s%s", uniq, tag);
}

/* Places a JSAPI order for total fen; returns the HTTP status; prepay_id (65) if non-NULL. */
static long order(struct resp *r, const char *otn, int64_t total, char *prepay_id)
{
	char body[2048], path[160];

	notify_path(path, sizeof(path), otn);
	snprintf(body, sizeof(body),
		 "{\"appid\":\"%s\",\"mchid\":\"%s\",\"description\":\"幸福里小区-3栋502-电费\","
		 "\"out_trade_no\":\"%s\",\"attach\":\"bill:%s\","
		 "\"notify_url\":\"http://127.0.0.1:%d%s\",\"amount\":{\"total\":%lld,"
		 "\"currency\":\"CNY\"},\"payer\":{\"openid\":\"%s\"}}",
		 cfg.wx_appid, cfg.wx_mchid, otn, otn, rx.port, path, (long long)total, openid);
	pay(r, "POST", "/v3/pay/transactions/jsapi", body);
	if (prepay_id) {
		const char *p = jstr_at(r->json, "prepay_id");
		snprintf(prepay_id, 65, "%s", p ? p : "");
	}
	return r->status;
}

static long sim_post(struct resp *r, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static long sim_post(struct resp *r, const char *path, const char *fmt, ...)
{
	char body[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	return http(r, "POST", path, body, NULL);
}

/* /sim/notifications for otn: the first notification's first delivery. */
static cJSON *notifications(struct resp *r, const char *otn)
{
	char t[256];
	snprintf(t, sizeof(t), "/sim/notifications?out_trade_no=%s", otn);
	http(r, "GET", t, NULL, NULL);
	return jat(r->json, "notifications");
}

/* ---- mini-program side ------------------------------------------------------------------------ */

TEST(code2session)
{
	struct resp r = { 0 };
	char t[512], name[40], o1[64];

	snprintf(name, sizeof(name), "alice%s", uniq);
	snprintf(t, sizeof(t), "/sns/jscode2session?appid=%s&secret=%s&js_code=test-%s&grant_type=authorization_code",
		 cfg.wx_appid, cfg.wx_app_secret, name);
	CHECK_EQ_I64(http(&r, "GET", t, NULL, NULL), 200);
	CHECK(jstr_at(r.json, "openid") != NULL);
	CHECK(jat(r.json, "errcode") == NULL);
	snprintf(o1, sizeof(o1), "%s", jstr_at(r.json, "openid") ? jstr_at(r.json, "openid") : "");
	CHECK_EQ_I64(strlen(o1), 28);
	CHECK(o1[0] == 'o');
	CHECK_EQ_I64(strlen(jstr_at(r.json, "session_key") ? jstr_at(r.json, "session_key") : ""), 24);
	snprintf(openid, sizeof(openid), "%s", o1);
	/* the same code twice: used */
	CHECK_EQ_I64(http(&r, "GET", t, NULL, NULL), 200);
	CHECK_EQ_I64(jnum_at(r.json, "errcode"), 40163);
	CHECK(strstr(jstr_at(r.json, "errmsg") ? jstr_at(r.json, "errmsg") : "", ", rid: ") != NULL);
	/* another code of the same person: the same openid */
	snprintf(t, sizeof(t), "/sns/jscode2session?appid=%s&secret=%s&js_code=test-%s.2&grant_type=authorization_code",
		 cfg.wx_appid, cfg.wx_app_secret, name);
	CHECK_EQ_I64(http(&r, "GET", t, NULL, NULL), 200);
	CHECK_STR(jstr_at(r.json, "openid"), o1);
	/* a wrong secret, an unknown code, a missing code, a foreign appid */
	snprintf(t, sizeof(t), "/sns/jscode2session?appid=%s&secret=wrong&js_code=test-x%s&grant_type=authorization_code",
		 cfg.wx_appid, uniq);
	http(&r, "GET", t, NULL, NULL);
	CHECK_EQ_I64(jnum_at(r.json, "errcode"), 40125);
	snprintf(t, sizeof(t), "/sns/jscode2session?appid=%s&secret=%s&js_code=0a3bogus&grant_type=authorization_code",
		 cfg.wx_appid, cfg.wx_app_secret);
	http(&r, "GET", t, NULL, NULL);
	CHECK_EQ_I64(jnum_at(r.json, "errcode"), 40029);
	snprintf(t, sizeof(t), "/sns/jscode2session?appid=%s&secret=%s&grant_type=authorization_code",
		 cfg.wx_appid, cfg.wx_app_secret);
	http(&r, "GET", t, NULL, NULL);
	CHECK_EQ_I64(jnum_at(r.json, "errcode"), 41008);
	snprintf(t, sizeof(t), "/sns/jscode2session?appid=wx0000000000000000&secret=%s&js_code=test-a&grant_type=authorization_code",
		 cfg.wx_app_secret);
	http(&r, "GET", t, NULL, NULL);
	CHECK_EQ_I64(jnum_at(r.json, "errcode"), 40013);
	/* a code minted by the resident hook: good once */
	CHECK_EQ_I64(sim_post(&r, "/sim/login-code", "{\"openid\":\"%s\"}", o1), 200);
	snprintf(t, sizeof(t), "/sns/jscode2session?appid=%s&secret=%s&js_code=%s&grant_type=authorization_code",
		 cfg.wx_appid, cfg.wx_app_secret, jstr_at(r.json, "code") ? jstr_at(r.json, "code") : "");
	http(&r, "GET", t, NULL, NULL);
	CHECK_STR(jstr_at(r.json, "openid"), o1);
	http(&r, "GET", t, NULL, NULL);
	CHECK_EQ_I64(jnum_at(r.json, "errcode"), 40163);
	resp_release(&r);
}

static void get_token(char *out, size_t n)
{
	struct resp r = { 0 };
	char t[512];

	snprintf(t, sizeof(t), "/cgi-bin/token?grant_type=client_credential&appid=%s&secret=%s",
		 cfg.wx_appid, cfg.wx_app_secret);
	http(&r, "GET", t, NULL, NULL);
	snprintf(out, n, "%s", jstr_at(r.json, "access_token") ? jstr_at(r.json, "access_token") : "");
	resp_release(&r);
}

TEST(access_token)
{
	struct resp r = { 0 };
	char t[512], tok1[600], tok2[600], body[512];

	snprintf(t, sizeof(t), "/cgi-bin/token?grant_type=client_credential&appid=%s&secret=%s",
		 cfg.wx_appid, cfg.wx_app_secret);
	CHECK_EQ_I64(http(&r, "GET", t, NULL, NULL), 200);
	CHECK_EQ_I64(jnum_at(r.json, "expires_in"), 7200);
	CHECK(strlen(jstr_at(r.json, "access_token") ? jstr_at(r.json, "access_token") : "") >= 100);
	snprintf(t, sizeof(t), "/cgi-bin/token?grant_type=client_credential&appid=%s&secret=nope",
		 cfg.wx_appid);
	http(&r, "GET", t, NULL, NULL);
	CHECK_EQ_I64(jnum_at(r.json, "errcode"), 40125);
	snprintf(t, sizeof(t), "/cgi-bin/token?grant_type=password&appid=%s&secret=%s", cfg.wx_appid,
		 cfg.wx_app_secret);
	http(&r, "GET", t, NULL, NULL);
	CHECK_EQ_I64(jnum_at(r.json, "errcode"), 40002);
	/* the stable token stays the same until forced */
	snprintf(body, sizeof(body), "{\"grant_type\":\"client_credential\",\"appid\":\"%s\",\"secret\":\"%s\"}",
		 cfg.wx_appid, cfg.wx_app_secret);
	http(&r, "POST", "/cgi-bin/stable_token", body, NULL);
	snprintf(tok1, sizeof(tok1), "%s", jstr_at(r.json, "access_token") ? jstr_at(r.json, "access_token") : "x");
	http(&r, "POST", "/cgi-bin/stable_token", body, NULL);
	CHECK_STR(jstr_at(r.json, "access_token"), tok1);
	snprintf(body, sizeof(body), "{\"grant_type\":\"client_credential\",\"appid\":\"%s\",\"secret\":\"%s\",\"force_refresh\":true}",
		 cfg.wx_appid, cfg.wx_app_secret);
	http(&r, "POST", "/cgi-bin/stable_token", body, NULL);
	snprintf(tok2, sizeof(tok2), "%s", jstr_at(r.json, "access_token") ? jstr_at(r.json, "access_token") : "x");
	CHECK(strcmp(tok1, tok2) != 0);
	resp_release(&r);
}

TEST(subscribe_send)
{
	static const char tmpl[] = "XQ-BILL-DUE-REMINDER-DEMO-TEMPLATE-0000001";
	struct resp r = { 0 };
	char tok[600], t[800], body[1024], q[256];

	get_token(tok, sizeof(tok));
	snprintf(body, sizeof(body),
		 "{\"touser\":\"%s\",\"template_id\":\"%s\",\"page\":\"pages/bill/detail?id=1\","
		 "\"data\":{\"thing1\":{\"value\":\"3栋502 五月电费\"},\"amount2\":{\"value\":\"123.45元\"},"
		 "\"time3\":{\"value\":\"2024-06-01 10:00\"}}}", openid, tmpl);
	/* token errors */
	http(&r, "POST", "/cgi-bin/message/subscribe/send?access_token=not-a-token", body, NULL);
	CHECK_EQ_I64(jnum_at(r.json, "errcode"), 40001);
	http(&r, "POST", "/cgi-bin/message/subscribe/send", body, NULL);
	CHECK_EQ_I64(jnum_at(r.json, "errcode"), 41001);
	snprintf(t, sizeof(t), "/cgi-bin/message/subscribe/send?access_token=%s", tok);
	/* the resident has not accepted the template */
	http(&r, "POST", t, body, NULL);
	CHECK_EQ_I64(jnum_at(r.json, "errcode"), 43101);
	CHECK_EQ_I64(sim_post(&r, "/sim/subscribe/accept",
			      "{\"openid\":\"%s\",\"template_id\":\"%s\"}", openid, tmpl), 200);
	CHECK_EQ_I64(jnum_at(r.json, "remaining"), 1);
	http(&r, "POST", t, body, NULL);
	CHECK_EQ_I64(jnum_at(r.json, "errcode"), 0);
	CHECK(jnum_at(r.json, "msgid") > 0);
	/* one acceptance, one message */
	http(&r, "POST", t, body, NULL);
	CHECK_EQ_I64(jnum_at(r.json, "errcode"), 43101);
	snprintf(q, sizeof(q), "/sim/messages?openid=%s", openid);
	CHECK_EQ_I64(http(&r, "GET", q, NULL, NULL), 200);
	CHECK_EQ_I64(cJSON_GetArraySize(jat(r.json, "messages")), 1);
	CHECK_STR(jstr_at(r.json, "messages.0.data.amount2.value"), "123.45元");
	/* bad values, templates and users */
	sim_post(&r, "/sim/subscribe/accept", "{\"openid\":\"%s\",\"template_id\":\"%s\",\"count\":5}",
		 openid, tmpl);
	snprintf(body, sizeof(body),
		 "{\"touser\":\"%s\",\"template_id\":\"%s\",\"data\":{\"thing1\":{\"value\":\"这是一段超过二十个字符的账单说明文字内容测试\"},"
		 "\"amount2\":{\"value\":\"1.5元\"},\"time3\":{\"value\":\"10:00\"}}}", openid, tmpl);
	http(&r, "POST", t, body, NULL);
	CHECK_EQ_I64(jnum_at(r.json, "errcode"), 47003);
	snprintf(body, sizeof(body), "{\"touser\":\"%s\",\"template_id\":\"no-such-template\",\"data\":{}}", openid);
	http(&r, "POST", t, body, NULL);
	CHECK_EQ_I64(jnum_at(r.json, "errcode"), 40037);
	snprintf(body, sizeof(body), "{\"touser\":\"oNobodyNobodyNobodyNobody000\",\"template_id\":\"%s\",\"data\":{}}", tmpl);
	http(&r, "POST", t, body, NULL);
	CHECK_EQ_I64(jnum_at(r.json, "errcode"), 40003);
	http(&r, "POST", t, "not json", NULL);
	CHECK_EQ_I64(jnum_at(r.json, "errcode"), 47001);
	resp_release(&r);
}

TEST(phone_number)
{
	struct resp r = { 0 };
	char tok[600], t[800], body[256];

	get_token(tok, sizeof(tok));
	snprintf(t, sizeof(t), "/wxa/business/getuserphonenumber?access_token=%s", tok);
	CHECK_EQ_I64(sim_post(&r, "/sim/phone-code", "{\"phone\":\"13800138000\"}"), 200);
	snprintf(body, sizeof(body), "{\"code\":\"%s\"}", jstr_at(r.json, "code") ? jstr_at(r.json, "code") : "");
	http(&r, "POST", t, body, NULL);
	CHECK_EQ_I64(jnum_at(r.json, "errcode"), 0);
	CHECK_STR(jstr_at(r.json, "phone_info.purePhoneNumber"), "13800138000");
	CHECK_STR(jstr_at(r.json, "phone_info.watermark.appid"), cfg.wx_appid);
	http(&r, "POST", t, body, NULL);
	CHECK_EQ_I64(jnum_at(r.json, "errcode"), 40029);
	resp_release(&r);
}

/* ---- Pay v3: authentication ------------------------------------------------------------------ */

TEST(jsapi_order_signed_and_idempotent)
{
	struct resp r = { 0 };
	char otn[40], p1[65], p2[65], rid[128];

	make_otn(otn, sizeof(otn), "A");
	CHECK_EQ_I64(order(&r, otn, 12345, p1), 200);
	CHECK(strncmp(p1, "wx", 2) == 0 && strlen(p1) >= 16);
	CHECK_EQ_I64(verify_resp(&r), XQ_OK);
	CHECK(header_in(r.head.data, "Request-ID", rid, sizeof(rid)));
	{
		char serial[80];
		header_in(r.head.data, "Wechatpay-Serial", serial, sizeof(serial));
		CHECK_STR(serial, cfg.wx_platform_key_id);
	}
	/* same parameters again: the same prepay_id */
	CHECK_EQ_I64(order(&r, otn, 12345, p2), 200);
	CHECK_STR(p2, p1);
	/* a different amount under the same out_trade_no: refused */
	CHECK_EQ_I64(order(&r, otn, 12346, NULL), 400);
	CHECK_STR(jcode(&r), "INVALID_REQUEST");
	CHECK(header_in(r.head.data, "Request-ID", rid, sizeof(rid)) && strstr(rid, "-268498688"));
	/* a body changed in transit fails verification on our side */
	CHECK_EQ_I64(order(&r, otn, 12345, NULL), 200);
	r.body.data[2] = r.body.data[2] == 'x' ? 'y' : 'x';
	CHECK(verify_resp(&r) != XQ_OK);
	resp_release(&r);
}

/* The same order from 8 threads at once: one order, one prepay_id (§6.3 under concurrency). */
struct racer {
	const char *otn;
	long status;
	char prepay_id[65];
};

static void *race(void *arg)
{
	struct racer *x = arg;
	struct resp r = { 0 };

	x->status = order(&r, x->otn, 2024, x->prepay_id);
	resp_release(&r);
	return NULL;
}

TEST(concurrent_reentry)
{
	struct racer x[8];
	pthread_t t[8];
	char otn[40];

	make_otn(otn, sizeof(otn), "C8");
	for (int i = 0; i < 8; i++) {
		x[i].otn = otn;
		pthread_create(&t[i], NULL, race, &x[i]);
	}
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 8; i++) {
		CHECK_EQ_I64(x[i].status, 200);
		CHECK_STR(x[i].prepay_id, x[0].prepay_id);
	}
}

TEST(jsapi_auth_failures)
{
	struct resp r = { 0 };
	char otn[40], body[1024], other[1100];
	struct how stale = { .ts_offset = -400 }, future = { .ts_offset = 400 };
	struct how foreign = { .serial = "1234567890ABCDEF1234567890ABCDEF12345678" };
	struct how forged = { .signed_body = other };

	make_otn(otn, sizeof(otn), "B");
	snprintf(body, sizeof(body),
		 "{\"appid\":\"%s\",\"mchid\":\"%s\",\"description\":\"d\",\"out_trade_no\":\"%s\","
		 "\"notify_url\":\"https://example.com/n\",\"amount\":{\"total\":1},\"payer\":{\"openid\":\"%s\"}}",
		 cfg.wx_appid, cfg.wx_mchid, otn, openid);
	snprintf(other, sizeof(other), "%s ", body);
	/* the signature covers other bytes than those sent */
	CHECK_EQ_I64(pay_how(&r, "POST", "/v3/pay/transactions/jsapi", body, &forged), 401);
	CHECK_STR(jcode(&r), "SIGN_ERROR");
	CHECK_STR(jstr_at(r.json, "detail.detail.issue"), "sign not match");
	CHECK_STR(jstr_at(r.json, "detail.sign_information.url"), "/v3/pay/transactions/jsapi");
	CHECK(jnum_at(r.json, "detail.sign_information.sign_message_length") > 0);
	/* stale and future timestamps */
	CHECK_EQ_I64(pay_how(&r, "POST", "/v3/pay/transactions/jsapi", body, &stale), 401);
	CHECK_STR(jcode(&r), "SIGN_ERROR");
	CHECK_EQ_I64(pay_how(&r, "POST", "/v3/pay/transactions/jsapi", body, &future), 401);
	CHECK_STR(jcode(&r), "SIGN_ERROR");
	/* a certificate serial WeChat does not know */
	CHECK_EQ_I64(pay_how(&r, "POST", "/v3/pay/transactions/jsapi", body, &foreign), 401);
	CHECK_STR(jcode(&r), "SIGN_ERROR");
	/* no Authorization at all; a wrong scheme */
	CHECK_EQ_I64(http(&r, "POST", "/v3/pay/transactions/jsapi", body, NULL), 401);
	CHECK_STR(jcode(&r), "SIGN_ERROR");
	CHECK_EQ_I64(http(&r, "POST", "/v3/pay/transactions/jsapi", body, "Bearer abc"), 401);
	/* the body names another merchant than the header */
	{
		char mism[1024];
		snprintf(mism, sizeof(mism),
			 "{\"appid\":\"%s\",\"mchid\":\"1900009999\",\"description\":\"d\",\"out_trade_no\":\"%s\","
			 "\"notify_url\":\"https://example.com/n\",\"amount\":{\"total\":1},\"payer\":{\"openid\":\"%s\"}}",
			 cfg.wx_appid, otn, openid);
		CHECK_EQ_I64(pay(&r, "POST", "/v3/pay/transactions/jsapi", mism), 400);
		CHECK_STR(jcode(&r), "INVALID_REQUEST");
	}
	/* an unknown merchant in the header */
	{
		struct how other_mch = { .mchid = "1900009999" };
		CHECK_EQ_I64(pay_how(&r, "GET", "/v3/pay/transactions/out-trade-no/x123456?mchid=1900009999",
				     NULL, &other_mch), 400);
		CHECK_STR(jcode(&r), "MCH_NOT_EXISTS");
	}
	/* nothing was created by any of these */
	{
		char t[160];
		snprintf(t, sizeof(t), "/v3/pay/transactions/out-trade-no/%s?mchid=%s", otn, cfg.wx_mchid);
		CHECK_EQ_I64(pay(&r, "GET", t, NULL), 404);
		CHECK_STR(jcode(&r), "ORDER_NOT_EXIST");
	}
	resp_release(&r);
}

TEST(jsapi_param_errors)
{
	struct resp r = { 0 };
	char otn[40], body[1024];

	make_otn(otn, sizeof(otn), "C");
	snprintf(body, sizeof(body),
		 "{\"appid\":\"%s\",\"mchid\":\"%s\",\"description\":\"d\",\"out_trade_no\":\"%s\","
		 "\"notify_url\":\"https://example.com/n\",\"amount\":{\"total\":0},\"payer\":{\"openid\":\"%s\"}}",
		 cfg.wx_appid, cfg.wx_mchid, otn, openid);
	CHECK_EQ_I64(pay(&r, "POST", "/v3/pay/transactions/jsapi", body), 400);
	CHECK_STR(jcode(&r), "PARAM_ERROR");
	CHECK_STR(jstr_at(r.json, "detail.field"), "/amount/total");
	CHECK_STR(jstr_at(r.json, "detail.location"), "body");
	/* emoji are outside the BMP */
	snprintf(body, sizeof(body),
		 "{\"appid\":\"%s\",\"mchid\":\"%s\",\"description\":\"电费\xf0\x9f\x98\x80\",\"out_trade_no\":\"%s\","
		 "\"notify_url\":\"https://example.com/n\",\"amount\":{\"total\":1},\"payer\":{\"openid\":\"%s\"}}",
		 cfg.wx_appid, cfg.wx_mchid, otn, openid);
	CHECK_EQ_I64(pay(&r, "POST", "/v3/pay/transactions/jsapi", body), 400);
	CHECK_STR(jstr_at(r.json, "detail.field"), "/description");
	/* a notify_url with a query string */
	snprintf(body, sizeof(body),
		 "{\"appid\":\"%s\",\"mchid\":\"%s\",\"description\":\"d\",\"out_trade_no\":\"%s\","
		 "\"notify_url\":\"https://example.com/n?x=1\",\"amount\":{\"total\":1},\"payer\":{\"openid\":\"%s\"}}",
		 cfg.wx_appid, cfg.wx_mchid, otn, openid);
	CHECK_EQ_I64(pay(&r, "POST", "/v3/pay/transactions/jsapi", body), 400);
	CHECK_STR(jstr_at(r.json, "detail.field"), "/notify_url");
	/* an appid the merchant is not bound to; an openid of nobody */
	snprintf(body, sizeof(body),
		 "{\"appid\":\"wx0000000000000000\",\"mchid\":\"%s\",\"description\":\"d\",\"out_trade_no\":\"%s\","
		 "\"notify_url\":\"https://example.com/n\",\"amount\":{\"total\":1},\"payer\":{\"openid\":\"%s\"}}",
		 cfg.wx_mchid, otn, openid);
	CHECK_EQ_I64(pay(&r, "POST", "/v3/pay/transactions/jsapi", body), 400);
	CHECK_STR(jcode(&r), "APPID_MCHID_NOT_MATCH");
	snprintf(body, sizeof(body),
		 "{\"appid\":\"%s\",\"mchid\":\"%s\",\"description\":\"d\",\"out_trade_no\":\"%s\","
		 "\"notify_url\":\"https://example.com/n\",\"amount\":{\"total\":1},\"payer\":{\"openid\":\"oNobodyNobodyNobodyNobody000\"}}",
		 cfg.wx_appid, cfg.wx_mchid, otn);
	CHECK_EQ_I64(pay(&r, "POST", "/v3/pay/transactions/jsapi", body), 400);
	CHECK_STR(jcode(&r), "INVALID_REQUEST");
	resp_release(&r);
}

/* ---- query, close ---------------------------------------------------------------------------- */

TEST(query_and_close)
{
	struct resp r = { 0 };
	char otn[40], t[200];

	make_otn(otn, sizeof(otn), "Q");
	CHECK_EQ_I64(order(&r, otn, 500, NULL), 200);
	snprintf(t, sizeof(t), "/v3/pay/transactions/out-trade-no/%s?mchid=%s", otn, cfg.wx_mchid);
	CHECK_EQ_I64(pay(&r, "GET", t, NULL), 200);
	CHECK_EQ_I64(verify_resp(&r), XQ_OK);
	CHECK_STR(jstr_at(r.json, "trade_state"), "NOTPAY");
	CHECK_STR(jstr_at(r.json, "trade_state_desc"), "订单未支付");
	CHECK(jat(r.json, "transaction_id") == NULL);
	CHECK_EQ_I64(jnum_at(r.json, "amount.total"), 500);
	CHECK_STR(jstr_at(r.json, "payer.openid"), openid);
	/* the mchid query parameter is required */
	snprintf(t, sizeof(t), "/v3/pay/transactions/out-trade-no/%s", otn);
	CHECK_EQ_I64(pay(&r, "GET", t, NULL), 400);
	CHECK_STR(jcode(&r), "PARAM_ERROR");
	/* close: 204, signed over an empty body */
	snprintf(t, sizeof(t), "/v3/pay/transactions/out-trade-no/%s/close", otn);
	{
		char body[64];
		snprintf(body, sizeof(body), "{\"mchid\":\"%s\"}", cfg.wx_mchid);
		CHECK_EQ_I64(pay(&r, "POST", t, body), 204);
		CHECK_EQ_I64(r.body.len, 0);
		CHECK_EQ_I64(verify_resp(&r), XQ_OK);
		/* again: still 204 */
		CHECK_EQ_I64(pay(&r, "POST", t, body), 204);
	}
	snprintf(t, sizeof(t), "/v3/pay/transactions/out-trade-no/%s?mchid=%s", otn, cfg.wx_mchid);
	pay(&r, "GET", t, NULL);
	CHECK_STR(jstr_at(r.json, "trade_state"), "CLOSED");
	/* a closed order can neither be placed again nor paid */
	CHECK_EQ_I64(order(&r, otn, 500, NULL), 400);
	CHECK_STR(jcode(&r), "ORDER_CLOSED");
	CHECK_EQ_I64(sim_post(&r, "/sim/pay", "{\"out_trade_no\":\"%s\"}", otn), 409);
	/* unknown orders */
	CHECK_EQ_I64(pay(&r, "GET", "/v3/pay/transactions/out-trade-no/nosuchorder1?mchid=1900000001", NULL), 404);
	CHECK_STR(jcode(&r), "ORDER_NOT_EXIST");
	snprintf(t, sizeof(t), "/v3/pay/transactions/id/4200000000000000000000000000?mchid=%s", cfg.wx_mchid);
	CHECK_EQ_I64(pay(&r, "GET", t, NULL), 404);
	resp_release(&r);
}

/* ---- paying and callbacks ---------------------------------------------------------------------- */

TEST(pay_and_notify)
{
	struct resp r = { 0 };
	struct notice n;
	char otn[40], path[160], t[200], tid[40] = "";
	cJSON *tx;

	make_otn(otn, sizeof(otn), "P");
	notify_path(path, sizeof(path), otn);
	CHECK_EQ_I64(order(&r, otn, 12345, NULL), 200);
	CHECK_EQ_I64(sim_post(&r, "/sim/pay", "{\"out_trade_no\":\"%s\"}", otn), 200);
	CHECK_STR(jstr_at(r.json, "trade_state"), "SUCCESS");
	CHECK_STR(jstr_at(r.json, "result"), "requestPayment:ok");
	snprintf(tid, sizeof(tid), "%s", jstr_at(r.json, "transaction_id") ? jstr_at(r.json, "transaction_id") : "");
	CHECK_EQ_I64(strlen(tid), 28);
	CHECK_EQ_I64(rx_wait(path, 1, 10000), 1);
	if (rx_get(path, 0, &n)) {
		cJSON *env = cJSON_Parse(n.body);
		CHECK_EQ_I64(n.verified, XQ_OK);
		CHECK_EQ_I64(n.answered, 204);
		CHECK_STR(jstr_at(env, "event_type"), "TRANSACTION.SUCCESS");
		CHECK_STR(jstr_at(env, "resource_type"), "encrypt-resource");
		CHECK_STR(jstr_at(env, "resource.algorithm"), "AEAD_AES_256_GCM");
		CHECK_STR(jstr_at(env, "resource.associated_data"), "transaction");
		CHECK_EQ_I64(strlen(jstr_at(env, "resource.nonce") ? jstr_at(env, "resource.nonce") : ""), 12);
		tx = decrypt_notice(&n);
		CHECK(tx != NULL);
		CHECK_STR(jstr_at(tx, "out_trade_no"), otn);
		CHECK_STR(jstr_at(tx, "transaction_id"), tid);
		CHECK_STR(jstr_at(tx, "trade_state"), "SUCCESS");
		CHECK_STR(jstr_at(tx, "mchid"), cfg.wx_mchid);
		CHECK_STR(jstr_at(tx, "appid"), cfg.wx_appid);
		CHECK_EQ_I64(jnum_at(tx, "amount.total"), 12345);
		CHECK_EQ_I64(jnum_at(tx, "amount.payer_total"), 12345);
		CHECK_STR(jstr_at(tx, "payer.openid"), openid);
		CHECK(strstr(jstr_at(tx, "success_time") ? jstr_at(tx, "success_time") : "", "+08:00") != NULL);
		cJSON_Delete(tx);
		cJSON_Delete(env);
		notice_free(&n);
	}
	/* the sim's ledger: query by both numbers, re-entry refused as paid */
	snprintf(t, sizeof(t), "/v3/pay/transactions/out-trade-no/%s?mchid=%s", otn, cfg.wx_mchid);
	CHECK_EQ_I64(pay(&r, "GET", t, NULL), 200);
	CHECK_STR(jstr_at(r.json, "trade_state"), "SUCCESS");
	CHECK_STR(jstr_at(r.json, "transaction_id"), tid);
	{
		char attach[64];
		snprintf(attach, sizeof(attach), "bill:%s", otn);
		CHECK_STR(jstr_at(r.json, "attach"), attach);
	}
	snprintf(t, sizeof(t), "/v3/pay/transactions/id/%s?mchid=%s", tid, cfg.wx_mchid);
	CHECK_EQ_I64(pay(&r, "GET", t, NULL), 200);
	CHECK_EQ_I64(verify_resp(&r), XQ_OK);
	CHECK_STR(jstr_at(r.json, "out_trade_no"), otn);
	CHECK_EQ_I64(order(&r, otn, 12345, NULL), 400);
	CHECK_STR(jcode(&r), "ORDERPAID");
	snprintf(t, sizeof(t), "/v3/pay/transactions/out-trade-no/%s/close", otn);
	CHECK_EQ_I64(pay(&r, "POST", t, "{\"mchid\":\"1900000001\"}"), 400);
	CHECK_STR(jcode(&r), "ORDERPAID");
	CHECK_EQ_I64(sim_post(&r, "/sim/pay", "{\"out_trade_no\":\"%s\"}", otn), 409);
	/* /sim/notifications shows the delivery */
	notifications(&r, otn);
	CHECK_STR(jstr_at(r.json, "notifications.0.deliveries.0.state"), "DELIVERED");
	CHECK_EQ_I64(jnum_at(r.json, "notifications.0.deliveries.0.attempts.0.http_status"), 204);
	CHECK_EQ_I64(jnum_at(r.json, "notifications.0.resource.amount.total"), 12345);
	resp_release(&r);
}

TEST(pay_with_pay_sign_and_cancel)
{
	struct resp r = { 0 };
	struct wxpay_jsapi_params jp;
	char otn[40], prepay[65], nonce[33];

	make_otn(otn, sizeof(otn), "S");
	CHECK_EQ_I64(order(&r, otn, 300, prepay), 200);
	/* the resident cancels: still NOTPAY */
	CHECK_EQ_I64(sim_post(&r, "/sim/pay", "{\"out_trade_no\":\"%s\",\"outcome\":\"CANCEL\"}", otn), 200);
	CHECK_STR(jstr_at(r.json, "result"), "requestPayment:fail cancel");
	CHECK_STR(jstr_at(r.json, "trade_state"), "NOTPAY");
	/* a paySign made with another key than the merchant's is refused */
	random_str(nonce, 32);
	CHECK_EQ_I64(wxpay_jsapi_params(mkey, cfg.wx_appid, prepay, now_s(), nonce, &jp), XQ_OK);
	CHECK_EQ_I64(sim_post(&r, "/sim/pay",
			      "{\"appId\":\"%s\",\"timeStamp\":\"%s\",\"nonceStr\":\"%s\",\"package\":\"%s\","
			      "\"signType\":\"RSA\",\"paySign\":\"%s\"}",
			      cfg.wx_appid, jp.time_stamp, "OTHERNONCE", jp.package, jp.pay_sign), 400);
	CHECK_STR(jcode(&r), "PAY_SIGN_ERROR");
	CHECK_EQ_I64(sim_post(&r, "/sim/pay",
			      "{\"appId\":\"%s\",\"timeStamp\":\"%s\",\"nonceStr\":\"%s\",\"package\":\"%s\","
			      "\"signType\":\"RSA\",\"paySign\":\"%s\"}",
			      cfg.wx_appid, jp.time_stamp, jp.nonce_str, jp.package, jp.pay_sign), 200);
	CHECK_STR(jstr_at(r.json, "trade_state"), "SUCCESS");
	resp_release(&r);
}

/* The receiver answers 500 twice, then verifies: three sends, one notification id and body. */
TEST(retry_after_failure)
{
	static const int fail2[] = { 500, 503 };
	struct resp r = { 0 };
	struct notice a, b, c;
	char otn[40], path[160], na[40], nc[40];

	make_otn(otn, sizeof(otn), "R");
	notify_path(path, sizeof(path), otn);
	rx_plan(path, 2, fail2);
	CHECK_EQ_I64(order(&r, otn, 777, NULL), 200);
	CHECK_EQ_I64(sim_post(&r, "/sim/pay", "{\"out_trade_no\":\"%s\",\"retry_scale\":500}", otn), 200);
	CHECK_EQ_I64(rx_wait(path, 3, 20000), 3);
	if (rx_get(path, 0, &a) && rx_get(path, 2, &c) && rx_get(path, 1, &b)) {
		CHECK_EQ_I64(a.answered, 500);
		CHECK_EQ_I64(b.answered, 503);
		CHECK_EQ_I64(c.answered, 204);
		CHECK_EQ_I64(c.verified, XQ_OK);
		/* identical body, fresh signature */
		CHECK(a.len == c.len && !memcmp(a.body, c.body, a.len));
		header_in(a.head, "Wechatpay-Nonce", na, sizeof(na));
		header_in(c.head, "Wechatpay-Nonce", nc, sizeof(nc));
		CHECK(strcmp(na, nc) != 0);
	}
	notice_free(&a);
	notice_free(&b);
	notice_free(&c);
	sleep_ms(300);
	notifications(&r, otn);
	CHECK_STR(jstr_at(r.json, "notifications.0.deliveries.0.state"), "DELIVERED");
	CHECK_EQ_I64(jnum_at(r.json, "notifications.0.deliveries.0.sends"), 3);
	CHECK_EQ_I64(jnum_at(r.json, "notifications.0.deliveries.0.attempts.0.http_status"), 500);
	CHECK_EQ_I64(jnum_at(r.json, "notifications.0.deliveries.0.attempts.1.http_status"), 503);
	CHECK_EQ_I64(jnum_at(r.json, "notifications.0.deliveries.0.attempts.2.http_status"), 204);
	/* 15 s / 500 = 30 ms between the first two sends, at least */
	CHECK(jnum_at(r.json, "notifications.0.deliveries.0.attempts.1.at_ms") -
		      jnum_at(r.json, "notifications.0.deliveries.0.attempts.0.at_ms") >= 30);
	resp_release(&r);
}

/* Every §3.4 fault: the first send must fail our verification, the retry must pass. */
TEST(notification_faults)
{
	static const char *const faults[] = { "probe", "stale_timestamp", "wrong_serial", "tampered",
					      "unsigned" };
	struct resp r = { 0 };

	for (size_t i = 0; i < XQ_ARRAY_LEN(faults); i++) {
		struct notice a, b;
		char otn[40], path[160], tag[8], sig[800];

		snprintf(tag, sizeof(tag), "F%zu", i);
		make_otn(otn, sizeof(otn), tag);
		notify_path(path, sizeof(path), otn);
		CHECK_EQ_I64(order(&r, otn, 100 + (int64_t)i, NULL), 200);
		CHECK_EQ_I64(sim_post(&r, "/sim/pay",
				      "{\"out_trade_no\":\"%s\",\"fault\":\"%s\",\"retry_scale\":1000}", otn,
				      faults[i]), 200);
		CHECK_EQ_I64(rx_wait(path, 2, 15000), 2);
		if (!rx_get(path, 0, &a) || !rx_get(path, 1, &b)) {
			fprintf(stderr, "fault %s: callbacks missing\n", faults[i]);
			test_failed_++;
			continue;
		}
		if (a.verified == XQ_OK)
			fprintf(stderr, "fault %s was not detected\n", faults[i]);
		CHECK(a.verified != XQ_OK);
		CHECK_EQ_I64(a.answered, 401);
		CHECK_EQ_I64(b.verified, XQ_OK);
		CHECK_EQ_I64(b.answered, 204);
		header_in(a.head, "Wechatpay-Signature", sig, sizeof(sig));
		if (!strcmp(faults[i], "probe"))
			CHECK(strncmp(sig, "WECHATPAY/SIGNTEST/", 19) == 0);
		if (!strcmp(faults[i], "unsigned"))
			CHECK(sig[0] == '\0');
		notice_free(&a);
		notice_free(&b);
	}
	resp_release(&r);
}

/* Duplicates and reordering: repeat, delay and replay. */
TEST(repeat_reorder_replay)
{
	struct resp r = { 0 };
	char o1[40], o2[40], p1[160], p2[160], id1[40] = "";
	struct notice a, b;

	make_otn(o1, sizeof(o1), "D1");
	make_otn(o2, sizeof(o2), "D2");
	notify_path(p1, sizeof(p1), o1);
	notify_path(p2, sizeof(p2), o2);
	CHECK_EQ_I64(order(&r, o1, 201, NULL), 200);
	CHECK_EQ_I64(order(&r, o2, 202, NULL), 200);
	/* o1 is paid first but its callback waits 1.5 s; o2's comes at once, three times */
	CHECK_EQ_I64(sim_post(&r, "/sim/pay", "{\"out_trade_no\":\"%s\",\"delay_ms\":1500}", o1), 200);
	snprintf(id1, sizeof(id1), "%s", jstr_at(r.json, "notification_id") ? jstr_at(r.json, "notification_id") : "");
	CHECK_EQ_I64(sim_post(&r, "/sim/pay", "{\"out_trade_no\":\"%s\",\"repeat\":3}", o2), 200);
	CHECK_EQ_I64(rx_wait(p2, 3, 10000), 3);
	CHECK_EQ_I64(rx_wait(p1, 1, 0), 0);
	CHECK_EQ_I64(rx_wait(p1, 1, 10000), 1);
	if (rx_get(p2, 0, &a) && rx_get(p2, 2, &b)) {
		cJSON *ea = cJSON_Parse(a.body), *eb = cJSON_Parse(b.body);
		CHECK_STR(jstr_at(ea, "id"), jstr_at(eb, "id"));
		CHECK_EQ_I64(b.verified, XQ_OK);
		cJSON_Delete(ea);
		cJSON_Delete(eb);
	}
	notice_free(&a);
	notice_free(&b);
	/* replay o1's callback: one more send with the same notification id */
	CHECK_EQ_I64(sim_post(&r, "/sim/notify/replay", "{\"out_trade_no\":\"%s\"}", o1), 200);
	CHECK_STR(jstr_at(r.json, "notification_id"), id1);
	CHECK_EQ_I64(rx_wait(p1, 2, 10000), 2);
	if (rx_get(p1, 1, &a)) {
		cJSON *ea = cJSON_Parse(a.body);
		CHECK_STR(jstr_at(ea, "id"), id1);
		CHECK_EQ_I64(a.verified, XQ_OK);
		cJSON_Delete(ea);
	}
	notice_free(&a);
	resp_release(&r);
}

/* ---- refunds ---------------------------------------------------------------------------------- */

TEST(refund_and_notify)
{
	struct resp r = { 0 };
	struct notice n;
	char otn[40], path[160], orn[48], body[1024], t[200], rid[40] = "";
	cJSON *res;

	make_otn(otn, sizeof(otn), "F");
	snprintf(orn, sizeof(orn), "RF%s", otn);
	notify_path(path, sizeof(path), otn);
	CHECK_EQ_I64(order(&r, otn, 1000, NULL), 200);
	/* refunding an unpaid order is refused */
	snprintf(body, sizeof(body),
		 "{\"out_trade_no\":\"%s\",\"out_refund_no\":\"%s\",\"reason\":\"多缴退回\","
		 "\"notify_url\":\"http://127.0.0.1:%d%s\",\"amount\":{\"refund\":400,\"total\":1000,\"currency\":\"CNY\"}}",
		 otn, orn, rx.port, path);
	CHECK_EQ_I64(pay(&r, "POST", "/v3/refund/domestic/refunds", body), 400);
	CHECK_EQ_I64(sim_post(&r, "/sim/pay", "{\"out_trade_no\":\"%s\"}", otn), 200);
	CHECK_EQ_I64(rx_wait(path, 1, 10000), 1);
	CHECK_EQ_I64(pay(&r, "POST", "/v3/refund/domestic/refunds", body), 200);
	CHECK_EQ_I64(verify_resp(&r), XQ_OK);
	CHECK_STR(jstr_at(r.json, "status"), "PROCESSING");
	CHECK_STR(jstr_at(r.json, "out_refund_no"), orn);
	CHECK_EQ_I64(jnum_at(r.json, "amount.refund"), 400);
	snprintf(rid, sizeof(rid), "%s", jstr_at(r.json, "refund_id") ? jstr_at(r.json, "refund_id") : "");
	CHECK_EQ_I64(strlen(rid), 29);
	CHECK(strncmp(rid, "50", 2) == 0);
	/* the same out_refund_no again: the same refund, not a second one */
	CHECK_EQ_I64(pay(&r, "POST", "/v3/refund/domestic/refunds", body), 200);
	CHECK_STR(jstr_at(r.json, "refund_id"), rid);
	/* more than is left */
	snprintf(body, sizeof(body),
		 "{\"out_trade_no\":\"%s\",\"out_refund_no\":\"%sX\",\"amount\":{\"refund\":601,\"total\":1000,\"currency\":\"CNY\"}}",
		 otn, orn);
	CHECK_EQ_I64(pay(&r, "POST", "/v3/refund/domestic/refunds", body), 400);
	CHECK_STR(jcode(&r), "INVALID_REQUEST");
	/* the order now says REFUND */
	snprintf(t, sizeof(t), "/v3/pay/transactions/out-trade-no/%s?mchid=%s", otn, cfg.wx_mchid);
	pay(&r, "GET", t, NULL);
	CHECK_STR(jstr_at(r.json, "trade_state"), "REFUND");
	/* the refund completes (1 s by default) and calls back */
	CHECK_EQ_I64(rx_wait(path, 2, 15000), 2);
	if (rx_get(path, 1, &n)) {
		cJSON *env = cJSON_Parse(n.body);
		CHECK_EQ_I64(n.verified, XQ_OK);
		CHECK_STR(jstr_at(env, "event_type"), "REFUND.SUCCESS");
		CHECK_STR(jstr_at(env, "resource.original_type"), "refund");
		res = decrypt_notice(&n);
		CHECK_STR(jstr_at(res, "refund_status"), "SUCCESS");
		CHECK_STR(jstr_at(res, "out_refund_no"), orn);
		CHECK_STR(jstr_at(res, "refund_id"), rid);
		CHECK_STR(jstr_at(res, "out_trade_no"), otn);
		CHECK_EQ_I64(jnum_at(res, "amount.refund"), 400);
		CHECK_EQ_I64(jnum_at(res, "amount.total"), 1000);
		cJSON_Delete(res);
		cJSON_Delete(env);
	}
	notice_free(&n);
	snprintf(t, sizeof(t), "/v3/refund/domestic/refunds/%s", orn);
	CHECK_EQ_I64(pay(&r, "GET", t, NULL), 200);
	CHECK_EQ_I64(verify_resp(&r), XQ_OK);
	CHECK_STR(jstr_at(r.json, "status"), "SUCCESS");
	CHECK(jstr_at(r.json, "success_time") != NULL);
	CHECK_EQ_I64(pay(&r, "GET", "/v3/refund/domestic/refunds/NoSuchRefund1", NULL), 404);
	CHECK_STR(jcode(&r), "RESOURCE_NOT_EXISTS");
	resp_release(&r);
}

TEST(refund_held_then_abnormal)
{
	struct resp r = { 0 };
	struct notice n;
	char otn[40], path[160], orn[48], body[1024], t[200];

	make_otn(otn, sizeof(otn), "H");
	snprintf(orn, sizeof(orn), "RH%s", otn);
	notify_path(path, sizeof(path), otn);
	CHECK_EQ_I64(order(&r, otn, 800, NULL), 200);
	CHECK_EQ_I64(sim_post(&r, "/sim/pay", "{\"out_trade_no\":\"%s\",\"refund_outcome\":\"HOLD\"}", otn), 200);
	CHECK_EQ_I64(rx_wait(path, 1, 10000), 1);
	/* refund by transaction_id: look it up first */
	snprintf(t, sizeof(t), "/v3/pay/transactions/out-trade-no/%s?mchid=%s", otn, cfg.wx_mchid);
	pay(&r, "GET", t, NULL);
	snprintf(body, sizeof(body),
		 "{\"transaction_id\":\"%s\",\"out_refund_no\":\"%s\",\"notify_url\":\"http://127.0.0.1:%d%s\","
		 "\"amount\":{\"refund\":800,\"total\":800,\"currency\":\"CNY\"}}",
		 jstr_at(r.json, "transaction_id") ? jstr_at(r.json, "transaction_id") : "", orn, rx.port, path);
	CHECK_EQ_I64(pay(&r, "POST", "/v3/refund/domestic/refunds", body), 200);
	sleep_ms(1500);
	snprintf(t, sizeof(t), "/v3/refund/domestic/refunds/%s", orn);
	pay(&r, "GET", t, NULL);
	CHECK_STR(jstr_at(r.json, "status"), "PROCESSING");
	CHECK_EQ_I64(sim_post(&r, "/sim/refund/complete", "{\"out_refund_no\":\"%s\",\"status\":\"ABNORMAL\"}", orn), 200);
	CHECK_STR(jstr_at(r.json, "status"), "ABNORMAL");
	CHECK_EQ_I64(rx_wait(path, 2, 10000), 2);
	if (rx_get(path, 1, &n)) {
		cJSON *env = cJSON_Parse(n.body);
		CHECK_STR(jstr_at(env, "event_type"), "REFUND.ABNORMAL");
		cJSON_Delete(env);
	}
	notice_free(&n);
	CHECK_EQ_I64(sim_post(&r, "/sim/refund/complete", "{\"out_refund_no\":\"%s\"}", orn), 409);
	resp_release(&r);
}

/* ---- armed response faults, certificates --------------------------------------------------------- */

TEST(response_faults)
{
	struct resp r = { 0 };
	char otn[40], t[200], probe[800];

	make_otn(otn, sizeof(otn), "G");
	CHECK_EQ_I64(order(&r, otn, 900, NULL), 200);
	snprintf(t, sizeof(t), "/v3/pay/transactions/out-trade-no/%s", otn);
	CHECK_EQ_I64(sim_post(&r, "/sim/faults", "{\"fault\":\"unsigned\",\"path\":\"%s\"}", t), 200);
	CHECK_EQ_I64(sim_post(&r, "/sim/faults", "{\"fault\":\"probe\",\"path\":\"%s\"}", t), 200);
	CHECK_EQ_I64(sim_post(&r, "/sim/faults", "{\"fault\":\"system_error\",\"path\":\"%s\"}", t), 200);
	snprintf(t, sizeof(t), "/v3/pay/transactions/out-trade-no/%s?mchid=%s", otn, cfg.wx_mchid);
	CHECK_EQ_I64(pay(&r, "GET", t, NULL), 200);
	CHECK(!header_in(r.head.data, "Wechatpay-Signature", probe, sizeof(probe)));
	CHECK(verify_resp(&r) != XQ_OK);
	CHECK_EQ_I64(pay(&r, "GET", t, NULL), 200);
	header_in(r.head.data, "Wechatpay-Signature", probe, sizeof(probe));
	CHECK(strncmp(probe, "WECHATPAY/SIGNTEST/", 19) == 0);
	CHECK(verify_resp(&r) != XQ_OK);
	CHECK_EQ_I64(pay(&r, "GET", t, NULL), 500);
	CHECK_STR(jcode(&r), "SYSTEM_ERROR");
	/* used up: back to normal */
	CHECK_EQ_I64(pay(&r, "GET", t, NULL), 200);
	CHECK_EQ_I64(verify_resp(&r), XQ_OK);
	/* an errcode fault on the mini-program side */
	CHECK_EQ_I64(sim_post(&r, "/sim/faults", "{\"fault\":\"busy\",\"path\":\"/sns/\"}"), 200);
	snprintf(t, sizeof(t), "/sns/jscode2session?appid=%s&secret=%s&js_code=test-z%s&grant_type=authorization_code",
		 cfg.wx_appid, cfg.wx_app_secret, uniq);
	http(&r, "GET", t, NULL, NULL);
	CHECK_EQ_I64(jnum_at(r.json, "errcode"), -1);
	http(&r, "GET", t, NULL, NULL);
	CHECK(jstr_at(r.json, "openid") != NULL);
	/* public-key mode: no platform certificates to download */
	if (!strncmp(cfg.wx_platform_key_id, "PUB_KEY_ID_", 11)) {
		CHECK_EQ_I64(pay(&r, "GET", "/v3/certificates", NULL), 404);
	} else {
		struct wxpay_cert_list l;
		CHECK_EQ_I64(pay(&r, "GET", "/v3/certificates", NULL), 200);
		CHECK_EQ_I64(wxpay_certs_decrypt((const unsigned char *)cfg.wx_apiv3_key, 32,
						 r.body.data, r.body.len, &l), XQ_OK);
		wxpay_cert_list_release(&l);
	}
	resp_release(&r);
}

/* ---- trade bill -------------------------------------------------------------------------------------- */

/* "12.34" -> 1234; -1 if not exactly yuan with 2 decimals. */
static int64_t yuan_fen(const char *s)
{
	int64_t y = 0;
	const char *dot = strchr(s, '.');

	if (!dot || strlen(dot) != 3 || dot == s)
		return -1;
	for (const char *p = s; p < dot; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		y = y * 10 + (*p - '0');
	}
	if (dot[1] < '0' || dot[1] > '9' || dot[2] < '0' || dot[2] > '9')
		return -1;
	return y * 100 + (dot[1] - '0') * 10 + (dot[2] - '0');
}

/* Splits a bill line on ',' into fields (each without its one leading backtick). */
static int split(char *line, char **f, int max)
{
	int n = 0;
	char *p = line;

	for (;;) {
		char *c = strchr(p, ',');
		if (n == max)
			return -1;
		if (c)
			*c = '\0';
		f[n++] = *p == '`' ? p + 1 : p;
		if (!c)
			break;
		p = c + 1;
	}
	return n;
}

struct bill_check {
	const char *otn1, *otn2, *orn;
	int64_t total1, total2, refund;
	int seen1, seen2, seen_refund;
};

static void check_bill(const char *file, size_t len, struct bill_check *bc)
{
	char *copy = xq_strndup(file, len), *save = NULL, *f[40];
	int64_t n = 0, settle = 0, refund = 0, order_sum = 0, applied = 0, fee = 0;
	int line = 0, in_summary = 0, summary_ok = 0;

	CHECK(len > 3 && !memcmp(file, "\xef\xbb\xbf", 3));
	CHECK(len > 2 && !memcmp(file + len - 2, "\r\n", 2));
	CHECK(strstr(file, "\r\n") != NULL);
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save), line++) {
		size_t ll = strlen(l);
		int k;
		CHECK(ll > 0 && l[ll - 1] == '\r');
		if (ll && l[ll - 1] == '\r')
			l[ll - 1] = '\0';
		if (line == 0) {
			k = split(l + 3, f, 40);
			CHECK_EQ_I64(k, 27);
			CHECK_STR(f[0], "交易时间");
			CHECK_STR(f[26], "费率备注");
			continue;
		}
		if (l[0] != '`') {
			k = split(l, f, 40);
			CHECK_EQ_I64(k, 7);
			CHECK_STR(f[0], "总交易单数");
			in_summary = 1;
			continue;
		}
		k = split(l, f, 40);
		if (in_summary) {
			CHECK_EQ_I64(k, 7);
			if (k == 7) {
				int64_t cnt = 0;
				xq_parse_i64(f[0], &cnt);
				CHECK_EQ_I64(cnt, n);
				CHECK_EQ_I64(yuan_fen(f[1]), settle);
				CHECK_EQ_I64(yuan_fen(f[2]), refund);
				CHECK_EQ_I64(yuan_fen(f[4]), fee);
				CHECK_EQ_I64(yuan_fen(f[5]), order_sum);
				CHECK_EQ_I64(yuan_fen(f[6]), applied);
				summary_ok = 1;
			}
			continue;
		}
		CHECK_EQ_I64(k, 27);
		if (k != 27)
			continue;
		n++;
		settle += yuan_fen(f[12]);
		refund += yuan_fen(f[16]);
		order_sum += yuan_fen(f[24]);
		applied += yuan_fen(f[25]);
		{
			/* fee has 5 decimals, always ending in 000 here (rounded to fen) */
			size_t fl = strlen(f[22]);
			CHECK(fl > 6 && !strcmp(f[22] + fl - 3, "000"));
			if (fl > 6) {
				char tmp[32];
				snprintf(tmp, sizeof(tmp), "%.*s", (int)(fl - 3), f[22]);
				fee += yuan_fen(tmp);
			}
		}
		CHECK_STR(f[26], "");
		if (!strcmp(f[6], bc->otn1) && !strcmp(f[9], "SUCCESS")) {
			bc->seen1++;
			CHECK_EQ_I64(yuan_fen(f[24]), bc->total1);
			CHECK_STR(f[8], "JSAPI");
			CHECK_STR(f[7], openid);
		}
		if (!strcmp(f[6], bc->otn2) && !strcmp(f[9], "SUCCESS")) {
			bc->seen2++;
			CHECK_EQ_I64(yuan_fen(f[24]), bc->total2);
		}
		if (!strcmp(f[9], "REFUND") && !strcmp(f[15], bc->orn)) {
			bc->seen_refund++;
			CHECK_EQ_I64(yuan_fen(f[16]), bc->refund);
			CHECK_EQ_I64(yuan_fen(f[24]), 0);
			CHECK_STR(f[6], bc->otn1);
		}
	}
	CHECK(summary_ok);
	free(copy);
}

static void sha1_hex(const char *d, size_t n, char out[41])
{
	unsigned char md[20];
	unsigned int l = 0;
	EVP_Digest(d, n, md, &l, EVP_sha1(), NULL);
	xq_hex(md, sizeof(md), out);
}

TEST(trade_bill)
{
	struct resp r = { 0 };
	char o1[40], o2[40], p1[160], orn[48], body[1024], t[300], date[40], sha[41];
	char hash[64] = "", url[512] = "";
	struct bill_check bc = { 0 };
	time_t when;
	struct tm tm;

	make_otn(o1, sizeof(o1), "L1");
	make_otn(o2, sizeof(o2), "L2");
	snprintf(orn, sizeof(orn), "RL%s", o1);
	notify_path(p1, sizeof(p1), o1);
	CHECK_EQ_I64(order(&r, o1, 4321, NULL), 200);
	CHECK_EQ_I64(order(&r, o2, 1999, NULL), 200);
	sim_post(&r, "/sim/pay", "{\"out_trade_no\":\"%s\"}", o1);
	sim_post(&r, "/sim/pay", "{\"out_trade_no\":\"%s\"}", o2);
	snprintf(body, sizeof(body),
		 "{\"out_trade_no\":\"%s\",\"out_refund_no\":\"%s\",\"notify_url\":\"http://127.0.0.1:%d%s\","
		 "\"amount\":{\"refund\":321,\"total\":4321,\"currency\":\"CNY\"}}", o1, orn, rx.port, p1);
	CHECK_EQ_I64(pay(&r, "POST", "/v3/refund/domestic/refunds", body), 200);
	/* yesterday's bill may still be in the making; two days back it is ready */
	CHECK_EQ_I64(sim_post(&r, "/sim/backdate", "{\"out_trade_no\":\"%s\",\"days\":2}", o1), 200);
	CHECK_EQ_I64(sim_post(&r, "/sim/backdate", "{\"out_trade_no\":\"%s\",\"days\":2}", o2), 200);
	when = (time_t)(now_s() + 8 * 3600 - 2 * 86400);
	gmtime_r(&when, &tm);
	snprintf(date, sizeof(date), "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	snprintf(t, sizeof(t), "/v3/bill/tradebill?bill_date=%s&bill_type=ALL", date);
	CHECK_EQ_I64(pay(&r, "GET", t, NULL), 200);
	CHECK_EQ_I64(verify_resp(&r), XQ_OK);
	CHECK_STR(jstr_at(r.json, "hash_type"), "SHA1");
	snprintf(hash, sizeof(hash), "%s", jstr_at(r.json, "hash_value") ? jstr_at(r.json, "hash_value") : "");
	snprintf(url, sizeof(url), "%s", jstr_at(r.json, "download_url") ? jstr_at(r.json, "download_url") : "");
	CHECK(strncmp(url, base, strlen(base)) == 0);
	/* download: sign path + query of download_url; the file is not signed, the hash is the check */
	CHECK_EQ_I64(pay(&r, "GET", url + strlen(base), NULL), 200);
	sha1_hex(r.body.data, r.body.len, sha);
	CHECK_STR(sha, hash);
	bc.otn1 = o1, bc.otn2 = o2, bc.orn = orn;
	bc.total1 = 4321, bc.total2 = 1999, bc.refund = 321;
	check_bill(r.body.data, r.body.len, &bc);
	CHECK_EQ_I64(bc.seen1, 1);
	CHECK_EQ_I64(bc.seen2, 1);
	CHECK_EQ_I64(bc.seen_refund, 1);
	/* unsigned download: refused */
	CHECK_EQ_I64(http(&r, "GET", url + strlen(base), NULL, NULL), 401);
	/* gzip: the same file compressed */
	snprintf(t, sizeof(t), "/v3/bill/tradebill?bill_date=%s&tar_type=GZIP", date);
	CHECK_EQ_I64(pay(&r, "GET", t, NULL), 200);
	snprintf(hash, sizeof(hash), "%s", jstr_at(r.json, "hash_value") ? jstr_at(r.json, "hash_value") : "");
	snprintf(url, sizeof(url), "%s", jstr_at(r.json, "download_url") ? jstr_at(r.json, "download_url") : "");
	CHECK_EQ_I64(pay(&r, "GET", url + strlen(base), NULL), 200);
	CHECK(r.body.len > 2 && (unsigned char)r.body.data[0] == 0x1f && (unsigned char)r.body.data[1] == 0x8b);
	{
		z_stream z;
		unsigned char *out = xq_malloc(8u << 20);
		memset(&z, 0, sizeof(z));
		inflateInit2(&z, 15 + 32);
		z.next_in = (unsigned char *)r.body.data;
		z.avail_in = (uInt)r.body.len;
		z.next_out = out;
		z.avail_out = 8u << 20;
		CHECK_EQ_I64(inflate(&z, Z_FINISH), Z_STREAM_END);
		sha1_hex((const char *)out, z.total_out, sha);
		CHECK_STR(sha, hash);
		inflateEnd(&z);
		free(out);
	}
	/* the SUCCESS bill has 20 columns and no refund lines */
	snprintf(t, sizeof(t), "/v3/bill/tradebill?bill_date=%s&bill_type=SUCCESS", date);
	CHECK_EQ_I64(pay(&r, "GET", t, NULL), 200);
	snprintf(url, sizeof(url), "%s", jstr_at(r.json, "download_url") ? jstr_at(r.json, "download_url") : "");
	CHECK_EQ_I64(pay(&r, "GET", url + strlen(base), NULL), 200);
	CHECK(strstr(r.body.data, "`REFUND,") == NULL);
	CHECK(strstr(r.body.data, "总交易单数,应结订单总金额,手续费总金额,订单总金额\r\n") != NULL);
	/* today and the far past */
	when = (time_t)(now_s() + 8 * 3600);
	gmtime_r(&when, &tm);
	snprintf(t, sizeof(t), "/v3/bill/tradebill?bill_date=%04d-%02d-%02d", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday);
	CHECK_EQ_I64(pay(&r, "GET", t, NULL), 400);
	CHECK_STR(jcode(&r), "PARAM_ERROR");
	when = (time_t)(now_s() + 8 * 3600 - 60 * 86400);
	gmtime_r(&when, &tm);
	snprintf(t, sizeof(t), "/v3/bill/tradebill?bill_date=%04d-%02d-%02d", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday);
	CHECK_EQ_I64(pay(&r, "GET", t, NULL), 400);
	CHECK_STR(jcode(&r), "NO_STATEMENT_EXIST");
	resp_release(&r);
}

/* ---- kill -9 in the middle of a retry --------------------------------------------------------- */

static long read_pid(const char *file)
{
	char *s = slurp(file, NULL);
	int64_t pid = 0;
	if (s) {
		s[strcspn(s, "\n")] = '\0';
		xq_parse_i64(s, &pid);
	}
	free(s);
	return (long)pid;
}

TEST(survives_kill_9)
{
	static const int fail3[] = { 500, 500, 500 };
	const char *var = getenv("XQ_VAR");
	struct resp r = { 0 };
	char otn[40], path[160], pidfile[512], t[200], cmd[1024];
	const char *stack = getenv("XQ_STACK_SH") ? getenv("XQ_STACK_SH") : "deploy/stack.sh";
	long pid, pid2;
	int rc;

	if (!var) {
		printf("survives_kill_9: skipped (XQ_VAR not set)\n");
		return;
	}
	make_otn(otn, sizeof(otn), "K");
	notify_path(path, sizeof(path), otn);
	rx_plan(path, 3, fail3);
	CHECK_EQ_I64(order(&r, otn, 4242, NULL), 200);
	/* retries in real time: the next one is 15 s away when we pull the plug */
	CHECK_EQ_I64(sim_post(&r, "/sim/pay", "{\"out_trade_no\":\"%s\"}", otn), 200);
	CHECK_EQ_I64(rx_wait(path, 1, 10000), 1);
	snprintf(pidfile, sizeof(pidfile), "%s/run/xq-wxsim.pid", var);
	pid = read_pid(pidfile);
	CHECK(pid > 1);
	if (pid <= 1) {
		resp_release(&r);
		return;
	}
	CHECK_EQ_I64(kill((pid_t)pid, SIGKILL), 0);
	for (int i = 0; i < 100 && kill((pid_t)pid, 0) == 0; i++)
		sleep_ms(50);
	/* nginx answers for the dead simulator */
	CHECK_EQ_I64(http(&r, "GET", "/sim/healthz", NULL, NULL), 503);
	snprintf(cmd, sizeof(cmd), "bash %s start >/dev/null 2>&1", stack);
	rc = system(cmd);
	CHECK_EQ_I64(rc, 0);
	pid2 = read_pid(pidfile);
	CHECK(pid2 > 1 && pid2 != pid);
	CHECK_EQ_I64(http(&r, "GET", "/sim/healthz", NULL, NULL), 200);
	/* the order and its pending callback survived */
	snprintf(t, sizeof(t), "/v3/pay/transactions/out-trade-no/%s?mchid=%s", otn, cfg.wx_mchid);
	CHECK_EQ_I64(pay(&r, "GET", t, NULL), 200);
	CHECK_STR(jstr_at(r.json, "trade_state"), "SUCCESS");
	notifications(&r, otn);
	CHECK_STR(jstr_at(r.json, "notifications.0.deliveries.0.state"), "PENDING");
	rx_unplan(path);
	CHECK_EQ_I64(sim_post(&r, "/sim/notify/deliver", "{\"out_trade_no\":\"%s\"}", otn), 200);
	CHECK_EQ_I64(jnum_at(r.json, "due"), 1);
	CHECK_EQ_I64(rx_wait(path, 2, 10000), 2);
	sleep_ms(300);
	notifications(&r, otn);
	CHECK_STR(jstr_at(r.json, "notifications.0.deliveries.0.state"), "DELIVERED");
	CHECK_EQ_I64(jnum_at(r.json, "notifications.0.deliveries.0.attempts.0.http_status"), 500);
	CHECK_EQ_I64(jnum_at(r.json, "notifications.0.deliveries.0.attempts.1.http_status"), 204);
	resp_release(&r);
}

/* ---- setup ---------------------------------------------------------------------------------- */

static int setup(void)
{
	const char *conf = getenv("XQ_CONFIG"), *url = getenv("XQ_WXSIM_URL");
	char err[512], *pem;
	size_t len;

	if (!conf) {
		fprintf(stderr, "test_wxsim: XQ_CONFIG must name the stack's xiaoqu.conf\n");
		return 1;
	}
	if (config_load(&cfg, conf, err, sizeof(err))) {
		fprintf(stderr, "test_wxsim: %s\n", err);
		return 1;
	}
	snprintf(base, sizeof(base), "%s", url && *url ? url : cfg.wx_pay_base_url);
	if (!(pem = slurp(cfg.wx_merchant_key_file, &len)) || wxpay_privkey_load(pem, len, &mkey)) {
		fprintf(stderr, "test_wxsim: cannot load wx.merchant_key_file\n");
		free(pem);
		return 1;
	}
	free(pem);
	if (!(pem = slurp(cfg.wx_platform_pubkey_file, &len)) ||
	    wxpay_pubkey_load(pem, len, &platform_pub)) {
		fprintf(stderr, "test_wxsim: cannot load wx.platform_pubkey_file\n");
		free(pem);
		return 1;
	}
	free(pem);
	ks_entry.serial = cfg.wx_platform_key_id;
	ks_entry.key = platform_pub;
	ks.v = &ks_entry;
	ks.n = 1;
	random_str(uniq, 8);
	if (rx_start()) {
		fprintf(stderr, "test_wxsim: cannot start the callback receiver\n");
		return 1;
	}
	printf("test_wxsim: sim at %s, receiver on 127.0.0.1:%d, run %s\n", base, rx.port, uniq);
	return 0;
}

int main(void)
{
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (setup())
		return 1;
	RUN(code2session);
	RUN(access_token);
	RUN(subscribe_send);
	RUN(phone_number);
	RUN(jsapi_order_signed_and_idempotent);
	RUN(concurrent_reentry);
	RUN(jsapi_auth_failures);
	RUN(jsapi_param_errors);
	RUN(query_and_close);
	RUN(pay_and_notify);
	RUN(pay_with_pay_sign_and_cancel);
	RUN(retry_after_failure);
	RUN(notification_faults);
	RUN(repeat_reorder_replay);
	RUN(refund_and_notify);
	RUN(refund_held_then_abnormal);
	RUN(response_faults);
	RUN(trade_bill);
	RUN(survives_kill_9);
	rx_stop();
	rc = test_report();
	wxpay_privkey_free(mkey);
	wxpay_pubkey_free(platform_pub);
	config_release(&cfg);
	curl_global_cleanup();
	return rc;
}
