/*
 * test_collector_spool.c - the collector's write-ahead spool (collector/spool.h)
 * without a stack: records come back in order, a torn or corrupt tail (a
 * crash inside write) is cut at open and appending goes on after it, clear
 * empties, and the CRC is the standard CRC-32.
 */
#include "spool.h"
#include "test.h"
#include "xq.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct seen {
	int n;
	char last[64];
	int in_order;
};

static int collect(void *arg, const char *p, size_t n)
{
	struct seen *s = arg;
	char want[32];

	xq_snprintf(want, sizeof(want), "R %d", s->n);
	if (strlen(want) != n || memcmp(want, p, n))
		s->in_order = 0;
	xq_snprintf(s->last, sizeof(s->last), "%s", p);
	s->n++;
	return XQ_OK;
}

static char path[64];

TEST(crc)
{
	CHECK(spool_crc32("123456789", 9) == 0xCBF43926u);
}

TEST(append_replay_torn_tail)
{
	struct spool sp;
	struct seen s = { 0, "", 1 };
	char rec[32];
	int fd;

	CHECK(spool_open(&sp, path) == XQ_OK);
	for (int i = 0; i < 100; i++) {
		int n = xq_snprintf(rec, sizeof(rec), "R %d", i);

		CHECK(spool_append(&sp, rec, (size_t)n) == XQ_OK);
	}
	spool_sync(&sp, 0, 0);
	CHECK_EQ_I64(sp.records, 100);
	spool_close(&sp);

	/* a torn record: header and half a payload, as kill -9 inside write() leaves */
	fd = open(path, O_WRONLY | O_APPEND);
	CHECK(fd >= 0);
	CHECK(write(fd, "XQS1\x10\x00\x00\x00\x01\x02\x03\x04R 1", 15) == 15);
	close(fd);
	CHECK(spool_open(&sp, path) == XQ_OK);
	CHECK_EQ_I64(sp.records, 100);
	CHECK(spool_append(&sp, "R 100", 5) == XQ_OK);
	CHECK(spool_each(&sp, collect, &s) == XQ_OK);
	CHECK_EQ_I64(s.n, 101);
	CHECK(s.in_order);
	CHECK_STR(s.last, "R 100");

	/* chunked replay: 30 at a time from where the last chunk stopped */
	{
		struct seen c = { 0, "", 1 };
		int calls = 0;

		while (sp.done < sp.bytes && calls < 10) {
			CHECK(spool_each_from(&sp, 30, collect, &c) == XQ_OK);
			calls++;
		}
		CHECK_EQ_I64(calls, 4);
		CHECK_EQ_I64(c.n, 101);
		CHECK(c.in_order);
	}
	spool_close(&sp);
	CHECK(spool_open(&sp, path) == XQ_OK);
	CHECK_EQ_I64(sp.done, 0); /* a restart replays from the start */
	spool_close(&sp);

	/* a flipped byte in the last record: its CRC fails, it is cut */
	fd = open(path, O_RDWR);
	CHECK(fd >= 0);
	CHECK(lseek(fd, -1, SEEK_END) > 0);
	CHECK(write(fd, "X", 1) == 1);
	close(fd);
	CHECK(spool_open(&sp, path) == XQ_OK);
	CHECK_EQ_I64(sp.records, 100);
	CHECK(spool_clear(&sp) == XQ_OK);
	CHECK_EQ_I64(sp.records, 0);
	spool_close(&sp);
	CHECK(spool_open(&sp, path) == XQ_OK);
	CHECK_EQ_I64(sp.records, 0);
	spool_close(&sp);
}

int main(void)
{
	xq_snprintf(path, sizeof(path), "/tmp/xq-spool-test.%d", (int)getpid());
	unlink(path);
	RUN(crc);
	RUN(append_replay_torn_tail);
	unlink(path);
	return test_report();
}
