/*
 * payops.c - crediting, settling and refunding (see payops.h). Moved out of
 * cgi/ so that xqctl's jobs run the very code xq-api runs.
 *
 * Lock order, everywhere: wx_order (or payment) -> account -> bills by id.
 * A transaction that breaks it can only deadlock, and db_tx() retries that.
 */
#include "payops.h"

#include "audit.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "money.h"
#include "wxclient.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- the transaction object (§8.2 / §9.2) --------------------------------- */

static void copy_str(const cJSON *o, const char *name, char *dst, size_t cap)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
	dst[0] = '\0';
	if (cJSON_IsString(it) && strlen(it->valuestring) < cap)
		memcpy(dst, it->valuestring, strlen(it->valuestring) + 1);
}

/* "2024-06-01T10:00:01+08:00" (or Z, fractions) -> "2024-06-01 02:00:01" UTC; "" if unparsable. */
static void rfc3339_to_utc(const char *s, char out[24])
{
	struct tm tm;
	int y, mo, d, h, mi, sec, n = 0, oh = 0, om = 0, sign = 1;
	const char *p;
	time_t t;

	out[0] = '\0';
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n < 19)
		return;
	p = s + n;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2)
			return;
	} else if (*p != 'Z') {
		return;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm) - sign * (oh * 3600 + om * 60);
	gmtime_r(&t, &tm);
	strftime(out, 24, "%Y-%m-%d %H:%M:%S", &tm);
}

/* An integer fen amount; -1 when absent or not a whole number. */
static int64_t fen_of(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e15 ||
	    (double)(int64_t)v->valuedouble != v->valuedouble)
		return -1;
	return (int64_t)v->valuedouble;
}

int pay_txn_parse(const char *json, size_t len, struct pay_txn *t)
{
	cJSON *j = cJSON_ParseWithLength(json, len);
	const cJSON *amt;
	char st[40];

	memset(t, 0, sizeof(*t));
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return XQ_EPROTO;
	}
	copy_str(j, "appid", t->appid, sizeof(t->appid));
	copy_str(j, "mchid", t->mchid, sizeof(t->mchid));
	copy_str(j, "out_trade_no", t->out_trade_no, sizeof(t->out_trade_no));
	copy_str(j, "transaction_id", t->transaction_id, sizeof(t->transaction_id));
	copy_str(j, "trade_state", t->trade_state, sizeof(t->trade_state));
	copy_str(j, "success_time", st, sizeof(st));
	rfc3339_to_utc(st, t->success_time);
	amt = cJSON_GetObjectItemCaseSensitive(j, "amount");
	t->total_fen = fen_of(amt, "total");
	t->payer_total_fen = fen_of(amt, "payer_total");
	if (t->payer_total_fen < 0)
		t->payer_total_fen = t->total_fen;
	copy_str(amt, "currency", t->currency, sizeof(t->currency));
	if (!t->currency[0])
		xq_snprintf(t->currency, sizeof(t->currency), "CNY");
	cJSON_Delete(j);
	if (!t->appid[0] || !t->mchid[0] || !t->out_trade_no[0] || !t->trade_state[0])
		return XQ_EPROTO;
	return XQ_OK;
}

int pay_txn_check(const struct config *cfg, const struct pay_txn *t)
{
	if (strcmp(t->appid, cfg->wx_appid) || strcmp(t->mchid, cfg->wx_mchid))
		return xq_error(XQ_EPROTO, "transaction '%s' names appid '%s' mchid '%s', not ours",
				t->out_trade_no, t->appid, t->mchid);
	if (strcmp(t->currency, "CNY"))
		return xq_error(XQ_EPROTO, "transaction '%s' in currency '%s'", t->out_trade_no,
				t->currency);
	return XQ_OK;
}

int pay_refund_parse(const char *json, size_t len, struct pay_refund_txn *t)
{
	cJSON *j = cJSON_ParseWithLength(json, len);
	const cJSON *amt;
	char st[40];

	memset(t, 0, sizeof(*t));
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return XQ_EPROTO;
	}
	copy_str(j, "mchid", t->mchid, sizeof(t->mchid));
	copy_str(j, "out_trade_no", t->out_trade_no, sizeof(t->out_trade_no));
	copy_str(j, "transaction_id", t->transaction_id, sizeof(t->transaction_id));
	copy_str(j, "out_refund_no", t->out_refund_no, sizeof(t->out_refund_no));
	copy_str(j, "refund_id", t->refund_id, sizeof(t->refund_id));
	/* the callback says refund_status, create/query answers say status (§11.3) */
	copy_str(j, "refund_status", t->refund_status, sizeof(t->refund_status));
	if (!t->refund_status[0])
		copy_str(j, "status", t->refund_status, sizeof(t->refund_status));
	copy_str(j, "user_received_account", t->user_received_account,
		 sizeof(t->user_received_account));
	copy_str(j, "success_time", st, sizeof(st));
	rfc3339_to_utc(st, t->success_time);
	amt = cJSON_GetObjectItemCaseSensitive(j, "amount");
	t->total_fen = fen_of(amt, "total");
	t->refund_fen = fen_of(amt, "refund");
	cJSON_Delete(j);
	if (!t->out_refund_no[0] || !t->refund_status[0] || t->refund_fen < 0)
		return XQ_EPROTO;
	return XQ_OK;
}

/* ---- alerts ------------------------------------------------------------------ */

DB_QUERY(q_alert_add) = {
	"payops_alert_add",
	"INSERT INTO alert (community_id, kind, level, house_id, message, detail, dedup_key)"
	" SELECT (SELECT b.community_id FROM house h JOIN building b ON b.id = h.building_id"
	"         WHERE h.id = ?), ?, ?, ?, ?, ?, ?"
	" ON DUPLICATE KEY UPDATE id = id",
	"LssLsss",
	NULL,
};

int payops_alert(struct db *db, const char *kind, const char *level, int64_t house_id,
		 const char *dedup_key, const char *message_zh, const char *detail_json)
{
	const int64_t *hp = house_id > 0 ? &house_id : NULL;
	int rc = db_run(db, &q_alert_add, NULL, hp, kind, level, hp, message_zh, detail_json,
			dedup_key);

	if (rc)
		return xq_error(rc, "cannot raise alert '%s'", dedup_key);
	log_warn("alert %s '%s': %s", level, dedup_key, kind);
	return XQ_OK;
}

/* ---- settling bills: the one code path for every channel ------------------------ */

DB_QUERY(q_bill_lock) = {
	"payops_bill_lock",
	"SELECT house_id, status, paid_fen, amount_fen + late_fee_fen FROM bill WHERE id = ? FOR UPDATE",
	"l",
	"lsll",
};
DB_QUERY(q_bill_update) = {
	"payops_bill_update",
	"UPDATE bill SET paid_fen = ?, status = ?, paid_at = IF(? = 'paid', NOW(3), paid_at)"
	" WHERE id = ?",
	"lssl",
	NULL,
};
DB_QUERY(q_ledger) = {
	"payops_ledger_insert",
	"INSERT INTO ledger_entry (account_id, kind, amount_fen, idem_key, bill_id, payment_id,"
	" refund_id, staff_id, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
	"lslsLLLLs",
	NULL,
};
DB_QUERY(q_account_ensure) = {
	"payops_account_ensure", "INSERT IGNORE INTO account (house_id) VALUES (?)", "l", NULL,
};
DB_QUERY(q_account_lock) = {
	"payops_account_lock",
	"SELECT a.id, a.balance_fen, (SELECT COALESCE(SUM(r.amount_fen), 0) FROM refund r"
	"  WHERE r.house_id = a.house_id AND r.state IN ('requested', 'processing'))"
	" FROM account a WHERE a.house_id = ? FOR UPDATE",
	"l",
	"lll",
};
DB_QUERY(q_balance_add) = {
	"payops_balance_add", "UPDATE account SET balance_fen = balance_fen + ? WHERE id = ?", "ll",
	NULL,
};

