/*
 * api_account.c - a resident's view of a bound house's money: the payments
 * received (with the bills each one settled), a payment's receipt (收据,
 * with the total in 人民币大写), and the account's ledger entries with the
 * running balance. Read-only: money is written by api_pay.c (pay_settle)
 * and the console, never here.
 *
 * Which bills a payment settled comes from the ledger's 'settle' entries
 * (payment_id set), so it is the same for WeChat, cash, bank and balance
 * payments.
 */
#include "crud.h"
#include "money_words.h"
#include "resident_auth.h"

#include <stdio.h>
#include <string.h>

static const char *utility_zh(const char *u)
{
	return !strcmp(u, "water") ? "水费" : "电费";
}

static const char *channel_zh(const char *c)
{
	if (!strcmp(c, "wechat"))
		return "微信支付";
	if (!strcmp(c, "cash"))
		return "现金";
	if (!strcmp(c, "bank"))
		return "银行转账";
	return "余额支付";
}

/*
 * The receipt number: the stored one, else one derived from the payment
 * (SJ + paid day in Asia/Shanghai + id), stable and unique like the id.
 */
#define RECEIPT_NO "COALESCE(p.receipt_no, CONCAT('SJ', DATE_FORMAT(p.paid_at + INTERVAL 8 HOUR," \
	" '%Y%m%d'), LPAD(p.id, 8, '0')))"

/* ---- payments of a house ------------------------------------------------- */

DB_QUERY(q_res_pay_count) = {
	"resident_payments_count", "SELECT COUNT(*) FROM payment WHERE house_id = ?", "l", "l",
};

DB_QUERY(q_res_pay_page) = {
	"resident_payments_page",
	"SELECT p.id, p.channel, p.purpose, p.amount_fen, p.status, p.paid_at, p.external_ref,"
	" o.out_trade_no, o.transaction_id, " RECEIPT_NO " AS receipt_no"
	" FROM payment p LEFT JOIN wx_order o ON o.id = p.wx_order_id"
	" WHERE p.house_id = ? ORDER BY p.paid_at DESC, p.id DESC LIMIT ? OFFSET ?",
	"lll",
	"lsslssssss",
};

/* The settle entries of the same page of payments, one query for the page. */
DB_QUERY(q_res_pay_bills) = {
	"resident_payments_bills",
	"SELECT le.payment_id, le.bill_id, b.period, b.utility, -le.amount_fen"
	" FROM (SELECT id FROM payment WHERE house_id = ? ORDER BY paid_at DESC, id DESC"
	"       LIMIT ? OFFSET ?) pg"
	" JOIN ledger_entry le ON le.payment_id = pg.id AND le.kind = 'settle'"
	" JOIN bill b ON b.id = le.bill_id ORDER BY le.payment_id, b.period, b.utility, le.id",
	"lll",
	"llssl",
};

static cJSON *bill_item(const struct db_res *r, size_t i)
{
	cJSON *b = cJSON_CreateObject();

	cJSON_AddNumberToObject(b, "bill_id", (double)db_i64(r, i, 1));
	cJSON_AddStringToObject(b, "period", db_str(r, i, 2));
	cJSON_AddStringToObject(b, "utility", db_str(r, i, 3));
	cJSON_AddStringToObject(b, "utility_zh", utility_zh(db_str(r, i, 3)));
	cJSON_AddNumberToObject(b, "amount_fen", (double)db_i64(r, i, 4));
	return b;
}

