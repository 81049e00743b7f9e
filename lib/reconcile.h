/*
 * reconcile.h - WeChat Pay's daily trade bill (§12) against our payments and
 * refunds: the parser (pure, tested on WeChat's published sample file) and
 * the run behind `xqctl reconcile --date YYYY-MM-DD`.
 *
 * The file: UTF-8 with BOM, CRLF, a plain header line, detail lines whose
 * every field starts with one backtick, then a plain summary header and one
 * backticked summary line. Amounts are yuan with up to two decimals (the
 * summary of WeChat's own sample writes "0.0" and a count "45.0"); they are
 * read as exact decimals into fen, never through floating point. Columns
 * are found by their header names, so the ALL, SUCCESS and REFUND layouts
 * all parse.
 */
#ifndef XQ_RECONCILE_H
#define XQ_RECONCILE_H

#include "xq.h"

struct db;
struct config;

struct recon_line {
	int is_refund; /* 交易状态 REFUND: a refund line */
	char trade_time[20];
	char transaction_id[33], out_trade_no[33], trade_state[17];
	char refund_id[33], out_refund_no[65], refund_status[17];
	int64_t settle_fen; /* 应结订单金额 */
	int64_t order_fen;  /* 订单金额 */
	int64_t refund_fen; /* 退款金额 */
};

struct recon_bill {
	struct recon_line *v;
	size_t n, cap;
	int has_summary;
	int64_t sum_count, sum_settle_fen, sum_refund_fen, sum_order_fen;
};

/*
 * Parses a whole bill file into out (caller releases). XQ_EINVAL with a
 * reason in err for a file that is not a trade bill: no header, a detail
 * line with the wrong number of fields or without backticks, a bad amount.
 */
int recon_parse(const char *data, size_t len, struct recon_bill *out /* OUT */, char *err,
		size_t errn);
void recon_bill_release(struct recon_bill *b);

struct recon_report {
	char status[16]; /* ok, diff, failed, no_statement */
	int64_t wx_trades, wx_refunds, wx_total_fen, wx_refund_fen;
	int64_t our_trades, our_refunds, our_total_fen, our_refund_fen;
	int64_t diffs;
	char *detail_json; /* {"differences":[...]}; owned, free() */
	char error[256];
};

/*
 * Downloads the ALL bill of date (Beijing calendar day), checks its SHA-1,
 * parses it, compares it with our wechat payments (by paid_at) and refunds
 * (by request time) of that day, stores the result in `reconciliation`
 * (one row per date, replaced by a re-run) and raises a reconcile_diff
 * alert when anything differs. XQ_OK when the run completed (differences or
 * not: see rep->status); an error when the bill could not be fetched.
 */
int recon_run(struct db *db, const struct config *cfg, const char *date, const char *run_by,
	      struct recon_report *rep /* OUT */);
/* Compares an already parsed bill; what recon_run does after the download. */
int recon_compare(struct db *db, const char *date, const struct recon_bill *b,
		  struct recon_report *rep /* OUT */);
void recon_report_release(struct recon_report *rep);

#endif