struct take {
	int64_t bill_id, take, paid_after, due;
};

/*
 * Locks the bills and decides what each gets: min(cap, what it still owes,
 * what is left of *budget), in the order given. Bills not issued get nothing
 * when lenient, and refuse the plan (XQ_ECONFLICT) otherwise; so do bills of
 * another house.
 */
static int settle_plan(struct db *db, int64_t house_id, size_t n, const int64_t *bill,
		       const int64_t *cap, int lenient, int64_t *budget, struct take *out,
		       size_t *nout, int64_t *total)
{
	struct db_res r;
	int rc;

	*nout = 0;
	*total = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t paid, due, owed, t;
		int issued;

		if ((rc = db_run(db, &q_bill_lock, &r, bill[i])))
			return rc;
		if (r.nrows != 1 || db_i64(&r, 0, 0) != house_id) {
			db_res_release(&r);
			if (lenient)
				continue;
			return XQ_ENOTFOUND;
		}
		issued = !strcmp(db_str(&r, 0, 1), "issued");
		paid = db_i64(&r, 0, 2);
		due = db_i64(&r, 0, 3);
		db_res_release(&r);
		if (!issued) {
			if (lenient)
				continue;
			return XQ_ECONFLICT;
		}
		owed = due - paid;
		t = cap && cap[i] < owed ? cap[i] : owed;
		if (t > *budget)
			t = *budget;
		if (t <= 0)
			continue;
		out[*nout].bill_id = bill[i];
		out[*nout].take = t;
		out[*nout].paid_after = paid + t;
		out[*nout].due = due;
		(*nout)++;
		*budget -= t;
		if ((rc = money_add(total, t)))
			return rc;
	}
	return XQ_OK;
}

/* Writes a plan: one 'settle' entry per bill (settle:<bill>:<payment>) and the bill itself. */
static int settle_apply(struct db *db, int64_t account_id, int64_t payment_id, int64_t staff_id,
			const char *note, const struct take *t, size_t n)
{
	const int64_t *sp = staff_id > 0 ? &staff_id : NULL;
	char key[96];
	int rc;

	for (size_t i = 0; i < n; i++) {
		const char *st = t[i].paid_after >= t[i].due ? "paid" : "issued";
		xq_snprintf(key, sizeof(key), "settle:%lld:%lld", (long long)t[i].bill_id,
			    (long long)payment_id);
		if ((rc = db_run(db, &q_ledger, NULL, account_id, "settle", -t[i].take, key,
				 &t[i].bill_id, &payment_id, (const int64_t *)NULL, sp, note)) ||
		    (rc = db_run(db, &q_bill_update, NULL, t[i].paid_after, st, st, t[i].bill_id)))
			return rc;
	}
	return XQ_OK;
}

/* The house's account, created if missing, locked: id, balance and pending refunds. */
static int account_lock(struct db *db, int64_t house_id, int64_t *id, int64_t *balance,
			int64_t *pending)
{
	struct db_res r;
	int rc;

	/*
	 * Lock first and create only when missing: INSERT IGNORE on an existing
	 * row takes a shared lock that the FOR UPDATE must then upgrade, and two
	 * payments of one house doing that at once deadlock every time.
	 */
	if ((rc = db_run(db, &q_account_lock, &r, house_id)))
		return rc;
	if (r.nrows == 0) {
		db_res_release(&r);
		if ((rc = db_run(db, &q_account_ensure, NULL, house_id)) ||
		    (rc = db_run(db, &q_account_lock, &r, house_id)))
			return rc;
	}
	if (r.nrows != 1) {
		db_res_release(&r);
		return xq_error(XQ_ERROR, "no account for house %lld", (long long)house_id);
	}
	*id = db_i64(&r, 0, 0);
	if (balance)
		*balance = db_i64(&r, 0, 1);
	if (pending)
		*pending = db_i64(&r, 0, 2);
	db_res_release(&r);
	return XQ_OK;
}

/* ---- WeChat payments ---------------------------------------------------------- */

DB_QUERY(q_pay_order_lock) = {
	"pay_order_lock",
	"SELECT id, house_id, amount_fen, state, purpose FROM wx_order WHERE out_trade_no = ?"
	" FOR UPDATE",
	"s",
	"lllss",
};
DB_QUERY(q_pay_insert) = {
	"pay_payment_insert",
	"INSERT INTO payment (house_id, channel, purpose, amount_fen, external_ref, wx_order_id,"
	" paid_at) VALUES (?, 'wechat', ?, ?, ?, ?, COALESCE(?, NOW(3)))",
	"lslsls",
	NULL,
};
DB_QUERY(q_pay_items) = {
	"pay_order_items",
	"SELECT bill_id, amount_fen FROM wx_order_item WHERE wx_order_id = ? ORDER BY bill_id",
	"l",
	"ll",
};
DB_QUERY(q_account_for_order) = {
	"payops_account_for_order",
	"INSERT IGNORE INTO account (house_id) SELECT house_id FROM wx_order WHERE out_trade_no = ?",
	"s",
	NULL,
};
DB_QUERY(q_pay_order_paid) = {
	"pay_order_paid",
	"UPDATE wx_order SET state = 'paid', transaction_id = ?, payer_total_fen = ?,"
	" success_time = COALESCE(?, NOW(3)) WHERE id = ?",
	"slsl",
	NULL,
};
DB_QUERY(q_inbox_done) = {
	"pay_inbox_done",
	"UPDATE wx_notify_inbox SET processed_at = NOW(3), result = ?, out_trade_no = ?, error = ?"
	" WHERE id = ?",
	"sssl",
	NULL,
};

#define ORDER_MAX_ITEMS 64

struct settle_tx {
	const struct pay_txn *t;
	int64_t inbox_id;
	int credited; /* OUT */
};

static int settle_tx(struct db *db, void *arg)
{
	struct settle_tx *s = arg;
	const struct pay_txn *t = s->t;
	struct db_res r;
	int64_t order_id, house_id, amount, account_id, payment_id, settled = 0, budget;
	int64_t bill[ORDER_MAX_ITEMS], cap[ORDER_MAX_ITEMS];
	struct take plan[ORDER_MAX_ITEMS];
	size_t nb = 0, np = 0;
	char purpose[17], state[20], key[96];
	const char *when = t->success_time[0] ? t->success_time : NULL;
	int rc;

	s->credited = 0;
	if ((rc = db_run(db, &q_pay_order_lock, &r, t->out_trade_no)))
		return rc;
	if (r.nrows != 1) {
		db_res_release(&r);
		return xq_error(XQ_ENOTFOUND, "paid order '%s' is not ours", t->out_trade_no);
	}
	order_id = db_i64(&r, 0, 0);
	house_id = db_i64(&r, 0, 1);
	amount = db_i64(&r, 0, 2);
	xq_snprintf(state, sizeof(state), "%s", db_str(&r, 0, 3));
	xq_snprintf(purpose, sizeof(purpose), "%s", db_str(&r, 0, 4));
	db_res_release(&r);
	if (t->total_fen != amount)
		return xq_error(XQ_EPROTO, "order '%s': wechat total %lld fen, ours %lld",
				t->out_trade_no, (long long)t->total_fen, (long long)amount);
	/* created and closed are still to be credited; everything else already was */
	if (strcmp(state, "created") && strcmp(state, "closed"))
		goto done;

	/* the payment (unique per channel + out_trade_no) and its ledger entry */
	if ((rc = db_run(db, &q_pay_insert, NULL, house_id, purpose, amount, t->out_trade_no,
			 order_id, when)))
		return rc;
	payment_id = db_insert_id(db);
	if ((rc = account_lock(db, house_id, &account_id, NULL, NULL)))
		return rc;
	xq_snprintf(key, sizeof(key), "pay:%lld", (long long)payment_id);
	if ((rc = db_run(db, &q_ledger, NULL, account_id, "payment", amount, key,
			 (const int64_t *)NULL, &payment_id, (const int64_t *)NULL,
			 (const int64_t *)NULL, t->out_trade_no)))
		return rc;

	/* settle each bill of the order with what it still owes; the rest stays credit */
	if ((rc = db_run(db, &q_pay_items, &r, order_id)))
		return rc;
	for (size_t i = 0; i < r.nrows && nb < ORDER_MAX_ITEMS; i++) {
		bill[nb] = db_i64(&r, i, 0);
		cap[nb++] = db_i64(&r, i, 1);
	}
	db_res_release(&r);
	budget = amount;
	if ((rc = settle_plan(db, house_id, nb, bill, cap, 1, &budget, plan, &np, &settled)) ||
	    (rc = settle_apply(db, account_id, payment_id, 0, t->out_trade_no, plan, np)))
		return rc;
	if (amount - settled && (rc = db_run(db, &q_balance_add, NULL, amount - settled, account_id)))
		return rc;
	if ((rc = db_run(db, &q_pay_order_paid, NULL, t->transaction_id[0] ? t->transaction_id : NULL,
			 t->payer_total_fen, when, order_id)))
		return rc;
	s->credited = 1;
done:
	if (s->inbox_id)
		return db_run(db, &q_inbox_done, NULL, s->credited ? "credited" : "duplicate",
			      t->out_trade_no, "", s->inbox_id);
	return XQ_OK;
}

