/*
 * reconcile.c - the trade bill parser and the daily comparison (reconcile.h).
 */
#include "reconcile.h"

#include "config.h"
#include "db.h"
#include "log.h"
#include "money.h"
#include "payops.h"
#include "wxclient.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RECON_MAX_COLS 40

/* ---- parser ------------------------------------------------------------------------ */

void recon_bill_release(struct recon_bill *b)
{
	free(b->v);
	memset(b, 0, sizeof(*b));
}

/* Splits line (modified in place) on ','; strips one backtick per field when tick. */
static int split(char *line, char **f, int max, int tick)
{
	int n = 0;
	char *p = line;

	for (;;) {
		char *c = strchr(p, ',');
		if (n == max)
			return -1;
		if (c)
			*c = '\0';
		if (tick) {
			if (*p != '`')
				return -1;
			p++;
		}
		f[n++] = p;
		if (!c)
			return n;
		p = c + 1;
	}
}

static int col(char **names, int n, const char *want)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], want))
			return i;
	return -1;
}

static void cpy(char *dst, size_t cap, const char *s)
{
	size_t n = strlen(s);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* A yuan amount into fen; the empty field of a layout without it is 0. */
static int amount(char **f, int i, int64_t *out)
{
	*out = 0;
	if (i < 0 || !*f[i])
		return XQ_OK;
	return money_parse_yuan(f[i], out);
}

int recon_parse(const char *data, size_t len, struct recon_bill *out, char *err, size_t errn)
{
	char *text = xq_malloc(len + 1), *line, *next;
	char *hdr[RECON_MAX_COLS], *f[RECON_MAX_COLS], *sh[RECON_MAX_COLS];
	int nh = -1, ns = -1, lineno = 0, rc = XQ_OK;
	int c_time, c_tid, c_otn, c_state, c_settle, c_rid, c_orn, c_refund, c_rstate, c_order;
	char hdrbuf[2048] = "", shbuf[1024] = "";

	memset(out, 0, sizeof(*out));
	err[0] = '\0';
	memcpy(text, data, len);
	text[len] = '\0';
	line = text;
	if (len >= 3 && !memcmp(line, "\xEF\xBB\xBF", 3))
		line += 3;
	c_time = c_tid = c_otn = c_state = c_settle = c_rid = c_orn = c_refund = c_rstate = c_order = -1;
	for (; line && *line; line = next) {
		size_t n;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		n = strlen(line);
		if (n && line[n - 1] == '\r')
			line[--n] = '\0';
		lineno++;
		if (!n)
			continue;
		if (nh < 0) {
			/* the detail header: plain names; kept in its own buffer */
			cpy(hdrbuf, sizeof(hdrbuf), line);
			nh = split(hdrbuf, hdr, RECON_MAX_COLS, 0);
			c_time = col(hdr, nh, "交易时间");
			c_tid = col(hdr, nh, "微信订单号");
			c_otn = col(hdr, nh, "商户订单号");
			c_state = col(hdr, nh, "交易状态");
			c_settle = col(hdr, nh, "应结订单金额");
			c_rid = col(hdr, nh, "微信退款单号");
			c_orn = col(hdr, nh, "商户退款单号");
			c_refund = col(hdr, nh, "退款金额");
			c_rstate = col(hdr, nh, "退款状态");
			c_order = col(hdr, nh, "订单金额");
			if (nh < 0 || c_time < 0 || c_tid < 0 || c_otn < 0 || c_state < 0 ||
			    c_settle < 0 || c_order < 0) {
				xq_snprintf(err, errn, "line 1: not a trade bill header");
				rc = XQ_EINVAL;
				goto out;
			}
			continue;
		}
		if (line[0] != '`') {
			/* the summary header */
			if (ns >= 0) {
				xq_snprintf(err, errn, "line %d: a second plain line", lineno);
				rc = XQ_EINVAL;
				goto out;
			}
			cpy(shbuf, sizeof(shbuf), line);
			ns = split(shbuf, sh, RECON_MAX_COLS, 0);
			if (ns <= 0) {
				xq_snprintf(err, errn, "line %d: bad summary header", lineno);
				rc = XQ_EINVAL;
				goto out;
			}
			continue;
		}
		if (ns >= 0) {
			/* the summary line */
			int k = split(line, f, RECON_MAX_COLS, 1), i;
			int64_t cnt = 0;
			if (k != ns || out->has_summary) {
				xq_snprintf(err, errn, "line %d: bad summary line", lineno);
				rc = XQ_EINVAL;
				goto out;
			}
			if ((i = col(sh, ns, "总交易单数")) < 0 || money_parse_yuan(f[i], &cnt) ||
			    cnt % 100 || amount(f, col(sh, ns, "应结订单总金额"), &out->sum_settle_fen) ||
			    amount(f, col(sh, ns, "退款总金额"), &out->sum_refund_fen) ||
			    amount(f, col(sh, ns, "订单总金额"), &out->sum_order_fen)) {
				xq_snprintf(err, errn, "line %d: bad summary value", lineno);
				rc = XQ_EINVAL;
				goto out;
			}
			out->sum_count = cnt / 100; /* written "45" or "45.0" */
			out->has_summary = 1;
			continue;
		}
		{
			struct recon_line *l;
			int k = split(line, f, RECON_MAX_COLS, 1);
			if (k != nh) {
				xq_snprintf(err, errn, "line %d: %d fields, header has %d", lineno, k, nh);
				rc = XQ_EINVAL;
				goto out;
			}
			if (out->n == out->cap) {
				out->cap = out->cap ? out->cap * 2 : 64;
				out->v = xq_realloc(out->v, out->cap * sizeof(*out->v));
			}
			l = &out->v[out->n];
			memset(l, 0, sizeof(*l));
			cpy(l->trade_time, sizeof(l->trade_time), f[c_time]);
			cpy(l->transaction_id, sizeof(l->transaction_id), f[c_tid]);
			cpy(l->out_trade_no, sizeof(l->out_trade_no), f[c_otn]);
			cpy(l->trade_state, sizeof(l->trade_state), f[c_state]);
			if (c_rid >= 0)
				cpy(l->refund_id, sizeof(l->refund_id), f[c_rid]);
			if (c_orn >= 0)
				cpy(l->out_refund_no, sizeof(l->out_refund_no), f[c_orn]);
			if (c_rstate >= 0)
				cpy(l->refund_status, sizeof(l->refund_status), f[c_rstate]);
			l->is_refund = !strcmp(l->trade_state, "REFUND");
			if (amount(f, c_settle, &l->settle_fen) || amount(f, c_order, &l->order_fen) ||
			    amount(f, c_refund, &l->refund_fen)) {
				xq_snprintf(err, errn, "line %d: bad amount", lineno);
				rc = XQ_EINVAL;
				goto out;
			}
			out->n++;
		}
	}
	if (nh < 0) {
		xq_snprintf(err, errn, "empty file");
		rc = XQ_EINVAL;
	}
out:
	free(text);
	if (rc)
		recon_bill_release(out);
	return rc;
}

/* ---- comparison -------------------------------------------------------------------- */

DB_QUERY(q_our_payments) = {
	"recon_our_payments",
	"SELECT p.external_ref, p.amount_fen, COALESCE(o.transaction_id, ''), p.house_id"
	" FROM payment p LEFT JOIN wx_order o ON o.id = p.wx_order_id"
	" WHERE p.channel = 'wechat' AND p.status = 'success' AND p.paid_at >= ? AND p.paid_at < ?"
	" ORDER BY CAST(p.external_ref AS BINARY)", /* strcmp order, like the bill lines */
	"ss",
	"slsl",
};
DB_QUERY(q_our_refunds) = {
	"recon_our_refunds",
	"SELECT out_refund_no, amount_fen, COALESCE(out_trade_no, ''), state FROM refund"
	" WHERE created_at >= ? AND created_at < ? AND state NOT IN ('requested', 'rejected')"
	" ORDER BY CAST(out_refund_no AS BINARY)",
	"ss",
	"slss",
};
DB_QUERY(q_payment_by_otn) = {
	"recon_payment_by_otn",
	"SELECT amount_fen, DATE_FORMAT(paid_at, '%Y-%m-%d %H:%i:%s') FROM payment"
	" WHERE channel = 'wechat' AND external_ref = ?",
	"s",
	"ls",
};
DB_QUERY(q_refund_by_no) = {
	"recon_refund_by_no", "SELECT amount_fen, state FROM refund WHERE out_refund_no = ?", "s",
	"ls",
};
DB_QUERY(q_recon_store) = {
	"recon_store",
	"INSERT INTO reconciliation (bill_date, status, wx_trades, wx_refunds, wx_total_fen,"
	" wx_refund_fen, our_trades, our_refunds, our_total_fen, our_refund_fen, diffs, detail,"
	" bill_sha1, run_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	" ON DUPLICATE KEY UPDATE status = VALUES(status), wx_trades = VALUES(wx_trades),"
	" wx_refunds = VALUES(wx_refunds), wx_total_fen = VALUES(wx_total_fen),"
	" wx_refund_fen = VALUES(wx_refund_fen), our_trades = VALUES(our_trades),"
	" our_refunds = VALUES(our_refunds), our_total_fen = VALUES(our_total_fen),"
	" our_refund_fen = VALUES(our_refund_fen), diffs = VALUES(diffs), detail = VALUES(detail),"
	" bill_sha1 = VALUES(bill_sha1), run_by = VALUES(run_by), runs = runs + 1",
	"sslllllllllsss",
	NULL,
};

/* [from, to) in UTC of a Beijing calendar day. XQ_EINVAL for a date that is not one. */
static int day_window(const char *date, char from[24], char to[24])
{
	struct tm tm;
	int y, m, d, n = 0;
	time_t t;

	if (strlen(date) != 10 || sscanf(date, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 ||
	    m < 1 || m > 12 || d < 1 || d > 31)
		return XQ_EINVAL;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	t = timegm(&tm);
	gmtime_r(&t, &tm);
	if (tm.tm_mday != d)
		return XQ_EINVAL; /* 2026-02-30 */
	t -= 8 * 3600; /* Asia/Shanghai has no DST */
	gmtime_r(&t, &tm);
	strftime(from, 24, "%Y-%m-%d %H:%M:%S", &tm);
	t += 86400;
	gmtime_r(&t, &tm);
	strftime(to, 24, "%Y-%m-%d %H:%M:%S", &tm);
	return XQ_OK;
}

static void diff_add(cJSON *arr, const char *kind, const char *otn, const char *orn,
		     int64_t wx_fen, int64_t our_fen, const char *note)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "kind", kind);
	if (otn && *otn)
		cJSON_AddStringToObject(o, "out_trade_no", otn);
	if (orn && *orn)
		cJSON_AddStringToObject(o, "out_refund_no", orn);
	if (wx_fen >= 0)
		cJSON_AddNumberToObject(o, "wechat_fen", (double)wx_fen);
	if (our_fen >= 0)
		cJSON_AddNumberToObject(o, "ours_fen", (double)our_fen);
	if (note)
		cJSON_AddStringToObject(o, "note", note);
	cJSON_AddItemToArray(arr, o);
}

