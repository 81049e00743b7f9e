/*
 * test_buf.c - lib/buf.c: the invariants in buf.h (never NULL, always
 * NUL-terminated, len <= max, a failed append changes nothing), buf_printf
 * on both its short and long paths, and buf_detach ownership.
 */
#include "buf.h"
#include "test.h"

#include <stdlib.h>

TEST(init_is_empty_string)
{
	struct buf b;

	buf_init(&b, 16);
	CHECK(b.data != NULL);
	CHECK_STR(b.data, "");
	CHECK_EQ_I64(b.len, 0);
	CHECK_EQ_I64(b.max, 16);
	buf_reset(&b);
	CHECK_STR(b.data, "");
	buf_release(&b);
	CHECK(b.data != NULL);
	CHECK_STR(b.data, "");
	CHECK_EQ_I64(b.max, 16);
}

TEST(append_and_puts)
{
	struct buf b;

	buf_init(&b, 1024);
	CHECK_EQ_I64(buf_append(&b, "abc", 3), XQ_OK);
	CHECK_EQ_I64(buf_puts(&b, "def"), XQ_OK);
	CHECK_EQ_I64(buf_append(&b, "", 0), XQ_OK);
	CHECK_STR(b.data, "abcdef");
	CHECK_EQ_I64(b.len, 6);
	/* binary bytes, including NUL, are kept and still terminated */
	CHECK_EQ_I64(buf_append(&b, "x\0y", 3), XQ_OK);
	CHECK_EQ_I64(b.len, 9);
	CHECK(memcmp(b.data + 6, "x\0y", 3) == 0);
	CHECK_EQ_I64(b.data[9], '\0');
	buf_reset(&b);
	CHECK_EQ_I64(b.len, 0);
	CHECK_STR(b.data, "");
	CHECK_EQ_I64(buf_puts(&b, "again"), XQ_OK);
	CHECK_STR(b.data, "again");
	buf_release(&b);
}

TEST(cap_is_hard)
{
	struct buf b;

	buf_init(&b, 10);
	CHECK_EQ_I64(buf_puts(&b, "0123456789"), XQ_OK); /* exactly max */
	CHECK_EQ_I64(b.len, 10);
	CHECK_EQ_I64(buf_append(&b, "x", 1), XQ_ETOOBIG);
	CHECK_EQ_I64(buf_puts(&b, "x"), XQ_ETOOBIG);
	CHECK_EQ_I64(buf_printf(&b, "%d", 1), XQ_ETOOBIG);
	CHECK_EQ_I64(buf_append(&b, "", 0), XQ_OK); /* nothing is still fine */
	CHECK_EQ_I64(b.len, 10);
	CHECK_STR(b.data, "0123456789");
	buf_release(&b);

	/* a partly filled buffer refuses an append that would cross max, whole */
	buf_init(&b, 10);
	CHECK_EQ_I64(buf_puts(&b, "01234"), XQ_OK);
	CHECK_EQ_I64(buf_puts(&b, "567890"), XQ_ETOOBIG);
	CHECK_EQ_I64(b.len, 5);
	CHECK_STR(b.data, "01234");
	CHECK_EQ_I64(buf_puts(&b, "56789"), XQ_OK);
	CHECK_STR(b.data, "0123456789");
	buf_release(&b);

	/* max 0: only empty appends */
	buf_init(&b, 0);
	CHECK_EQ_I64(buf_append(&b, "a", 1), XQ_ETOOBIG);
	CHECK_EQ_I64(buf_puts(&b, ""), XQ_OK);
	CHECK_STR(b.data, "");
	buf_release(&b);

	/* a huge n must not wrap the size arithmetic */
	buf_init(&b, 64);
	CHECK_EQ_I64(buf_puts(&b, "ab"), XQ_OK);
	CHECK_EQ_I64(buf_append(&b, "x", SIZE_MAX), XQ_ETOOBIG);
	CHECK_EQ_I64(buf_append(&b, "x", SIZE_MAX - 1), XQ_ETOOBIG);
	CHECK_STR(b.data, "ab");
	buf_release(&b);
}