int api_resident_house_payments(struct req *rq)
{
	struct db_res cnt, rows = { 0 }, bills = { 0 };
	int64_t house_id;
	struct page pg;
	cJSON *o, *items;
	int rc;

	/* the router has checked the binding (R_OWN_HOUSE) */
	if (req_param_id(rq, "id", &house_id))
		return resp_fail(rq, XQ_ENOTFOUND);
	if (api_page(rq, &pg))
		return rq->status;
	rc = db_run(rq->db, &q_res_pay_count, &cnt, house_id);
	if (rc == XQ_OK)
		rc = db_run(rq->db, &q_res_pay_page, &rows, house_id, pg.size, pg.offset);
	if (rc == XQ_OK)
		rc = db_run(rq->db, &q_res_pay_bills, &bills, house_id, pg.size, pg.offset);
	if (rc) {
		db_res_release(&cnt);
		db_res_release(&rows);
		db_res_release(&bills);
		return resp_fail(rq, rc);
	}
	items = db_rows_json(&rows);
	for (size_t i = 0; i < rows.nrows; i++) {
		cJSON *p = cJSON_GetArrayItem(items, (int)i);
		cJSON *bl = cJSON_AddArrayToObject(p, "bills");
		int64_t pid = db_i64(&rows, i, 0);

		cJSON_AddStringToObject(p, "channel_zh", channel_zh(db_str(&rows, i, 1)));
		for (size_t k = 0; k < bills.nrows; k++)
			if (db_i64(&bills, k, 0) == pid)
				cJSON_AddItemToArray(bl, bill_item(&bills, k));
	}
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "items", items);
	cJSON_AddNumberToObject(o, "total", (double)db_i64(&cnt, 0, 0));
	cJSON_AddNumberToObject(o, "page", (double)pg.page);
	cJSON_AddNumberToObject(o, "page_size", (double)pg.size);
	db_res_release(&cnt);
	db_res_release(&rows);
	db_res_release(&bills);
	return resp_json(rq, 200, o);
}

/* ---- receipt ----------------------------------------------------------------- */

DB_QUERY(q_res_receipt) = {
	"resident_receipt",
	"SELECT p.id, p.house_id, " RECEIPT_NO " AS receipt_no, p.channel, p.purpose, p.amount_fen,"
	" p.status, p.paid_at, p.external_ref, o.transaction_id,"
	" c.name, c.company, c.address, b.name, h.unit_no, h.room,"
	" COALESCE((SELECT r.name FROM wx_binding wb JOIN resident r ON r.id = wb.resident_id"
	"   WHERE wb.wx_user_id = o.wx_user_id AND wb.house_id = p.house_id),"
	"  (SELECT r.name FROM house_resident hr JOIN resident r ON r.id = hr.resident_id"
	"   WHERE hr.house_id = p.house_id AND hr.relation = 'owner' AND hr.move_out IS NULL"
	"   ORDER BY hr.move_in DESC, hr.id DESC LIMIT 1), '') AS payer"
	" FROM payment p LEFT JOIN wx_order o ON o.id = p.wx_order_id"
	" JOIN house h ON h.id = p.house_id JOIN building b ON b.id = h.building_id"
	" JOIN community c ON c.id = b.community_id WHERE p.id = ?",
	"l",
	"llsssl" "sssssssssss",
};

DB_QUERY(q_res_receipt_items) = {
	"resident_receipt_items",
	"SELECT le.payment_id, le.bill_id, b.period, b.utility, -le.amount_fen FROM ledger_entry le"
	" JOIN bill b ON b.id = le.bill_id WHERE le.payment_id = ? AND le.kind = 'settle'"
	" ORDER BY b.period, b.utility, le.id",
	"l",
	"llssl",
};

/*
 * One receipt for both audiences: the resident's route checks ownership
 * (resident = 1), the console's (payment.read, staff) any payment; a
 * missing payment is 404 either way.
 */