static int by_otn(const void *a, const void *b)
{
	const struct recon_line *x = *(const struct recon_line *const *)a;
	const struct recon_line *y = *(const struct recon_line *const *)b;
	return strcmp(x->is_refund ? x->out_refund_no : x->out_trade_no,
		      y->is_refund ? y->out_refund_no : y->out_trade_no);
}

/* Merge-compares sorted bill lines with sorted local rows (key column 0, amount column 1). */
static void merge(struct db *db, const struct recon_line **lines, size_t nl, const struct db_res *r,
		  int refunds, cJSON *diffs)
{
	size_t i = 0, j = 0;

	while (i < nl || j < r->nrows) {
		const char *bk = i < nl ? (refunds ? lines[i]->out_refund_no : lines[i]->out_trade_no) : NULL;
		const char *ok = j < r->nrows ? db_str(r, j, 0) : NULL;
		int c = !bk ? 1 : !ok ? -1 : strcmp(bk, ok);

		if (c == 0) {
			int64_t wx = refunds ? lines[i]->refund_fen : lines[i]->order_fen;
			if (i + 1 < nl && !strcmp(bk, refunds ? lines[i + 1]->out_refund_no
							      : lines[i + 1]->out_trade_no)) {
				diff_add(diffs, refunds ? "refund_duplicate_in_bill" : "duplicate_in_bill",
					 refunds ? NULL : bk, refunds ? bk : NULL, wx, -1, NULL);
				i++;
				continue;
			}
			if (wx != db_i64(r, j, 1))
				diff_add(diffs, refunds ? "refund_amount_mismatch" : "amount_mismatch",
					 refunds ? db_str(r, j, 2) : bk, refunds ? bk : NULL, wx,
					 db_i64(r, j, 1), NULL);
			else if (!refunds && *db_str(r, j, 2) && strcmp(lines[i]->transaction_id, db_str(r, j, 2)))
				diff_add(diffs, "transaction_id_mismatch", bk, NULL, wx, db_i64(r, j, 1),
					 lines[i]->transaction_id);
			i++;
			j++;
		} else if (c < 0) {
			/* in WeChat's bill, not among our rows of the day: unknown, or booked on another day */
			struct db_res o;
			const char *note = "本地无此记录";
			int64_t ours = -1;
			int rc = refunds ? db_run(db, &q_refund_by_no, &o, bk)
					 : db_run(db, &q_payment_by_otn, &o, bk);
			if (!rc) {
				if (o.nrows) {
					ours = db_i64(&o, 0, 0);
					note = refunds ? "本地退款不在当日或未提交" : "本地记录的收款日期不同";
				}
				db_res_release(&o);
			}
			diff_add(diffs, refunds ? "refund_missing_local" : "missing_local",
				 refunds ? lines[i]->out_trade_no : bk, refunds ? bk : NULL,
				 refunds ? lines[i]->refund_fen : lines[i]->order_fen, ours, note);
			i++;
		} else {
			diff_add(diffs, refunds ? "refund_missing_wechat" : "missing_wechat",
				 refunds ? db_str(r, j, 2) : ok, refunds ? ok : NULL, -1, db_i64(r, j, 1),
				 "微信账单中没有此记录");
			j++;
		}
	}
}

