/*
 * billing.c - prices one bill from tariff versions and metered quantities
 * (billing_compute), splits public-area amounts (billing_apportion) and
 * computes late fees. Every rule is tagged "RULE: <id>" where it is
 * implemented and explained in docs/billing.md. Deliberately not here:
 * reading plausibility, rollover, which versions apply to which house,
 * storing anything - and any rounding other than through money.h.
 */
#include "billing.h"
#include "money.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LABEL_CHARS_MAX 128 /* bill_line.label_zh is VARCHAR(128) */
#define FIXED_ACC_MAX (BILLING_SEGMENTS_MAX * TARIFF_FIXED_MAX)

static const char *const tier_zh[TARIFF_TIERS_MAX] = {
	"第一档", "第二档", "第三档", "第四档", "第五档",
};
static const char *const tier_inc_zh[TARIFF_TIERS_MAX] = {
	"第一档加价", "第二档加价", "第三档加价", "第四档加价", "第五档加价",
};

/* One stretch of the reading period under one tariff version. */
struct seg {
	const struct billing_version *v;
	int32_t first, last;
	int64_t cum_days;                  /* period's first day through last */
	int64_t qty[TARIFF_PERIODS_MAX];   /* this segment's part of each rate register */
	int64_t total;                     /* this segment's quantity: decides the tiers */
	int64_t bounds[TARIFF_TIERS_MAX];  /* bounds after season, household, proration */
	int64_t portion[TARIFF_TIERS_MAX]; /* RULE: TIER-INTERVAL-01 portions of total */
};

/* Working state of one billing_compute() call. */
struct calc {
	const struct billing_input *in;
	struct billing_result *out;
	char *err;
	size_t errlen;
	int64_t days;                    /* reading period length, both ends counted */
	int has_rates;                   /* the meter gave rate registers */
	int64_t qty[TARIFF_PERIODS_MAX]; /* billed rate registers after the multiplier */
	int64_t total;                   /* billed quantity after the multiplier */
	size_t n_segs;
	struct seg segs[BILLING_SEGMENTS_MAX];
};

/* What one priced line says; emit_priced() does the arithmetic and the words. */
struct line_spec {
	const char *kind;
	int tier;           /* 1-based, 0 if not a tier's line */
	int period;         /* enum tariff_period, -1 if none */
	const char *component;
	const char *name;   /* "第二档", "峰时", "第一档 水费" */
	int64_t qty;
	int64_t price_hao;
	const char *rule;
};

/* ------------------------------------------------------------------ small helpers */

static int bad(struct calc *c, const char *fmt, ...) XQ_PRINTF(2, 3);

/* Writes the Chinese reason into err and returns XQ_EINVAL. */
static int bad(struct calc *c, const char *fmt, ...)
{
	va_list ap;

	if (c->err && c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err, c->errlen, fmt, ap);
		va_end(ap);
	}
	return XQ_EINVAL;
}

static int label_add(char *buf, size_t n, const char *fmt, ...) XQ_PRINTF(3, 4);

/*
 * Appends to a label. A label that does not fit is XQ_EOVERFLOW rather than
 * silently cut: a resident must see every number. Only absurd values get
 * there; realistic labels are well under half the space.
 */
static int label_add(char *buf, size_t n, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(buf + len, n - len, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= n - len) {
		buf[len] = '\0';
		return XQ_EOVERFLOW;
	}
	return XQ_OK;
}

static int label_chars_ok(const char *s)
{
	size_t chars = 0;

	for (; *s; s++)
		chars += ((unsigned char)*s & 0xC0) != 0x80;
	return chars <= LABEL_CHARS_MAX;
}

/*
 * Label text is built with memcpy and hand-written digits, never printf:
 * formatting was ~60 % of the engine's time (bench/README.md). A label
 * builder keeps room for the NUL and remembers an overflow instead of
 * cutting a number, so the caller can refuse the bill (XQ_EOVERFLOW).
 */
struct lbuf {
	char *p, *end; /* end: the last byte, kept for the NUL */
	int over;
};

static void lb_init(struct lbuf *b, char *buf, size_t n)
{
	b->p = buf;
	b->end = buf + n - 1;
	b->over = 0;
	*b->p = '\0';
}

static void lb_mem(struct lbuf *b, const char *s, size_t len)
{
	if (b->over || len > (size_t)(b->end - b->p)) {
		b->over = 1;
		return;
	}
	memcpy(b->p, s, len);
	b->p += len;
	*b->p = '\0';
}

static void lb_str(struct lbuf *b, const char *s)
{
	lb_mem(b, s, strlen(s));
}

/* String literal: its length is known at compile time. */
#define LB_LIT(b, lit) lb_mem((b), "" lit, sizeof(lit) - 1)

/* money_put_*() text straight into the label. */
static void lb_num(struct lbuf *b, size_t (*put)(int64_t, char *), int64_t v)
{
	if (b->over || (size_t)(b->end - b->p) < MONEY_STR_MAX - 1) {
		/* near the end: format aside, then copy only if it fits */
		char t[MONEY_STR_MAX];
		size_t len = put(v, t);

		lb_mem(b, t, len);
		return;
	}
	b->p += put(v, b->p);
}

/* Non-negative or negative decimal integer, like "%" PRId64. */
static void lb_int(struct lbuf *b, int64_t v)
{
	char t[24], *q = t + sizeof(t);
	uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		*--q = (char)('0' + mag % 10);
		mag /= 10;
	} while (mag);
	if (v < 0)
		*--q = '-';
	lb_mem(b, q, (size_t)(t + sizeof(t) - q));
}

