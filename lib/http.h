/*
 * http.h - one HTTP request and its response over FastCGI.
 *
 * struct req lives for one request on one worker thread. Everything a
 * handler needs is here: method, path, query, headers, cookies, the body
 * (capped at api.max_body), route parameters, who is calling, the thread's
 * DB connection, and the response being built. Memory attached with
 * req_defer()/req_strdup() is released when the request ends, so handlers
 * do not free strings one by one.
 *
 * Responses: resp_json() for success, resp_fail()/resp_fail_msg() for the one
 * error envelope {"code": "STABLE_CODE", "message": "中文说明"}.
 */
#ifndef XQ_HTTP_H
#define XQ_HTTP_H

#include "buf.h"
#include "xq.h"

#include <cjson/cJSON.h>
#include <stdio.h>

struct FCGX_Request;
struct db;
struct config;
struct route;
struct xlsx_sheet;

#define REQ_MAX_PARAMS 8

/* Who is calling; filled by the router from the session cookie. */
struct who {
	int64_t staff_id; /* 0 when no staff session */
	char username[65];
	char role[17];
	char perms[512]; /* comma-separated permission codes of the role */
	char csrf[65];
	char session_hash[65];
	/* a mini-program resident (PERM_RESIDENT routes); 0 when none */
	int64_t wx_user_id;
	char openid[65];
};

struct req_cleanup {
	void (*fn)(void *);
	void *arg;
	struct req_cleanup *next;
};

struct req {
	struct FCGX_Request *fcgi;
	struct db *db;
	const struct config *cfg;
	const struct route *route;

	const char *method;
	char path[1024];
	const char *query;
	const char *remote_addr;
	char rid[33];
	struct buf body;

	size_t nparams;
	const char *param_name[REQ_MAX_PARAMS];
	char *param_val[REQ_MAX_PARAMS];

	struct who who;

	int status;
	const char *content_type; /* NULL: JSON */
	struct buf headers; /* extra response header lines, each ending in \r\n */
	struct buf out;
	int responded;

	struct req_cleanup *cleanups;

	/* console exports (issue 6): a file body streamed by req_finish, and the
	 * sheet a list handler writes instead of JSON (cgi/xlsx_export.h) */
	FILE *body_file;
	const struct xlsx_sheet *export_sheet;
};

/* Sets up rq from an accepted FastCGI request; reads no body yet. */
void req_init(struct req *rq, struct FCGX_Request *fcgi, struct db *db, const struct config *cfg);
/* Runs the cleanups and frees everything req owns (not fcgi or db). */
void req_release(struct req *rq);
/* Reads the body; XQ_ETOOBIG if CONTENT_LENGTH exceeds the cap. */
int req_read_body(struct req *rq, size_t max);
/* Sends status, headers and body to the web server. */
void req_finish(struct req *rq);

/* A CGI/FastCGI variable, e.g. "HTTP_X_CSRF_TOKEN"; NULL if absent. */
const char *req_env(struct req *rq, const char *name);
/* A request header by its HTTP name ("X-CSRF-Token"); NULL if absent. */
const char *req_header(struct req *rq, const char *name);
/* A cookie value, decoded into rq's memory; NULL if absent. */
const char *req_cookie(struct req *rq, const char *name);
/* A query-string parameter, percent-decoded into rq's memory; NULL if absent. */
const char *req_query(struct req *rq, const char *name);
/* A path parameter ("{id}" in the route); NULL if absent. */
const char *req_param(struct req *rq, const char *name);
/* A path parameter that must be a positive integer; XQ_ENOTFOUND if it isn't. */
int req_param_id(struct req *rq, const char *name, int64_t *out /* OUT */);

/* Request-lifetime memory. */
void req_defer(struct req *rq, void (*fn)(void *), void *arg);
char *req_strdup(struct req *rq, const char *s);
/* Registers a cJSON tree to be deleted when the request ends; returns it. */
cJSON *req_json_keep(struct req *rq, cJSON *tree);

/* Adds a response header line, e.g. ("Set-Cookie", "a=b; HttpOnly"). */
void resp_header(struct req *rq, const char *name, const char *value);
/* Writes body as the JSON response with status; takes ownership of body. Returns status. */
int resp_json(struct req *rq, int status, cJSON *body);
/* A non-JSON response (e.g. Prometheus text); text is copied. Returns status. */
int resp_text(struct req *rq, int status, const char *content_type, const char *text);
/*
 * A file response (an export): f is streamed from its current position to
 * its end by req_finish and closed with the request; takes ownership of f.
 * Content-Length is sent, so f must be a regular file. Returns status.
 */
int resp_file(struct req *rq, int status, const char *content_type, FILE *f);
/* The error envelope with the code's standard Chinese text. Returns the HTTP status. */
int resp_fail(struct req *rq, int rc);
/* The error envelope with a specific Chinese message and optional field name. */
int resp_fail_msg(struct req *rq, int rc, const char *message_zh, const char *field);

/* Percent-decodes src (and '+' as space when plus_space) into a new string; NULL on bad escapes. */
char *http_unescape(const char *src, size_t n, int plus_space);

#endif
