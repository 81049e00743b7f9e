/*
 * test.h - the whole unit-test harness. A test file writes TEST(name) { ...
 * CHECK*(...) ... } functions and ends with
 *	int main(void) { RUN(name); ...; return test_report(); }
 * A failed check prints file:line, the test and both values, then the test
 * goes on (no early return, so one run shows every failure). test_report()
 * prints "N passed, N failed" (checks) and returns 1 if anything failed.
 */
#ifndef XQ_TEST_H
#define XQ_TEST_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int test_passed_, test_failed_;
static const char *test_name_ = "?";

#define TEST(name) static void test_##name(void)
#define RUN(name) (test_name_ = #name, test_##name())

#define TEST_FAIL_(file, line, ...)                                            \
	(test_failed_++, fprintf(stderr, "%s:%d: %s: ", file, line, test_name_), \
	 fprintf(stderr, __VA_ARGS__), fputc('\n', stderr))

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (cond)                                                      \
			test_passed_++;                                        \
		else                                                           \
			TEST_FAIL_(__FILE__, __LINE__, "CHECK(%s) failed", #cond); \
	} while (0)

#define CHECK_EQ_I64(a, b)                                                     \
	do {                                                                   \
		int64_t a_ = (int64_t)(a), b_ = (int64_t)(b);                  \
		if (a_ == b_)                                                  \
			test_passed_++;                                        \
		else                                                           \
			TEST_FAIL_(__FILE__, __LINE__, "%s == %s: got %" PRId64 ", want %" PRId64, \
				   #a, #b, a_, b_);                            \
	} while (0)

#define CHECK_STR(a, b)                                                        \
	do {                                                                   \
		const char *a_ = (a), *b_ = (b);                               \
		if (a_ && b_ && strcmp(a_, b_) == 0)                           \
			test_passed_++;                                        \
		else                                                           \
			TEST_FAIL_(__FILE__, __LINE__, "%s == %s: got \"%s\", want \"%s\"", \
				   #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
	} while (0)

static inline int test_report(void)
{
	printf("%d passed, %d failed\n", test_passed_, test_failed_);
	return test_failed_ != 0;
}

#endif
