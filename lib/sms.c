/*
 * sms.c - the SMS back ends of sms.h: the sms_outbox table and an HTTP
 * gateway. No vendor SDK: every Chinese SMS vendor offers (or is fronted by)
 * a JSON HTTP endpoint, and the relay in front of it is site-specific.
 */
#include "sms.h"
#include "buf.h"
#include "config.h"
#include "db.h"
#include "log.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

DB_QUERY(q_sms_put) = {
	"sms_outbox_put", "INSERT INTO sms_outbox (mobile, content, ref) VALUES (?, ?, ?)", "sss", NULL,
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
	return buf_append(arg, p, sz * n) ? 0 : sz * n;
}

static int http_send(const struct config *cfg, const char *mobile, const char *content,
		     const char *ref)
{
	struct curl_slist *hl = NULL;
	struct buf auth, reply;
	cJSON *o = cJSON_CreateObject();
	char *body;
	long status = 0;
	CURL *c;
	CURLcode cc;

	cJSON_AddStringToObject(o, "mobile", mobile);
	cJSON_AddStringToObject(o, "content", content);
	cJSON_AddStringToObject(o, "ref", ref);
	body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	pthread_once(&curl_once, curl_init_once);
	if (!body || !(c = curl_easy_init())) {
		free(body);
		return XQ_ERROR;
	}
	buf_init(&auth, 2048);
	buf_init(&reply, 65536);
	hl = curl_slist_append(hl, "Content-Type: application/json");
	if (cfg->sms_http_token && *cfg->sms_http_token) {
		buf_printf(&auth, "Authorization: Bearer %s", cfg->sms_http_token);
		hl = curl_slist_append(hl, auth.data);
	}
	curl_easy_setopt(c, CURLOPT_URL, cfg->sms_http_url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
	cc = curl_easy_perform(c);
	if (cc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	curl_slist_free_all(hl);
	memset(auth.data, 0, auth.len);
	buf_release(&auth);
	buf_release(&reply);
	free(body);
	if (cc != CURLE_OK || status >= 500 || status == 429) {
		log_warn("sms gateway: %s (http %ld)", cc != CURLE_OK ? curl_easy_strerror(cc) : "busy",
			 status);
		return XQ_EAGAIN;
	}
	if (status < 200 || status > 299) {
		log_warn("sms gateway refused the message for %.3s****%s (http %ld)", mobile,
			 strlen(mobile) > 4 ? mobile + strlen(mobile) - 4 : "", status);
		return XQ_EINVAL;
	}
	return XQ_OK;
}

int sms_send(struct db *db, const struct config *cfg, const char *mobile, const char *content,
	     const char *ref)
{
	struct buf text;
	int rc;

	if (!mobile || !*mobile || !content)
		return XQ_EINVAL;
	buf_init(&text, 1024);
	if (buf_printf(&text, "%s%s", cfg->sms_sign ? cfg->sms_sign : "", content)) {
		buf_release(&text);
		return XQ_ETOOBIG;
	}
	if (!strcmp(cfg->sms_gateway, "table"))
		rc = db_run(db, &q_sms_put, NULL, mobile, text.data, ref ? ref : "");
	else if (!strcmp(cfg->sms_gateway, "http") && *cfg->sms_http_url)
		rc = http_send(cfg, mobile, text.data, ref ? ref : "");
	else
		rc = XQ_EINVAL; /* off, or http without a URL */
	buf_release(&text);
	return rc;
}
