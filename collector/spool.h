/*
 * spool.h - the collector's write-ahead spool: an append-only file of
 * records that are not yet known to be in the database. Every reading and
 * alert is appended here first and the file is emptied only after the
 * database accepted everything in it, so a DB outage or a kill -9 loses
 * nothing; replays are harmless because every insert is idempotent
 * (meter_reading's key, alert.dedup_key, INSERT IGNORE).
 *
 * Record: "XQS1" magic, u32 LE payload length, u32 LE CRC-32 of the
 * payload, payload (text, no NUL). A torn or corrupt tail (a crash inside
 * write) is cut off at open.
 */
#ifndef XQ_COLLECTOR_SPOOL_H
#define XQ_COLLECTOR_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#define SPOOL_REC_MAX 1024 /* longest payload */

struct spool {
	int fd;
	int64_t bytes;         /* current file size */
	int64_t records;       /* records in the file */
	int64_t last_sync_ms;  /* when fsync last ran */
	int64_t done;          /* bytes from the start already stored (spool_each_from) */
	int dirty;             /* appended since the last fsync */
};

/* CRC-32 (IEEE 802.3, as zlib's crc32) of p[0, n). */
uint32_t spool_crc32(const void *p, size_t n);

/*
 * Opens (creating) path, counts its good records and truncates anything
 * after the last good one. XQ_OK, or XQ_ERROR with errno.
 */
int spool_open(struct spool *s /* OUT */, const char *path);
/* Appends one record (n <= SPOOL_REC_MAX). XQ_OK or XQ_ERROR. */
int spool_append(struct spool *s, const char *payload, size_t n);
/* fsync if dirty and at least every_ms passed since the last one (0: always). */
void spool_sync(struct spool *s, int64_t now_ms, int64_t every_ms);

/*
 * Calls fn for every good record from the start, in order, with the payload
 * NUL-terminated. Stops early and returns fn's result if it is not XQ_OK.
 */
int spool_each(struct spool *s, int (*fn)(void *arg, const char *payload, size_t n), void *arg);
/*
 * Like spool_each, but starts at byte s->done and stops after max records;
 * s->done advances past every record fn returned XQ_OK for. The caller
 * stores in chunks this way without blocking for a whole backlog, and calls
 * spool_clear once s->done == s->bytes.
 */
int spool_each_from(struct spool *s, int64_t max,
		    int (*fn)(void *arg, const char *payload, size_t n), void *arg);
/* Empties the file (after everything in it was stored). */
int spool_clear(struct spool *s);
void spool_close(struct spool *s);

#endif
