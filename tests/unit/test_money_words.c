/*
 * test_money_words.c - lib/money_words.c: 人民币大写 of amounts in fen.
 * Expected strings are written by hand from the rules in money_words.h.
 */
#include "money_words.h"
#include "test.h"

#define CHECK_WORDS(fen, want)                                                 \
	do {                                                                   \
		char out_[MONEY_WORDS_SIZE];                                   \
		CHECK_EQ_I64(money_to_chinese_upper((fen), out_, sizeof(out_)), XQ_OK); \
		CHECK_STR(out_, (want));                                       \
	} while (0)

TEST(brief_cases)
{
	CHECK_WORDS(0, "零元整");
	CHECK_WORDS(5, "伍分");
	CHECK_WORDS(10000, "壹佰元整");
	CHECK_WORDS(100101, "壹仟零壹元零壹分");
	CHECK_WORDS(10000000, "壹拾万元整");
	CHECK_WORDS(12345, "壹佰贰拾叁元肆角伍分");
}

TEST(jiao_and_fen)
{
	CHECK_WORDS(50, "伍角");
	CHECK_WORDS(55, "伍角伍分");
	CHECK_WORDS(1, "壹分");
	CHECK_WORDS(100, "壹元整");
	CHECK_WORDS(150, "壹元伍角");
	CHECK_WORDS(101, "壹元零壹分");
	CHECK_WORDS(1000, "壹拾元整");
	CHECK_WORDS(1050, "壹拾元伍角");
	CHECK_WORDS(1099, "壹拾元玖角玖分");
}

TEST(zeros_inside_and_across_groups)
{
	CHECK_WORDS(110000, "壹仟壹佰元整");
	CHECK_WORDS(100100, "壹仟零壹元整");
	CHECK_WORDS(101000, "壹仟零壹拾元整");
	CHECK_WORDS(100000, "壹仟元整");
	CHECK_WORDS(1000100, "壹万零壹元整");
	CHECK_WORDS(1010000, "壹万零壹佰元整");
	CHECK_WORDS(1100000, "壹万壹仟元整");
	CHECK_WORDS(10001000, "壹拾万零壹拾元整");
	CHECK_WORDS(10100000, "壹拾万壹仟元整");
	CHECK_WORDS(1000000000, "壹仟万元整");
	CHECK_WORDS(10000000000, "壹亿元整");
	CHECK_WORDS(10000010000, "壹亿零壹佰元整");
	CHECK_WORDS(10001000000, "壹亿零壹万元整");
	CHECK_WORDS(10010000000, "壹亿零壹拾万元整");
	CHECK_WORDS(100000000000, "壹拾亿元整");
	CHECK_WORDS(123456789012, "壹拾贰亿叁仟肆佰伍拾陆万柒仟捌佰玖拾元壹角贰分");
	CHECK_WORDS(2030405060708, "贰佰零叁亿零肆佰零伍万零陆佰零柒元零捌分");
	CHECK_WORDS(MONEY_WORDS_MAX_FEN,
		    "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分");
}

TEST(refused)
{
	char out[MONEY_WORDS_SIZE] = "x", small[8] = "x";

	CHECK_EQ_I64(money_to_chinese_upper(-1, out, sizeof(out)), XQ_EINVAL);
	CHECK_STR(out, "");
	CHECK_EQ_I64(money_to_chinese_upper(INT64_MIN, out, sizeof(out)), XQ_EINVAL);
	CHECK_EQ_I64(money_to_chinese_upper(MONEY_WORDS_MAX_FEN + 1, out, sizeof(out)),
		     XQ_EOVERFLOW);
	CHECK_EQ_I64(money_to_chinese_upper(INT64_MAX, out, sizeof(out)), XQ_EOVERFLOW);
	/* too small a buffer: refused, never truncated mid-character */
	CHECK_EQ_I64(money_to_chinese_upper(12345, small, sizeof(small)), XQ_EINVAL);
	CHECK_STR(small, "");
	CHECK_EQ_I64(money_to_chinese_upper(0, out, 0), XQ_EINVAL);
}

int main(void)
{
	RUN(brief_cases);
	RUN(jiao_and_fen);
	RUN(zeros_inside_and_across_groups);
	RUN(refused);
	return test_report();
}
