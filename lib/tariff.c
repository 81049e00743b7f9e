/*
 * tariff.c - parse, validate and canonically write one tariff version
 * (format in tariff.h and docs/tariff-format.md). Every rejection names
 * the JSON path in Chinese, because the person who reads it is the staff
 * member who typed the prices. Deliberately not here: any pricing of
 * quantities (billing.c), any I/O, and binary floating point - JSON
 * numbers are read back from cJSON's own integer text, prices are strings.
 */
#include "tariff.h"
#include "money.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_ 96

/* NULL-terminated so it doubles as a key list for check_object() and get_enum(). */
static const char *const period_names[TARIFF_PERIODS_MAX + 1] = { "sharp", "peak", "flat", "valley",
								  NULL };
static const char *const period_labels[TARIFF_PERIODS_MAX] = { "尖峰", "峰时", "平时", "谷时" };

/* Parse state: where a failure message goes. */
struct pctx {
	char *err;
	size_t errlen;
	const struct tariff *t; /* the tariff being filled, for utility/model */
};

/* ------------------------------------------------------------------ helpers */

/* Cuts s so that it does not end inside a UTF-8 sequence. */
static void utf8_trim_tail(char *s)
{
	size_t len = strlen(s), i = len, need;
	unsigned char c;

	while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80 && len - i < 3)
		i--;
	if (i == 0)
		return;
	c = (unsigned char)s[i - 1];
	need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
	if (i - 1 + need > len)
		s[i - 1] = '\0';
}

static int fail(struct pctx *c, const char *fmt, ...) XQ_PRINTF(2, 3);

/* Writes the message (truncated on a character boundary) and returns XQ_EINVAL. */
static int fail(struct pctx *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!c->err || c->errlen == 0)
		return XQ_EINVAL;
	va_start(ap, fmt);
	n = vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	if (n < 0)
		c->err[0] = '\0';
	else if ((size_t)n >= c->errlen)
		utf8_trim_tail(c->err);
	return XQ_EINVAL;
}

/* Joins "path" and "key" into buf ("tiers[1]" + "price" -> "tiers[1].price"). */
static const char *join(char *buf, const char *path, const char *key)
{
	xq_snprintf(buf, PATH_MAX_, "%s%s%s", path, *path ? "." : "", key);
	return buf;
}

static const char *at(char *buf, const char *path, size_t i)
{
	xq_snprintf(buf, PATH_MAX_, "%s[%zu]", path, i);
	return buf;
}

