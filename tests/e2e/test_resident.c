/*
 * test_resident.c - the mini-program resident through nginx, against xq-wxsim:
 * login with test-<name> codes, binding by a staff-issued code and by owner
 * name + last 4 mobile digits (throttled), houses with balance and arrears,
 * bills, another resident's house and bill refused with 404, an order for a
 * bill paid through /sim/pay with three deliveries plus a replay (credited
 * exactly once), top-ups whose first callback carries each of WeChat's
 * faults (probe, tampered, stale, wrong serial, unsigned) refused with
 * nothing credited and then settled by GET /api/v1/orders/{no} (WeChat
 * query), and a forged notification rejected. Estate rows and bills are written straight
 * into the stack's MariaDB (XQ_CONFIG), so this does not depend on the
 * billing run.
 */
#include "client.h"
#include "config.h"
#include "db.h"
#include "test.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ADMIN_PW (getenv("XQ_TEST_ADMIN_PASSWORD") ? getenv("XQ_TEST_ADMIN_PASSWORD") : "Xiaoqu@2026")
#define A "/admin/api/v1"

DB_QUERY(q_t_comm) = {
	"t_res_comm", "INSERT INTO community (code, name) VALUES (?, ?)", "ss", NULL,
};
DB_QUERY(q_t_bldg) = {
	"t_res_bldg", "INSERT INTO building (community_id, name) VALUES (?, ?)", "ls", NULL,
};
DB_QUERY(q_t_house) = {
	"t_res_house", "INSERT INTO house (building_id, unit_no, room) VALUES (?, '1', ?)", "ls", NULL,
};
DB_QUERY(q_t_resident) = {
	"t_res_resident",
	"INSERT INTO resident (community_id, code, name, mobile) VALUES (?, ?, ?, ?)", "lsss", NULL,
};
DB_QUERY(q_t_hr) = {
	"t_res_hr",
	"INSERT INTO house_resident (house_id, resident_id, relation, move_in)"
	" VALUES (?, ?, 'owner', '2024-01-01')",
	"ll", NULL,
};
DB_QUERY(q_t_bill) = {
	"t_res_bill",
	"INSERT INTO bill (house_id, period, utility, status, amount_fen, issued_at, due_date)"
	" VALUES (?, ?, 'electric', 'issued', ?, NOW(3), CURRENT_DATE)",
	"lsl", NULL,
};
DB_QUERY(q_t_line) = {
	"t_res_line",
	"INSERT INTO bill_line (bill_id, line_no, kind, label_zh, amount_fen)"
	" VALUES (?, 1, 'energy', '电费', ?)",
	"ll", NULL,
};
DB_QUERY(q_t_payments) = {
	"t_res_payments",
	"SELECT COUNT(*), COALESCE(MIN(id), 0) FROM payment WHERE channel = 'wechat' AND external_ref = ?",
	"s", "ll",
};
DB_QUERY(q_t_ledger) = {
	"t_res_ledger",
	"SELECT COUNT(*), COALESCE(SUM(amount_fen), 0) FROM ledger_entry WHERE payment_id = ? AND kind = ?",
	"ls", "ll",
};
DB_QUERY(q_t_bill_state) = {
	"t_res_bill_state", "SELECT status, paid_fen FROM bill WHERE id = ?", "l", "sl",
};
DB_QUERY(q_t_inbox) = {
	"t_res_inbox",
	"SELECT COUNT(*), COALESCE(SUM(result = 'credited'), 0), COALESCE(SUM(result = 'duplicate'), 0),"
	" COALESCE(SUM(result = 'bad_signature'), 0) FROM wx_notify_inbox WHERE notify_id = ?",
	"s", "llll",
};
DB_QUERY(q_t_part_paid) = {
	"t_res_part_paid", "UPDATE bill SET paid_fen = ? WHERE id = ?", "ll", NULL,
};
DB_QUERY(q_t_balance) = {
	"t_res_balance", "SELECT COALESCE(MAX(balance_fen), 0) FROM account WHERE house_id = ?", "l", "l",
};

