/*
 * payops.h - where money is credited, settled and refunded, shared by xq-api
 * (notifications, order queries, console and resident payments) and xqctl
 * (pay-retry, pay-sync, reconcile). No HTTP here: callers pass the stored
 * notification or the decoded request, so the server and the cron jobs run
 * exactly the same code (docs/payments.md).
 *
 * Invariants:
 *  - a payment is credited at most once: the order (or payment) row lock
 *    serialises repeats, and the unique keys (payment per order and per
 *    channel + external_ref, ledger idem_key) refuse a second credit even if
 *    a state check were wrong;
 *  - bills are settled in one place (settle_plan/settle_apply in payops.c)
 *    whatever the channel: wechat, cash, bank or balance;
 *  - every ledger write happens in the same transaction as the account
 *    balance change it explains.
 */
#ifndef XQ_PAYOPS_H
#define XQ_PAYOPS_H

#include "wxpay_sign.h"
#include "xq.h"

struct db;
struct config;
struct audit_actor;

/* The fields of a WeChat Pay transaction object (§8.2/§9.2) that we use. */
struct pay_txn {
	char appid[33], mchid[33], out_trade_no[33], transaction_id[33], trade_state[33];
	char currency[17];
	char success_time[24]; /* UTC "YYYY-MM-DD HH:MM:SS", "" if absent */
	int64_t total_fen, payer_total_fen;
};

/* Reads a decrypted/verified transaction JSON into t. XQ_EPROTO if required fields lack. */
int pay_txn_parse(const char *json, size_t len, struct pay_txn *t /* OUT */);
/* XQ_OK if t names our appid and mchid and CNY; XQ_EPROTO (logged) otherwise. */
int pay_txn_check(const struct config *cfg, const struct pay_txn *t);
/*
 * Credits a SUCCESS transaction once, in one transaction: payment row, ledger
 * 'payment' (+amount, pay:<payment_id>), 'settle' per bill of the order
 * (settle:<bill_id>:<payment_id>), bill paid_fen/status, the rest as account
 * credit, order state paid; and, when inbox_id > 0, that wx_notify_inbox row
 * marked credited/duplicate. An order already paid (or refunded since) is a
 * duplicate: XQ_OK with *credited = 0. A 'closed' order is credited (the money
 * arrived). XQ_ENOTFOUND: unknown out_trade_no; XQ_EPROTO: amount differs
 * from the order; XQ_EINVAL: not SUCCESS; db codes otherwise (nothing written).
 */
int pay_settle(struct db *db, const struct pay_txn *t, int64_t inbox_id,
	       int *credited /* OUT, may be NULL */);

/* The decrypted refund object of a REFUND.* callback (§11.3). */
struct pay_refund_txn {
	char mchid[33], out_trade_no[33], transaction_id[33], out_refund_no[65], refund_id[33];
	char refund_status[17]; /* SUCCESS, ABNORMAL, CLOSED */
	char success_time[24];  /* UTC, "" if absent */
	char user_received_account[65];
	int64_t total_fen, refund_fen;
};

int pay_refund_parse(const char *json, size_t len, struct pay_refund_txn *t /* OUT */);
/*
 * Applies a final refund state once (refund row locked by out_refund_no):
 * SUCCESS posts ledger 'refund' -amount (refund:<refund_id>), lowers the
 * balance and raises wx_order.refunded_fen; ABNORMAL and CLOSED post nothing.
 * *applied = 0 for a repeat. XQ_ENOTFOUND unknown out_refund_no, XQ_EPROTO
 * amounts or order differ from ours.
 */
int pay_refund_settle(struct db *db, const struct pay_refund_txn *t, int64_t inbox_id,
		      int *applied /* OUT, may be NULL */);

/*
 * One stored notification through verify, decrypt, check and settle.
 * now_s is the time the signature window is checked against: the current
 * time for a live delivery, the time it was received for pay-retry (the
 * signature then was fresh). Marks the inbox row with its result unless the
 * failure is ours (keys missing, database), in which case the row stays
 * unprocessed for pay-retry. Raises an alert for unknown or mismatching
 * payments and forged signatures. Returns the HTTP status to answer WeChat
 * (200 accepted, 4xx refused, 500 our failure).
 */
