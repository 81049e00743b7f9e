/*
 * admin_reading_import.c - bulk readings from a CSV file (docs/readings.md):
 * POST /admin/api/v1/readings/import (text/csv, UTF-8 with or without BOM,
 * header in Chinese or English), ?dry_run=1 to validate only, and the
 * template at GET /admin/api/v1/readings/import-template.csv. Each row goes
 * through reading_store() like a manual entry. A real run writes the valid
 * rows in transactions of IMPORT_CHUNK rows; a dry run checks every row in
 * one transaction that is rolled back, so it sees the file's own earlier
 * rows as a real run would. Re-importing a file skips the rows already
 * stored with the same value and reports a different value as an error:
 * nothing is ever overwritten. .xlsx is not read (CSV only).
 */
#include "config.h"
#include "crud.h"
#include "log.h"
#include "reading.h"
#include "valid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define IMPORT_MAX_ROWS 5000
#define IMPORT_CHUNK    200
#define IMPORT_COLS     8

enum { C_METER_NO, C_READ_AT, C_VALUE, C_SHARP, C_PEAK, C_FLAT, C_VALLEY, C_NOTE };

static const struct {
	const char *en, *zh;
} col_names[IMPORT_COLS] = {
    {"meter_no", "表号"}, {"read_at", "抄表时间"}, {"value", "读数"},      {"value_sharp", "尖"},
    {"value_peak", "峰"}, {"value_flat", "平"},    {"value_valley", "谷"}, {"note", "备注"},
};

static const char template_csv[] =
    "\xEF\xBB\xBF表号,抄表时间,读数,尖,峰,平,谷,备注\r\n"
    "E-0001,2026-11-30 09:00,1234.56,,,,,\r\n"
    "E-0002,2026-11-30T09:05:00+08:00,5678.90,100.00,2000.00,2078.90,1500.00,门口表\r\n";

int admin_reading_import_template(struct req *rq)
{
	resp_header(rq, "Content-Disposition", "attachment; filename=\"readings-template.csv\"");
	return resp_text(rq, 200, "text/csv; charset=utf-8", template_csv);
}

struct row {
	int line;
	char *cell[IMPORT_COLS];
	struct reading_in in;
	struct reading_out out;
	int rc; /* 0 ok; else a refusal */
	char code[32], msg[256];
};

/* One CSV record from *p (RFC 4180 quotes); cells are copies; returns the count or -1. */
static int csv_record(const char **p, const char *end, char **cells, int max)
{
	int n = 0;
	const char *s = *p;

	for (;;) {
		struct buf b;
		int quoted = s < end && *s == '"';

		buf_init(&b, 4096);

		if (quoted) {
			s++;
			while (s < end && !(*s == '"' && (s + 1 >= end || s[1] != '"'))) {
				if (*s == '"')
					s++;
				buf_append(&b, s, 1);
				s++;
			}
			if (s >= end) {
				buf_release(&b);
				return -1;
			}
			s++;
		}
		while (s < end && *s != ',' && *s != '\n' && *s != '\r')
			buf_append(&b, s++, 1);
		if (n < max)
			cells[n] = xq_strndup(b.data, b.len);
		buf_release(&b);
		n++;
		if (s < end && *s == ',') {
			s++;
			continue;
		}
		if (s < end && *s == '\r')
			s++;
		if (s < end && *s == '\n')
			s++;
		break;
	}
	*p = s;
	return n;
}

/* Well-formed UTF-8 (no overlongs or surrogates checked beyond lead/continuation). */
static int utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t k = c < 0x80             ? 0
		           : (c & 0xE0) == 0xC0 ? 1
		           : (c & 0xF0) == 0xE0 ? 2
		           : (c & 0xF8) == 0xF0 ? 3
		                                : 9;

		if (k == 9 || c == 0 || i + k >= n + (k ? 0 : 1))
			return 0;
		for (size_t j = 1; j <= k; j++)
			if ((s[i + j] & 0xC0) != 0x80)
				return 0;
		i += k + 1;
	}
	return 1;
}

static void trim(char *s)
{
	size_t n = strlen(s), i = 0;

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	memmove(s, s + i, n - i + 1);
}

/* "1234.56" kWh or m³ (up to 3 decimals) -> Wh or L. */
static int parse_reg(const char *s, int64_t *out)
{
	int64_t whole = 0, frac = 0;
	int nf = 0;
	const char *p = s;

	if (!*p)
		return XQ_EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (whole > INT64_MAX / 10000)
			return XQ_EINVAL;
		whole = whole * 10 + (*p - '0');
	}
	if (p == s)
		return XQ_EINVAL;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (++nf > 3)
				return XQ_EINVAL;
			frac = frac * 10 + (*p - '0');
		}
		if (nf == 0)
			return XQ_EINVAL;
	}
	if (*p)
		return XQ_EINVAL;
	while (nf++ < 3)
		frac *= 10;
	*out = whole * 1000 + frac;
	return XQ_OK;
}

static void row_error(struct row *r, const char *code, const char *msg)
{
	r->rc = XQ_EINVAL;
	snprintf(r->code, sizeof(r->code), "%s", code);
	snprintf(r->msg, sizeof(r->msg), "%s", msg);
}