/* Copies a short known-fitting string into a fixed field (kind, rule, ...). */
static void field_set(char *dst, size_t n, const char *s)
{
	size_t len = strlen(s);

	if (len >= n)
		len = n - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
}

/* "<a> <b>", cut to n like snprintf (names are short and fit). */
static void join2(char *dst, size_t n, const char *a, const char *b)
{
	struct lbuf lb;

	lb_init(&lb, dst, n);
	lb_str(&lb, a);
	lb_mem(&lb, " ", 1);
	lb_str(&lb, b);
	XQ_ASSERT(!lb.over);
}

/* "YYYY-MM-DD" (10 bytes and the NUL) without printf, years 0..9999. */
static void date_put(int32_t day, char *buf)
{
	int y, m, d;

	billing_civil(day, &y, &m, &d);
	buf[0] = (char)('0' + y / 1000 % 10);
	buf[1] = (char)('0' + y / 100 % 10);
	buf[2] = (char)('0' + y / 10 % 10);
	buf[3] = (char)('0' + y % 10);
	buf[4] = '-';
	buf[5] = (char)('0' + m / 10);
	buf[6] = (char)('0' + m % 10);
	buf[7] = '-';
	buf[8] = (char)('0' + d / 10);
	buf[9] = (char)('0' + d % 10);
	buf[10] = '\0';
}

static void date_text(int32_t day, char *buf, size_t n)
{
	XQ_ASSERT(n >= 11);
	date_put(day, buf);
}

/* x * num / den rounded half-up (MONEY-ROUND-01) to whole units, in milli. */
static int round_units(int64_t x, int64_t num, int64_t den, int64_t *out)
{
	int64_t units;
	int rc = money_round_fen((__int128)x * num, (__int128)den * TARIFF_UNIT_MILLI, &units);

	if (rc == XQ_OK && (rc = money_mul(&units, TARIFF_UNIT_MILLI)) == XQ_OK)
		*out = units;
	return rc;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* ------------------------------------------------------------------ dates */

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int billing_day(int year, int month, int mday, int32_t *out)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (year < 1970 || year > 2200 || month < 1 || month > 12 || mday < 1 ||
	    mday > mdays[month - 1] + (month == 2 && is_leap(year)))
		return XQ_EINVAL;
	*out = (int32_t)days_from_civil(year, month, mday);
	return XQ_OK;
}

void billing_civil(int32_t day, int *year, int *month, int *mday)
{
	int64_t z = (int64_t)day + 719468, era, doe, yoe, doy, mp, m;

	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	m = mp < 10 ? mp + 3 : mp - 9;
	*year = (int)(yoe + era * 400 + (m <= 2));
	*month = (int)m;
	*mday = (int)(doy - (153 * mp + 2) / 5 + 1);
}

/* ------------------------------------------------------------------ lines */

static struct bill_line *new_line(struct calc *c, const char *kind, const char *rule)
{
	struct billing_result *r = c->out;
	struct bill_line *l;

	if (r->n_lines == r->cap_lines) {
		r->cap_lines = r->cap_lines ? r->cap_lines * 2 : 16;
		r->lines = xq_realloc(r->lines, r->cap_lines * sizeof(*r->lines));
	}
	l = &r->lines[r->n_lines++];
	memset(l, 0, sizeof(*l));
	field_set(l->kind, sizeof(l->kind), kind);
	field_set(l->rule, sizeof(l->rule), rule);
	return l;
}

/* "2024-06-11至2024-06-30 " when the period has several price segments. */
static void seg_prefix(const struct calc *c, int32_t first, int32_t last, struct lbuf *b)
{
	char d[16];

	if (c->n_segs < 2)
		return;
	date_put(first, d);
	lb_mem(b, d, 10);
	LB_LIT(b, "至");
	date_put(last, d);
	lb_mem(b, d, 10);
	LB_LIT(b, " ");
}

/* "<prefix><name> <qty> <unit> × <price> = <amount> 元", the priced line's words. */
static void priced_label(struct lbuf *b, const char *name, int64_t qty, const char *unit,
			 int64_t price_hao, int64_t fen)
{
	lb_str(b, name);
	LB_LIT(b, " ");
	lb_num(b, money_put_qty, qty);
	LB_LIT(b, " ");
	lb_str(b, unit);
	LB_LIT(b, " × ");
	lb_num(b, money_put_price, price_hao);
	LB_LIT(b, " = ");
	lb_num(b, money_put_yuan, fen);
	LB_LIT(b, " 元");
}

#ifdef XQ_UNITTEST
int billing_priced_label(char *buf, size_t n, int32_t first, int32_t last, const char *name,
			 int64_t qty, const char *unit, int64_t price_hao, int64_t fen)
{
	struct lbuf b;
	struct calc c;

	memset(&c, 0, sizeof(c));
	c.n_segs = first || last ? 2 : 1;
	lb_init(&b, buf, n);
	seg_prefix(&c, first, last, &b);
	priced_label(&b, name, qty, unit, price_hao, fen);
	return b.over ? XQ_EOVERFLOW : XQ_OK;
}
#endif

/*
 * One qty x price line: the amount is rounded once, here (RULE:
 * MONEY-ROUND-01), and the rounded amount is what the total adds up
 * (RULE: BILL-TOTAL-01).
 */