TEST(grows_past_first_allocation)
{
	struct buf b;
	char expect[5001];

	buf_init(&b, 1 << 20);
	for (int i = 0; i < 5000; i++) {
		char c = (char)('a' + i % 26);
		if (buf_append(&b, &c, 1) != XQ_OK)
			break;
		expect[i] = c;
	}
	expect[5000] = '\0';
	CHECK_EQ_I64(b.len, 5000);
	CHECK(b.alloc > b.len);
	CHECK_STR(b.data, expect);
	buf_release(&b);
}

TEST(printf_short_and_long)
{
	struct buf b;
	char big[1001];

	memset(big, 'z', 1000);
	big[1000] = '\0';

	buf_init(&b, 4096);
	CHECK_EQ_I64(buf_printf(&b, "%s=%d;", "n", 42), XQ_OK);
	CHECK_STR(b.data, "n=42;");
	/* longer than the 256-byte stack buffer: the second vsnprintf path */
	CHECK_EQ_I64(buf_printf(&b, "[%s]", big), XQ_OK);
	CHECK_EQ_I64(b.len, 5 + 1002);
	CHECK(memcmp(b.data, "n=42;[zzz", 9) == 0);
	CHECK_EQ_I64(b.data[b.len - 1], ']');
	CHECK_EQ_I64(b.data[b.len], '\0');
	CHECK_EQ_I64(strlen(b.data), b.len);
	CHECK_EQ_I64(buf_printf(&b, "%s", ""), XQ_OK);
	CHECK_EQ_I64(b.len, 1007);
	/* exactly 255 and 256 characters: both sides of the short path */
	buf_reset(&b);
	CHECK_EQ_I64(buf_printf(&b, "%.*s", 255, big), XQ_OK);
	CHECK_EQ_I64(b.len, 255);
	CHECK_EQ_I64(buf_printf(&b, "%.*s", 256, big), XQ_OK);
	CHECK_EQ_I64(b.len, 511);
	CHECK_EQ_I64(strlen(b.data), 511);
	buf_release(&b);

	/* the long path respects the cap and leaves the buffer unchanged */
	buf_init(&b, 1000);
	CHECK_EQ_I64(buf_puts(&b, "keep"), XQ_OK);
	CHECK_EQ_I64(buf_printf(&b, "%s", big), XQ_ETOOBIG);
	CHECK_EQ_I64(b.len, 4);
	CHECK_STR(b.data, "keep");
	CHECK_EQ_I64(buf_printf(&b, "%.*s", 996, big), XQ_OK);
	CHECK_EQ_I64(b.len, 1000);
	buf_release(&b);
}

TEST(detach_hands_over_memory)
{
	struct buf b;
	size_t len = 99;
	char *p;

	buf_init(&b, 100);
	CHECK_EQ_I64(buf_puts(&b, "hello"), XQ_OK);
	p = buf_detach(&b, &len);
	CHECK_STR(p, "hello");
	CHECK_EQ_I64(len, 5);
	/* b is re-initialised with the same cap and is usable again */
	CHECK_STR(b.data, "");
	CHECK_EQ_I64(b.len, 0);
	CHECK_EQ_I64(b.max, 100);
	CHECK(b.data != p);
	CHECK_EQ_I64(buf_puts(&b, "next"), XQ_OK);
	CHECK_STR(b.data, "next");
	CHECK_STR(p, "hello");
	free(p);
	buf_release(&b);

	/* detaching a never-grown buffer gives a fresh "" the caller frees */
	buf_init(&b, 100);
	len = 99;
	p = buf_detach(&b, &len);
	CHECK(p != NULL);
	CHECK_STR(p, "");
	CHECK_EQ_I64(len, 0);
	free(p);

	/* len may be NULL */
	CHECK_EQ_I64(buf_puts(&b, "x"), XQ_OK);
	p = buf_detach(&b, NULL);
	CHECK_STR(p, "x");
	free(p);
	buf_release(&b);
}

int main(void)
{
	RUN(init_is_empty_string);
	RUN(append_and_puts);
	RUN(cap_is_hard);
	RUN(grows_past_first_allocation);
	RUN(printf_short_and_long);
	RUN(detach_hands_over_memory);
	return test_report();
}
