/*
 * test_payops.c - payment operations through nginx on the real stack:
 *  - 100 orders, each notification delivered 2-3 times, shuffled, 16 at a
 *    time: exactly 100 credits, ledger sums, every bill paid, balances 0;
 *  - forged signature, stale timestamp, wrong amount, wrong appid, unknown
 *    order: refused with the right status, nothing credited, alert rows;
 *  - xq-api SIGKILLed after storing a notification (XQ_FAULT_NOTIFY=kill):
 *    WeChat's retry credits once, and `xqctl pay-retry` credits a stored
 *    notification that nobody retried;
 *  - two `xqctl pay-retry` runs at once over stored, unprocessed
 *    notifications (two cron hosts): each order credited once;
 *  - pay-sync: an order whose callbacks all failed is settled by the query,
 *    an expired one closed, a SUCCESS for a closed order still credited, a
 *    refund WeChat refused with 500 sent again;
 *  - refunds: partial and full, concurrent refunds exceeding the amount
 *    (one refused), the refund callback replayed (one ledger entry);
 *  - cash and bank payments (idempotency key, oldest bill first, credit),
 *    paying from the balance (resident and ownership);
 *  - reconciliation: a planted amount change and a payment only WeChat
 *    knows are exactly the differences reported.
 * Estate rows and bills are written straight into MariaDB (XQ_CONFIG).
 */
#include "client.h"
#include "auth.h"
#include "config.h"
#include "db.h"
#include "test.h"
#include "wxclient.h"
#include "wxnotify_gen.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ADMIN_PW (getenv("XQ_TEST_ADMIN_PASSWORD") ? getenv("XQ_TEST_ADMIN_PASSWORD") : "Xiaoqu@2026")
#define A "/admin/api/v1"
#define NHOUSE 10
#define NBILL 10 /* per house */

DB_QUERY(q_comm) = { "t_po_comm", "INSERT INTO community (code, name) VALUES (?, ?)", "ss", NULL };
DB_QUERY(q_bldg) = { "t_po_bldg", "INSERT INTO building (community_id, name) VALUES (?, ?)", "ls", NULL };
DB_QUERY(q_house) = {
	"t_po_house", "INSERT INTO house (building_id, unit_no, room) VALUES (?, '1', ?)", "ls", NULL,
};
DB_QUERY(q_bill) = {
	"t_po_bill",
	"INSERT INTO bill (house_id, period, utility, status, amount_fen, issued_at, due_date)"
	" VALUES (?, ?, 'electric', 'issued', ?, NOW(3), ? )",
	"lsls", NULL,
};
DB_QUERY(q_bind) = {
	"t_po_bind",
	"INSERT INTO wx_binding (wx_user_id, house_id, relation, status, verified_by)"
	" VALUES (?, ?, 'owner', 'active', 'staff')",
	"ll", NULL,
};
DB_QUERY(q_pay_count) = {
	"t_po_pay_count",
	"SELECT COUNT(*), COALESCE(MIN(id), 0), COALESCE(SUM(amount_fen), 0) FROM payment"
	" WHERE channel = 'wechat' AND external_ref = ?",
	"s", "lll",
};
DB_QUERY(q_ledger_pay) = {
	"t_po_ledger_pay",
	"SELECT COUNT(*), COALESCE(SUM(amount_fen), 0) FROM ledger_entry WHERE payment_id = ? AND kind = ?",
	"ls", "ll",
};
DB_QUERY(q_bill_state) = { "t_po_bill_state", "SELECT status, paid_fen FROM bill WHERE id = ?", "l", "sl" };
DB_QUERY(q_balance) = {
	"t_po_balance",
	"SELECT COALESCE(MAX(a.balance_fen), 0), COALESCE((SELECT SUM(l.amount_fen) FROM ledger_entry l"
	" WHERE l.account_id = MAX(a.id)), 0) FROM account a WHERE a.house_id = ?",
	"l", "ll",
};
DB_QUERY(q_inbox_nid) = {
	"t_po_inbox_nid",
	"SELECT COUNT(*), COALESCE(SUM(result = 'credited'), 0), COALESCE(SUM(result = 'duplicate'), 0),"
	" COALESCE(SUM(processed_at IS NULL), 0) FROM wx_notify_inbox WHERE notify_id = ?",
	"s", "llll",
};
DB_QUERY(q_alert) = {
	"t_po_alert", "SELECT COUNT(*), COALESCE(MAX(level), '') FROM alert WHERE dedup_key = ?", "s", "ls",
};
DB_QUERY(q_alert_house) = {
	"t_po_alert_house", "SELECT COALESCE(MAX(house_id), 0), COALESCE(MAX(community_id), 0) FROM alert"
	" WHERE dedup_key = ?", "s", "ll",
};
DB_QUERY(q_alert_like) = {
	"t_po_alert_like", "SELECT COUNT(*) FROM alert WHERE dedup_key LIKE ?", "s", "l",
};
DB_QUERY(q_order_state) = {
	"t_po_order_state", "SELECT state, refunded_fen FROM wx_order WHERE out_trade_no = ?", "s", "sl",
};
DB_QUERY(q_order_age) = {
	"t_po_order_age",
	"UPDATE wx_order SET created_at = created_at - INTERVAL 10 MINUTE, time_expire = ?"
	" WHERE out_trade_no = ?",
	"ss", NULL,
};
DB_QUERY(q_order_closed) = {
	"t_po_order_closed", "UPDATE wx_order SET state = 'closed' WHERE out_trade_no = ?", "s", NULL,
};
DB_QUERY(q_refund_ledger) = {
	"t_po_refund_ledger",
	"SELECT COUNT(*), COALESCE(SUM(l.amount_fen), 0) FROM ledger_entry l JOIN refund r"
	" ON r.id = l.refund_id WHERE r.payment_id = ? AND l.kind = 'refund'",
	"l", "ll",
};
DB_QUERY(q_audit) = {
	"t_po_audit", "SELECT COUNT(*) FROM audit_log WHERE action = ? AND entity_id = ?", "sl", "l",
};
DB_QUERY(q_backdate_pay) = {
	"t_po_backdate_pay",
	"UPDATE payment SET paid_at = paid_at - INTERVAL ? DAY WHERE channel = 'wechat' AND external_ref = ?",
	"is", NULL,
};
DB_QUERY(q_backdate_refund) = {
	"t_po_backdate_refund",
	"UPDATE refund SET created_at = created_at - INTERVAL ? DAY WHERE out_trade_no = ?", "is", NULL,
};
DB_QUERY(q_pay_amount) = {
	"t_po_pay_amount",
	"UPDATE payment SET amount_fen = amount_fen + ? WHERE channel = 'wechat' AND external_ref = ?",
	"ls", NULL,
};
DB_QUERY(q_pay_day) = {
	"t_po_pay_day",
	"SELECT DATE_FORMAT(CONVERT_TZ(paid_at, '+00:00', '+08:00'), '%Y-%m-%d') FROM payment"
	" WHERE channel = 'wechat' AND external_ref = ?",
	"s", "s",
};
DB_QUERY(q_recon) = {
	"t_po_recon", "SELECT status, diffs, detail FROM reconciliation WHERE bill_date = ?", "s", "sls",
};

