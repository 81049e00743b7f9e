/*
 * http.c - FastCGI request/response plumbing: environment access, body
 * reading with a cap, query and cookie parsing, request-lifetime memory and
 * the JSON response envelope. Routing and authorization live in router.c.
 */
#include "http.h"
#include "log.h"

#include <ctype.h>
#include <fcgiapp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void req_init(struct req *rq, FCGX_Request *fcgi, struct db *db, const struct config *cfg)
{
	const char *uri, *q, *rid;
	size_t n;

	memset(rq, 0, sizeof(*rq));
	rq->fcgi = fcgi;
	rq->db = db;
	rq->cfg = cfg;
	rq->status = 200;
	buf_init(&rq->body, 0);
	buf_init(&rq->headers, 16384);
	buf_init(&rq->out, 64u << 20);
	rq->method = req_env(rq, "REQUEST_METHOD");
	if (!rq->method)
		rq->method = "GET";
	uri = req_env(rq, "REQUEST_URI");
	if (!uri)
		uri = req_env(rq, "SCRIPT_NAME");
	if (!uri)
		uri = "/";
	q = strchr(uri, '?');
	n = q ? (size_t)(q - uri) : strlen(uri);
	if (n >= sizeof(rq->path))
		n = sizeof(rq->path) - 1;
	memcpy(rq->path, uri, n);
	rq->path[n] = '\0';
	rq->query = req_env(rq, "QUERY_STRING");
	if (!rq->query)
		rq->query = "";
	rq->remote_addr = req_env(rq, "REMOTE_ADDR");
	if (!rq->remote_addr)
		rq->remote_addr = "";
	/* nginx's $request_id ties our log lines to its access log */
	rid = req_env(rq, "XQ_REQUEST_ID");
	if (rid && *rid) {
		snprintf(rq->rid, sizeof(rq->rid), "%s", rid);
	} else {
		unsigned char r[8];
		xq_random(r, sizeof(r));
		xq_hex(r, sizeof(r), rq->rid);
	}
	log_set_request_id(rq->rid);
}

void req_release(struct req *rq)
{
	struct req_cleanup *c = rq->cleanups, *next;

	for (; c; c = next) {
		next = c->next;
		c->fn(c->arg);
		free(c);
	}
	rq->cleanups = NULL;
	for (size_t i = 0; i < rq->nparams; i++)
		free(rq->param_val[i]);
	rq->nparams = 0;
	buf_release(&rq->body);
	buf_release(&rq->headers);
	buf_release(&rq->out);
	if (rq->body_file)
		fclose(rq->body_file);
	rq->body_file = NULL;
	log_set_request_id("");
}

const char *req_env(struct req *rq, const char *name)
{
	return rq->fcgi ? FCGX_GetParam(name, rq->fcgi->envp) : NULL;
}

