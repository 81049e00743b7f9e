/*
 * spool.c - the write-ahead spool of readings and alerts (spool.h): append,
 * bounded fsync, in-order replay, cut of a torn tail.
 */
#include "spool.h"
#include "xq.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HDR 12

uint32_t spool_crc32(const void *p, size_t n)
{
	static uint32_t table[256];
	const uint8_t *b = p;
	uint32_t c = 0xFFFFFFFFu;

	if (!table[1])
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t v = i;

			for (int k = 0; k < 8; k++)
				v = v & 1 ? 0xEDB88320u ^ (v >> 1) : v >> 1;
			table[i] = v;
		}
	for (size_t i = 0; i < n; i++)
		c = table[(c ^ b[i]) & 0xFF] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static ssize_t read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -1 : (ssize_t)got;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/*
 * Walks the file from byte from, at most max records (< 0: all); fn may be
 * NULL (counting only). *good = end of the last record fn accepted.
 */
static int walk(struct spool *s, int64_t from, int64_t max, int (*fn)(void *, const char *, size_t),
		void *arg, int64_t *good, int64_t *count)
{
	uint8_t hdr[HDR];
	char *buf = xq_malloc(SPOOL_REC_MAX + 1);
	int64_t off = from;
	int rc = XQ_OK;

	*count = 0;
	if (lseek(s->fd, from, SEEK_SET) < 0) {
		free(buf);
		return XQ_ERROR;
	}
	while (max < 0 || *count < max) {
		uint32_t len;

		if (read_full(s->fd, hdr, HDR) != HDR || memcmp(hdr, "XQS1", 4))
			break;
		len = get32(hdr + 4);
		if (len > SPOOL_REC_MAX || read_full(s->fd, buf, len) != (ssize_t)len ||
		    spool_crc32(buf, len) != get32(hdr + 8))
			break;
		buf[len] = '\0';
		if (fn && (rc = fn(arg, buf, len)) != XQ_OK)
			break;
		off += HDR + len;
		(*count)++;
	}
	*good = off;
	free(buf);
	return rc;
}

int spool_open(struct spool *s, const char *path)
{
	int64_t good, count;

	memset(s, 0, sizeof(*s));
	s->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (s->fd < 0)
		return XQ_ERROR;
	if (walk(s, 0, -1, NULL, NULL, &good, &count) != XQ_OK)
		return XQ_ERROR;
	/* a crash inside write() leaves at most one torn record at the end */
	if (ftruncate(s->fd, good) || fsync(s->fd))
		return XQ_ERROR;
	s->bytes = good;
	s->records = count;
	return XQ_OK;
}

int spool_append(struct spool *s, const char *payload, size_t n)
{
	uint8_t rec[HDR + SPOOL_REC_MAX];
	ssize_t w;

	if (n > SPOOL_REC_MAX)
		return XQ_ETOOBIG;
	memcpy(rec, "XQS1", 4);
	put32(rec + 4, (uint32_t)n);
	put32(rec + 8, spool_crc32(payload, n));
	memcpy(rec + HDR, payload, n);
	/* one write() per record: kill -9 can only tear the very last one */
	do
		w = write(s->fd, rec, HDR + n);
	while (w < 0 && errno == EINTR);
	if (w != (ssize_t)(HDR + n)) {
		/* a short write would leave a torn record mid-file: cut it now */
		if (ftruncate(s->fd, s->bytes) == 0)
			errno = ENOSPC;
		return XQ_ERROR;
	}
	s->bytes += (int64_t)(HDR + n);
	s->records++;
	s->dirty = 1;
	return XQ_OK;
}

void spool_sync(struct spool *s, int64_t now_ms, int64_t every_ms)
{
	if (!s->dirty || now_ms - s->last_sync_ms < every_ms)
		return;
	fdatasync(s->fd);
	s->dirty = 0;
	s->last_sync_ms = now_ms;
}

int spool_each(struct spool *s, int (*fn)(void *arg, const char *payload, size_t n), void *arg)
{
	int64_t good, count;

	return walk(s, 0, -1, fn, arg, &good, &count);
}

int spool_each_from(struct spool *s, int64_t max,
		    int (*fn)(void *arg, const char *payload, size_t n), void *arg)
{
	int64_t good, count;
	int rc = walk(s, s->done, max, fn, arg, &good, &count);

	s->done = good;
	return rc;
}

int spool_clear(struct spool *s)
{
	if (ftruncate(s->fd, 0))
		return XQ_ERROR;
	s->bytes = s->records = s->done = 0;
	s->dirty = 1;
	return XQ_OK;
}

void spool_close(struct spool *s)
{
	if (s->fd >= 0) {
		fdatasync(s->fd);
		close(s->fd);
	}
	s->fd = -1;
}