static struct config cfg;
static struct db *db;
static struct client staff, ra, rb, sim;
static char uniq[32];
static int64_t h1, h2, bill1, bill2;

static int64_t one_i64(const struct db_query *q, size_t col, const char *s, int64_t l)
{
	struct db_res r;
	int64_t v = -1;
	int rc = s ? db_run(db, q, &r, s) : db_run(db, q, &r, l);

	CHECK_EQ_I64(rc, XQ_OK);
	if (!rc) {
		if (r.nrows == 1)
			v = db_i64(&r, 0, col);
		db_res_release(&r);
	}
	return v;
}

/* Sets the resident's bearer token on the client's handle (sent on every request). */
static void bearer(struct client *c, const char *token)
{
	curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
	curl_easy_setopt(c->curl, CURLOPT_XOAUTH2_BEARER, token);
}

static void seed(void)
{
	char code[40], name[64];
	int64_t comm, bldg, res;

	snprintf(code, sizeof(code), "R%s", uniq);
	snprintf(name, sizeof(name), "住户测试小区%s", uniq);
	CHECK_EQ_I64(db_run(db, &q_t_comm, NULL, code, name), XQ_OK);
	comm = db_insert_id(db);
	CHECK_EQ_I64(db_run(db, &q_t_bldg, NULL, comm, "1号楼"), XQ_OK);
	bldg = db_insert_id(db);
	CHECK_EQ_I64(db_run(db, &q_t_house, NULL, bldg, "101"), XQ_OK);
	h1 = db_insert_id(db);
	CHECK_EQ_I64(db_run(db, &q_t_house, NULL, bldg, "102"), XQ_OK);
	h2 = db_insert_id(db);
	CHECK_EQ_I64(db_run(db, &q_t_resident, NULL, comm, code, "王小明", "13800138123"), XQ_OK);
	res = db_insert_id(db);
	CHECK_EQ_I64(db_run(db, &q_t_hr, NULL, h2, res), XQ_OK);
	CHECK_EQ_I64(db_run(db, &q_t_bill, NULL, h1, "2026-10", (int64_t)12345), XQ_OK);
	bill1 = db_insert_id(db);
	CHECK_EQ_I64(db_run(db, &q_t_line, NULL, bill1, (int64_t)12345), XQ_OK);
	CHECK_EQ_I64(db_run(db, &q_t_bill, NULL, h2, "2026-10", (int64_t)5000), XQ_OK);
	bill2 = db_insert_id(db);
	CHECK_EQ_I64(db_run(db, &q_t_line, NULL, bill2, (int64_t)5000), XQ_OK);
	CHECK(h1 > 0 && h2 > 0 && bill1 > 0 && bill2 > 0);
}

static void login(struct client *c, const char *name)
{
	char body[160];

	snprintf(body, sizeof(body), "{\"code\":\"test-%s.%s\"}", name, uniq);
	CHECK_EQ_I64(client_req(c, "POST", "/api/v1/auth/login", body, NULL), 200);
	CHECK(jstr(c, "token") && strlen(jstr(c, "token")) == 64);
	if (jstr(c, "token"))
		bearer(c, jstr(c, "token"));
}

TEST(login_and_me)
{
	struct client x;

	client_init(&x);
	CHECK_EQ_I64(client_req(&x, "GET", "/api/v1/me", NULL, NULL), 401);
	CHECK_EQ_I64(client_req(&x, "POST", "/api/v1/auth/login", "{\"code\":\"no-such-code\"}", NULL), 401);
	CHECK(jstr(&x, "message") && strstr(jstr(&x, "message"), "登录凭证"));
	bearer(&x, "0000000000000000000000000000000000000000000000000000000000000000");
	CHECK_EQ_I64(client_req(&x, "GET", "/api/v1/me", NULL, NULL), 401);
	client_release(&x);

	login(&ra, "resa");
	login(&rb, "resb");
	CHECK_EQ_I64(client_req(&ra, "GET", "/api/v1/me", NULL, NULL), 200);
	CHECK(jnum(&ra, "user.id") > 0);
	CHECK(!jget(&ra, "user.session_key") && !jget(&ra, "token"));
	/* a code is single-use */
	{
		char body[160];
		snprintf(body, sizeof(body), "{\"code\":\"test-resa.%s\"}", uniq);
		client_init(&x);
		CHECK_EQ_I64(client_req(&x, "POST", "/api/v1/auth/login", body, NULL), 401);
		client_release(&x);
	}
}

