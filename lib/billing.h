/*
 * billing.h - price one bill from tariff versions and metered quantities,
 * split a public-area amount, and compute late fees. Pure: no I/O, no
 * clock, no database, integers only. The rules are listed with their ids
 * in docs/billing.md; each id also marks the line of billing.c that
 * implements it.
 *
 * Units: quantities in milli units (Wh for electricity, litres for water),
 * prices in hao (0.0001 yuan), money in fen. Days are int32_t counts of
 * days since 1970-01-01 (billing_day() converts), so the engine never needs
 * a clock or a time zone: the caller has already decided which calendar
 * day (Asia/Shanghai) each date is.
 *
 * Rounding: every priced line is qty x price rounded once, half-up, by
 * money.h (RULE: MONEY-ROUND-01); a bill's total is the sum of its rounded
 * lines and is never rounded itself (RULE: BILL-TOTAL-01).
 */
#ifndef XQ_BILLING_H
#define XQ_BILLING_H

#include "tariff.h"
#include "xq.h"

#include <stddef.h>
#include <stdint.h>

#define BILLING_SEGMENTS_MAX 12 /* price versions inside one reading period */
#define BILLING_PERIOD_DAYS_MAX 366
#define BILLING_MULTIPLIER_MAX 1000000
#define BILLING_HOUSEHOLD_MAX 99

/*
 * One priced line, stored as a bill_line row. The label is the sentence a
 * resident can recompute by hand ("第二档 100.00 kWh × 0.5383 = 53.83 元");
 * the numbers beside it are the exact values it shows.
 */
struct bill_line {
	char kind[16];        /* energy | component | fixed | late_fee (bill_line.kind) */
	int tier;             /* 1..n on a tier's line, 0 otherwise */
	char period[8];       /* sharp | peak | flat | valley, "" if not per period */
	char component[16];   /* water component or fixed charge name, "" otherwise */
	char label_zh[160];   /* UTF-8, at most 128 characters (bill_line.label_zh) */
	int64_t qty_milli;    /* Wh or litres priced; 0 on fixed and late-fee lines */
	int64_t price_hao;    /* unit price; 0 on fixed and late-fee lines */
	int64_t amount_fen;   /* rounded once by MONEY-ROUND-01 */
	char rule[32];        /* RULE id from docs/billing.md */
	int64_t version_id;   /* billing_version.version_id the price came from, 0 if none */
	int32_t seg_first_day; /* the days this line covers, both inclusive; */
	int32_t seg_last_day;  /* 0 and 0 on late-fee lines */
};

/* A tariff version and the first day it is in force. */
struct billing_version {
	const struct tariff *tariff; /* not owned */
	int64_t version_id;          /* tariff_version.id, copied onto the lines */
	int32_t effective_day;       /* tariff_version.effective_from */
};

/*
 * Everything one bill depends on. Zero is a safe default for every field
 * after the versions, the billing month and the period.
 *
 * Registers: the meter's total delta goes in total_raw_milli; a meter with
 * rate registers also fills period_raw_milli (by enum tariff_period), and
 * then the billed total is their sum: total_raw_milli may be left 0 and
 * otherwise must equal the sum. A TOU version needs rate registers unless
 * nothing was used. Rollover and meter replacement are the caller's
 * business (bill_usage); the deltas here are before the multiplier.
 */
struct billing_input {
	const struct billing_version *versions; /* ascending effective_day; versions[0] */
	size_t n_versions;                      /* must be in force on first_day */
	int bill_year, bill_month;              /* billing month (电费年月): season, tier year */
	int32_t first_day, last_day;            /* reading period, both inclusive */
	int64_t total_raw_milli;
	int64_t period_raw_milli[TARIFF_PERIODS_MAX];
	int64_t multiplier;       /* CT x PT ratio (倍率), applied here; 0 means 1 */
	int64_t ytd_before_milli; /* annual basis: tier-year usage before this bill */
	int household_size;       /* members with an approved, unexpired allowance; 0 = none */
	int tier_year_months;     /* annual basis: months of the tier year billed to this
				   * account (opened mid-year), 1..12; 0 means 12 */
};

struct billing_result {
	struct bill_line *lines; /* owned; billing_result_release() frees */
	size_t n_lines;
	size_t cap_lines;
	int64_t total_fen;       /* sum of lines[].amount_fen (RULE: BILL-TOTAL-01) */
	int64_t qty_milli;       /* billed quantity after the multiplier (bill.qty_milli) */
	int64_t ytd_after_milli; /* ytd_before_milli + qty_milli: the counter to store */
};