int recon_compare(struct db *db, const char *date, const struct recon_bill *b,
		  struct recon_report *rep)
{
	char from[24], to[24];
	const struct recon_line **pay, **ref;
	size_t np = 0, nr = 0;
	struct db_res ours_p = { 0 }, ours_r = { 0 };
	int64_t s_settle = 0, s_refund = 0, s_order = 0;
	cJSON *root, *diffs;
	int rc;

	if (day_window(date, from, to))
		return XQ_EINVAL;
	pay = xq_calloc(b->n + 1, sizeof(*pay));
	ref = xq_calloc(b->n + 1, sizeof(*ref));
	for (size_t i = 0; i < b->n; i++) {
		const struct recon_line *l = &b->v[i];
		if (l->is_refund) {
			ref[nr++] = l;
			money_add(&rep->wx_refund_fen, l->refund_fen);
		} else {
			pay[np++] = l;
			money_add(&rep->wx_total_fen, l->order_fen);
		}
		money_add(&s_settle, l->settle_fen);
		money_add(&s_refund, l->refund_fen);
		money_add(&s_order, l->order_fen);
	}
	rep->wx_trades = (int64_t)np;
	rep->wx_refunds = (int64_t)nr;
	qsort(pay, np, sizeof(*pay), by_otn);
	qsort(ref, nr, sizeof(*ref), by_otn);
	root = cJSON_CreateObject();
	diffs = cJSON_AddArrayToObject(root, "differences");
	if (b->has_summary && (b->sum_count != (int64_t)b->n || b->sum_settle_fen != s_settle ||
			       b->sum_refund_fen != s_refund || b->sum_order_fen != s_order))
		diff_add(diffs, "summary_mismatch", NULL, NULL, b->sum_order_fen, s_order,
			 "账单汇总行与明细合计不符");
	if ((rc = db_run(db, &q_our_payments, &ours_p, from, to)) ||
	    (rc = db_run(db, &q_our_refunds, &ours_r, from, to)))
		goto out;
	for (size_t j = 0; j < ours_p.nrows; j++)
		money_add(&rep->our_total_fen, db_i64(&ours_p, j, 1));
	for (size_t j = 0; j < ours_r.nrows; j++)
		money_add(&rep->our_refund_fen, db_i64(&ours_r, j, 1));
	rep->our_trades = (int64_t)ours_p.nrows;
	rep->our_refunds = (int64_t)ours_r.nrows;
	merge(db, pay, np, &ours_p, 0, diffs);
	merge(db, ref, nr, &ours_r, 1, diffs);
	rep->diffs = cJSON_GetArraySize(diffs);
	xq_snprintf(rep->status, sizeof(rep->status), "%s", rep->diffs ? "diff" : "ok");
out:
	db_res_release(&ours_p);
	db_res_release(&ours_r);
	free(pay);
	free(ref);
	if (!rc) {
		char *t = cJSON_PrintUnformatted(root);
		rep->detail_json = xq_strdup(t);
		cJSON_free(t);
	}
	cJSON_Delete(root);
	return rc;
}