static int payment_receipt(struct req *rq, int resident)
{
	struct db_res r, it;
	int64_t pid, amount, settled = 0;
	char words[MONEY_WORDS_SIZE], yuan[32], addr[512], iso[48];
	cJSON *o, *items, *h;
	int rc;

	if (req_param_id(rq, "id", &pid))
		return resp_fail_msg(rq, XQ_ENOTFOUND, "收款记录不存在", NULL);
	if ((rc = db_run(rq->db, &q_res_receipt, &r, pid)))
		return resp_fail(rq, rc);
	/* the one ownership helper: another resident's payment is "not found" */
	if (resident)
		rc = resident_house_check(rq->db, rq->who.wx_user_id,
					  r.nrows == 1 ? db_i64(&r, 0, 1) : 0);
	else
		rc = r.nrows == 1 ? XQ_OK : XQ_ENOTFOUND;
	if (rc) {
		db_res_release(&r);
		return rc == XQ_ENOTFOUND ? resp_fail_msg(rq, XQ_ENOTFOUND, "收款记录不存在", NULL)
					  : resp_fail(rq, rc);
	}
	if ((rc = db_run(rq->db, &q_res_receipt_items, &it, pid))) {
		db_res_release(&r);
		return resp_fail(rq, rc);
	}
	amount = db_i64(&r, 0, 5);
	if ((rc = money_to_chinese_upper(amount, words, sizeof(words)))) {
		db_res_release(&r);
		db_res_release(&it);
		return resp_fail(rq, XQ_ERROR);
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "title", "收据");
	cJSON_AddStringToObject(o, "receipt_no", db_str(&r, 0, 2));
	cJSON_AddNumberToObject(o, "payment_id", (double)pid);
	cJSON_AddStringToObject(o, "issuer", *db_str(&r, 0, 11) ? db_str(&r, 0, 11) : db_str(&r, 0, 10));
	h = cJSON_AddObjectToObject(o, "house");
	cJSON_AddNumberToObject(h, "id", (double)db_i64(&r, 0, 1));
	cJSON_AddStringToObject(h, "community", db_str(&r, 0, 10));
	cJSON_AddStringToObject(h, "building", db_str(&r, 0, 13));
	cJSON_AddStringToObject(h, "unit_no", db_str(&r, 0, 14));
	cJSON_AddStringToObject(h, "room", db_str(&r, 0, 15));
	xq_snprintf(addr, sizeof(addr), "%s%s%s%s%s单元%s", db_str(&r, 0, 12),
		    *db_str(&r, 0, 12) ? " " : "", db_str(&r, 0, 10), db_str(&r, 0, 13),
		    db_str(&r, 0, 14), db_str(&r, 0, 15));
	cJSON_AddStringToObject(h, "address", addr);
	cJSON_AddStringToObject(o, "payer", db_str(&r, 0, 16));
	cJSON_AddStringToObject(o, "channel", db_str(&r, 0, 3));
	cJSON_AddStringToObject(o, "channel_zh", channel_zh(db_str(&r, 0, 3)));
	cJSON_AddStringToObject(o, "purpose", db_str(&r, 0, 4));
	cJSON_AddStringToObject(o, "status", db_str(&r, 0, 6));
	xq_snprintf(iso, sizeof(iso), "%.10sT%.12sZ", db_str(&r, 0, 7), db_str(&r, 0, 7) + 11);
	cJSON_AddStringToObject(o, "paid_at", iso);
	if (db_str(&r, 0, 8))
		cJSON_AddStringToObject(o, "external_ref", db_str(&r, 0, 8));
	else
		cJSON_AddNullToObject(o, "external_ref");
	if (db_str(&r, 0, 9))
		cJSON_AddStringToObject(o, "transaction_id", db_str(&r, 0, 9));
	else
		cJSON_AddNullToObject(o, "transaction_id");
	items = cJSON_AddArrayToObject(o, "items");
	for (size_t i = 0; i < it.nrows; i++) {
		cJSON *b = bill_item(&it, i);
		char label[64];
		const char *p = db_str(&it, i, 2);

		/* "2026年10月电费", "2026年3月水费": YYYY-MM is checked by the schema */
		xq_snprintf(label, sizeof(label), "%.4s年%s%c月%s", p, p[5] == '1' ? "1" : "",
			    p[6], utility_zh(db_str(&it, i, 3)));
		cJSON_AddStringToObject(b, "kind", "bill");
		cJSON_AddStringToObject(b, "label_zh", label);
		cJSON_AddItemToArray(items, b);
		settled += db_i64(&it, i, 4);
	}
	if (amount > settled) {
		/* a top-up, or the part of a payment that stayed as credit */
		cJSON *c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "kind", "credit");
		cJSON_AddStringToObject(c, "label_zh", "预存款");
		cJSON_AddNumberToObject(c, "amount_fen", (double)(amount - settled));
		cJSON_AddItemToArray(items, c);
	}
	cJSON_AddNumberToObject(o, "total_fen", (double)amount);
	json_dec2_format(amount, yuan, sizeof(yuan));
	cJSON_AddStringToObject(o, "total_yuan", yuan);
	cJSON_AddStringToObject(o, "total_upper", words);
	db_res_release(&r);
	db_res_release(&it);
	return resp_json(rq, 200, o);
}