TEST(binding)
{
	char path[128], body[256], code[32] = "";

	/* staff issue a code for h1 (permission, CSRF, audited) */
	snprintf(path, sizeof(path), A "/houses/%lld/binding-code", (long long)h1);
	CHECK_EQ_I64(client_req(&staff, "POST", path, "{\"ttl_hours\":24}", NULL), 201);
	if (jstr(&staff, "code"))
		snprintf(code, sizeof(code), "%s", jstr(&staff, "code"));
	CHECK_EQ_I64(strlen(code), 8);
	CHECK_EQ_I64(jnum(&staff, "house_id"), h1);
	/* residents cannot issue codes */
	CHECK_EQ_I64(client_req(&ra, "POST", path, "{}", NULL), 401);

	snprintf(body, sizeof(body), "{\"binding_code\":\"%s\"}", code);
	CHECK_EQ_I64(client_req(&ra, "POST", "/api/v1/bindings", body, NULL), 201);
	CHECK_EQ_I64(jnum(&ra, "house_id"), h1);
	/* used once */
	CHECK_EQ_I64(client_req(&rb, "POST", "/api/v1/bindings", body, NULL), 400);

	/* owner name + last 4 digits */
	snprintf(body, sizeof(body), "{\"house_id\":%lld,\"owner_name\":\"王小明\",\"phone_last4\":\"0000\"}",
		 (long long)h2);
	CHECK_EQ_I64(client_req(&rb, "POST", "/api/v1/bindings", body, NULL), 400);
	snprintf(body, sizeof(body), "{\"house_id\":%lld,\"owner_name\":\"王小明\",\"phone_last4\":\"8123\"}",
		 (long long)h2);
	CHECK_EQ_I64(client_req(&rb, "POST", "/api/v1/bindings", body, NULL), 201);

	/* throttling: a third resident guessing */
	{
		struct client c3;
		long st = 0;
		int i;

		client_init(&c3);
		login(&c3, "resc");
		snprintf(body, sizeof(body), "{\"house_id\":%lld,\"owner_name\":\"王小明\",\"phone_last4\":\"1111\"}",
			 (long long)h2);
		for (i = 0; i < 10 && st != 429; i++)
			st = client_req(&c3, "POST", "/api/v1/bindings", body, NULL);
		CHECK_EQ_I64(st, 429);
		CHECK(i <= 7);
		client_release(&c3);
	}
}

