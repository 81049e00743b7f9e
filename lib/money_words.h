/*
 * money_words.h - amounts written out the way Chinese receipts and bank
 * forms require (人民币大写, the uppercase financial numerals), e.g.
 * 12345 fen -> "壹佰贰拾叁元肆角伍分". Pure: no I/O, no allocation.
 *
 * The rules (from the People's Bank of China rules for filling in
 * instruments, 正确填写票据和结算凭证的基本规定):
 *   - digits 零壹贰叁肆伍陆柒捌玖, units 拾佰仟, groups 万 and 亿;
 *   - one 零 stands for any run of zeros between two non-zero digits,
 *     also across a group (壹仟零壹元, 壹万零壹元, 壹亿零壹万元); zeros at
 *     the end of a group or of the yuan are not written (壹拾万元);
 *   - 拾 is always preceded by its digit (壹拾万元整, not 拾万元整);
 *   - "整" follows 元 when there are no 角 and 分 (壹佰元整); none follows
 *     角 or 分 (伍角, 壹元伍角);
 *   - with yuan and no 角 but some 分, 零 stands for the 角 (壹仟零壹元零壹分);
 *   - below one yuan only 角/分 are written (伍分, 伍角伍分); zero is 零元整.
 */
#ifndef XQ_MONEY_WORDS_H
#define XQ_MONEY_WORDS_H

#include "xq.h"

#include <stddef.h>
#include <stdint.h>

/*
 * Largest amount accepted: 9999,9999,9999.99 yuan (just under 1 万亿), far
 * above any receipt; larger amounts would need the 万亿 group.
 */
#define MONEY_WORDS_MAX_FEN ((int64_t)99999999999999)
/* A buffer that holds the words of any accepted amount, with its NUL. */
#define MONEY_WORDS_SIZE 192

/*
 * Writes the 人民币大写 of amount_fen into out (UTF-8, NUL-terminated).
 * XQ_EINVAL if amount_fen is negative (a receipt shows no negative total:
 * refunds have receipts of their own) or out is too small; XQ_EOVERFLOW if
 * amount_fen > MONEY_WORDS_MAX_FEN. On failure out is "" (when n > 0).
 */
int money_to_chinese_upper(int64_t amount_fen, char *out, size_t n);

#endif
