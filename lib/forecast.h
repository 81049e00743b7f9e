/*
 * forecast.h - monthly usage forecasts (docs/dunning.md, "Forecast"). Pure:
 * no I/O, no clock. Inputs and outputs are whole units (Wh or litres a
 * month); the arithmetic inside is double (this is not a money file), and
 * every output is rounded half away from zero and never negative.
 *
 * The method depends on the history:
 *   n >= 24          Holt-Winters, period 12, additive or multiplicative
 *                    seasonality and alpha/beta/gamma chosen on a grid by
 *                    the least squared one-step error (FORECAST_HW);
 *                    additive wins ties;
 *   12 <= n < 24     seasonal naive: the same month a year earlier (FORECAST_SNAIVE);
 *   1 <= n < 12      the mean of the history (FORECAST_MEAN).
 * Holt-Winters starts from the first two years: the level and trend of a
 * straight line through the two yearly means and the average deviation of
 * each month from that line (multiplicative: the average ratio to it), so a
 * constant, a purely seasonal or a linear series is continued exactly.
 */
#ifndef XQ_FORECAST_H
#define XQ_FORECAST_H

#include "xq.h"

#include <stddef.h>
#include <stdint.h>

#define FORECAST_PERIOD 12
#define FORECAST_HORIZON_MAX 36

enum forecast_method { FORECAST_MEAN, FORECAST_SNAIVE, FORECAST_HW };

struct forecast {
	enum forecast_method method;
	double alpha, beta, gamma; /* chosen parameters (FORECAST_HW) */
	int multiplicative;        /* FORECAST_HW: seasonal factors, not offsets */
	size_t n;                  /* history length used */
};

/* "mean", "seasonal_naive", "holt_winters". */
const char *forecast_method_name(enum forecast_method m);

/*
 * Forecasts the `horizon` (1..FORECAST_HORIZON_MAX) values after y[0..n)
 * into out[0..horizon). XQ_EINVAL for n == 0, a negative value or a bad
 * horizon. info may be NULL.
 */
int forecast_series(const int64_t *y, size_t n, size_t horizon, int64_t *out /* OUT */,
		    struct forecast *info /* OUT, may be NULL */);

/*
 * Backtest: forecasts the last `holdout` values from the ones before them
 * and returns the mean absolute percentage error over the held-out months
 * with a non-zero actual, in hundredths of a percent (523 = 5.23 %).
 * XQ_EINVAL when fewer than holdout + 1 values or no non-zero actual.
 */
int forecast_backtest(const int64_t *y, size_t n, size_t holdout, int64_t *mape_x100 /* OUT */,
		      struct forecast *info /* OUT, may be NULL */);

/*
 * A seeded synthetic monthly series for tests and `xqctl forecast
 * --backtest`: base x (1 + amp_pct/100 x cos(2 pi (month - peak) / 12)) x
 * (1 + trend_pct_year/100 x years) x (1 + u), u uniform in
 * [-noise_pct, +noise_pct] / 100 from a xorshift generator on seed.
 * Month 0 is a January.
 */
void forecast_generate(uint64_t seed, size_t n, int64_t base, int amp_pct, int peak_month,
		       int trend_pct_year, int noise_pct, int64_t *out /* OUT */);

#endif
