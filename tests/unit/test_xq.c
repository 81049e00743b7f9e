/*
 * test_xq.c - lib/xq.c: the result-code table (every lookup expanded from
 * the same XQ_FOR_EACH_ERR list), xq_parse_i64 edge cases, xq_hex and the
 * small string and allocation helpers.
 */
#include "log.h"
#include "test.h"
#include "xq.h"

#include <stdlib.h>

TEST(error_table_rows)
{
	CHECK_STR(xq_code(XQ_OK), "OK");
	CHECK_EQ_I64(xq_http_status(XQ_OK), 200);
	CHECK_STR(xq_message_zh(XQ_OK), "成功");
	CHECK_STR(xq_strerror(XQ_OK), "ok");

	CHECK_STR(xq_code(XQ_ENOTFOUND), "NOT_FOUND");
	CHECK_EQ_I64(xq_http_status(XQ_ENOTFOUND), 404);
	CHECK_STR(xq_message_zh(XQ_ENOTFOUND), "记录不存在");
	CHECK_STR(xq_strerror(XQ_ENOTFOUND), "not found");

	CHECK_STR(xq_code(XQ_EINVAL), "INVALID_ARGUMENT");
	CHECK_EQ_I64(xq_http_status(XQ_EINVAL), 400);
	CHECK_STR(xq_message_zh(XQ_EINVAL), "参数不正确");

	CHECK_STR(xq_code(XQ_EOVERFLOW), "OVERFLOW");
	CHECK_EQ_I64(xq_http_status(XQ_EOVERFLOW), 400);
	CHECK_STR(xq_message_zh(XQ_EOVERFLOW), "数值超出范围");

	CHECK_STR(xq_code(XQ_ETOOBIG), "BODY_TOO_LARGE");
	CHECK_EQ_I64(xq_http_status(XQ_ETOOBIG), 413);

	CHECK_STR(xq_code(XQ_ECSRF), "CSRF_FAILED");
	CHECK_EQ_I64(xq_http_status(XQ_ECSRF), 403);

	CHECK_STR(xq_code(XQ_ETHROTTLED), "TOO_MANY_ATTEMPTS");
	CHECK_EQ_I64(xq_http_status(XQ_ETHROTTLED), 429);

	CHECK_STR(xq_code(XQ_EDB), "DB_UNAVAILABLE");
	CHECK_EQ_I64(xq_http_status(XQ_EDB), 503);

	CHECK_STR(xq_code(XQ_EMEDIA), "UNSUPPORTED_MEDIA_TYPE");
	CHECK_EQ_I64(xq_http_status(XQ_EMEDIA), 415);

	CHECK_STR(xq_code(XQ_EWEAKPW), "WEAK_PASSWORD");
	CHECK_EQ_I64(xq_http_status(XQ_EWEAKPW), 400);
}

TEST(unknown_codes_are_internal)
{
	static const int unknown[] = { 1, 42, -9999, 500, 404, -2147483647 - 1 };

	for (size_t i = 0; i < XQ_ARRAY_LEN(unknown); i++) {
		CHECK_STR(xq_code(unknown[i]), "INTERNAL");
		CHECK_EQ_I64(xq_http_status(unknown[i]), 500);
		CHECK_STR(xq_message_zh(unknown[i]), xq_message_zh(XQ_ERROR));
		CHECK_STR(xq_strerror(unknown[i]), "internal error");
	}
}

/* Every row of the X-macro list round-trips through the lookups. */
struct row {
	int rc, http;
	const char *code, *en, *zh;
};

static const struct row rows[] = {
#define ROW(name, val, http, code, en, zh) { name, http, code, en, zh },
	XQ_FOR_EACH_ERR(ROW)
#undef ROW
};

TEST(error_table_consistent)
{
	for (size_t i = 0; i < XQ_ARRAY_LEN(rows); i++) {
		CHECK(rows[i].rc <= 0);
		CHECK_STR(xq_code(rows[i].rc), rows[i].code);
		CHECK_STR(xq_strerror(rows[i].rc), rows[i].en);
		CHECK_STR(xq_message_zh(rows[i].rc), rows[i].zh);
		CHECK_EQ_I64(xq_http_status(rows[i].rc), rows[i].http);
		CHECK(rows[i].http >= 200 && rows[i].http <= 599);
		CHECK(*rows[i].zh != '\0');
		for (size_t j = 0; j < i; j++) {
			CHECK(strcmp(rows[i].code, rows[j].code) != 0); /* stable codes unique */
			CHECK(rows[i].rc != rows[j].rc);
		}
	}
	CHECK(XQ_ARRAY_LEN(rows) >= 21);
	/* xq.c falls back to the second row for unknown codes */
	CHECK_EQ_I64(rows[0].rc, XQ_OK);
	CHECK_EQ_I64(rows[1].rc, XQ_ERROR);
}

#define CHECK_I64_OK(s, want)                                                  \
	do {                                                                   \
		int64_t v_ = 777;                                              \
		CHECK_EQ_I64(xq_parse_i64((s), &v_), XQ_OK);                   \
		CHECK_EQ_I64(v_, (want));                                      \
	} while (0)