DB_QUERY(q_inbox_plant) = {
	"t_po_inbox_plant",
	"INSERT INTO wx_notify_inbox (received_at, notify_id, event_type, headers, body)"
	" VALUES (NOW(3) - INTERVAL 2 MINUTE, ?, 'TRANSACTION.SUCCESS', ?, ?)",
	"sss", NULL,
};
DB_QUERY(q_refund_state) = {
	"t_po_refund_state", "SELECT state FROM refund WHERE id = ?", "l", "s",
};

static struct config cfg;
static struct db *db;
static struct wxgen gen;
static struct client staff, reader, res1, res2, sim;
static char uniq[32], notify_url[256];
static int64_t comm, bldg, house[NHOUSE + 4], bills[NHOUSE][NBILL], amounts[NHOUSE][NBILL];

static int64_t qi(const struct db_query *q, size_t col, const char *s)
{
	struct db_res r;
	int64_t v = -1;

	if (db_run(db, q, &r, s) == XQ_OK) {
		if (r.nrows == 1)
			v = db_i64(&r, 0, col);
		db_res_release(&r);
	}
	return v;
}

static int64_t ql(const struct db_query *q, size_t col, int64_t l)
{
	struct db_res r;
	int64_t v = -1;

	if (db_run(db, q, &r, l) == XQ_OK) {
		if (r.nrows == 1)
			v = db_i64(&r, 0, col);
		db_res_release(&r);
	}
	return v;
}

static void bearer(struct client *c, const char *token)
{
	curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
	curl_easy_setopt(c->curl, CURLOPT_XOAUTH2_BEARER, token);
}

static int64_t login(struct client *c, const char *name)
{
	char body[160];

	snprintf(body, sizeof(body), "{\"code\":\"test-%s.%s\"}", name, uniq);
	CHECK_EQ_I64(client_req(c, "POST", "/api/v1/auth/login", body, NULL), 200);
	if (jstr(c, "token"))
		bearer(c, jstr(c, "token"));
	CHECK_EQ_I64(client_req(c, "GET", "/api/v1/me", NULL, NULL), 200);
	return (int64_t)jnum(c, "user.id");
}

static int64_t new_house(const char *room)
{
	CHECK_EQ_I64(db_run(db, &q_house, NULL, bldg, room), XQ_OK);
	return db_insert_id(db);
}

static int64_t new_bill(int64_t h, const char *period, int64_t fen, const char *due)
{
	CHECK_EQ_I64(db_run(db, &q_bill, NULL, h, period, fen, due), XQ_OK);
	return db_insert_id(db);
}

static void seed(void)
{
	char code[40], name[64], room[16], period[8], due[11];
	int64_t u1;

	snprintf(code, sizeof(code), "P%s", uniq);
	snprintf(name, sizeof(name), "收费测试小区%s", uniq);
	CHECK_EQ_I64(db_run(db, &q_comm, NULL, code, name), XQ_OK);
	comm = db_insert_id(db);
	CHECK_EQ_I64(db_run(db, &q_bldg, NULL, comm, "8号楼"), XQ_OK);
	bldg = db_insert_id(db);
	u1 = login(&res1, "payops1");
	login(&res2, "payops2");
	for (int h = 0; h < NHOUSE + 4; h++) {
		snprintf(room, sizeof(room), "%d", 101 + h);
		house[h] = new_house(room);
		CHECK_EQ_I64(db_run(db, &q_bind, NULL, u1, house[h]), XQ_OK);
	}
	for (int h = 0; h < NHOUSE; h++)
		for (int b = 0; b < NBILL; b++) {
			snprintf(period, sizeof(period), "2025-%02d", b + 1);
			snprintf(due, sizeof(due), "2025-%02d-25", b + 1);
			amounts[h][b] = 1000 + 7 * b + 13 * h;
			bills[h][b] = new_bill(house[h], period, amounts[h][b], due);
		}
}

/* POST /api/v1/orders as res1; copies the out_trade_no. */
static void order(const char *body, char otn[40])
{
	otn[0] = '\0';
	CHECK_EQ_I64(client_req(&res1, "POST", "/api/v1/orders", body, NULL), 201);
	if (jstr(&res1, "out_trade_no"))
		snprintf(otn, 40, "%s", jstr(&res1, "out_trade_no"));
}

static void bill_order(int64_t h, int64_t b, char otn[40])
{
	char body[128];
	snprintf(body, sizeof(body), "{\"house_id\":%lld,\"bill_ids\":[%lld]}", (long long)h, (long long)b);
	order(body, otn);
}

static void topup_order(int64_t h, int64_t fen, char otn[40])
{
	char body[128];
	snprintf(body, sizeof(body), "{\"house_id\":%lld,\"topup_fen\":%lld}", (long long)h, (long long)fen);
	order(body, otn);
}

/* Waits until out_trade_no has a payment (or timeout); returns the payment count. */
static int64_t wait_paid(const char *otn, int seconds)
{
	for (int i = 0; i < seconds * 10; i++) {
		if (qi(&q_pay_count, 0, otn) > 0)
			break;
		usleep(100000);
	}
	return qi(&q_pay_count, 0, otn);
}

/* One signed notification for (otn, fen) posted now; returns the HTTP status. */
static long notify_one(const char *otn, int64_t fen, const char *appid, int64_t skew, int forge,
		       const char *nid)
{
	struct wxgen_req r;
	char *plain = wxgen_txn(&gen, otn, fen, appid, NULL);

	wxgen_sign(&gen, wxgen_envelope(&gen, nid, "TRANSACTION.SUCCESS", "transaction", plain), skew,
		   forge, &r);
	free(plain);
	wxgen_fire(notify_url, &r, 1, 1);
	wxgen_req_release(&r);
	return r.status;
}

