/*
 * test_billing_cases.c - runs every tests/cases/billing/NNNN-name.case:
 * hand-computed bills written as data (docs/style.md 24).
 *
 *	test_billing_cases DIR      prints one line per failing case, then
 *	                            "N passed, N failed" (cases); exit 1 on any failure.
 *
 * A case file has sections; lines starting with '#' are comments anywhere
 * outside [tariff]:
 *
 *   [tariff]              tariff_version.rules JSON, in force from the period start
 *   [tariff YYYY-MM-DD]   a later version effective from that date (any number)
 *   [input]               key = value lines:
 *       mode             bill (default) | apportion | late_fee
 *       bill_month       YYYY-MM
 *       period           YYYY-MM-DD YYYY-MM-DD (default: the whole bill month)
 *       total sharp peak flat valley   register deltas in kWh or m³, up to 3 decimals
 *       multiplier ytd household_size tier_year_months   (ytd in kWh or m³)
 *       total_fen, weights (space separated)   for mode = apportion
 *       principal (yuan), days                 for mode = late_fee (first tariff's policy)
 *   [expect]              one line per bill line: "<amount_fen> <label_zh>", then
 *                         "total <fen>"; optionally "ytd_after <kWh or m³>", or
 *                         "error EINVAL|EOVERFLOW" when billing must refuse.
 * Apportionment shares are labelled "第 N 户" (N from 1).
 */
#include "billing.h"
#include "money.h"
#include "tariff.h"
#include "xq.h"

#include <dirent.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TARIFFS 8
#define MAX_EXPECT 64
#define MAX_WEIGHTS 64

struct case_file {
	const char *name;
	char *tariff_json[MAX_TARIFFS];
	int32_t tariff_from[MAX_TARIFFS]; /* -1: from the period start */
	size_t n_tariffs;
	char *input;  /* the [input] section, lines */
	char *expect; /* the [expect] section, lines */
};

static int failures_in_case;

static void case_fail(const struct case_file *cf, const char *fmt, ...) XQ_PRINTF(2, 3);

static void case_fail(const struct case_file *cf, const char *fmt, ...)
{
	va_list ap;

	printf("FAIL %s: ", cf->name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	failures_in_case++;
}

/* ------------------------------------------------------------------ text helpers */

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = xq_malloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Appends line + '\n' to a growing string. */
static void append(char **dst, const char *line)
{
	size_t old = *dst ? strlen(*dst) : 0, add = strlen(line);

	*dst = xq_realloc(*dst, old + add + 2);
	memcpy(*dst + old, line, add);
	(*dst)[old + add] = '\n';
	(*dst)[old + add + 1] = '\0';
}

/* "YYYY-MM-DD" -> day number. */
static int parse_date(const char *s, int32_t *day)
{
	char y[5], m[3], d[3];
	int64_t yy, mm, dd;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return XQ_EINVAL;
	memcpy(y, s, 4), y[4] = '\0';
	memcpy(m, s + 5, 2), m[2] = '\0';
	memcpy(d, s + 8, 2), d[2] = '\0';
	if (xq_parse_i64(y, &yy) || xq_parse_i64(m, &mm) || xq_parse_i64(d, &dd))
		return XQ_EINVAL;
	return billing_day((int)yy, (int)mm, (int)dd, day);
}

/* "290", "12.345" (kWh or m³) -> milli. Plain digits, at most 3 decimals. */
static int parse_milli(const char *s, int64_t *out)
{
	int64_t whole = 0, frac = 0;
	int digits = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return XQ_EINVAL;
	for (; *p >= '0' && *p <= '9'; p++)
		whole = whole * 10 + (*p - '0');
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9' && digits < 3; p++, digits++)
			frac = frac * 10 + (*p - '0');
	if (*p || whole > INT64_MAX / 1000 - 1)
		return XQ_EINVAL;
	for (; digits < 3; digits++)
		frac *= 10;
	*out = whole * 1000 + frac;
	return XQ_OK;
}

/* ------------------------------------------------------------------ case file */

static int load_case(const char *path, struct case_file *cf)
{
	char *text = read_file(path), *line, *save = NULL;
	enum { NONE, TARIFF, INPUT, EXPECT } sec = NONE;

	if (!text)
		return XQ_ENOTFOUND;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *t = trim(line);

		if (t[0] == '[') {
			if (strncmp(t, "[tariff", 7) == 0) {
				if (cf->n_tariffs == MAX_TARIFFS)
					goto bad;
				sec = TARIFF;
				cf->tariff_from[cf->n_tariffs] = -1;
				if (t[7] == ' ') {
					t[strlen(t) - 1] = '\0';
					if (parse_date(trim(t + 8), &cf->tariff_from[cf->n_tariffs]))
						goto bad;
				}
				cf->tariff_json[cf->n_tariffs++] = xq_strdup("");
			} else if (strcmp(t, "[input]") == 0) {
				sec = INPUT;
			} else if (strcmp(t, "[expect]") == 0) {
				sec = EXPECT;
			} else {
				goto bad;
			}
			continue;
		}
		if (t[0] == '#' || t[0] == '\0')
			continue;
		if (sec == TARIFF)
			append(&cf->tariff_json[cf->n_tariffs - 1], t);
		else if (sec == INPUT)
			append(&cf->input, t);
		else if (sec == EXPECT)
			append(&cf->expect, t);
	}
	free(text);
	return XQ_OK;
bad:
	free(text);
	return XQ_EINVAL;
}