int pay_settle(struct db *db, const struct pay_txn *t, int64_t inbox_id, int *credited)
{
	struct settle_tx s = { t, inbox_id, 0 };
	int rc;

	if (strcmp(t->trade_state, "SUCCESS"))
		return XQ_EINVAL;
	/*
	 * The house's account is created before, in its own statement: inside the
	 * transaction two first payments of a new house would both find no row,
	 * hold gap locks and deadlock on the insert.
	 */
	db_run(db, &q_account_for_order, NULL, t->out_trade_no);
	rc = db_tx(db, settle_tx, &s);
	if (credited)
		*credited = s.credited;
	if (!rc && s.credited)
		log_info("order '%s' paid: %lld fen credited", t->out_trade_no, (long long)t->total_fen);
	return rc;
}

/* ---- refunds: final state ------------------------------------------------------ */

DB_QUERY(q_refund_lock) = {
	"payops_refund_lock",
	"SELECT r.id, r.payment_id, r.house_id, r.amount_fen, r.state, p.amount_fen,"
	" COALESCE(o.out_trade_no, ''), COALESCE(o.id, 0)"
	" FROM refund r JOIN payment p ON p.id = r.payment_id"
	" LEFT JOIN wx_order o ON o.id = p.wx_order_id WHERE r.out_refund_no = ? FOR UPDATE",
	"s",
	"llllslsl",
};
DB_QUERY(q_refund_final) = {
	"payops_refund_final",
	"UPDATE refund SET state = ?, wx_refund_id = COALESCE(?, wx_refund_id),"
	" user_received_account = ?, success_at = IF(? = 'success', COALESCE(?, NOW(3)), success_at)"
	" WHERE id = ?",
	"sssssl",
	NULL,
};
DB_QUERY(q_order_lock_id) = {
	"payops_order_lock_id", "SELECT amount_fen, refunded_fen FROM wx_order WHERE id = ? FOR UPDATE",
	"l", "ll",
};
DB_QUERY(q_order_refunded) = {
	"payops_order_refunded",
	"UPDATE wx_order SET refunded_fen = ?, state = ? WHERE id = ?",
	"lsl",
	NULL,
};

struct refund_tx {
	const struct pay_refund_txn *t;
	int64_t inbox_id;
	int applied;
	int64_t house_id;
};

static int refund_tx(struct db *db, void *arg)
{
	struct refund_tx *s = arg;
	const struct pay_refund_txn *t = s->t;
	struct db_res r;
	int64_t refund_id, house_id, amount, paid, order_id, account_id;
	char state[17], otn[33], key[96];
	const char *final = !strcmp(t->refund_status, "SUCCESS")    ? "success"
			    : !strcmp(t->refund_status, "ABNORMAL") ? "abnormal"
			    : !strcmp(t->refund_status, "CLOSED")   ? "closed"
								    : NULL;
	int rc;

	s->applied = 0;
	if (!final)
		return xq_error(XQ_EPROTO, "refund '%s': unknown refund_status '%s'", t->out_refund_no,
				t->refund_status);
	if ((rc = db_run(db, &q_refund_lock, &r, t->out_refund_no)))
		return rc;
	if (r.nrows != 1) {
		db_res_release(&r);
		return xq_error(XQ_ENOTFOUND, "refund '%s' is not ours", t->out_refund_no);
	}
	refund_id = db_i64(&r, 0, 0);
	house_id = db_i64(&r, 0, 2);
	amount = db_i64(&r, 0, 3);
	xq_snprintf(state, sizeof(state), "%s", db_str(&r, 0, 4));
	paid = db_i64(&r, 0, 5);
	xq_snprintf(otn, sizeof(otn), "%s", db_str(&r, 0, 6));
	order_id = db_i64(&r, 0, 7);
	db_res_release(&r);
	s->house_id = house_id;
	if (t->refund_fen != amount || (t->total_fen >= 0 && t->total_fen != paid) ||
	    (t->out_trade_no[0] && strcmp(t->out_trade_no, otn)))
		return xq_error(XQ_EPROTO, "refund '%s': wechat %lld of %lld for '%s', ours %lld of %lld for '%s'",
				t->out_refund_no, (long long)t->refund_fen, (long long)t->total_fen,
				t->out_trade_no, (long long)amount, (long long)paid, otn);
	/* success and closed are final; abnormal may still turn into success (manual handling) */
	if (!strcmp(state, "success") || !strcmp(state, "closed") || !strcmp(state, final))
		goto done;
	if ((rc = db_run(db, &q_refund_final, NULL, final, t->refund_id[0] ? t->refund_id : NULL,
			 t->user_received_account, final,
			 t->success_time[0] ? t->success_time : NULL, refund_id)))
		return rc;
	if (!strcmp(final, "success")) {
		int64_t total = 0, refunded = 0;
		if (order_id) {
			if ((rc = db_run(db, &q_order_lock_id, &r, order_id)))
				return rc;
			total = r.nrows ? db_i64(&r, 0, 0) : 0;
			refunded = r.nrows ? db_i64(&r, 0, 1) : 0;
			db_res_release(&r);
		}
		if ((rc = account_lock(db, house_id, &account_id, NULL, NULL)))
			return rc;
		xq_snprintf(key, sizeof(key), "refund:%lld", (long long)refund_id);
		if ((rc = db_run(db, &q_ledger, NULL, account_id, "refund", -amount, key,
				 (const int64_t *)NULL, (const int64_t *)NULL, &refund_id,
				 (const int64_t *)NULL, t->out_refund_no)) ||
		    (rc = db_run(db, &q_balance_add, NULL, -amount, account_id)))
			return rc;
		if (order_id) {
			refunded += amount;
			if ((rc = db_run(db, &q_order_refunded, NULL, refunded,
					 refunded >= total ? "refunded" : "partially_refunded", order_id)))
				return rc;
		}
	}
	s->applied = 1;
done:
	if (s->inbox_id)
		return db_run(db, &q_inbox_done, NULL, s->applied ? "credited" : "duplicate",
			      t->out_trade_no, "", s->inbox_id);
	return XQ_OK;
}

