/*
 * xlsx_export.c - console lists as .xlsx (see xlsx_export.h). The workbook
 * is built in constant-memory mode (rows go to disk as they are written) in
 * a temp file, which is unlinked at once and streamed to nginx.
 */
#include "xlsx_export.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xlsxwriter.h>

static long col_index(const struct db_res *r, const char *name)
{
	for (size_t i = 0; i < r->ncols; i++)
		if (r->names[i] && !strcmp(r->names[i], name))
			return (long)i;
	return -1;
}

/* "YYYY-MM-DD[ HH:MM:SS[.fff]]" -> fields; 0 on success. */
static int parse_time(const char *s, struct tm *tm, int *ms)
{
	int n = 0;

	memset(tm, 0, sizeof(*tm));
	*ms = 0;
	if (sscanf(s, "%4d-%2d-%2d%n", &tm->tm_year, &tm->tm_mon, &tm->tm_mday, &n) != 3)
		return -1;
	if (s[n] == ' ' || s[n] == 'T') {
		if (sscanf(s + n + 1, "%2d:%2d:%2d", &tm->tm_hour, &tm->tm_min, &tm->tm_sec) != 3)
			return -1;
		if (s[n + 9] == '.')
			*ms = (int)strtol(s + n + 10, NULL, 10) % 1000;
	}
	tm->tm_year -= 1900;
	tm->tm_mon -= 1;
	return 0;
}

static const char *label_of(const struct xlsx_col *c, const char *v)
{
	if (c->labels)
		for (const struct xlsx_label *l = c->labels; l->value; l++)
			if (!strcmp(l->value, v))
				return l->label_zh;
	return v;
}

/* Whole-number text to int64; 0 on success. */
static int to_i64(const char *v, int64_t *out)
{
	return xq_parse_i64(v, out);
}

int xlsx_write(const struct xlsx_sheet *s, const struct db_res *rows, const char *tmpdir,
	       const char *path)
{
	lxw_workbook_options opt = { .constant_memory = LXW_TRUE, .tmpdir = (char *)tmpdir };
	lxw_workbook *wb = workbook_new_opt(path, &opt);
	lxw_worksheet *ws;
	lxw_format *head, *money, *milli, *dec, *date, *dtime;
	long idx[64];
	lxw_error err;

	if (!wb) {
		log_error("xlsx: cannot create workbook %s", path);
		return XQ_ERROR;
	}
	if (s->ncols > XQ_ARRAY_LEN(idx)) {
		workbook_close(wb);
		return XQ_ERROR;
	}
	ws = workbook_add_worksheet(wb, s->sheet_zh);
	head = workbook_add_format(wb);
	format_set_bold(head);
	format_set_bg_color(head, 0xE8F0FE);
	format_set_border(head, LXW_BORDER_THIN);
	/* money is a real number, so sums and filters work in Excel; shown as yuan */
	money = workbook_add_format(wb);
	format_set_num_format(money, "0.00");
	dec = workbook_add_format(wb);
	format_set_num_format(dec, "0.00");
	milli = workbook_add_format(wb);
	format_set_num_format(milli, "0.000");
	date = workbook_add_format(wb);
	format_set_num_format(date, "yyyy-mm-dd");
	dtime = workbook_add_format(wb);
	format_set_num_format(dtime, "yyyy-mm-dd hh:mm:ss");

	for (size_t c = 0; c < s->ncols; c++) {
		idx[c] = col_index(rows, s->cols[c].name);
		worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c,
				     s->cols[c].width > 0 ? s->cols[c].width : 12, NULL);
		worksheet_write_string(ws, 0, (lxw_col_t)c, s->cols[c].header_zh, head);
	}
	worksheet_freeze_panes(ws, 1, 0);
	for (size_t r = 0; r < rows->nrows; r++) {
		lxw_row_t xr = (lxw_row_t)(r + 1);

		for (size_t c = 0; c < s->ncols; c++) {
			const struct xlsx_col *col = &s->cols[c];
			const char *v = idx[c] >= 0 ? db_str(rows, r, (size_t)idx[c]) : NULL;
			lxw_col_t xc = (lxw_col_t)c;
			int64_t i;
			struct tm tm;
			int ms;

			if (!v)
				continue; /* SQL NULL: an empty cell */
			switch (col->kind) {
			case XLSX_INT:
				if (to_i64(v, &i) == 0)
					worksheet_write_number(ws, xr, xc, (double)i, NULL);
				else
					worksheet_write_string(ws, xr, xc, v, NULL);
				break;
			case XLSX_FEN:
			case XLSX_MILLI:
				/* Excel keeps numbers as doubles: integer fen (or Wh) below
				 * 2^53 divided once is the nearest double to the exact
				 * value, and the 0.00 format shows it exactly */
				if (to_i64(v, &i) == 0 && col->kind == XLSX_FEN)
					worksheet_write_number(ws, xr, xc, (double)i / 100.0, money);
				else if (to_i64(v, &i) == 0)
					worksheet_write_number(ws, xr, xc, (double)i / 1000.0, milli);
				else
					worksheet_write_string(ws, xr, xc, v, NULL);
				break;
			case XLSX_DEC:
				worksheet_write_number(ws, xr, xc, strtod(v, NULL), dec);
				break;
			case XLSX_DATE:
			case XLSX_DATETIME:
				if (parse_time(v, &tm, &ms) == 0) {
					lxw_datetime dt;

					if (col->kind == XLSX_DATETIME) {
						/* stored in UTC; staff read Beijing time */
						time_t t = timegm(&tm) + 8 * 3600;
						gmtime_r(&t, &tm);
					}
					dt.year = tm.tm_year + 1900;
					dt.month = tm.tm_mon + 1;
					dt.day = tm.tm_mday;
					dt.hour = col->kind == XLSX_DATETIME ? tm.tm_hour : 0;
					dt.min = col->kind == XLSX_DATETIME ? tm.tm_min : 0;
					dt.sec = col->kind == XLSX_DATETIME ? tm.tm_sec + ms / 1000.0 : 0;
					worksheet_write_datetime(ws, xr, xc, &dt,
								 col->kind == XLSX_DATE ? date : dtime);
				} else {
					worksheet_write_string(ws, xr, xc, v, NULL);
				}
				break;
			case XLSX_BOOL:
				worksheet_write_string(ws, xr, xc, strcmp(v, "0") ? "是" : "否", NULL);
				break;
			case XLSX_TEXT:
			default:
				worksheet_write_string(ws, xr, xc, label_of(col, v), NULL);
				break;
			}
		}
	}
	if (rows->nrows > 0)
		worksheet_autofilter(ws, 0, 0, (lxw_row_t)rows->nrows, (lxw_col_t)(s->ncols - 1));
	err = workbook_close(wb);
	if (err != LXW_NO_ERROR) {
		log_error("xlsx: writing %s failed: %s", path, lxw_strerror(err));
		return XQ_ERROR;
	}
	return XQ_OK;
}