int api_resident_payment_receipt(struct req *rq)
{
	return payment_receipt(rq, 1);
}

/* console2 area: the same receipt for staff, to print at the counter */
int admin_payment_receipt(struct req *rq)
{
	return payment_receipt(rq, 0);
}

/* ---- ledger ---------------------------------------------------------------------- */

DB_QUERY(q_res_account) = {
	"resident_account",
	"SELECT a.id, a.balance_fen, COALESCE((SELECT SUM(le.amount_fen) FROM ledger_entry le"
	"   WHERE le.account_id = a.id), 0), (SELECT COUNT(*) FROM ledger_entry le"
	"   WHERE le.account_id = a.id)"
	" FROM account a WHERE a.house_id = ?",
	"l",
	"llll",
};

/*
 * Newest first, with the running sum of every entry up to and including
 * each one (the window runs over the whole account, then the page is cut).
 */
DB_QUERY(q_res_ledger_page) = {
	"resident_ledger_page",
	"SELECT id, kind, amount_fen, balance_after_fen, bill_id, payment_id, refund_id, note,"
	" created_at FROM (SELECT le.*, SUM(le.amount_fen) OVER (ORDER BY le.id) AS balance_after_fen"
	"   FROM ledger_entry le WHERE le.account_id = ?) t"
	" ORDER BY id DESC LIMIT ? OFFSET ?",
	"lll",
	"lslllllss",
};

static const char *ledger_kind_zh(const char *k)
{
	static const char *const map[][2] = {
		{ "payment", "收款" }, { "settle", "缴费抵扣" }, { "reverse", "冲回" },
		{ "refund", "退款" },  { "ev", "充电消费" },    { "adjust", "调账" },
	};
	for (size_t i = 0; i < XQ_ARRAY_LEN(map); i++)
		if (!strcmp(k, map[i][0]))
			return map[i][1];
	return k;
}

int api_resident_house_ledger(struct req *rq)
{
	struct db_res a, rows = { 0 };
	int64_t house_id, balance = 0, sum = 0, total = 0;
	int consistent;
	struct page pg;
	cJSON *o, *items;
	int rc;

	/* the router has checked the binding (R_OWN_HOUSE) */
	if (req_param_id(rq, "id", &house_id))
		return resp_fail(rq, XQ_ENOTFOUND);
	if (api_page(rq, &pg))
		return rq->status;
	if ((rc = db_run(rq->db, &q_res_account, &a, house_id)))
		return resp_fail(rq, rc);
	if (a.nrows == 1) {
		balance = db_i64(&a, 0, 1);
		sum = db_i64(&a, 0, 2);
		total = db_i64(&a, 0, 3);
		rc = db_run(rq->db, &q_res_ledger_page, &rows, db_i64(&a, 0, 0), pg.size, pg.offset);
	}
	db_res_release(&a);
	if (rc)
		return resp_fail(rq, rc);
	/*
	 * The running sum is the balance after each entry only if every change
	 * of the balance went through the ledger; if not (an account seeded or
	 * corrected outside it), we say so instead of showing wrong figures.
	 */
	consistent = sum == balance;
	items = db_rows_json(&rows);
	for (size_t i = 0; i < rows.nrows; i++) {
		cJSON *e = cJSON_GetArrayItem(items, (int)i);
		cJSON_AddStringToObject(e, "kind_zh", ledger_kind_zh(db_str(&rows, i, 1)));
		if (!consistent)
			cJSON_ReplaceItemInObject(e, "balance_after_fen", cJSON_CreateNull());
	}
	db_res_release(&rows);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "house_id", (double)house_id);
	cJSON_AddNumberToObject(o, "balance_fen", (double)balance);
	cJSON_AddBoolToObject(o, "balance_derivable", consistent);
	cJSON_AddItemToObject(o, "items", items);
	cJSON_AddNumberToObject(o, "total", (double)total);
	cJSON_AddNumberToObject(o, "page", (double)pg.page);
	cJSON_AddNumberToObject(o, "page_size", (double)pg.size);
	return resp_json(rq, 200, o);
}
