/*
 * test_resident_api.c - the residents' API beyond payments, through nginx:
 * meters with their latest reading, readings by Asia/Shanghai day with
 * paging, usage series from the rollup tables (sums over two meters,
 * per-rate series, zero-filled days and months), payments with the bills
 * they settled, the receipt with its 人民币大写 total, the ledger with
 * running balances; notices (visibility by community, pinned first, draft /
 * withdrawn / expired hidden) and their console side with audit rows and a
 * reader-role staff refused; tickets opened, throttled and moved through
 * their status machine by staff. Every route also refuses another
 * resident's house, meter, payment, ticket or notice with 404, and bad
 * parameters with 400. Estate rows, readings, rollups and money rows are
 * written straight into the stack's MariaDB (XQ_CONFIG), as lib/rollup.c
 * and the cash desk are other areas.
 */
#include "client.h"
#include "config.h"
#include "db.h"
#include "test.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ADMIN_PW (getenv("XQ_TEST_ADMIN_PASSWORD") ? getenv("XQ_TEST_ADMIN_PASSWORD") : "Xiaoqu@2026")
#define A "/admin/api/v1"

DB_QUERY(q_comm) = {
	"t_ra_comm", "INSERT INTO community (code, name, address, company) VALUES (?, ?, ?, ?)",
	"ssss", NULL,
};
DB_QUERY(q_bldg) = {
	"t_ra_bldg", "INSERT INTO building (community_id, name) VALUES (?, ?)", "ls", NULL,
};
DB_QUERY(q_house) = {
	"t_ra_house", "INSERT INTO house (building_id, unit_no, room) VALUES (?, '2', ?)", "ls", NULL,
};
DB_QUERY(q_resident) = {
	"t_ra_resident",
	"INSERT INTO resident (community_id, code, name, mobile) VALUES (?, ?, ?, '13900001111')",
	"lss", NULL,
};
DB_QUERY(q_hr) = {
	"t_ra_hr",
	"INSERT INTO house_resident (house_id, resident_id, relation, move_in)"
	" VALUES (?, ?, 'owner', '2024-01-01')",
	"ll", NULL,
};
DB_QUERY(q_bind) = {
	"t_ra_bind",
	"INSERT INTO wx_binding (wx_user_id, house_id, relation, status, verified_by)"
	" VALUES (?, ?, 'owner', 'active', 'staff')",
	"ll", NULL,
};
DB_QUERY(q_meter) = {
	"t_ra_meter",
	"INSERT INTO meter (community_id, house_id, utility, meter_no, digits, multiplier, smart,"
	" status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	"lLssllls", NULL,
};
DB_QUERY(q_reading) = {
	"t_ra_reading",
	"INSERT INTO meter_reading (meter_id, read_at, value, value_peak, value_valley, status)"
	" VALUES (?, ?, ?, ?, ?, ?)",
	"lslLLs", NULL,
};
DB_QUERY(q_daily) = {
	"t_ra_daily",
	"INSERT INTO meter_usage_daily (meter_id, day, first_read_at, last_read_at, last_value,"
	" usage_total, usage_peak, usage_valley, readings) VALUES (?, ?, ?, ?, 0, ?, ?, ?, 1)",
	"lsssLLL", NULL,
};
DB_QUERY(q_monthly) = {
	"t_ra_monthly",
	"INSERT INTO meter_usage_monthly (meter_id, month, usage_total, usage_peak, usage_valley, days)"
	" VALUES (?, ?, ?, ?, ?, 1)",
	"lslLL", NULL,
};
DB_QUERY(q_bill) = {
	"t_ra_bill",
	"INSERT INTO bill (house_id, period, utility, status, amount_fen, paid_fen, issued_at, paid_at)"
	" VALUES (?, ?, ?, 'paid', ?, ?, NOW(3), NOW(3))",
	"lssll", NULL,
};
DB_QUERY(q_account) = {
	"t_ra_account", "INSERT INTO account (house_id, balance_fen) VALUES (?, ?)", "ll", NULL,
};
DB_QUERY(q_payment) = {
	"t_ra_payment",
	"INSERT INTO payment (house_id, channel, purpose, amount_fen, external_ref, paid_at)"
	" VALUES (?, 'cash', 'bill', ?, ?, ?)",
	"llss", NULL,
};
DB_QUERY(q_ledger) = {
	"t_ra_ledger",
	"INSERT INTO ledger_entry (account_id, kind, amount_fen, idem_key, bill_id, payment_id)"
	" VALUES (?, ?, ?, ?, ?, ?)",
	"lslsLl", NULL,
};
DB_QUERY(q_audit) = {
	"t_ra_audit",
	"SELECT COUNT(*) FROM audit_log WHERE entity = ? AND entity_id = ? AND action = ?", "sls",
	"l",
};
DB_QUERY(q_staff_id) = {
	"t_ra_staff_id", "SELECT id FROM staff_user WHERE username = ?", "s", "l",
};

static struct config cfg;
static struct db *db;
static struct client staff, ra, rb;
static char uniq[32];
static int64_t comm1, comm2, h1, h2, h3, m1, m2, m3, m4, msupply, pay1, ticket1;

static void bearer(struct client *c, const char *token)
{
	curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
	curl_easy_setopt(c->curl, CURLOPT_XOAUTH2_BEARER, token);
}

/*
 * Logs in with a test-<name> code; returns the wx_user id. The openid
 * follows the name alone, so the name carries uniq: a rerun against the
 * same stack is a new resident (tickets count towards a daily limit).
 */
static int64_t login(struct client *c, const char *name)
{
	char body[160];

	snprintf(body, sizeof(body), "{\"code\":\"test-%s-%s.x\"}", name, uniq);
	CHECK_EQ_I64(client_req(c, "POST", "/api/v1/auth/login", body, NULL), 200);
	if (jstr(c, "token"))
		bearer(c, jstr(c, "token"));
	return (int64_t)jnum(c, "user.id");
}

static int64_t one(const struct db_query *q, const char *s, int64_t l, const char *s2)
{
	struct db_res r;
	int64_t v = -1;
	int rc = s2 ? db_run(db, q, &r, s, l, s2) : db_run(db, q, &r, s);

	CHECK_EQ_I64(rc, XQ_OK);
	if (!rc) {
		if (r.nrows == 1)
			v = db_i64(&r, 0, 0);
		db_res_release(&r);
	}
	return v;
}

static int64_t audits(const char *entity, int64_t id, const char *action)
{
	return one(&q_audit, entity, id, action);
}