TEST(concurrent_duplicates)
{
	enum { N = NHOUSE * NBILL };
	char otn[N][40], nid[N][48];
	struct wxgen_req *reqs = calloc(N * 3, sizeof(*reqs));
	size_t n = 0, ok;
	int64_t total = 0, credited = 0, dups = 0;

	for (int h = 0; h < NHOUSE; h++)
		for (int b = 0; b < NBILL; b++)
			bill_order(house[h], bills[h][b], otn[h * NBILL + b]);
	for (int i = 0; i < N; i++) {
		char *plain = wxgen_txn(&gen, otn[i], amounts[i / NBILL][i % NBILL], NULL, NULL);
		int copies = 2 + i % 2;
		snprintf(nid[i], sizeof(nid[i]), "EV-%s-%d", uniq, i);
		for (int c = 0; c < copies; c++)
			wxgen_sign(&gen, wxgen_envelope(&gen, nid[i], "TRANSACTION.SUCCESS", "transaction", plain),
				   0, 0, &reqs[n++]);
		free(plain);
	}
	/* shuffle (Fisher-Yates with a fixed-seed LCG, so a failure can be replayed) */
	for (size_t i = n - 1, x = 42; i > 0; i--) {
		size_t j;
		x = x * 6364136223846793005u + 1442695040888963407u;
		j = (size_t)(x >> 33) % (i + 1);
		struct wxgen_req t = reqs[i];
		reqs[i] = reqs[j];
		reqs[j] = t;
	}
	ok = wxgen_fire(notify_url, reqs, n, 16);
	CHECK_EQ_I64(ok, n); /* duplicates are answered 200 too */
	for (size_t i = 0; i < n; i++)
		wxgen_req_release(&reqs[i]);
	free(reqs);

	for (int i = 0; i < N; i++) {
		struct db_res r;
		int64_t pid, fen = amounts[i / NBILL][i % NBILL];

		CHECK_EQ_I64(qi(&q_pay_count, 0, otn[i]), 1);
		pid = qi(&q_pay_count, 1, otn[i]);
		CHECK_EQ_I64(db_run(db, &q_ledger_pay, &r, pid, "payment"), XQ_OK);
		CHECK_EQ_I64(db_i64(&r, 0, 0), 1);
		CHECK_EQ_I64(db_i64(&r, 0, 1), fen);
		db_res_release(&r);
		CHECK_EQ_I64(db_run(db, &q_ledger_pay, &r, pid, "settle"), XQ_OK);
		CHECK_EQ_I64(db_i64(&r, 0, 0), 1);
		CHECK_EQ_I64(db_i64(&r, 0, 1), -fen);
		db_res_release(&r);
		CHECK_EQ_I64(db_run(db, &q_bill_state, &r, bills[i / NBILL][i % NBILL]), XQ_OK);
		CHECK_STR(db_str(&r, 0, 0), "paid");
		CHECK_EQ_I64(db_i64(&r, 0, 1), fen);
		db_res_release(&r);
		credited += qi(&q_inbox_nid, 1, nid[i]);
		dups += qi(&q_inbox_nid, 2, nid[i]);
		total += fen;
	}
	CHECK_EQ_I64(credited, N);
	CHECK_EQ_I64(dups, (int64_t)n - N);
	CHECK(total > 0);
	/* exact amounts: nothing left over as credit, and the balance is the ledger's sum */
	for (int h = 0; h < NHOUSE; h++) {
		CHECK_EQ_I64(ql(&q_balance, 0, house[h]), 0);
		CHECK_EQ_I64(ql(&q_balance, 1, house[h]), 0);
	}
}

TEST(bad_notifications)
{
	char otn[40], unknown[40], nid[64], dk[96];
	int64_t h = house[NHOUSE], b = new_bill(h, "2025-11", 4321, "2025-11-25");
	int64_t badsig_before = 0;

	bill_order(h, b, otn);
	{
		struct db_res r;
		CHECK_EQ_I64(db_run(db, &q_alert_like, &r, "pay_notify_badsig:%"), XQ_OK);
		badsig_before = db_i64(&r, 0, 0);
		db_res_release(&r);
	}
	snprintf(nid, sizeof(nid), "EV-bad-%s", uniq);
	/* signed by the merchant key (a real RSA signature, not WeChat's), and 10 minutes old */
	CHECK_EQ_I64(notify_one(otn, 4321, NULL, 0, 1, nid), 401);
	CHECK_EQ_I64(notify_one(otn, 4321, NULL, -600, 0, nid), 401);
	{
		struct db_res r;
		CHECK_EQ_I64(db_run(db, &q_alert_like, &r, "pay_notify_badsig:%"), XQ_OK);
		CHECK_EQ_I64(db_i64(&r, 0, 0), badsig_before + 2);
		db_res_release(&r);
	}
	/* genuine, but not what we ordered */
	CHECK_EQ_I64(notify_one(otn, 4322, NULL, 0, 0, nid), 400);
	snprintf(dk, sizeof(dk), "pay_notify_mismatch:%s", otn);
	CHECK_EQ_I64(qi(&q_alert, 0, dk), 1);
	{
		struct db_res r;
		CHECK_EQ_I64(db_run(db, &q_alert, &r, dk), XQ_OK);
		CHECK_STR(db_str(&r, 0, 1), "critical");
		db_res_release(&r);
	}
	/* a known order: the alert belongs to its house and community */
	CHECK_EQ_I64(qi(&q_alert_house, 0, dk), h);
	CHECK_EQ_I64(qi(&q_alert_house, 1, dk), comm);
	snprintf(unknown, sizeof(unknown), "XQ%sdead", uniq);
	CHECK_EQ_I64(notify_one(unknown, 100, NULL, 0, 0, "EV-unknown"), 400);
	snprintf(dk, sizeof(dk), "pay_notify_unknown:%s", unknown);
	CHECK_EQ_I64(qi(&q_alert, 0, dk), 1);
	snprintf(unknown, sizeof(unknown), "XQ%sappid", uniq);
	CHECK_EQ_I64(notify_one(unknown, 100, "wx0000000000000000", 0, 0, "EV-appid"), 400);
	snprintf(dk, sizeof(dk), "pay_notify_mismatch:%s", unknown);
	CHECK_EQ_I64(qi(&q_alert, 0, dk), 1);
	/* nothing credited by any of them */
	CHECK_EQ_I64(qi(&q_pay_count, 0, otn), 0);
	CHECK_EQ_I64(qi(&q_inbox_nid, 1, nid), 0);
	/* the genuine one still credits */
	CHECK_EQ_I64(notify_one(otn, 4321, NULL, 0, 0, nid), 200);
	CHECK_EQ_I64(qi(&q_pay_count, 0, otn), 1);
	CHECK_EQ_I64(qi(&q_inbox_nid, 1, nid), 1);
}

/* Runs stack.sh with env (e.g. "XQ_FAULT_NOTIFY=kill") after killing xq-api. */
static void restart_api(const char *env)
{
	char cmd[1024];
	const char *var = getenv("XQ_VAR"), *sh = getenv("XQ_STACK_SH");

	snprintf(cmd, sizeof(cmd),
		 "kill -9 $(cat '%s/run/xq-api.pid') 2>/dev/null; sleep 0.3; %s bash '%s' start"
		 " >>'%s/log/test-payops-restart.log' 2>&1",
		 var, env, sh, var);
	CHECK_EQ_I64(system(cmd), 0);
}

