/*
 * client.h - a small HTTP client for the end-to-end tests: real requests
 * through nginx to xq-api (libcurl), a cookie jar per client, the CSRF
 * token remembered from login, the JSON reply parsed.
 */
#ifndef XQ_TEST_CLIENT_H
#define XQ_TEST_CLIENT_H

#include <cjson/cJSON.h>
#include <stddef.h>

struct client {
	void *curl;
	char base[256];
	char csrf[80];
	int send_csrf;   /* 1: send X-CSRF-Token when we have one */
	long status;
	char *body;      /* raw reply */
	size_t body_len;
	char headers[8192]; /* raw reply headers */
	cJSON *json;     /* parsed reply or NULL */
	const char *extra_header; /* payops: one more "Name: value" line sent when set */
};

/* Base URL from XQ_TEST_URL (default http://127.0.0.1:18080). */
void client_init(struct client *c);
void client_release(struct client *c);

/* Sends a request; body may be NULL; ctype NULL means application/json. Returns the status. */
long client_req(struct client *c, const char *method, const char *path, const char *body,
		const char *ctype);
/* printf-style body. */
long client_reqf(struct client *c, const char *method, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* POST /admin/api/v1/auth/login; remembers the CSRF token on success. */
long client_login(struct client *c, const char *user, const char *password);

/* JSON accessors on the last reply: "a.b.0.c" paths. NULL / 0 if absent. */
const char *jstr(struct client *c, const char *path);
double jnum(struct client *c, const char *path);
cJSON *jget(struct client *c, const char *path);
/* The "code" of an error reply, or "". */
const char *jcode(struct client *c);

/* A JSON string literal for s (quotes and escapes included); caller frees. */
char *json_quote(const char *s);

#endif
