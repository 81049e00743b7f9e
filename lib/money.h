/*
 * money.h - checked fen/hao arithmetic, THE rounding rule, and the decimal
 * text forms of amounts, prices and quantities. Pure: no I/O, no clock, no
 * allocation; integer arithmetic only.
 *
 * Units (written once, here):
 *   *_fen   amount, int64_t fen (分, 0.01 yuan).           1234 = 12.34 yuan
 *   *_hao   price, int64_t 0.0001 yuan (毫).               5283 = 0.5283 yuan
 *   *_wh    electricity in Wh;  1000 Wh = 1 kWh (度).
 *   *_l     water in litres;    1000 l  = 1 m³ (吨).
 *   "milli" quantities (Wh, litres) are thousandths of the billing unit.
 *
 * Rounding (RULE: MONEY-ROUND-01): an exact rational amount is rounded to
 * the nearest integer (fen); an exact half rounds AWAY FROM ZERO
 * (四舍五入): 2.5 -> 3, -2.5 -> -3, 2.4999 -> 2, -2.4999 -> -2. Never
 * banker's rounding. money_round_fen() is the one implementation; every
 * other function here that rounds calls it. Round each priced line once,
 * from the exact product (qty x price), and add the rounded lines: never
 * round an intermediate and never round a sum of unrounded lines.
 *
 * Results: every function that can fail returns XQ_OK, XQ_EOVERFLOW (the
 * result does not fit int64_t) or XQ_EINVAL (bad argument or text), and on
 * failure leaves every output untouched.
 */
#ifndef XQ_MONEY_H
#define XQ_MONEY_H

#include "xq.h"

#include <stddef.h>
#include <stdint.h>

/*
 * Buffer size that holds any string the money_format_*() functions produce
 * for any int64_t input, with its NUL ("-92233720368547758.08" is 22).
 */
#define MONEY_STR_MAX 24

/* *acc += x, checked. XQ_EOVERFLOW leaves *acc unchanged. */
int money_add(int64_t *acc /* IN/OUT */, int64_t x);
/* *acc -= x, checked. XQ_EOVERFLOW leaves *acc unchanged. */
int money_sub(int64_t *acc /* IN/OUT */, int64_t x);
/* *acc *= x, checked. XQ_EOVERFLOW leaves *acc unchanged. */
int money_mul(int64_t *acc /* IN/OUT */, int64_t x);

/*
 * THE rounding (RULE: MONEY-ROUND-01): *out = num / den rounded to the
 * nearest integer, exact halves away from zero. Both signs are accepted for
 * num and den. num and den are 128-bit so callers can form an exact product
 * of two int64_t values (qty * price, principal * rate * days) without
 * overflow and divide once.
 * XQ_EINVAL if den == 0; XQ_EOVERFLOW if the rounded result does not fit
 * int64_t.
 */
__extension__ /* __int128 is a GCC/Clang type; silences -Wpedantic in includers */
int money_round_fen(__int128 num, __int128 den, int64_t *out /* OUT */);

/*
 * *out = round(a * b / d) by MONEY-ROUND-01. The product is exact (128 bit).
 * XQ_EINVAL if d == 0; XQ_EOVERFLOW if the result does not fit int64_t.
 */
int money_muldiv_round(int64_t a, int64_t b, int64_t d, int64_t *out /* OUT */);

/*
 * One priced bill line: (qty / qty_per_unit) units x (price_hao / 10000)
 * yuan per unit, in fen, rounded once by MONEY-ROUND-01.
 * qty_per_unit says what qty counts: 1000 for Wh -> kWh and litres -> m³,
 * 1 for whole units. qty and price_hao may be negative (corrections, 退补).
 * XQ_EINVAL if qty_per_unit <= 0; XQ_EOVERFLOW if the amount does not fit.
 * Example: 100000 Wh, 1000, 5383 hao -> 5383 fen (100 kWh x 0.5383 = 53.83).
 */
int money_line_fen(int64_t qty, int64_t qty_per_unit, int64_t price_hao,
		   int64_t *out_fen /* OUT */);

/*
 * Parses a yuan amount into fen. Grammar: ["-"] digits ["." 1*2 digits],
 * the whole string, nothing else: "12", "12.3", "12.34", "-0.05", "007.10".
 * Rejected with XQ_EINVAL: NULL, "", "+1", " 1", "1 ", "1.", ".5", "1.234",
 * "1e3", "1,000", "-". Well-formed text whose value does not fit int64_t
 * fen is XQ_EOVERFLOW.
 */
int money_parse_yuan(const char *s, int64_t *fen /* OUT */);

/*
 * Writes fen as yuan with exactly two decimals: 1234 -> "12.34",
 * -5 -> "-0.05", 0 -> "0.00". n should be MONEY_STR_MAX; XQ_EINVAL if the
 * text plus its NUL does not fit in n (out untouched).
 */
int money_format_yuan(int64_t fen, char *out /* OUT */, size_t n);

/*
 * Parses a unit price in yuan into hao: same grammar as money_parse_yuan()
 * with up to 4 decimals ("0.5283", "0.05", "1", "-0.03" for a negative
 * adjustment). More than 4 decimals is XQ_EINVAL, never rounded; out of
 * range is XQ_EOVERFLOW.
 */
int money_parse_price(const char *s, int64_t *hao /* OUT */);

/*
 * Writes hao as yuan with exactly four decimals: 5283 -> "0.5283",
 * 3000 -> "0.3000", -300 -> "-0.0300". XQ_EINVAL if it does not fit in n.
 */
int money_format_price(int64_t hao, char *out /* OUT */, size_t n);

/*
 * Display only: writes a milli quantity (Wh or litres) in kWh or m³ with
 * exactly two decimals, the third rounded by MONEY-ROUND-01:
 * 100000 -> "100.00", 1005 -> "1.01", 1004 -> "1.00", -1005 -> "-1.01".
 * Never parse this text back into billing: bill from the exact quantity.
 * XQ_EINVAL if it does not fit in n.
 */
int money_format_qty(int64_t milli, char *out /* OUT */, size_t n);

/*
 * The same texts as money_format_yuan(), money_format_price() and
 * money_format_qty(), written with their NUL into a buffer of
 * MONEY_STR_MAX bytes (always enough), returning the length without the
 * NUL. For the engine's labels, which build millions of lines a second.
 */
size_t money_put_yuan(int64_t fen, char out[MONEY_STR_MAX]);
size_t money_put_price(int64_t hao, char out[MONEY_STR_MAX]);
size_t money_put_qty(int64_t milli, char out[MONEY_STR_MAX]);

#endif