static int emit_priced(struct calc *c, const struct seg *s, const struct line_spec *ls)
{
	struct bill_line *l;
	struct lbuf b;
	int64_t fen;
	int rc;

	if ((rc = money_line_fen(ls->qty, TARIFF_UNIT_MILLI, ls->price_hao, &fen)))
		return rc;
	l = new_line(c, ls->kind, ls->rule);
	l->tier = ls->tier;
	if (ls->period >= 0)
		field_set(l->period, sizeof(l->period),
			  tariff_period_name((enum tariff_period)ls->period));
	field_set(l->component, sizeof(l->component), ls->component);
	l->qty_milli = ls->qty;
	l->price_hao = ls->price_hao;
	l->amount_fen = fen;
	l->version_id = s->v->version_id;
	l->seg_first_day = s->first;
	l->seg_last_day = s->last;
	lb_init(&b, l->label_zh, sizeof(l->label_zh));
	seg_prefix(c, s->first, s->last, &b);
	priced_label(&b, ls->name, ls->qty, tariff_unit_text(s->v->tariff), ls->price_hao, fen);
	if (b.over) {
		l->label_zh[0] = '\0';
		return XQ_EOVERFLOW;
	}
	/* characters <= bytes: only a long label can have too many */
	if (b.p - l->label_zh > LABEL_CHARS_MAX && !label_chars_ok(l->label_zh))
		return XQ_EOVERFLOW;
	return money_add(&c->out->total_fen, fen);
}

/* ------------------------------------------------------------------ inputs */

static int check_versions(struct calc *c)
{
	const struct billing_input *in = c->in;
	char d[16];

	if (!in->versions || in->n_versions == 0)
		return bad(c, "没有可用的价格版本");
	for (size_t i = 0; i < in->n_versions; i++) {
		const struct billing_version *v = &in->versions[i];

		if (!v->tariff || v->tariff->n_tiers == 0)
			return bad(c, "versions[%zu] 没有价格规则", i);
		if (i > 0 && v->effective_day <= in->versions[i - 1].effective_day)
			return bad(c, "价格版本须按生效日期升序排列，且日期不能重复");
		if (v->tariff->utility != in->versions[0].tariff->utility)
			return bad(c, "同一账单的价格版本必须是同一种费用（电或水）");
	}
	if (in->versions[0].effective_day > in->first_day) {
		date_text(in->first_day, d, sizeof(d));
		return bad(c, "计费期首日 %s 还没有生效的价格", d);
	}
	return XQ_OK;
}

static int check_input(struct calc *c)
{
	const struct billing_input *in = c->in;
	int rc;

	if ((rc = check_versions(c)))
		return rc;
	if (in->bill_year < 1970 || in->bill_year > 2200 || in->bill_month < 1 || in->bill_month > 12)
		return bad(c, "账期年月无效");
	if (in->first_day > in->last_day)
		return bad(c, "计费期的结束日早于开始日");
	c->days = (int64_t)in->last_day - in->first_day + 1;
	if (c->days > BILLING_PERIOD_DAYS_MAX)
		return bad(c, "计费期不能超过 %d 天", BILLING_PERIOD_DAYS_MAX);
	if (in->total_raw_milli < 0 || in->ytd_before_milli < 0)
		return bad(c, "用量不能为负数（退补请用调整行）");
	for (int p = 0; p < TARIFF_PERIODS_MAX; p++)
		if (in->period_raw_milli[p] < 0)
			return bad(c, "用量不能为负数（退补请用调整行）");
	if (in->multiplier < 0 || in->multiplier > BILLING_MULTIPLIER_MAX)
		return bad(c, "倍率必须在 1 到 %d 之间", BILLING_MULTIPLIER_MAX);
	if (in->household_size < 0 || in->household_size > BILLING_HOUSEHOLD_MAX)
		return bad(c, "户籍人数必须在 0 到 %d 之间", BILLING_HOUSEHOLD_MAX);
	if (in->tier_year_months < 0 || in->tier_year_months > 12)
		return bad(c, "阶梯年度月数必须在 1 到 12 之间");
	return XQ_OK;
}

/* ------------------------------------------------------------------ metering, segments */

/*
 * RULE: METER-MULT-01: billed quantity = register delta x multiplier, then
 * (multiplier_round "unit") rounded half-up to whole kWh / m³ once, after
 * multiplying. The rounding setting is the one of the version in force on
 * the period's last day, i.e. when the meter was read.
 */
static int meter_one(const struct calc *c, int64_t raw, int64_t *q)
{
	const struct tariff *t = c->segs[c->n_segs - 1].v->tariff;
	int64_t mult = c->in->multiplier ? c->in->multiplier : 1;
	int64_t v = raw;
	int rc;

	if (!t->round_unit) {
		if ((rc = money_mul(&v, mult)) == XQ_OK)
			*q = v;
		return rc;
	}
	return round_units(raw, mult, 1, q);
}

static int meter(struct calc *c)
{
	const struct billing_input *in = c->in;
	int64_t raw_sum = 0;
	int rc;

	for (int p = 0; p < TARIFF_PERIODS_MAX; p++)
		if (in->period_raw_milli[p] > 0)
			c->has_rates = 1;
	if (!c->has_rates)
		return meter_one(c, in->total_raw_milli, &c->total);
	for (int p = 0; p < TARIFF_PERIODS_MAX; p++) {
		if ((rc = money_add(&raw_sum, in->period_raw_milli[p])) ||
		    (rc = meter_one(c, in->period_raw_milli[p], &c->qty[p])) ||
		    (rc = money_add(&c->total, c->qty[p])))
			return rc;
	}
	if (in->total_raw_milli && in->total_raw_milli != raw_sum)
		return bad(c, "总电量与各时段电量之和不一致");
	return XQ_OK;
}