int pay_refund_settle(struct db *db, const struct pay_refund_txn *t, int64_t inbox_id, int *applied)
{
	struct refund_tx s = { t, inbox_id, 0, 0 };
	int rc = db_tx(db, refund_tx, &s);

	if (applied)
		*applied = s.applied;
	if (!rc && s.applied) {
		log_info("refund '%s' %s: %lld fen", t->out_refund_no, t->refund_status,
			 (long long)t->refund_fen);
		if (!strcmp(t->refund_status, "ABNORMAL")) {
			char dk[96], msg[200];
			xq_snprintf(dk, sizeof(dk), "refund_abnormal:%.60s", t->out_refund_no);
			xq_snprintf(msg, sizeof(msg), "退款异常，需人工处理：退款单号 %.64s", t->out_refund_no);
			payops_alert(db, "refund_abnormal", "warning", s.house_id, dk, msg, NULL);
		}
	}
	return rc;
}

/* ---- the notification core -------------------------------------------------------- */

static void inbox_mark(struct db *db, int64_t id, const char *result, const char *otn, const char *err)
{
	if (db_run(db, &q_inbox_done, NULL, result, otn && *otn ? otn : NULL, err, id))
		log_error("notify inbox %lld: cannot record result '%s'", (long long)id, result);
}

DB_QUERY(q_order_house) = {
	"payops_order_house", "SELECT house_id FROM wx_order WHERE out_trade_no = ?", "s", "l",
};

/* An alert about a notification whose money we cannot take (critical: money may be lost). */
static void notify_alert(struct db *db, const char *kind, const char *otn, int64_t inbox_id,
			 const char *what, const char *msg_zh)
{
	char dk[96], detail[512];
	cJSON *d = cJSON_CreateObject();
	int64_t house_id = 0;
	char *txt;

	xq_snprintf(dk, sizeof(dk), "%s:%.40s", kind, otn && *otn ? otn : "-");
	if (!otn || !*otn)
		xq_snprintf(dk, sizeof(dk), "%s:inbox:%lld", kind, (long long)inbox_id);
	cJSON_AddStringToObject(d, "out_trade_no", otn ? otn : "");
	cJSON_AddNumberToObject(d, "inbox_id", (double)inbox_id);
	cJSON_AddStringToObject(d, "problem", what);
	txt = cJSON_PrintUnformatted(d);
	xq_snprintf(detail, sizeof(detail), "%s", txt);
	cJSON_free(txt);
	cJSON_Delete(d);
	/* a known order names the house (and so the community) the alert belongs to */
	if (otn && *otn) {
		struct db_res r;
		if (db_run(db, &q_order_house, &r, otn) == XQ_OK) {
			if (r.nrows == 1)
				house_id = db_i64(&r, 0, 0);
			db_res_release(&r);
		}
	}
	payops_alert(db, kind, "critical", house_id, dk, msg_zh, detail);
}

static int process_refund(struct db *db, const struct config *cfg, int64_t inbox_id, const char *pt,
			  size_t n)
{
	struct pay_refund_txn rt;
	char msg[200];
	int rc;

	if ((rc = pay_refund_parse(pt, n, &rt))) {
		inbox_mark(db, inbox_id, "error", NULL, "refund object unreadable");
		return 400;
	}
	if (strcmp(rt.mchid, cfg->wx_mchid)) {
		inbox_mark(db, inbox_id, "error", rt.out_trade_no, "mchid mismatch");
		xq_snprintf(msg, sizeof(msg), "退款通知商户号不符：%.32s", rt.mchid);
		notify_alert(db, "pay_notify_mismatch", rt.out_trade_no, inbox_id, "mchid", msg);
		return 400;
	}
	rc = pay_refund_settle(db, &rt, inbox_id, NULL);
	if (rc == XQ_ENOTFOUND || rc == XQ_EPROTO) {
		inbox_mark(db, inbox_id, "error", rt.out_trade_no,
			   rc == XQ_ENOTFOUND ? "unknown out_refund_no" : "refund does not match ours");
		xq_snprintf(msg, sizeof(msg), "%s：退款单号 %.64s",
			    rc == XQ_ENOTFOUND ? "收到未知退款单的通知" : "退款通知与本地记录不符",
			    rt.out_refund_no);
		notify_alert(db, rc == XQ_ENOTFOUND ? "pay_notify_unknown" : "pay_notify_mismatch",
			     rt.out_refund_no, inbox_id, xq_strerror(rc), msg);
		return 400;
	}
	if (rc)
		log_error("notify inbox %lld: refund '%s' not applied: %s; left for retry",
			  (long long)inbox_id, rt.out_refund_no, xq_strerror(rc));
	return rc ? 500 : 200;
}

int payops_notify_process(struct db *db, const struct config *cfg, int64_t inbox_id,
			  const char *event_type, const struct wxpay_sig_headers *sh,
			  const char *body, size_t body_len, int64_t now_s)
{
	const struct wx_keys *k;
	struct pay_txn t;
	struct buf pt;
	char msg[200];
	int rc, status;

	/* verify: headers, the time window, serial, signature over the raw body */
	if (wxclient_keys(cfg, &k)) {
		log_error("notify inbox %lld: no keys to verify with", (long long)inbox_id);
		return 500; /* left unprocessed: our problem, not WeChat's */
	}
	rc = wxpay_verify_response(&k->keyset, sh, body, body_len, now_s);
	if (rc) {
		log_warn("notify inbox %lld: verification failed: %s", (long long)inbox_id,
			 xq_strerror(rc));
		inbox_mark(db, inbox_id, "bad_signature", NULL, xq_strerror(rc));
		/* WeChat's own probes carry WECHATPAY/SIGNTEST/ signatures: expected, no alert */
		if (!sh->signature || strncmp(sh->signature, "WECHATPAY/SIGNTEST/", 19)) {
			char dk[96];
			xq_snprintf(dk, sizeof(dk), "pay_notify_badsig:%lld", (long long)inbox_id);
			payops_alert(db, "pay_notify_mismatch", "warning", 0, dk,
				     "收到签名无效的支付通知，已拒绝", NULL);
		}
		return 401;
	}

	/* decrypt (GCM tag checked) */
	buf_init(&pt, 1024 * 1024);
	rc = wxpay_notify_decrypt((const unsigned char *)cfg->wx_apiv3_key,
				  cfg->wx_apiv3_key ? strlen(cfg->wx_apiv3_key) : 0, body, body_len, &pt);
	if (rc) {
		OPENSSL_cleanse(pt.data, pt.len);
		buf_release(&pt);
		log_warn("notify inbox %lld: cannot decrypt: %s", (long long)inbox_id, xq_strerror(rc));
		inbox_mark(db, inbox_id, "bad_signature", NULL, xq_strerror(rc));
		return 400;
	}
	if (!strncmp(event_type, "REFUND.", 7)) {
		status = process_refund(db, cfg, inbox_id, pt.data, pt.len);
		OPENSSL_cleanse(pt.data, pt.len);
		buf_release(&pt);
		return status;
	}
	rc = pay_txn_parse(pt.data, pt.len, &t);
	OPENSSL_cleanse(pt.data, pt.len);
	buf_release(&pt);
	if (rc) {
		inbox_mark(db, inbox_id, "bad_signature", NULL, "transaction unreadable");
		return 400;
	}
	if (strcmp(event_type, "TRANSACTION.SUCCESS") || strcmp(t.trade_state, "SUCCESS")) {
		log_info("notify inbox %lld: event '%s' state '%s' ignored", (long long)inbox_id,
			 event_type, t.trade_state);
		inbox_mark(db, inbox_id, "ignored", t.out_trade_no, "");
		return 200;
	}
	if (pay_txn_check(cfg, &t)) {
		inbox_mark(db, inbox_id, "error", t.out_trade_no, "appid/mchid/currency mismatch");
		xq_snprintf(msg, sizeof(msg), "支付通知的公众账号/商户号/币种不符：订单 %.32s",
			    t.out_trade_no);
		notify_alert(db, "pay_notify_mismatch", t.out_trade_no, inbox_id,
			     "appid/mchid/currency", msg);
		return 400;
	}

	payops_fault_point("notify_before_settle", t.out_trade_no);

	/* credit once, and mark the inbox row in the same transaction */
	rc = pay_settle(db, &t, inbox_id, NULL);
	if (rc == XQ_EPROTO || rc == XQ_ENOTFOUND) {
		inbox_mark(db, inbox_id, "error", t.out_trade_no,
			   rc == XQ_EPROTO ? "amount mismatch" : "unknown out_trade_no");
		if (rc == XQ_EPROTO)
			xq_snprintf(msg, sizeof(msg), "支付通知金额与订单不符：订单 %.32s，微信 %lld 分",
				    t.out_trade_no, (long long)t.total_fen);
		else
			xq_snprintf(msg, sizeof(msg), "收到未知订单的支付通知：订单 %.32s，%lld 分",
				    t.out_trade_no, (long long)t.total_fen);
		notify_alert(db, rc == XQ_EPROTO ? "pay_notify_mismatch" : "pay_notify_unknown",
			     t.out_trade_no, inbox_id,
			     rc == XQ_EPROTO ? "amount mismatch" : "unknown out_trade_no", msg);
		return 400;
	}
	if (rc) {
		log_error("notify inbox %lld ('%s'): settle failed: %s; left for retry",
			  (long long)inbox_id, t.out_trade_no, xq_strerror(rc));
		return 500;
	}
	return 200;
}