static int xqctl(const char *args, char *out, size_t n)
{
	char cmd[512];
	FILE *p;
	size_t len = 0;
	int st;

	snprintf(cmd, sizeof(cmd), "'%s' %s 2>&1", getenv("XQCTL"), args);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (out) {
		len = fread(out, 1, n - 1, p);
		out[len] = '\0';
	} else {
		char tmp[4096];
		while (fread(tmp, 1, sizeof(tmp), p) > 0)
			;
	}
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(crash_after_inbox)
{
	char otn[40], otn2[40], body[256], nid[96] = "", nid2[96] = "", out[4096], env[96];
	int64_t h = house[NHOUSE + 1], b = new_bill(h, "2025-11", 2500, "2025-11-25");
	int64_t b2 = new_bill(h, "2025-12", 2600, "2025-12-25");

	bill_order(h, b, otn);
	bill_order(h, b2, otn2);
	/* 1. the first delivery kills xq-api after the inbox commit; WeChat's retries credit once */
	snprintf(env, sizeof(env), "XQ_FAULT_NOTIFY=kill@%s", otn);
	restart_api(env);
	snprintf(body, sizeof(body), "{\"out_trade_no\":\"%s\",\"retry_scale\":100}", otn);
	CHECK_EQ_I64(client_req(&sim, "POST", "/sim/pay", body, NULL), 200);
	if (jstr(&sim, "notification_id"))
		snprintf(nid, sizeof(nid), "%s", jstr(&sim, "notification_id"));
	for (int i = 0; i < 100 && qi(&q_inbox_nid, 0, nid) < 1; i++)
		usleep(100000);
	usleep(300000);
	CHECK_EQ_I64(qi(&q_inbox_nid, 3, nid), 1); /* stored, never processed: the process died */
	CHECK_EQ_I64(qi(&q_pay_count, 0, otn), 0);
	restart_api("");
	snprintf(body, sizeof(body), "{\"out_trade_no\":\"%s\"}", otn);
	CHECK_EQ_I64(client_req(&sim, "POST", "/sim/notify/deliver", body, NULL), 200);
	CHECK_EQ_I64(wait_paid(otn, 30), 1);
	CHECK_EQ_I64(qi(&q_inbox_nid, 1, nid), 1);
	/* the dead process's row is done by pay-retry, as a duplicate */
	CHECK_EQ_I64(xqctl("pay-retry --min-age 0", out, sizeof(out)), 0);
	CHECK(strstr(out, "already credited") != NULL);
	CHECK_EQ_I64(qi(&q_inbox_nid, 3, nid), 0);
	CHECK_EQ_I64(qi(&q_inbox_nid, 1, nid), 1);
	CHECK_EQ_I64(qi(&q_pay_count, 0, otn), 1);

	/* 2. killed again, and WeChat's next retry is far away (scale 1: 15 s): pay-retry credits */
	snprintf(env, sizeof(env), "XQ_FAULT_NOTIFY=kill@%s", otn2);
	restart_api(env);
	snprintf(body, sizeof(body), "{\"out_trade_no\":\"%s\",\"retry_scale\":1}", otn2);
	CHECK_EQ_I64(client_req(&sim, "POST", "/sim/pay", body, NULL), 200);
	if (jstr(&sim, "notification_id"))
		snprintf(nid2, sizeof(nid2), "%s", jstr(&sim, "notification_id"));
	for (int i = 0; i < 100 && qi(&q_inbox_nid, 0, nid2) < 1; i++)
		usleep(100000);
	restart_api("");
	CHECK_EQ_I64(qi(&q_pay_count, 0, otn2), 0);
	CHECK_EQ_I64(xqctl("pay-retry --min-age 0", out, sizeof(out)), 0);
	CHECK(strstr(out, "1 credited") != NULL);
	if (!strstr(out, "1 credited"))
		fprintf(stderr, "pay-retry said: %s\n", out);
	CHECK_EQ_I64(qi(&q_pay_count, 0, otn2), 1);
	CHECK_EQ_I64(qi(&q_inbox_nid, 1, nid2), 1);
	/* run twice (a second cron host): nothing more */
	CHECK_EQ_I64(xqctl("pay-retry --min-age 0", out, sizeof(out)), 0);
	CHECK_EQ_I64(qi(&q_pay_count, 0, otn2), 1);
	{
		struct db_res r;
		CHECK_EQ_I64(db_run(db, &q_bill_state, &r, b2), XQ_OK);
		CHECK_STR(db_str(&r, 0, 0), "paid");
		db_res_release(&r);
	}
}

TEST(pay_sync)
{
	char lost[40], expired[40], closed[40], body[256], out[4096];
	int64_t h = house[NHOUSE + 2];
	struct db_res r;

	/* paid at WeChat, but every callback fails: only the query can find it */
	bill_order(h, new_bill(h, "2025-10", 1700, "2025-10-25"), lost);
	snprintf(body, sizeof(body),
		 "{\"out_trade_no\":\"%s\",\"fault\":\"tampered\",\"fault_attempts\":15,\"retry_scale\":1000}",
		 lost);
	CHECK_EQ_I64(client_req(&sim, "POST", "/sim/pay", body, NULL), 200);
	bill_order(h, new_bill(h, "2025-11", 1800, "2025-11-25"), expired);
	CHECK_EQ_I64(db_run(db, &q_order_age, NULL, (const char *)NULL, lost), XQ_OK);
	CHECK_EQ_I64(db_run(db, &q_order_age, NULL, "2020-01-01 00:00:00", expired), XQ_OK);
	CHECK_EQ_I64(xqctl("pay-sync --min-age 60", out, sizeof(out)), 0);
	CHECK_EQ_I64(qi(&q_pay_count, 0, lost), 1);
	CHECK_EQ_I64(db_run(db, &q_order_state, &r, expired), XQ_OK);
	CHECK_STR(db_str(&r, 0, 0), "closed");
	db_res_release(&r);
	/* closed at WeChat too: the resident cannot pay it any more */
	snprintf(body, sizeof(body), "{\"out_trade_no\":\"%s\"}", expired);
	CHECK_EQ_I64(client_req(&sim, "POST", "/sim/pay", body, NULL), 409);
	/* a second run finds nothing to do */
	CHECK_EQ_I64(xqctl("pay-sync --min-age 60", out, sizeof(out)), 0);
	CHECK(strstr(out, "0 claimed") != NULL);
	CHECK_EQ_I64(qi(&q_pay_count, 0, lost), 1);

	/* a SUCCESS for an order we closed still credits: the money arrived */
	bill_order(h, new_bill(h, "2025-12", 1900, "2025-12-25"), closed);
	CHECK_EQ_I64(db_run(db, &q_order_closed, NULL, closed), XQ_OK);
	CHECK_EQ_I64(notify_one(closed, 1900, NULL, 0, 0, "EV-closed-order"), 200);
	CHECK_EQ_I64(qi(&q_pay_count, 0, closed), 1);
	CHECK_EQ_I64(db_run(db, &q_order_state, &r, closed), XQ_OK);
	CHECK_STR(db_str(&r, 0, 0), "paid");
	db_res_release(&r);
}

/* ---- refunds ---- */

struct refund_arg {
	struct client c;
	int64_t pid, fen;
	long status;
};

static void *refund_thread(void *p)
{
	struct refund_arg *a = p;
	char path[96];

	snprintf(path, sizeof(path), A "/payments/%lld/refund", (long long)a->pid);
	a->status = client_reqf(&a->c, "POST", path, "{\"amount_fen\":%lld,\"reason\":\"并发退款测试\"}",
				(long long)a->fen);
	return NULL;
}

/* Waits until every refund of payment pid has left requested/processing. */
static void wait_refunds(int64_t pid)
{
	char path[128];

	snprintf(path, sizeof(path), A "/refunds?payment_id=%lld&state=processing", (long long)pid);
	for (int i = 0; i < 150; i++) {
		if (client_req(&staff, "GET", path, NULL, NULL) == 200 && jnum(&staff, "total") == 0)
			break;
		usleep(100000);
	}
	CHECK_EQ_I64(jnum(&staff, "total"), 0);
}

static int64_t paid_topup(int64_t h, int64_t fen, char otn[40])
{
	char body[128];

	topup_order(h, fen, otn);
	snprintf(body, sizeof(body), "{\"out_trade_no\":\"%s\",\"retry_scale\":1000}", otn);
	CHECK_EQ_I64(client_req(&sim, "POST", "/sim/pay", body, NULL), 200);
	CHECK_EQ_I64(wait_paid(otn, 20), 1);
	return qi(&q_pay_count, 1, otn);
}

TEST(refunds)
{
	char otn[40], otn2[40], path[96], body[256], rnid[96] = "";
	int64_t h = house[NHOUSE + 3], pid, pid2, rid;
	struct refund_arg a1, a2;
	pthread_t t1, t2;
	struct db_res r;

	pid = paid_topup(h, 10000, otn);
	CHECK_EQ_I64(ql(&q_balance, 0, h), 10000);
	snprintf(path, sizeof(path), A "/payments/%lld/refund", (long long)pid);
	/* permission, CSRF, validation, unknown payment */
	CHECK_EQ_I64(client_req(&reader, "POST", path, "{\"amount_fen\":100,\"reason\":\"测试\"}", NULL), 403);
	staff.send_csrf = 0;
	CHECK_EQ_I64(client_req(&staff, "POST", path, "{\"amount_fen\":100,\"reason\":\"测试\"}", NULL), 403);
	staff.send_csrf = 1;
	CHECK_EQ_I64(client_req(&staff, "POST", path, "{\"amount_fen\":0,\"reason\":\"测试\"}", NULL), 400);
	CHECK_EQ_I64(client_req(&staff, "POST", A "/payments/999999999/refund",
				"{\"amount_fen\":100,\"reason\":\"测试\"}", NULL), 404);

	/* partial: 3000 of 10000 */
	CHECK_EQ_I64(client_req(&staff, "POST", path, "{\"amount_fen\":3000,\"reason\":\"多缴退还\"}", NULL), 201);
	rid = (int64_t)jnum(&staff, "id");
	CHECK_STR(jstr(&staff, "state"), "processing");
	{
		CHECK_EQ_I64(db_run(db, &q_audit, &r, "refund.request", rid), XQ_OK);
		CHECK_EQ_I64(db_i64(&r, 0, 0), 1);
		db_res_release(&r);
	}
	wait_refunds(pid);
	CHECK_EQ_I64(ql(&q_refund_ledger, 0, pid), 1);
	CHECK_EQ_I64(ql(&q_refund_ledger, 1, pid), -3000);
	CHECK_EQ_I64(ql(&q_balance, 0, h), 7000);
	CHECK_EQ_I64(ql(&q_balance, 1, h), 7000);
	CHECK_EQ_I64(db_run(db, &q_order_state, &r, otn), XQ_OK);
	CHECK_STR(db_str(&r, 0, 0), "partially_refunded");
	CHECK_EQ_I64(db_i64(&r, 0, 1), 3000);
	db_res_release(&r);

	/* the refund callback again, twice: still one ledger entry */
	snprintf(body, sizeof(body), "/sim/notifications?out_trade_no=%s", otn);
	CHECK_EQ_I64(client_req(&sim, "GET", body, NULL, NULL), 200);
	{
		cJSON *items = jget(&sim, "notifications"), *it;
		cJSON_ArrayForEach(it, items) {
			const cJSON *ev = cJSON_GetObjectItemCaseSensitive(it, "event_type");
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
			if (cJSON_IsString(ev) && !strcmp(ev->valuestring, "REFUND.SUCCESS") && cJSON_IsString(id))
				snprintf(rnid, sizeof(rnid), "%s", id->valuestring);
		}
	}
	CHECK(rnid[0] != '\0');
	snprintf(body, sizeof(body), "{\"out_trade_no\":\"%s\",\"notification_id\":\"%s\"}", otn, rnid);
	CHECK_EQ_I64(client_req(&sim, "POST", "/sim/notify/replay", body, NULL), 200);
	CHECK_EQ_I64(client_req(&sim, "POST", "/sim/notify/replay", body, NULL), 200);
	for (int i = 0; i < 100 && qi(&q_inbox_nid, 0, rnid) < 3; i++)
		usleep(100000);
	CHECK_EQ_I64(qi(&q_inbox_nid, 0, rnid), 3);
	CHECK_EQ_I64(qi(&q_inbox_nid, 1, rnid), 1);
	CHECK_EQ_I64(qi(&q_inbox_nid, 2, rnid), 2);
	CHECK_EQ_I64(ql(&q_refund_ledger, 0, pid), 1);
	CHECK_EQ_I64(ql(&q_balance, 0, h), 7000);

	/* more than is left */
	CHECK_EQ_I64(client_req(&staff, "POST", path, "{\"amount_fen\":7001,\"reason\":\"超额\"}", NULL), 409);
	/* two at once, 5000 each, 7000 left: exactly one is accepted */
	memset(&a1, 0, sizeof(a1));
	memset(&a2, 0, sizeof(a2));
	client_init(&a1.c);
	client_init(&a2.c);
	CHECK_EQ_I64(client_login(&a1.c, "admin", ADMIN_PW), 200);
	CHECK_EQ_I64(client_login(&a2.c, "admin", ADMIN_PW), 200);
	a1.pid = a2.pid = pid;
	a1.fen = a2.fen = 5000;
	pthread_create(&t1, NULL, refund_thread, &a1);
	pthread_create(&t2, NULL, refund_thread, &a2);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	CHECK((a1.status == 201 && a2.status == 409) || (a1.status == 409 && a2.status == 201));
	client_release(&a1.c);
	client_release(&a2.c);
	wait_refunds(pid);
	CHECK_EQ_I64(ql(&q_refund_ledger, 0, pid), 2);
	CHECK_EQ_I64(ql(&q_refund_ledger, 1, pid), -8000);
	CHECK_EQ_I64(ql(&q_balance, 0, h), 2000);

	/* a full refund of a second payment */
	pid2 = paid_topup(h, 2000, otn2);
	snprintf(path, sizeof(path), A "/payments/%lld/refund", (long long)pid2);
	CHECK_EQ_I64(client_req(&staff, "POST", path, "{\"amount_fen\":2000,\"reason\":\"全额退款\"}", NULL), 201);
	wait_refunds(pid2);
	CHECK_EQ_I64(db_run(db, &q_order_state, &r, otn2), XQ_OK);
	CHECK_STR(db_str(&r, 0, 0), "refunded");
	CHECK_EQ_I64(db_i64(&r, 0, 1), 2000);
	db_res_release(&r);
	CHECK_EQ_I64(ql(&q_balance, 0, h), 2000);
	CHECK_EQ_I64(ql(&q_balance, 1, h), 2000);
	/* and nothing is left of it to refund */
	CHECK_EQ_I64(client_req(&staff, "POST", path, "{\"amount_fen\":1,\"reason\":\"再退\"}", NULL), 409);

	/* the lists */
	snprintf(body, sizeof(body), A "/refunds?payment_id=%lld", (long long)pid);
	CHECK_EQ_I64(client_req(&staff, "GET", body, NULL, NULL), 200);
	CHECK_EQ_I64(jnum(&staff, "total"), 2);
	snprintf(body, sizeof(body), A "/payments?house_id=%lld&channel=wechat", (long long)h);
	CHECK_EQ_I64(client_req(&staff, "GET", body, NULL, NULL), 200);
	CHECK_EQ_I64(jnum(&staff, "total"), 2);
	CHECK_EQ_I64(client_req(&reader, "GET", body, NULL, NULL), 403);
	CHECK_EQ_I64(client_req(&staff, "GET", A "/payments?from=2026-13-01", NULL, NULL), 400);
}

TEST(staff_and_balance_payments)
{
	int64_t h = new_house("901"), b1, b2, b3, pid;
	char path[96], path2[96];
	struct db_res r;

	b1 = new_bill(h, "2025-01", 3000, "2025-01-25");
	b2 = new_bill(h, "2025-02", 5000, "2025-02-25");
	snprintf(path, sizeof(path), A "/houses/%lld/payments", (long long)h);
	CHECK_EQ_I64(client_req(&reader, "POST", path, "{\"channel\":\"cash\",\"amount_fen\":4000}", NULL), 403);
	/* cash 4000, no bills named: the oldest first, the second partly */
	CHECK_EQ_I64(client_reqf(&staff, "POST", path, "{\"channel\":\"cash\",\"amount_fen\":4000,"
				 "\"note\":\"前台收现金\",\"external_ref\":\"CASH%s\"}", uniq), 201);
	pid = (int64_t)jnum(&staff, "payment_id");
	CHECK_EQ_I64(jnum(&staff, "settled_fen"), 4000);
	CHECK_EQ_I64(jnum(&staff, "credit_fen"), 0);
	/* the same key again: the same payment, nothing new */
	CHECK_EQ_I64(client_reqf(&staff, "POST", path, "{\"channel\":\"cash\",\"amount_fen\":4000,"
				 "\"note\":\"前台收现金\",\"external_ref\":\"CASH%s\"}", uniq), 200);
	CHECK_EQ_I64(jnum(&staff, "payment_id"), pid);
	CHECK(jget(&staff, "duplicate") && cJSON_IsTrue(jget(&staff, "duplicate")));
	/* the same key for a different amount is a conflict, not a second payment */
	CHECK_EQ_I64(client_reqf(&staff, "POST", path, "{\"channel\":\"cash\",\"amount_fen\":4001,"
				 "\"external_ref\":\"CASH%s\"}", uniq), 409);
	CHECK_EQ_I64(db_run(db, &q_audit, &r, "payment.record", pid), XQ_OK);
	CHECK_EQ_I64(db_i64(&r, 0, 0), 1);
	db_res_release(&r);
	CHECK_EQ_I64(db_run(db, &q_bill_state, &r, b1), XQ_OK);
	CHECK_STR(db_str(&r, 0, 0), "paid");
	db_res_release(&r);
	CHECK_EQ_I64(db_run(db, &q_bill_state, &r, b2), XQ_OK);
	CHECK_STR(db_str(&r, 0, 0), "issued");
	CHECK_EQ_I64(db_i64(&r, 0, 1), 1000);
	db_res_release(&r);
	/* bank needs its serial; 6000 for b2 (owes 4000): 2000 becomes credit */
	CHECK_EQ_I64(client_req(&staff, "POST", path, "{\"channel\":\"bank\",\"amount_fen\":6000}", NULL), 400);
	CHECK_EQ_I64(client_reqf(&staff, "POST", path,
				 "{\"channel\":\"bank\",\"amount_fen\":6000,\"bill_ids\":[%lld],"
				 "\"external_ref\":\"BK%s\"}", (long long)b2, uniq), 201);
	CHECK_EQ_I64(jnum(&staff, "settled_fen"), 4000);
	CHECK_EQ_I64(jnum(&staff, "credit_fen"), 2000);
	CHECK_EQ_I64(jnum(&staff, "balance_fen"), 2000);
	/* a paid bill cannot be named again */
	CHECK_EQ_I64(client_reqf(&staff, "POST", path, "{\"channel\":\"cash\",\"amount_fen\":100,\"bill_ids\":[%lld]}",
				 (long long)b1), 409);

	/* the resident pays a new bill from the credit; someone else's house is 404 */
	b3 = new_bill(h, "2025-03", 1500, "2025-03-25");
	snprintf(path2, sizeof(path2), "/api/v1/houses/%lld/pay-from-balance", (long long)h);
	CHECK_EQ_I64(client_reqf(&res2, "POST", path2, "{\"bill_ids\":[%lld]}", (long long)b3), 404);
	{
		/* bind res1 to the new house */
		CHECK_EQ_I64(client_req(&res1, "GET", "/api/v1/me", NULL, NULL), 200);
		CHECK_EQ_I64(db_run(db, &q_bind, NULL, (int64_t)jnum(&res1, "user.id"), h), XQ_OK);
	}
	CHECK_EQ_I64(client_reqf(&res1, "POST", path2, "{\"bill_ids\":[%lld]}", (long long)b3), 201);
	CHECK_EQ_I64(jnum(&res1, "settled_fen"), 1500);
	CHECK_EQ_I64(jnum(&res1, "balance_fen"), 500);
	/* partial: a 900 bill with 500 of credit takes the 500 and stays issued */
	{
		int64_t b4 = new_bill(h, "2025-04", 900, "2025-04-25");
		CHECK_EQ_I64(client_req(&res1, "POST", path2, "{}", NULL), 201);
		CHECK_EQ_I64(jnum(&res1, "settled_fen"), 500);
		CHECK_EQ_I64(jnum(&res1, "balance_fen"), 0);
		CHECK_EQ_I64(db_run(db, &q_bill_state, &r, b4), XQ_OK);
		CHECK_STR(db_str(&r, 0, 0), "issued");
		CHECK_EQ_I64(db_i64(&r, 0, 1), 500);
		db_res_release(&r);
	}
	/* no credit left */
	CHECK_EQ_I64(client_req(&res1, "POST", path2, "{}", NULL), 409);
	/* without a serial, the console's Idempotency-Key header is the key (1 fen to b4) */
	{
		char hk[80];
		int64_t p1;
		snprintf(hk, sizeof(hk), "Idempotency-Key: idem-%s", uniq);
		staff.extra_header = hk;
		CHECK_EQ_I64(client_req(&staff, "POST", path, "{\"channel\":\"cash\",\"amount_fen\":1}", NULL), 201);
		p1 = (int64_t)jnum(&staff, "payment_id");
		CHECK_EQ_I64(client_req(&staff, "POST", path, "{\"channel\":\"cash\",\"amount_fen\":1}", NULL), 200);
		CHECK_EQ_I64(jnum(&staff, "payment_id"), p1);
		staff.extra_header = NULL;
	}
	/* the balance is the sum of the ledger: +4000 -3000 -1000 +6000 -4000 -1500 -500 +1 -1 */
	CHECK_EQ_I64(ql(&q_balance, 0, h), 0);
	CHECK_EQ_I64(ql(&q_balance, 1, h), 0);
}

TEST(reconcile)
{
	char a[40], b[40], x[40], day[16] = "", body[512], out[8192], args[64];
	int days = 20 + (int)(getpid() % 60);
	int64_t h = new_house("902");
	struct wxpay_reply wr;
	struct db_res r;

	{
		CHECK_EQ_I64(client_req(&res1, "GET", "/api/v1/me", NULL, NULL), 200);
		CHECK_EQ_I64(db_run(db, &q_bind, NULL, (int64_t)jnum(&res1, "user.id"), h), XQ_OK);
	}
	paid_topup(h, 1111, a);
	paid_topup(h, 2222, b);
	/* one refund, to be matched too */
	snprintf(body, sizeof(body), A "/payments/%lld/refund", (long long)qi(&q_pay_count, 1, a));
	CHECK_EQ_I64(client_req(&staff, "POST", body, "{\"amount_fen\":111,\"reason\":\"对账退款\"}", NULL), 201);
	wait_refunds(qi(&q_pay_count, 1, a));
	/* a payment only WeChat knows: ordered at the sim directly, paid, its callback refused */
	snprintf(x, sizeof(x), "XQ%sX", uniq);
	CHECK_EQ_I64(client_req(&sim, "POST", "/sim/login-code", "{\"name\":\"payops-x\"}", NULL), 200);
	snprintf(body, sizeof(body),
		 "{\"appid\":\"%s\",\"mchid\":\"%s\",\"description\":\"对账测试\",\"out_trade_no\":\"%s\","
		 "\"notify_url\":\"%s\",\"amount\":{\"total\":3333,\"currency\":\"CNY\"},"
		 "\"payer\":{\"openid\":\"%s\"}}",
		 cfg.wx_appid, cfg.wx_mchid, x, cfg.wx_notify_url, jstr(&sim, "openid"));
	wxpay_reply_init(&wr);
	CHECK_EQ_I64(wxpay_call(&cfg, "POST", "/v3/pay/transactions/jsapi", body, &wr), XQ_OK);
	wxpay_reply_release(&wr);
	snprintf(body, sizeof(body), "{\"out_trade_no\":\"%s\",\"retry_scale\":1000,\"repeat\":1}", x);
	CHECK_EQ_I64(client_req(&sim, "POST", "/sim/pay", body, NULL), 200);
	/* move everything back by the same number of days on both sides; a day of its own per run */
	const char *otns[] = { a, b, x };
	for (int i = 0; i < 3; i++) {
		snprintf(body, sizeof(body), "{\"out_trade_no\":\"%s\",\"days\":%d}", otns[i], days);
		CHECK_EQ_I64(client_req(&sim, "POST", "/sim/backdate", body, NULL), 200);
		CHECK_EQ_I64(db_run(db, &q_backdate_pay, NULL, days, otns[i]), XQ_OK);
		CHECK_EQ_I64(db_run(db, &q_backdate_refund, NULL, days, otns[i]), XQ_OK);
	}
	/* the planted change: our record of b says one fen more */
	CHECK_EQ_I64(db_run(db, &q_pay_amount, NULL, (int64_t)1, b), XQ_OK);
	CHECK_EQ_I64(db_run(db, &q_pay_day, &r, a), XQ_OK);
	if (r.nrows == 1)
		snprintf(day, sizeof(day), "%s", db_str(&r, 0, 0));
	db_res_release(&r);
	snprintf(args, sizeof(args), "reconcile --date %s", day);
	CHECK_EQ_I64(xqctl(args, out, sizeof(out)), 1);
	CHECK(strstr(out, "differences: 2") != NULL);
	CHECK(strstr(out, "\"amount_mismatch\"") != NULL);
	CHECK(strstr(out, "\"missing_local\"") != NULL);
	if (!strstr(out, "differences: 2"))
		fprintf(stderr, "%s\n", out);
	CHECK_EQ_I64(db_run(db, &q_recon, &r, day), XQ_OK);
	CHECK_EQ_I64(r.nrows, 1);
	if (r.nrows == 1) {
		cJSON *d = cJSON_Parse(db_str(&r, 0, 2)), *it;
		int am = 0, ml = 0, other = 0;
		CHECK_STR(db_str(&r, 0, 0), "diff");
		CHECK_EQ_I64(db_i64(&r, 0, 1), 2);
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(d, "differences")) {
			const char *k = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "kind"));
			const char *o = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "out_trade_no"));
			const cJSON *w = cJSON_GetObjectItemCaseSensitive(it, "wechat_fen");
			const cJSON *u = cJSON_GetObjectItemCaseSensitive(it, "ours_fen");
			if (k && o && !strcmp(k, "amount_mismatch") && !strcmp(o, b) && w && u &&
			    w->valuedouble == 2222 && u->valuedouble == 2223)
				am++;
			else if (k && o && !strcmp(k, "missing_local") && !strcmp(o, x) && w &&
				 w->valuedouble == 3333)
				ml++;
			else
				other++;
		}
		CHECK_EQ_I64(am, 1);
		CHECK_EQ_I64(ml, 1);
		CHECK_EQ_I64(other, 0);
		cJSON_Delete(d);
	}
	db_res_release(&r);
	snprintf(body, sizeof(body), "reconcile_diff:%s", day);
	CHECK_EQ_I64(qi(&q_alert, 0, body), 1);
	/* the console reads the stored result */
	snprintf(body, sizeof(body), A "/reconciliations?date=%s", day);
	CHECK_EQ_I64(client_req(&staff, "GET", body, NULL, NULL), 200);
	CHECK_EQ_I64(jnum(&staff, "diffs"), 2);
	CHECK_EQ_I64(jnum(&staff, "wx_trades"), 3);
	CHECK_EQ_I64(jnum(&staff, "wx_refunds"), 1);
	CHECK_EQ_I64(jnum(&staff, "our_refunds"), 1);
	CHECK_EQ_I64(client_req(&reader, "GET", body, NULL, NULL), 403);
	CHECK_EQ_I64(client_req(&staff, "GET", A "/reconciliations?date=2001-01-01", NULL, NULL), 404);
	/* undo the planted change: only the unknown payment remains */
	CHECK_EQ_I64(db_run(db, &q_pay_amount, NULL, (int64_t)-1, b), XQ_OK);
	CHECK_EQ_I64(xqctl(args, out, sizeof(out)), 1);
	CHECK(strstr(out, "differences: 1") != NULL);
	/* that payment's callback was refused and raised an alert */
	snprintf(body, sizeof(body), "pay_notify_unknown:%s", x);
	CHECK_EQ_I64(qi(&q_alert, 0, body), 1);
}