/* One segment per version in force on some day of the period. */
static int make_segments(struct calc *c)
{
	const struct billing_input *in = c->in;

	for (size_t i = 0; i < in->n_versions; i++) {
		const struct billing_version *v = &in->versions[i];
		int32_t from = v->effective_day > in->first_day ? v->effective_day : in->first_day;
		int32_t to = in->last_day;
		struct seg *s;

		if (i + 1 < in->n_versions && in->versions[i + 1].effective_day - 1 < to)
			to = in->versions[i + 1].effective_day - 1;
		if (from > to)
			continue;
		if (c->n_segs == BILLING_SEGMENTS_MAX)
			return bad(c, "计费期内的价格版本过多（最多 %d 个）", BILLING_SEGMENTS_MAX);
		s = &c->segs[c->n_segs++];
		memset(s, 0, sizeof(*s)); /* billing_compute() leaves segs[] uninitialised */
		s->v = v;
		s->first = from;
		s->last = to;
		s->cum_days = (int64_t)to - in->first_day + 1;
	}
	XQ_ASSERT(c->n_segs > 0); /* check_versions: versions[0] covers first_day */
	return XQ_OK;
}

/*
 * RULE: PRORATE-DAYS-01: q is split by calendar days. Segment i gets
 * R(q x D_i / D) - R(q x D_{i-1} / D), where D_i counts the days from the
 * period's start through segment i and R rounds half-up to whole units;
 * the last segment takes what is left. With two segments (the usual case)
 * that is exactly "the first gets round(q x days / D), the last the
 * remainder" (tariff-rules.md 6.5); the cumulative form keeps every part
 * >= 0 however many segments there are. Parts always add up to q.
 */
XQ_STATIC int billing_split_days(int64_t q, const int64_t *cum_days, size_t n,
				 int64_t period_days, int64_t *parts)
{
	int64_t prev = 0;

	for (size_t i = 0; i + 1 < n; i++) {
		int64_t upto;
		int rc = round_units(q, cum_days[i], period_days, &upto);

		if (rc)
			return rc;
		upto = min64(upto, q); /* only a fractional q can round past itself */
		parts[i] = upto - prev;
		prev = upto;
	}
	parts[n - 1] = q - prev;
	return XQ_OK;
}

/* Every register is split on its own; a segment's total is the sum of its parts. */
static int split_registers(struct calc *c)
{
	int64_t cum[BILLING_SEGMENTS_MAX], parts[BILLING_SEGMENTS_MAX];
	int rc;

	for (size_t i = 0; i < c->n_segs; i++)
		cum[i] = c->segs[i].cum_days;
	if (!c->has_rates) {
		if ((rc = billing_split_days(c->total, cum, c->n_segs, c->days, parts)))
			return rc;
		for (size_t i = 0; i < c->n_segs; i++)
			c->segs[i].total = parts[i];
		return XQ_OK;
	}
	for (int p = 0; p < TARIFF_PERIODS_MAX; p++) {
		if ((rc = billing_split_days(c->qty[p], cum, c->n_segs, c->days, parts)))
			return rc;
		for (size_t i = 0; i < c->n_segs; i++) {
			c->segs[i].qty[p] = parts[i];
			/* RULE: TOU-TOTAL-01: the periods' sum is what decides the tiers.
			 * Cannot overflow: these are parts of c->total. */
			c->segs[i].total += parts[i];
		}
	}
	return XQ_OK;
}

/* A TOU version needs rate registers, and only for periods it prices. */
static int check_registers(struct calc *c, const struct seg *s)
{
	const struct tariff *t = s->v->tariff;
	char d[16];

	if (t->tou_model == TARIFF_TOU_NONE)
		return XQ_OK;
	date_text(s->v->effective_day, d, sizeof(d));
	if (!c->has_rates)
		return c->total ? bad(c, "%s 起的分时电价需要各时段（尖峰、峰、平、谷）读数", d) : XQ_OK;
	for (int p = 0; p < TARIFF_PERIODS_MAX; p++)
		if (c->qty[p] && !t->periods[p].used)
			return bad(c, "读数含%s电量，但 %s 起的价格没有该时段",
				   tariff_period_label_zh((enum tariff_period)p), d);
	return XQ_OK;
}

/* ------------------------------------------------------------------ tier bounds */

/* RULE: TIER-SEASON-01: a season's bounds replace the tier bounds in its months. */
static const int64_t *base_bounds(const struct tariff *t, int month, int64_t *tmp)
{
	for (size_t s = 0; s < t->n_seasons; s++)
		if (t->seasons[s].months & (1u << month))
			return t->seasons[s].upto_milli;
	for (size_t k = 0; k + 1 < t->n_tiers; k++)
		tmp[k] = t->tiers[k].upto_milli;
	return tmp;
}

/* RULE: TIER-HOUSEHOLD-01: larger households get their bounds raised. */
static int household_add(const struct tariff *t, int size, size_t k, int64_t *b)
{
	const struct tariff_household *h = &t->household;
	int64_t add = h->add_milli[k];
	int rc;

	if (!h->min_size || size < h->min_size)
		return XQ_OK;
	if (h->per_person_over && (rc = money_mul(&add, size - h->per_person_over)))
		return rc;
	return money_add(b, add);
}

/*
 * RULE: PRORATE-BOUNDS-01: with a monthly basis and several price
 * segments, each segment is tiered on its own against the bound prorated
 * by days exactly like a quantity (PRORATE-DAYS-01), so the segments'
 * bounds add up to the monthly bound. Annual bounds are never prorated.
 */
static int prorate_bound(const struct calc *c, size_t i, int64_t *b)
{
	int64_t hi, lo = 0;
	int rc = round_units(*b, c->segs[i].cum_days, c->days, &hi);

	if (rc == XQ_OK && i > 0)
		rc = round_units(*b, c->segs[i - 1].cum_days, c->days, &lo);
	if (rc == XQ_OK)
		*b = hi - lo;
	return rc;
}

