/*
 * util.c - what every xq-wxsim handler shares: Beijing-time formatting and
 * parsing, random ids, small JSON accessors, and the three answer shapes
 * (Pay v3 signed success / error envelope, errcode JSON, /sim errors).
 * No protocol decisions live here beyond the shapes themselves.
 */
#include "wxsim.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BEIJING_OFFSET_S (8 * 3600)

int64_t sim_now_s(void)
{
	return xq_now_ms() / 1000;
}

static void bj_tm(int64_t unix_s, struct tm *tm)
{
	time_t t = (time_t)(unix_s + BEIJING_OFFSET_S);
	gmtime_r(&t, tm);
}

void sim_rfc3339(int64_t unix_s, char out[32])
{
	struct tm tm;
	bj_tm(unix_s, &tm);
	xq_snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d+08:00", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void sim_bill_time(int64_t unix_s, char out[20])
{
	struct tm tm;
	bj_tm(unix_s, &tm);
	xq_snprintf(out, 20, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
		    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void sim_bj_date(int64_t unix_s, char out[11])
{
	struct tm tm;
	bj_tm(unix_s, &tm);
	xq_snprintf(out, 11, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

void sim_bj_stamp(int64_t unix_s, char out[15])
{
	struct tm tm;
	bj_tm(unix_s, &tm);
	xq_snprintf(out, 15, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1,
		    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* n digits at s into *v; 1 on success. */
static int digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		*v = *v * 10 + (s[i] - '0');
	}
	return 1;
}

static int days_in_month(int y, int m)
{
	static const int d[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : d[m - 1];
}

/* "YYYY-MM-DD" at s; fills tm's date fields. */
static int parse_date(const char *s, struct tm *tm)
{
	int y, mo, d;

	if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !digits(s + 8, 2, &d))
		return 0;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return 0;
	memset(tm, 0, sizeof(*tm));
	tm->tm_year = y - 1900;
	tm->tm_mon = mo - 1;
	tm->tm_mday = d;
	return 1;
}

int sim_parse_rfc3339(const char *s, int64_t *unix_s)
{
	struct tm tm;
	int h, mi, sec, oh, om, off = 0;
	const char *p;

	if (!s || strlen(s) < 20 || !parse_date(s, &tm) || s[10] != 'T' || !digits(s + 11, 2, &h) ||
	    s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
		return XQ_EINVAL;
	if (h > 23 || mi > 59 || sec > 59)
		return XQ_EINVAL;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return XQ_EINVAL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 ||
		    om > 59)
			return XQ_EINVAL;
		off = (oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
		p += 6;
	} else {
		return XQ_EINVAL;
	}
	if (*p)
		return XQ_EINVAL;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*unix_s = (int64_t)timegm(&tm) - off;
	return XQ_OK;
}

int sim_parse_bj_date(const char *s, int64_t *day_start_s)
{
	struct tm tm;

	if (!s || strlen(s) != 10 || !parse_date(s, &tm))
		return XQ_EINVAL;
	*day_start_s = (int64_t)timegm(&tm) - BEIJING_OFFSET_S;
	return XQ_OK;
}

void sim_random_str(char *out, size_t n, const char *alphabet)
{
	size_t alen = strlen(alphabet);
	unsigned char r[64];

	for (size_t i = 0; i < n; i++) {
		if (i % sizeof(r) == 0)
			xq_random(r, sizeof(r));
		/* rejection-free: the tiny modulo bias is irrelevant for test ids */
		out[i] = alphabet[r[i % sizeof(r)] % alen];
	}
	out[n] = '\0';
}

void sim_uuid(char out[37])
{
	unsigned char b[16];
	char h[33];

	xq_random(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	xq_hex(b, sizeof(b), h);
	xq_snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

int sim_has_non_bmp(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p & 0xF8) == 0xF0)
			return 1;
	return 0;
}

void sim_yuan(int64_t fen, char *out, size_t n)
{
	uint64_t a = fen < 0 ? (uint64_t)0 - (uint64_t)fen : (uint64_t)fen;
	xq_snprintf(out, n, "%s%llu.%02llu", fen < 0 ? "-" : "", (unsigned long long)(a / 100),
		    (unsigned long long)(a % 100));
}

const char *sim_jstr(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

const cJSON *sim_jobj(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsObject(v) ? v : NULL;
}

int sim_jint(const cJSON *o, const char *name, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	double d;

	if (!cJSON_IsNumber(v))
		return 0;
	d = v->valuedouble;
	if (d != (double)(int64_t)d || d > 9007199254740992.0 || d < -9007199254740992.0)
		return 0;
	*out = (int64_t)d;
	return 1;
}

/* ---- answers ------------------------------------------------------------------- */

/* WeChat's Request-ID: opaque upper-case hex; errors end in "-<internal error id>". */
void sim_request_id(struct req *rq, long err)
{
	char id[64], hex[41];

	sim_random_str(hex, 40, SIM_HEX_UPPER);
	if (err)
		xq_snprintf(id, sizeof(id), "%s-%ld", hex, err);
	else
		xq_snprintf(id, sizeof(id), "%s", hex);
	resp_header(rq, "Request-ID", id);
}

int sim_send_raw(struct req *rq, int status, const char *ctype, const char *text, size_t len)
{
	rq->status = status;
	rq->content_type = ctype;
	buf_reset(&rq->out);
	if (len && buf_append(&rq->out, text, len)) {
		buf_reset(&rq->out);
		rq->status = 500;
	}
	rq->responded = 1;
	return rq->status;
}

int pay_fail(struct req *rq, int status, const char *code, const char *message, cJSON *detail,
	     long err)
{
	cJSON *o = cJSON_CreateObject();
	char *text;
	int rc;

	cJSON_AddStringToObject(o, "code", code);
	cJSON_AddStringToObject(o, "message", message);
	if (detail)
		cJSON_AddItemToObject(o, "detail", detail);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	sim_request_id(rq, err);
	log_info("wxsim: %s %s -> %d %s", rq->method, rq->path, status, code);
	rc = sim_send_raw(rq, status, "application/json; charset=utf-8", text, strlen(text));
	free(text);
	return rc;
}

int pay_param_error(struct req *rq, const char *field, const char *issue, const char *location)
{
	cJSON *d = cJSON_CreateObject();
	char msg[300];

	cJSON_AddStringToObject(d, "field", field);
	cJSON_AddStringToObject(d, "issue", issue);
	cJSON_AddStringToObject(d, "location", location);
	xq_snprintf(msg, sizeof(msg), "参数错误：%.120s %.160s", field, issue);
	return pay_fail(rq, 400, "PARAM_ERROR", msg, d, 0);
}

int pay_ok_raw(struct req *rq, int status, const char *body)
{
	struct sim_sig sig;
	char fault[33] = "";
	char *tampered = NULL;
	int64_t delay_ms = 0;
	const char *send;
	size_t len = strlen(body);

	if (fault_take(rq->db, rq->path, fault, &delay_ms)) {
		log_info("wxsim: armed fault '%s' on %s %s", fault, rq->method, rq->path);
		if (delay_ms > 0)
			usleep((useconds_t)(delay_ms > 60000 ? 60000000 : delay_ms * 1000));
		if (!strcmp(fault, "system_error"))
			return pay_fail(rq, 500, "SYSTEM_ERROR", "系统错误", NULL, 0);
		if (!strcmp(fault, "frequency_limited"))
			return pay_fail(rq, 429, "FREQUENCY_LIMITED", "频率超限", NULL, 0);
		if (!strcmp(fault, "service_unavailable"))
			return pay_fail(rq, 503, "SERVICE_UNAVAILABLE", "服务不可用", NULL, 0);
		if (!strcmp(fault, "slow"))
			fault[0] = '\0';
	}
	if (sim_sign(fault[0] ? fault : NULL, body, len, &sig, &tampered)) {
		free(tampered);
		return pay_fail(rq, 500, "SYSTEM_ERROR", "系统错误", NULL, 0);
	}
	sim_request_id(rq, 0);
	if (!sig.unsigned_) {
		resp_header(rq, "Wechatpay-Nonce", sig.nonce);
		resp_header(rq, "Wechatpay-Signature", sig.signature);
		resp_header(rq, "Wechatpay-Timestamp", sig.timestamp);
		resp_header(rq, "Wechatpay-Serial", sig.serial);
		resp_header(rq, "Wechatpay-Signature-Type", WXPAY_SIGN_SCHEME);
	}
	send = tampered ? tampered : body;
	sim_send_raw(rq, status, "application/json; charset=utf-8", send, strlen(send));
	free(tampered);
	return status;
}

int pay_ok(struct req *rq, int status, cJSON *body)
{
	char *text = body ? cJSON_PrintUnformatted(body) : NULL;
	int rc;

	cJSON_Delete(body);
	rc = pay_ok_raw(rq, status, text ? text : "");
	free(text);
	return rc;
}

/* api.weixin.qq.com appends ", rid: xxxxxxxx-xxxxxxxx-xxxxxxxx" to errmsg. */
int mp_fail(struct req *rq, long errcode, const char *errmsg)
{
	cJSON *o = cJSON_CreateObject();
	char rid[27], msg[300];

	sim_random_str(rid, 26, SIM_HEX_LOWER);
	rid[8] = '-';
	rid[17] = '-';
	xq_snprintf(msg, sizeof(msg), "%.240s, rid: %s", errmsg, rid);
	cJSON_AddNumberToObject(o, "errcode", (double)errcode);
	cJSON_AddStringToObject(o, "errmsg", msg);
	log_info("wxsim: %s %s -> errcode %ld", rq->method, rq->path, errcode);
	return mp_ok(rq, o);
}

int mp_ok(struct req *rq, cJSON *body)
{
	char *text = cJSON_PrintUnformatted(body);
	int rc;

	cJSON_Delete(body);
	/* what api.weixin.qq.com sends; clients must parse the body whatever it says */
	rc = sim_send_raw(rq, 200, "application/json; encoding=utf-8", text, strlen(text));
	free(text);
	return rc;
}

int sim_fail(struct req *rq, int status, const char *code, const char *message)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "code", code);
	cJSON_AddStringToObject(o, "message", message);
	return resp_json(rq, status, o);
}
