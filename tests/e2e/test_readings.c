/*
 * test_readings.c - readings end to end through nginx (docs/readings.md):
 * manual entry (ok, backwards, rollover, spike, beyond digits, duplicate,
 * a reading inserted between two others), the rollups after each change,
 * the review queue (approve, correct, reject) and what billing sees, CSV
 * import (dry run, real, re-import), the reader mode (Bearer login, route,
 * a batch synced twice), permissions and audit rows. Estate rows are made
 * straight in MariaDB (XQ_CONFIG); everything else goes through the API.
 */
#include "client.h"
#include "config.h"
#include "db.h"
#include "test.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ADMIN_PW                                                                                   \
	(getenv("XQ_TEST_ADMIN_PASSWORD") ? getenv("XQ_TEST_ADMIN_PASSWORD") : "Xiaoqu@2026")
#define A         "/admin/api/v1"
#define READER_PW "Reader2026x"

DB_QUERY(q_t_comm) = {
    "t_rd_comm",
    "INSERT INTO community (code, name) VALUES (?, ?)",
    "ss",
    NULL,
};
DB_QUERY(q_t_bldg) = {
    "t_rd_bldg",
    "INSERT INTO building (community_id, name) VALUES (?, ?)",
    "ls",
    NULL,
};
DB_QUERY(q_t_house) = {
    "t_rd_house",
    "INSERT INTO house (building_id, unit_no, room) VALUES (?, '1', ?)",
    "ls",
    NULL,
};
DB_QUERY(q_t_reading) = {
    "t_rd_reading",
    "SELECT value, status, flag_reason, source, entered_by FROM meter_reading"
    " WHERE meter_id = ? AND read_at = ?",
    "ls",
    "lsssl",
};
DB_QUERY(q_t_count) = {
    "t_rd_count",
    "SELECT COUNT(*) FROM meter_reading WHERE meter_id = ?",
    "l",
    "l",
};
DB_QUERY(q_t_alert) = {
    "t_rd_alert",
    "SELECT status FROM alert WHERE dedup_key = ?",
    "s",
    "s",
};
DB_QUERY(q_t_daily) = {
    "t_rd_daily",
    "SELECT usage_total FROM meter_usage_daily WHERE meter_id = ? AND day = ?",
    "ls",
    "l",
};
DB_QUERY(q_t_audit) = {
    "t_rd_audit",
    "SELECT COUNT(*), MAX(JSON_EXTRACT(before_json, '$.value')), MAX(JSON_EXTRACT(after_json, "
    "'$.value'))"
    " FROM audit_log WHERE entity = 'meter_reading' AND entity_id = ? AND action = ?",
    "ls",
    "lss",
};

static struct client c, rd, nob;
static struct config cfg;
static struct db *db;
static char uniq[32];
static long community_id, building_id, house_id[3], m1, m2, m3, m4, reader_id;
static char m1no[40], m2no[40], m3no[40];

static void bearer(struct client *x, const char *token)
{
	curl_easy_setopt(x->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
	curl_easy_setopt(x->curl, CURLOPT_XOAUTH2_BEARER, token);
}

static long meter_create(const char *no, long house, int digits, long initial)
{
	char body[512];

	snprintf(
	    body, sizeof(body),
	    "{\"community_id\":%ld,\"utility\":\"electric\",\"house_id\":%ld,\"meter_no\":\"%s\","
	    "\"installed_at\":\"2026-09-20\",\"digits\":%d,\"initial_reading\":%ld}",
	    community_id, house, no, digits, initial);
	CHECK_EQ_I64(client_req(&c, "POST", A "/meters", body, NULL), 201);
	return (long)jnum(&c, "id");
}

static void seed(void)
{
	char code[40], name[64];
	static const char *rooms[3] = {"101", "102", "103"};

	snprintf(code, sizeof(code), "RD%s", uniq);
	snprintf(name, sizeof(name), "抄表测试小区%s", uniq);
	CHECK_EQ_I64(db_run(db, &q_t_comm, NULL, code, name), XQ_OK);
	community_id = (long)db_insert_id(db);
	CHECK_EQ_I64(db_run(db, &q_t_bldg, NULL, (int64_t)community_id, "1号楼"), XQ_OK);
	building_id = (long)db_insert_id(db);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ_I64(db_run(db, &q_t_house, NULL, (int64_t)building_id, rooms[i]), XQ_OK);
		house_id[i] = (long)db_insert_id(db);
	}
	snprintf(m1no, sizeof(m1no), "RDA%s", uniq);
	snprintf(m2no, sizeof(m2no), "RDB%s", uniq);
	snprintf(m3no, sizeof(m3no), "RDC%s", uniq);
	m1 = meter_create(m1no, house_id[0], 6, 1000000);
	m2 = meter_create(m2no, house_id[1], 4, 9990000); /* 9990 kWh of a 10000 kWh register */
	m3 = meter_create(m3no, house_id[2], 6, 500000);
	/* a second building: not in the reader's assignment; its meter gets a history */
	{
		char m4no[40];
		long b2, h4;

		CHECK_EQ_I64(db_run(db, &q_t_bldg, NULL, (int64_t)community_id, "2号楼"), XQ_OK);
		b2 = (long)db_insert_id(db);
		CHECK_EQ_I64(db_run(db, &q_t_house, NULL, (int64_t)b2, "201"), XQ_OK);
		h4 = (long)db_insert_id(db);
		snprintf(m4no, sizeof(m4no), "RDD%s", uniq);
		m4 = meter_create(m4no, h4, 6, 2000000);
	}
}