#define CHECK_I64_BAD(s)                                                       \
	do {                                                                   \
		int64_t v_ = 777;                                              \
		CHECK_EQ_I64(xq_parse_i64((s), &v_), XQ_EINVAL);               \
		CHECK_EQ_I64(v_, 777);                                         \
	} while (0)

TEST(parse_i64)
{
	CHECK_I64_OK("0", 0);
	CHECK_I64_OK("-0", 0);
	CHECK_I64_OK("7", 7);
	CHECK_I64_OK("-7", -7);
	CHECK_I64_OK("007", 7);
	CHECK_I64_OK("3306", 3306);
	CHECK_I64_OK("9223372036854775807", INT64_MAX);
	CHECK_I64_OK("-9223372036854775808", INT64_MIN);

	CHECK_I64_BAD(NULL);
	CHECK_I64_BAD("");
	CHECK_I64_BAD("-");
	CHECK_I64_BAD("+1");
	CHECK_I64_BAD(" 1");
	CHECK_I64_BAD("\t1");
	CHECK_I64_BAD("1 ");
	CHECK_I64_BAD("1\n");
	CHECK_I64_BAD("- 1");
	CHECK_I64_BAD("-+1");
	CHECK_I64_BAD("--1");
	CHECK_I64_BAD("12a");
	CHECK_I64_BAD("a12");
	CHECK_I64_BAD("1.0");
	CHECK_I64_BAD("1e3");
	CHECK_I64_BAD("0x10");
	CHECK_I64_BAD("1,000");
	CHECK_I64_BAD("9223372036854775808");
	CHECK_I64_BAD("-9223372036854775809");
	CHECK_I64_BAD("99999999999999999999999");
}

TEST(hex)
{
	static const unsigned char bytes[] = { 0x00, 0xff, 0x1a, 0xa1, 0x09, 0x90 };
	char out[2 * sizeof(bytes) + 1];
	char empty[1] = { 'x' };

	xq_hex(bytes, sizeof(bytes), out);
	CHECK_STR(out, "00ff1aa10990");
	xq_hex(bytes, 1, out);
	CHECK_STR(out, "00");
	xq_hex(bytes, 0, empty);
	CHECK_STR(empty, "");
	xq_hex("\xde\xad\xbe\xef", 4, out);
	CHECK_STR(out, "deadbeef");
}

TEST(strings_and_alloc)
{
	char small[8];
	char *p;

	CHECK_EQ_I64(xq_snprintf(small, sizeof(small), "%s-%d", "ab", 42), 5);
	CHECK_STR(small, "ab-42");
	CHECK_EQ_I64(xq_snprintf(small, sizeof(small), "%s", "1234567"), 7); /* exactly fits */
	CHECK_STR(small, "1234567");

	p = xq_strdup("小区");
	CHECK_STR(p, "小区");
	free(p);
	p = xq_strndup("abcdef", 3);
	CHECK_STR(p, "abc");
	free(p);
	p = xq_strndup("a\0b", 3); /* copies n bytes verbatim and terminates */
	CHECK(memcmp(p, "a\0b", 4) == 0);
	free(p);

	p = xq_calloc(16, 4);
	for (int i = 0; i < 64; i++)
		CHECK_EQ_I64(p[i], 0);
	p = xq_realloc(p, 128);
	free(p);
	p = xq_malloc(0); /* never NULL, even for zero bytes */
	CHECK(p != NULL);
	free(p);
	p = xq_calloc(0, 0);
	CHECK(p != NULL);
	free(p);
}

TEST(error_helper_returns_code)
{
	log_set_level(LOG_ERROR); /* these log at warn: keep the output quiet */
	CHECK_EQ_I64(xq_error(XQ_EINVAL, "bad period '%s'", "2024-13"), XQ_EINVAL);
	CHECK_EQ_I64(xq_error(XQ_ENOTFOUND, "no house '%d'", 7), XQ_ENOTFOUND);
	log_set_level(LOG_INFO);
}

TEST(clocks_and_random)
{
	int64_t a = xq_mono_us(), b = xq_mono_us();
	unsigned char r1[16] = { 0 }, r2[16] = { 0 };

	CHECK(b >= a);
	CHECK(xq_now_ms() > INT64_C(1577836800000)); /* after 2020-01-01 */
	CHECK_EQ_I64(xq_random(r1, sizeof(r1)), XQ_OK);
	CHECK_EQ_I64(xq_random(r2, sizeof(r2)), XQ_OK);
	CHECK(memcmp(r1, r2, sizeof(r1)) != 0);
	CHECK_EQ_I64(xq_random(r1, 0), XQ_OK);
}

int main(void)
{
	RUN(error_table_rows);
	RUN(unknown_codes_are_internal);
	RUN(error_table_consistent);
	RUN(parse_i64);
	RUN(hex);
	RUN(strings_and_alloc);
	RUN(error_helper_returns_code);
	RUN(clocks_and_random);
	return test_report();
}
