/*
 * wxmsg.c - access token cache and subscribe messages (see wxmsg.h). The
 * token row is read and written with plain statements, not under a lock:
 * stable_token hands every caller the same token while it is valid, so two
 * hosts refreshing at once store the same value.
 */
#include "wxmsg.h"
#include "buf.h"
#include "config.h"
#include "db.h"
#include "log.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WXMSG_REPLY_MAX (64 * 1024)

DB_QUERY(q_tok_get) = {
	"wxmsg_token_get",
	"SELECT token FROM wx_access_token WHERE appid = ?"
	" AND expires_at > CURRENT_TIMESTAMP(3) + INTERVAL ? SECOND",
	"sl", "s",
};
DB_QUERY(q_tok_put) = {
	"wxmsg_token_put",
	"INSERT INTO wx_access_token (appid, token, expires_at)"
	" VALUES (?, ?, CURRENT_TIMESTAMP(3) + INTERVAL ? SECOND)"
	" ON DUPLICATE KEY UPDATE token = VALUES(token), expires_at = VALUES(expires_at)",
	"ssl", NULL,
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

/* POST body as JSON to url; the reply (any status) in out. XQ_EAGAIN when no answer. */
static int post_json(const char *url, const char *body, long *status, struct buf *out)
{
	struct curl_slist *hl = NULL;
	CURL *c;
	CURLcode cc;

	pthread_once(&curl_once, curl_init_once);
	if (!(c = curl_easy_init()))
		return XQ_ERROR;
	hl = curl_slist_append(hl, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	cc = curl_easy_perform(c);
	*status = 0;
	if (cc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(c);
	curl_slist_free_all(hl);
	if (cc != CURLE_OK) {
		/* the URL may carry the token: log the curl error only */
		log_warn("wechat message api call failed: %s", curl_easy_strerror(cc));
		return XQ_EAGAIN;
	}
	return XQ_OK;
}

static long json_long(const cJSON *o, const char *k, long def)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(it) ? (long)it->valuedouble : def;
}

static int fetch_token(struct db *db, const struct config *cfg, int force, char *tok, size_t cap)
{
	struct buf url, reply;
	cJSON *req = cJSON_CreateObject(), *j = NULL;
	const cJSON *t;
	char *body;
	long status = 0, ec, ttl;
	int rc;

	buf_init(&url, 4096);
	buf_init(&reply, WXMSG_REPLY_MAX);
	cJSON_AddStringToObject(req, "grant_type", "client_credential");
	cJSON_AddStringToObject(req, "appid", cfg->wx_appid);
	cJSON_AddStringToObject(req, "secret", cfg->wx_app_secret ? cfg->wx_app_secret : "");
	cJSON_AddBoolToObject(req, "force_refresh", force);
	body = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	buf_printf(&url, "%s/cgi-bin/stable_token", cfg->wx_api_base_url);
	rc = post_json(url.data, body, &status, &reply);
	if (body) {
		/* the body holds the app secret */
		memset(body, 0, strlen(body));
		free(body);
	}
	if (rc)
		goto out;
	if (!(j = cJSON_ParseWithLength(reply.data, reply.len)) || !cJSON_IsObject(j)) {
		rc = status >= 500 || status == 0 ? XQ_EAGAIN : XQ_EPROTO;
		log_warn("stable_token: http %ld, unparsable answer", status);
		goto out;
	}
	t = cJSON_GetObjectItemCaseSensitive(j, "access_token");
	ec = json_long(j, "errcode", 0);
	if (ec || !cJSON_IsString(t) || !*t->valuestring || strlen(t->valuestring) >= cap) {
		log_warn("stable_token refused: errcode %ld", ec);
		rc = ec == -1 ? XQ_EAGAIN : ec ? XQ_EINVAL : XQ_EPROTO;
		goto out;
	}
	ttl = json_long(j, "expires_in", 0);
	if (ttl <= 0) {
		rc = XQ_EPROTO;
		goto out;
	}
	memcpy(tok, t->valuestring, strlen(t->valuestring) + 1);
	rc = db_run(db, &q_tok_put, NULL, cfg->wx_appid, tok, (int64_t)ttl);
out:
	cJSON_Delete(j);
	buf_release(&url);
	buf_release(&reply);
	return rc;
}

int wxmsg_token(struct db *db, const struct config *cfg, int force, char *tok, size_t cap)
{
	struct db_res r;
	int rc;

	tok[0] = '\0';
	if (!force) {
		if ((rc = db_run(db, &q_tok_get, &r, cfg->wx_appid, (int64_t)WXMSG_TOKEN_MARGIN_S)))
			return rc;
		if (r.nrows && db_str(&r, 0, 0) && strlen(db_str(&r, 0, 0)) < cap) {
			memcpy(tok, db_str(&r, 0, 0), strlen(db_str(&r, 0, 0)) + 1);
			db_res_release(&r);
			return XQ_OK;
		}
		db_res_release(&r);
	}
	return fetch_token(db, cfg, force, tok, cap);
}

static int send_once(const struct config *cfg, const char *tok, const char *body,
		     struct wxmsg_result *out)
{
	struct buf url, reply;
	cJSON *j = NULL;
	const cJSON *e;
	long status = 0;
	int rc;

	buf_init(&url, 4096);
	buf_init(&reply, WXMSG_REPLY_MAX);
	buf_printf(&url, "%s/cgi-bin/message/subscribe/send?access_token=%s", cfg->wx_api_base_url, tok);
	rc = post_json(url.data, body, &status, &reply);
	if (rc)
		goto out;
	if (!(j = cJSON_ParseWithLength(reply.data, reply.len)) || !cJSON_IsObject(j) ||
	    !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "errcode"))) {
		rc = status >= 500 || status == 0 ? XQ_EAGAIN : XQ_EPROTO;
		goto out;
	}
	out->errcode = json_long(j, "errcode", 0);
	e = cJSON_GetObjectItemCaseSensitive(j, "errmsg");
	if (cJSON_IsString(e))
		xq_snprintf(out->errmsg, sizeof(out->errmsg), "%s", e->valuestring);
	e = cJSON_GetObjectItemCaseSensitive(j, "msgid");
	if (cJSON_IsNumber(e))
		out->msgid = (int64_t)e->valuedouble;
	rc = out->errcode == 0 ? XQ_OK : out->errcode == -1 ? XQ_EAGAIN : XQ_EINVAL;
out:
	cJSON_Delete(j);
	buf_release(&url);
	buf_release(&reply);
	return rc;
}