/*
 * XQ_FAULT_NOTIFY, for the crash tests only (never set in production; the
 * variable is read at each call so a test can arm it for one process):
 *   sleep:<ms>[@<out_trade_no>]  stall here, long enough to SIGKILL the process
 *   kill[@<out_trade_no>]        raise SIGKILL here, after the inbox row is committed
 * With @out_trade_no only that order's notifications trip it.
 */
void payops_fault_point(const char *where, const char *out_trade_no)
{
	const char *f = getenv("XQ_FAULT_NOTIFY"), *at;
	char what[32];
	size_t len;

	if (!f || !*f)
		return;
	at = strchr(f, '@');
	if (at && (!out_trade_no || strcmp(at + 1, out_trade_no)))
		return;
	len = at ? (size_t)(at - f) : strlen(f);
	if (len >= sizeof(what))
		return;
	memcpy(what, f, len);
	what[len] = '\0';
	if (!strncmp(what, "sleep:", 6)) {
		int64_t ms = 0;
		if (xq_parse_i64(what + 6, &ms) == XQ_OK && ms > 0 && ms < 600000) {
			log_warn("fault hook at '%s': sleeping %lld ms", where, (long long)ms);
			usleep((useconds_t)(ms * 1000));
		}
	} else if (!strcmp(what, "kill")) {
		log_warn("fault hook at '%s': SIGKILL", where);
		raise(SIGKILL);
	}
}

/* ---- jobs ------------------------------------------------------------------------ */

DB_QUERY(q_retry_candidates) = {
	"payops_retry_candidates",
	"SELECT id FROM wx_notify_inbox WHERE processed_at IS NULL"
	" AND received_at < NOW(3) - INTERVAL ? SECOND"
	" AND (retry_claim_until IS NULL OR retry_claim_until < NOW(3)) ORDER BY id LIMIT ?",
	"ii",
	"l",
};
DB_QUERY(q_retry_claim) = {
	"payops_retry_claim",
	"UPDATE wx_notify_inbox SET retry_claim_until = NOW(3) + INTERVAL ? SECOND,"
	" retries = retries + 1 WHERE id = ? AND processed_at IS NULL"
	" AND (retry_claim_until IS NULL OR retry_claim_until < NOW(3))",
	"il",
	NULL,
};
DB_QUERY(q_retry_row) = {
	"payops_retry_row",
	"SELECT event_type, headers, body, UNIX_TIMESTAMP(received_at) FROM wx_notify_inbox"
	" WHERE id = ?",
	"l",
	"sjsl",
};
DB_QUERY(q_inbox_result) = {
	"payops_inbox_result", "SELECT COALESCE(result, '') FROM wx_notify_inbox WHERE id = ?", "l",
	"s",
};