int payops_notify_process(struct db *db, const struct config *cfg, int64_t inbox_id,
			  const char *event_type, const struct wxpay_sig_headers *sh,
			  const char *body, size_t body_len, int64_t now_s);

/*
 * Raises an alert (level info/warning/critical) once per dedup_key; house_id
 * 0 for none (the community follows from the house). detail is JSON text or
 * NULL. A failure is logged and returned, never fatal to the caller.
 */
int payops_alert(struct db *db, const char *kind, const char *level, int64_t house_id,
		 const char *dedup_key, const char *message_zh, const char *detail_json);

/* ---- jobs (xqctl pay-retry, pay-sync) -------------------------------- */

struct payops_job_stats {
	int64_t seen, claimed, credited, duplicate, refused, failed, closed, refunds;
};

/*
 * pay-retry: every unprocessed inbox row received more than min_age_s ago
 * (younger ones may still be in the hands of xq-api) is claimed for
 * claim_s seconds and processed again from its stored headers and body.
 */
int payops_retry(struct db *db, const struct config *cfg, int min_age_s, int claim_s, int limit,
		 struct payops_job_stats *st /* OUT */);
/*
 * pay-sync: created orders older than min_age_s are claimed, queried and
 * settled when SUCCESS; those past their expiry (time_expire, or created_at
 * + expire_s when none was set) are closed at WeChat and locally. Refunds
 * still 'requested' are sent again (same out_refund_no) and 'processing'
 * ones older than min_age_s are queried.
 */
int payops_sync(struct db *db, const struct config *cfg, int min_age_s, int expire_s, int claim_s,
		int limit, struct payops_job_stats *st /* OUT */);

/* ---- refunds ----------------------------------------------------------- */

struct refund_result {
	int64_t refund_id;
	char out_refund_no[65];
	char state[17];
	char message_zh[128]; /* why a request was refused */
};

/*
 * Records a refund of amount_fen of a wechat payment (checked under the
 * payment and account row locks: at most the paid amount minus refunds not
 * closed, and at most the account credit minus pending refunds), with an
 * audit row, then asks WeChat (POST /v3/refund/domestic/refunds). XQ_ENOTFOUND
 * no such payment; XQ_ECONFLICT refused (message in out->message_zh).
 * XQ_OK also when WeChat could not be reached: the refund stays 'requested'
 * and pay-sync sends it again.
 */
int payops_refund_create(struct db *db, const struct config *cfg, const struct audit_actor *who,
			 int64_t payment_id, int64_t amount_fen, const char *reason,
			 struct refund_result *out /* OUT */);

/* ---- staff and balance payments --------------------------------------- */

#define PAYOPS_MAX_BILLS 64

struct staff_payment {
	const char *channel; /* cash, bank, balance */
	int64_t house_id;
	int64_t amount_fen;  /* cash/bank: received; balance: ignored (what the credit covers) */
	size_t nbills;       /* 0: every issued bill of the house, oldest first */
	int64_t bill[PAYOPS_MAX_BILLS];
	const char *external_ref; /* idempotency: bank serial or Idempotency-Key; may be NULL */
	const char *note;
	int64_t staff_id;    /* 0 for a resident paying from their balance */
};

struct staff_payment_result {
	int64_t payment_id, settled_fen, credit_fen, balance_fen;
	int duplicate; /* the external_ref was seen: nothing new was written */
	char message_zh[128];
};

/*
 * Records a cash/bank payment (ledger 'payment', settle oldest first, the
 * rest to credit) or pays bills from the credit (channel balance: no new
 * money, settle entries only). who may be NULL (no audit row: a resident).
 * XQ_ECONFLICT: a bill is not issued or not of the house, or no credit;
 * XQ_ENOTFOUND: no such house.
 */
int payops_staff_payment(struct db *db, const struct audit_actor *who, const struct staff_payment *p,
			 struct staff_payment_result *out /* OUT */);

/* Test-only fault hook (docs/payments.md): XQ_FAULT_NOTIFY=sleep:<ms>|kill[@out_trade_no]. */
void payops_fault_point(const char *where, const char *out_trade_no);

#endif
