/*
 * tariff.h - one tariff version (the JSON in tariff_version.rules): the
 * format, the validating parser and the canonical writer. Pure: no I/O, no
 * clock, integer arithmetic only; prices travel as decimal strings and are
 * parsed with money_parse_price(), never through binary floating point.
 * Pricing a bill from a struct tariff is lib/billing.h; the full format
 * reference with examples is docs/tariff-format.md.
 *
 * Invariants of a struct tariff that tariff_parse() returned XQ_OK for
 * (billing relies on them and asserts a few):
 *   - 1 <= n_tiers <= TARIFF_TIERS_MAX; tiers[k].upto_milli strictly
 *     increases and the last tier is TARIFF_UNBOUNDED. Bounds are inclusive
 *     upper limits in Wh (electric) or litres (water), whole kWh / m³.
 *   - every price a bill can use (tariff_price_hao()) is 0..TARIFF_PRICE_MAX_HAO.
 *   - TOU (electric only): 2..4 periods in the order sharp, peak, flat,
 *     valley; their windows cover the 24 hours exactly once.
 *   - water has 1..TARIFF_COMPONENTS_MAX components; electric has none.
 *
 * JSON format 1, summary (every key of an object is listed; others are
 * rejected, as are duplicated keys):
 *
 *   format                 1 (optional; the writer always emits it)
 *   utility                "electric" | "water"
 *   basis                  "monthly" | "annual" (annual: YTD carried in)
 *   tier_year_start_month  1..12, annual only, default 1
 *   tiers[]                1..5 tiers, last one without a bound:
 *                            upto_kwh | upto_m3   integer, inclusive bound
 *                            price                electric without TOU, TOU model C
 *                            increment            TOU model A (tier 1: "0" or absent)
 *                            prices {period: p}   TOU model B
 *                          water tiers carry only the bound (prices are
 *                          per component)
 *   household              {min_size, per_person_over?, add_kwh|add_m3[]}
 *                          bounds + add once when size >= min_size, or
 *                          add x (size - per_person_over) when given
 *   seasons[]              monthly only: {months[], upto_kwh|upto_m3[]}
 *                          replaces the tier bounds in those billing months
 *   tou                    {model: "A"|"B"|"C", periods[]}, electric only;
 *                          period {name: sharp|peak|flat|valley,
 *                          windows ["HH:MM-HH:MM", ...], price (A) | adjust (C)}
 *   components[]           water: {name, label?, price | prices[]}
 *   fixed[]                {name, label, amount}: yuan per billing month
 *   late_fee               {rate_ppm_per_day, grace_days?, minimum?, cap_pct?}
 *                          default electric 1000 (1‰ a day), water 0 (none)
 *   multiplier_round       "unit" (default) | "none"   (RULE: METER-MULT-01)
 *   rounding               "MONEY-ROUND-01", the only rule (money.h)
 *
 * Prices are JSON strings in yuan with at most 4 decimals ("0.4883"),
 * amounts JSON strings in yuan with at most 2 ("5.00"); quantities and
 * counts are JSON integers.
 */
#ifndef XQ_TARIFF_H
#define XQ_TARIFF_H

#include "xq.h"

#include <stddef.h>
#include <stdint.h>

#define TARIFF_FORMAT 1
#define TARIFF_TIERS_MAX 5
#define TARIFF_BOUNDS_MAX (TARIFF_TIERS_MAX - 1)
#define TARIFF_PERIODS_MAX 4
#define TARIFF_WINDOWS_MAX 6 /* per period */
#define TARIFF_SEASONS_MAX 4
#define TARIFF_COMPONENTS_MAX 4
#define TARIFF_FIXED_MAX 8
#define TARIFF_NAME_MAX 16 /* bytes with NUL: [a-z][a-z0-9_]{0,14} */
#define TARIFF_LABEL_MAX 64 /* bytes with NUL: 1..16 UTF-8 characters */

#define TARIFF_UNBOUNDED INT64_MAX /* upto_milli of the last tier */
#define TARIFF_UNIT_MILLI 1000 /* Wh per kWh, litres per m³ */
#define TARIFF_PRICE_MAX_HAO 1000000 /* 100.0000 yuan per kWh or m³ */
#define TARIFF_QTY_MAX_UNITS 1000000000 /* largest bound or allowance, kWh or m³ */
#define TARIFF_FIXED_MAX_FEN 1000000 /* 10000.00 yuan a month */
#define TARIFF_LATE_MIN_MAX_FEN 100000 /* largest late-fee minimum, 1000.00 yuan */
#define TARIFF_LATE_RATE_MAX_PPM 10000 /* 1 % a day */
#define TARIFF_LATE_RATE_ELECTRIC_PPM 1000 /* 供电营业规则: residential 1‰ a day */
#define TARIFF_HOUSEHOLD_MAX 20

enum tariff_utility { TARIFF_ELECTRIC = 1, TARIFF_WATER = 2 };
enum tariff_basis { TARIFF_MONTHLY = 1, TARIFF_ANNUAL = 2 };

/*
 * How TOU combines with tiers (docs/tariff-rules.md 4.2). The tier split
 * is always decided on the total of all periods (RULE: TOU-TOTAL-01).
 *   A: period base prices + a per-tier increment, same in every period;
 *   B: a full tier x period price table (increments differ by period);
 *   C: tier price + a per-period adjustment; billed exactly like A.
 */
enum tariff_tou_model { TARIFF_TOU_NONE = 0, TARIFF_TOU_A, TARIFF_TOU_B, TARIFF_TOU_C };

