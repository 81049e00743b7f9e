/*
 * test_dunning.c - the dunning area through the real stack: `xqctl daily`
 * (the real binary, with --date as the clock) against the stack's MariaDB
 * and xq-wxsim, and the console/resident routes through nginx.
 *
 *   - late fees: run twice on a day, skip a day, run again; a second bill
 *     created afterwards catches up in one run; both ledgers are identical
 *     row by row and equal the hand-computed cumulative fee;
 *   - dunning: step 1 subscribe message once (xq-wxsim records it), no
 *     second one on a re-run, step 2 message + SMS (sms_outbox), payment
 *     stops reminders and accrual, day 30 a staff ticket for an unpaid bill;
 *   - waiver: permission, reason, reversing entry, audit, no more accrual;
 *   - alerts: each detector raised by a planted condition and not by normal
 *     data beside it; lifecycle ack/close with who and when, audit, 409s;
 *     summary counts; critical alert -> staff notification;
 *   - forecast: a bound resident gets this month's expected usage from a
 *     purely seasonal history; another resident gets 404.
 * Dates are in mid-2026 so the other e2e tests' bills (due today or
 * later) are not overdue for any run here.
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
#define TPL_REMIND "XQ-BILL-DUE-REMINDER-DEMO-TEMPLATE-0000001"
#define TPL_ARREARS "XQ-ARREARS-NOTICE-DEMO-TEMPLATE-0000000003"

DB_QUERY(q_comm) = { "t_dun_comm", "INSERT INTO community (code, name) VALUES (?, ?)", "ss", NULL };
DB_QUERY(q_bldg) = { "t_dun_bldg", "INSERT INTO building (community_id, name) VALUES (?, '1号楼')", "l", NULL };
DB_QUERY(q_house) = {
	"t_dun_house", "INSERT INTO house (building_id, unit_no, room, status) VALUES (?, '1', ?, ?)",
	"lss", NULL,
};
DB_QUERY(q_account) = {
	"t_dun_account", "INSERT INTO account (house_id) VALUES (?)", "l", NULL,
};
DB_QUERY(q_ledger_of) = {
	"t_dun_ledger_of",
	"SELECT COUNT(*), COALESCE(SUM(amount_fen), 0) FROM ledger_entry WHERE bill_id = ? AND kind = ?",
	"ls", "ll",
};
DB_QUERY(q_fee_sum) = {
	"t_dun_fee_sum",
	"SELECT COALESCE(SUM(amount_fen), 0), COALESCE(SUM(kind = 'waive'), 0) FROM late_fee_entry WHERE bill_id = ?",
	"l", "ll",
};
DB_QUERY(q_job_live) = {
	"t_dun_job_live",
	"INSERT INTO job (kind, community_id, period, owner) VALUES ('daily', 0, ?, 'otherhost:1')", "s", NULL,
};
DB_QUERY(q_job_stale) = {
	"t_dun_job_stale",
	"UPDATE job SET heartbeat_at = CURRENT_TIMESTAMP(3) - INTERVAL 1 HOUR WHERE kind = 'daily' AND period = ?",
	"s", NULL,
};
DB_QUERY(q_job_state) = {
	"t_dun_job_state", "SELECT state = 'done', attempt FROM job WHERE kind = 'daily' AND period = ?",
	"s", "ll",
};
DB_QUERY(q_ev_error) = {
	"t_dun_ev_error",
	"SELECT COUNT(*), COALESCE(MAX(status = 'failed' AND error LIKE '%43101%'), 0) FROM dunning_event"
	" WHERE bill_id = ? AND channel = 'wx_subscribe' AND recipient <> ''",
	"l", "ll",
};
DB_QUERY(q_token) = {
	"t_dun_token", "SELECT COUNT(*) FROM wx_access_token WHERE appid = ? AND expires_at > NOW(3)", "s", "l",
};
DB_QUERY(q_staff_wx) = {
	"t_dun_staff_wx",
	"UPDATE wx_user SET staff_id = (SELECT id FROM staff_user WHERE username = ?) WHERE id = ?", "sl", NULL,
};
DB_QUERY(q_notif_wx) = {
	"t_dun_notif_wx", "SELECT COALESCE(MAX(wx_sent), -1) FROM staff_notification WHERE alert_id = ?", "l", "l",
};
DB_QUERY(q_rule_id) = {
	"t_dun_rule_id", "SELECT id FROM alert_rule WHERE community_id = ? AND kind = 'usage_spike'", "l", "l",
};
DB_QUERY(q_bill) = {
	"t_dun_bill",
	"INSERT INTO bill (house_id, period, utility, status, amount_fen, issued_at, due_date)"
	" VALUES (?, '2026-05', 'electric', 'issued', ?, '2026-06-01 00:00:00', '2026-06-20')",
	"ll", NULL,
};
DB_QUERY(q_fees) = {
	"t_dun_fees",
	"SELECT day, amount_fen, cum_fen, idem_key FROM late_fee_entry"
	" WHERE bill_id = ? AND kind = 'accrue' ORDER BY day",
	"l", "slls",
};
DB_QUERY(q_bill_fee) = {
	"t_dun_bill_fee",
	"SELECT b.late_fee_fen, COALESCE(b.late_fee_through, ''), a.balance_fen, b.late_fee_waived_fen,"
	" b.paid_fen, b.status = 'paid'"
	" FROM bill b JOIN account a ON a.house_id = b.house_id WHERE b.id = ?",
	"l", "lsllll",
};
DB_QUERY(q_wx_user) = { "t_dun_wx_user", "SELECT openid FROM wx_user WHERE id = ?", "l", "s" };
DB_QUERY(q_bind) = {
	"t_dun_bind",
	"INSERT INTO wx_binding (wx_user_id, house_id, relation, status, verified_by)"
	" VALUES (?, ?, 'owner', 'active', 'staff')",
	"ll", NULL,
};
DB_QUERY(q_resident) = {
	"t_dun_resident",
	"INSERT INTO resident (community_id, code, name, mobile) VALUES (?, ?, '李催缴', ?)", "lss", NULL,
};
DB_QUERY(q_hr) = {
	"t_dun_hr",
	"INSERT INTO house_resident (house_id, resident_id, relation, move_in) VALUES (?, ?, 'owner', '2024-01-01')",
	"ll", NULL,
};
DB_QUERY(q_events) = {
	"t_dun_events",
	"SELECT COUNT(*), COALESCE(SUM(status = 'sent'), 0) FROM dunning_event WHERE bill_id = ? AND step = ? AND channel = ?",
	"lis", "ll",
};
DB_QUERY(q_sms) = { "t_dun_sms", "SELECT COUNT(*) FROM sms_outbox WHERE mobile = ?", "s", "l" };
DB_QUERY(q_tickets) = {
	"t_dun_tickets", "SELECT COUNT(*) FROM ticket WHERE house_id = ? AND kind = 'billing'", "l", "l",
};
DB_QUERY(q_pay) = {
	"t_dun_pay",
	"INSERT INTO ledger_entry (account_id, kind, amount_fen, idem_key, bill_id, created_at)"
	" SELECT a.id, 'settle', -(b.amount_fen + b.late_fee_fen), CONCAT('settle:', b.id, ':test'), b.id, ?"
	" FROM bill b JOIN account a ON a.house_id = b.house_id WHERE b.id = ?",
	"sl", NULL,
};
DB_QUERY(q_pay_bill) = {
	"t_dun_pay_bill",
	"UPDATE bill SET status = 'paid', paid_fen = amount_fen + late_fee_fen, paid_at = ? WHERE id = ?",
	"sl", NULL,
};
DB_QUERY(q_audit) = {
	"t_dun_audit", "SELECT COUNT(*) FROM audit_log WHERE entity = ? AND entity_id = ? AND action = ?",
	"sls", "l",
};
DB_QUERY(q_meter) = {
	"t_dun_meter",
	"INSERT INTO meter (community_id, house_id, parent_meter_id, utility, kind, meter_no)"
	" VALUES (?, ?, ?, ?, ?, ?)",
	"lLLsss", NULL,
};
DB_QUERY(q_daily_row) = {
	"t_dun_daily_row",
	"INSERT INTO meter_usage_daily (meter_id, day, first_read_at, last_read_at, last_value, usage_total, readings)"
	" VALUES (?, DATE_SUB(?, INTERVAL ? DAY), '2026-06-01 00:00:00', '2026-06-01 00:00:00', 0, ?, 24)",
	"lsll", NULL,
};
DB_QUERY(q_reading) = {
	"t_dun_reading", "INSERT INTO meter_reading (meter_id, read_at, value) VALUES (?, ?, ?)", "lsl", NULL,
};
DB_QUERY(q_alerts_of) = {
	"t_dun_alerts_of",
	"SELECT COUNT(*), COALESCE(MAX(id), 0) FROM alert WHERE kind = ? AND meter_id = ?", "sl", "ll",
};
DB_QUERY(q_notif) = {
	"t_dun_notif", "SELECT COUNT(*) FROM staff_notification WHERE alert_id = ?", "l", "l",
};
DB_QUERY(q_monthly) = {
	"t_dun_monthly",
	"INSERT INTO meter_usage_monthly (meter_id, month, usage_total, days)"
	" VALUES (?, DATE_FORMAT(DATE_SUB(DATE(NOW() + INTERVAL 8 HOUR), INTERVAL ? MONTH), '%Y-%m'), ?, 30)",
	"lll", NULL,
};

static struct config cfg;
static struct db *db;
static struct client staff, reader, ra, rb, sim;
static char uniq[32];
static int64_t comm, bldg;
static const char *xqctl;
static char reader_name[64];

static int64_t one(const struct db_query *q, size_t col, int64_t a)
{
	struct db_res r;
	int64_t v = -1;

	if (db_run(db, q, &r, a) == XQ_OK) {
		if (r.nrows)
			v = db_i64(&r, 0, col);
		db_res_release(&r);
	}
	return v;
}

static int64_t new_house(const char *room, const char *status)
{
	int64_t id;

	CHECK_EQ_I64(db_run(db, &q_house, NULL, bldg, room, status), XQ_OK);
	id = db_insert_id(db);
	CHECK_EQ_I64(db_run(db, &q_account, NULL, id), XQ_OK);
	return id;
}

static int64_t new_bill(int64_t house, int64_t amount)
{
	CHECK_EQ_I64(db_run(db, &q_bill, NULL, house, amount), XQ_OK);
	return db_insert_id(db);
}

static int64_t new_meter(int64_t house, int64_t parent, const char *utility, const char *kind)
{
	char no[48];
	static int seq;

	snprintf(no, sizeof(no), "DUN%s-%d", uniq, ++seq);
	CHECK_EQ_I64(db_run(db, &q_meter, NULL, comm, house ? &house : NULL, parent ? &parent : NULL,
			    utility, kind, no),
		     XQ_OK);
	return db_insert_id(db);
}

/* Runs `[env] xqctl daily --date d`; returns its exit status, stdout in out. */
static int daily_env(const char *env, const char *d, char *out, size_t cap)
{
	char cmd[1024];
	FILE *p;
	size_t n = 0;
	int st;

	snprintf(cmd, sizeof(cmd), "%s '%s' daily --date %s 2>&1", env, xqctl, d);
	if (!(p = popen(cmd, "r")))
		return -1;
	if (out && cap) {
		n = fread(out, 1, cap - 1, p);
		out[n] = '\0';
	} else {
		char tmp[4096];
		while (fread(tmp, 1, sizeof(tmp), p) > 0)
			;
	}
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int daily(const char *d, char *out, size_t cap)
{
	return daily_env("", d, out, cap);
}

static void bearer(struct client *c, const char *token)
{
	curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
	curl_easy_setopt(c->curl, CURLOPT_XOAUTH2_BEARER, token);
}

/* Logs a resident in; returns the wx_user id. */
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

/* ---- late fees ---------------------------------------------------------- */

static int64_t bill_a, bill_b;

struct fee_row {
	char day[11], key[64];
	int64_t fen, cum;
};

static size_t fees(int64_t bill, struct fee_row *rows, size_t cap)
{
	struct db_res r;
	size_t n = 0;

	if (db_run(db, &q_fees, &r, bill) != XQ_OK)
		return 0;
	if (!rows) {
		n = r.nrows;
		db_res_release(&r);
		return n;
	}
	for (; n < r.nrows && n < cap; n++) {
		snprintf(rows[n].day, sizeof(rows[n].day), "%s", db_str(&r, n, 0));
		rows[n].fen = db_i64(&r, n, 1);
		rows[n].cum = db_i64(&r, n, 2);
		snprintf(rows[n].key, sizeof(rows[n].key), "%s", db_str(&r, n, 3));
	}
	db_res_release(&r);
	return n;
}

TEST(latefee_idempotent_and_catch_up)
{
	char out[8192];
	struct fee_row fa[16], fb[16];
	size_t na, nb;
	static const char *const days[] = { "2026-06-21", "2026-06-22", "2026-06-23", "2026-06-24" };
	static const int64_t want[] = { 14, 14, 15, 14 }; /* 142.10 x 1 per mille: 14.21, 28.42, 42.63, 56.84 */

	bill_a = new_bill(new_house("A01", "occupied"), 14210);
	CHECK_EQ_I64(daily("2026-06-21", out, sizeof(out)), 0);
	CHECK(strstr(out, "late fees:") && strstr(out, "xqctl daily: latefee"));
	CHECK_EQ_I64(daily("2026-06-21", out, sizeof(out)), 0); /* twice the same day */
	CHECK_EQ_I64(daily("2026-06-23", out, sizeof(out)), 0); /* 06-22 skipped */
	CHECK_EQ_I64(daily("2026-06-24", out, sizeof(out)), 0);
	CHECK_EQ_I64(daily("2026-06-24", out, sizeof(out)), 0);
	na = fees(bill_a, fa, 16);
	CHECK_EQ_I64(na, 4);
	for (size_t i = 0; i < na && i < 4; i++) {
		char key[64];
		CHECK_STR(fa[i].day, days[i]);
		CHECK_EQ_I64(fa[i].fen, want[i]);
		snprintf(key, sizeof(key), "latefee:%lld:%s", (long long)bill_a, days[i]);
		CHECK_STR(fa[i].key, key);
	}
	CHECK_EQ_I64(fa[3].cum, 57);
	CHECK_EQ_I64(one(&q_bill_fee, 0, bill_a), 57);
	CHECK_STR(fa[3].day, "2026-06-24");
	/* a charge on the bill, not a movement of money: the wallet is untouched */
	CHECK_EQ_I64(one(&q_bill_fee, 2, bill_a), 0);

	/* the same bill created now catches up 4 days in one run: the same rows */
	bill_b = new_bill(new_house("A02", "occupied"), 14210);
	CHECK_EQ_I64(daily("2026-06-24", out, sizeof(out)), 0);
	CHECK(strstr(out, "4 entries") != NULL);
	nb = fees(bill_b, fb, 16);
	CHECK_EQ_I64(nb, na);
	for (size_t i = 0; i < na && i < nb; i++) {
		CHECK_STR(fb[i].day, fa[i].day);
		CHECK_EQ_I64(fb[i].fen, fa[i].fen);
		CHECK_EQ_I64(fb[i].cum, fa[i].cum);
	}
	CHECK_EQ_I64(one(&q_bill_fee, 0, bill_b), 57);
	/* and bill A got nothing more */
	CHECK_EQ_I64(fees(bill_a, fa, 16), 4);
}

/* ---- dunning -------------------------------------------------------------- */

static int64_t bill_c, bill_d, house_c, house_d;
static char openid_a[80], mobile_c[20];

static int64_t sim_messages(const char *openid, const char *tpl)
{
	char path[256];

	snprintf(path, sizeof(path), "/sim/messages?openid=%s&template_id=%s", openid, tpl);
	if (client_req(&sim, "GET", path, NULL, NULL) != 200)
		return -1;
	return jget(&sim, "messages") ? cJSON_GetArraySize(jget(&sim, "messages")) : -1;
}

static int64_t events(int64_t bill, int step, const char *channel, size_t col)
{
	struct db_res r;
	int64_t v = -1;

	if (db_run(db, &q_events, &r, bill, step, channel) == XQ_OK) {
		v = db_i64(&r, 0, col);
		db_res_release(&r);
	}
	return v;
}

TEST(dunning_steps_once_and_stop_on_payment)
{
	char out[8192], body[256], code[48];
	int64_t uid, res;

	house_c = new_house("C01", "occupied");
	house_d = new_house("D01", "occupied");
	bill_c = new_bill(house_c, 10000);
	bill_d = new_bill(house_d, 30000);
	uid = login(&ra, "duna");
	CHECK_EQ_I64(db_run(db, &q_bind, NULL, uid, house_c), XQ_OK);
	{
		struct db_res r;
		CHECK_EQ_I64(db_run(db, &q_wx_user, &r, uid), XQ_OK);
		if (r.nrows)
			snprintf(openid_a, sizeof(openid_a), "%s", db_str(&r, 0, 0));
		db_res_release(&r);
	}
	CHECK(openid_a[0] != '\0');
	snprintf(mobile_c, sizeof(mobile_c), "139%08u", (unsigned)(getpid() % 100000000));
	snprintf(code, sizeof(code), "DUN%s", uniq);
	CHECK_EQ_I64(db_run(db, &q_resident, NULL, comm, code, mobile_c), XQ_OK);
	res = db_insert_id(db);
	CHECK_EQ_I64(db_run(db, &q_hr, NULL, house_c, res), XQ_OK);
	/* the resident accepted both templates several times in the mini-program */
	snprintf(body, sizeof(body), "{\"openid\":\"%s\",\"template_id\":\"%s\",\"count\":5}", openid_a,
		 TPL_REMIND);
	CHECK_EQ_I64(client_req(&sim, "POST", "/sim/subscribe/accept", body, NULL), 200);
	snprintf(body, sizeof(body), "{\"openid\":\"%s\",\"template_id\":\"%s\",\"count\":5}", openid_a,
		 TPL_ARREARS);
	CHECK_EQ_I64(client_req(&sim, "POST", "/sim/subscribe/accept", body, NULL), 200);

	/* day 1 after due: one reminder, and a re-run sends nothing more */
	CHECK_EQ_I64(daily("2026-06-21", out, sizeof(out)), 0);
	CHECK_EQ_I64(sim_messages(openid_a, TPL_REMIND), 1);
	CHECK_EQ_I64(events(bill_c, 1, "wx_subscribe", 1), 1);
	CHECK_EQ_I64(daily("2026-06-21", out, sizeof(out)), 0);
	CHECK_EQ_I64(daily("2026-06-22", out, sizeof(out)), 0);
	CHECK_EQ_I64(sim_messages(openid_a, TPL_REMIND), 1);
	CHECK_EQ_I64(events(bill_c, 1, "wx_subscribe", 0), 1);
	/* the message carries the bill */
	snprintf(body, sizeof(body), "/sim/messages?openid=%s&template_id=%s", openid_a, TPL_REMIND);
	CHECK_EQ_I64(client_req(&sim, "GET", body, NULL, NULL), 200);
	CHECK(sim.body && strstr(sim.body, "2026-05") && strstr(sim.body, "2026-06-20"));

	/* day 7: the arrears message and an SMS, once */
	CHECK_EQ_I64(daily("2026-06-27", out, sizeof(out)), 0);
	CHECK_EQ_I64(daily("2026-06-27", out, sizeof(out)), 0);
	CHECK_EQ_I64(sim_messages(openid_a, TPL_ARREARS), 1);
	CHECK_EQ_I64(events(bill_c, 2, "sms", 1), 1);
	CHECK_EQ_I64(one(&q_sms, 0, 0) >= 0, 1);
	{
		struct db_res r;
		CHECK_EQ_I64(db_run(db, &q_sms, &r, mobile_c), XQ_OK);
		CHECK_EQ_I64(db_i64(&r, 0, 0), 1);
		db_res_release(&r);
	}
	/* bill D has no bound user and no mobile: recorded as skipped, never sent */
	CHECK_EQ_I64(events(bill_d, 2, "wx_subscribe", 0), 1);
	CHECK_EQ_I64(events(bill_d, 2, "wx_subscribe", 1), 0);

	/* bill C is paid on 06-27 (Beijing evening); D stays unpaid */
	CHECK_EQ_I64(db_run(db, &q_pay, NULL, "2026-06-27 10:00:00", bill_c), XQ_OK);
	CHECK_EQ_I64(db_run(db, &q_pay_bill, NULL, "2026-06-27 10:00:00", bill_c), XQ_OK);
	CHECK_EQ_I64(daily("2026-07-20", out, sizeof(out)), 0);
	/* day 30: a staff task for D only; C gets nothing more */
	CHECK_EQ_I64(one(&q_tickets, 0, house_d), 1);
	CHECK_EQ_I64(one(&q_tickets, 0, house_c), 0);
	CHECK_EQ_I64(events(bill_c, 3, "staff_task", 0), 0);
	CHECK_EQ_I64(sim_messages(openid_a, TPL_REMIND), 1);
	CHECK_EQ_I64(sim_messages(openid_a, TPL_ARREARS), 1);
	/* accrual stopped on the day of payment: 100.00 x 1 per mille x 7 days */
	CHECK_EQ_I64(one(&q_bill_fee, 0, bill_c), 70);
	/* D: 300.00 x 1 per mille x 30 days */
	CHECK_EQ_I64(one(&q_bill_fee, 0, bill_d), 900);
	CHECK_EQ_I64(daily("2026-07-21", out, sizeof(out)), 0);
	CHECK_EQ_I64(one(&q_tickets, 0, house_d), 1);
	CHECK_EQ_I64(one(&q_bill_fee, 0, bill_c), 70);
}

TEST(claim_is_exclusive)
{
	char out[4096];
	struct db_res r;

	/* another host holds a live claim for the day: this run does nothing */
	CHECK_EQ_I64(db_run(db, &q_job_live, NULL, "2026-06-26"), XQ_OK);
	CHECK_EQ_I64(daily("2026-06-26", out, sizeof(out)), 3);
	CHECK(strstr(out, "another process") != NULL);
	CHECK_EQ_I64(db_run(db, &q_job_state, &r, "2026-06-26"), XQ_OK);
	CHECK_EQ_I64(db_i64(&r, 0, 0), 0);
	db_res_release(&r);
	/* its heartbeat stops: the claim is taken over */
	CHECK_EQ_I64(db_run(db, &q_job_stale, NULL, "2026-06-26"), XQ_OK);
	CHECK_EQ_I64(daily("2026-06-26", out, sizeof(out)), 0);
	CHECK_EQ_I64(db_run(db, &q_job_state, &r, "2026-06-26"), XQ_OK);
	CHECK_EQ_I64(db_i64(&r, 0, 0), 1);
	CHECK_EQ_I64(db_i64(&r, 0, 1), 2);
	db_res_release(&r);
	CHECK_EQ_I64(daily("2026-13-01", out, sizeof(out)), 2);
}

TEST(refused_reminder_recorded_once)
{
	char out[4096];
	int64_t h = new_house("R01", "occupied"), bill = new_bill(h, 5000);
	int64_t uid = login(&rb, "dunnoaccept");
	struct db_res r;

	/* bound, but the resident never accepted the template: WeChat answers 43101 */
	CHECK_EQ_I64(db_run(db, &q_bind, NULL, uid, h), XQ_OK);
	CHECK_EQ_I64(daily("2026-06-27", out, sizeof(out)), 0);
	CHECK_EQ_I64(daily("2026-06-27", out, sizeof(out)), 0);
	CHECK_EQ_I64(db_run(db, &q_ev_error, &r, bill), XQ_OK);
	CHECK_EQ_I64(db_i64(&r, 0, 0), 1);
	CHECK_EQ_I64(db_i64(&r, 0, 1), 1);
	db_res_release(&r);
	/* the access token is cached in the database for every host */
	CHECK_EQ_I64(db_run(db, &q_token, &r, cfg.wx_appid), XQ_OK);
	CHECK_EQ_I64(db_i64(&r, 0, 0), 1);
	db_res_release(&r);
}

/* ---- waiver ---------------------------------------------------------------- */

TEST(waiver)
{
	char path[128], out[4096];
	int64_t bill_e = new_bill(new_house("E01", "occupied"), 20000);
	int64_t bill_p = new_bill(new_house("E02", "occupied"), 10000);
	struct db_res r;

	CHECK_EQ_I64(daily("2026-07-21", out, sizeof(out)), 0);
	CHECK_EQ_I64(one(&q_bill_fee, 0, bill_e), 20 * 31);
	snprintf(path, sizeof(path), A "/bills/%lld/waive-late-fee", (long long)bill_e);
	/* a meter reader may not; a reason is required */
	CHECK_EQ_I64(client_req(&reader, "POST", path, "{\"reason\":\"孤寡老人\"}", NULL), 403);
	CHECK_EQ_I64(client_req(&staff, "POST", path, "{}", NULL), 400);
	CHECK_EQ_I64(client_req(&staff, "POST", path, "{\"reason\":\"孤寡老人，经理批准\"}", NULL), 200);
	CHECK_EQ_I64(jnum(&staff, "late_fee_fen"), 0);
	CHECK_EQ_I64(jnum(&staff, "late_fee_waived_fen"), 620);
	CHECK_STR(jstr(&staff, "status"), "issued");
	CHECK_EQ_I64(client_req(&staff, "POST", path, "{\"reason\":\"再次减免\"}", NULL), 409);
	CHECK_EQ_I64(db_run(db, &q_audit, &r, "bill", bill_e, "waive_late_fee"), XQ_OK);
	CHECK_EQ_I64(db_i64(&r, 0, 0), 1);
	db_res_release(&r);
	/* the reversing row: accruals + waiver = 0 */
	CHECK_EQ_I64(db_run(db, &q_fee_sum, &r, bill_e), XQ_OK);
	CHECK_EQ_I64(db_i64(&r, 0, 0), 0);
	CHECK_EQ_I64(db_i64(&r, 0, 1), 1);
	db_res_release(&r);
	/* no further accrual */
	CHECK_EQ_I64(fees(bill_e, NULL, 0), 31);
	CHECK_EQ_I64(daily("2026-07-25", out, sizeof(out)), 0);
	CHECK_EQ_I64(one(&q_bill_fee, 0, bill_e), 0);
	CHECK_EQ_I64(fees(bill_e, NULL, 0), 31);

	/* a fee already paid: waiving it gives the money back to the wallet and the bill stays paid */
	CHECK_EQ_I64(one(&q_bill_fee, 0, bill_p), 10 * 35);
	CHECK_EQ_I64(db_run(db, &q_pay, NULL, "2026-07-25 02:00:00", bill_p), XQ_OK);
	CHECK_EQ_I64(db_run(db, &q_pay_bill, NULL, "2026-07-25 02:00:00", bill_p), XQ_OK);
	snprintf(path, sizeof(path), A "/bills/%lld/waive-late-fee", (long long)bill_p);
	CHECK_EQ_I64(client_req(&staff, "POST", path, "{\"reason\":\"计量争议\"}", NULL), 200);
	CHECK_EQ_I64(jnum(&staff, "paid_fen"), 10000);
	CHECK_STR(jstr(&staff, "status"), "paid");
	CHECK_EQ_I64(one(&q_bill_fee, 2, bill_p), 350);
	CHECK_EQ_I64(db_run(db, &q_ledger_of, &r, bill_p, "reverse"), XQ_OK);
	CHECK_EQ_I64(db_i64(&r, 0, 0), 1);
	CHECK_EQ_I64(db_i64(&r, 0, 1), 350);
	db_res_release(&r);
	snprintf(path, sizeof(path), A "/bills/%lld/waive-late-fee", (long long)999999999);
	CHECK_EQ_I64(client_req(&staff, "POST", path, "{\"reason\":\"不存在\"}", NULL), 404);
}

/* ---- alerts ------------------------------------------------------------------ */

static int64_t m_spike, m_normal, m_zero, m_vacant, m_vacant0, w_leak, w_dry, s_loss, s_ok;

static int64_t alerts_of(const char *kind, int64_t meter)
{
	struct db_res r;
	int64_t v = -1;

	if (db_run(db, &q_alerts_of, &r, kind, meter) == XQ_OK) {
		v = db_i64(&r, 0, 0);
		db_res_release(&r);
	}
	return v;
}

static int64_t alert_id(const char *kind, int64_t meter)
{
	struct db_res r;
	int64_t v = 0;

	if (db_run(db, &q_alerts_of, &r, kind, meter) == XQ_OK) {
		v = db_i64(&r, 0, 1);
		db_res_release(&r);
	}
	return v;
}

static void row(int64_t meter, int64_t days_before, int64_t usage)
{
	CHECK_EQ_I64(db_run(db, &q_daily_row, NULL, meter, "2026-06-30", days_before, usage), XQ_OK);
}

TEST(detectors)
{
	char out[8192];
	int64_t h_occ = new_house("F01", "occupied"), h_occ2 = new_house("F02", "occupied");
	int64_t h_zero = new_house("F03", "occupied"), h_vac = new_house("F04", "vacant");
	int64_t h_vac0 = new_house("F05", "vacant"), h_w1 = new_house("F06", "occupied");
	int64_t h_w2 = new_house("F07", "occupied");
	int64_t sub;

	m_spike = new_meter(h_occ, 0, "electric", "household");
	m_normal = new_meter(h_occ2, 0, "electric", "household");
	m_zero = new_meter(h_zero, 0, "electric", "household");
	m_vacant = new_meter(h_vac, 0, "electric", "household");
	m_vacant0 = new_meter(h_vac0, 0, "electric", "household");
	w_leak = new_meter(h_w1, 0, "water", "household");
	w_dry = new_meter(h_w2, 0, "water", "household");
	/* 30 days of ~5 kWh, then 30 kWh on 06-30 (spike) or 6 kWh (normal) */
	for (int d = 1; d <= 30; d++) {
		row(m_spike, d, 5000 + (d % 3) * 100);
		row(m_normal, d, 5000 + (d % 4) * 200);
	}
	row(m_spike, 0, 30000);
	row(m_normal, 0, 6000);
	/* three days of nothing in an occupied house; the normal meter above used power */
	for (int d = 0; d < 3; d++)
		row(m_zero, d, 0);
	/* usage while vacant, and a vacant house without usage */
	row(m_vacant, 0, 3000);
	row(m_vacant0, 0, 0);
	/* the night of 06-30 (02:00-05:00 Beijing = 06-29 18:00-21:00 UTC): flow all night vs none */
	for (int i = 0; i < 4; i++) {
		char at[24];
		snprintf(at, sizeof(at), "2026-06-29 %02d:00:00", 18 + i);
		CHECK_EQ_I64(db_run(db, &q_reading, NULL, w_leak, at, (int64_t)(100000 + 12 * i)), XQ_OK);
		CHECK_EQ_I64(db_run(db, &q_reading, NULL, w_dry, at, (int64_t)200000), XQ_OK);
	}
	/* the dry meter used water in the daytime: not a leak */
	CHECK_EQ_I64(db_run(db, &q_reading, NULL, w_dry, "2026-06-30 03:00:00", (int64_t)200300), XQ_OK);
	/* supply meters: 20 % loss against 3 % */
	s_loss = new_meter(0, 0, "electric", "supply");
	s_ok = new_meter(0, 0, "electric", "supply");
	row(s_loss, 0, 100000);
	row(s_ok, 0, 100000);
	sub = new_meter(0, s_loss, "electric", "public");
	row(sub, 0, 40000);
	sub = new_meter(0, s_loss, "electric", "public");
	row(sub, 0, 40000);
	sub = new_meter(0, s_ok, "electric", "public");
	row(sub, 0, 50000);
	sub = new_meter(0, s_ok, "electric", "public");
	row(sub, 0, 47000);

	/* a staff member with a WeChat binding who accepted the alert template */
	{
		char body[256], env[128], openid[80] = "";
		struct client sc;
		int64_t suid;
		struct db_res r;

		client_init(&sc);
		suid = login(&sc, "dunstaff");
		CHECK_EQ_I64(db_run(db, &q_staff_wx, NULL, reader_name, suid), XQ_OK);
		CHECK_EQ_I64(db_run(db, &q_wx_user, &r, suid), XQ_OK);
		if (r.nrows)
			snprintf(openid, sizeof(openid), "%s", db_str(&r, 0, 0));
		db_res_release(&r);
		CHECK_EQ_I64(client_req(&sim, "POST", "/sim/templates",
					"{\"template_id\":\"XQ-ALERT-E2E\",\"title\":\"告警通知\","
					"\"keywords\":\"thing1,date2\"}", NULL), 200);
		snprintf(body, sizeof(body), "{\"openid\":\"%s\",\"template_id\":\"XQ-ALERT-E2E\",\"count\":3}",
			 openid);
		CHECK_EQ_I64(client_req(&sim, "POST", "/sim/subscribe/accept", body, NULL), 200);
		snprintf(env, sizeof(env), "XQ_DUNNING_TPL_ALERT=XQ-ALERT-E2E");
		CHECK_EQ_I64(daily_env(env, "2026-07-01", out, sizeof(out)), 0);
		CHECK_EQ_I64(sim_messages(openid, "XQ-ALERT-E2E"), 1);
		client_release(&sc);
	}
	CHECK(strstr(out, "alerts:") != NULL);
	CHECK_EQ_I64(alerts_of("usage_spike", m_spike), 1);
	CHECK_EQ_I64(alerts_of("usage_spike", m_normal), 0);
	CHECK_EQ_I64(alerts_of("zero_use", m_zero), 1);
	CHECK_EQ_I64(alerts_of("zero_use", m_normal), 0);
	CHECK_EQ_I64(alerts_of("usage_while_vacant", m_vacant), 1);
	CHECK_EQ_I64(alerts_of("usage_while_vacant", m_vacant0), 0);
	CHECK_EQ_I64(alerts_of("water_leak", w_leak), 1);
	CHECK_EQ_I64(alerts_of("water_leak", w_dry), 0);
	CHECK_EQ_I64(alerts_of("line_loss", s_loss), 1);
	CHECK_EQ_I64(alerts_of("line_loss", s_ok), 0);
	/* the leak is critical: a console notification and the staff openid's message */
	CHECK_EQ_I64(one(&q_notif, 0, alert_id("water_leak", w_leak)), 1);
	CHECK_EQ_I64(one(&q_notif_wx, 0, alert_id("water_leak", w_leak)), 1);
	CHECK_EQ_I64(one(&q_notif, 0, alert_id("usage_spike", m_spike)), 0);
	/* a re-run raises nothing twice */
	CHECK_EQ_I64(daily("2026-07-01", out, sizeof(out)), 0);
	CHECK_EQ_I64(alerts_of("usage_spike", m_spike), 1);
	CHECK_EQ_I64(alerts_of("water_leak", w_leak), 1);
	CHECK_EQ_I64(one(&q_notif, 0, alert_id("water_leak", w_leak)), 1);
}

TEST(alert_lifecycle)
{
	char path[160];
	int64_t id = alert_id("usage_spike", m_spike);

	snprintf(path, sizeof(path), A "/alerts?kind=usage_spike&community_id=%lld", (long long)comm);
	CHECK_EQ_I64(client_req(&staff, "GET", path, NULL, NULL), 200);
	CHECK_EQ_I64(jnum(&staff, "total"), 1);
	CHECK_EQ_I64(jnum(&staff, "items.0.id"), id);
	CHECK_STR(jstr(&staff, "items.0.status"), "open");
	snprintf(path, sizeof(path), A "/alerts?level=critical&state=open&community_id=%lld", (long long)comm);
	CHECK_EQ_I64(client_req(&staff, "GET", path, NULL, NULL), 200);
	CHECK_EQ_I64(jnum(&staff, "total"), 1);
	CHECK_STR(jstr(&staff, "items.0.kind"), "water_leak");
	CHECK_EQ_I64(client_req(&staff, "GET", A "/alerts?level=bad", NULL, NULL), 400);
	CHECK_EQ_I64(client_req(&reader, "GET", A "/alerts", NULL, NULL), 403);

	snprintf(path, sizeof(path), A "/alerts/summary?community_id=%lld", (long long)comm);
	CHECK_EQ_I64(client_req(&staff, "GET", path, NULL, NULL), 200);
	CHECK_EQ_I64(jnum(&staff, "open.critical"), 1);
	CHECK_EQ_I64(jnum(&staff, "open.warning"), 4);
	CHECK_EQ_I64(jnum(&staff, "acked.warning"), 0);
	CHECK_EQ_I64(jnum(&staff, "total_not_closed"), 5);
	CHECK(cJSON_GetArraySize(jget(&staff, "notifications")) >= 1);

	snprintf(path, sizeof(path), A "/alerts/%lld/ack", (long long)id);
	CHECK_EQ_I64(client_req(&reader, "POST", path, "{}", NULL), 403);
	CHECK_EQ_I64(client_req(&staff, "POST", path, "{}", NULL), 200);
	CHECK_STR(jstr(&staff, "status"), "acked");
	CHECK_STR(jstr(&staff, "acked_by_name"), "admin");
	CHECK(jstr(&staff, "acked_at") != NULL);
	CHECK_EQ_I64(client_req(&staff, "POST", path, "{}", NULL), 409);
	snprintf(path, sizeof(path), A "/alerts/summary?community_id=%lld", (long long)comm);
	CHECK_EQ_I64(client_req(&staff, "GET", path, NULL, NULL), 200);
	CHECK_EQ_I64(jnum(&staff, "acked.warning"), 1);
	CHECK_EQ_I64(jnum(&staff, "open.warning"), 3);

	snprintf(path, sizeof(path), A "/alerts/%lld/close", (long long)id);
	CHECK_EQ_I64(client_req(&staff, "POST", path, "{\"note\":\"住户装修，已核实\"}", NULL), 200);
	CHECK_STR(jstr(&staff, "status"), "closed");
	CHECK_STR(jstr(&staff, "close_note"), "住户装修，已核实");
	CHECK(jstr(&staff, "closed_at") != NULL);
	CHECK_EQ_I64(client_req(&staff, "POST", path, "{}", NULL), 409);
	snprintf(path, sizeof(path), A "/alerts/%lld/close", (long long)999999999);
	CHECK_EQ_I64(client_req(&staff, "POST", path, "{}", NULL), 404);
	{
		struct db_res r;
		CHECK_EQ_I64(db_run(db, &q_audit, &r, "alert", id, "ack"), XQ_OK);
		CHECK_EQ_I64(db_i64(&r, 0, 0), 1);
		db_res_release(&r);
		CHECK_EQ_I64(db_run(db, &q_audit, &r, "alert", id, "close"), XQ_OK);
		CHECK_EQ_I64(db_i64(&r, 0, 0), 1);
		db_res_release(&r);
	}
}

TEST(alert_rules_per_community)
{
	char body[512], out[4096], path[160];
	struct db_res r;

	/* this community flags spikes above 110 % of the meter's mean, at level info */
	snprintf(body, sizeof(body),
		 "{\"community_id\":%lld,\"kind\":\"usage_spike\",\"level\":\"info\","
		 "\"params\":{\"factor_pct\":110,\"min_history_days\":7,\"min_wh\":2000,\"min_l\":200},"
		 "\"enabled\":true}", (long long)comm);
	CHECK_EQ_I64(client_req(&reader, "PUT", A "/alert-rules", body, NULL), 403);
	CHECK_EQ_I64(client_req(&staff, "PUT", A "/alert-rules",
				"{\"kind\":\"usage_spike\",\"level\":\"info\",\"params\":{\"factor_pct\":\"x\"},"
				"\"enabled\":true}", NULL), 400);
	CHECK_EQ_I64(client_req(&staff, "PUT", A "/alert-rules", body, NULL), 200);
	CHECK_EQ_I64(jnum(&staff, "community_id"), comm);
	CHECK_EQ_I64(jnum(&staff, "params.factor_pct"), 110);
	CHECK_EQ_I64(client_req(&staff, "PUT", A "/alert-rules", body, NULL), 200); /* an update, not a second row */
	snprintf(path, sizeof(path), A "/alert-rules?community_id=%lld", (long long)comm);
	CHECK_EQ_I64(client_req(&staff, "GET", path, NULL, NULL), 200);
	CHECK_EQ_I64(cJSON_GetArraySize(jget(&staff, "items")), 6); /* 5 defaults + this one */
	CHECK_EQ_I64(alerts_of("usage_spike", m_normal), 0);
	CHECK_EQ_I64(daily("2026-07-01", out, sizeof(out)), 0);
	CHECK_EQ_I64(alerts_of("usage_spike", m_normal), 1);
	/* the closed spike alert of the same day is not raised again */
	CHECK_EQ_I64(alerts_of("usage_spike", m_spike), 1);
	snprintf(path, sizeof(path), A "/alerts?kind=usage_spike&level=info&community_id=%lld", (long long)comm);
	CHECK_EQ_I64(client_req(&staff, "GET", path, NULL, NULL), 200);
	CHECK_EQ_I64(jnum(&staff, "total"), 1);
	CHECK_EQ_I64(db_run(db, &q_audit, &r, "alert_rule", one(&q_rule_id, 0, comm), "update"), XQ_OK);
	CHECK_EQ_I64(db_i64(&r, 0, 0), 1);
	db_res_release(&r);
}

TEST(bill_dunning_view)
{
	char path[128];

	snprintf(path, sizeof(path), A "/bills/%lld/dunning", (long long)bill_c);
	CHECK_EQ_I64(client_req(&staff, "GET", path, NULL, NULL), 200);
	CHECK_EQ_I64(jnum(&staff, "late_fee_fen"), 70);
	CHECK_EQ_I64(cJSON_GetArraySize(jget(&staff, "late_fee_entries")), 7);
	CHECK_STR(jstr(&staff, "late_fee_entries.6.day"), "2026-06-27");
	CHECK_EQ_I64(jnum(&staff, "late_fee_entries.6.cum_fen"), 70);
	CHECK_STR(jstr(&staff, "dunning_events.0.channel"), "wx_subscribe");
	CHECK_STR(jstr(&staff, "dunning_events.0.status"), "sent");
	CHECK_EQ_I64(cJSON_GetArraySize(jget(&staff, "dunning_events")), 3); /* step 1 wx, step 2 wx + sms */
	CHECK_EQ_I64(client_req(&ra, "GET", path, NULL, NULL), 401);
}

TEST(policy_per_community)
{
	char code[40], name[64], path[128], out[4096], mobile[20];
	int64_t c2, b2, h, bill, res;

	snprintf(code, sizeof(code), "DP%s", uniq);
	snprintf(name, sizeof(name), "策略测试小区%s", uniq);
	CHECK_EQ_I64(db_run(db, &q_comm, NULL, code, name), XQ_OK);
	c2 = db_insert_id(db);
	CHECK_EQ_I64(db_run(db, &q_bldg, NULL, c2), XQ_OK);
	b2 = db_insert_id(db);
	CHECK_EQ_I64(db_run(db, &q_house, NULL, b2, "P01", "occupied"), XQ_OK);
	h = db_insert_id(db);
	snprintf(mobile, sizeof(mobile), "137%08u", (unsigned)(getpid() % 100000000));
	CHECK_EQ_I64(db_run(db, &q_resident, NULL, c2, code, mobile), XQ_OK);
	res = db_insert_id(db);
	CHECK_EQ_I64(db_run(db, &q_hr, NULL, h, res), XQ_OK);
	bill = new_bill(h, 8000);

	snprintf(path, sizeof(path), A "/communities/%lld/dunning-policy", (long long)c2);
	CHECK_EQ_I64(client_req(&staff, "GET", path, NULL, NULL), 200);
	CHECK_STR(jstr(&staff, "source"), "default");
	CHECK_EQ_I64(cJSON_GetArraySize(jget(&staff, "steps")), 4);
	CHECK_EQ_I64(client_req(&reader, "PUT", path, "{\"steps\":[]}", NULL), 403);
	CHECK_EQ_I64(client_req(&staff, "PUT", path,
				"{\"steps\":[{\"step\":1,\"days_after_due\":3,\"channel\":\"fax\"}]}", NULL), 400);
	CHECK_EQ_I64(client_req(&staff, "PUT", path,
				"{\"steps\":[{\"step\":1,\"days_after_due\":9,\"channel\":\"sms\"},"
				"{\"step\":2,\"days_after_due\":3,\"channel\":\"sms\"}]}", NULL), 400);
	/* this community: one SMS on day 3, nothing else */
	CHECK_EQ_I64(client_req(&staff, "PUT", path,
				"{\"steps\":[{\"step\":1,\"days_after_due\":3,\"channel\":\"sms\","
				"\"template\":\"arrears\"}]}", NULL), 200);
	CHECK_STR(jstr(&staff, "source"), "community");
	CHECK_EQ_I64(cJSON_GetArraySize(jget(&staff, "steps")), 1);
	CHECK_EQ_I64(daily("2026-06-22", out, sizeof(out)), 0);
	CHECK_EQ_I64(events(bill, 1, "wx_subscribe", 0), 0);
	CHECK_EQ_I64(events(bill, 1, "sms", 0), 0);
	CHECK_EQ_I64(daily("2026-06-23", out, sizeof(out)), 0);
	CHECK_EQ_I64(events(bill, 1, "sms", 1), 1);
	CHECK_EQ_I64(events(bill, 1, "wx_subscribe", 0), 0);
	{
		struct db_res r;
		CHECK_EQ_I64(db_run(db, &q_sms, &r, mobile), XQ_OK);
		CHECK_EQ_I64(db_i64(&r, 0, 0), 1);
		db_res_release(&r);
		CHECK_EQ_I64(db_run(db, &q_audit, &r, "dunning_policy", c2, "update"), XQ_OK);
		CHECK_EQ_I64(db_i64(&r, 0, 0), 1);
		db_res_release(&r);
	}
	/* an empty list: back to the default policy */
	CHECK_EQ_I64(client_req(&staff, "PUT", path, "{\"steps\":[]}", NULL), 200);
	CHECK_STR(jstr(&staff, "source"), "default");
	snprintf(path, sizeof(path), A "/communities/%lld/dunning-policy", (long long)999999999);
	CHECK_EQ_I64(client_req(&staff, "PUT", path, "{\"steps\":[]}", NULL), 404);
}

/* ---- forecast ---------------------------------------------------------------- */

TEST(forecast_routes)
{
	static const int64_t pat[12] = { 300, 280, 200, 150, 120, 180, 400, 450, 300, 180, 160, 250 };
	int64_t h = new_house("G01", "occupied"), m = new_meter(h, 0, "electric", "household");
	int64_t uid = login(&rb, "dunb");
	char path[160];
	struct tm tmv;
	time_t now = time(NULL) + 8 * 3600;
	int cur;

	gmtime_r(&now, &tmv);
	cur = tmv.tm_mon; /* 0-based: this month's place in the pattern */
	/* 24 complete months before this one, purely seasonal by calendar month */
	for (int k = 1; k <= 24; k++)
		CHECK_EQ_I64(db_run(db, &q_monthly, NULL, m, (int64_t)k,
				    pat[((cur - k) % 12 + 12) % 12] * 1000),
			     XQ_OK);
	snprintf(path, sizeof(path), "/api/v1/houses/%lld/forecast?utility=electric", (long long)h);
	/* not bound yet: 404 */
	CHECK_EQ_I64(client_req(&rb, "GET", path, NULL, NULL), 404);
	CHECK_EQ_I64(db_run(db, &q_bind, NULL, uid, h), XQ_OK);
	CHECK_EQ_I64(client_req(&rb, "GET", path, NULL, NULL), 200);
	CHECK_EQ_I64(jnum(&rb, "history_months"), 24);
	CHECK_STR(jstr(&rb, "method"), "holt_winters");
	CHECK_STR(jstr(&rb, "months.0.which"), "this_month");
	CHECK_EQ_I64(jnum(&rb, "months.0.expected"), pat[cur] * 1000);
	CHECK_EQ_I64(jnum(&rb, "months.1.expected"), pat[(cur + 1) % 12] * 1000);
	CHECK_EQ_I64(client_req(&ra, "GET", path, NULL, NULL), 404);
	/* staff: by house and by community */
	snprintf(path, sizeof(path), A "/forecast?house_id=%lld&utility=electric", (long long)h);
	CHECK_EQ_I64(client_req(&staff, "GET", path, NULL, NULL), 200);
	CHECK_EQ_I64(jnum(&staff, "months.0.expected"), pat[cur] * 1000);
	snprintf(path, sizeof(path), A "/forecast?community_id=%lld", (long long)comm);
	CHECK_EQ_I64(client_req(&staff, "GET", path, NULL, NULL), 200);
	CHECK_EQ_I64(jnum(&staff, "months.1.expected"), pat[(cur + 1) % 12] * 1000);
	CHECK_EQ_I64(client_req(&staff, "GET", A "/forecast", NULL, NULL), 400);
	CHECK_EQ_I64(client_req(&reader, "GET", path, NULL, NULL), 403);
}

int main(void)
{
	const char *conf = getenv("XQ_CONFIG"), *simurl = getenv("XQ_WXSIM_URL");
	char err[256], code[40], name[64], body[256];

	xqctl = getenv("XQCTL");
	if (!conf || !simurl || !xqctl) {
		fprintf(stderr, "test_dunning: XQ_CONFIG, XQ_WXSIM_URL and XQCTL are required\n");
		return 1;
	}
	if (config_load(&cfg, conf, err, sizeof(err))) {
		fprintf(stderr, "test_dunning: %s\n", err);
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	db_library_init();
	if (db_open(&db, &cfg) != XQ_OK) {
		fprintf(stderr, "test_dunning: no database\n");
		return 1;
	}
	snprintf(uniq, sizeof(uniq), "%lx%x", (unsigned long)time(NULL), (unsigned)getpid());
	client_init(&staff);
	client_init(&reader);
	client_init(&ra);
	client_init(&rb);
	client_init(&sim);
	snprintf(sim.base, sizeof(sim.base), "%s", simurl);
	CHECK_EQ_I64(client_login(&staff, "admin", ADMIN_PW), 200);
	snprintf(body, sizeof(body),
		 "{\"username\":\"dunreader%s\",\"password\":\"Reader@2026x\",\"role\":\"reader\"}", uniq);
	CHECK_EQ_I64(client_req(&staff, "POST", A "/staff", body, NULL), 201);
	snprintf(reader_name, sizeof(reader_name), "dunreader%s", uniq);
	CHECK_EQ_I64(client_login(&reader, reader_name, "Reader@2026x"), 200);
	snprintf(code, sizeof(code), "DN%s", uniq);
	snprintf(name, sizeof(name), "催缴测试小区%s", uniq);
	CHECK_EQ_I64(db_run(db, &q_comm, NULL, code, name), XQ_OK);
	comm = db_insert_id(db);
	CHECK_EQ_I64(db_run(db, &q_bldg, NULL, comm), XQ_OK);
	bldg = db_insert_id(db);

	RUN(latefee_idempotent_and_catch_up);
	RUN(dunning_steps_once_and_stop_on_payment);
	RUN(claim_is_exclusive);
	RUN(refused_reminder_recorded_once);
	RUN(waiver);
	RUN(detectors);
	RUN(alert_lifecycle);
	RUN(alert_rules_per_community);
	RUN(bill_dunning_view);
	RUN(policy_per_community);
	RUN(forecast_routes);

	client_release(&staff);
	client_release(&reader);
	client_release(&ra);
	client_release(&rb);
	client_release(&sim);
	db_close(db);
	db_library_end();
	config_release(&cfg);
	curl_global_cleanup();
	return test_report();
}
