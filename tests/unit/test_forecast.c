/*
 * test_forecast.c - lib/forecast.c: exact continuations of simple series
 * (constant, purely seasonal, linear trend, both), the fallbacks by history
 * length, rejections, and the backtest error bound on generated seasonal
 * data with 5 % noise (docs/dunning.md states the bound: MAPE < 10 %).
 */
#include "forecast.h"
#include "test.h"

#include <string.h>

TEST(constant)
{
	int64_t y[36], out[12];
	struct forecast f;

	for (int i = 0; i < 36; i++)
		y[i] = 250000;
	CHECK_EQ_I64(forecast_series(y, 36, 12, out, &f), XQ_OK);
	CHECK_EQ_I64(f.method, FORECAST_HW);
	for (int h = 0; h < 12; h++)
		CHECK_EQ_I64(out[h], 250000);
}

TEST(pure_seasonal)
{
	static const int64_t pat[12] = { 300, 280, 200, 150, 120, 180, 400, 450, 300, 180, 160, 250 };
	int64_t y[48], out[24];

	for (int i = 0; i < 48; i++)
		y[i] = pat[i % 12] * 1000;
	CHECK_EQ_I64(forecast_series(y, 48, 24, out, NULL), XQ_OK);
	for (int h = 0; h < 24; h++)
		CHECK_EQ_I64(out[h], pat[h % 12] * 1000);
	/* 30 months: the forecast starts in month 7 of the pattern */
	CHECK_EQ_I64(forecast_series(y, 30, 3, out, NULL), XQ_OK);
	CHECK_EQ_I64(out[0], pat[6] * 1000);
	CHECK_EQ_I64(out[2], pat[8] * 1000);
}

TEST(linear_trend)
{
	int64_t y[40], out[6];

	for (int i = 0; i < 40; i++)
		y[i] = 10000 + 120 * i;
	CHECK_EQ_I64(forecast_series(y, 40, 6, out, NULL), XQ_OK);
	for (int h = 0; h < 6; h++)
		CHECK_EQ_I64(out[h], 10000 + 120 * (40 + h));
}

TEST(trend_plus_season)
{
	static const int64_t pat[12] = { 50, -20, -40, -60, -30, 0, 80, 90, 40, -30, -40, -40 };
	int64_t y[36], out[12];

	for (int i = 0; i < 36; i++)
		y[i] = 5000 + 10 * i + pat[i % 12];
	CHECK_EQ_I64(forecast_series(y, 36, 12, out, NULL), XQ_OK);
	for (int h = 0; h < 12; h++)
		CHECK_EQ_I64(out[h], 5000 + 10 * (36 + h) + pat[h % 12]);
}

TEST(multiplicative_seasonality)
{
	/* growth with a seasonal swing proportional to the level: (1000 + 40 t) x s */
	static const double sf[12] = { 1.3, 1.2, 0.9, 0.7, 0.6, 0.9, 1.4, 1.5, 1.1, 0.8, 0.7, 0.9 };
	int64_t y[72], mape = -1;
	struct forecast f;

	for (int t = 0; t < 72; t++)
		y[t] = (int64_t)((1000 + 40 * t) * sf[t % 12] * 100);
	CHECK_EQ_I64(forecast_backtest(y, 72, 12, &mape, &f), XQ_OK);
	CHECK_EQ_I64(f.method, FORECAST_HW);
	CHECK_EQ_I64(f.multiplicative, 1);
	printf("multiplicative: MAPE %lld.%02lld %%\n", (long long)(mape / 100), (long long)(mape % 100));
	CHECK(mape < 100); /* under 1 % */
	/* additive data keeps the additive model */
	for (int t = 0; t < 36; t++)
		y[t] = 5000 + 10 * t + (int64_t)(sf[t % 12] * 1000);
	CHECK_EQ_I64(forecast_series(y, 36, 1, &mape, &f), XQ_OK);
	CHECK_EQ_I64(f.multiplicative, 0);
}