TEST(houses_and_bills)
{
	char path[128];

	CHECK_EQ_I64(client_req(&ra, "GET", "/api/v1/houses", NULL, NULL), 200);
	CHECK_EQ_I64(cJSON_GetArraySize(jget(&ra, "items")), 1);
	CHECK_EQ_I64(jnum(&ra, "items.0.id"), h1);
	CHECK_EQ_I64(jnum(&ra, "items.0.arrears_fen"), 12345);
	CHECK_EQ_I64(jnum(&ra, "items.0.balance_fen"), 0);

	snprintf(path, sizeof(path), "/api/v1/houses/%lld/bills", (long long)h1);
	CHECK_EQ_I64(client_req(&ra, "GET", path, NULL, NULL), 200);
	CHECK_EQ_I64(jnum(&ra, "items.0.id"), bill1);
	CHECK_EQ_I64(jnum(&ra, "items.0.unpaid_fen"), 12345);
	/* another resident's house and bill: 404, never data */
	CHECK_EQ_I64(client_req(&rb, "GET", path, NULL, NULL), 404);
	CHECK(!jget(&rb, "items"));
	snprintf(path, sizeof(path), "/api/v1/houses/%lld/bills", (long long)h2);
	CHECK_EQ_I64(client_req(&ra, "GET", path, NULL, NULL), 404);
	snprintf(path, sizeof(path), "/api/v1/bills/%lld", (long long)bill2);
	CHECK_EQ_I64(client_req(&ra, "GET", path, NULL, NULL), 404);
	snprintf(path, sizeof(path), "/api/v1/bills/%lld", (long long)bill1);
	CHECK_EQ_I64(client_req(&ra, "GET", path, NULL, NULL), 200);
	CHECK_STR(jstr(&ra, "lines.0.label_zh"), "电费");
	CHECK_EQ_I64(jnum(&ra, "lines.0.amount_fen"), 12345);
	snprintf(path, sizeof(path), "/api/v1/bindings/%lld", (long long)h1);
	CHECK_EQ_I64(client_req(&rb, "DELETE", path, NULL, NULL), 404);
}

static void wait_inbox(const char *nid, int64_t want, int64_t out[4])
{
	for (int i = 0; i < 100; i++) {
		struct db_res r;
		if (db_run(db, &q_t_inbox, &r, nid) == XQ_OK) {
			for (int k = 0; k < 4; k++)
				out[k] = db_i64(&r, 0, (size_t)k);
			db_res_release(&r);
			if (out[0] >= want && out[1] + out[2] + out[3] >= want)
				return;
		}
		usleep(100000);
	}
}

TEST(pay_bill_once)
{
	char body[256], otn[40] = "", nid[80] = "";
	int64_t inbox[4] = { 0 }, pid;
	struct db_res r;

	snprintf(body, sizeof(body), "{\"house_id\":%lld,\"bill_ids\":[%lld]}", (long long)h1,
		 (long long)bill1);
	/* not bound: 404 */
	CHECK_EQ_I64(client_req(&rb, "POST", "/api/v1/orders", body, NULL), 404);
	CHECK_EQ_I64(client_req(&ra, "POST", "/api/v1/orders", body, NULL), 201);
	CHECK_EQ_I64(jnum(&ra, "amount_fen"), 12345);
	CHECK_STR(jstr(&ra, "signType"), "RSA");
	CHECK(jstr(&ra, "paySign") && strlen(jstr(&ra, "paySign")) == 344);
	CHECK(jstr(&ra, "package") && !strncmp(jstr(&ra, "package"), "prepay_id=", 10));
	if (jstr(&ra, "out_trade_no"))
		snprintf(otn, sizeof(otn), "%s", jstr(&ra, "out_trade_no"));
	/* the same bills again: the same order */
	CHECK_EQ_I64(client_req(&ra, "POST", "/api/v1/orders", body, NULL), 200);
	CHECK_STR(jstr(&ra, "out_trade_no"), otn);

	/* the resident pays with the wx.requestPayment parameters; three callbacks, then a replay */
	snprintf(body, sizeof(body), "{\"out_trade_no\":\"%s\",\"repeat\":3,\"retry_scale\":1000}", otn);
	CHECK_EQ_I64(client_req(&sim, "POST", "/sim/pay", body, NULL), 200);
	if (jstr(&sim, "notification_id"))
		snprintf(nid, sizeof(nid), "%s", jstr(&sim, "notification_id"));
	wait_inbox(nid, 3, inbox);
	snprintf(body, sizeof(body), "{\"out_trade_no\":\"%s\"}", otn);
	CHECK_EQ_I64(client_req(&sim, "POST", "/sim/notify/replay", body, NULL), 200);
	wait_inbox(nid, 4, inbox);
	CHECK(inbox[0] >= 4);
	CHECK_EQ_I64(inbox[1], 1);
	CHECK_EQ_I64(inbox[2], inbox[0] - 1);

	CHECK_EQ_I64(db_run(db, &q_t_payments, &r, otn), XQ_OK);
	CHECK_EQ_I64(db_i64(&r, 0, 0), 1);
	pid = db_i64(&r, 0, 1);
	db_res_release(&r);
	CHECK_EQ_I64(db_run(db, &q_t_ledger, &r, pid, "payment"), XQ_OK);
	CHECK_EQ_I64(db_i64(&r, 0, 0), 1);
	CHECK_EQ_I64(db_i64(&r, 0, 1), 12345);
	db_res_release(&r);
	CHECK_EQ_I64(db_run(db, &q_t_ledger, &r, pid, "settle"), XQ_OK);
	CHECK_EQ_I64(db_i64(&r, 0, 0), 1);
	CHECK_EQ_I64(db_i64(&r, 0, 1), -12345);
	db_res_release(&r);
	CHECK_EQ_I64(db_run(db, &q_t_bill_state, &r, bill1), XQ_OK);
	CHECK_STR(db_str(&r, 0, 0), "paid");
	CHECK_EQ_I64(db_i64(&r, 0, 1), 12345);
	db_res_release(&r);

	snprintf(body, sizeof(body), "/api/v1/orders/%s", otn);
	CHECK_EQ_I64(client_req(&ra, "GET", body, NULL, NULL), 200);
	CHECK_STR(jstr(&ra, "state"), "paid");
	CHECK_EQ_I64(client_req(&rb, "GET", body, NULL, NULL), 404);
	CHECK_EQ_I64(client_req(&ra, "GET", "/api/v1/houses", NULL, NULL), 200);
	CHECK_EQ_I64(jnum(&ra, "items.0.arrears_fen"), 0);
	CHECK_EQ_I64(jnum(&ra, "items.0.balance_fen"), 0);
	/* paid bills cannot be ordered again */
	snprintf(body, sizeof(body), "{\"house_id\":%lld,\"bill_ids\":[%lld]}", (long long)h1,
		 (long long)bill1);
	CHECK_EQ_I64(client_req(&ra, "POST", "/api/v1/orders", body, NULL), 409);
}