const char *req_header(struct req *rq, const char *name)
{
	char env[128] = "HTTP_";
	size_t j = 5;

	if (!strcasecmp(name, "Content-Type"))
		return req_env(rq, "CONTENT_TYPE");
	if (!strcasecmp(name, "Content-Length"))
		return req_env(rq, "CONTENT_LENGTH");
	for (const char *p = name; *p && j < sizeof(env) - 1; p++)
		env[j++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
	env[j] = '\0';
	return req_env(rq, env);
}

int req_read_body(struct req *rq, size_t max)
{
	const char *cl = req_env(rq, "CONTENT_LENGTH");
	int64_t want = 0;
	char chunk[8192];
	int n;

	rq->body.max = max;
	if (cl && *cl && (xq_parse_i64(cl, &want) || want < 0))
		return XQ_EINVAL;
	if ((uint64_t)want > max)
		return XQ_ETOOBIG;
	while (want > 0 && (n = FCGX_GetStr(chunk, want > (int64_t)sizeof(chunk) ? (int)sizeof(chunk) : (int)want,
					    rq->fcgi->in)) > 0) {
		if (buf_append(&rq->body, chunk, (size_t)n))
			return XQ_ETOOBIG;
		want -= n;
	}
	return want > 0 ? XQ_EINVAL : XQ_OK;
}

void req_defer(struct req *rq, void (*fn)(void *), void *arg)
{
	struct req_cleanup *c = xq_malloc(sizeof(*c));
	c->fn = fn;
	c->arg = arg;
	c->next = rq->cleanups;
	rq->cleanups = c;
}

char *req_strdup(struct req *rq, const char *s)
{
	char *p = xq_strdup(s);
	req_defer(rq, free, p);
	return p;
}

static void json_delete(void *p)
{
	cJSON_Delete(p);
}

cJSON *req_json_keep(struct req *rq, cJSON *tree)
{
	if (tree)
		req_defer(rq, json_delete, tree);
	return tree;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

char *http_unescape(const char *src, size_t n, int plus_space)
{
	char *out = xq_malloc(n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		if (src[i] == '%') {
			int h, l;
			if (i + 2 >= n) {
				free(out);
				return NULL;
			}
			h = hexval((unsigned char)src[i + 1]);
			l = hexval((unsigned char)src[i + 2]);
			if (h < 0 || l < 0 || (h == 0 && l == 0)) {
				free(out);
				return NULL;
			}
			*o++ = (char)(h * 16 + l);
			i += 2;
		} else if (src[i] == '+' && plus_space) {
			*o++ = ' ';
		} else {
			*o++ = src[i];
		}
	}
	*o = '\0';
	return out;
}

/* Finds name in "a=1&b=2" style text with separator sep; decodes into rq memory. */
static const char *find_pair(struct req *rq, const char *text, const char *name, char sep,
			     int plus_space)
{
	size_t nlen = strlen(name);
	const char *p = text;

	while (p && *p) {
		const char *end, *eq;
		while (*p == ' ')
			p++;
		end = strchr(p, sep);
		if (!end)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq && (size_t)(eq - p) == nlen && !memcmp(p, name, nlen)) {
			char *v = http_unescape(eq + 1, (size_t)(end - eq - 1), plus_space);
			if (!v)
				return NULL;
			req_defer(rq, free, v);
			return v;
		}
		p = *end ? end + 1 : end;
	}
	return NULL;
}

const char *req_query(struct req *rq, const char *name)
{
	return find_pair(rq, rq->query, name, '&', 1);
}

const char *req_cookie(struct req *rq, const char *name)
{
	const char *c = req_env(rq, "HTTP_COOKIE");
	return c ? find_pair(rq, c, name, ';', 0) : NULL;
}

const char *req_param(struct req *rq, const char *name)
{
	for (size_t i = 0; i < rq->nparams; i++)
		if (!strcmp(rq->param_name[i], name))
			return rq->param_val[i];
	return NULL;
}

int req_param_id(struct req *rq, const char *name, int64_t *out)
{
	const char *v = req_param(rq, name);
	int64_t id;

	if (!v || xq_parse_i64(v, &id) || id <= 0)
		return XQ_ENOTFOUND;
	*out = id;
	return XQ_OK;
}

void resp_header(struct req *rq, const char *name, const char *value)
{
	/* header injection guard: values come from us, but never trust a CR/LF */
	if (strpbrk(value, "\r\n") || strpbrk(name, "\r\n:"))
		return;
	buf_printf(&rq->headers, "%s: %s\r\n", name, value);
}

int resp_json(struct req *rq, int status, cJSON *body)
{
	char *text = cJSON_PrintUnformatted(body);

	cJSON_Delete(body);
	if (rq->body_file) { /* an error after an export was prepared replaces it */
		fclose(rq->body_file);
		rq->body_file = NULL;
	}
	rq->status = status;
	rq->content_type = NULL;
	buf_reset(&rq->out);
	if (!text || buf_puts(&rq->out, text)) {
		free(text);
		rq->status = 500;
		buf_reset(&rq->out);
		buf_puts(&rq->out, "{\"code\":\"INTERNAL\",\"message\":\"响应过大\"}");
		return rq->status;
	}
	free(text);
	rq->responded = 1;
	return status;
}

int resp_text(struct req *rq, int status, const char *content_type, const char *text)
{
	rq->status = status;
	rq->content_type = content_type;
	buf_reset(&rq->out);
	buf_puts(&rq->out, text);
	rq->responded = 1;
	return status;
}

int resp_file(struct req *rq, int status, const char *content_type, FILE *f)
{
	struct stat st;
	long pos = ftell(f);
	char len[32];

	if (rq->body_file)
		fclose(rq->body_file);
	rq->body_file = f;
	if (pos >= 0 && fstat(fileno(f), &st) == 0 && st.st_size >= pos) {
		xq_snprintf(len, sizeof(len), "%lld", (long long)(st.st_size - pos));
		resp_header(rq, "Content-Length", len);
	}
	rq->status = status;
	rq->content_type = content_type;
	buf_reset(&rq->out);
	rq->responded = 1;
	return status;
}

int resp_fail_msg(struct req *rq, int rc, const char *message_zh, const char *field)
{
	cJSON *o = cJSON_CreateObject();

	if (rc == XQ_OK)
		rc = XQ_ERROR;
	cJSON_AddStringToObject(o, "code", xq_code(rc));
	cJSON_AddStringToObject(o, "message", message_zh && *message_zh ? message_zh : xq_message_zh(rc));
	if (field && *field)
		cJSON_AddStringToObject(o, "field", field);
	cJSON_AddStringToObject(o, "request_id", rq->rid);
	return resp_json(rq, xq_http_status(rc), o);
}

int resp_fail(struct req *rq, int rc)
{
	return resp_fail_msg(rq, rc, NULL, NULL);
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default: return status >= 500 ? "Internal Server Error" : "Status";
	}
}

void req_finish(struct req *rq)
{
	FCGX_Stream *out = rq->fcgi->out;
	const char *ctype;

	if (!rq->responded)
		resp_fail(rq, XQ_ERROR);
	ctype = rq->content_type ? rq->content_type : "application/json; charset=utf-8";
	FCGX_FPrintF(out, "Status: %d %s\r\nContent-Type: %s\r\nCache-Control: no-store\r\nX-Request-Id: %s\r\n%s\r\n",
		     rq->status, reason(rq->status), ctype, rq->rid, rq->headers.data);
	if (rq->body_file) {
		/* an export: streamed in chunks, never held in memory whole */
		char chunk[65536];
		size_t n;

		while ((n = fread(chunk, 1, sizeof(chunk), rq->body_file)) > 0)
			if (FCGX_PutStr(chunk, (int)n, out) < 0)
				break;
		return;
	}
	FCGX_PutStr(rq->out.data, (int)rq->out.len, out);
}