int wxmsg_subscribe_send(struct db *db, const struct config *cfg, const char *openid,
			 const char *template_id, const char *page, const cJSON *data,
			 struct wxmsg_result *out)
{
	char tok[WXMSG_TOKEN_MAX];
	cJSON *req;
	char *body;
	int rc;

	memset(out, 0, sizeof(*out));
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "touser", openid);
	cJSON_AddStringToObject(req, "template_id", template_id);
	if (page && *page)
		cJSON_AddStringToObject(req, "page", page);
	cJSON_AddItemToObject(req, "data", cJSON_Duplicate(data, 1));
	body = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	if (!body)
		return XQ_ERROR;
	rc = wxmsg_token(db, cfg, 0, tok, sizeof(tok));
	if (rc == XQ_OK) {
		rc = send_once(cfg, tok, body, out);
		if (rc == XQ_EINVAL && (out->errcode == 40001 || out->errcode == 42001)) {
			memset(out, 0, sizeof(*out));
			if ((rc = wxmsg_token(db, cfg, 1, tok, sizeof(tok))) == XQ_OK)
				rc = send_once(cfg, tok, body, out);
		}
	}
	memset(tok, 0, sizeof(tok));
	free(body);
	if (rc && rc != XQ_EINVAL)
		log_warn("subscribe message to %.12s... not sent: %s", openid, xq_strerror(rc));
	return rc;
}