/* POST a manual reading of meter m; returns the status. */
static long enter(struct client *x, long m, const char *at, long value)
{
	char path[96], body[160];

	snprintf(path, sizeof(path), A "/meters/%ld/readings", m);
	snprintf(body, sizeof(body), "{\"read_at\":\"%s\",\"value\":%ld}", at, value);
	return client_req(x, "POST", path, body, NULL);
}

/* The stored reading at UTC "YYYY-MM-DD HH:MM:SS": value, or -1 if none; status into st. */
static int64_t stored(long m, const char *at, char *st, size_t n)
{
	struct db_res r;
	int64_t v = -1;

	CHECK_EQ_I64(db_run(db, &q_t_reading, &r, (int64_t)m, at), XQ_OK);
	if (r.nrows == 1) {
		v = db_i64(&r, 0, 0);
		if (st)
			snprintf(st, n, "%s", db_str(&r, 0, 1));
	}
	db_res_release(&r);
	return v;
}

static int64_t daily(long m, const char *day)
{
	struct db_res r;
	int64_t v = -1;

	CHECK_EQ_I64(db_run(db, &q_t_daily, &r, (int64_t)m, day), XQ_OK);
	if (r.nrows == 1)
		v = db_i64(&r, 0, 0);
	db_res_release(&r);
	return v;
}

static const char *alert_status(long m, const char *at_utc_rfc)
{
	static char st[16];
	struct db_res r;
	char key[96];
	int64_t ms = 0;
	struct tm tm = {0};

	/* "YYYY-MM-DDTHH:MM:SSZ" -> seconds */
	strptime(at_utc_rfc, "%Y-%m-%dT%H:%M:%SZ", &tm);
	ms = (int64_t)timegm(&tm);
	snprintf(key, sizeof(key), "reading_flagged:%ld:%lld", m, (long long)ms);
	CHECK_EQ_I64(db_run(db, &q_t_alert, &r, key), XQ_OK);
	snprintf(st, sizeof(st), "%s", r.nrows == 1 ? db_str(&r, 0, 0) : "none");
	db_res_release(&r);
	return st;
}

static int has_warning(struct client *x, const char *needle)
{
	cJSON *w = jget(x, "warnings"), *it;

	cJSON_ArrayForEach(it,
	                   w) if (cJSON_IsString(it) && strstr(it->valuestring, needle)) return 1;
	return 0;
}

TEST(manual_entry_rules)
{
	char st[16];

	/* ok: 100 kWh over 20 days; China time in, UTC stored */
	CHECK_EQ_I64(enter(&c, m1, "2026-10-10T10:00:00+08:00", 1100000), 201);
	CHECK_EQ_I64(jnum(&c, "reading.value"), 1100000);
	CHECK_STR(jstr(&c, "reading.status"), "ok");
	CHECK_STR(jstr(&c, "reading.source"), "manual");
	CHECK_STR(jstr(&c, "reading.read_at"), "2026-10-10T02:00:00.000Z");
	CHECK(jnum(&c, "reading.entered_by") > 0);
	CHECK_EQ_I64(cJSON_GetArraySize(jget(&c, "warnings")), 0);
	CHECK_EQ_I64(daily(m1, "2026-10-10"), 100000);

	/* the same instant again: refused, never overwritten */
	CHECK_EQ_I64(enter(&c, m1, "2026-10-10T02:00:00Z", 1200000), 409);
	CHECK_STR(jcode(&c), "CONFLICT");
	CHECK(jstr(&c, "message") && strstr(jstr(&c, "message"), "已有读数"));
	CHECK_EQ_I64(enter(&c, m1, "2026-10-10T10:00:00+08:00", 1100000), 409);
	CHECK_EQ_I64(stored(m1, "2026-10-10 02:00:00", NULL, 0), 1100000);

	/* backwards: stored flagged with an alert, Chinese warning */
	CHECK_EQ_I64(enter(&c, m1, "2026-10-12T10:00:00+08:00", 1050000), 201);
	CHECK_EQ_I64(jget(&c, "flagged")->valueint, 1);
	CHECK_STR(jstr(&c, "flag_reason"), "backwards");
	CHECK_STR(jstr(&c, "reading.status"), "flagged");
	CHECK(has_warning(&c, "倒走"));
	CHECK_STR(alert_status(m1, "2026-10-12T02:00:00Z"), "open");
	/* a flagged reading is not used by the rollup: no day row */
	CHECK_EQ_I64(daily(m1, "2026-10-12"), -1);

	/* beyond the register: 10^6 kWh on a 6-digit meter */
	CHECK_EQ_I64(enter(&c, m1, "2026-10-13T10:00:00+08:00", 1000000000), 201);
	CHECK_STR(jstr(&c, "flag_reason"), "beyond_digits");
	CHECK(has_warning(&c, "位数"));

	/* spike: 2000 kWh in 4 days is more than 15 kW x 96 h */
	CHECK_EQ_I64(enter(&c, m1, "2026-10-14T10:00:00+08:00", 3100000), 201);
	CHECK_STR(jstr(&c, "flag_reason"), "spike");
	CHECK(has_warning(&c, "上限"));

	/* rollover: 9990 kWh -> 5 kWh on a 4-digit register is 15 kWh, accepted */
	CHECK_EQ_I64(enter(&c, m2, "2026-10-01T10:00:00+08:00", 5000), 201);
	CHECK_EQ_I64(jget(&c, "flagged")->valueint, 0);
	CHECK_STR(jstr(&c, "flag_reason"), "rollover");
	CHECK(stored(m2, "2026-10-01 02:00:00", st, sizeof(st)) == 5000 && !strcmp(st, "ok"));
	CHECK_EQ_I64(daily(m2, "2026-10-01"), 15000);

	/* bad input */
	CHECK_EQ_I64(enter(&c, m1, "2026-10-32T10:00:00+08:00", 1), 400);
	CHECK_EQ_I64(enter(&c, m1, "2026-09-01T10:00:00+08:00", 1), 400); /* before installation */
	CHECK_EQ_I64(enter(&c, m1, "2030-01-01T10:00:00+08:00", 1), 400); /* future */
	CHECK_EQ_I64(enter(&c, 999999999, "2026-10-10T10:00:00+08:00", 1), 404);
	{
		char path[96];

		snprintf(path, sizeof(path), A "/meters/%ld/readings", m1);
		/* rate registers that do not add up to the total */
		CHECK_EQ_I64(
		    client_req(
		        &c, "POST", path,
		        "{\"read_at\":\"2026-10-16T10:00:00+08:00\",\"value\":1160000,"
		        "\"value_sharp\":1,\"value_peak\":2,\"value_flat\":3,\"value_valley\":4}",
		        NULL),
		    400);
		CHECK_STR(jstr(&c, "field"), "value");
	}
}