static void seed(int64_t ua, int64_t ub)
{
	char code[40], name[64], no[40];
	int64_t b1, b2, res, acc, bill_e, bill_w, pk = 0, vl = 0;

	snprintf(code, sizeof(code), "RA%s", uniq);
	snprintf(name, sizeof(name), "明月花园%s", uniq);
	CHECK_EQ_I64(db_run(db, &q_comm, NULL, code, name, "杭州市西湖区文三路1号", "明月物业"), XQ_OK);
	comm1 = db_insert_id(db);
	snprintf(code, sizeof(code), "RB%s", uniq);
	snprintf(name, sizeof(name), "清风小区%s", uniq);
	CHECK_EQ_I64(db_run(db, &q_comm, NULL, code, name, "", ""), XQ_OK);
	comm2 = db_insert_id(db);
	CHECK_EQ_I64(db_run(db, &q_bldg, NULL, comm1, "3号楼"), XQ_OK);
	b1 = db_insert_id(db);
	CHECK_EQ_I64(db_run(db, &q_bldg, NULL, comm2, "1号楼"), XQ_OK);
	b2 = db_insert_id(db);
	CHECK_EQ_I64(db_run(db, &q_house, NULL, b1, "502"), XQ_OK);
	h1 = db_insert_id(db);
	CHECK_EQ_I64(db_run(db, &q_house, NULL, b1, "503"), XQ_OK);
	h2 = db_insert_id(db);
	CHECK_EQ_I64(db_run(db, &q_house, NULL, b2, "101"), XQ_OK);
	h3 = db_insert_id(db);
	CHECK_EQ_I64(db_run(db, &q_resident, NULL, comm1, code, "李四"), XQ_OK);
	res = db_insert_id(db);
	CHECK_EQ_I64(db_run(db, &q_hr, NULL, h1, res), XQ_OK);
	/* ra: h1; rb: h2 (same community) and h3 (the other one) */
	CHECK_EQ_I64(db_run(db, &q_bind, NULL, ua, h1), XQ_OK);
	CHECK_EQ_I64(db_run(db, &q_bind, NULL, ub, h2), XQ_OK);
	CHECK_EQ_I64(db_run(db, &q_bind, NULL, ub, h3), XQ_OK);

	snprintf(no, sizeof(no), "E1%s", uniq);
	CHECK_EQ_I64(db_run(db, &q_meter, NULL, comm1, &h1, "electric", no, (int64_t)6, (int64_t)1,
			    (int64_t)1, "active"), XQ_OK);
	m1 = db_insert_id(db);
	snprintf(no, sizeof(no), "W1%s", uniq);
	CHECK_EQ_I64(db_run(db, &q_meter, NULL, comm1, &h1, "water", no, (int64_t)5, (int64_t)1,
			    (int64_t)0, "active"), XQ_OK);
	m2 = db_insert_id(db);
	snprintf(no, sizeof(no), "E0%s", uniq);
	CHECK_EQ_I64(db_run(db, &q_meter, NULL, comm1, &h1, "electric", no, (int64_t)6, (int64_t)20,
			    (int64_t)0, "removed"), XQ_OK);
	m3 = db_insert_id(db);
	snprintf(no, sizeof(no), "E2%s", uniq);
	CHECK_EQ_I64(db_run(db, &q_meter, NULL, comm1, &h2, "electric", no, (int64_t)6, (int64_t)1,
			    (int64_t)1, "active"), XQ_OK);
	m4 = db_insert_id(db);
	snprintf(no, sizeof(no), "ES%s", uniq);
	CHECK_EQ_I64(db_run(db, &q_meter, NULL, comm1, (const int64_t *)NULL, "electric", no,
			    (int64_t)8, (int64_t)1, (int64_t)1, "active"), XQ_OK);
	msupply = db_insert_id(db);

	/*
	 * m1's readings (UTC): 10-31 15:59 is still 10-31 in Shanghai, 10-31
	 * 17:00 is 11-01 01:00 there; 11-02 02:00 is the newest good one, the
	 * rejected 11-03 reading is neither latest nor listed.
	 */
	pk = 400000;
	vl = 500000;
	CHECK_EQ_I64(db_run(db, &q_reading, NULL, m1, "2026-10-31 15:59:00", (int64_t)990000,
			    (const int64_t *)NULL, (const int64_t *)NULL, "ok"), XQ_OK);
	CHECK_EQ_I64(db_run(db, &q_reading, NULL, m1, "2026-10-31 17:00:00", (int64_t)1000000,
			    (const int64_t *)NULL, (const int64_t *)NULL, "ok"), XQ_OK);
	CHECK_EQ_I64(db_run(db, &q_reading, NULL, m1, "2026-11-01 02:00:00", (int64_t)1005000,
			    (const int64_t *)NULL, (const int64_t *)NULL, "flagged"), XQ_OK);
	CHECK_EQ_I64(db_run(db, &q_reading, NULL, m1, "2026-11-02 02:00:00", (int64_t)1012345,
			    &pk, &vl, "ok"), XQ_OK);
	CHECK_EQ_I64(db_run(db, &q_reading, NULL, m1, "2026-11-03 02:00:00", (int64_t)5,
			    (const int64_t *)NULL, (const int64_t *)NULL, "rejected"), XQ_OK);
	CHECK_EQ_I64(db_run(db, &q_reading, NULL, m4, "2026-11-02 02:00:00", (int64_t)777,
			    (const int64_t *)NULL, (const int64_t *)NULL, "ok"), XQ_OK);

	/* rollups: m1 (with rates) and m3 (without) electric, m2 water; one day outside */
	{
		int64_t t1 = 3456, p1 = 1000, v1 = 2456, t3 = 20000, p3 = 7000, v3 = 3000;
		int64_t t_out = 99999, w1 = 1234;
		CHECK_EQ_I64(db_run(db, &q_daily, NULL, m1, "2026-11-01", "2026-10-31 17:00:00",
				    "2026-11-01 15:00:00", &t1, &p1, &v1), XQ_OK);
		CHECK_EQ_I64(db_run(db, &q_daily, NULL, m1, "2026-11-03", "2026-11-02 17:00:00",
				    "2026-11-03 15:00:00", &t3, &p3, &v3), XQ_OK);
		CHECK_EQ_I64(db_run(db, &q_daily, NULL, m3, "2026-11-03", "2026-11-02 17:00:00",
				    "2026-11-03 15:00:00", &t1, (const int64_t *)NULL,
				    (const int64_t *)NULL), XQ_OK);
		CHECK_EQ_I64(db_run(db, &q_daily, NULL, m1, "2026-10-31", "2026-10-30 17:00:00",
				    "2026-10-31 15:00:00", &t_out, &t_out, (const int64_t *)NULL),
			     XQ_OK);
		CHECK_EQ_I64(db_run(db, &q_daily, NULL, m2, "2026-11-01", "2026-10-31 17:00:00",
				    "2026-11-01 15:00:00", &w1, (const int64_t *)NULL,
				    (const int64_t *)NULL), XQ_OK);
		CHECK_EQ_I64(db_run(db, &q_daily, NULL, m4, "2026-11-01", "2026-10-31 17:00:00",
				    "2026-11-01 15:00:00", &t_out, (const int64_t *)NULL,
				    (const int64_t *)NULL), XQ_OK);
		CHECK_EQ_I64(db_run(db, &q_monthly, NULL, m1, "2026-09", (int64_t)100000, &p1, &v1),
			     XQ_OK);
		CHECK_EQ_I64(db_run(db, &q_monthly, NULL, m1, "2026-11", (int64_t)23456, &p3, &v3),
			     XQ_OK);
		CHECK_EQ_I64(db_run(db, &q_monthly, NULL, m3, "2026-11", (int64_t)3456,
				    (const int64_t *)NULL, (const int64_t *)NULL), XQ_OK);
	}

	/*
	 * money: one cash payment of 150.00 settles the October electric
	 * (123.45) and September water (20.00) bills, 6.55 stays as credit; h2 has a balance that no
	 * ledger entry explains.
	 */
	CHECK_EQ_I64(db_run(db, &q_bill, NULL, h1, "2026-10", "electric", (int64_t)12345, (int64_t)12345), XQ_OK);
	bill_e = db_insert_id(db);
	CHECK_EQ_I64(db_run(db, &q_bill, NULL, h1, "2026-09", "water", (int64_t)2000, (int64_t)2000), XQ_OK);
	bill_w = db_insert_id(db);
	CHECK_EQ_I64(db_run(db, &q_account, NULL, h1, (int64_t)655), XQ_OK);
	acc = db_insert_id(db);
	CHECK_EQ_I64(db_run(db, &q_account, NULL, h2, (int64_t)100), XQ_OK);
	snprintf(code, sizeof(code), "CASH-%s", uniq);
	CHECK_EQ_I64(db_run(db, &q_payment, NULL, h1, (int64_t)15000, code, "2026-11-05 02:00:00"),
		     XQ_OK);
	pay1 = db_insert_id(db);
	snprintf(code, sizeof(code), "pay:%lld", (long long)pay1);
	CHECK_EQ_I64(db_run(db, &q_ledger, NULL, acc, "payment", (int64_t)15000, code,
			    (const int64_t *)NULL, pay1), XQ_OK);
	snprintf(code, sizeof(code), "settle:%lld:%lld", (long long)bill_e, (long long)pay1);
	CHECK_EQ_I64(db_run(db, &q_ledger, NULL, acc, "settle", (int64_t)-12345, code, &bill_e, pay1),
		     XQ_OK);
	snprintf(code, sizeof(code), "settle:%lld:%lld", (long long)bill_w, (long long)pay1);
	CHECK_EQ_I64(db_run(db, &q_ledger, NULL, acc, "settle", (int64_t)-2000, code, &bill_w, pay1),
		     XQ_OK);
}