/* TOU periods in their canonical (and required JSON) order. */
enum tariff_period { TARIFF_SHARP = 0, TARIFF_PEAK, TARIFF_FLAT, TARIFF_VALLEY };

/* Half-open clock interval [start, end) in minutes after 00:00; end is
 * 1..1440 and end <= start means the window runs past midnight. */
struct tariff_window {
	int start_min;
	int end_min;
};

/* One TOU period; periods[] of struct tariff is indexed by enum tariff_period. */
struct tariff_period_def {
	int used;
	size_t n_windows;
	struct tariff_window windows[TARIFF_WINDOWS_MAX];
	int64_t price_hao;  /* model A: base (tier-1) price of the period */
	int64_t adjust_hao; /* model C: added to the tier price, may be negative */
};

struct tariff_tier {
	int64_t upto_milli;    /* inclusive upper bound, TARIFF_UNBOUNDED for the last */
	int64_t price_hao;     /* no TOU and model C: the tier price */
	int64_t increment_hao; /* model A: added to every period's base price */
	int64_t period_price_hao[TARIFF_PERIODS_MAX]; /* model B, by enum tariff_period */
};

/* Bounds used instead of the tier bounds in the listed billing months. */
struct tariff_season {
	unsigned months; /* bit m set for month m, 1..12 */
	int64_t upto_milli[TARIFF_BOUNDS_MAX];
};

/* Larger households (一户多人口): min_size 0 means no allowance. */
struct tariff_household {
	int min_size;
	int per_person_over; /* 0: add once; else add x (size - per_person_over) */
	int64_t add_milli[TARIFF_BOUNDS_MAX];
};

/* A water fee part (水费, 水资源费, 污水处理费), priced per tier or flat. */
struct tariff_component {
	char name[TARIFF_NAME_MAX];
	char label[TARIFF_LABEL_MAX];
	int tiered;
	int64_t price_hao[TARIFF_TIERS_MAX]; /* flat: price_hao[0] only */
};

/* A fixed charge per billing month. */
struct tariff_fixed {
	char name[TARIFF_NAME_MAX];
	char label[TARIFF_LABEL_MAX];
	int64_t amount_fen;
};

/* Late-fee policy (tariff-rules.md 7); 0 in an optional field means none. */
struct tariff_late_fee {
	int64_t rate_ppm_per_day; /* millionths of the principal a day: 1000 = 1‰ */
	int64_t grace_days;       /* overdue days not charged */
	int64_t minimum_fen;      /* a positive fee below this is raised to it */
	int64_t cap_pct;          /* fee at most this percentage of the principal */
};

struct tariff {
	enum tariff_utility utility;
	enum tariff_basis basis;
	int tier_year_start_month;
	size_t n_tiers;
	struct tariff_tier tiers[TARIFF_TIERS_MAX];
	struct tariff_household household;
	size_t n_seasons;
	struct tariff_season seasons[TARIFF_SEASONS_MAX];
	enum tariff_tou_model tou_model;
	size_t n_periods;
	struct tariff_period_def periods[TARIFF_PERIODS_MAX];
	size_t n_components;
	struct tariff_component components[TARIFF_COMPONENTS_MAX];
	size_t n_fixed;
	struct tariff_fixed fixed[TARIFF_FIXED_MAX];
	struct tariff_late_fee late_fee;
	int round_unit; /* multiplier_round "unit": round metered quantities to whole units */
};

/*
 * Parses and validates one tariff version. On XQ_OK *out holds the tariff
 * (it owns no memory today; still pair it with tariff_release()). On
 * XQ_EINVAL err holds one Chinese sentence naming the JSON path, e.g.
 * "tiers[1].upto_kwh 必须大于上一档", and *out is untouched. err is always
 * NUL-terminated when errlen > 0 and is cut on a UTF-8 character
 * boundary; 256 bytes is plenty.
 */
int tariff_parse(const char *json, struct tariff *out /* OUT */, char *err, size_t errlen);

/* Frees what *t owns and zeroes it. Safe on a zeroed struct. */
void tariff_release(struct tariff *t);

/*
 * Writes the canonical JSON of t into *out (malloc'd, caller frees with
 * free()): fixed key order, no whitespace, every default written out,
 * prices with 4 decimals and amounts with 2. Parsing the result gives the
 * same tariff, and writing that again gives the same bytes.
 * XQ_ERROR if cJSON runs out of memory.
 */
int tariff_to_json(const struct tariff *t, char **out /* OUT */);

/*
 * The unit price a tier x period cell bills at, whatever the TOU model:
 * no TOU: tiers[tier].price; A: base[period] + increment[tier];
 * B: the table cell; C: tiers[tier].price + adjust[period]. period is
 * ignored without TOU. tier is 0-based.
 */
int64_t tariff_price_hao(const struct tariff *t, size_t tier, enum tariff_period period);

/* "sharp" "peak" "flat" "valley" (bill_line.period / bill_usage.register). */
const char *tariff_period_name(enum tariff_period p);
/* "尖峰" "峰时" "平时" "谷时": how a bill names the period. */
const char *tariff_period_label_zh(enum tariff_period p);
/* "kWh" or "m³". */
const char *tariff_unit_text(const struct tariff *t);

/*
 * The tier year a billing month belongs to, named by the calendar year in
 * which it starts: with tier_year_start_month 12 (Guizhou) the bills of
 * 2024-12 and 2025-11 both give 2024. The caller resets the year-to-date
 * counter when this changes. XQ_EINVAL for a month outside 1..12.
 */
int tariff_tier_year(const struct tariff *t, int year, int month, int *tier_year /* OUT */);

#endif