static const char *hdr(const cJSON *h, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(h, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int payops_retry(struct db *db, const struct config *cfg, int min_age_s, int claim_s, int limit,
		 struct payops_job_stats *st)
{
	struct db_res ids, r;
	int rc;

	memset(st, 0, sizeof(*st));
	if ((rc = db_run(db, &q_retry_candidates, &ids, min_age_s, limit)))
		return rc;
	for (size_t i = 0; i < ids.nrows; i++) {
		int64_t id = db_i64(&ids, i, 0), received_s;
		struct wxpay_sig_headers sh;
		char event[40], result[20] = "";
		cJSON *h;
		int status;

		st->seen++;
		/* the claim is its own committed statement: a second host sees it */
		if ((rc = db_run(db, &q_retry_claim, NULL, claim_s, id)))
			break;
		if (db_affected(db) != 1)
			continue;
		st->claimed++;
		if ((rc = db_run(db, &q_retry_row, &r, id)))
			break;
		if (r.nrows != 1) {
			db_res_release(&r);
			continue;
		}
		xq_snprintf(event, sizeof(event), "%s", db_str(&r, 0, 0));
		h = cJSON_Parse(db_str(&r, 0, 1));
		received_s = db_i64(&r, 0, 3);
		sh.timestamp = hdr(h, "Wechatpay-Timestamp");
		sh.nonce = hdr(h, "Wechatpay-Nonce");
		sh.signature = hdr(h, "Wechatpay-Signature");
		sh.serial = hdr(h, "Wechatpay-Serial");
		sh.signature_type = hdr(h, "Wechatpay-Signature-Type");
		/* the window is checked against the time we received it: it was fresh then */
		status = payops_notify_process(db, cfg, id, event, &sh, db_str(&r, 0, 2),
					       strlen(db_str(&r, 0, 2)), received_s);
		cJSON_Delete(h);
		db_res_release(&r);
		if (status == 200) {
			if (db_run(db, &q_inbox_result, &r, id) == XQ_OK) {
				if (r.nrows)
					xq_snprintf(result, sizeof(result), "%s", db_str(&r, 0, 0));
				db_res_release(&r);
			}
			if (!strcmp(result, "credited"))
				st->credited++;
			else
				st->duplicate++;
		} else if (status >= 500) {
			st->failed++;
		} else {
			st->refused++;
		}
	}
	db_res_release(&ids);
	return rc;
}

DB_QUERY(q_sync_candidates) = {
	"payops_sync_candidates",
	"SELECT id, out_trade_no,"
	" COALESCE(time_expire, created_at + INTERVAL ? SECOND) < NOW(3)"
	" FROM wx_order WHERE state = 'created' AND created_at < NOW(3) - INTERVAL ? SECOND"
	" AND (sync_claim_until IS NULL OR sync_claim_until < NOW(3)) ORDER BY id LIMIT ?",
	"iii",
	"lsb",
};
DB_QUERY(q_sync_claim) = {
	"payops_sync_claim",
	"UPDATE wx_order SET sync_claim_until = NOW(3) + INTERVAL ? SECOND, sync_checks = sync_checks + 1"
	" WHERE id = ? AND state = 'created'"
	" AND (sync_claim_until IS NULL OR sync_claim_until < NOW(3))",
	"il",
	NULL,
};
DB_QUERY(q_order_close) = {
	"payops_order_close",
	"UPDATE wx_order SET state = 'closed', closed_at = NOW(3) WHERE id = ? AND state = 'created'",
	"l",
	NULL,
};
DB_QUERY(q_refund_candidates) = {
	"payops_refund_candidates",
	"SELECT id, out_refund_no, state FROM refund WHERE state IN ('requested', 'processing')"
	" AND created_at < NOW(3) - INTERVAL ? SECOND"
	" AND (sync_claim_until IS NULL OR sync_claim_until < NOW(3)) ORDER BY id LIMIT ?",
	"ii",
	"lss",
};
DB_QUERY(q_refund_claim) = {
	"payops_refund_claim",
	"UPDATE refund SET sync_claim_until = NOW(3) + INTERVAL ? SECOND WHERE id = ?"
	" AND state IN ('requested', 'processing')"
	" AND (sync_claim_until IS NULL OR sync_claim_until < NOW(3))",
	"il",
	NULL,
};

/* Queries one order at WeChat and settles it when paid. *state gets trade_state. */
static int order_query_settle(struct db *db, const struct config *cfg, const char *otn,
			      char state[33], int *credited)
{
	struct wxpay_reply wr;
	struct pay_txn t;
	int rc;

	state[0] = '\0';
	*credited = 0;
	wxpay_reply_init(&wr);
	rc = wxpay_query(cfg, otn, &wr);
	if (!rc)
		rc = pay_txn_parse(wr.body.data, wr.body.len, &t);
	OPENSSL_cleanse(wr.body.data, wr.body.len);
	wxpay_reply_release(&wr);
	if (rc == XQ_ENOTFOUND) {
		xq_snprintf(state, 33, "NOT_EXIST");
		return XQ_OK;
	}
	if (rc)
		return rc;
	if (strcmp(t.out_trade_no, otn))
		return xq_error(XQ_EPROTO, "query of '%s' answered '%s'", otn, t.out_trade_no);
	if ((rc = pay_txn_check(cfg, &t)))
		return rc;
	xq_snprintf(state, 33, "%s", t.trade_state);
	/* REFUND means paid and then (partly) refunded: the payment is still to be credited */
	if (!strcmp(t.trade_state, "REFUND"))
		xq_snprintf(t.trade_state, sizeof(t.trade_state), "SUCCESS");
	if (!strcmp(t.trade_state, "SUCCESS"))
		return pay_settle(db, &t, 0, credited);
	return XQ_OK;
}

static int refund_send(struct db *db, const struct config *cfg, int64_t refund_id);
static int refund_query(struct db *db, const struct config *cfg, const char *out_refund_no);

int payops_sync(struct db *db, const struct config *cfg, int min_age_s, int expire_s, int claim_s,
		int limit, struct payops_job_stats *st)
{
	struct db_res ids;
	int rc;

	memset(st, 0, sizeof(*st));
	if ((rc = db_run(db, &q_sync_candidates, &ids, expire_s, min_age_s, limit)))
		return rc;
	for (size_t i = 0; i < ids.nrows; i++) {
		int64_t id = db_i64(&ids, i, 0);
		const char *otn = db_str(&ids, i, 1);
		int expired = (int)db_i64(&ids, i, 2), credited = 0;
		char state[33];

		st->seen++;
		if ((rc = db_run(db, &q_sync_claim, NULL, claim_s, id)))
			break;
		if (db_affected(db) != 1)
			continue;
		st->claimed++;
		if (order_query_settle(db, cfg, otn, state, &credited)) {
			st->failed++;
			continue;
		}
		if (credited)
			st->credited++;
		if (!strcmp(state, "CLOSED") || (expired && (!strcmp(state, "NOTPAY") ||
							     !strcmp(state, "NOT_EXIST")))) {
			char path[128];
			struct wxpay_reply wr;
			char body[64];
			int crc = XQ_OK;

			if (strcmp(state, "CLOSED") && strcmp(state, "NOT_EXIST")) {
				xq_snprintf(path, sizeof(path),
					    "/v3/pay/transactions/out-trade-no/%.32s/close", otn);
				xq_snprintf(body, sizeof(body), "{\"mchid\":\"%.32s\"}", cfg->wx_mchid);
				wxpay_reply_init(&wr);
				crc = wxpay_call(cfg, "POST", path, body, &wr);
				if (crc == XQ_EINVAL && !strcmp(wr.code, "ORDERPAID")) {
					/* paid in between: the query settles it */
					wxpay_reply_release(&wr);
					if (order_query_settle(db, cfg, otn, state, &credited) == XQ_OK &&
					    credited)
						st->credited++;
					continue;
				}
				wxpay_reply_release(&wr);
			}
			if (crc) {
				st->failed++;
				continue;
			}
			if (db_run(db, &q_order_close, NULL, id) == XQ_OK && db_affected(db) == 1) {
				st->closed++;
				log_info("order '%s' closed (%s)", otn, expired ? "expired" : "closed at wechat");
			}
		}
	}
	db_res_release(&ids);
	if (rc)
		return rc;

	/* refunds that did not reach WeChat, or whose callback has not come */
	if ((rc = db_run(db, &q_refund_candidates, &ids, min_age_s, limit)))
		return rc;
	for (size_t i = 0; i < ids.nrows; i++) {
		int64_t id = db_i64(&ids, i, 0);
		if (db_run(db, &q_refund_claim, NULL, claim_s, id) || db_affected(db) != 1)
			continue;
		st->refunds++;
		if (!strcmp(db_str(&ids, i, 2), "requested"))
			refund_send(db, cfg, id);
		else
			refund_query(db, cfg, db_str(&ids, i, 1));
	}
	db_res_release(&ids);
	return XQ_OK;
}

/* ---- refunds: request ------------------------------------------------------------ */

DB_QUERY(q_payment_lock) = {
	"payops_payment_lock",
	"SELECT p.house_id, p.channel, p.status, p.amount_fen, COALESCE(o.out_trade_no, ''),"
	" COALESCE(o.state, ''),"
	" (SELECT COALESCE(SUM(r.amount_fen), 0) FROM refund r WHERE r.payment_id = p.id"
	"   AND r.state NOT IN ('rejected', 'closed'))"
	" FROM payment p LEFT JOIN wx_order o ON o.id = p.wx_order_id WHERE p.id = ? FOR UPDATE",
	"l",
	"lsslssl",
};
DB_QUERY(q_refund_insert) = {
	"payops_refund_insert",
	"INSERT INTO refund (out_refund_no, payment_id, house_id, out_trade_no, amount_fen, reason,"
	" requested_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
	"sllslsL",
	NULL,
};
DB_QUERY(q_refund_get) = {
	"payops_refund_get",
	"SELECT r.id, r.out_refund_no, r.payment_id, r.house_id, r.out_trade_no, r.amount_fen,"
	" r.reason, r.state, r.wx_refund_id, r.error, r.requested_by, r.success_at, r.created_at,"
	" p.amount_fen AS paid_fen"
	" FROM refund r JOIN payment p ON p.id = r.payment_id WHERE r.id = ?",
	"l",
	"lsllslsssslssl",
};
DB_QUERY(q_refund_sent) = {
	"payops_refund_sent",
	"UPDATE refund SET state = ?, wx_refund_id = COALESCE(?, wx_refund_id), error = ?"
	" WHERE id = ? AND state IN ('requested', 'processing')",
	"sssl",
	NULL,
};

struct refund_req_tx {
	const struct audit_actor *who;
	int64_t payment_id, amount;
	const char *reason;
	struct refund_result *out;
};

static int refund_req_tx(struct db *db, void *arg)
{
	struct refund_req_tx *s = arg;
	struct db_res r;
	int64_t house_id, paid, refunded, account_id, balance, pending, staff = s->who->staff_id;
	char channel[17], status[17], otn[33], ostate[20];
	unsigned char rnd[12];
	cJSON *after;
	int rc;

	if ((rc = db_run(db, &q_payment_lock, &r, s->payment_id)))
		return rc;
	if (r.nrows != 1) {
		db_res_release(&r);
		return XQ_ENOTFOUND;
	}
	house_id = db_i64(&r, 0, 0);
	xq_snprintf(channel, sizeof(channel), "%s", db_str(&r, 0, 1));
	xq_snprintf(status, sizeof(status), "%s", db_str(&r, 0, 2));
	paid = db_i64(&r, 0, 3);
	xq_snprintf(otn, sizeof(otn), "%s", db_str(&r, 0, 4));
	xq_snprintf(ostate, sizeof(ostate), "%s", db_str(&r, 0, 5));
	refunded = db_i64(&r, 0, 6);
	db_res_release(&r);
	if (strcmp(channel, "wechat") || !otn[0]) {
		xq_snprintf(s->out->message_zh, sizeof(s->out->message_zh), "只能退款微信支付的收款");
		return XQ_ECONFLICT;
	}
	if (strcmp(status, "success")) {
		xq_snprintf(s->out->message_zh, sizeof(s->out->message_zh), "该收款已冲正，不能退款");
		return XQ_ECONFLICT;
	}
	if (s->amount > paid - refunded) {
		xq_snprintf(s->out->message_zh, sizeof(s->out->message_zh),
			    "退款金额超过可退金额（可退 %lld 分）", (long long)(paid - refunded));
		return XQ_ECONFLICT;
	}
	/* the money leaves the house's credit: bills it settled must be reversed first */
	if ((rc = account_lock(db, house_id, &account_id, &balance, &pending)))
		return rc;
	if (s->amount > balance - pending) {
		xq_snprintf(s->out->message_zh, sizeof(s->out->message_zh),
			    "账户可用余额不足（可用 %lld 分），已用于缴费的款项需先冲正账单",
			    (long long)(balance - pending));
		return XQ_ECONFLICT;
	}
	if ((rc = xq_random(rnd, sizeof(rnd))))
		return rc;
	memcpy(s->out->out_refund_no, "RF", 2);
	xq_hex(rnd, sizeof(rnd), s->out->out_refund_no + 2);
	if ((rc = db_run(db, &q_refund_insert, NULL, s->out->out_refund_no, s->payment_id, house_id,
			 otn, s->amount, s->reason, staff > 0 ? &staff : NULL)))
		return rc;
	s->out->refund_id = db_insert_id(db);
	xq_snprintf(s->out->state, sizeof(s->out->state), "requested");
	after = cJSON_CreateObject();
	cJSON_AddNumberToObject(after, "payment_id", (double)s->payment_id);
	cJSON_AddStringToObject(after, "out_refund_no", s->out->out_refund_no);
	cJSON_AddStringToObject(after, "out_trade_no", otn);
	cJSON_AddNumberToObject(after, "amount_fen", (double)s->amount);
	cJSON_AddStringToObject(after, "reason", s->reason);
	rc = audit_write(db, s->who, "refund.request", "refund", s->out->refund_id, NULL, after);
	cJSON_Delete(after);
	return rc;
}

/* POST /v3/refund/domestic/refunds for a stored refund; records the answer. */
static int refund_send(struct db *db, const struct config *cfg, int64_t refund_id)
{
	struct db_res r;
	struct wxpay_reply wr;
	struct pay_refund_txn rt;
	cJSON *b, *a;
	char *body;
	char out_refund_no[65];
	int rc;

	if ((rc = db_run(db, &q_refund_get, &r, refund_id)))
		return rc;
	if (r.nrows != 1) {
		db_res_release(&r);
		return XQ_ENOTFOUND;
	}
	xq_snprintf(out_refund_no, sizeof(out_refund_no), "%s", db_str(&r, 0, 1));
	b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "out_trade_no", db_str(&r, 0, 4));
	cJSON_AddStringToObject(b, "out_refund_no", out_refund_no);
	if (db_str(&r, 0, 6) && *db_str(&r, 0, 6))
		cJSON_AddStringToObject(b, "reason", db_str(&r, 0, 6));
	cJSON_AddStringToObject(b, "notify_url", cfg->wx_notify_url);
	a = cJSON_AddObjectToObject(b, "amount");
	cJSON_AddNumberToObject(a, "refund", (double)db_i64(&r, 0, 5));
	cJSON_AddNumberToObject(a, "total", (double)db_i64(&r, 0, 13));
	cJSON_AddStringToObject(a, "currency", "CNY");
	db_res_release(&r);
	body = cJSON_PrintUnformatted(b);
	cJSON_Delete(b);
	wxpay_reply_init(&wr);
	rc = wxpay_call(cfg, "POST", "/v3/refund/domestic/refunds", body, &wr);
	cJSON_free(body);
	if (rc == XQ_OK && pay_refund_parse(wr.body.data, wr.body.len, &rt) == XQ_OK) {
		if (!strcmp(rt.refund_status, "PROCESSING"))
			rc = db_run(db, &q_refund_sent, NULL, "processing",
				    rt.refund_id[0] ? rt.refund_id : NULL, "", refund_id);
		else
			rc = pay_refund_settle(db, &rt, 0, NULL); /* already final */
	} else if (rc == XQ_EINVAL) {
		/* refused for good (INVALID_REQUEST, NOT_ENOUGH ...): nothing was refunded */
		char err[96];
		xq_snprintf(err, sizeof(err), "wechat %ld %s", wr.status, wr.code);
		rc = db_run(db, &q_refund_sent, NULL, "rejected", (const char *)NULL, err, refund_id);
		if (!rc)
			rc = XQ_EINVAL;
	} else if (rc == XQ_OK) {
		rc = XQ_EPROTO;
	}
	/* XQ_EAGAIN / XQ_EPROTO: stays 'requested' and pay-sync sends the same out_refund_no again */
	wxpay_reply_release(&wr);
	return rc;
}

static int refund_query(struct db *db, const struct config *cfg, const char *out_refund_no)
{
	struct wxpay_reply wr;
	struct pay_refund_txn rt;
	char path[160];
	int rc;

	xq_snprintf(path, sizeof(path), "/v3/refund/domestic/refunds/%.64s", out_refund_no);
	wxpay_reply_init(&wr);
	rc = wxpay_call(cfg, "GET", path, NULL, &wr);
	if (!rc && !(rc = pay_refund_parse(wr.body.data, wr.body.len, &rt)) &&
	    strcmp(rt.refund_status, "PROCESSING"))
		rc = pay_refund_settle(db, &rt, 0, NULL);
	wxpay_reply_release(&wr);
	return rc;
}

DB_QUERY(q_refund_state) = {
	"payops_refund_state", "SELECT state FROM refund WHERE id = ?", "l", "s",
};

int payops_refund_create(struct db *db, const struct config *cfg, const struct audit_actor *who,
			 int64_t payment_id, int64_t amount_fen, const char *reason,
			 struct refund_result *out)
{
	struct refund_req_tx s = { who, payment_id, amount_fen, reason, out };
	struct db_res r;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = db_tx(db, refund_req_tx, &s)))
		return rc;
	rc = refund_send(db, cfg, out->refund_id);
	if (rc == XQ_EINVAL)
		xq_snprintf(out->message_zh, sizeof(out->message_zh), "微信支付拒绝了退款申请");
	if (db_run(db, &q_refund_state, &r, out->refund_id) == XQ_OK) {
		if (r.nrows)
			xq_snprintf(out->state, sizeof(out->state), "%s", db_str(&r, 0, 0));
		db_res_release(&r);
	}
	return XQ_OK;
}

