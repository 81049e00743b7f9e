/*
 * buf.c - capped growable buffer (see buf.h for the invariants).
 */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char empty_buf[1];

void buf_init(struct buf *b, size_t max)
{
	b->data = empty_buf;
	b->len = 0;
	b->alloc = 0;
	b->max = max;
}

void buf_release(struct buf *b)
{
	if (b->alloc)
		free(b->data);
	buf_init(b, b->max);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	b->data[0] = '\0';
}

static int buf_grow(struct buf *b, size_t extra)
{
	size_t want;

	if (extra > b->max - b->len)
		return XQ_ETOOBIG;
	want = b->len + extra + 1;
	if (want <= b->alloc)
		return XQ_OK;
	if (want < 2 * b->alloc)
		want = 2 * b->alloc;
	if (want < 64)
		want = 64;
	if (b->alloc) {
		b->data = xq_realloc(b->data, want);
	} else {
		b->data = xq_malloc(want);
		b->data[0] = '\0';
	}
	b->alloc = want;
	return XQ_OK;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
	if (buf_grow(b, n))
		return XQ_ETOOBIG;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return XQ_OK;
}

int buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	char small[256];

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return XQ_EINVAL;
	if ((size_t)n < sizeof(small))
		return buf_append(b, small, (size_t)n);
	if (buf_grow(b, (size_t)n))
		return XQ_ETOOBIG;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return XQ_OK;
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *p;

	if (len)
		*len = b->len;
	p = b->alloc ? b->data : xq_strdup("");
	buf_init(b, b->max);
	return p;
}