static void free_case(struct case_file *cf)
{
	for (size_t i = 0; i < cf->n_tariffs; i++)
		free(cf->tariff_json[i]);
	free(cf->input);
	free(cf->expect);
}

#define VALUE_MAX 512

/* The value of key in [input], copied into value (VALUE_MAX bytes), or NULL. */
static const char *input_get(const struct case_file *cf, const char *key, char *value)
{
	const char *p = cf->input;

	while (p && *p) {
		const char *nl = strchr(p, '\n'), *eq = memchr(p, '=', (size_t)(nl - p));
		char k[64];

		if (eq && (size_t)(eq - p) < sizeof(k)) {
			memcpy(k, p, (size_t)(eq - p));
			k[eq - p] = '\0';
			if (strcmp(trim(k), key) == 0 && (size_t)(nl - eq) < VALUE_MAX) {
				memcpy(value, eq + 1, (size_t)(nl - eq - 1));
				value[nl - eq - 1] = '\0';
				return trim(value);
			}
		}
		p = nl + 1;
	}
	return NULL;
}

/* Every [input] key must be one the runner knows: a typo must not pass silently. */
static int check_input_keys(const struct case_file *cf)
{
	static const char *const known[] = {
		"mode", "bill_month", "period", "total", "sharp", "peak", "flat", "valley",
		"multiplier", "ytd", "household_size", "tier_year_months", "total_fen",
		"weights", "principal", "days", NULL,
	};
	const char *p = cf->input;

	while (p && *p) {
		const char *nl = strchr(p, '\n'), *eq = memchr(p, '=', (size_t)(nl - p));
		char k[64];
		size_t i;

		if (!eq || (size_t)(eq - p) >= sizeof(k)) {
			case_fail(cf, "bad [input] line");
			return XQ_EINVAL;
		}
		memcpy(k, p, (size_t)(eq - p));
		k[eq - p] = '\0';
		for (i = 0; known[i] && strcmp(known[i], trim(k)) != 0; i++)
			;
		if (!known[i]) {
			case_fail(cf, "unknown [input] key '%s'", trim(k));
			return XQ_EINVAL;
		}
		p = nl + 1;
	}
	return XQ_OK;
}