/*
 * Prices one bill. On XQ_OK *out holds the lines in display order: energy
 * or water lines segment by segment, then fixed charges. On failure *out is
 * empty (nothing to release) and the result is
 *   XQ_EINVAL    inputs that cannot be billed; err says why in Chinese
 *                (versions missing or unsorted, a TOU version without rate
 *                registers, negative quantities, ...);
 *   XQ_EOVERFLOW a quantity or amount does not fit int64_t.
 * err may be NULL. *out need not be initialised.
 */
int billing_compute(const struct billing_input *in, struct billing_result *out /* OUT */,
		    char *err, size_t errlen);

/* Frees the lines and zeroes *r. Safe on a zeroed struct. */
void billing_result_release(struct billing_result *r);

/*
 * Splits total (fen, >= 0) over n shares in proportion to weights (>= 0,
 * not all 0) so that out[0..n) adds up to total exactly
 * (RULE: APPORTION-LRM-01, largest remainder): each share first gets
 * floor(total x w / W); the fen left over (fewer than n) go one each to the
 * largest remainders, ties to the lower index. Weights are whatever the
 * community decided: floor area in 0.01 m² for 按面积, 1 for each
 * household for 按户. XQ_EINVAL for bad arguments, XQ_EOVERFLOW if the
 * weights' sum does not fit int64_t; out is untouched on failure.
 */
int billing_apportion(int64_t total, const int64_t *weights, size_t n, int64_t *out /* OUT */);

/*
 * Late fee (违约金) on one unpaid principal (RULE: LATEFEE-DAILY-01):
 * principal x rate_ppm_per_day / 10^6 x days, exact, rounded half-up once.
 * days are overdue days, counted from the day after the due date up to and
 * including the day of payment (or today): pay_day - due_day, never less
 * than 0. XQ_EINVAL for negative arguments, XQ_EOVERFLOW if the fee does
 * not fit.
 */
int billing_late_fee(int64_t principal_fen, int64_t rate_ppm_per_day, int64_t days,
		     int64_t *fen /* OUT */);

/* One portion of a debt and the overdue days it stayed unpaid. */
struct billing_arrear {
	int64_t principal_fen;
	int64_t days;
};

/*
 * Late fee under a tariff's policy over a debt paid in portions
 * (RULE: LATEFEE-SEGMENTS-01): every portion accrues for its own days less
 * the grace days, the exact sum is rounded once; then a positive fee below
 * minimum_fen becomes minimum_fen (RULE: LATEFEE-MIN-01) and the fee is
 * capped at cap_pct of the principal, itself rounded by MONEY-ROUND-01
 * (RULE: LATEFEE-CAP-01). Waivers are the caller's (account.late_fee_waived).
 */
int billing_late_fee_policy(const struct tariff_late_fee *policy, const struct billing_arrear *a,
			    size_t n, int64_t *fen /* OUT */);

/*
 * billing_late_fee_policy() for one principal, as a late_fee bill line
 * whose label shows the arithmetic ("违约金 142.10 元 × 1‰ × 15 天 = 2.13 元").
 */
int billing_late_fee_line(const struct tariff_late_fee *policy, int64_t principal_fen,
			  int64_t overdue_days, struct bill_line *out /* OUT */);

/* Day number of a calendar date 1970-01-01..2200-12-31; XQ_EINVAL otherwise. */
int billing_day(int year, int month, int mday, int32_t *out /* OUT */);
/* The calendar date of a day number (any value billing_day() produced). */
void billing_civil(int32_t day, int *year /* OUT */, int *month /* OUT */, int *mday /* OUT */);

#ifdef XQ_UNITTEST
/*
 * PRORATE-DAYS-01 on its own: splits q over segments whose cumulative day
 * counts are cum_days[0..n) (the last equals period_days) into parts[].
 */
int billing_split_days(int64_t q, const int64_t *cum_days, size_t n, int64_t period_days,
		       int64_t *parts /* OUT */);
/*
 * The words of one priced line as emit_priced() writes them: the segment's
 * dates when first or last is non-zero, then "<name> <qty> <unit> × <price>
 * = <amount> 元". XQ_EOVERFLOW when it does not fit in n.
 */
int billing_priced_label(char *buf, size_t n, int32_t first, int32_t last, const char *name,
			 int64_t qty, const char *unit, int64_t price_hao, int64_t fen);
#endif

#endif