static long get(struct client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static long get(struct client *c, const char *fmt, ...)
{
	char path[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return client_req(c, "GET", path, NULL, NULL);
}

TEST(meters)
{
	CHECK_EQ_I64(get(&ra, "/api/v1/houses/%lld/meters", (long long)h1), 200);
	CHECK_EQ_I64(cJSON_GetArraySize(jget(&ra, "items")), 3);
	/* active first, then by utility: m1 electric, m2 water, then the removed m3 */
	CHECK_EQ_I64(jnum(&ra, "items.0.id"), m1);
	CHECK_STR(jstr(&ra, "items.0.utility"), "electric");
	CHECK_STR(jstr(&ra, "items.0.unit"), "kWh");
	CHECK_EQ_I64(jnum(&ra, "items.0.digits"), 6);
	CHECK(cJSON_IsTrue(jget(&ra, "items.0.smart")));
	CHECK_STR(jstr(&ra, "items.0.latest_reading.read_at"), "2026-11-02T02:00:00.000Z");
	CHECK_EQ_I64(jnum(&ra, "items.0.latest_reading.value"), 1012345);
	CHECK_STR(jstr(&ra, "items.0.latest_reading.value_display"), "1012.35");
	CHECK_EQ_I64(jnum(&ra, "items.0.latest_reading.value_peak"), 400000);
	CHECK_EQ_I64(jnum(&ra, "items.0.latest_reading.value_valley"), 500000);
	CHECK(cJSON_IsNull(jget(&ra, "items.0.latest_reading.value_sharp")));
	CHECK_STR(jstr(&ra, "items.0.latest_reading.status"), "ok");
	CHECK_EQ_I64(jnum(&ra, "items.1.id"), m2);
	CHECK_STR(jstr(&ra, "items.1.unit"), "m³");
	CHECK(cJSON_IsNull(jget(&ra, "items.1.latest_reading")));
	CHECK_EQ_I64(jnum(&ra, "items.2.id"), m3);
	CHECK_STR(jstr(&ra, "items.2.status"), "removed");
	CHECK_EQ_I64(jnum(&ra, "items.2.multiplier"), 20);
	/* another resident's house */
	CHECK_EQ_I64(get(&rb, "/api/v1/houses/%lld/meters", (long long)h1), 404);
	CHECK(!jget(&rb, "items"));
	CHECK_EQ_I64(get(&ra, "/api/v1/houses/%lld/meters", (long long)h2), 404);
}

TEST(readings)
{
	/* Shanghai days: 10-31 17:00Z is 11-01, 10-31 15:59Z is not */
	CHECK_EQ_I64(get(&ra, "/api/v1/meters/%lld/readings?from=2026-11-01&to=2026-11-03",
			 (long long)m1), 200);
	CHECK_EQ_I64(jnum(&ra, "total"), 3);
	CHECK_EQ_I64(cJSON_GetArraySize(jget(&ra, "items")), 3);
	CHECK_STR(jstr(&ra, "items.0.read_at"), "2026-11-02T02:00:00.000Z");
	CHECK_EQ_I64(jnum(&ra, "items.0.value"), 1012345);
	CHECK_STR(jstr(&ra, "items.1.status"), "flagged");
	CHECK_STR(jstr(&ra, "items.2.read_at"), "2026-10-31T17:00:00.000Z");
	CHECK_STR(jstr(&ra, "from"), "2026-11-01");
	CHECK_EQ_I64(get(&ra, "/api/v1/meters/%lld/readings?from=2026-10-31&to=2026-10-31",
			 (long long)m1), 200);
	CHECK_EQ_I64(jnum(&ra, "total"), 1);
	CHECK_EQ_I64(jnum(&ra, "items.0.value"), 990000);
	/* pages */
	CHECK_EQ_I64(get(&ra, "/api/v1/meters/%lld/readings?from=2026-10-01&to=2026-11-30"
			      "&page=2&page_size=2", (long long)m1), 200);
	CHECK_EQ_I64(jnum(&ra, "total"), 4);
	CHECK_EQ_I64(cJSON_GetArraySize(jget(&ra, "items")), 2);
	CHECK_EQ_I64(jnum(&ra, "items.0.value"), 1000000);
	CHECK_EQ_I64(jnum(&ra, "items.1.value"), 990000);
	/* bounded and validated */
	CHECK_EQ_I64(get(&ra, "/api/v1/meters/%lld/readings?from=2025-01-01&to=2026-11-30",
			 (long long)m1), 400);
	CHECK_STR(jcode(&ra), "INVALID_ARGUMENT");
	CHECK_STR(jstr(&ra, "field"), "to");
	CHECK(jstr(&ra, "message") && strstr(jstr(&ra, "message"), "400"));
	CHECK_EQ_I64(get(&ra, "/api/v1/meters/%lld/readings?from=2025-10-27&to=2026-11-30",
			 (long long)m1), 200);
	CHECK_EQ_I64(get(&ra, "/api/v1/meters/%lld/readings?from=2025-10-26&to=2026-11-30",
			 (long long)m1), 400);
	CHECK_EQ_I64(get(&ra, "/api/v1/meters/%lld/readings?from=2026-02-30", (long long)m1), 400);
	CHECK_STR(jstr(&ra, "field"), "from");
	CHECK_EQ_I64(get(&ra, "/api/v1/meters/%lld/readings?from=2026-11-05&to=2026-11-01",
			 (long long)m1), 400);
	CHECK_EQ_I64(get(&ra, "/api/v1/meters/%lld/readings?page_size=500", (long long)m1), 400);
	/* others' meters, a supply meter, no meter */
	CHECK_EQ_I64(get(&rb, "/api/v1/meters/%lld/readings", (long long)m1), 404);
	CHECK(!jget(&rb, "items"));
	CHECK_EQ_I64(get(&ra, "/api/v1/meters/%lld/readings", (long long)m4), 404);
	CHECK_EQ_I64(get(&ra, "/api/v1/meters/%lld/readings", (long long)msupply), 404);
	CHECK_EQ_I64(get(&ra, "/api/v1/meters/999999999/readings"), 404);
	CHECK_EQ_I64(get(&rb, "/api/v1/meters/%lld/readings?from=2026-11-01&to=2026-11-03",
			 (long long)m4), 200);
	CHECK_EQ_I64(jnum(&rb, "items.0.value"), 777);
}

TEST(usage_daily)
{
	CHECK_EQ_I64(get(&ra, "/api/v1/houses/%lld/usage?utility=electric&granularity=day"
			      "&from=2026-11-01&to=2026-11-04", (long long)h1), 200);
	CHECK_STR(jstr(&ra, "unit"), "kWh");
	CHECK_EQ_I64(cJSON_GetArraySize(jget(&ra, "points")), 4);
	CHECK_EQ_I64(cJSON_GetArraySize(jget(&ra, "meters")), 2);
	CHECK_STR(jstr(&ra, "rates.1"), "peak");
	CHECK_STR(jstr(&ra, "points.0.date"), "2026-11-01");
	CHECK_EQ_I64(jnum(&ra, "points.0.usage_wh"), 3456);
	CHECK_STR(jstr(&ra, "points.0.usage"), "3.46");
	CHECK_EQ_I64(jnum(&ra, "points.0.peak_wh"), 1000);
	CHECK_EQ_I64(jnum(&ra, "points.0.valley_wh"), 2456);
	CHECK_EQ_I64(jnum(&ra, "points.0.sharp_wh"), 0);
	CHECK(cJSON_IsTrue(jget(&ra, "points.0.has_data")));
	/* a day without rows is a zero, marked as such */
	CHECK_STR(jstr(&ra, "points.1.date"), "2026-11-02");
	CHECK_EQ_I64(jnum(&ra, "points.1.usage_wh"), 0);
	CHECK_STR(jstr(&ra, "points.1.usage"), "0.00");
	CHECK(cJSON_IsFalse(jget(&ra, "points.1.has_data")));
	/* two meters on one day: m1 20000 (7000 peak) + m3 3456 (no rates) */
	CHECK_EQ_I64(jnum(&ra, "points.2.usage_wh"), 23456);
	CHECK_EQ_I64(jnum(&ra, "points.2.peak_wh"), 7000);
	CHECK_EQ_I64(jnum(&ra, "points.3.usage_wh"), 0);
	CHECK_STR(jstr(&ra, "points.3.date"), "2026-11-04");
	CHECK_EQ_I64(jnum(&ra, "total_wh"), 3456 + 23456);
	CHECK_STR(jstr(&ra, "total"), "26.91");
	CHECK_EQ_I64(jnum(&ra, "total_peak_wh"), 8000);
	CHECK_EQ_I64(jnum(&ra, "total_valley_wh"), 2456 + 3000);

	/* water: litres, no rate series */
	CHECK_EQ_I64(get(&ra, "/api/v1/houses/%lld/usage?utility=water&from=2026-11-01&to=2026-11-02",
			 (long long)h1), 200);
	CHECK_STR(jstr(&ra, "unit"), "m³");
	CHECK_EQ_I64(jnum(&ra, "points.0.usage_l"), 1234);
	CHECK_STR(jstr(&ra, "points.0.usage"), "1.23");
	CHECK_EQ_I64(jnum(&ra, "points.1.usage_l"), 0);
	CHECK_EQ_I64(jnum(&ra, "total_l"), 1234);
	CHECK_EQ_I64(cJSON_GetArraySize(jget(&ra, "rates")), 0);
	CHECK(!jget(&ra, "points.0.peak_l"));

	/* 400 days is the most: 2025-10-28..2026-12-01 is 400 days, one more is refused */
	CHECK_EQ_I64(get(&ra, "/api/v1/houses/%lld/usage?utility=electric&from=2025-10-28&to=2026-12-01",
			 (long long)h1), 200);
	CHECK_EQ_I64(cJSON_GetArraySize(jget(&ra, "points")), 400);
	CHECK_EQ_I64(jnum(&ra, "total_wh"), 99999 + 3456 + 23456);
	CHECK_EQ_I64(get(&ra, "/api/v1/houses/%lld/usage?utility=electric&from=2025-10-27&to=2026-12-01",
			 (long long)h1), 400);
	CHECK_STR(jstr(&ra, "field"), "to");
	CHECK_EQ_I64(get(&ra, "/api/v1/houses/%lld/usage?granularity=day", (long long)h1), 400);
	CHECK_STR(jstr(&ra, "field"), "utility");
	CHECK_EQ_I64(get(&ra, "/api/v1/houses/%lld/usage?utility=gas", (long long)h1), 400);
	CHECK_EQ_I64(get(&ra, "/api/v1/houses/%lld/usage?utility=water&granularity=week",
			 (long long)h1), 400);
	CHECK_STR(jstr(&ra, "field"), "granularity");
	CHECK_EQ_I64(get(&ra, "/api/v1/houses/%lld/usage?utility=water&from=2026/11/01",
			 (long long)h1), 400);
	CHECK_EQ_I64(get(&ra, "/api/v1/houses/%lld/usage?utility=water&from=2026-11-02&to=2026-11-01",
			 (long long)h1), 400);
	/* defaults: the last 30 days */
	CHECK_EQ_I64(get(&ra, "/api/v1/houses/%lld/usage?utility=electric", (long long)h1), 200);
	CHECK_EQ_I64(cJSON_GetArraySize(jget(&ra, "points")), 30);
	/* not ra's: rb's h2 (whose meter has 99999 on 11-01), and the reverse */
	CHECK_EQ_I64(get(&ra, "/api/v1/houses/%lld/usage?utility=electric", (long long)h2), 404);
	CHECK_EQ_I64(get(&rb, "/api/v1/houses/%lld/usage?utility=electric", (long long)h1), 404);
	CHECK(!jget(&rb, "points"));
}

TEST(usage_monthly)
{
	CHECK_EQ_I64(get(&ra, "/api/v1/houses/%lld/usage?utility=electric&granularity=month"
			      "&from=2026-09&to=2026-11-15", (long long)h1), 200);
	CHECK_STR(jstr(&ra, "from"), "2026-09");
	CHECK_STR(jstr(&ra, "to"), "2026-11");
	CHECK_EQ_I64(cJSON_GetArraySize(jget(&ra, "points")), 3);
	CHECK_STR(jstr(&ra, "points.0.month"), "2026-09");
	CHECK_EQ_I64(jnum(&ra, "points.0.usage_wh"), 100000);
	CHECK_STR(jstr(&ra, "points.0.usage"), "100.00");
	CHECK_STR(jstr(&ra, "points.1.month"), "2026-10");
	CHECK_EQ_I64(jnum(&ra, "points.1.usage_wh"), 0);
	CHECK(cJSON_IsFalse(jget(&ra, "points.1.has_data")));
	CHECK_EQ_I64(jnum(&ra, "points.2.usage_wh"), 23456 + 3456);
	CHECK_EQ_I64(jnum(&ra, "points.2.peak_wh"), 7000);
	CHECK_EQ_I64(jnum(&ra, "total_wh"), 100000 + 23456 + 3456);
	/* 60 months at most, across a year boundary */
	CHECK_EQ_I64(get(&ra, "/api/v1/houses/%lld/usage?utility=electric&granularity=month"
			      "&from=2021-12&to=2026-11", (long long)h1), 200);
	CHECK_EQ_I64(cJSON_GetArraySize(jget(&ra, "points")), 60);
	CHECK_STR(jstr(&ra, "points.1.month"), "2022-01");
	CHECK_EQ_I64(get(&ra, "/api/v1/houses/%lld/usage?utility=electric&granularity=month"
			      "&from=2021-11&to=2026-11", (long long)h1), 400);
	CHECK(jstr(&ra, "message") && strstr(jstr(&ra, "message"), "60"));
	CHECK_EQ_I64(get(&ra, "/api/v1/houses/%lld/usage?utility=electric&granularity=month"
			      "&from=2026-13", (long long)h1), 400);
	CHECK_EQ_I64(get(&ra, "/api/v1/houses/%lld/usage?utility=electric&granularity=month",
			 (long long)h1), 200);
	CHECK_EQ_I64(cJSON_GetArraySize(jget(&ra, "points")), 12);
}

TEST(payments_and_receipt)
{
	char want[64];

	CHECK_EQ_I64(get(&ra, "/api/v1/houses/%lld/payments", (long long)h1), 200);
	CHECK_EQ_I64(jnum(&ra, "total"), 1);
	CHECK_EQ_I64(jnum(&ra, "items.0.id"), pay1);
	CHECK_STR(jstr(&ra, "items.0.channel"), "cash");
	CHECK_STR(jstr(&ra, "items.0.channel_zh"), "现金");
	CHECK_EQ_I64(jnum(&ra, "items.0.amount_fen"), 15000);
	CHECK_STR(jstr(&ra, "items.0.paid_at"), "2026-11-05T02:00:00.000Z");
	CHECK(jstr(&ra, "items.0.external_ref") && !strncmp(jstr(&ra, "items.0.external_ref"), "CASH-", 5));
	CHECK_EQ_I64(cJSON_GetArraySize(jget(&ra, "items.0.bills")), 2);
	CHECK_STR(jstr(&ra, "items.0.bills.0.utility"), "water");
	CHECK_STR(jstr(&ra, "items.0.bills.0.period"), "2026-09");
	CHECK_EQ_I64(jnum(&ra, "items.0.bills.0.amount_fen"), 2000);
	CHECK_STR(jstr(&ra, "items.0.bills.1.period"), "2026-10");
	CHECK_EQ_I64(jnum(&ra, "items.0.bills.1.amount_fen"), 12345);
	snprintf(want, sizeof(want), "SJ20261105%08lld", (long long)pay1);
	CHECK_STR(jstr(&ra, "items.0.receipt_no"), want);
	CHECK_EQ_I64(get(&rb, "/api/v1/houses/%lld/payments", (long long)h1), 404);
	CHECK_EQ_I64(get(&rb, "/api/v1/houses/%lld/payments", (long long)h2), 200);
	CHECK_EQ_I64(jnum(&rb, "total"), 0);

	CHECK_EQ_I64(get(&ra, "/api/v1/payments/%lld/receipt", (long long)pay1), 200);
	CHECK_STR(jstr(&ra, "title"), "收据");
	CHECK_STR(jstr(&ra, "receipt_no"), want);
	CHECK_STR(jstr(&ra, "issuer"), "明月物业");
	CHECK_STR(jstr(&ra, "payer"), "李四");
	CHECK_STR(jstr(&ra, "house.room"), "502");
	CHECK(jstr(&ra, "house.address") && strstr(jstr(&ra, "house.address"), "3号楼2单元502") &&
	      strstr(jstr(&ra, "house.address"), "文三路"));
	CHECK_EQ_I64(jnum(&ra, "total_fen"), 15000);
	CHECK_STR(jstr(&ra, "total_yuan"), "150.00");
	CHECK_STR(jstr(&ra, "total_upper"), "壹佰伍拾元整");
	CHECK_EQ_I64(cJSON_GetArraySize(jget(&ra, "items")), 3);
	CHECK_STR(jstr(&ra, "items.0.label_zh"), "2026年9月水费");
	CHECK_EQ_I64(jnum(&ra, "items.0.amount_fen"), 2000);
	CHECK_STR(jstr(&ra, "items.1.label_zh"), "2026年10月电费");
	CHECK_EQ_I64(jnum(&ra, "items.1.amount_fen"), 12345);
	CHECK_STR(jstr(&ra, "items.2.kind"), "credit");
	CHECK_EQ_I64(jnum(&ra, "items.2.amount_fen"), 655);
	CHECK_EQ_I64(get(&rb, "/api/v1/payments/%lld/receipt", (long long)pay1), 404);
	CHECK(!jget(&rb, "total_fen"));
	CHECK_EQ_I64(get(&ra, "/api/v1/payments/999999999/receipt"), 404);
	CHECK_EQ_I64(get(&ra, "/api/v1/payments/abc/receipt"), 404);
}

TEST(ledger)
{
	CHECK_EQ_I64(get(&ra, "/api/v1/houses/%lld/ledger", (long long)h1), 200);
	CHECK_EQ_I64(jnum(&ra, "balance_fen"), 655);
	CHECK(cJSON_IsTrue(jget(&ra, "balance_derivable")));
	CHECK_EQ_I64(jnum(&ra, "total"), 3);
	CHECK_STR(jstr(&ra, "items.0.kind"), "settle");
	CHECK_EQ_I64(jnum(&ra, "items.0.amount_fen"), -2000);
	CHECK_EQ_I64(jnum(&ra, "items.0.balance_after_fen"), 655);
	CHECK_EQ_I64(jnum(&ra, "items.1.balance_after_fen"), 2655);
	CHECK_STR(jstr(&ra, "items.2.kind"), "payment");
	CHECK_STR(jstr(&ra, "items.2.kind_zh"), "收款");
	CHECK_EQ_I64(jnum(&ra, "items.2.balance_after_fen"), 15000);
	CHECK_EQ_I64(jnum(&ra, "items.2.payment_id"), pay1);
	/* the window covers the whole account even on a later page */
	CHECK_EQ_I64(get(&ra, "/api/v1/houses/%lld/ledger?page=2&page_size=2", (long long)h1), 200);
	CHECK_EQ_I64(cJSON_GetArraySize(jget(&ra, "items")), 1);
	CHECK_EQ_I64(jnum(&ra, "items.0.balance_after_fen"), 15000);
	/* a balance the ledger does not explain: said so, no invented running balance */
	CHECK_EQ_I64(get(&rb, "/api/v1/houses/%lld/ledger", (long long)h2), 200);
	CHECK_EQ_I64(jnum(&rb, "balance_fen"), 100);
	CHECK(cJSON_IsFalse(jget(&rb, "balance_derivable")));
	CHECK_EQ_I64(jnum(&rb, "total"), 0);
	/* no account at all */
	CHECK_EQ_I64(get(&rb, "/api/v1/houses/%lld/ledger", (long long)h3), 200);
	CHECK_EQ_I64(jnum(&rb, "balance_fen"), 0);
	CHECK_EQ_I64(get(&rb, "/api/v1/houses/%lld/ledger", (long long)h1), 404);
}

/* Creates a notice as staff and returns its id (0 on failure). */
static int64_t notice(const char *community, const char *title, int pinned, const char *extra)
{
	char body[512];

	snprintf(body, sizeof(body), "{\"community_id\":%s,\"title\":\"%s\",\"body\":\"正文：%s\","
		 "\"pinned\":%s%s}", community, title, title, pinned ? "true" : "false", extra);
	CHECK_EQ_I64(client_req(&staff, "POST", A "/notices", body, NULL), 201);
	CHECK_STR(jstr(&staff, "status"), "draft");
	return (int64_t)jnum(&staff, "id");
}

/* POST /admin/api/v1/notices/{id}/{action} without a body. */
static long post_empty(struct client *c, int64_t id, const char *action)
{
	char path[256];

	snprintf(path, sizeof(path), A "/notices/%lld/%s", (long long)id, action);
	return client_req(c, "POST", path, NULL, NULL);
}

/* Position of notice id in the last list reply, -1 if absent. */
static int pos_in(struct client *c, int64_t id)
{
	cJSON *items = jget(c, "items"), *it;
	int i = 0;

	cJSON_ArrayForEach(it, items) {
		cJSON *v = cJSON_GetObjectItemCaseSensitive(it, "id");
		if (cJSON_IsNumber(v) && (int64_t)v->valuedouble == id)
			return i;
		i++;
	}
	return -1;
}

TEST(notices)
{
	char c1[24], c2[24], body[512], longt[400] = "";
	int64_t n1, n2, n3, n4, n5;
	struct client rd;

	snprintf(c1, sizeof(c1), "%lld", (long long)comm1);
	snprintf(c2, sizeof(c2), "%lld", (long long)comm2);
	n1 = notice(c1, "停水通知", 0, "");
	n2 = notice("null", "全体业主公告", 1, "");
	n3 = notice(c2, "清风小区通知", 0, "");
	n4 = notice(c1, "草稿", 0, "");
	n5 = notice(c1, "已过期", 0, ",\"publish_at\":\"2026-01-01T08:00:00+08:00\","
				      "\"expire_at\":\"2026-01-02T00:00:00Z\"");
	CHECK_STR(jstr(&staff, "publish_at"), "2026-01-01T00:00:00.000Z");
	CHECK(n1 > 0 && n2 > 0 && n3 > 0 && n4 > 0 && n5 > 0);
	CHECK_EQ_I64(audits("notice", n1, "create"), 1);
	CHECK_EQ_I64(post_empty(&staff, n1, "publish"), 200);
	CHECK_STR(jstr(&staff, "status"), "published");
	CHECK(jstr(&staff, "publish_at") != NULL);
	CHECK_EQ_I64(post_empty(&staff, n2, "publish"), 200);
	CHECK_EQ_I64(post_empty(&staff, n3, "publish"), 200);
	CHECK_EQ_I64(post_empty(&staff, n5, "publish"), 200);
	CHECK_EQ_I64(audits("notice", n1, "publish"), 1);
	/* publishing twice is refused */
	CHECK_EQ_I64(post_empty(&staff, n2, "publish"), 409);
	CHECK_STR(jcode(&staff), "CONFLICT");

	/* ra (community 1): the all-community notice pinned first, then n1 */
	CHECK_EQ_I64(get(&ra, "/api/v1/notices?page_size=200"), 200);
	CHECK(pos_in(&ra, n2) >= 0 && pos_in(&ra, n1) > pos_in(&ra, n2));
	CHECK(cJSON_IsTrue(jget(&ra, "items.0.pinned")));
	CHECK_EQ_I64(pos_in(&ra, n3), -1);
	CHECK_EQ_I64(pos_in(&ra, n4), -1);
	CHECK_EQ_I64(pos_in(&ra, n5), -1);
	CHECK_EQ_I64(get(&ra, "/api/v1/notices/%lld", (long long)n1), 200);
	CHECK_STR(jstr(&ra, "body"), "正文：停水通知");
	CHECK_STR(jstr(&ra, "title"), "停水通知");
	/* another community's notice, a draft, an expired one: 404 */
	CHECK_EQ_I64(get(&ra, "/api/v1/notices/%lld", (long long)n3), 404);
	CHECK(!jget(&ra, "body"));
	CHECK_EQ_I64(get(&ra, "/api/v1/notices/%lld", (long long)n4), 404);
	CHECK_EQ_I64(get(&ra, "/api/v1/notices/%lld", (long long)n5), 404);
	/* rb has houses in both communities */
	CHECK_EQ_I64(get(&rb, "/api/v1/notices?page_size=200"), 200);
	CHECK(pos_in(&rb, n3) >= 0 && pos_in(&rb, n1) >= 0 && pos_in(&rb, n2) >= 0);
	CHECK_EQ_I64(get(&rb, "/api/v1/notices/%lld", (long long)n3), 200);

	/* withdrawn: gone for residents; only published notices can be withdrawn */
	CHECK_EQ_I64(post_empty(&staff, n1, "withdraw"), 200);
	CHECK_STR(jstr(&staff, "status"), "withdrawn");
	CHECK_EQ_I64(audits("notice", n1, "withdraw"), 1);
	CHECK_EQ_I64(get(&ra, "/api/v1/notices/%lld", (long long)n1), 404);
	CHECK_EQ_I64(post_empty(&staff, n1, "withdraw"), 409);
	CHECK_EQ_I64(post_empty(&staff, n4, "withdraw"), 409);
	CHECK_EQ_I64(post_empty(&staff, 999999999, "withdraw"), 404);

	/* edit */
	snprintf(body, sizeof(body), "{\"community_id\":%s,\"title\":\"草稿二\",\"body\":\"改过\"}", c1);
	snprintf(longt, sizeof(longt), A "/notices/%lld", (long long)n4);
	CHECK_EQ_I64(client_req(&staff, "PUT", longt, body, NULL), 200);
	CHECK_STR(jstr(&staff, "title"), "草稿二");
	CHECK_EQ_I64(audits("notice", n4, "update"), 1);
	CHECK_EQ_I64(client_req(&staff, "GET", longt, NULL, NULL), 200);
	CHECK_STR(jstr(&staff, "body"), "改过");
	CHECK_EQ_I64(get(&staff, A "/notices?community_id=%lld&status=withdrawn", (long long)comm1), 200);
	CHECK_EQ_I64(jnum(&staff, "total"), 1);
	CHECK_EQ_I64(jnum(&staff, "items.0.id"), n1);

	/* validation */
	memset(longt, 0, sizeof(longt));
	for (int i = 0; i < 101; i++)
		longt[i] = 'x';
	snprintf(body, sizeof(body), "{\"title\":\"%s\",\"body\":\"b\"}", longt);
	CHECK_EQ_I64(client_req(&staff, "POST", A "/notices", body, NULL), 400);
	CHECK_STR(jstr(&staff, "field"), "title");
	CHECK_EQ_I64(client_req(&staff, "POST", A "/notices",
				"{\"title\":\"t\",\"body\":\"b\",\"publish_at\":\"2026-12-01 08:00:00\"}",
				NULL), 400);
	CHECK_STR(jstr(&staff, "field"), "publish_at");
	CHECK_EQ_I64(client_req(&staff, "POST", A "/notices",
				"{\"title\":\"t\",\"body\":\"b\",\"publish_at\":\"2026-12-02T00:00:00Z\","
				"\"expire_at\":\"2026-12-02T07:59:59+08:00\"}", NULL), 400);
	CHECK_STR(jstr(&staff, "field"), "expire_at");
	CHECK_EQ_I64(client_req(&staff, "POST", A "/notices",
				"{\"title\":\"t\",\"body\":\"b\",\"community_id\":999999999}", NULL), 400);
	CHECK_EQ_I64(client_req(&staff, "POST", A "/notices", "{\"title\":\"t\"}", NULL), 400);
	CHECK_STR(jstr(&staff, "field"), "body");
	/* residents cannot reach the console side */
	CHECK_EQ_I64(client_req(&ra, "POST", A "/notices", "{\"title\":\"t\",\"body\":\"b\"}", NULL), 401);

	/* a reader-role staff member reads notices but cannot edit them */
	{
		char user[64], path[128];

		snprintf(user, sizeof(user), "rdn%s", uniq);
		snprintf(body, sizeof(body),
			 "{\"username\":\"%s\",\"password\":\"Reader2026x\",\"role\":\"reader\"}", user);
		CHECK_EQ_I64(client_req(&staff, "POST", A "/staff", body, NULL), 201);
		client_init(&rd);
		CHECK_EQ_I64(client_login(&rd, user, "Reader2026x"), 200);
		CHECK_EQ_I64(client_req(&rd, "GET", A "/notices", NULL, NULL), 200);
		CHECK_EQ_I64(client_req(&rd, "POST", A "/notices", "{\"title\":\"t\",\"body\":\"b\"}",
					NULL), 403);
		CHECK_STR(jcode(&rd), "FORBIDDEN");
		snprintf(path, sizeof(path), A "/notices/%lld", (long long)n4);
		CHECK_EQ_I64(client_req(&rd, "PUT", path, "{\"title\":\"t\",\"body\":\"b\"}", NULL), 403);
		CHECK_EQ_I64(post_empty(&rd, n4, "publish"), 403);
		CHECK_EQ_I64(post_empty(&rd, n2, "withdraw"), 403);
		CHECK_EQ_I64(client_req(&rd, "GET", A "/tickets", NULL, NULL), 403);
		client_release(&rd);
		/* nothing changed, nothing audited for the refused calls */
		CHECK_EQ_I64(audits("notice", n4, "update"), 1);
		CHECK_EQ_I64(audits("notice", n4, "publish"), 0);
	}
}

static long put_ticket(int64_t id, const char *body)
{
	char path[128];

	snprintf(path, sizeof(path), A "/tickets/%lld", (long long)id);
	return client_req(&staff, "PUT", path, body, NULL);
}

TEST(tickets)
{
	char body[1024], longt[200];
	int64_t admin_id = one(&q_staff_id, "admin", 0, NULL);
	long st = 0;
	int i;

	snprintf(body, sizeof(body), "{\"house_id\":%lld,\"kind\":\"repair\",\"title\":\"楼道灯不亮\","
		 "\"content\":\"3号楼2单元5楼的灯坏了\",\"contact_mobile\":\"139-0000 1111\"}",
		 (long long)h1);
	CHECK_EQ_I64(client_req(&ra, "POST", "/api/v1/tickets", body, NULL), 201);
	ticket1 = (int64_t)jnum(&ra, "id");
	CHECK(ticket1 > 0);
	CHECK_STR(jstr(&ra, "status"), "open");
	CHECK_STR(jstr(&ra, "status_zh"), "待处理");
	CHECK_EQ_I64(jnum(&ra, "community_id"), comm1);
	CHECK_EQ_I64(jnum(&ra, "house_id"), h1);

	/* validation and ownership */
	snprintf(body, sizeof(body), "{\"house_id\":%lld,\"kind\":\"repair\",\"title\":\"t\","
		 "\"content\":\"c\"}", (long long)h2);
	CHECK_EQ_I64(client_req(&ra, "POST", "/api/v1/tickets", body, NULL), 404);
	snprintf(body, sizeof(body), "{\"house_id\":%lld,\"kind\":\"praise\",\"title\":\"t\","
		 "\"content\":\"c\"}", (long long)h1);
	CHECK_EQ_I64(client_req(&ra, "POST", "/api/v1/tickets", body, NULL), 400);
	CHECK_STR(jstr(&ra, "field"), "kind");
	memset(longt, 0, sizeof(longt));
	for (i = 0; i < 101; i++)
		longt[i] = 'y';
	snprintf(body, sizeof(body), "{\"house_id\":%lld,\"kind\":\"feedback\",\"title\":\"%s\","
		 "\"content\":\"c\"}", (long long)h1, longt);
	CHECK_EQ_I64(client_req(&ra, "POST", "/api/v1/tickets", body, NULL), 400);
	CHECK_STR(jstr(&ra, "field"), "title");
	snprintf(body, sizeof(body), "{\"house_id\":%lld,\"kind\":\"feedback\",\"title\":\"t\"}",
		 (long long)h1);
	CHECK_EQ_I64(client_req(&ra, "POST", "/api/v1/tickets", body, NULL), 400);
	CHECK_STR(jstr(&ra, "field"), "content");
	snprintf(body, sizeof(body), "{\"house_id\":%lld,\"kind\":\"feedback\",\"title\":\"t\","
		 "\"content\":\"c\",\"contact_mobile\":\"call me\"}", (long long)h1);
	CHECK_EQ_I64(client_req(&ra, "POST", "/api/v1/tickets", body, NULL), 400);
	CHECK_STR(jstr(&ra, "field"), "contact_mobile");

	/* own tickets only */
	CHECK_EQ_I64(get(&ra, "/api/v1/tickets"), 200);
	CHECK_EQ_I64(jnum(&ra, "total"), 1);
	CHECK_EQ_I64(jnum(&ra, "items.0.id"), ticket1);
	CHECK_EQ_I64(get(&rb, "/api/v1/tickets/%lld", (long long)ticket1), 404);
	CHECK(!jget(&rb, "title"));
	CHECK_EQ_I64(get(&rb, "/api/v1/tickets"), 200);
	CHECK_EQ_I64(pos_in(&rb, ticket1), -1);

	/* the staff queue and the status machine */
	CHECK_EQ_I64(get(&staff, A "/tickets?community_id=%lld&kind=repair&status=open",
			 (long long)comm1), 200);
	CHECK_EQ_I64(jnum(&staff, "total"), 1);
	CHECK_EQ_I64(jnum(&staff, "items.0.id"), ticket1);
	CHECK_EQ_I64(get(&staff, A "/tickets?community_id=%lld&kind=billing", (long long)comm1), 200);
	CHECK_EQ_I64(jnum(&staff, "total"), 0);
	CHECK_EQ_I64(get(&staff, A "/tickets?status=lost"), 400);
	CHECK_EQ_I64(put_ticket(ticket1, "{\"status\":\"in_progress\"}"), 409);
	CHECK(jstr(&staff, "message") && strstr(jstr(&staff, "message"), "处理中"));
	CHECK_EQ_I64(put_ticket(ticket1, "{\"status\":\"assigned\"}"), 400);
	CHECK_STR(jstr(&staff, "field"), "assigned_to");
	CHECK_EQ_I64(put_ticket(ticket1, "{\"status\":\"assigned\",\"assigned_to\":999999999}"), 400);
	snprintf(body, sizeof(body), "{\"status\":\"assigned\",\"assigned_to\":%lld}", (long long)admin_id);
	CHECK_EQ_I64(put_ticket(ticket1, body), 200);
	CHECK_STR(jstr(&staff, "status"), "assigned");
	CHECK_STR(jstr(&staff, "assigned_username"), "admin");
	CHECK_EQ_I64(put_ticket(ticket1, "{\"status\":\"in_progress\"}"), 200);
	CHECK_EQ_I64(put_ticket(ticket1, "{\"status\":\"resolved\"}"), 400);
	CHECK_STR(jstr(&staff, "field"), "resolution");
	CHECK_EQ_I64(put_ticket(ticket1, "{\"status\":\"resolved\",\"resolution\":\"已更换灯泡\"}"), 200);
	CHECK_EQ_I64(put_ticket(ticket1, "{\"status\":\"open\"}"), 409);
	CHECK_EQ_I64(put_ticket(ticket1, "{\"status\":\"closed\"}"), 200);
	CHECK(jstr(&staff, "closed_at") != NULL);
	CHECK_EQ_I64(put_ticket(ticket1, "{\"resolution\":\"改口\"}"), 409);
	CHECK_EQ_I64(put_ticket(999999999, "{\"status\":\"closed\"}"), 404);
	CHECK_EQ_I64(audits("ticket", ticket1, "update"), 4);
	/* the resident sees the outcome */
	CHECK_EQ_I64(get(&ra, "/api/v1/tickets/%lld", (long long)ticket1), 200);
	CHECK_STR(jstr(&ra, "status"), "closed");
	CHECK_STR(jstr(&ra, "resolution"), "已更换灯泡");
	CHECK(!jget(&ra, "assigned_to"));

	/* throttled: rb may open 10 in a day, the 11th is 429 and not stored */
	snprintf(body, sizeof(body), "{\"house_id\":%lld,\"kind\":\"feedback\",\"title\":\"建议\","
		 "\"content\":\"多种树\"}", (long long)h3);
	for (i = 0; i < 10; i++)
		if ((st = client_req(&rb, "POST", "/api/v1/tickets", body, NULL)) != 201)
			break;
	CHECK_EQ_I64(i, 10);
	CHECK_EQ_I64(client_req(&rb, "POST", "/api/v1/tickets", body, NULL), 429);
	CHECK_STR(jcode(&rb), "TOO_MANY_ATTEMPTS");
	CHECK_EQ_I64(get(&rb, "/api/v1/tickets?page_size=50"), 200);
	CHECK_EQ_I64(jnum(&rb, "total"), 10);
	CHECK_EQ_I64(get(&staff, A "/tickets?community_id=%lld", (long long)comm2), 200);
	CHECK_EQ_I64(jnum(&staff, "total"), 10);
	(void)st;
}

int main(void)
{
	const char *conf = getenv("XQ_CONFIG");
	char err[256];
	int64_t ua, ub;

	if (!conf) {
		fprintf(stderr, "test_resident_api: XQ_CONFIG is required\n");
		return 1;
	}
	if (config_load(&cfg, conf, err, sizeof(err))) {
		fprintf(stderr, "test_resident_api: %s\n", err);
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	db_library_init();
	if (db_open(&db, &cfg) != XQ_OK) {
		fprintf(stderr, "test_resident_api: no database\n");
		return 1;
	}
	snprintf(uniq, sizeof(uniq), "%lx%x", (unsigned long)time(NULL), (unsigned)getpid());
	client_init(&staff);
	client_init(&ra);
	client_init(&rb);
	CHECK_EQ_I64(client_login(&staff, "admin", ADMIN_PW), 200);
	ua = login(&ra, "rapi-a");
	ub = login(&rb, "rapi-b");
	CHECK(ua > 0 && ub > 0 && ua != ub);
	seed(ua, ub);
	RUN(meters);
	RUN(readings);
	RUN(usage_daily);
	RUN(usage_monthly);
	RUN(payments_and_receipt);
	RUN(ledger);
	RUN(notices);
	RUN(tickets);
	client_release(&staff);
	client_release(&ra);
	client_release(&rb);
	db_close(db);
	config_release(&cfg);
	return test_report();
}
