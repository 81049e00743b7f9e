/*
 * client.c - libcurl client for the end-to-end tests (see client.h).
 */
#include "client.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct client *c = arg;
	size_t len = size * n;
	c->body = realloc(c->body, c->body_len + len + 1);
	memcpy(c->body + c->body_len, p, len);
	c->body_len += len;
	c->body[c->body_len] = '\0';
	return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct client *c = arg;
	size_t len = size * n, have = strlen(c->headers);
	if (have + len < sizeof(c->headers)) {
		memcpy(c->headers + have, p, len);
		c->headers[have + len] = '\0';
	}
	return len;
}

void client_init(struct client *c)
{
	const char *base = getenv("XQ_TEST_URL");
	memset(c, 0, sizeof(*c));
	snprintf(c->base, sizeof(c->base), "%s", base && *base ? base : "http://127.0.0.1:18080");
	c->curl = curl_easy_init();
	c->send_csrf = 1;
	curl_easy_setopt(c->curl, CURLOPT_COOKIEFILE, ""); /* in-memory cookie jar */
}

void client_release(struct client *c)
{
	curl_easy_cleanup(c->curl);
	free(c->body);
	cJSON_Delete(c->json);
	memset(c, 0, sizeof(*c));
}

long client_req(struct client *c, const char *method, const char *path, const char *body,
		const char *ctype)
{
	struct curl_slist *h = NULL;
	char url[1024], line[256];
	CURLcode rc;

	free(c->body);
	c->body = NULL;
	c->body_len = 0;
	c->headers[0] = '\0';
	cJSON_Delete(c->json);
	c->json = NULL;
	snprintf(url, sizeof(url), "%s%s", c->base, path);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c->curl, CURLOPT_NOBODY, strcmp(method, "HEAD") ? 0L : 1L);
	if (body) {
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
		snprintf(line, sizeof(line), "Content-Type: %s", ctype ? ctype : "application/json");
		h = curl_slist_append(h, line);
	} else if (!strcmp(method, "GET") || !strcmp(method, "HEAD")) {
		curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	} else {
		/* an empty body, never curl's default of reading one from stdin */
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, 0L);
	}
	h = curl_slist_append(h, "Expect:");
	if (c->extra_header)
		h = curl_slist_append(h, c->extra_header);
	if (c->send_csrf && c->csrf[0]) {
		snprintf(line, sizeof(line), "X-CSRF-Token: %s", c->csrf);
		h = curl_slist_append(h, line);
	}
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
	rc = curl_easy_perform(c->curl);
	curl_slist_free_all(h);
	if (rc != CURLE_OK) {
		fprintf(stderr, "client: %s %s failed: %s\n", method, url, curl_easy_strerror(rc));
		c->status = 0;
		return 0;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &c->status);
	if (c->body)
		c->json = cJSON_Parse(c->body);
	return c->status;
}

long client_reqf(struct client *c, const char *method, const char *path, const char *fmt, ...)
{
	char body[16384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	return client_req(c, method, path, body, NULL);
}

long client_login(struct client *c, const char *user, const char *password)
{
	char *u = json_quote(user), *p = json_quote(password);
	long st = client_reqf(c, "POST", "/admin/api/v1/auth/login", "{\"username\":%s,\"password\":%s}",
			      u, p);
	free(u);
	free(p);
	if (st == 200 && jstr(c, "csrf_token"))
		snprintf(c->csrf, sizeof(c->csrf), "%s", jstr(c, "csrf_token"));
	return st;
}

cJSON *jget(struct client *c, const char *path)
{
	cJSON *cur = c->json;
	char tmp[256], *save = NULL;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *t = strtok_r(tmp, ".", &save); t && cur; t = strtok_r(NULL, ".", &save)) {
		if (cJSON_IsArray(cur) && t[0] >= '0' && t[0] <= '9')
			cur = cJSON_GetArrayItem(cur, (int)strtol(t, NULL, 10));
		else
			cur = cJSON_GetObjectItemCaseSensitive(cur, t);
	}
	return cur;
}

const char *jstr(struct client *c, const char *path)
{
	cJSON *v = jget(c, path);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

double jnum(struct client *c, const char *path)
{
	cJSON *v = jget(c, path);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

const char *jcode(struct client *c)
{
	const char *s = jstr(c, "code");
	return s ? s : "";
}

char *json_quote(const char *s)
{
	cJSON *v = cJSON_CreateString(s);
	char *out = cJSON_PrintUnformatted(v);
	cJSON_Delete(v);
	return out;
}