TEST(neighbours_of_a_past_insert)
{
	CHECK_EQ_I64(enter(&c, m1, "2026-10-20T10:00:00+08:00", 1200000), 201);
	CHECK_EQ_I64(daily(m1, "2026-10-20"), 100000);
	/* dated between 10-10 (1100 kWh) and 10-20 (1200 kWh) but above the later one */
	CHECK_EQ_I64(enter(&c, m1, "2026-10-15T10:00:00+08:00", 1250000), 201);
	CHECK_STR(jstr(&c, "flag_reason"), "above_next");
	CHECK(has_warning(&c, "其后"));
	/* in between: fine, and the later day's usage now starts from it */
	CHECK_EQ_I64(enter(&c, m1, "2026-10-15T12:00:00+08:00", 1150000), 201);
	CHECK_EQ_I64(jget(&c, "flagged")->valueint, 0);
	CHECK_EQ_I64(daily(m1, "2026-10-15"), 50000);
	CHECK_EQ_I64(daily(m1, "2026-10-20"), 50000);
}

TEST(latest_history_usage)
{
	char path[160];
	cJSON *items, *it;
	int seen = 0;

	snprintf(path, sizeof(path), A "/readings/latest?community_id=%ld&page_size=50",
	         community_id);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	CHECK_EQ_I64(jnum(&c, "total"), 4);
	items = jget(&c, "items");
	cJSON_ArrayForEach(it, items)
	{
		long id = (long)cJSON_GetObjectItem(it, "meter_id")->valuedouble;

		if (id == m1) {
			seen++;
			CHECK_EQ_I64((long)cJSON_GetObjectItem(it, "value")->valuedouble, 1200000);
			CHECK_STR(cJSON_GetObjectItem(it, "status")->valuestring, "ok");
			CHECK(cJSON_GetObjectItem(it, "days_since")->valuedouble >= 40);
		}
		if (id == m2) {
			seen++;
			CHECK_EQ_I64((long)cJSON_GetObjectItem(it, "value")->valuedouble, 5000);
		}
	}
	CHECK_EQ_I64(seen, 2);
	snprintf(path, sizeof(path), A "/readings/latest?community_id=%ld&q=%s", community_id,
	         m2no);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	CHECK_EQ_I64(jnum(&c, "total"), 1);

	/* history: newest first, bounded range */
	snprintf(path, sizeof(path),
	         A "/meters/%ld/readings?from=2026-10-01&to=2026-10-31&page_size=3", m1);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	CHECK_EQ_I64(jnum(&c, "total"), 7);
	CHECK_STR(jstr(&c, "items.0.read_at"), "2026-10-20T02:00:00.000Z");
	CHECK_EQ_I64(jnum(&c, "items.0.read_at_ms"), 1792461600000.0);
	CHECK_STR(jstr(&c, "items.1.read_at"), "2026-10-15T04:00:00.000Z");
	snprintf(path, sizeof(path), A "/meters/%ld/readings?from=2025-01-01&to=2026-10-31", m1);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 400);

	/* usage from the rollups */
	snprintf(path, sizeof(path),
	         A "/meters/%ld/usage?granularity=day&from=2026-10-01&to=2026-10-31", m1);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	CHECK_STR(jstr(&c, "unit"), "Wh");
	CHECK_EQ_I64(cJSON_GetArraySize(jget(&c, "items")), 3);
	CHECK_STR(jstr(&c, "items.0.day"), "2026-10-10");
	CHECK_EQ_I64(jnum(&c, "items.0.usage_total"), 100000);
	snprintf(path, sizeof(path),
	         A "/meters/%ld/usage?granularity=month&from=2026-09-01&to=2026-10-31", m1);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	CHECK_STR(jstr(&c, "items.1.month"), "2026-10");
	CHECK_EQ_I64(jnum(&c, "items.1.usage_total"), 200000);
}