static int seg_bounds(struct calc *c, size_t i)
{
	struct seg *s = &c->segs[i];
	const struct tariff *t = s->v->tariff;
	const struct billing_input *in = c->in;
	int months = in->tier_year_months ? in->tier_year_months : 12;
	int64_t tmp[TARIFF_BOUNDS_MAX];
	const int64_t *base = base_bounds(t, in->bill_month, tmp);
	size_t nb = t->n_tiers - 1;
	int rc;

	for (size_t k = 0; k < nb; k++) {
		s->bounds[k] = base[k];
		if ((rc = household_add(t, in->household_size, k, &s->bounds[k])))
			return rc;
		/* RULE: TIER-PARTIAL-01: a partial tier year gets bounds x months / 12. */
		if (t->basis == TARIFF_ANNUAL && months < 12 &&
		    (rc = round_units(s->bounds[k], months, 12, &s->bounds[k])))
			return rc;
		if (t->basis == TARIFF_MONTHLY && c->n_segs > 1 && (rc = prorate_bound(c, i, &s->bounds[k])))
			return rc;
		/* Rounding tiny prorated bounds can reorder them; keep them monotone
		 * so that the portions still partition the quantity. */
		if (k > 0)
			s->bounds[k] = max64(s->bounds[k], s->bounds[k - 1]);
	}
	s->bounds[nb] = TARIFF_UNBOUNDED;
	return XQ_OK;
}

/*
 * RULE: TIER-INTERVAL-01: bounds are inclusive upper limits; a bill of q
 * starting at s puts max(0, min(s + q, b_k) - max(s, b_{k-1})) in tier k.
 * A bill ending exactly on a bound stays in the lower tier.
 */
static int tier_portions(struct seg *s, size_t n_tiers, int64_t start)
{
	int64_t end = start, lo = 0, sum = 0;
	int rc;

	if ((rc = money_add(&end, s->total)))
		return rc;
	for (size_t k = 0; k < n_tiers; k++) {
		int64_t from = max64(start, lo), to = min64(end, s->bounds[k]);

		s->portion[k] = to > from ? to - from : 0;
		sum += s->portion[k];
		lo = s->bounds[k];
	}
	XQ_ASSERT(sum == s->total);
	return XQ_OK;
}

/* ------------------------------------------------------------------ pricing by tariff kind */

static int price_tiers(struct calc *c, const struct seg *s)
{
	const struct tariff *t = s->v->tariff;
	int rc;

	for (size_t k = 0; k < t->n_tiers; k++) {
		struct line_spec ls = {
			"energy", t->n_tiers > 1 ? (int)k + 1 : 0, -1, "",
			t->n_tiers > 1 ? tier_zh[k] : "电费", s->portion[k], t->tiers[k].price_hao,
			"TIER-INTERVAL-01",
		};

		if (s->portion[k] && (rc = emit_priced(c, s, &ls)))
			return rc;
	}
	return XQ_OK;
}

/*
 * RULE: TOU-MODEL-A-01 / TOU-MODEL-C-01: every period at its base (tier-1)
 * price, then the tier-2+ kWh (decided on the total, RULE: TOU-TOTAL-01)
 * at the tier increment. Exact because the increment is the same in every
 * period, and it never splits kWh between periods. Model C is the same
 * with base = tier-1 price + adjustment and increment = tier price - tier-1
 * price.
 */
static int price_tou_uniform(struct calc *c, const struct seg *s)
{
	const struct tariff *t = s->v->tariff;
	const char *rule = t->tou_model == TARIFF_TOU_A ? "TOU-MODEL-A-01" : "TOU-MODEL-C-01";
	int rc;

	for (int p = 0; p < TARIFF_PERIODS_MAX; p++) {
		struct line_spec ls = {
			"energy", 0, p, "", tariff_period_label_zh((enum tariff_period)p), s->qty[p],
			tariff_price_hao(t, 0, (enum tariff_period)p), rule,
		};

		if (t->periods[p].used && s->qty[p] && (rc = emit_priced(c, s, &ls)))
			return rc;
	}
	for (size_t k = 1; k < t->n_tiers; k++) {
		/* RULE: TOU-MODEL-C-01: C's increment is its tier price less tier 1's. */
		int64_t inc = t->tou_model == TARIFF_TOU_A ? t->tiers[k].increment_hao
			: t->tiers[k].price_hao - t->tiers[0].price_hao;
		struct line_spec ls = { "energy", (int)k + 1, -1, "", tier_inc_zh[k], s->portion[k], inc,
					rule };

		if (s->portion[k] && inc && (rc = emit_priced(c, s, &ls)))
			return rc;
	}
	return XQ_OK;
}

/*
 * RULE: TOU-MODEL-B-01: with a per-tier, per-period price table the tier
 * portions must be shared out over the periods. Each tier below the last
 * non-empty one is split over the periods in proportion to what each
 * period still has left (at the start: the period's kWh), by the largest
 * remainder (APPORTION-LRM-01), in whole kWh whenever the numbers are whole
 * kWh; the last non-empty tier takes what is left of every period. Rows add
 * up to the tier portions, columns to the period registers, and no cell
 * goes negative (a fixed "proportional to the original kWh" split can).
 */