/* ---- staff and balance payments ------------------------------------------------- */

DB_QUERY(q_house_exists) = {
	"payops_house_exists", "SELECT id FROM house WHERE id = ?", "l", "l",
};
DB_QUERY(q_house_open_bills) = {
	"payops_house_open_bills",
	"SELECT id FROM bill WHERE house_id = ? AND status = 'issued'"
	" ORDER BY due_date, period, id LIMIT 64",
	"l",
	"l",
};
DB_QUERY(q_bills_oldest) = {
	"payops_bill_order",
	"SELECT id FROM bill WHERE house_id = ? AND FIND_IN_SET(id, ?) ORDER BY due_date, period, id",
	"ls",
	"l",
};
DB_QUERY(q_payment_by_ref) = {
	"payops_payment_by_ref",
	"SELECT id, house_id, amount_fen FROM payment WHERE channel = ? AND external_ref = ?",
	"ss",
	"lll",
};
DB_QUERY(q_staff_payment_insert) = {
	"payops_staff_payment_insert",
	"INSERT INTO payment (house_id, channel, purpose, amount_fen, external_ref, paid_at,"
	" recorded_by, note) VALUES (?, ?, 'bill', ?, ?, NOW(3), ?, ?)",
	"lslsLs",
	NULL,
};
DB_QUERY(q_payment_amount) = {
	"payops_payment_amount", "UPDATE payment SET amount_fen = ? WHERE id = ?", "ll", NULL,
};
DB_QUERY(q_account_balance) = {
	"payops_account_balance", "SELECT balance_fen FROM account WHERE id = ?", "l", "l",
};