static int input_i64(const struct case_file *cf, const char *key, int64_t *out)
{
	char buf[VALUE_MAX];
	const char *v = input_get(cf, key, buf);

	if (!v)
		return XQ_OK;
	if (xq_parse_i64(v, out)) {
		case_fail(cf, "[input] %s: not an integer", key);
		return XQ_EINVAL;
	}
	return XQ_OK;
}

static int input_milli(const struct case_file *cf, const char *key, int64_t *out)
{
	char buf[VALUE_MAX];
	const char *v = input_get(cf, key, buf);

	if (!v)
		return XQ_OK;
	if (parse_milli(v, out)) {
		case_fail(cf, "[input] %s: not a quantity", key);
		return XQ_EINVAL;
	}
	return XQ_OK;
}

/* ------------------------------------------------------------------ comparing */

/* One actual line as text, "<fen> <label>", the form [expect] uses. */
struct got {
	char text[MAX_EXPECT][200];
	size_t n;
	int64_t total_fen;
	int64_t ytd_after_milli;
	int rc;
	char err[256]; /* billing_compute's reason when rc != XQ_OK */
};

static void got_line(struct got *g, int64_t fen, const char *label)
{
	if (g->n < MAX_EXPECT)
		xq_snprintf(g->text[g->n++], sizeof(g->text[0]), "%" PRId64 " %s", fen, label);
}

static void dump_got(const struct got *g)
{
	printf("  got (rc %d%s%s):\n", g->rc, g->err[0] ? ", " : "", g->err);
	for (size_t i = 0; i < g->n; i++)
		printf("    %s\n", g->text[i]);
	printf("    total %" PRId64 "\n", g->total_fen);
}

static void expect_error(const struct case_file *cf, const char *want, const struct got *g)
{
	int code = strcmp(want, "EINVAL") == 0 ? XQ_EINVAL
		 : strcmp(want, "EOVERFLOW") == 0 ? XQ_EOVERFLOW : 1;

	if (g->rc != code) {
		case_fail(cf, "want error %s, got rc %d", want, g->rc);
		dump_got(g);
	}
}

static void compare(const struct case_file *cf, const struct got *g)
{
	const char *p = cf->expect;
	size_t i = 0;
	int total_seen = 0;
	int before = failures_in_case;

	if (!p) {
		case_fail(cf, "no [expect] section");
		return;
	}
	while (*p) {
		const char *nl = strchr(p, '\n');
		char line[256];
		int64_t v;

		xq_snprintf(line, sizeof(line), "%.*s", (int)(nl - p), p);
		p = nl + 1;
		if (strncmp(line, "error ", 6) == 0) {
			expect_error(cf, line + 6, g);
			return;
		}
		if (g->rc != XQ_OK) {
			case_fail(cf, "billing failed with rc %d: %s", g->rc, g->err);
			return;
		}
		if (strncmp(line, "total ", 6) == 0) {
			total_seen = 1;
			if (xq_parse_i64(line + 6, &v) || v != g->total_fen)
				case_fail(cf, "total: want %s, got %" PRId64, line + 6, g->total_fen);
		} else if (strncmp(line, "ytd_after ", 10) == 0) {
			if (parse_milli(line + 10, &v) || v != g->ytd_after_milli)
				case_fail(cf, "ytd_after: want %s, got %" PRId64 " milli", line + 10,
					  g->ytd_after_milli);
		} else if (i >= g->n) {
			case_fail(cf, "missing line %zu: want '%s'", i + 1, line);
		} else if (strcmp(line, g->text[i++]) != 0) {
			case_fail(cf, "line %zu:\n  want '%s'\n  got  '%s'", i, line, g->text[i - 1]);
		}
	}
	if (i != g->n)
		case_fail(cf, "%zu lines expected, %zu produced", i, g->n);
	if (!total_seen)
		case_fail(cf, "[expect] has no total line");
	if (failures_in_case != before)
		dump_got(g);
}

/* ------------------------------------------------------------------ modes */