static void pct_encode(char *out, size_t n, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t j = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p && j + 4 < n; p++) {
		/* RFC 5987 attr-char: ALPHA / DIGIT / "!#$&+-.^_`|~" */
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    strchr("!#$&+-.^_`|~", *p)) {
			out[j++] = (char)*p;
		} else {
			out[j++] = '%';
			out[j++] = hex[*p >> 4];
			out[j++] = hex[*p & 15];
		}
	}
	out[j] = '\0';
}

void xlsx_disposition(char *out, size_t n, const char *ascii, const char *zh, const char *yyyymmdd)
{
	char name[256], enc[768];

	xq_snprintf(name, sizeof(name), "%s-%s.xlsx", zh, yyyymmdd);
	pct_encode(enc, sizeof(enc), name);
	xq_snprintf(out, n, "attachment; filename=\"%s-%s.xlsx\"; filename*=UTF-8''%s", ascii,
		    yyyymmdd, enc);
}

static int xlsx_send(struct req *rq, int64_t total, struct db_res *rows);

int xlsx_reply(struct req *rq, int rc, struct db_res *count, struct db_res *rows)
{
	int64_t total;

	if (rc) {
		db_res_release(count);
		db_res_release(rows);
		return resp_fail(rq, rc);
	}
	total = db_i64(count, 0, 0);
	db_res_release(count);
	return xlsx_send(rq, total, rows);
}

int xlsx_reply_rows(struct req *rq, struct db_res *rows)
{
	return xlsx_send(rq, (int64_t)rows->nrows, rows);
}

/* The cap, then the workbook of rows; releases rows. */
static int xlsx_send(struct req *rq, int64_t total, struct db_res *rows)
{
	const struct xlsx_sheet *s = rq->export_sheet;
	const char *tmp = getenv("TMPDIR");
	char path[512], disp[1024], day[16], msg[128];
	time_t now = time(NULL) + 8 * 3600; /* the file is named by the Beijing date */
	struct tm tm;
	FILE *f;
	int fd, rc;

	if (total > XLSX_MAX_ROWS) {
		db_res_release(rows);
		xq_snprintf(msg, sizeof(msg), "共 %lld 行，超过单次导出上限 %d 行，请缩小筛选范围",
			    (long long)total, XLSX_MAX_ROWS);
		return resp_fail_msg(rq, XQ_EINVAL, msg, NULL);
	}
	if (!tmp || !*tmp)
		tmp = "/tmp";
	xq_snprintf(path, sizeof(path), "%s/xq-export-XXXXXX", tmp);
	fd = mkstemp(path);
	if (fd < 0) {
		log_error("xlsx: mkstemp in %s: %s", tmp, strerror(errno));
		db_res_release(rows);
		return resp_fail(rq, XQ_ERROR);
	}
	close(fd);
	rc = xlsx_write(s, rows, tmp, path);
	db_res_release(rows);
	f = rc == XQ_OK ? fopen(path, "rb") : NULL;
	/* unlinked at once: the open handle keeps the data until it is sent */
	unlink(path);
	if (!f)
		return resp_fail(rq, XQ_ERROR);
	gmtime_r(&now, &tm);
	strftime(day, sizeof(day), "%Y%m%d", &tm);
	xlsx_disposition(disp, sizeof(disp), s->file_ascii, s->file_zh, day);
	resp_header(rq, "Content-Disposition", disp);
	return resp_file(rq, 200,
			 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", f);
}
