/*
 * forecast.c - Holt-Winters with its fallbacks (see forecast.h). Kept small
 * on purpose: a grid of 9 x 5 x 9 parameter triples over at most a few
 * hundred months costs well under a millisecond, so nothing is cached.
 */
#include "forecast.h"

#include <math.h>
#include <string.h>

#define P FORECAST_PERIOD

const char *forecast_method_name(enum forecast_method m)
{
	switch (m) {
	case FORECAST_HW:
		return "holt_winters";
	case FORECAST_SNAIVE:
		return "seasonal_naive";
	default:
		return "mean";
	}
}

static int64_t round_nonneg(double v)
{
	if (!(v > 0)) /* also NaN */
		return 0;
	if (v > 9.0e18)
		return INT64_MAX;
	return (int64_t)floor(v + 0.5);
}

struct hw_state {
	double level, trend, season[P];
	int mult; /* multiplicative seasonality: y = (level + trend) x season */
};

/* The initial state at the end of the first year (see forecast.h). 0, or -1 if unusable. */
static int hw_init(const int64_t *y, struct hw_state *st)
{
	double m1 = 0, m2 = 0, b;

	for (int i = 0; i < P; i++) {
		m1 += (double)y[i];
		m2 += (double)y[P + i];
	}
	m1 /= P;
	m2 /= P;
	b = (m2 - m1) / P;
	for (int i = 0; i < P; i++) {
		double l0 = m1 + b * (i - (P - 1) / 2.0), l1 = m1 + b * (P + i - (P - 1) / 2.0);
		if (st->mult) {
			/* the ratio to the line: meaningless when the line is not above zero */
			if (l0 <= 0 || l1 <= 0)
				return -1;
			st->season[i] = ((double)y[i] / l0 + (double)y[P + i] / l1) / 2;
		} else {
			st->season[i] = ((double)y[i] - l0 + (double)y[P + i] - l1) / 2;
		}
	}
	st->level = m1 + b * ((P - 1) / 2.0);
	st->trend = b;
	return 0;
}

/*
 * Runs the updates over y[P..n); returns the sum of squared one-step
 * errors, or -1 when a multiplicative state stops making sense (a level or
 * a season index at or below zero).
 */
static double hw_run(const int64_t *y, size_t n, double a, double b, double g, struct hw_state *st)
{
	double sse = 0;

	if (hw_init(y, st))
		return -1;
	for (size_t t = P; t < n; t++) {
		double s = st->season[t % P], base = st->level + st->trend, l;
		double pred = st->mult ? base * s : base + s, e = (double)y[t] - pred;

		sse += e * e;
		if (st->mult) {
			if (s <= 0)
				return -1;
			l = a * ((double)y[t] / s) + (1 - a) * base;
			if (l <= 0)
				return -1;
			st->season[t % P] = g * ((double)y[t] / l) + (1 - g) * s;
		} else {
			l = a * ((double)y[t] - s) + (1 - a) * base;
			st->season[t % P] = g * ((double)y[t] - l) + (1 - g) * s;
		}
		st->trend = b * (l - st->level) + (1 - b) * st->trend;
		st->level = l;
	}
	return sse;
}

int forecast_series(const int64_t *y, size_t n, size_t horizon, int64_t *out,
		    struct forecast *info)
{
	struct forecast f;

	if (!y || !out || n == 0 || horizon == 0 || horizon > FORECAST_HORIZON_MAX)
		return XQ_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (y[i] < 0)
			return XQ_EINVAL;
	memset(&f, 0, sizeof(f));
	f.n = n;
	if (n < P) {
		double m = 0;
		for (size_t i = 0; i < n; i++)
			m += (double)y[i];
		m /= (double)n;
		f.method = FORECAST_MEAN;
		for (size_t h = 0; h < horizon; h++)
			out[h] = round_nonneg(m);
	} else if (n < 2 * P) {
		f.method = FORECAST_SNAIVE;
		for (size_t h = 0; h < horizon; h++)
			out[h] = y[n - P + h % P];
	} else {
		static const double ab[] = { 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9 };
		static const double bb[] = { 0.01, 0.05, 0.1, 0.2, 0.3 };
		double best = -1;
		struct hw_state st;

		f.method = FORECAST_HW;
		/* additive first: on a tie (an exact fit either way) it is kept */
		for (int mult = 0; mult <= 1; mult++)
			for (size_t i = 0; i < XQ_ARRAY_LEN(ab); i++)
				for (size_t j = 0; j < XQ_ARRAY_LEN(bb); j++)
					for (size_t k = 0; k < XQ_ARRAY_LEN(ab); k++) {
						double sse;
						st.mult = mult;
						sse = hw_run(y, n, ab[i], bb[j], ab[k], &st);
						/* strictly better only: the first (smoothest) triple wins ties */
						if (sse >= 0 && (best < 0 || sse < best * (1 - 1e-9))) {
							best = sse;
							f.alpha = ab[i], f.beta = bb[j], f.gamma = ab[k];
							f.multiplicative = mult;
						}
					}
		st.mult = f.multiplicative;
		hw_run(y, n, f.alpha, f.beta, f.gamma, &st);
		for (size_t h = 1; h <= horizon; h++) {
			double base = st.level + (double)h * st.trend, s = st.season[(n + h - 1) % P];
			out[h - 1] = round_nonneg(st.mult ? base * s : base + s);
		}
	}
	if (info)
		*info = f;
	return XQ_OK;
}

int forecast_backtest(const int64_t *y, size_t n, size_t holdout, int64_t *mape_x100,
		      struct forecast *info)
{
	int64_t fc[FORECAST_HORIZON_MAX];
	double sum = 0;
	size_t used = 0;
	int rc;

	if (!y || holdout == 0 || holdout > FORECAST_HORIZON_MAX || n < holdout + 1)
		return XQ_EINVAL;
	if ((rc = forecast_series(y, n - holdout, holdout, fc, info)))
		return rc;
	for (size_t h = 0; h < holdout; h++) {
		int64_t a = y[n - holdout + h];
		if (a <= 0)
			continue;
		sum += fabs((double)(a - fc[h])) / (double)a;
		used++;
	}
	if (!used)
		return XQ_EINVAL;
	*mape_x100 = round_nonneg(sum / (double)used * 10000.0);
	return XQ_OK;
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

void forecast_generate(uint64_t seed, size_t n, int64_t base, int amp_pct, int peak_month,
		       int trend_pct_year, int noise_pct, int64_t *out)
{
	uint64_t s = seed ? seed : 0x9e3779b97f4a7c15ULL;
	const double pi = 3.14159265358979323846;

	for (size_t t = 0; t < n; t++) {
		double u = ((double)(xorshift(&s) >> 11) / 9007199254740992.0) * 2 - 1;
		double season = 1 + amp_pct / 100.0 * cos(2 * pi * ((double)(t % P) - peak_month) / P);
		double trend = 1 + trend_pct_year / 100.0 * ((double)t / P);
		out[t] = round_nonneg((double)base * season * trend * (1 + u * noise_pct / 100.0));
	}
}