static int parse_tariffs(const struct case_file *cf, struct tariff *t)
{
	char err[256];

	if (cf->n_tariffs == 0) {
		case_fail(cf, "no [tariff] section");
		return XQ_EINVAL;
	}
	for (size_t i = 0; i < cf->n_tariffs; i++)
		if (tariff_parse(cf->tariff_json[i], &t[i], err, sizeof(err))) {
			case_fail(cf, "tariff %zu rejected: %s", i, err);
			return XQ_EINVAL;
		}
	return XQ_OK;
}

/* bill_month and period -> the input's dates. */
static int period_input(const struct case_file *cf, struct billing_input *in)
{
	char b1[VALUE_MAX], b2[VALUE_MAX];
	const char *bm = input_get(cf, "bill_month", b1), *period = input_get(cf, "period", b2);
	char first[16], second[16];
	int32_t next;
	int64_t y, m;

	if (!bm || strlen(bm) != 7 || bm[4] != '-') {
		case_fail(cf, "[input] bill_month = YYYY-MM is required");
		return XQ_EINVAL;
	}
	xq_snprintf(first, sizeof(first), "%.4s", bm);
	xq_snprintf(second, sizeof(second), "%s", bm + 5);
	if (xq_parse_i64(first, &y) || xq_parse_i64(second, &m) || m < 1 || m > 12)
		return XQ_EINVAL;
	in->bill_year = (int)y;
	in->bill_month = (int)m;
	if (!period) {
		if (billing_day((int)y, (int)m, 1, &in->first_day) ||
		    billing_day(m == 12 ? (int)y + 1 : (int)y, m == 12 ? 1 : (int)m + 1, 1, &next))
			return XQ_EINVAL;
		in->last_day = next - 1;
		return XQ_OK;
	}
	if (sscanf(period, "%15s %15s", first, second) != 2 || parse_date(first, &in->first_day) ||
	    parse_date(second, &in->last_day)) {
		case_fail(cf, "[input] period = YYYY-MM-DD YYYY-MM-DD");
		return XQ_EINVAL;
	}
	return XQ_OK;
}

static int quantities_input(const struct case_file *cf, struct billing_input *in)
{
	static const char *const regs[TARIFF_PERIODS_MAX] = { "sharp", "peak", "flat", "valley" };
	int64_t hs = 0, tym = 0;
	int rc;

	if ((rc = input_milli(cf, "total", &in->total_raw_milli)) ||
	    (rc = input_milli(cf, "ytd", &in->ytd_before_milli)) ||
	    (rc = input_i64(cf, "multiplier", &in->multiplier)) ||
	    (rc = input_i64(cf, "household_size", &hs)) ||
	    (rc = input_i64(cf, "tier_year_months", &tym)))
		return rc;
	in->household_size = (int)hs;
	in->tier_year_months = (int)tym;
	for (int p = 0; p < TARIFF_PERIODS_MAX; p++)
		if ((rc = input_milli(cf, regs[p], &in->period_raw_milli[p])))
			return rc;
	return XQ_OK;
}

static void run_bill(const struct case_file *cf, struct got *g)
{
	struct tariff t[MAX_TARIFFS];
	struct billing_version v[MAX_TARIFFS];
	struct billing_input in;
	struct billing_result r;

	memset(&in, 0, sizeof(in));
	if (parse_tariffs(cf, t) || period_input(cf, &in) || quantities_input(cf, &in)) {
		g->rc = 1;
		return;
	}
	for (size_t i = 0; i < cf->n_tariffs; i++) {
		v[i].tariff = &t[i];
		v[i].version_id = (int64_t)i + 1;
		v[i].effective_day = cf->tariff_from[i] >= 0 ? cf->tariff_from[i] : in.first_day;
	}
	in.versions = v;
	in.n_versions = cf->n_tariffs;
	g->rc = billing_compute(&in, &r, g->err, sizeof(g->err));
	if (g->rc)
		return;
	for (size_t i = 0; i < r.n_lines; i++)
		got_line(g, r.lines[i].amount_fen, r.lines[i].label_zh);
	g->total_fen = r.total_fen;
	g->ytd_after_milli = r.ytd_after_milli;
	billing_result_release(&r);
}