struct staff_pay_tx {
	const struct audit_actor *who;
	const struct staff_payment *p;
	struct staff_payment_result *out;
};

static int staff_pay_tx(struct db *db, void *arg)
{
	struct staff_pay_tx *s = arg;
	const struct staff_payment *p = s->p;
	struct staff_payment_result *o = s->out;
	int is_balance = !strcmp(p->channel, "balance");
	int64_t bill[PAYOPS_MAX_BILLS], account_id, balance, pending, budget, settled, payment_id;
	int64_t staff = p->staff_id;
	struct take plan[PAYOPS_MAX_BILLS];
	size_t nb = 0, np = 0;
	struct db_res r;
	char key[96], csv[PAYOPS_MAX_BILLS * 21 + 1] = "";
	int rc;

	memset(o, 0, sizeof(*o));
	if ((rc = db_run(db, &q_house_exists, &r, p->house_id)))
		return rc;
	rc = r.nrows == 1 ? XQ_OK : XQ_ENOTFOUND;
	db_res_release(&r);
	if (rc)
		return rc;
	/* a repeat of the same bank serial / idempotency key is the same payment */
	if (p->external_ref && *p->external_ref) {
		if ((rc = db_run(db, &q_payment_by_ref, &r, p->channel, p->external_ref)))
			return rc;
		if (r.nrows == 1) {
			o->payment_id = db_i64(&r, 0, 0);
			o->duplicate = 1;
			rc = db_i64(&r, 0, 1) != p->house_id || (!is_balance && db_i64(&r, 0, 2) != p->amount_fen)
				     ? XQ_ECONFLICT
				     : XQ_OK;
			if (rc)
				xq_snprintf(o->message_zh, sizeof(o->message_zh),
					    "该流水号已登记过另一笔收款");
			db_res_release(&r);
			return rc;
		}
		db_res_release(&r);
	}
	/* the bills, oldest first (due date, then period) */
	if (p->nbills) {
		size_t off = 0;
		for (size_t i = 0; i < p->nbills; i++)
			off += (size_t)xq_snprintf(csv + off, sizeof(csv) - off, "%s%lld", i ? "," : "",
						   (long long)p->bill[i]);
		if ((rc = db_run(db, &q_bills_oldest, &r, p->house_id, csv)))
			return rc;
		if (r.nrows != p->nbills) {
			db_res_release(&r);
			xq_snprintf(o->message_zh, sizeof(o->message_zh), "账单不存在或不属于该房屋");
			return XQ_ECONFLICT;
		}
	} else if ((rc = db_run(db, &q_house_open_bills, &r, p->house_id))) {
		return rc;
	}
	for (size_t i = 0; i < r.nrows && nb < PAYOPS_MAX_BILLS; i++)
		bill[nb++] = db_i64(&r, i, 0);
	db_res_release(&r);

	if ((rc = account_lock(db, p->house_id, &account_id, &balance, &pending)))
		return rc;
	/* a balance payment may spend the credit not promised to a pending refund */
	budget = is_balance ? balance - pending : p->amount_fen;
	if (is_balance && budget <= 0) {
		xq_snprintf(o->message_zh, sizeof(o->message_zh), "账户余额不足");
		return XQ_ECONFLICT;
	}
	rc = settle_plan(db, p->house_id, nb, bill, NULL, !p->nbills, &budget, plan, &np, &settled);
	if (rc == XQ_ECONFLICT || rc == XQ_ENOTFOUND) {
		xq_snprintf(o->message_zh, sizeof(o->message_zh), "账单不是待缴状态");
		return XQ_ECONFLICT;
	}
	if (rc)
		return rc;
	if (is_balance && settled == 0) {
		xq_snprintf(o->message_zh, sizeof(o->message_zh), "没有待缴的账单");
		return XQ_ECONFLICT;
	}
	if ((rc = db_run(db, &q_staff_payment_insert, NULL, p->house_id, p->channel,
			 is_balance ? settled : p->amount_fen,
			 p->external_ref && *p->external_ref ? p->external_ref : NULL,
			 staff > 0 ? &staff : NULL, p->note ? p->note : "")))
		return rc;
	payment_id = db_insert_id(db);
	if (!is_balance) {
		xq_snprintf(key, sizeof(key), "pay:%lld", (long long)payment_id);
		if ((rc = db_run(db, &q_ledger, NULL, account_id, "payment", p->amount_fen, key,
				 (const int64_t *)NULL, &payment_id, (const int64_t *)NULL,
				 staff > 0 ? &staff : NULL, p->channel)))
			return rc;
	}
	if ((rc = settle_apply(db, account_id, payment_id, staff, p->channel, plan, np)))
		return rc;
	/* cash/bank: what the bills did not take is credit; balance: the credit spent */
	{
		int64_t delta = is_balance ? -settled : p->amount_fen - settled;
		if (delta && (rc = db_run(db, &q_balance_add, NULL, delta, account_id)))
			return rc;
	}
	if ((rc = db_run(db, &q_account_balance, &r, account_id)))
		return rc;
	o->balance_fen = r.nrows ? db_i64(&r, 0, 0) : 0;
	db_res_release(&r);
	o->payment_id = payment_id;
	o->settled_fen = settled;
	o->credit_fen = is_balance ? 0 : p->amount_fen - settled;
	if (s->who) {
		cJSON *after = cJSON_CreateObject(), *bills = cJSON_AddArrayToObject(after, "settled");
		cJSON_AddNumberToObject(after, "house_id", (double)p->house_id);
		cJSON_AddStringToObject(after, "channel", p->channel);
		cJSON_AddNumberToObject(after, "amount_fen",
					(double)(is_balance ? settled : p->amount_fen));
		cJSON_AddStringToObject(after, "external_ref", p->external_ref ? p->external_ref : "");
		cJSON_AddStringToObject(after, "note", p->note ? p->note : "");
		for (size_t i = 0; i < np; i++) {
			cJSON *b = cJSON_CreateObject();
			cJSON_AddNumberToObject(b, "bill_id", (double)plan[i].bill_id);
			cJSON_AddNumberToObject(b, "amount_fen", (double)plan[i].take);
			cJSON_AddItemToArray(bills, b);
		}
		rc = audit_write(db, s->who, "payment.record", "payment", payment_id, NULL, after);
		cJSON_Delete(after);
	}
	return rc;
}

int payops_staff_payment(struct db *db, const struct audit_actor *who, const struct staff_payment *p,
			 struct staff_payment_result *out)
{
	struct staff_pay_tx s = { who, p, out };
	int rc;

	/* the account exists before the transaction (see pay_settle); an unknown house fails here harmlessly */
	db_run(db, &q_account_ensure, NULL, p->house_id);
	rc = db_tx(db, staff_pay_tx, &s);

	/* two requests with the same new key at once: the loser sees the winner's row */
	if (rc == XQ_ECONFLICT && p->external_ref && *p->external_ref && !out->message_zh[0])
		rc = db_tx(db, staff_pay_tx, &s);
	return rc;
}