/* The first delivery of otn's callback, once the sim has an answer for it; 0 if none came. */
static long first_attempt_status(const char *otn)
{
	char path[160];

	snprintf(path, sizeof(path), "/sim/notifications?out_trade_no=%s", otn);
	for (int i = 0; i < 100; i++) {
		if (client_req(&sim, "GET", path, NULL, NULL) == 200 &&
		    jget(&sim, "notifications.0.deliveries.0.attempts.0.http_status"))
			return (long)jnum(&sim, "notifications.0.deliveries.0.attempts.0.http_status");
		usleep(100000);
	}
	return 0;
}

/*
 * Each of WeChat's callback faults (§3.4) on the first delivery: refused
 * (4xx) and nothing credited; the retry would come only after 15 s, so the
 * resident's app asking for the order then settles it by a WeChat query.
 */
TEST(bad_callbacks_then_query)
{
	static const char *const faults[] = { "probe", "tampered", "stale_timestamp", "wrong_serial",
					      "unsigned" };
	char body[256], otn[40];
	int64_t credit = 0;

	for (size_t f = 0; f < XQ_ARRAY_LEN(faults); f++) {
		long st;

		otn[0] = '\0';
		CHECK_EQ_I64(client_reqf(&ra, "POST", "/api/v1/orders",
					 "{\"house_id\":%lld,\"topup_fen\":500}", (long long)h1), 201);
		if (jstr(&ra, "out_trade_no"))
			snprintf(otn, sizeof(otn), "%s", jstr(&ra, "out_trade_no"));
		snprintf(body, sizeof(body),
			 "{\"out_trade_no\":\"%s\",\"fault\":\"%s\",\"retry_scale\":1}", otn,
			 faults[f]);
		CHECK_EQ_I64(client_req(&sim, "POST", "/sim/pay", body, NULL), 200);
		st = first_attempt_status(otn);
		if (st < 400 || st > 499)
			fprintf(stderr, "fault %s answered %ld\n", faults[f], st);
		CHECK(st >= 400 && st <= 499);
		CHECK_EQ_I64(one_i64(&q_t_payments, 0, otn, 0), 0);
		CHECK_EQ_I64(one_i64(&q_t_balance, 0, NULL, h1), credit);
		/* the app asks: we query WeChat, which says SUCCESS, and settle */
		snprintf(body, sizeof(body), "/api/v1/orders/%s", otn);
		CHECK_EQ_I64(client_req(&ra, "GET", body, NULL, NULL), 200);
		CHECK_STR(jstr(&ra, "state"), "paid");
		CHECK_EQ_I64(one_i64(&q_t_payments, 0, otn, 0), 1);
		credit += 500;
		/* a top-up stays as credit */
		CHECK_EQ_I64(one_i64(&q_t_balance, 0, NULL, h1), credit);
	}
	CHECK_EQ_I64(client_req(&ra, "GET", "/api/v1/houses", NULL, NULL), 200);
	CHECK_EQ_I64(jnum(&ra, "items.0.balance_fen"), credit);
}