/*
 * Two cron hosts at once: notifications stored but never processed (as if
 * xq-api had died after each insert; signed 2 minutes ago, when they were
 * received) are taken by two concurrent `xqctl pay-retry` runs: each order
 * is credited once and the two runs' counts add up.
 */
TEST(pay_retry_two_hosts)
{
	enum { N = 12 };
	char otn[N][40], nid[N][48], cmd[600], line[512];
	int64_t h = new_house("903"), credited = 0;
	FILE *p1, *p2;

	CHECK_EQ_I64(client_req(&res1, "GET", "/api/v1/me", NULL, NULL), 200);
	CHECK_EQ_I64(db_run(db, &q_bind, NULL, (int64_t)jnum(&res1, "user.id"), h), XQ_OK);
	for (int i = 0; i < N; i++) {
		struct wxgen_req r;
		char *plain, *hdr;
		cJSON *hj = cJSON_CreateObject();
		char period[8];

		snprintf(period, sizeof(period), "2024-%02d", i + 1);
		bill_order(h, new_bill(h, period, 500 + i, "2024-12-25"), otn[i]);
		snprintf(nid[i], sizeof(nid[i]), "EV-2h-%s-%d", uniq, i);
		plain = wxgen_txn(&gen, otn[i], 500 + i, NULL, NULL);
		wxgen_sign(&gen, wxgen_envelope(&gen, nid[i], "TRANSACTION.SUCCESS", "transaction", plain),
			   -120, 0, &r);
		free(plain);
		for (int k = 0; k < 4; k++) {
			char *colon = strchr(r.hdr[k], ':');
			if (colon) {
				*colon = '\0';
				cJSON_AddStringToObject(hj, r.hdr[k], colon + 2);
			}
		}
		cJSON_AddStringToObject(hj, "Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048");
		hdr = cJSON_PrintUnformatted(hj);
		CHECK_EQ_I64(db_run(db, &q_inbox_plant, NULL, nid[i], hdr, r.body), XQ_OK);
		cJSON_free(hdr);
		cJSON_Delete(hj);
		wxgen_req_release(&r);
	}
	snprintf(cmd, sizeof(cmd), "'%s' pay-retry --min-age 0 2>&1", getenv("XQCTL"));
	p1 = popen(cmd, "r");
	p2 = popen(cmd, "r");
	CHECK(p1 && p2);
	for (FILE **pp = (FILE *[]){ p1, p2, NULL }; *pp; pp++) {
		while (fgets(line, sizeof(line), *pp)) {
			long long seen, claimed, cr;
			if (sscanf(line, "pay-retry: %lld unprocessed, %lld claimed: %lld credited", &seen,
				   &claimed, &cr) == 3)
				credited += cr;
		}
		CHECK_EQ_I64(pclose(*pp), 0);
	}
	CHECK_EQ_I64(credited, N);
	for (int i = 0; i < N; i++) {
		CHECK_EQ_I64(qi(&q_pay_count, 0, otn[i]), 1);
		CHECK_EQ_I64(qi(&q_inbox_nid, 1, nid[i]), 1);
		CHECK_EQ_I64(qi(&q_inbox_nid, 3, nid[i]), 0);
	}
	CHECK_EQ_I64(ql(&q_balance, 0, h), 0);
	CHECK_EQ_I64(ql(&q_balance, 1, h), 0);
}