/* Parses the cells of r into r->in; a row error on failure. */
static void row_parse(struct row *r, const int *map)
{
	static const char *const rate_zh[4] = {"尖", "峰", "平", "谷"};
	const char *v;
	char m[160];

	(void)map;
	if (!r->cell[C_METER_NO] || !r->cell[C_METER_NO][0])
		return row_error(r, "MISSING_METER_NO", "表号为空");
	r->in.meter_no = r->cell[C_METER_NO];
	v = r->cell[C_READ_AT];
	if (!v || valid_parse_time(v, &r->in.at_ms))
		return row_error(
		    r, "BAD_TIME",
		    "抄表时间格式不正确，应为 2026-11-30 09:00（北京时间）或 RFC 3339");
	if (!r->cell[C_VALUE] || parse_reg(r->cell[C_VALUE], &r->in.value))
		return row_error(r, "BAD_VALUE",
		                 "读数必须是不小于 0 的数，最多 3 位小数（单位 kWh 或 m³）");
	for (int i = 0; i < 4; i++) {
		v = r->cell[C_SHARP + i];
		if (!v || !*v)
			continue;
		if (parse_reg(v, &r->in.rate[i])) {
			snprintf(m, sizeof(m), "%s读数必须是不小于 0 的数，最多 3 位小数",
			         rate_zh[i]);
			return row_error(r, "BAD_VALUE", m);
		}
		r->in.has_rate[i] = 1;
	}
	r->in.note = r->cell[C_NOTE];
	r->in.source = "import";
}

struct import_job {
	struct row *rows;
	size_t from, to; /* the chunk */
	int dry;
	const struct audit_actor *who;
	const struct config *cfg;
	int64_t now_ms;
	int64_t reader_id; /* a reader importing: only meters of their assignments */
};

static int import_tx(struct db *db, void *arg)
{
	struct import_job *j = arg;
	int rc;

	for (size_t i = j->from; i < j->to; i++) {
		struct row *r = &j->rows[i];

		if (r->rc && !r->out.code[0])
			continue; /* a parse error */
		r->rc = 0;
		r->in.now_ms = j->now_ms;
		r->in.reader_id = j->reader_id;
		rc = reading_store(db, j->who, j->cfg, &r->in, &r->out);
		if (rc == XQ_EINVAL || rc == XQ_ECONFLICT || rc == XQ_ENOTFOUND) {
			r->rc = rc; /* refused; nothing of it was written */
			continue;
		}
		if (rc)
			return rc;
	}
	return j->dry ? XQ_ECONFLICT : XQ_OK; /* a dry run never commits */
}

/* Maps the header cells to columns; -1 for unknown columns. */
static int header_map(char **cells, int n, int *map, char *msg, size_t msglen)
{
	int seen[IMPORT_COLS] = {0};

	for (int i = 0; i < 32; i++)
		map[i] = -1;
	for (int i = 0; i < n && i < 32; i++) {
		map[i] = -1;
		trim(cells[i]);
		for (int c = 0; c < IMPORT_COLS; c++)
			if (!strcasecmp(cells[i], col_names[c].en) ||
			    !strcmp(cells[i], col_names[c].zh))
				map[i] = c, seen[c] = 1;
	}
	for (int c = 0; c <= C_VALUE; c++)
		if (!seen[c]) {
			snprintf(msg, msglen, "第 1 行（表头）缺少列：%s（%s）", col_names[c].zh,
			         col_names[c].en);
			return XQ_EINVAL;
		}
	return XQ_OK;
}