/*
 * The bill is partly paid elsewhere (cash) between ordering and paying:
 * the bill gets only what it still owes, the rest stays as credit.
 */
TEST(overpayment_is_credit)
{
	char body[256], otn[40] = "";
	int64_t b3, before = one_i64(&q_t_balance, 0, NULL, h1);
	struct db_res r;

	CHECK_EQ_I64(db_run(db, &q_t_bill, NULL, h1, "2026-09", (int64_t)2000), XQ_OK);
	b3 = db_insert_id(db);
	snprintf(body, sizeof(body), "{\"house_id\":%lld,\"bill_ids\":[%lld]}", (long long)h1,
		 (long long)b3);
	CHECK_EQ_I64(client_req(&ra, "POST", "/api/v1/orders", body, NULL), 201);
	CHECK_EQ_I64(jnum(&ra, "amount_fen"), 2000);
	if (jstr(&ra, "out_trade_no"))
		snprintf(otn, sizeof(otn), "%s", jstr(&ra, "out_trade_no"));
	CHECK_EQ_I64(db_run(db, &q_t_part_paid, NULL, (int64_t)500, b3), XQ_OK);
	snprintf(body, sizeof(body), "{\"out_trade_no\":\"%s\",\"retry_scale\":1000}", otn);
	CHECK_EQ_I64(client_req(&sim, "POST", "/sim/pay", body, NULL), 200);
	for (int i = 0; i < 100 && one_i64(&q_t_payments, 0, otn, 0) == 0; i++)
		usleep(100000);
	CHECK_EQ_I64(one_i64(&q_t_payments, 0, otn, 0), 1);
	CHECK_EQ_I64(db_run(db, &q_t_bill_state, &r, b3), XQ_OK);
	CHECK_STR(db_str(&r, 0, 0), "paid");
	CHECK_EQ_I64(db_i64(&r, 0, 1), 2000);
	db_res_release(&r);
	CHECK_EQ_I64(one_i64(&q_t_balance, 0, NULL, h1), before + 500);

	/* unbinding hides the house again */
	snprintf(body, sizeof(body), "/api/v1/bindings/%lld", (long long)h1);
	CHECK_EQ_I64(client_req(&ra, "DELETE", body, NULL, NULL), 200);
	CHECK_EQ_I64(client_req(&ra, "GET", "/api/v1/houses", NULL, NULL), 200);
	CHECK_EQ_I64(cJSON_GetArraySize(jget(&ra, "items")), 0);
	snprintf(body, sizeof(body), "/api/v1/houses/%lld/bills", (long long)h1);
	CHECK_EQ_I64(client_req(&ra, "GET", body, NULL, NULL), 404);
}

