/*
 * money_words.c - money_to_chinese_upper(): fen to 人民币大写 (rules in
 * money_words.h). Integer arithmetic only; builds the text left to right
 * from the most significant yuan digit.
 */
#include "money_words.h"

#include <string.h>

static const char *const digit_zh[10] = { "零", "壹", "贰", "叁", "肆",
					  "伍", "陆", "柒", "捌", "玖" };
/* unit of a digit by its position inside a 4-digit group */
static const char *const unit_zh[4] = { "", "拾", "佰", "仟" };
/* unit of a group: yuan, 万, 亿 (MONEY_WORDS_MAX_FEN keeps us below 万亿) */
static const char *const group_zh[3] = { "", "万", "亿" };

struct words {
	char *out;
	size_t n, len;
	int full;
};

static void put(struct words *w, const char *s)
{
	size_t k = strlen(s);

	if (w->len + k + 1 > w->n) {
		w->full = 1;
		return;
	}
	memcpy(w->out + w->len, s, k);
	w->len += k;
	w->out[w->len] = '\0';
}

/* The yuan part (> 0): digits with units, one 零 per run of zeros before a digit. */
static void put_yuan(struct words *w, int64_t yuan)
{
	int d[12], nd = 0, pending_zero = 0, wrote = 0;

	while (yuan > 0 && nd < 12) {
		d[nd++] = (int)(yuan % 10);
		yuan /= 10;
	}
	for (int p = nd - 1; p >= 0; p--) {
		if (d[p] == 0) {
			/* a zero only matters if a non-zero digit follows it */
			pending_zero = wrote;
		} else {
			if (pending_zero)
				put(w, digit_zh[0]);
			put(w, digit_zh[d[p]]);
			put(w, unit_zh[p % 4]);
			pending_zero = 0;
			wrote = 1;
		}
		if (p % 4 == 0 && p > 0) {
			int group = d[p] + (p + 1 < nd ? 10 * d[p + 1] : 0) +
				    (p + 2 < nd ? 100 * d[p + 2] : 0) +
				    (p + 3 < nd ? 1000 * d[p + 3] : 0);
			if (group) {
				/* the group's unit absorbs its own trailing zeros */
				put(w, group_zh[p / 4]);
				pending_zero = 0;
			}
		}
	}
}

int money_to_chinese_upper(int64_t amount_fen, char *out, size_t n)
{
	struct words w = { out, n, 0, 0 };
	int64_t yuan;
	int jiao, fen;

	if (n > 0)
		out[0] = '\0';
	if (!out || n == 0 || amount_fen < 0)
		return XQ_EINVAL;
	if (amount_fen > MONEY_WORDS_MAX_FEN)
		return XQ_EOVERFLOW;
	yuan = amount_fen / 100;
	jiao = (int)(amount_fen / 10 % 10);
	fen = (int)(amount_fen % 10);

	if (amount_fen == 0) {
		put(&w, "零元整");
	} else {
		if (yuan > 0) {
			put_yuan(&w, yuan);
			put(&w, "元");
		}
		if (jiao == 0 && fen == 0) {
			put(&w, "整");
		} else {
			if (jiao > 0) {
				put(&w, digit_zh[jiao]);
				put(&w, "角");
			} else if (yuan > 0) {
				/* 零 stands for the missing 角 between yuan and fen */
				put(&w, digit_zh[0]);
			}
			if (fen > 0) {
				put(&w, digit_zh[fen]);
				put(&w, "分");
			}
		}
	}
	if (w.full) {
		out[0] = '\0';
		return XQ_EINVAL;
	}
	return XQ_OK;
}
