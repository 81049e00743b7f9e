/*
 * xlsx_export.h - console lists as Excel workbooks (libxlsxwriter).
 *
 * An export route does not query anything itself: it points rq->export_sheet
 * at a sheet description and calls the resource's ordinary list handler, so
 * the filters, permission and SQL are exactly those of the JSON list. The
 * paging helper then asks for up to XLSX_MAX_ROWS rows from the start, and
 * api_list_reply() hands the rows to xlsx_reply() instead of answering JSON.
 */
#ifndef XQ_XLSX_EXPORT_H
#define XQ_XLSX_EXPORT_H

#include "db.h"
#include "http.h"

#include <stddef.h>

/* More rows than this is refused (400): narrow the filters instead. */
#define XLSX_MAX_ROWS 50000

enum xlsx_kind {
	XLSX_TEXT,     /* as is (with labels: the label of the value) */
	XLSX_INT,      /* an integer number */
	XLSX_DEC,      /* a decimal text ("12.50") as a number with two places */
	XLSX_FEN,      /* integer fen as yuan, number format 0.00 */
	XLSX_MILLI,    /* Wh or L as kWh or m3, three places */
	XLSX_DATE,     /* "YYYY-MM-DD" as an Excel date */
	XLSX_DATETIME, /* a UTC DATETIME shown in Beijing time (UTC+8) */
	XLSX_BOOL,     /* 0/1 as 否/是 */
};

struct xlsx_label {
	const char *value, *label_zh;
};

struct xlsx_col {
	const char *name;      /* the result column (alias) */
	const char *header_zh; /* the header cell */
	enum xlsx_kind kind;
	double width;                  /* column width in characters */
	const struct xlsx_label *labels; /* XLSX_TEXT: value -> label, NULL-terminated */
};

struct xlsx_sheet {
	const char *sheet_zh;   /* worksheet name */
	const char *file_zh;    /* download name without date and extension, e.g. "房屋列表" */
	const char *file_ascii; /* the same for old clients, e.g. "houses" */
	const struct xlsx_col *cols;
	size_t ncols;
};

/*
 * Writes rows as a workbook into the already-open, empty file f (a temp
 * file). Returns XQ_OK or XQ_ERROR (logged).
 */
int xlsx_write(const struct xlsx_sheet *s, const struct db_res *rows, const char *tmpdir,
	       const char *path);

/*
 * The response for an export: 400 when total exceeds XLSX_MAX_ROWS, else the
 * workbook streamed from a temp file with a Content-Disposition naming the
 * file in Chinese (RFC 5987 filename*) and in ASCII. Releases both results.
 */
int xlsx_reply(struct req *rq, int rc, struct db_res *count, struct db_res *rows);

/*
 * The same for a result that is the whole sheet already (the reports,
 * cgi/admin_report.c): the cap applies to rows->nrows. Releases rows.
 */
int xlsx_reply_rows(struct req *rq, struct db_res *rows);

/*
 * "attachment; filename=\"<ascii>-YYYYMMDD.xlsx\"; filename*=UTF-8''<pct-encoded
 * zh>-YYYYMMDD.xlsx" into out (for tests and xlsx_reply).
 */
void xlsx_disposition(char *out, size_t n, const char *ascii, const char *zh,
		      const char *yyyymmdd);

#endif