/* A JSAPI answer we cannot verify, or WeChat's 500, never yields payment parameters. */
TEST(jsapi_answer_faults)
{
	char body[128];

	snprintf(body, sizeof(body), "{\"house_id\":%lld,\"topup_fen\":100}", (long long)h2);
	CHECK_EQ_I64(client_req(&sim, "POST", "/sim/faults",
				"{\"fault\":\"tampered\",\"path\":\"/v3/pay/transactions/jsapi\"}", NULL), 200);
	CHECK_EQ_I64(client_req(&rb, "POST", "/api/v1/orders", body, NULL), 502);
	CHECK(!jget(&rb, "paySign"));
	CHECK_EQ_I64(client_req(&sim, "POST", "/sim/faults",
				"{\"fault\":\"system_error\",\"path\":\"/v3/pay/transactions/jsapi\"}", NULL), 200);
	CHECK_EQ_I64(client_req(&rb, "POST", "/api/v1/orders", body, NULL), 503);
	CHECK(!jget(&rb, "paySign"));
	CHECK_EQ_I64(client_req(&rb, "POST", "/api/v1/orders", body, NULL), 201);
	CHECK(jstr(&rb, "paySign") != NULL);
	/* the sim's login API busy: a clear message, not a crash */
	CHECK_EQ_I64(client_req(&sim, "POST", "/sim/faults", "{\"fault\":\"busy\",\"path\":\"/sns/\"}", NULL), 200);
	snprintf(body, sizeof(body), "{\"code\":\"test-busy.%s\"}", uniq);
	CHECK_EQ_I64(client_req(&rb, "POST", "/api/v1/auth/login", body, NULL), 503);
	CHECK(jstr(&rb, "message") && strstr(jstr(&rb, "message"), "繁忙"));
	client_req(&sim, "DELETE", "/sim/faults", NULL, NULL);
}

TEST(forged_notify)
{
	struct client x;
	const char *forged = "{\"id\":\"EV-forged\",\"event_type\":\"TRANSACTION.SUCCESS\","
			     "\"resource\":{\"algorithm\":\"AEAD_AES_256_GCM\",\"ciphertext\":\"AAAA\","
			     "\"nonce\":\"123456789012\",\"associated_data\":\"transaction\"}}";

	client_init(&x);
	CHECK_EQ_I64(client_req(&x, "POST", "/wxpay/notify", forged, NULL), 401);
	CHECK_STR(jstr(&x, "code"), "FAIL");
	CHECK_EQ_I64(client_req(&x, "POST", "/wxpay/notify", "junk", "text/plain"), 401);
	client_release(&x);
}

int main(void)
{
	const char *conf = getenv("XQ_CONFIG"), *simurl = getenv("XQ_WXSIM_URL");
	char err[256];

	if (!conf || !simurl) {
		fprintf(stderr, "test_resident: XQ_CONFIG and XQ_WXSIM_URL are required\n");
		return 1;
	}
	if (config_load(&cfg, conf, err, sizeof(err))) {
		fprintf(stderr, "test_resident: %s\n", err);
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	db_library_init();
	if (db_open(&db, &cfg) != XQ_OK) {
		fprintf(stderr, "test_resident: no database\n");
		return 1;
	}
	snprintf(uniq, sizeof(uniq), "%lx%x", (unsigned long)time(NULL), (unsigned)getpid());
	client_init(&staff);
	client_init(&ra);
	client_init(&rb);
	client_init(&sim);
	snprintf(sim.base, sizeof(sim.base), "%s", simurl);
	CHECK_EQ_I64(client_login(&staff, "admin", ADMIN_PW), 200);
	seed();
	RUN(login_and_me);
	RUN(binding);
	RUN(houses_and_bills);
	RUN(pay_bill_once);
	RUN(bad_callbacks_then_query);
	RUN(overpayment_is_credit);
	RUN(jsapi_answer_faults);
	RUN(forged_notify);
	client_release(&staff);
	client_release(&ra);
	client_release(&rb);
	client_release(&sim);
	db_close(db);
	config_release(&cfg);
	return test_report();
}
