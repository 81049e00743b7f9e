/*
 * xq.c - result-code tables, allocation wrappers and small helpers every
 * module needs. Nothing here knows about HTTP or the database.
 */
#include "xq.h"
#include "log.h"

#include <errno.h>
#include <limits.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct err_info {
	int rc;
	int http;
	const char *code;
	const char *en;
	const char *zh;
};

static const struct err_info err_table[] = {
#define XQ_ROW(name, val, http, code, en, zh) { val, http, code, en, zh },
	XQ_FOR_EACH_ERR(XQ_ROW)
#undef XQ_ROW
};

static const struct err_info *err_find(int rc)
{
	for (size_t i = 0; i < XQ_ARRAY_LEN(err_table); i++)
		if (err_table[i].rc == rc)
			return &err_table[i];
	return &err_table[1]; /* XQ_ERROR */
}

const char *xq_strerror(int rc) { return err_find(rc)->en; }
const char *xq_message_zh(int rc) { return err_find(rc)->zh; }
const char *xq_code(int rc) { return err_find(rc)->code; }
int xq_http_status(int rc) { return err_find(rc)->http; }

int xq_error(int rc, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_write(rc == XQ_ERROR || rc == XQ_EDB ? LOG_ERROR : LOG_WARN, "%s: %s", msg,
		  xq_strerror(rc));
	return rc;
}

void xq_panic(const char *file, int line, const char *expr)
{
	log_write(LOG_ERROR, "assertion failed at %s:%d: %s", file, line, expr);
	abort();
}

static XQ_NORETURN void oom(size_t n)
{
	log_write(LOG_ERROR, "out of memory allocating %zu bytes", n);
	abort();
}

void *xq_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xq_calloc(size_t n, size_t size)
{
	void *p;
	if (size && n > SIZE_MAX / size)
		oom(SIZE_MAX);
	p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *xq_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *xq_strdup(const char *s)
{
	return xq_strndup(s, strlen(s));
}

char *xq_strndup(const char *s, size_t n)
{
	char *p = xq_malloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

int xq_snprintf(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(dst, n, fmt, ap);
	va_end(ap);
	XQ_ASSERT(r >= 0 && (size_t)r < n);
	return r;
}

int xq_parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!s || !*s || (*s != '-' && (*s < '0' || *s > '9')))
		return XQ_EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return XQ_EINVAL;
	*out = v;
	return XQ_OK;
}

int64_t xq_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t xq_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int xq_random(void *buf, size_t n)
{
	if (n > INT_MAX || RAND_bytes(buf, (int)n) != 1)
		return xq_error(XQ_ERROR, "RAND_bytes failed");
	return XQ_OK;
}

void xq_hex(const void *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = in;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}