/* WeChat answers the refund request with 500: the refund waits, pay-sync sends it again. */
TEST(refund_resent_by_pay_sync)
{
	char otn[40], path[96], out[4096];
	int64_t h = new_house("904"), pid, rid;
	struct db_res r;

	{
		CHECK_EQ_I64(client_req(&res1, "GET", "/api/v1/me", NULL, NULL), 200);
		CHECK_EQ_I64(db_run(db, &q_bind, NULL, (int64_t)jnum(&res1, "user.id"), h), XQ_OK);
	}
	pid = paid_topup(h, 800, otn);
	CHECK_EQ_I64(client_req(&sim, "POST", "/sim/faults",
				"{\"fault\":\"system_error\",\"count\":1,\"path\":\"/v3/refund/domestic/refunds\"}",
				NULL), 200);
	snprintf(path, sizeof(path), A "/payments/%lld/refund", (long long)pid);
	CHECK_EQ_I64(client_req(&staff, "POST", path, "{\"amount_fen\":300,\"reason\":\"重发测试\"}", NULL), 201);
	CHECK_STR(jstr(&staff, "state"), "requested");
	rid = (int64_t)jnum(&staff, "id");
	/* still promised: the credit left for another refund is 500 */
	CHECK_EQ_I64(client_req(&staff, "POST", path, "{\"amount_fen\":501,\"reason\":\"超额\"}", NULL), 409);
	CHECK_EQ_I64(xqctl("pay-sync --min-age 0", out, sizeof(out)), 0);
	CHECK(strstr(out, "1 refunds followed up") != NULL);
	for (int i = 0; i < 100; i++) {
		CHECK_EQ_I64(db_run(db, &q_refund_state, &r, rid), XQ_OK);
		if (r.nrows && !strcmp(db_str(&r, 0, 0), "success")) {
			db_res_release(&r);
			break;
		}
		db_res_release(&r);
		usleep(100000);
	}
	CHECK_EQ_I64(db_run(db, &q_refund_state, &r, rid), XQ_OK);
	CHECK_STR(db_str(&r, 0, 0), "success");
	db_res_release(&r);
	CHECK_EQ_I64(ql(&q_refund_ledger, 0, pid), 1);
	CHECK_EQ_I64(ql(&q_balance, 0, h), 500);
	CHECK_EQ_I64(ql(&q_balance, 1, h), 500);
}