/* Valid UTF-8 without control characters; returns the character count or -1. */
static long utf8_chars(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	long n = 0;

	while (*p) {
		unsigned c = *p++, cp, extra;

		if (c < 0x20 || c == 0x7F)
			return -1;
		if (c < 0x80) {
			n++;
			continue;
		}
		extra = (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 0;
		if (!extra)
			return -1;
		cp = c & (0x3Fu >> extra);
		for (unsigned i = 0; i < extra; i++, p++) {
			if ((*p & 0xC0) != 0x80)
				return -1;
			cp = (cp << 6) | (*p & 0x3Fu);
		}
		if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) ||
		    (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
			return -1;
		n++;
	}
	return n;
}

/* A user-supplied key, shortened for quoting in a message. */
static const char *clip(const char *s, char *buf, size_t n)
{
	xq_snprintf(buf, n, "%.*s", (int)(n - 1 < strlen(s) ? n - 1 : strlen(s)), s);
	utf8_trim_tail(buf);
	return buf;
}

/*
 * obj must be an object whose keys are all in allowed (NULL-terminated),
 * none repeated. cJSON keeps duplicates and lookups see only the first, so
 * a repeated key would silently ignore what the author typed second.
 */
static int check_object(struct pctx *c, const cJSON *obj, const char *path,
			const char *const *allowed)
{
	char kb[48], kb2[48];

	if (!cJSON_IsObject(obj))
		return *path ? fail(c, "%s 必须是对象", path) : fail(c, "价格规则必须是 JSON 对象");
	for (const cJSON *it = obj->child; it; it = it->next) {
		size_t i;

		for (i = 0; allowed[i]; i++)
			if (strcmp(it->string, allowed[i]) == 0)
				break;
		if (!allowed[i])
			return fail(c, "%s%s%s 是未知字段", path, *path ? "." : "",
				    clip(it->string, kb, sizeof(kb)));
		for (const cJSON *jt = obj->child; jt != it; jt = jt->next)
			if (strcmp(jt->string, it->string) == 0)
				return fail(c, "%s%s%s 重复出现", path, *path ? "." : "",
					    clip(it->string, kb2, sizeof(kb2)));
	}
	return XQ_OK;
}

static const cJSON *get(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/*
 * A JSON integer in [min, max]. cJSON keeps numbers only in binary
 * floating point; asking cJSON to print the number gives its shortest exact
 * text, which is plain digits exactly when the value is an integer, so the
 * value is read from that text and nothing here touches a fraction.
 */
static int get_int(struct pctx *c, const cJSON *item, const char *path, int64_t min,
		   int64_t max, int64_t *out)
{
	char text[64];
	int64_t v;

	if (!cJSON_IsNumber(item) ||
	    !cJSON_PrintPreallocated((cJSON *)item, text, (int)sizeof(text), 0) ||
	    xq_parse_i64(text, &v) != XQ_OK)
		return fail(c, "%s 必须是整数", path);
	if (v < min || v > max)
		return fail(c, "%s 必须在 %" PRId64 " 到 %" PRId64 " 之间", path, min, max);
	*out = v;
	return XQ_OK;
}

static int get_small(struct pctx *c, const cJSON *item, const char *path, int min, int max,
		     int *out)
{
	int64_t v;
	int rc = get_int(c, item, path, min, max, &v);

	if (rc == XQ_OK)
		*out = (int)v;
	return rc;
}

/* A whole number of kWh or m³ in 0..TARIFF_QTY_MAX_UNITS, stored in milli. */
static int get_units(struct pctx *c, const cJSON *item, const char *path, int64_t *milli)
{
	int64_t v;
	int rc = get_int(c, item, path, 0, TARIFF_QTY_MAX_UNITS, &v);

	if (rc == XQ_OK)
		*milli = v * TARIFF_UNIT_MILLI;
	return rc;
}

/* A price string in yuan, min_hao..TARIFF_PRICE_MAX_HAO. */
static int get_price(struct pctx *c, const cJSON *item, const char *path, int64_t min_hao,
		     int64_t *hao)
{
	int64_t v;
	int rc;

	if (!cJSON_IsString(item))
		return fail(c, "%s 必须是字符串形式的价格（元），如 \"0.4883\"", path);
	rc = money_parse_price(item->valuestring, &v);
	if (rc == XQ_EINVAL)
		return fail(c, "%s 不是有效的价格：最多 4 位小数，如 \"0.4883\"", path);
	if (rc == XQ_EOVERFLOW || v > TARIFF_PRICE_MAX_HAO)
		return fail(c, "%s 不能超过 100 元", path);
	if (v < min_hao)
		return min_hao == 0 ? fail(c, "%s 不能为负数", path) : fail(c, "%s 不能低于 -100 元", path);
	*hao = v;
	return XQ_OK;
}

/* An amount string in yuan, 0..max_fen. */
static int get_amount(struct pctx *c, const cJSON *item, const char *path, int64_t max_fen,
		      int64_t *fen)
{
	char maxs[MONEY_STR_MAX];
	int64_t v;
	int rc;

	if (!cJSON_IsString(item))
		return fail(c, "%s 必须是字符串形式的金额（元），如 \"5.00\"", path);
	rc = money_parse_yuan(item->valuestring, &v);
	if (rc == XQ_EINVAL)
		return fail(c, "%s 不是有效的金额：最多 2 位小数，如 \"5.00\"", path);
	money_format_yuan(max_fen, maxs, sizeof(maxs));
	if (rc == XQ_EOVERFLOW || v > max_fen)
		return fail(c, "%s 不能超过 %s 元", path, maxs);
	if (v < 0)
		return fail(c, "%s 不能为负数", path);
	*fen = v;
	return XQ_OK;
}

/* A string that must be one of values (NULL-terminated); *idx its index. */
static int get_enum(struct pctx *c, const cJSON *item, const char *path,
		    const char *const *values, int *idx)
{
	char list[96] = "";

	if (cJSON_IsString(item))
		for (int i = 0; values[i]; i++)
			if (strcmp(item->valuestring, values[i]) == 0) {
				*idx = i;
				return XQ_OK;
			}
	/* The value lists are ours and short; xq_snprintf asserts they fit. */
	for (int i = 0; values[i]; i++) {
		size_t len = strlen(list);

		xq_snprintf(list + len, sizeof(list) - len, "%s%s", i ? "、" : "", values[i]);
	}
	return fail(c, "%s 必须是 %s 之一", path, list);
}

static int get_array(struct pctx *c, const cJSON *item, const char *path, size_t min,
		     size_t max, size_t *n)
{
	int size;

	if (!cJSON_IsArray(item))
		return fail(c, "%s 必须是数组", path);
	size = cJSON_GetArraySize(item);
	if ((size_t)size < min || (size_t)size > max)
		return min == max ? fail(c, "%s 必须正好有 %zu 项", path, min)
				  : fail(c, "%s 必须有 %zu 到 %zu 项", path, min, max);
	*n = (size_t)size;
	return XQ_OK;
}

static int required(struct pctx *c, const cJSON *item, const char *path)
{
	return item ? XQ_OK : fail(c, "%s 缺失", path);
}

/* Machine name: [a-z][a-z0-9_]{0,14}. */
static int get_name(struct pctx *c, const cJSON *item, const char *path, char *out)
{
	const char *s = cJSON_IsString(item) ? item->valuestring : NULL;
	size_t len = s ? strlen(s) : 0;

	if (!s || len == 0 || len >= TARIFF_NAME_MAX || s[0] < 'a' || s[0] > 'z' ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") != len)
		return fail(c, "%s 必须是 1 到 15 个小写字母、数字或下划线，并以字母开头", path);
	memcpy(out, s, len + 1);
	return XQ_OK;
}

/* What a resident reads: 1..16 characters of UTF-8. */
static int get_label(struct pctx *c, const cJSON *item, const char *path, char *out)
{
	const char *s = cJSON_IsString(item) ? item->valuestring : NULL;
	long chars = s ? utf8_chars(s) : -1;

	if (chars < 1 || chars > 16 || strlen(s) >= TARIFF_LABEL_MAX)
		return fail(c, "%s 必须是 1 到 16 个字的文字", path);
	memcpy(out, s, strlen(s) + 1);
	return XQ_OK;
}

/* ------------------------------------------------------------------ tiers */

static const char *unit_key(const struct tariff *t, const char *prefix, char *buf)
{
	xq_snprintf(buf, 16, "%s_%s", prefix, t->utility == TARIFF_WATER ? "m3" : "kwh");
	return buf;
}

/* Model B: tiers[i].prices is {period: price} over exactly the used periods. */
static int parse_tier_prices(struct pctx *c, const cJSON *obj, const char *path,
			     struct tariff_tier *tier)
{
	const struct tariff *t = c->t;
	char p[PATH_MAX_], kb[48];

	int rc;

	if (!cJSON_IsObject(obj))
		return fail(c, "%s 必须是对象，如 {\"peak\": \"0.617\", \"valley\": \"0.307\"}", path);
	if ((rc = check_object(c, obj, path, period_names)))
		return rc;
	for (const cJSON *it = obj->child; it; it = it->next) {
		int k;

		for (k = 0; k < TARIFF_PERIODS_MAX; k++)
			if (t->periods[k].used && strcmp(it->string, period_names[k]) == 0)
				break;
		if (k == TARIFF_PERIODS_MAX)
			return fail(c, "%s.%s 不是 tou.periods 中的时段", path,
				    clip(it->string, kb, sizeof(kb)));
	}
	for (int k = 0; k < TARIFF_PERIODS_MAX; k++) {
		const cJSON *v;

		if (!t->periods[k].used)
			continue;
		v = get(obj, period_names[k]);
		join(p, path, period_names[k]);
		if ((rc = required(c, v, p)) || (rc = get_price(c, v, p, 0, &tier->period_price_hao[k])))
			return rc;
	}
	return XQ_OK;
}

/* The price part of one electric tier, by TOU model. */
static int parse_tier_price(struct pctx *c, const cJSON *obj, const char *path, size_t i,
			    struct tariff_tier *tier)
{
	char p[PATH_MAX_];
	const cJSON *v;
	int rc;

	switch (c->t->tou_model) {
	case TARIFF_TOU_A:
		v = get(obj, "increment");
		join(p, path, "increment");
		if (!v && i == 0)
			return XQ_OK;
		if ((rc = required(c, v, p)) || (rc = get_price(c, v, p, 0, &tier->increment_hao)))
			return rc;
		if (i == 0 && tier->increment_hao != 0)
			return fail(c, "%s 必须为 0：第一档按各时段基础价计费", p);
		return XQ_OK;
	case TARIFF_TOU_B:
		v = get(obj, "prices");
		join(p, path, "prices");
		return (rc = required(c, v, p)) ? rc : parse_tier_prices(c, v, p, tier);
	default:
		v = get(obj, "price");
		join(p, path, "price");
		return (rc = required(c, v, p)) ? rc : get_price(c, v, p, 0, &tier->price_hao);
	}
}

/* RULE: TIER-INTERVAL-01 needs bounds 0 < b1 < b2 < ... ; the last tier is open. */
static int parse_tier(struct pctx *c, const cJSON *obj, size_t i, size_t n, struct tariff *t)
{
	static const char *const price_key[] = { "price", "increment", "prices", "price" };
	const char *allowed[3] = { NULL, NULL, NULL };
	char path[PATH_MAX_], p[PATH_MAX_], uk[16];
	struct tariff_tier *tier = &t->tiers[i];
	const cJSON *b;
	int rc;

	at(path, "tiers", i);
	allowed[0] = unit_key(t, "upto", uk);
	if (t->utility == TARIFF_ELECTRIC)
		allowed[1] = price_key[t->tou_model];
	if ((rc = check_object(c, obj, path, allowed)))
		return rc;
	b = get(obj, uk);
	join(p, path, uk);
	if (i + 1 == n) {
		if (b)
			return fail(c, "%s 必须省略：最后一档没有上限", p);
		tier->upto_milli = TARIFF_UNBOUNDED;
	} else {
		if (!b)
			return fail(c, "%s 缺失：除最后一档外每档都要有上限", p);
		if ((rc = get_units(c, b, p, &tier->upto_milli)))
			return rc;
		if (tier->upto_milli == 0)
			return fail(c, "%s 必须大于 0", p);
		if (i > 0 && tier->upto_milli <= t->tiers[i - 1].upto_milli)
			return fail(c, "%s 必须大于上一档", p);
	}
	return t->utility == TARIFF_ELECTRIC ? parse_tier_price(c, obj, path, i, tier) : XQ_OK;
}

static int parse_tiers(struct pctx *c, const cJSON *arr, struct tariff *t)
{
	int rc;

	if ((rc = required(c, arr, "tiers")) ||
	    (rc = get_array(c, arr, "tiers", 1, TARIFF_TIERS_MAX, &t->n_tiers)))
		return rc;
	for (size_t i = 0; i < t->n_tiers; i++)
		if ((rc = parse_tier(c, cJSON_GetArrayItem(arr, (int)i), i, t->n_tiers, t)))
			return rc;
	return XQ_OK;
}

/* A list of n_tiers - 1 bounds (seasons) or allowances (household). */
static int parse_bound_list(struct pctx *c, const cJSON *arr, const char *path,
			    const struct tariff *t, int increasing, int64_t *out)
{
	char p[PATH_MAX_];
	size_t n;
	int rc;

	if ((rc = required(c, arr, path)) ||
	    (rc = get_array(c, arr, path, t->n_tiers - 1, t->n_tiers - 1, &n)))
		return rc;
	for (size_t k = 0; k < n; k++) {
		at(p, path, k);
		if ((rc = get_units(c, cJSON_GetArrayItem(arr, (int)k), p, &out[k])))
			return rc;
		if (increasing && out[k] == 0)
			return fail(c, "%s 必须大于 0", p);
		if (increasing && k > 0 && out[k] <= out[k - 1])
			return fail(c, "%s 必须大于上一档", p);
	}
	return XQ_OK;
}

/* ------------------------------------------------------------------ seasons, household */

static int parse_season(struct pctx *c, const cJSON *obj, size_t i, struct tariff *t,
			unsigned *seen)
{
	char path[PATH_MAX_], p[PATH_MAX_], q[PATH_MAX_], uk[16];
	const char *allowed[] = { "months", unit_key(t, "upto", uk), NULL };
	struct tariff_season *s = &t->seasons[i];
	const cJSON *months = NULL;
	size_t n;
	int rc;

	at(path, "seasons", i);
	if ((rc = check_object(c, obj, path, allowed)))
		return rc;
	months = get(obj, "months");
	join(p, path, "months");
	if ((rc = required(c, months, p)) || (rc = get_array(c, months, p, 1, 12, &n)))
		return rc;
	for (size_t k = 0; k < n; k++) {
		int m;

		at(q, p, k);
		if ((rc = get_small(c, cJSON_GetArrayItem(months, (int)k), q, 1, 12, &m)))
			return rc;
		if (*seen & (1u << m))
			return fail(c, "%s 的 %d 月已出现在前面的季节中", q, m);
		*seen |= 1u << m;
		s->months |= 1u << m;
	}
	join(p, path, uk);
	return parse_bound_list(c, get(obj, uk), p, t, 1, s->upto_milli);
}

static int parse_seasons(struct pctx *c, const cJSON *arr, struct tariff *t)
{
	unsigned seen = 0;
	int rc;

	if (!arr)
		return XQ_OK;
	if (t->basis != TARIFF_MONTHLY)
		return fail(c, "seasons 只用于 basis 为 monthly 的价格");
	if (t->n_tiers < 2)
		return fail(c, "seasons 需要至少两档");
	if ((rc = get_array(c, arr, "seasons", 1, TARIFF_SEASONS_MAX, &t->n_seasons)))
		return rc;
	for (size_t i = 0; i < t->n_seasons; i++)
		if ((rc = parse_season(c, cJSON_GetArrayItem(arr, (int)i), i, t, &seen)))
			return rc;
	return XQ_OK;
}

/* Bounds + allowance must still increase, for the tier bounds and each season's. */
static int check_household_order(struct pctx *c, const struct tariff *t, const char *key)
{
	const struct tariff_household *h = &t->household;

	for (size_t s = 0; s <= t->n_seasons; s++) {
		const int64_t *b = NULL;
		int64_t tb[TARIFF_BOUNDS_MAX];

		if (s == t->n_seasons) {
			for (size_t k = 0; k + 1 < t->n_tiers; k++)
				tb[k] = t->tiers[k].upto_milli;
			b = tb;
		} else {
			b = t->seasons[s].upto_milli;
		}
		for (size_t k = 1; k + 1 < t->n_tiers; k++)
			if (b[k] + h->add_milli[k] <= b[k - 1] + h->add_milli[k - 1])
				return fail(c, "household.%s 使第 %zu 档上限不再大于第 %zu 档", key,
					    k + 1, k);
	}
	return XQ_OK;
}

/* RULE: TIER-HOUSEHOLD-01 (the allowance itself is applied in billing.c). */
static int parse_household(struct pctx *c, const cJSON *obj, struct tariff *t)
{
	struct tariff_household *h = &t->household;
	char uk[16], p[PATH_MAX_];
	const char *allowed[] = { "min_size", "per_person_over", unit_key(t, "add", uk), NULL };
	const cJSON *v;
	int rc;

	if (!obj)
		return XQ_OK;
	if ((rc = check_object(c, obj, "household", allowed)))
		return rc;
	if (t->n_tiers < 2)
		return fail(c, "household 需要至少两档");
	v = get(obj, "min_size");
	if ((rc = required(c, v, "household.min_size")) ||
	    (rc = get_small(c, v, "household.min_size", 2, TARIFF_HOUSEHOLD_MAX, &h->min_size)))
		return rc;
	v = get(obj, "per_person_over");
	if (v && (rc = get_small(c, v, "household.per_person_over", 1, h->min_size - 1,
				 &h->per_person_over)))
		return rc;
	join(p, "household", uk);
	if ((rc = parse_bound_list(c, get(obj, uk), p, t, 0, h->add_milli)))
		return rc;
	if (h->per_person_over) {
		/* Scaled by any head count, so each allowance must be >= the one before. */
		for (size_t k = 1; k + 1 < t->n_tiers; k++)
			if (h->add_milli[k] < h->add_milli[k - 1])
				return fail(c, "%s[%zu] 不能小于前一项：按人数累加时各档上限须保持递增", p, k);
		return XQ_OK;
	}
	return check_household_order(c, t, uk);
}

/* ------------------------------------------------------------------ time of use */

/* "HH:MM-HH:MM", HH 00..23 (24 only as "24:00" at the end), MM 00..59. */
static int parse_window(struct pctx *c, const cJSON *item, const char *path,
			struct tariff_window *w)
{
	const char *s = cJSON_IsString(item) ? item->valuestring : "";
	int v[4];

	if (strlen(s) != 11 || s[2] != ':' || s[5] != '-' || s[8] != ':')
		return fail(c, "%s 格式应为 \"HH:MM-HH:MM\"，如 \"22:00-06:00\"", path);
	for (int i = 0; i < 4; i++) {
		const char *d = s + i * 3;

		if (d[0] < '0' || d[0] > '9' || d[1] < '0' || d[1] > '9')
			return fail(c, "%s 格式应为 \"HH:MM-HH:MM\"，如 \"22:00-06:00\"", path);
		v[i] = (d[0] - '0') * 10 + (d[1] - '0');
	}
	if (v[0] > 23 || v[1] > 59 || v[2] > 24 || v[3] > 59 || (v[2] == 24 && v[3] != 0))
		return fail(c, "%s 的时间无效（小时 00-23，结束可为 24:00，分钟 00-59）", path);
	w->start_min = v[0] * 60 + v[1];
	w->end_min = v[2] * 60 + v[3];
	if (w->end_min == 0)
		w->end_min = 1440; /* "22:00-00:00" ends at midnight: same as 24:00 */
	/* "00:00-24:00" is the whole day; any other equal pair is ambiguous. */
	if (w->start_min == w->end_min % 1440 && w->start_min != 0)
		return fail(c, "%s 起止时间相同", path);
	return XQ_OK;
}

/*
 * RULE: TOU-WINDOW-01: windows are half-open [start, end) clock intervals,
 * may wrap past midnight, and together cover every minute of the day
 * exactly once. Checked minute by minute: 1440 cells is cheap and the
 * message can name the first bad minute.
 */
static int check_windows(struct pctx *c, const struct tariff *t)
{
	int owner[1440], order[TARIFF_PERIODS_MAX];
	size_t n = 0;

	for (int k = 0; k < TARIFF_PERIODS_MAX; k++)
		if (t->periods[k].used)
			order[n++] = k;
	for (int m = 0; m < 1440; m++)
		owner[m] = -1;
	for (size_t i = 0; i < n; i++) {
		const struct tariff_period_def *pd = &t->periods[order[i]];

		for (size_t w = 0; w < pd->n_windows; w++) {
			int m = pd->windows[w].start_min, end = pd->windows[w].end_min % 1440;

			do {
				if (owner[m] >= 0)
					return fail(c, "tou.periods[%zu].windows[%zu] 与 tou.periods[%d]."
						    "windows[%d] 在 %02d:%02d 重叠", i, w, owner[m] / 16,
						    owner[m] % 16, m / 60, m % 60);
				owner[m] = (int)(i * 16 + w);
				m = (m + 1) % 1440;
			} while (m != end);
		}
	}
	for (int m = 0; m < 1440; m++)
		if (owner[m] < 0)
			return fail(c, "tou.periods 的时间窗口必须覆盖全天：%02d:%02d 不属于任何时段",
				    m / 60, m % 60);
	return XQ_OK;
}

static int parse_period(struct pctx *c, const cJSON *obj, size_t i, struct tariff *t, int *prev)
{
	static const char *const keys[][5] = {
		[TARIFF_TOU_A] = { "name", "windows", "price", NULL },
		[TARIFF_TOU_B] = { "name", "windows", NULL },
		[TARIFF_TOU_C] = { "name", "windows", "adjust", NULL },
	};
	struct tariff_period_def *pd;
	char path[PATH_MAX_], p[PATH_MAX_], q[PATH_MAX_];
	const cJSON *v;
	int rc, id;

	at(path, "tou.periods", i);
	if ((rc = check_object(c, obj, path, keys[t->tou_model])))
		return rc;
	v = get(obj, "name");
	join(p, path, "name");
	if ((rc = required(c, v, p)) || (rc = get_enum(c, v, p, period_names, &id)))
		return rc;
	if (id <= *prev)
		return fail(c, "%s 重复或顺序不对：时段须按 sharp、peak、flat、valley 的顺序排列", p);
	*prev = id;
	pd = &t->periods[id];
	pd->used = 1;
	v = get(obj, "windows");
	join(p, path, "windows");
	if ((rc = required(c, v, p)) || (rc = get_array(c, v, p, 1, TARIFF_WINDOWS_MAX, &pd->n_windows)))
		return rc;
	for (size_t w = 0; w < pd->n_windows; w++)
		if ((rc = parse_window(c, cJSON_GetArrayItem(v, (int)w), at(q, p, w), &pd->windows[w])))
			return rc;
	if (t->tou_model == TARIFF_TOU_A) {
		v = get(obj, "price");
		join(p, path, "price");
		return (rc = required(c, v, p)) ? rc : get_price(c, v, p, 0, &pd->price_hao);
	}
	if (t->tou_model == TARIFF_TOU_C) {
		v = get(obj, "adjust");
		join(p, path, "adjust");
		return (rc = required(c, v, p)) ? rc
			: get_price(c, v, p, -TARIFF_PRICE_MAX_HAO, &pd->adjust_hao);
	}
	return XQ_OK;
}

static int parse_tou(struct pctx *c, const cJSON *obj, struct tariff *t)
{
	static const char *const keys[] = { "model", "periods", NULL };
	static const char *const models[] = { "A", "B", "C", NULL };
	const cJSON *v;
	int rc, model, prev = -1;

	if (!obj)
		return XQ_OK;
	if (t->utility != TARIFF_ELECTRIC)
		return fail(c, "tou 只用于电价（utility 为 electric）");
	if ((rc = check_object(c, obj, "tou", keys)))
		return rc;
	v = get(obj, "model");
	if ((rc = required(c, v, "tou.model")) || (rc = get_enum(c, v, "tou.model", models, &model)))
		return rc;
	t->tou_model = (enum tariff_tou_model)(model + 1);
	v = get(obj, "periods");
	if ((rc = required(c, v, "tou.periods")) ||
	    (rc = get_array(c, v, "tou.periods", 2, TARIFF_PERIODS_MAX, &t->n_periods)))
		return rc;
	for (size_t i = 0; i < t->n_periods; i++)
		if ((rc = parse_period(c, cJSON_GetArrayItem(v, (int)i), i, t, &prev)))
			return rc;
	return check_windows(c, t);
}

/* Every tier x period price a bill can use lies in 0..TARIFF_PRICE_MAX_HAO. */
static int check_prices(struct pctx *c, const struct tariff *t)
{
	for (size_t k = 0; k < t->n_tiers; k++)
		for (int p = 0; p < TARIFF_PERIODS_MAX; p++) {
			int64_t hao;

			if (t->tou_model != TARIFF_TOU_NONE && !t->periods[p].used)
				continue;
			hao = tariff_price_hao(t, k, (enum tariff_period)p);
			if (hao < 0 || hao > TARIFF_PRICE_MAX_HAO) {
				char ps[MONEY_STR_MAX];

				money_format_price(hao, ps, sizeof(ps));
				return fail(c, "tiers[%zu] 的%s价格（%s 元）必须在 0 到 100 元之间", k,
					    t->tou_model ? period_labels[p] : "", ps);
			}
			if (t->tou_model == TARIFF_TOU_NONE)
				break;
		}
	return XQ_OK;
}

/* ------------------------------------------------------------------ water, fixed, late fee */

static const char *default_label(const char *name)
{
	static const char *const known[][2] = {
		{ "water", "水费" }, { "resource", "水资源费" }, { "sewage", "污水处理费" },
	};

	for (size_t i = 0; i < XQ_ARRAY_LEN(known); i++)
		if (strcmp(name, known[i][0]) == 0)
			return known[i][1];
	return NULL;
}

/* RULE: WATER-COMPONENT-01: each component is priced on the same tier split. */
static int parse_component(struct pctx *c, const cJSON *obj, size_t i, struct tariff *t)
{
	static const char *const keys[] = { "name", "label", "price", "prices", NULL };
	struct tariff_component *cp = &t->components[i];
	char path[PATH_MAX_], p[PATH_MAX_], q[PATH_MAX_];
	const cJSON *v, *price, *prices;
	const char *def;
	size_t n;
	int rc;

	at(path, "components", i);
	if ((rc = check_object(c, obj, path, keys)))
		return rc;
	v = get(obj, "name");
	join(p, path, "name");
	if ((rc = required(c, v, p)) || (rc = get_name(c, v, p, cp->name)))
		return rc;
	for (size_t j = 0; j < i; j++)
		if (strcmp(t->components[j].name, cp->name) == 0)
			return fail(c, "%s 与 components[%zu] 重复", p, j);
	v = get(obj, "label");
	def = default_label(cp->name);
	join(p, path, "label");
	if (!v && !def)
		return fail(c, "%s 缺失（只有 water、resource、sewage 有默认名称）", p);
	if (!v)
		memcpy(cp->label, def, strlen(def) + 1);
	else if ((rc = get_label(c, v, p, cp->label)))
		return rc;
	price = get(obj, "price");
	prices = get(obj, "prices");
	if (!price == !prices)
		return fail(c, "%s 需要 price（不分档）或 prices（每档一个）二者之一", path);
	if (price)
		return get_price(c, price, join(p, path, "price"), 0, &cp->price_hao[0]);
	cp->tiered = 1;
	join(p, path, "prices");
	if ((rc = get_array(c, prices, p, t->n_tiers, t->n_tiers, &n)))
		return rc;
	for (size_t k = 0; k < n; k++)
		if ((rc = get_price(c, cJSON_GetArrayItem(prices, (int)k), at(q, p, k), 0,
				    &cp->price_hao[k])))
			return rc;
	return XQ_OK;
}

static int parse_components(struct pctx *c, const cJSON *arr, struct tariff *t)
{
	int rc;

	if (t->utility == TARIFF_ELECTRIC)
		return arr ? fail(c, "components 只用于水价（utility 为 water）") : XQ_OK;
	if ((rc = required(c, arr, "components")) ||
	    (rc = get_array(c, arr, "components", 1, TARIFF_COMPONENTS_MAX, &t->n_components)))
		return rc;
	for (size_t i = 0; i < t->n_components; i++)
		if ((rc = parse_component(c, cJSON_GetArrayItem(arr, (int)i), i, t)))
			return rc;
	return XQ_OK;
}

static int parse_fixed_one(struct pctx *c, const cJSON *obj, size_t i, struct tariff *t)
{
	static const char *const keys[] = { "name", "label", "amount", NULL };
	struct tariff_fixed *f = &t->fixed[i];
	char path[PATH_MAX_], p[PATH_MAX_];
	const cJSON *v;
	int rc;

	at(path, "fixed", i);
	if ((rc = check_object(c, obj, path, keys)))
		return rc;
	v = get(obj, "name");
	join(p, path, "name");
	if ((rc = required(c, v, p)) || (rc = get_name(c, v, p, f->name)))
		return rc;
	for (size_t j = 0; j < i; j++)
		if (strcmp(t->fixed[j].name, f->name) == 0)
			return fail(c, "%s 与 fixed[%zu] 重复", p, j);
	v = get(obj, "label");
	join(p, path, "label");
	if ((rc = required(c, v, p)) || (rc = get_label(c, v, p, f->label)))
		return rc;
	v = get(obj, "amount");
	join(p, path, "amount");
	if ((rc = required(c, v, p)) || (rc = get_amount(c, v, p, TARIFF_FIXED_MAX_FEN, &f->amount_fen)))
		return rc;
	return f->amount_fen > 0 ? XQ_OK : fail(c, "%s 必须大于 0", p);
}

static int parse_fixed(struct pctx *c, const cJSON *arr, struct tariff *t)
{
	int rc;

	if (!arr)
		return XQ_OK;
	if ((rc = get_array(c, arr, "fixed", 1, TARIFF_FIXED_MAX, &t->n_fixed)))
		return rc;
	for (size_t i = 0; i < t->n_fixed; i++)
		if ((rc = parse_fixed_one(c, cJSON_GetArrayItem(arr, (int)i), i, t)))
			return rc;
	return XQ_OK;
}

static int parse_late_fee(struct pctx *c, const cJSON *obj, struct tariff *t)
{
	static const char *const keys[] = { "rate_ppm_per_day", "grace_days", "minimum", "cap_pct", NULL };
	struct tariff_late_fee *lf = &t->late_fee;
	const cJSON *v;
	int rc;

	/* No national water rate exists (tariff-rules.md 7.2): water defaults to none. */
	lf->rate_ppm_per_day = t->utility == TARIFF_ELECTRIC ? TARIFF_LATE_RATE_ELECTRIC_PPM : 0;
	if (!obj)
		return XQ_OK;
	if ((rc = check_object(c, obj, "late_fee", keys)))
		return rc;
	v = get(obj, "rate_ppm_per_day");
	if ((rc = required(c, v, "late_fee.rate_ppm_per_day")) ||
	    (rc = get_int(c, v, "late_fee.rate_ppm_per_day", 0, TARIFF_LATE_RATE_MAX_PPM,
			  &lf->rate_ppm_per_day)))
		return rc;
	v = get(obj, "grace_days");
	if (v && (rc = get_int(c, v, "late_fee.grace_days", 0, 365, &lf->grace_days)))
		return rc;
	v = get(obj, "minimum");
	if (v && !cJSON_IsNull(v) &&
	    (rc = get_amount(c, v, "late_fee.minimum", TARIFF_LATE_MIN_MAX_FEN, &lf->minimum_fen)))
		return rc;
	v = get(obj, "cap_pct");
	if (v && !cJSON_IsNull(v) && (rc = get_int(c, v, "late_fee.cap_pct", 1, 1000, &lf->cap_pct)))
		return rc;
	return XQ_OK;
}

/* ------------------------------------------------------------------ root */

static int parse_head(struct pctx *c, const cJSON *root, struct tariff *t)
{
	static const char *const utilities[] = { "electric", "water", NULL };
	static const char *const bases[] = { "monthly", "annual", NULL };
	const cJSON *v;
	int64_t format;
	int rc, idx;

	v = get(root, "format");
	if (v && (rc = get_int(c, v, "format", 0, INT64_MAX, &format)))
		return rc;
	if (v && format != TARIFF_FORMAT)
		return fail(c, "format 只支持 %d", TARIFF_FORMAT);
	v = get(root, "utility");
	if ((rc = required(c, v, "utility")) || (rc = get_enum(c, v, "utility", utilities, &idx)))
		return rc;
	t->utility = (enum tariff_utility)(idx + 1);
	v = get(root, "basis");
	if ((rc = required(c, v, "basis")) || (rc = get_enum(c, v, "basis", bases, &idx)))
		return rc;
	t->basis = (enum tariff_basis)(idx + 1);
	t->tier_year_start_month = 1;
	v = get(root, "tier_year_start_month");
	if (v && t->basis != TARIFF_ANNUAL)
		return fail(c, "tier_year_start_month 只用于 basis 为 annual 的价格");
	if (v && (rc = get_small(c, v, "tier_year_start_month", 1, 12, &t->tier_year_start_month)))
		return rc;
	return XQ_OK;
}

static int parse_tail(struct pctx *c, const cJSON *root, struct tariff *t)
{
	static const char *const rounds[] = { "none", "unit", NULL };
	static const char *const rules[] = { "MONEY-ROUND-01", NULL };
	const cJSON *v;
	int rc, idx;

	t->round_unit = 1;
	v = get(root, "multiplier_round");
	if (v && (rc = get_enum(c, v, "multiplier_round", rounds, &t->round_unit)))
		return rc;
	v = get(root, "rounding");
	if (v && (rc = get_enum(c, v, "rounding", rules, &idx)))
		return rc;
	return XQ_OK;
}

static int parse_root(struct pctx *c, const cJSON *root, struct tariff *t)
{
	static const char *const keys[] = {
		"format", "utility", "basis", "tier_year_start_month", "tiers", "household",
		"seasons", "tou", "components", "fixed", "late_fee", "multiplier_round",
		"rounding", NULL,
	};
	int rc;

	if ((rc = check_object(c, root, "", keys)) || (rc = parse_head(c, root, t)) ||
	    (rc = parse_tou(c, get(root, "tou"), t)) ||
	    (rc = parse_tiers(c, get(root, "tiers"), t)) ||
	    (rc = parse_seasons(c, get(root, "seasons"), t)) ||
	    (rc = parse_household(c, get(root, "household"), t)) ||
	    (rc = check_prices(c, t)) ||
	    (rc = parse_components(c, get(root, "components"), t)) ||
	    (rc = parse_fixed(c, get(root, "fixed"), t)) ||
	    (rc = parse_late_fee(c, get(root, "late_fee"), t)) || (rc = parse_tail(c, root, t)))
		return rc;
	return XQ_OK;
}

int tariff_parse(const char *json, struct tariff *out, char *err, size_t errlen)
{
	struct tariff t;
	struct pctx c = { err, errlen, &t };
	const char *end = NULL;
	cJSON *root;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!json || !out)
		return fail(&c, "价格规则为空");
	root = cJSON_ParseWithOpts(json, &end, 1);
	if (!root)
		return fail(&c, "价格规则不是有效的 JSON（第 %zu 字节附近）",
			    end && end >= json ? (size_t)(end - json) : (size_t)0);
	memset(&t, 0, sizeof(t));
	rc = parse_root(&c, root, &t);
	cJSON_Delete(root);
	if (rc == XQ_OK)
		*out = t;
	return rc;
}

void tariff_release(struct tariff *t)
{
	if (t)
		memset(t, 0, sizeof(*t));
}

/* ------------------------------------------------------------------ queries */

int64_t tariff_price_hao(const struct tariff *t, size_t tier, enum tariff_period period)
{
	XQ_ASSERT(tier < t->n_tiers && (unsigned)period < TARIFF_PERIODS_MAX);
	switch (t->tou_model) {
	case TARIFF_TOU_A:
		return t->periods[period].price_hao + t->tiers[tier].increment_hao;
	case TARIFF_TOU_B:
		return t->tiers[tier].period_price_hao[period];
	case TARIFF_TOU_C:
		return t->tiers[tier].price_hao + t->periods[period].adjust_hao;
	default:
		return t->tiers[tier].price_hao;
	}
}

const char *tariff_period_name(enum tariff_period p)
{
	return (unsigned)p < TARIFF_PERIODS_MAX ? period_names[p] : "";
}

const char *tariff_period_label_zh(enum tariff_period p)
{
	return (unsigned)p < TARIFF_PERIODS_MAX ? period_labels[p] : "";
}

const char *tariff_unit_text(const struct tariff *t)
{
	return t->utility == TARIFF_WATER ? "m³" : "kWh";
}

int tariff_tier_year(const struct tariff *t, int year, int month, int *tier_year)
{
	if (month < 1 || month > 12)
		return XQ_EINVAL;
	*tier_year = month >= t->tier_year_start_month ? year : year - 1;
	return XQ_OK;
}

/* ------------------------------------------------------------------ canonical writer */

/* Builder state: any failed allocation makes the whole write XQ_ERROR. */
struct wctx {
	int oom;
};

static cJSON *put(struct wctx *w, cJSON *parent, const char *key, cJSON *item)
{
	int ok;

	if (!item || !parent) {
		cJSON_Delete(item);
		w->oom = 1;
		return NULL;
	}
	ok = key ? cJSON_AddItemToObject(parent, key, item) : cJSON_AddItemToArray(parent, item);
	if (!ok) {
		cJSON_Delete(item);
		w->oom = 1;
		return NULL;
	}
	return item;
}

/* Integers are written as raw JSON text so they never pass through cJSON's numbers. */
static void put_int(struct wctx *w, cJSON *parent, const char *key, int64_t v)
{
	char text[24];

	xq_snprintf(text, sizeof(text), "%" PRId64, v);
	put(w, parent, key, cJSON_CreateRaw(text));
}

static void put_units(struct wctx *w, cJSON *parent, const char *key, int64_t milli)
{
	put_int(w, parent, key, milli / TARIFF_UNIT_MILLI);
}

static void put_price(struct wctx *w, cJSON *parent, const char *key, int64_t hao)
{
	char text[MONEY_STR_MAX];

	money_format_price(hao, text, sizeof(text));
	put(w, parent, key, cJSON_CreateString(text));
}

static void put_amount(struct wctx *w, cJSON *parent, const char *key, int64_t fen)
{
	char text[MONEY_STR_MAX];

	money_format_yuan(fen, text, sizeof(text));
	put(w, parent, key, cJSON_CreateString(text));
}

static void put_str(struct wctx *w, cJSON *parent, const char *key, const char *s)
{
	put(w, parent, key, cJSON_CreateString(s));
}

static void write_tier(struct wctx *w, cJSON *arr, const struct tariff *t, size_t i)
{
	const struct tariff_tier *tier = &t->tiers[i];
	cJSON *o = put(w, arr, NULL, cJSON_CreateObject()), *prices;
	char uk[16];

	if (tier->upto_milli != TARIFF_UNBOUNDED)
		put_units(w, o, unit_key(t, "upto", uk), tier->upto_milli);
	if (t->utility == TARIFF_WATER)
		return;
	switch (t->tou_model) {
	case TARIFF_TOU_A:
		put_price(w, o, "increment", tier->increment_hao);
		break;
	case TARIFF_TOU_B:
		prices = put(w, o, "prices", cJSON_CreateObject());
		for (int p = 0; p < TARIFF_PERIODS_MAX; p++)
			if (t->periods[p].used)
				put_price(w, prices, period_names[p], tier->period_price_hao[p]);
		break;
	default:
		put_price(w, o, "price", tier->price_hao);
	}
}

static void write_bounds(struct wctx *w, cJSON *parent, const char *key, const struct tariff *t,
			 const int64_t *b)
{
	cJSON *arr = put(w, parent, key, cJSON_CreateArray());

	for (size_t k = 0; k + 1 < t->n_tiers; k++)
		put_units(w, arr, NULL, b[k]);
}

static void write_window(struct wctx *w, cJSON *arr, const struct tariff_window *win)
{
	char text[16];

	xq_snprintf(text, sizeof(text), "%02d:%02d-%02d:%02d", win->start_min / 60,
		    win->start_min % 60, win->end_min / 60, win->end_min % 60);
	put_str(w, arr, NULL, text);
}

static void write_tou(struct wctx *w, cJSON *root, const struct tariff *t)
{
	static const char *const models[] = { "", "A", "B", "C" };
	cJSON *tou, *periods;

	if (t->tou_model == TARIFF_TOU_NONE)
		return;
	tou = put(w, root, "tou", cJSON_CreateObject());
	put_str(w, tou, "model", models[t->tou_model]);
	periods = put(w, tou, "periods", cJSON_CreateArray());
	for (int p = 0; p < TARIFF_PERIODS_MAX; p++) {
		const struct tariff_period_def *pd = &t->periods[p];
		cJSON *o, *wins;

		if (!pd->used)
			continue;
		o = put(w, periods, NULL, cJSON_CreateObject());
		put_str(w, o, "name", period_names[p]);
		wins = put(w, o, "windows", cJSON_CreateArray());
		for (size_t i = 0; i < pd->n_windows; i++)
			write_window(w, wins, &pd->windows[i]);
		if (t->tou_model == TARIFF_TOU_A)
			put_price(w, o, "price", pd->price_hao);
		else if (t->tou_model == TARIFF_TOU_C)
			put_price(w, o, "adjust", pd->adjust_hao);
	}
}

static void write_household_seasons(struct wctx *w, cJSON *root, const struct tariff *t)
{
	char uk[16];

	if (t->household.min_size) {
		cJSON *h = put(w, root, "household", cJSON_CreateObject());

		put_int(w, h, "min_size", t->household.min_size);
		if (t->household.per_person_over)
			put_int(w, h, "per_person_over", t->household.per_person_over);
		write_bounds(w, h, unit_key(t, "add", uk), t, t->household.add_milli);
	}
	if (t->n_seasons) {
		cJSON *arr = put(w, root, "seasons", cJSON_CreateArray());

		for (size_t s = 0; s < t->n_seasons; s++) {
			cJSON *o = put(w, arr, NULL, cJSON_CreateObject());
			cJSON *months = put(w, o, "months", cJSON_CreateArray());

			for (int m = 1; m <= 12; m++)
				if (t->seasons[s].months & (1u << m))
					put_int(w, months, NULL, m);
			write_bounds(w, o, unit_key(t, "upto", uk), t, t->seasons[s].upto_milli);
		}
	}
}

static void write_components_fixed(struct wctx *w, cJSON *root, const struct tariff *t)
{
	if (t->n_components) {
		cJSON *arr = put(w, root, "components", cJSON_CreateArray());

		for (size_t i = 0; i < t->n_components; i++) {
			const struct tariff_component *cp = &t->components[i];
			cJSON *o = put(w, arr, NULL, cJSON_CreateObject()), *prices;

			put_str(w, o, "name", cp->name);
			put_str(w, o, "label", cp->label);
			if (!cp->tiered) {
				put_price(w, o, "price", cp->price_hao[0]);
				continue;
			}
			prices = put(w, o, "prices", cJSON_CreateArray());
			for (size_t k = 0; k < t->n_tiers; k++)
				put_price(w, prices, NULL, cp->price_hao[k]);
		}
	}
	if (t->n_fixed) {
		cJSON *arr = put(w, root, "fixed", cJSON_CreateArray());

		for (size_t i = 0; i < t->n_fixed; i++) {
			cJSON *o = put(w, arr, NULL, cJSON_CreateObject());

			put_str(w, o, "name", t->fixed[i].name);
			put_str(w, o, "label", t->fixed[i].label);
			put_amount(w, o, "amount", t->fixed[i].amount_fen);
		}
	}
}

static void write_late_fee(struct wctx *w, cJSON *root, const struct tariff *t)
{
	const struct tariff_late_fee *lf = &t->late_fee;
	cJSON *o = put(w, root, "late_fee", cJSON_CreateObject());

	put_int(w, o, "rate_ppm_per_day", lf->rate_ppm_per_day);
	put_int(w, o, "grace_days", lf->grace_days);
	if (lf->minimum_fen)
		put_amount(w, o, "minimum", lf->minimum_fen);
	else
		put(w, o, "minimum", cJSON_CreateNull());
	if (lf->cap_pct)
		put_int(w, o, "cap_pct", lf->cap_pct);
	else
		put(w, o, "cap_pct", cJSON_CreateNull());
}

int tariff_to_json(const struct tariff *t, char **out)
{
	struct wctx w = { 0 };
	cJSON *root = cJSON_CreateObject(), *tiers;
	char *text;

	if (!root)
		return XQ_ERROR;
	put_int(&w, root, "format", TARIFF_FORMAT);
	put_str(&w, root, "utility", t->utility == TARIFF_WATER ? "water" : "electric");
	put_str(&w, root, "basis", t->basis == TARIFF_ANNUAL ? "annual" : "monthly");
	if (t->basis == TARIFF_ANNUAL)
		put_int(&w, root, "tier_year_start_month", t->tier_year_start_month);
	tiers = put(&w, root, "tiers", cJSON_CreateArray());
	for (size_t i = 0; i < t->n_tiers; i++)
		write_tier(&w, tiers, t, i);
	write_household_seasons(&w, root, t);
	write_tou(&w, root, t);
	write_components_fixed(&w, root, t);
	write_late_fee(&w, root, t);
	put_str(&w, root, "multiplier_round", t->round_unit ? "unit" : "none");
	put_str(&w, root, "rounding", "MONEY-ROUND-01");
	text = w.oom ? NULL : cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (!text)
		return XQ_ERROR;
	*out = xq_strdup(text);
	cJSON_free(text);
	return XQ_OK;
}
