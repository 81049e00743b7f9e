/*
 * buf.h - a growable byte buffer with a hard cap.
 * Invariants: after buf_init() data is never NULL and always NUL-terminated;
 * len never exceeds max. Appends past max fail with XQ_ETOOBIG and leave the
 * buffer unchanged. buf_detach() is the only way to take the memory.
 */
#ifndef XQ_BUF_H
#define XQ_BUF_H

#include "xq.h"

struct buf {
	char *data;
	size_t len;
	size_t alloc;
	size_t max;
};

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
void buf_reset(struct buf *b);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) XQ_PRINTF(2, 3);
/* Hands the memory to the caller (free() it) and re-initialises b. */
char *buf_detach(struct buf *b, size_t *len /* OUT, may be NULL */);

#endif