static long run_billing(void)
{
	char body[128], path[96];
	long job;

	snprintf(body, sizeof(body), "{\"period\":\"2026-10\",\"community_id\":%ld}", community_id);
	CHECK_EQ_I64(client_req(&c, "POST", A "/billing/runs", body, NULL), 202);
	job = (long)jnum(&c, "job_id");
	snprintf(path, sizeof(path), A "/billing/runs/%ld", job);
	for (int i = 0; i < 600; i++) {
		CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
		if (jstr(&c, "state") && strcmp(jstr(&c, "state"), "running"))
			break;
		usleep(100000);
	}
	CHECK_STR(jstr(&c, "state"), "done");
	return job;
}

/* Whether the last run's summary lists house h as skipped with code. */
static int skipped(long h, const char *code)
{
	cJSON *a = jget(&c, "summary.skipped_houses"), *it;

	cJSON_ArrayForEach(
	    it, a) if ((long)cJSON_GetObjectItem(it, "house_id")->valuedouble == h &&
	               !strcmp(cJSON_GetObjectItem(it, "code")->valuestring, code)) return 1;
	return 0;
}

TEST(review_queue_and_billing)
{
	char path[200], body[256];
	long tid;
	struct db_res r;

	/* a tariff for house 103 only */
	snprintf(body, sizeof(body),
	         "{\"code\":\"RD-%s\",\"name\":\"抄表测试电价\",\"utility\":\"electric\"}", uniq);
	CHECK_EQ_I64(client_req(&c, "POST", A "/tariffs", body, NULL), 201);
	tid = (long)jnum(&c, "id");
	snprintf(path, sizeof(path), A "/tariffs/%ld/versions", tid);
	CHECK_EQ_I64(
	    client_req(&c, "POST", path,
	               "{\"effective_from\":\"2026-01-01\",\"rules\":{\"utility\":\"electric\","
	               "\"basis\":\"monthly\",\"tiers\":[{\"upto_kwh\":1000,\"price\":\"0.5\"},"
	               "{\"price\":\"0.8\"}]}}",
	               NULL),
	    201);
	snprintf(body, sizeof(body),
	         "{\"tariff_id\":%ld,\"valid_from\":\"2026-01-01\",\"house_ids\":[%ld]}", tid,
	         house_id[2]);
	CHECK_EQ_I64(client_req(&c, "POST", A "/tariff-assignments", body, NULL), 201);

	/* the closing reading of 103 is absurd: flagged, so billing skips the house */
	CHECK_EQ_I64(enter(&c, m3, "2026-10-31T10:00:00+08:00", 20000000), 201);
	CHECK_STR(jstr(&c, "flag_reason"), "spike");
	run_billing();
	CHECK(skipped(house_id[2], "reading_flagged"));

	/* the queue shows it with its neighbours */
	snprintf(path, sizeof(path), A "/readings/review?community_id=%ld&page_size=50",
	         community_id);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	CHECK_EQ_I64(jnum(&c, "total"), 5); /* backwards, beyond_digits, spike, above_next, spike */
	CHECK_EQ_I64(jnum(&c, "items.0.meter_id"), m3);
	CHECK_EQ_I64(jnum(&c, "items.0.prev_value"), 500000);
	CHECK(jget(&c, "items.0.next_value") && cJSON_IsNull(jget(&c, "items.0.next_value")));
	snprintf(path, sizeof(path), A "/readings/review?community_id=%ld&reason=backwards",
	         community_id);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	CHECK_EQ_I64(jnum(&c, "total"), 1);
	CHECK_EQ_I64(jnum(&c, "items.0.value"), 1050000);
	CHECK_EQ_I64(jnum(&c, "items.0.prev_value"), 1100000);
	CHECK_EQ_I64(jnum(&c, "items.0.next_value"), 1150000);

	/* correct: 300 kWh really; the original stays in the audit row */
	snprintf(path, sizeof(path), A "/readings/%ld/%lld/correct", m3, 1793412000000LL);
	CHECK_EQ_I64(client_req(&c, "POST", path, "{\"value\":800000}", NULL),
	             400); /* reason required */
	CHECK_EQ_I64(
	    client_req(&c, "POST", path, "{\"value\":800000,\"reason\":\"多抄了一位\"}", NULL),
	    200);
	CHECK_STR(jstr(&c, "reading.status"), "corrected");
	CHECK_EQ_I64(jnum(&c, "reading.value"), 800000);
	CHECK_STR(alert_status(m3, "2026-10-31T02:00:00Z"), "closed");
	CHECK_EQ_I64(daily(m3, "2026-10-31"), 300000);
	CHECK_EQ_I64(db_run(db, &q_t_audit, &r, (int64_t)m3, "correct"), XQ_OK);
	CHECK_EQ_I64(db_i64(&r, 0, 0), 1);
	CHECK_STR(db_str(&r, 0, 1), "20000000");
	CHECK_STR(db_str(&r, 0, 2), "800000");
	db_res_release(&r);
	/* now billed: 300 kWh x 0.5 = 150.00 */
	run_billing();
	CHECK(!skipped(house_id[2], "reading_flagged"));
	snprintf(path, sizeof(path), A "/bills?community_id=%ld&period=2026-10", community_id);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	CHECK_EQ_I64(jnum(&c, "total"), 1);
	CHECK_EQ_I64(jnum(&c, "items.0.house_id"), house_id[2]);
	CHECK_EQ_I64(jnum(&c, "items.0.amount_fen"), 15000);

	/* approve the spike of m1 (10-14, 3100 kWh): the rollup takes it */
	snprintf(path, sizeof(path), A "/readings/%ld/%lld/approve", m1, 1791943200000LL);
	CHECK_EQ_I64(client_req(&c, "POST", path, NULL, NULL), 200);
	CHECK_STR(jstr(&c, "reading.status"), "ok");
	CHECK_EQ_I64(daily(m1, "2026-10-14"), 2000000);
	CHECK_STR(alert_status(m1, "2026-10-14T02:00:00Z"), "closed");
	CHECK_EQ_I64(client_req(&c, "POST", path, NULL, NULL), 409); /* not flagged any more */
	/* then reject it after all: gone from the rollup, the next day counts from 10-10 again */
	snprintf(path, sizeof(path), A "/readings/%ld/%lld/reject", m1, 1791943200000LL);
	CHECK_EQ_I64(client_req(&c, "POST", path, "{}", NULL), 400);
	CHECK_EQ_I64(client_req(&c, "POST", path, "{\"reason\":\"表计检定后确认误读\"}", NULL),
	             200);
	CHECK_STR(jstr(&c, "reading.status"), "rejected");
	CHECK_EQ_I64(daily(m1, "2026-10-14"), -1);
	CHECK_EQ_I64(daily(m1, "2026-10-15"), 50000);
	CHECK_EQ_I64(db_run(db, &q_t_audit, &r, (int64_t)m1, "approve"), XQ_OK);
	CHECK_EQ_I64(db_i64(&r, 0, 0), 1);
	db_res_release(&r);
	CHECK_EQ_I64(db_run(db, &q_t_audit, &r, (int64_t)m1, "reject"), XQ_OK);
	CHECK_EQ_I64(db_i64(&r, 0, 0), 1);
	db_res_release(&r);
	/* unknown reading */
	snprintf(path, sizeof(path), A "/readings/%ld/%lld/approve", m1, 1791943200001LL);
	CHECK_EQ_I64(client_req(&c, "POST", path, NULL, NULL), 404);
}