int admin_reading_import(struct req *rq)
{
	const char *ct = req_header(rq, "Content-Type"), *dq = req_query(rq, "dry_run");
	const char *p = rq->body.data, *end = p ? p + rq->body.len : NULL;
	struct audit_actor who = {rq->who.staff_id, rq->who.username, rq->remote_addr, rq->rid};
	struct row *rows = NULL;
	char *cells[32], msg[256];
	int map[32], n, line = 1, rc = XQ_OK;
	size_t nrows = 0;
	int64_t stored = 0, flagged = 0, skipped = 0;
	struct rollup_key *keys;
	size_t nkeys = 0;
	cJSON *o, *errs, *flags;
	int dry = dq && (!strcmp(dq, "1") || !strcmp(dq, "true"));

	if (!ct || strncasecmp(ct, "text/csv", 8) != 0)
		return resp_fail_msg(rq, XQ_EMEDIA,
		                     "请上传 CSV 文件（Content-Type: text/csv，UTF-8 编码）", NULL);
	if (!p || rq->body.len == 0)
		return resp_fail_msg(rq, XQ_EINVAL, "文件为空", NULL);
	if (!utf8_ok((const unsigned char *)p, rq->body.len))
		return resp_fail_msg(rq, XQ_EINVAL,
		                     "文件不是 UTF-8 编码，请在 Excel 中另存为“CSV UTF-8”", NULL);
	if (rq->body.len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
		p += 3;
	n = csv_record(&p, end, cells, 32);
	if (n <= 0)
		return resp_fail_msg(rq, XQ_EINVAL, "表头格式不正确", NULL);
	rc = header_map(cells, n < 32 ? n : 32, map, msg, sizeof(msg));
	for (int i = 0; i < n && i < 32; i++)
		free(cells[i]);
	if (rc)
		return resp_fail_msg(rq, rc, msg, NULL);
	rows = xq_calloc(IMPORT_MAX_ROWS + 1, sizeof(*rows));
	while (p < end) {
		struct row *r;
		int nc;

		line++;
		if (*p == '\n' || *p == '\r') { /* blank line */
			p += (*p == '\r' && p + 1 < end && p[1] == '\n') ? 2 : 1;
			continue;
		}
		if (nrows == IMPORT_MAX_ROWS) {
			rc = XQ_ETOOBIG;
			break;
		}
		r = &rows[nrows++];
		r->line = line;
		nc = csv_record(&p, end, cells, 32);
		if (nc < 0) {
			row_error(r, "BAD_ROW", "引号不成对");
			break;
		}
		for (int i = 0; i < nc && i < 32; i++) {
			if (map[i] >= 0 && !r->cell[map[i]]) {
				trim(cells[i]);
				r->cell[map[i]] = cells[i];
			} else {
				free(cells[i]);
			}
		}
		row_parse(r, map);
	}
	if (rc == XQ_ETOOBIG) {
		resp_fail_msg(rq, XQ_EINVAL, "一次最多导入 5000 行，请拆分文件", NULL);
		goto out;
	}
	keys = xq_calloc(nrows + 1, sizeof(*keys));
	for (size_t from = 0; from < nrows; from += dry ? nrows : IMPORT_CHUNK) {
		struct import_job j = {
		    rows,        from,
		    0,           dry,
		    &who,        rq->cfg,
		    xq_now_ms(), !strcmp(rq->who.role, "reader") ? rq->who.staff_id : 0};

		j.to = dry || from + IMPORT_CHUNK > nrows ? nrows : from + IMPORT_CHUNK;
		rc = db_tx(rq->db, import_tx, &j);
		if (dry && rc == XQ_ECONFLICT)
			rc = XQ_OK;
		if (rc)
			break;
		for (size_t i = from; i < j.to && !dry; i++)
			if (!rows[i].rc && rows[i].out.stored)
				keys[nkeys++] = rows[i].out.key;
	}
	if (rc) {
		free(keys);
		resp_fail(rq,
		          rc); /* chunks before this one are committed: a re-import skips them */
		goto out;
	}
	reading_refresh(rq->db, keys, nkeys);
	free(keys);
	o = cJSON_CreateObject();
	errs = cJSON_CreateArray();
	flags = cJSON_CreateArray();
	for (size_t i = 0; i < nrows; i++) {
		struct row *r = &rows[i];
		cJSON *e;

		if (r->rc) {
			e = cJSON_CreateObject();
			cJSON_AddNumberToObject(e, "row", r->line);
			cJSON_AddStringToObject(e, "meter_no",
			                        r->cell[C_METER_NO] ? r->cell[C_METER_NO] : "");
			cJSON_AddStringToObject(e, "code", r->out.code[0] ? r->out.code : r->code);
			cJSON_AddStringToObject(e, "message", r->out.code[0] ? r->out.msg : r->msg);
			cJSON_AddItemToArray(errs, e);
			continue;
		}
		if (r->out.duplicate) {
			skipped++;
			continue;
		}
		stored++;
		if (r->out.flagged) {
			flagged++;
			e = cJSON_CreateObject();
			cJSON_AddNumberToObject(e, "row", r->line);
			cJSON_AddStringToObject(e, "meter_no", r->cell[C_METER_NO]);
			cJSON_AddStringToObject(e, "flag_reason", r->out.reason);
			cJSON_AddItemToObject(e, "warnings",
			                      r->out.warnings ? cJSON_Duplicate(r->out.warnings, 1)
			                                      : cJSON_CreateArray());
			cJSON_AddItemToArray(flags, e);
		}
	}
	cJSON_AddBoolToObject(o, "dry_run", dry);
	cJSON_AddNumberToObject(o, "rows", (double)nrows);
	/* in a dry run: what a real run would store */
	cJSON_AddNumberToObject(o, "stored", (double)stored);
	cJSON_AddNumberToObject(o, "flagged", (double)flagged);
	cJSON_AddNumberToObject(o, "skipped_duplicates", (double)skipped);
	cJSON_AddNumberToObject(o, "errors_count", (double)cJSON_GetArraySize(errs));
	cJSON_AddItemToObject(o, "errors", errs);
	cJSON_AddItemToObject(o, "flagged_rows", flags);
	log_info("import of %zu reading rows by '%s'%s: %lld stored, %lld skipped", nrows,
	         rq->who.username, dry ? " (dry run)" : "", (long long)stored, (long long)skipped);
	resp_json(rq, 200, o);
out:
	for (size_t i = 0; i < nrows; i++) {
		for (int c = 0; c < IMPORT_COLS; c++)
			free(rows[i].cell[c]);
		reading_out_release(&rows[i].out);
	}
	free(rows);
	return rq->status;
}