TEST(fallbacks)
{
	int64_t y[20], out[14];
	struct forecast f;

	for (int i = 0; i < 20; i++)
		y[i] = 100 + i;
	/* 20 months: the same month a year earlier */
	CHECK_EQ_I64(forecast_series(y, 20, 14, out, &f), XQ_OK);
	CHECK_EQ_I64(f.method, FORECAST_SNAIVE);
	CHECK_EQ_I64(out[0], y[8]);
	CHECK_EQ_I64(out[11], y[19]);
	CHECK_EQ_I64(out[12], y[8]);
	/* 3 months: the mean (100 + 101 + 102) / 3, rounded */
	CHECK_EQ_I64(forecast_series(y, 3, 2, out, &f), XQ_OK);
	CHECK_EQ_I64(f.method, FORECAST_MEAN);
	CHECK_EQ_I64(out[0], 101);
	CHECK_EQ_I64(out[1], 101);
	{
		int64_t z[2] = { 1, 2 };
		CHECK_EQ_I64(forecast_series(z, 2, 1, out, NULL), XQ_OK);
		CHECK_EQ_I64(out[0], 2); /* 1.5 rounds half up */
	}
	CHECK_STR(forecast_method_name(FORECAST_HW), "holt_winters");
}

TEST(rejections)
{
	int64_t y[3] = { 1, -1, 3 }, out[40];

	CHECK_EQ_I64(forecast_series(y, 0, 1, out, NULL), XQ_EINVAL);
	CHECK_EQ_I64(forecast_series(y, 3, 1, out, NULL), XQ_EINVAL);
	y[1] = 2;
	CHECK_EQ_I64(forecast_series(y, 3, 0, out, NULL), XQ_EINVAL);
	CHECK_EQ_I64(forecast_series(y, 3, FORECAST_HORIZON_MAX + 1, out, NULL), XQ_EINVAL);
	CHECK_EQ_I64(forecast_backtest(y, 3, 12, out, NULL), XQ_EINVAL);
}

TEST(never_negative)
{
	int64_t y[36], out[12];

	/* a steep fall would extrapolate below zero */
	for (int i = 0; i < 36; i++)
		y[i] = 36000 - 1000 * i;
	CHECK_EQ_I64(forecast_series(y, 36, 12, out, NULL), XQ_OK);
	for (int h = 0; h < 12; h++)
		CHECK(out[h] >= 0);
	CHECK_EQ_I64(out[11], 0);
}

TEST(backtest_bound)
{
	int64_t y[60], mape = -1, worst = 0;
	struct forecast f;

	/* the stated bound: MAPE < 10 % on 5 years of seasonal data with 5 % noise, last year held out */
	for (uint64_t seed = 1; seed <= 20; seed++) {
		forecast_generate(seed, 60, 300000, 35, 7, 3, 5, y);
		CHECK_EQ_I64(forecast_backtest(y, 60, 12, &mape, &f), XQ_OK);
		CHECK_EQ_I64(f.method, FORECAST_HW);
		if (mape > worst)
			worst = mape;
	}
	printf("backtest: worst MAPE over 20 seeds %lld.%02lld %%\n", (long long)(worst / 100),
	       (long long)(worst % 100));
	CHECK(worst < 1000);
	CHECK(worst > 0); /* the noise is there: a perfect fit would mean the test is blind */
	/* the generator is deterministic per seed */
	{
		int64_t a[24], b[24];
		forecast_generate(7, 24, 1000, 30, 7, 0, 5, a);
		forecast_generate(7, 24, 1000, 30, 7, 0, 5, b);
		CHECK(memcmp(a, b, sizeof(a)) == 0);
		forecast_generate(8, 24, 1000, 30, 7, 0, 5, b);
		CHECK(memcmp(a, b, sizeof(a)) != 0);
	}
}

int main(void)
{
	RUN(constant);
	RUN(pure_seasonal);
	RUN(linear_trend);
	RUN(trend_plus_season);
	RUN(multiplicative_seasonality);
	RUN(fallbacks);
	RUN(rejections);
	RUN(never_negative);
	RUN(backtest_bound);
	return test_report();
}