static int split_tiers(const struct tariff *t, const struct seg *s,
		       int64_t x[TARIFF_TIERS_MAX][TARIFF_PERIODS_MAX])
{
	int64_t left[TARIFF_PERIODS_MAX], w[TARIFF_PERIODS_MAX], share[TARIFF_PERIODS_MAX];
	int idx[TARIFF_PERIODS_MAX];
	size_t np = 0, last = 0;
	int rc;

	for (int p = 0; p < TARIFF_PERIODS_MAX; p++) {
		if (!t->periods[p].used)
			continue;
		idx[np] = p;
		left[np++] = s->qty[p];
	}
	for (size_t k = 0; k < t->n_tiers; k++)
		if (s->portion[k])
			last = k;
	for (size_t k = 0; k < last; k++) {
		int64_t g = TARIFF_UNIT_MILLI;

		if (!s->portion[k])
			continue;
		for (size_t j = 0; j < np; j++)
			if (left[j] % g)
				g = 1;
		if (s->portion[k] % g)
			g = 1;
		for (size_t j = 0; j < np; j++)
			w[j] = left[j] / g;
		if ((rc = billing_apportion(s->portion[k] / g, w, np, share)))
			return rc;
		for (size_t j = 0; j < np; j++) {
			x[k][idx[j]] = share[j] * g;
			left[j] -= share[j] * g;
		}
	}
	for (size_t j = 0; j < np; j++)
		x[last][idx[j]] = left[j];
	return XQ_OK;
}

static int price_tou_table(struct calc *c, const struct seg *s)
{
	const struct tariff *t = s->v->tariff;
	int64_t x[TARIFF_TIERS_MAX][TARIFF_PERIODS_MAX] = { { 0 } };
	char name[48];
	int rc;

	if ((rc = split_tiers(t, s, x)))
		return rc;
	for (size_t k = 0; k < t->n_tiers; k++)
		for (int p = 0; p < TARIFF_PERIODS_MAX; p++) {
			const char *pz = tariff_period_label_zh((enum tariff_period)p);
			struct line_spec ls = {
				"energy", t->n_tiers > 1 ? (int)k + 1 : 0, p, "", name, x[k][p],
				t->tiers[k].period_price_hao[p], "TOU-MODEL-B-01",
			};

			if (!x[k][p])
				continue;
			if (t->n_tiers > 1)
				join2(name, sizeof(name), tier_zh[k], pz);
			else
				field_set(name, sizeof(name), pz);
			if ((rc = emit_priced(c, s, &ls)))
				return rc;
		}
	return XQ_OK;
}

/*
 * RULE: WATER-COMPONENT-01: every component is priced on the same tier
 * portions; a tiered component has a line per tier, a flat one a single
 * line on the segment's whole volume.
 */
static int price_water(struct calc *c, const struct seg *s)
{
	const struct tariff *t = s->v->tariff;
	char name[96];
	int rc;

	for (size_t i = 0; i < t->n_components; i++) {
		const struct tariff_component *cp = &t->components[i];
		size_t n = cp->tiered ? t->n_tiers : 1;

		for (size_t k = 0; k < n; k++) {
			int tiered = cp->tiered && t->n_tiers > 1;
			struct line_spec ls = {
				"component", tiered ? (int)k + 1 : 0, -1, cp->name, name,
				cp->tiered ? s->portion[k] : s->total, cp->price_hao[k],
				"WATER-COMPONENT-01",
			};

			if (tiered)
				join2(name, sizeof(name), tier_zh[k], cp->label);
			else
				field_set(name, sizeof(name), cp->label);
			if (ls.qty && (rc = emit_priced(c, s, &ls)))
				return rc;
		}
	}
	return XQ_OK;
}

static int price_segment(struct calc *c, size_t i, int64_t *running)
{
	struct seg *s = &c->segs[i];
	const struct tariff *t = s->v->tariff;
	/* RULE: TIER-ANNUAL-01: annual tiers continue the tier-year counter
	 * (ytd_before, then each earlier segment); RULE: TIER-MONTHLY-01:
	 * monthly tiers start every bill (segment) at 0. */
	int64_t start = t->basis == TARIFF_ANNUAL ? *running : 0;
	int rc;

	if ((rc = check_registers(c, s)) || (rc = seg_bounds(c, i)) ||
	    (rc = tier_portions(s, t->n_tiers, start)))
		return rc;
	if (t->utility == TARIFF_WATER)
		rc = price_water(c, s);
	else if (t->tou_model == TARIFF_TOU_B)
		rc = price_tou_table(c, s);
	else if (t->tou_model != TARIFF_TOU_NONE)
		rc = price_tou_uniform(c, s);
	else
		rc = price_tiers(c, s);
	return rc ? rc : money_add(running, s->total);
}

/* ------------------------------------------------------------------ zero use, fixed charges */

/* RULE: ZERO-USE-01: a bill with no use still says so, as one 0.00 line. */
static void zero_use_line(struct calc *c)
{
	const struct seg *s = &c->segs[c->n_segs - 1];
	int water = s->v->tariff->utility == TARIFF_WATER;
	struct bill_line *l = new_line(c, water ? "component" : "energy", "ZERO-USE-01");

	l->version_id = s->v->version_id;
	l->seg_first_day = c->segs[0].first;
	l->seg_last_day = s->last;
	field_set(l->label_zh, sizeof(l->label_zh),
		  water ? "本期用水量 0.00 m³，水费 0.00 元" : "本期用电量 0.00 kWh，电费 0.00 元");
}

/* One fixed charge over the days its (name, label, amount) was in force. */
struct fixed_acc {
	const struct tariff_fixed *f;
	int64_t days;
	int32_t first, last;
	int64_t version_id;
};

static size_t collect_fixed(const struct calc *c, struct fixed_acc *acc)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n_segs; i++) {
		const struct seg *s = &c->segs[i];
		const struct tariff *t = s->v->tariff;

		for (size_t j = 0; j < t->n_fixed; j++) {
			const struct tariff_fixed *f = &t->fixed[j];
			size_t a;

			for (a = 0; a < n; a++)
				if (strcmp(acc[a].f->name, f->name) == 0 && acc[a].f->amount_fen == f->amount_fen &&
				    strcmp(acc[a].f->label, f->label) == 0)
					break;
			if (a == n)
				acc[n++] = (struct fixed_acc){ f, 0, s->first, s->last, 0 };
			acc[a].days += s->last - s->first + 1;
			acc[a].last = s->last;
			acc[a].version_id = s->v->version_id;
		}
	}
	return n;
}