static void run_apportion(const struct case_file *cf, struct got *g)
{
	int64_t total = 0, w[MAX_WEIGHTS], out[MAX_WEIGHTS];
	char buf[VALUE_MAX];
	const char *ws = input_get(cf, "weights", buf);
	char copy[512], *tok, *save = NULL, label[32];
	size_t n = 0;

	if (input_i64(cf, "total_fen", &total) || !ws) {
		g->rc = 1;
		return;
	}
	xq_snprintf(copy, sizeof(copy), "%s", ws);
	for (tok = strtok_r(copy, " ", &save); tok && n < MAX_WEIGHTS; tok = strtok_r(NULL, " ", &save))
		if (xq_parse_i64(tok, &w[n++])) {
			g->rc = 1;
			return;
		}
	g->rc = billing_apportion(total, w, n, out);
	for (size_t i = 0; g->rc == XQ_OK && i < n; i++) {
		xq_snprintf(label, sizeof(label), "第 %zu 户", i + 1);
		got_line(g, out[i], label);
		g->total_fen += out[i];
	}
}

static void run_late_fee(const struct case_file *cf, struct got *g)
{
	struct tariff t[MAX_TARIFFS];
	char buf[VALUE_MAX];
	const char *ps = input_get(cf, "principal", buf);
	int64_t principal, days = 0;
	struct bill_line l;

	if (parse_tariffs(cf, t) || !ps || money_parse_yuan(ps, &principal) ||
	    input_i64(cf, "days", &days)) {
		g->rc = 1;
		return;
	}
	g->rc = billing_late_fee_line(&t[0].late_fee, principal, days, &l);
	if (g->rc == XQ_OK) {
		got_line(g, l.amount_fen, l.label_zh);
		g->total_fen = l.amount_fen;
	}
}

static int run_case(const char *dir, const char *name)
{
	struct case_file cf = { name };
	struct got *g = xq_calloc(1, sizeof(*g));
	char path[1024];
	char buf[VALUE_MAX];
	const char *mode;

	failures_in_case = 0;
	xq_snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (load_case(path, &cf)) {
		case_fail(&cf, "cannot read or parse the case file");
	} else if (check_input_keys(&cf) == XQ_OK) {
		mode = input_get(&cf, "mode", buf);
		if (!mode || strcmp(mode, "bill") == 0)
			run_bill(&cf, g);
		else if (strcmp(mode, "apportion") == 0)
			run_apportion(&cf, g);
		else if (strcmp(mode, "late_fee") == 0)
			run_late_fee(&cf, g);
		else
			case_fail(&cf, "unknown mode '%s'", mode);
		if (!failures_in_case)
			compare(&cf, g);
	}
	free_case(&cf);
	free(g);
	return failures_in_case == 0;
}

/* ------------------------------------------------------------------ main */

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	char **names = NULL;
	size_t n = 0;
	int passed = 0, failed = 0;
	struct dirent *de;
	DIR *d;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CASES_DIR\n", argv[0]);
		return 2;
	}
	if (!(d = opendir(argv[1]))) {
		fprintf(stderr, "cannot open %s\n", argv[1]);
		return 2;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (len > 5 && strcmp(de->d_name + len - 5, ".case") == 0) {
			names = xq_realloc(names, (n + 1) * sizeof(*names));
			names[n++] = xq_strdup(de->d_name);
		}
	}
	closedir(d);
	if (n == 0) {
		fprintf(stderr, "no .case files in %s\n", argv[1]);
		return 1;
	}
	qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		if (run_case(argv[1], names[i]))
			passed++;
		else
			failed++;
		free(names[i]);
	}
	free(names);
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