TEST(reader_mode)
{
	char body[1024], path[96];
	long sid;
	const char *tok;
	char token[80];
	struct db_res r;
	static const char batch_fmt[] = "{\"entries\":[{\"client_id\":\"%s-1\",\"meter_id\":%ld,"
	                                "\"read_at\":\"2026-12-01T09:00:00+08:00\","
	                                "\"value\":20000},{\"client_id\":\"%s-2\",\"meter_id\":%ld,"
	                                "\"read_at\":\"2026-12-01T09:05:00+08:00\","
	                                "\"value\":100},{\"client_id\":\"%s-3\",\"meter_id\":"
	                                "999999999,\"read_at\":\"2026-12-01T09:05:00+08:00\","
	                                "\"value\":1}]}";

	snprintf(body, sizeof(body),
	         "{\"username\":\"rd%s\",\"display_name\":\"抄表员\",\"password\":\"%s\","
	         "\"role\":\"reader\"}",
	         uniq, READER_PW);
	CHECK_EQ_I64(client_req(&c, "POST", A "/staff", body, NULL), 201);
	sid = (long)jnum(&c, "id");
	reader_id = sid;
	snprintf(body, sizeof(body),
	         "{\"staff_user_id\":%ld,\"community_id\":%ld,\"building_id\":%ld}", sid,
	         community_id, building_id);
	CHECK_EQ_I64(client_req(&c, "POST", A "/reader-assignments", body, NULL), 201);
	CHECK_EQ_I64(client_req(&c, "POST", A "/reader-assignments", body, NULL), 409);

	/* login for the phone: a token in the body */
	snprintf(body, sizeof(body), "{\"username\":\"rd%s\",\"password\":\"wrong-pw1\"}", uniq);
	CHECK_EQ_I64(client_req(&rd, "POST", "/api/v1/reader/login", body, NULL), 401);
	snprintf(body, sizeof(body), "{\"username\":\"rd%s\",\"password\":\"%s\"}", uniq,
	         READER_PW);
	CHECK_EQ_I64(client_req(&rd, "POST", "/api/v1/reader/login", body, NULL), 200);
	tok = jstr(&rd, "token");
	CHECK(tok && strlen(tok) == 64);
	snprintf(token, sizeof(token), "%s", tok ? tok : "");
	CHECK(!strstr(rd.headers, "Set-Cookie"));
	bearer(&rd, token);

	/* route: the three manual meters, in room order, with the last reading */
	CHECK_EQ_I64(client_req(&rd, "GET", "/api/v1/reader/route?date=2026-12-01", NULL, NULL),
	             200);
	CHECK_EQ_I64(jnum(&rd, "total"), 3);
	CHECK_EQ_I64(jnum(&rd, "items.0.meter_id"), m1);
	CHECK_STR(jstr(&rd, "items.1.room"), "102");
	CHECK_EQ_I64(jnum(&rd, "items.1.last_value"), 5000);
	CHECK_EQ_I64(jnum(&rd, "items.2.last_value"), 800000);

	/* a batch synced twice stores each reading once */
	snprintf(body, sizeof(body), batch_fmt, uniq, m2, uniq, m1, uniq);
	CHECK_EQ_I64(client_req(&rd, "POST", "/api/v1/reader/readings", body, NULL), 200);
	CHECK_EQ_I64(jnum(&rd, "stored"), 2);
	CHECK_EQ_I64(jnum(&rd, "flagged"), 1);
	CHECK_EQ_I64(jnum(&rd, "errors"), 1);
	CHECK_STR(jstr(&rd, "results.0.status"), "stored");
	CHECK_STR(jstr(&rd, "results.1.status"), "flagged");
	CHECK_STR(jstr(&rd, "results.1.flag_reason"), "backwards");
	CHECK(cJSON_GetArraySize(jget(&rd, "results.1.warnings")) == 1);
	CHECK_STR(jstr(&rd, "results.2.code"), "METER_NOT_FOUND");
	CHECK_EQ_I64(client_req(&rd, "POST", "/api/v1/reader/readings", body, NULL), 200);
	CHECK_EQ_I64(jnum(&rd, "stored"), 0);
	CHECK_EQ_I64(jnum(&rd, "replayed"), 2);
	CHECK_STR(jstr(&rd, "results.1.status"), "flagged");
	CHECK(jget(&rd, "results.1.replayed") && cJSON_IsTrue(jget(&rd, "results.1.replayed")));
	CHECK_EQ_I64(db_run(db, &q_t_count, &r, (int64_t)m2), XQ_OK);
	CHECK_EQ_I64(db_i64(&r, 0, 0), 3); /* opening, 10-01, 12-01 */
	db_res_release(&r);
	CHECK_EQ_I64(stored(m2, "2026-12-01 01:00:00", NULL, 0), 20000);
	/* the route now leaves out m2 (read this month); m1's reading is only flagged */
	CHECK_EQ_I64(client_req(&rd, "GET", "/api/v1/reader/route?date=2026-12-01", NULL, NULL),
	             200);
	CHECK_EQ_I64(jnum(&rd, "total"), 2);

	/* permissions: a reader enters but cannot review; no Bearer on console routes */
	snprintf(path, sizeof(path), A "/readings/review");
	CHECK_EQ_I64(client_req(&rd, "GET", path, NULL, NULL),
	             401); /* Bearer is not a console session */
	{
		struct client rc2;

		client_init(&rc2);
		snprintf(body, sizeof(body), "rd%s", uniq);
		CHECK_EQ_I64(client_login(&rc2, body, READER_PW), 200);
		CHECK_EQ_I64(client_req(&rc2, "GET", path, NULL, NULL), 403);
		/* at the console a reader enters readings, but only on assigned meters */
		CHECK_EQ_I64(enter(&rc2, m3, "2026-12-01T09:10:00+08:00", 810000), 201);
		CHECK_EQ_I64(enter(&rc2, m4, "2026-12-01T09:10:00+08:00", 1), 404);
		snprintf(path, sizeof(path), A "/readings/%ld/%lld/approve", m1, 1791770400000LL);
		CHECK_EQ_I64(client_req(&rc2, "POST", path, NULL, NULL), 403);
		client_release(&rc2);
	}
	/* a resident's token (WeChat login through xq-wxsim) is no staff session */
	if (getenv("XQ_WXSIM_URL")) {
		struct client res;

		client_init(&res);
		snprintf(body, sizeof(body), "{\"code\":\"test-rdres.%s\"}", uniq);
		CHECK_EQ_I64(client_req(&res, "POST", "/api/v1/auth/login", body, NULL), 200);
		CHECK(jstr(&res, "token") && strlen(jstr(&res, "token")) == 64);
		if (jstr(&res, "token"))
			bearer(&res, jstr(&res, "token"));
		CHECK_EQ_I64(client_req(&res, "GET", "/api/v1/me", NULL, NULL), 200);
		CHECK_EQ_I64(client_req(&res, "GET", "/api/v1/reader/route", NULL, NULL), 401);
		CHECK_EQ_I64(
		    client_req(&res, "POST", "/api/v1/reader/readings", "{\"entries\":[]}", NULL),
		    401);
		client_release(&res);
	}
	/* a made-up token */
	bearer(&nob, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	CHECK_EQ_I64(client_req(&nob, "GET", "/api/v1/reader/route", NULL, NULL), 401);
	CHECK_EQ_I64(client_req(&nob, "POST", "/api/v1/reader/readings", "{\"entries\":[]}", NULL),
	             401);
	/* an admin account without reading.entry would be refused; finance lacks it */
	snprintf(body, sizeof(body),
	         "{\"username\":\"rf%s\",\"display_name\":\"财务\",\"password\":\"%s\","
	         "\"role\":\"finance\"}",
	         uniq, READER_PW);
	CHECK_EQ_I64(client_req(&c, "POST", A "/staff", body, NULL), 201);
	snprintf(body, sizeof(body), "{\"username\":\"rf%s\",\"password\":\"%s\"}", uniq,
	         READER_PW);
	CHECK_EQ_I64(client_req(&nob, "POST", "/api/v1/reader/login", body, NULL), 403);
	/* a photo of the dial, linked to the reading just synced (m2, 2026-12-01 01:00 UTC) */
	{
		static const char png[] = "\x89PNG\r\n\x1a\nfake-image-bytes";
		char p2[160], file[1200];
		struct stat stt;
		const char *hex;

		snprintf(p2, sizeof(p2), "/api/v1/reader/photos?meter_id=%ld&read_at=%lld", m2,
		         1796086800000LL);
		CHECK_EQ_I64(client_req(&rd, "POST", p2, png, "image/png"), 201);
		CHECK_STR(jstr(&rd, "mime"), "image/png");
		CHECK_EQ_I64(jnum(&rd, "bytes"), (double)(sizeof(png) - 1));
		CHECK(cJSON_IsTrue(jget(&rd, "new")));
		hex = jstr(&rd, "sha256");
		CHECK(hex && strlen(hex) == 64);
		snprintf(file, sizeof(file), "%s/%s.png", cfg.readings_photo_dir, hex ? hex : "");
		CHECK(stat(file, &stt) == 0 && stt.st_size == (off_t)(sizeof(png) - 1));
		/* the same photo again: stored once */
		CHECK_EQ_I64(client_req(&rd, "POST", p2, png, "image/png"), 201);
		CHECK(cJSON_IsFalse(jget(&rd, "new")));
		/* not an image; no such reading */
		CHECK_EQ_I64(client_req(&rd, "POST", p2, "GIF89a-not-allowed", "image/gif"), 415);
		{
			/* over readings.photo_max (2 MiB) */
			size_t big = 2 * 1024 * 1024 + 100;
			char *huge = malloc(big + 1);

			memset(huge, 'A', big);
			memcpy(huge, png, 8);
			huge[big] = '\0';
			CHECK_EQ_I64(client_req(&rd, "POST", p2, huge, "image/png"), 413);
			free(huge);
		}
		snprintf(p2, sizeof(p2), "/api/v1/reader/photos?meter_id=%ld&read_at=%lld", m2,
		         1796086800001LL);
		CHECK_EQ_I64(client_req(&rd, "POST", p2, png, "image/png"), 404);
	}
	/* logout ends the token */
	CHECK_EQ_I64(client_req(&rd, "POST", "/api/v1/reader/logout", NULL, NULL), 200);
	CHECK_EQ_I64(client_req(&rd, "GET", "/api/v1/reader/route", NULL, NULL), 401);
}

/* spike_history: 10 kWh a day for a week, then a jump k = 5 would not expect */
TEST(history_spike)
{
	char at[40];

	for (int d = 1; d <= 8; d++) {
		snprintf(at, sizeof(at), "2026-11-%02dT10:00:00+08:00", d);
		CHECK_EQ_I64(enter(&c, m4, at, 2000000 + 10000L * d), 201);
		CHECK_EQ_I64(jget(&c, "flagged")->valueint, 0);
	}
	/* 55 kWh in a day: under 15 kW x 24 h = 360 kWh, over 5 x 10 kWh */
	CHECK_EQ_I64(enter(&c, m4, "2026-11-09T10:00:00+08:00", 2080000 + 55000), 201);
	CHECK_STR(jstr(&c, "flag_reason"), "spike_history");
	CHECK(has_warning(&c, "日均"));
	/* 45 kWh over the same day is within k x the average */
	CHECK_EQ_I64(enter(&c, m4, "2026-11-09T12:00:00+08:00", 2080000 + 45000), 201);
	CHECK_EQ_I64(jget(&c, "flagged")->valueint, 0);
}

TEST(import_csv)
{
	char csv[1024];
	cJSON *e;

	CHECK_EQ_I64(client_req(&c, "GET", A "/readings/import-template.csv", NULL, NULL), 200);
	CHECK(c.body && !memcmp(c.body, "\xEF\xBB\xBF", 3) && strstr(c.body, "表号,抄表时间,读数"));
	snprintf(csv, sizeof(csv),
	         "\xEF\xBB\xBF表号,抄表时间,读数,备注\r\n"
	         "%s,2026-12-01 10:00,20.500,ok\r\n" /* row 2: new */
	         "%s,2026-12-01 09:00,20.000,\r\n"   /* row 3: stored by the reader already */
	         "%s,2026-12-01 09:00,21.000,\r\n"   /* row 4: another value at that instant */
	         "NOPE%s,2026-12-01 10:00,1,\r\n"    /* row 5 */
	         "%s,yesterday,1,\r\n"               /* row 6 */
	         "\r\n"
	         "%s,2026-12-01 11:00,abc,\r\n", /* row 8 */
	         m2no, m2no, m2no, uniq, m1no, m1no);
	CHECK_EQ_I64(client_req(&c, "POST", A "/readings/import?dry_run=1", csv, "text/csv"), 200);
	CHECK(cJSON_IsTrue(jget(&c, "dry_run")));
	CHECK_EQ_I64(jnum(&c, "rows"), 6);
	CHECK_EQ_I64(jnum(&c, "stored"), 1);
	CHECK_EQ_I64(jnum(&c, "skipped_duplicates"), 1);
	CHECK_EQ_I64(jnum(&c, "errors_count"), 4);
	CHECK_EQ_I64(jnum(&c, "errors.0.row"), 4);
	CHECK_STR(jstr(&c, "errors.0.code"), "DUPLICATE");
	CHECK_EQ_I64(jnum(&c, "errors.1.row"), 5);
	CHECK_STR(jstr(&c, "errors.1.code"), "METER_NOT_FOUND");
	CHECK_EQ_I64(jnum(&c, "errors.2.row"), 6);
	CHECK_STR(jstr(&c, "errors.2.code"), "BAD_TIME");
	CHECK_EQ_I64(jnum(&c, "errors.3.row"), 8);
	CHECK_STR(jstr(&c, "errors.3.code"), "BAD_VALUE");
	e = jget(&c, "errors.3.message");
	CHECK(cJSON_IsString(e) && strstr(e->valuestring, "读数"));
	CHECK_EQ_I64(stored(m2, "2026-12-01 02:00:00", NULL, 0), -1); /* nothing written */

	CHECK_EQ_I64(client_req(&c, "POST", A "/readings/import", csv, "text/csv"), 200);
	CHECK_EQ_I64(jnum(&c, "stored"), 1);
	CHECK_EQ_I64(jnum(&c, "errors_count"), 4);
	CHECK_EQ_I64(stored(m2, "2026-12-01 02:00:00", NULL, 0), 20500);
	CHECK_EQ_I64(daily(m2, "2026-12-01"), 15500); /* 5 kWh (10-01) -> 20.5 kWh */
	/* again: everything already there is skipped, nothing overwritten */
	CHECK_EQ_I64(client_req(&c, "POST", A "/readings/import", csv, "text/csv"), 200);
	CHECK_EQ_I64(jnum(&c, "stored"), 0);
	CHECK_EQ_I64(jnum(&c, "skipped_duplicates"), 2);
	CHECK_EQ_I64(jnum(&c, "errors_count"), 4);
	CHECK_EQ_I64(stored(m2, "2026-12-01 01:00:00", NULL, 0), 20000);

	/* English header without BOM; a missing column; not CSV */
	snprintf(csv, sizeof(csv), "meter_no,read_at,value\n%s,2026-12-01T03:30:00Z,21\n", m2no);
	CHECK_EQ_I64(client_req(&c, "POST", A "/readings/import", csv, "text/csv"), 200);
	CHECK_EQ_I64(jnum(&c, "stored"), 1);
	CHECK_EQ_I64(stored(m2, "2026-12-01 03:30:00", NULL, 0), 21000);
	CHECK_EQ_I64(
	    client_req(&c, "POST", A "/readings/import", "meter_no,value\nX,1\n", "text/csv"), 400);
	CHECK(jstr(&c, "message") && strstr(jstr(&c, "message"), "抄表时间"));
	CHECK_EQ_I64(client_req(&c, "POST", A "/readings/import", "{}", NULL), 415);
}

int main(void)
{
	const char *conf = getenv("XQ_CONFIG");
	char err[256];

	if (!conf) {
		fprintf(stderr, "test_readings: XQ_CONFIG is required\n");
		return 1;
	}
	if (config_load(&cfg, conf, err, sizeof(err))) {
		fprintf(stderr, "test_readings: %s\n", err);
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	db_library_init();
	if (db_open(&db, &cfg) != XQ_OK) {
		fprintf(stderr, "test_readings: no database\n");
		return 1;
	}
	snprintf(uniq, sizeof(uniq), "%lx%x", (unsigned long)time(NULL), (unsigned)getpid());
	client_init(&c);
	client_init(&rd);
	client_init(&nob);
	CHECK_EQ_I64(client_login(&c, "admin", ADMIN_PW), 200);
	seed();
	RUN(manual_entry_rules);
	RUN(neighbours_of_a_past_insert);
	RUN(latest_history_usage);
	RUN(review_queue_and_billing);
	RUN(reader_mode);
	RUN(import_csv);
	RUN(history_spike);
	client_release(&c);
	client_release(&rd);
	client_release(&nob);
	db_close(db);
	config_release(&cfg);
	return test_report();
}
