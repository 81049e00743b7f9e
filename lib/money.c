/*
 * money.c - checked int64 arithmetic on fen, the one rounding rule
 * (MONEY-ROUND-01) and fixed-point text conversion. Units and the rule are
 * written in money.h. Deliberately not here: tariffs, tiers, proration (see
 * tariff.c), and any I/O, clock, allocation or non-integer arithmetic.
 */
#include "money.h"

#include <string.h>

int money_add(int64_t *acc, int64_t x)
{
	int64_t r;

	if (__builtin_add_overflow(*acc, x, &r))
		return XQ_EOVERFLOW;
	*acc = r;
	return XQ_OK;
}

int money_sub(int64_t *acc, int64_t x)
{
	int64_t r;

	if (__builtin_sub_overflow(*acc, x, &r))
		return XQ_EOVERFLOW;
	*acc = r;
	return XQ_OK;
}

int money_mul(int64_t *acc, int64_t x)
{
	int64_t r;

	if (__builtin_mul_overflow(*acc, x, &r))
		return XQ_EOVERFLOW;
	*acc = r;
	return XQ_OK;
}

int money_round_fen(__int128 num, __int128 den, int64_t *out)
{
	/* Magnitudes are unsigned so that the most negative 128-bit value works. */
	unsigned __int128 n = num < 0 ? -(unsigned __int128)num : (unsigned __int128)num;
	unsigned __int128 d = den < 0 ? -(unsigned __int128)den : (unsigned __int128)den;
	int neg = (num < 0) != (den < 0);
	unsigned __int128 q, r;

	if (d == 0)
		return XQ_EINVAL;
	q = n / d;
	r = n % d;
	/* RULE: MONEY-ROUND-01: a remainder of half or more rounds the magnitude
	 * up, i.e. away from zero; r >= d - r is 2r >= d without overflow. */
	if (r >= d - r)
		q++;
	if (q > (unsigned __int128)INT64_MAX + (neg ? 1 : 0))
		return XQ_EOVERFLOW;
	if (q == 0)
		*out = 0;
	else if (neg)
		*out = -(int64_t)(q - 1) - 1; /* reaches INT64_MIN without overflow */
	else
		*out = (int64_t)q;
	return XQ_OK;
}

int money_muldiv_round(int64_t a, int64_t b, int64_t d, int64_t *out)
{
	return money_round_fen((__int128)a * b, d, out);
}

int money_line_fen(int64_t qty, int64_t qty_per_unit, int64_t price_hao, int64_t *out_fen)
{
	/*
	 * yuan = qty / qty_per_unit * price_hao / 10000, and fen = 100 * yuan,
	 * so fen = qty * price_hao / (qty_per_unit * 100), divided once.
	 */
	if (qty_per_unit <= 0)
		return XQ_EINVAL;
	return money_round_fen((__int128)qty * price_hao, (__int128)qty_per_unit * 100, out_fen);
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Parses ["-"] digits ["." 1..decimals digits] as an integer scaled by
 * 10^decimals. Syntax is checked first so junk is always XQ_EINVAL and only
 * well-formed text can be XQ_EOVERFLOW.
 */
static int parse_fixed(const char *s, int decimals, int64_t *out)
{
	const char *p = s, *digits;
	uint64_t mag = 0, limit;
	int neg = 0, frac = 0;

	if (!s)
		return XQ_EINVAL;
	if (*p == '-')
		neg = 1, p++;
	digits = p;
	if (!is_digit(*p))
		return XQ_EINVAL;
	while (is_digit(*p))
		p++;
	if (*p == '.') {
		p++;
		if (!is_digit(*p))
			return XQ_EINVAL;
		while (is_digit(*p))
			p++, frac++;
		if (frac > decimals)
			return XQ_EINVAL;
	}
	if (*p)
		return XQ_EINVAL;

	/* The value only grows as digits are added, so checking each step
	 * against the limit is enough. */
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (p = digits; *p; p++) {
		if (*p == '.')
			continue;
		if (mag > (limit - (uint64_t)(*p - '0')) / 10)
			return XQ_EOVERFLOW;
		mag = mag * 10 + (uint64_t)(*p - '0');
	}
	for (; frac < decimals; frac++) {
		if (mag > limit / 10)
			return XQ_EOVERFLOW;
		mag *= 10;
	}
	if (mag == 0)
		*out = 0;
	else if (neg)
		*out = -(int64_t)(mag - 1) - 1;
	else
		*out = (int64_t)mag;
	return XQ_OK;
}

/*
 * Writes v / 10^decimals with exactly `decimals` decimals ("-0.05") and a
 * NUL into out (MONEY_STR_MAX is always enough), digits straight from the
 * integer, no printf; returns the length without the NUL.
 */
static size_t put_fixed(int64_t v, int decimals, char *out)
{
	char tmp[MONEY_STR_MAX];
	char *p = tmp + sizeof(tmp);
	uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	size_t len;

	for (int i = 0; i < decimals; i++, mag /= 10)
		*--p = (char)('0' + mag % 10);
	*--p = '.';
	do {
		*--p = (char)('0' + mag % 10);
		mag /= 10;
	} while (mag);
	if (v < 0)
		*--p = '-';
	len = (size_t)(tmp + sizeof(tmp) - p);
	memcpy(out, p, len);
	out[len] = '\0';
	return len;
}

static int format_fixed(int64_t v, int decimals, char *out, size_t n)
{
	char tmp[MONEY_STR_MAX];
	size_t len = put_fixed(v, decimals, tmp);

	if (len + 1 > n)
		return XQ_EINVAL;
	memcpy(out, tmp, len + 1);
	return XQ_OK;
}

size_t money_put_yuan(int64_t fen, char out[MONEY_STR_MAX])
{
	return put_fixed(fen, 2, out);
}

size_t money_put_price(int64_t hao, char out[MONEY_STR_MAX])
{
	return put_fixed(hao, 4, out);
}

size_t money_put_qty(int64_t milli, char out[MONEY_STR_MAX])
{
	/* Thousandths to hundredths by MONEY-ROUND-01; |milli| / 10 always fits.
	 * Spelled out (not money_round_fen) because this is the engine's hot path. */
	uint64_t mag = milli < 0 ? 0 - (uint64_t)milli : (uint64_t)milli;
	uint64_t q = mag / 10 + (mag % 10 >= 5);
	int64_t centi = milli < 0 ? -(int64_t)q : (int64_t)q;

	return put_fixed(centi, 2, out);
}

int money_parse_yuan(const char *s, int64_t *fen)
{
	return parse_fixed(s, 2, fen);
}

int money_format_yuan(int64_t fen, char *out, size_t n)
{
	return format_fixed(fen, 2, out, n);
}

int money_parse_price(const char *s, int64_t *hao)
{
	return parse_fixed(s, 4, hao);
}

int money_format_price(int64_t hao, char *out, size_t n)
{
	return format_fixed(hao, 4, out, n);
}

int money_format_qty(int64_t milli, char *out, size_t n)
{
	char tmp[MONEY_STR_MAX];
	size_t len = money_put_qty(milli, tmp);

	if (len + 1 > n)
		return XQ_EINVAL;
	memcpy(out, tmp, len + 1);
	return XQ_OK;
}