/*
 * RULE: FIXED-CHARGE-01: a fixed charge is billed once per bill, in full,
 * when it is the same over the whole period. RULE: FIXED-PRORATE-01: when
 * a price change adds, drops or changes it inside the period, each amount
 * is charged for the days it was in force: amount x days / D, rounded
 * half-up once per line.
 */
static int fixed_lines(struct calc *c)
{
	struct fixed_acc acc[FIXED_ACC_MAX];
	size_t n = collect_fixed(c, acc);
	int rc;

	for (size_t a = 0; a < n; a++) {
		const struct fixed_acc *fa = &acc[a];
		int full = fa->days == c->days;
		struct bill_line *l = new_line(c, "fixed", full ? "FIXED-CHARGE-01" : "FIXED-PRORATE-01");
		struct lbuf b;

		l->version_id = fa->version_id;
		l->seg_first_day = fa->first;
		l->seg_last_day = fa->last;
		field_set(l->component, sizeof(l->component), fa->f->name);
		lb_init(&b, l->label_zh, sizeof(l->label_zh));
		rc = XQ_OK;
		if (full) {
			l->amount_fen = fa->f->amount_fen;
			lb_str(&b, fa->f->label);
			LB_LIT(&b, " ");
			lb_num(&b, money_put_yuan, fa->f->amount_fen);
			LB_LIT(&b, " 元");
		} else if ((rc = money_muldiv_round(fa->f->amount_fen, fa->days, c->days, &l->amount_fen)) == XQ_OK) {
			/* "<prefix><label> 4.00 元/月 × 10/30 天 = 1.33 元" */
			seg_prefix(c, fa->first, fa->last, &b);
			lb_str(&b, fa->f->label);
			LB_LIT(&b, " ");
			lb_num(&b, money_put_yuan, fa->f->amount_fen);
			LB_LIT(&b, " 元/月 × ");
			lb_int(&b, fa->days);
			LB_LIT(&b, "/");
			lb_int(&b, c->days);
			LB_LIT(&b, " 天 = ");
			lb_num(&b, money_put_yuan, l->amount_fen);
			LB_LIT(&b, " 元");
		}
		if (rc == XQ_OK && b.over) {
			l->label_zh[0] = '\0';
			rc = XQ_EOVERFLOW;
		}
		if (rc || (rc = money_add(&c->out->total_fen, l->amount_fen)))
			return rc;
	}
	return XQ_OK;
}

/* ------------------------------------------------------------------ the bill */

int billing_compute(const struct billing_input *in, struct billing_result *out, char *err,
		    size_t errlen)
{
	struct calc c;
	int64_t running;
	int rc;

	/* Everything but segs[] (~5 KB, filled by make_segments()): zeroing it
	 * all was a quarter of the engine's time. */
	memset(&c, 0, offsetof(struct calc, segs));
	c.in = in;
	c.out = out;
	c.err = err;
	c.errlen = errlen;
	if (err && errlen)
		err[0] = '\0';
	memset(out, 0, sizeof(*out));
	if (!in)
		return bad(&c, "没有计费输入");
	if ((rc = check_input(&c)) || (rc = make_segments(&c)) || (rc = meter(&c)) ||
	    (rc = split_registers(&c)))
		goto out;
	running = in->ytd_before_milli;
	for (size_t i = 0; i < c.n_segs; i++)
		if ((rc = price_segment(&c, i, &running)))
			goto out;
	if (c.total == 0)
		zero_use_line(&c);
	if ((rc = fixed_lines(&c)))
		goto out;
	out->qty_milli = c.total;
	out->ytd_after_milli = running;
out:
	if (rc)
		billing_result_release(out);
	return rc;
}