void recon_report_release(struct recon_report *rep)
{
	free(rep->detail_json);
	rep->detail_json = NULL;
}

static void sha1_hex(const char *data, size_t n, char out[41])
{
	unsigned char md[20];
	unsigned int mdlen = 0;
	EVP_Digest(data, n, md, &mdlen, EVP_sha1(), NULL);
	xq_hex(md, sizeof(md), out);
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* The bill of date: apply (§12.1), download (§12.2), hash check. *none for NO_STATEMENT_EXIST. */
static int fetch(const struct config *cfg, const char *date, struct wxpay_reply *file, char sha[41],
		 int *none, char *err, size_t errn)
{
	struct wxpay_reply wr;
	char path[128], want[48] = "";
	const char *url, *p;
	cJSON *j = NULL;
	int rc;

	*none = 0;
	xq_snprintf(path, sizeof(path), "/v3/bill/tradebill?bill_date=%.10s&bill_type=ALL", date);
	wxpay_reply_init(&wr);
	rc = wxpay_call(cfg, "GET", path, NULL, &wr);
	if (rc == XQ_EINVAL && !strcmp(wr.code, "NO_STATEMENT_EXIST")) {
		*none = 1;
		wxpay_reply_release(&wr);
		return XQ_OK;
	}
	if (rc) {
		xq_snprintf(err, errn, "tradebill apply failed: http %ld %s", wr.status, wr.code);
		wxpay_reply_release(&wr);
		return rc;
	}
	j = cJSON_ParseWithLength(wr.body.data, wr.body.len);
	url = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "download_url"));
	p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "hash_value"));
	if (p && strlen(p) == 40)
		xq_snprintf(want, sizeof(want), "%s", p);
	lower(want);
	/* sign the path + query of download_url (§12.2); the host is wx.pay_base_url's */
	if (url && (p = strstr(url, "://")) && (p = strchr(p + 3, '/'))) {
		rc = wxpay_download(cfg, p, file);
		if (rc)
			xq_snprintf(err, errn, "bill download failed: http %ld", file->status);
	} else {
		xq_snprintf(err, errn, "tradebill answer without download_url");
		rc = XQ_EPROTO;
	}
	cJSON_Delete(j);
	wxpay_reply_release(&wr);
	if (rc)
		return rc;
	sha1_hex(file->body.data, file->body.len, sha);
	if (strcmp(sha, want)) {
		xq_snprintf(err, errn, "bill SHA-1 %s differs from hash_value '%s'", sha, want);
		return XQ_EPROTO;
	}
	return XQ_OK;
}