int main(void)
{
	const char *conf = getenv("XQ_CONFIG"), *simurl = getenv("XQ_WXSIM_URL");
	const char *url = getenv("XQ_TEST_URL");
	const char *only = getenv("XQ_TEST_ONLY"); /* while debugging: a list of test names */
	char err[256];
	int64_t sid = 0;

	if (!conf || !simurl || !url || !getenv("XQCTL") || !getenv("XQ_STACK_SH") || !getenv("XQ_VAR")) {
		fprintf(stderr, "test_payops: XQ_CONFIG, XQ_WXSIM_URL, XQ_TEST_URL, XQCTL, XQ_STACK_SH, XQ_VAR are required\n");
		return 1;
	}
	if (config_load(&cfg, conf, err, sizeof(err))) {
		fprintf(stderr, "test_payops: %s\n", err);
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	db_library_init();
	if (db_open(&db, &cfg) != XQ_OK || wxgen_init(&gen, &cfg)) {
		fprintf(stderr, "test_payops: no database or keys\n");
		return 1;
	}
	snprintf(notify_url, sizeof(notify_url), "%s/wxpay/notify", url);
	snprintf(uniq, sizeof(uniq), "%lx%x", (unsigned long)time(NULL), (unsigned)getpid());
	client_init(&staff);
	client_init(&reader);
	client_init(&res1);
	client_init(&res2);
	client_init(&sim);
	snprintf(sim.base, sizeof(sim.base), "%s", simurl);
	CHECK_EQ_I64(client_login(&staff, "admin", ADMIN_PW), 200);
	{
		char rname[64];
		snprintf(rname, sizeof(rname), "rd%s", uniq);
		CHECK_EQ_I64(auth_create_staff(db, rname, "抄表员", "Reader@2026x", "reader", &sid), XQ_OK);
		CHECK_EQ_I64(client_login(&reader, rname, "Reader@2026x"), 200);
	}
	seed();
	if (!only || strstr(only, "concurrent_duplicates"))
		RUN(concurrent_duplicates);
	if (!only || strstr(only, "bad_notifications"))
		RUN(bad_notifications);
	if (!only || strstr(only, "pay_sync"))
		RUN(pay_sync);
	if (!only || strstr(only, "refunds"))
		RUN(refunds);
	if (!only || strstr(only, "staff_and_balance_payments"))
		RUN(staff_and_balance_payments);
	if (!only || strstr(only, "reconcile"))
		RUN(reconcile);
	if (!only || strstr(only, "pay_retry_two_hosts"))
		RUN(pay_retry_two_hosts);
	if (!only || strstr(only, "refund_resent_by_pay_sync"))
		RUN(refund_resent_by_pay_sync);
	if (!only || strstr(only, "crash_after_inbox"))
		RUN(crash_after_inbox);
	client_release(&staff);
	client_release(&reader);
	client_release(&res1);
	client_release(&res2);
	client_release(&sim);
	wxgen_release(&gen);
	db_close(db);
	config_release(&cfg);
	return test_report();
}