void billing_result_release(struct billing_result *r)
{
	if (!r)
		return;
	free(r->lines);
	memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------------ apportionment */

struct remainder {
	int64_t r;
	size_t i;
};

/* Largest remainder first; equal remainders: lower index first. */
static int remainder_cmp(const void *a, const void *b)
{
	const struct remainder *x = a, *y = b;

	if (x->r != y->r)
		return x->r > y->r ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

int billing_apportion(int64_t total, const int64_t *weights, size_t n, int64_t *out)
{
	struct remainder *rem;
	int64_t wsum = 0, given = 0;

	if (!weights || !out || n == 0 || total < 0)
		return XQ_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (weights[i] < 0)
			return XQ_EINVAL;
		if (money_add(&wsum, weights[i]))
			return XQ_EOVERFLOW;
	}
	if (wsum == 0)
		return XQ_EINVAL;
	/* RULE: APPORTION-LRM-01 */
	rem = xq_calloc(n, sizeof(*rem));
	for (size_t i = 0; i < n; i++) {
		__int128 exact = (__int128)total * weights[i];

		out[i] = (int64_t)(exact / wsum); /* <= total */
		rem[i].r = (int64_t)(exact % wsum);
		rem[i].i = i;
		given += out[i];
	}
	qsort(rem, n, sizeof(*rem), remainder_cmp);
	/* total - given < n, and only non-zero remainders can be reached. */
	for (size_t k = 0; given < total; k++, given++)
		out[rem[k].i]++;
	free(rem);
	return XQ_OK;
}

/* ------------------------------------------------------------------ late fees */

/* acc += principal x rate x days, all exact in 128 bits. */
static int accrue(__int128 *acc, int64_t principal, int64_t rate, int64_t days)
{
	__int128 term;

	if (__builtin_mul_overflow((__int128)principal * rate, (__int128)days, &term) ||
	    __builtin_add_overflow(*acc, term, acc))
		return XQ_EOVERFLOW;
	return XQ_OK;
}

int billing_late_fee(int64_t principal_fen, int64_t rate_ppm_per_day, int64_t days, int64_t *fen)
{
	__int128 acc = 0;
	int rc;

	if (principal_fen < 0 || rate_ppm_per_day < 0 || days < 0 || !fen)
		return XQ_EINVAL;
	/* RULE: LATEFEE-DAILY-01: exact accrual, one half-up rounding at the end. */
	if ((rc = accrue(&acc, principal_fen, rate_ppm_per_day, days)))
		return rc;
	return money_round_fen(acc, 1000000, fen);
}

int billing_late_fee_policy(const struct tariff_late_fee *policy, const struct billing_arrear *a,
			    size_t n, int64_t *fen)
{
	__int128 acc = 0;
	int64_t principal = 0, fee, cap;
	int rc;

	if (!policy || !fen || (!a && n) || policy->rate_ppm_per_day < 0 || policy->grace_days < 0 ||
	    policy->minimum_fen < 0 || policy->cap_pct < 0)
		return XQ_EINVAL;
	/* RULE: LATEFEE-SEGMENTS-01: each portion accrues only while it is unpaid. */
	for (size_t i = 0; i < n; i++) {
		if (a[i].principal_fen < 0 || a[i].days < 0)
			return XQ_EINVAL;
		if ((rc = accrue(&acc, a[i].principal_fen, policy->rate_ppm_per_day,
				 max64(0, a[i].days - policy->grace_days))) ||
		    (rc = money_add(&principal, a[i].principal_fen)))
			return rc;
	}
	if ((rc = money_round_fen(acc, 1000000, &fee)))
		return rc;
	/* RULE: LATEFEE-MIN-01 */
	if (fee > 0 && fee < policy->minimum_fen)
		fee = policy->minimum_fen;
	/* RULE: LATEFEE-CAP-01 */
	if (policy->cap_pct) {
		if ((rc = money_muldiv_round(principal, policy->cap_pct, 100, &cap)))
			return rc;
		fee = min64(fee, cap);
	}
	*fen = fee;
	return XQ_OK;
}

/* 1000 -> "1‰", 500 -> "0.5‰", 1250 -> "1.25‰". */
static void permille_text(int64_t ppm, char *buf, size_t n)
{
	char frac[8];
	size_t len;

	if (ppm % 1000 == 0) {
		xq_snprintf(buf, n, "%" PRId64 "‰", ppm / 1000);
		return;
	}
	xq_snprintf(frac, sizeof(frac), "%03" PRId64, ppm % 1000);
	for (len = strlen(frac); frac[len - 1] == '0'; len--)
		frac[len - 1] = '\0';
	xq_snprintf(buf, n, "%" PRId64 ".%s‰", ppm / 1000, frac);
}

int billing_late_fee_line(const struct tariff_late_fee *policy, int64_t principal_fen,
			  int64_t overdue_days, struct bill_line *out)
{
	struct billing_arrear a = { principal_fen, overdue_days };
	char p[MONEY_STR_MAX], f[MONEY_STR_MAX], raw_s[MONEY_STR_MAX], m[MONEY_STR_MAX], rate[32];
	int64_t fee, raw, days;
	int rc, min_applied, cap_applied;

	if (!out)
		return XQ_EINVAL;
	if ((rc = billing_late_fee_policy(policy, &a, 1, &fee)))
		return rc;
	/* The same steps again, only to say in words which of them changed the fee. */
	days = max64(0, overdue_days - policy->grace_days);
	if ((rc = billing_late_fee(principal_fen, policy->rate_ppm_per_day, days, &raw)))
		return rc;
	min_applied = raw > 0 && raw < policy->minimum_fen;
	cap_applied = fee < (min_applied ? policy->minimum_fen : raw);
	memset(out, 0, sizeof(*out));
	xq_snprintf(out->kind, sizeof(out->kind), "late_fee");
	xq_snprintf(out->rule, sizeof(out->rule), "%s",
		    cap_applied ? "LATEFEE-CAP-01" : min_applied ? "LATEFEE-MIN-01" : "LATEFEE-DAILY-01");
	out->amount_fen = fee;
	money_format_yuan(principal_fen, p, sizeof(p));
	money_format_yuan(raw, raw_s, sizeof(raw_s));
	money_format_yuan(fee, f, sizeof(f));
	money_format_yuan(policy->minimum_fen, m, sizeof(m));
	permille_text(policy->rate_ppm_per_day, rate, sizeof(rate));
	rc = label_add(out->label_zh, sizeof(out->label_zh), "违约金 %s 元 × %s × %" PRId64 " 天",
		       p, rate, days);
	if (!rc && policy->grace_days)
		rc = label_add(out->label_zh, sizeof(out->label_zh), "（逾期 %" PRId64 " 天，宽限 %" PRId64 " 天）",
			       overdue_days, policy->grace_days);
	if (!rc)
		rc = label_add(out->label_zh, sizeof(out->label_zh), " = %s 元", raw_s);
	if (!rc && min_applied)
		rc = label_add(out->label_zh, sizeof(out->label_zh), "，不足 %s 元按 %s 元计", m, m);
	if (!rc && cap_applied)
		rc = label_add(out->label_zh, sizeof(out->label_zh), "，以本金的 %" PRId64 "%% 为上限，计 %s 元",
			       policy->cap_pct, f);
	return rc;
}