int recon_run(struct db *db, const struct config *cfg, const char *date, const char *run_by,
	      struct recon_report *rep)
{
	struct wxpay_reply file;
	struct recon_bill b;
	char sha[41] = "", from[24], to[24];
	int none = 0, rc;

	memset(rep, 0, sizeof(*rep));
	if (day_window(date, from, to)) {
		xq_snprintf(rep->error, sizeof(rep->error), "bad date '%.16s'", date);
		return XQ_EINVAL;
	}
	memset(&b, 0, sizeof(b));
	wxpay_reply_init(&file);
	rc = fetch(cfg, date, &file, sha, &none, rep->error, sizeof(rep->error));
	if (!rc && !none)
		rc = recon_parse(file.body.data, file.body.len, &b, rep->error, sizeof(rep->error));
	wxpay_reply_release(&file);
	if (rc) {
		xq_snprintf(rep->status, sizeof(rep->status), "failed");
		goto store;
	}
	/* no bill means WeChat saw no trade: every payment of ours that day is a difference */
	if ((rc = recon_compare(db, date, &b, rep)))
		goto store;
	if (none && !rep->diffs)
		xq_snprintf(rep->status, sizeof(rep->status), "no_statement");
store:
	recon_bill_release(&b);
	{
		int src;
		cJSON *d = NULL;
		if (!rep->detail_json) {
			d = cJSON_CreateObject();
			cJSON_AddArrayToObject(d, "differences");
			cJSON_AddStringToObject(d, "error", rep->error);
			char *t = cJSON_PrintUnformatted(d);
			rep->detail_json = xq_strdup(t);
			cJSON_free(t);
			cJSON_Delete(d);
		}
		src = db_run(db, &q_recon_store, NULL, date, rep->status, rep->wx_trades, rep->wx_refunds,
			     rep->wx_total_fen, rep->wx_refund_fen, rep->our_trades, rep->our_refunds,
			     rep->our_total_fen, rep->our_refund_fen, rep->diffs, rep->detail_json, sha,
			     run_by);
		if (src)
			log_error("reconcile %s: cannot store the result: %s", date, xq_strerror(src));
		if (!rc)
			rc = src;
	}
	if (!rc && rep->diffs) {
		char dk[64], msg[200];
		xq_snprintf(dk, sizeof(dk), "reconcile_diff:%s", date);
		xq_snprintf(msg, sizeof(msg), "%s 微信对账发现 %lld 处差异", date, (long long)rep->diffs);
		payops_alert(db, "reconcile_diff", "critical", 0, dk, msg, rep->detail_json);
	}
	return rc;
}
