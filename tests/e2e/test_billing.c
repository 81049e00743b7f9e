/*
 * test_billing.c - end to end through nginx: billing runs over the demo
 * community (loaded by e2e.xqctl: 24 houses, 2 months of readings), run
 * twice (the second writes nothing), then after a corrected reading (one
 * adjust line), a flagged one (skipped and listed) and a meter replaced in
 * mid-period by one that rolls over; bills list/detail/
 * void; tariff versions rejected by tariff_parse; the preview's seed
 * examples; callers without the permission refused. Readings are changed
 * straight in the stack's MariaDB (XQ_CONFIG), as the reading review
 * screens that would do it are not written yet.
 */
#include "client.h"
#include "config.h"
#include "db.h"
#include "rollup.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ADMIN_PW (getenv("XQ_TEST_ADMIN_PASSWORD") ? getenv("XQ_TEST_ADMIN_PASSWORD") : "Xiaoqu@2026")
#define A "/admin/api/v1"
#define DEMO_HOUSES 24

DB_QUERY(q_correct) = {
	"t_bill_correct",
	"UPDATE meter_reading SET value = value + ?, value_peak = value_peak + ?,"
	" status = 'corrected' WHERE meter_id = ? AND read_at = ?",
	"llls", NULL,
};
DB_QUERY(q_flag) = {
	"t_bill_flag",
	"UPDATE meter_reading SET status = 'flagged', flag_reason = 'spike'"
	" WHERE meter_id = ? AND read_at = ?",
	"ls", NULL,
};
DB_QUERY(q_remove) = {
	"t_bill_remove",
	"UPDATE meter SET status = 'removed', removed_at = ?, final_reading = ? WHERE id = ?",
	"sll", NULL,
};
DB_QUERY(q_new_meter) = {
	"t_bill_new_meter",
	"INSERT INTO meter (community_id, house_id, utility, kind, meter_no, digits, installed_at,"
	" initial_reading) SELECT community_id, house_id, utility, kind, ?, 5, ?, ? FROM meter"
	" WHERE id = ?",
	"ssll", NULL,
};
DB_QUERY(q_new_reading) = {
	"t_bill_new_reading", "INSERT INTO meter_reading (meter_id, read_at, value) VALUES (?, ?, ?)",
	"lsl", NULL,
};
DB_QUERY(q_real_after_estimate) = {
	"t_bill_real_after_estimate",
	"INSERT INTO meter_reading (meter_id, read_at, value, value_sharp, value_peak, value_flat,"
	" value_valley) SELECT meter_id, ?, value + 5000, value_sharp, value_peak + 5000, value_flat,"
	" value_valley FROM meter_reading WHERE meter_id = ? AND source = 'estimate'",
	"sl", NULL,
};
DB_QUERY(q_estimates) = {
	"t_bill_estimates",
	"SELECT COUNT(*) FROM meter_reading r JOIN meter m ON m.id = r.meter_id"
	" WHERE m.house_id = ? AND r.source = 'estimate'",
	"l", "l",
};
DB_QUERY(q_estimate_audits) = {
	"t_bill_estimate_audits",
	"SELECT COUNT(*) FROM audit_log WHERE action = 'estimate' AND entity = 'meter'",
	"", "l",
};
/* A second community of 2,000 houses with one electric meter each, billed in two batches. */
DB_QUERY(q_p_community) = {
	"t_bill_p_community", "INSERT INTO community (code, name) VALUES (?, '进度测试小区')", "s", NULL,
};
DB_QUERY(q_p_building) = {
	"t_bill_p_building",
	"INSERT INTO building (community_id, name, floors, units) VALUES (?, '1号楼', 34, 1)", "l",
	NULL,
};
DB_QUERY(q_p_houses) = {
	"t_bill_p_houses",
	"INSERT INTO house (building_id, unit_no, room, floor, area_m2, household_size)"
	" SELECT ?, '1', CONCAT(seq), 1 + seq DIV 100, 80, 3 FROM seq_1_to_2000",
	"l", NULL,
};
DB_QUERY(q_p_meters) = {
	"t_bill_p_meters",
	"INSERT INTO meter (community_id, house_id, utility, kind, meter_no, digits, installed_at,"
	" initial_reading) SELECT ?, h.id, 'electric', 'household', CONCAT(?, h.id), 6,"
	" '2020-01-01', 0 FROM house h WHERE h.building_id = ?",
	"lsl", NULL,
};
/* at the period's start and end (local midnight = 16:00 UTC the day before) */
DB_QUERY(q_p_readings) = {
	"t_bill_p_readings",
	"INSERT INTO meter_reading (meter_id, read_at, value) SELECT m.id,"
	" DATE_SUB(CONCAT(?, '-01 00:00:00') + INTERVAL ? MONTH, INTERVAL 8 HOUR),"
	" 1000000 + ? * (100000 + (m.id MOD 7) * 1000) FROM meter m WHERE m.community_id = ?",
	"sill", NULL,
};
DB_QUERY(q_p_tariff) = {
	"t_bill_p_tariff",
	"INSERT INTO tariff (community_id, code, name, utility) VALUES (?, ?, '进度测试电价', 'electric')",
	"ls", NULL,
};
DB_QUERY(q_p_version) = {
	"t_bill_p_version",
	"INSERT INTO tariff_version (tariff_id, effective_from, status, rules) VALUES (?, '2020-01-01',"
	" 'published', '{\"utility\":\"electric\",\"basis\":\"monthly\",\"tiers\":[{\"price\":\"0.5\"}]}')",
	"l", NULL,
};
DB_QUERY(q_p_assign) = {
	"t_bill_p_assign",
	"INSERT INTO house_tariff (house_id, utility, tariff_id, valid_from) SELECT h.id, 'electric',"
	" ?, '2020-01-01' FROM house h WHERE h.building_id = ?",
	"ll", NULL,
};
/*
 * Accounts for houses 1,501 and 1,701: the first batch's range lock also
 * takes the next key after its range (1,501's), so the test holds 1,701's.
 */
DB_QUERY(q_p_account) = {
	"t_bill_p_account",
	"INSERT INTO account (house_id) SELECT id FROM house WHERE building_id = ? ORDER BY id"
	" LIMIT 1 OFFSET ?",
	"li", NULL,
};
DB_QUERY(q_p_house) = {
	"t_bill_p_house",
	"SELECT id FROM house WHERE building_id = ? ORDER BY id LIMIT 1 OFFSET 1700", "l", "l",
};
/* by the unique key: exactly that row is locked, no gap, nothing of the first batch */
DB_QUERY(q_p_lock) = {
	"t_bill_p_lock", "SELECT id FROM account WHERE house_id = ? FOR UPDATE", "l", "l",
};
DB_QUERY(q_lines_total) = {
	"t_bill_lines_total", "SELECT COUNT(*) FROM bill_line", "", "l",
};

static struct client c;
static struct config cfg;
static struct db *db;
static char period[16];
static long community_id;

/* The month before this one in Asia/Shanghai: the demo's last full month of readings. */
static void last_month(char *out, size_t n)
{
	time_t now = time(NULL) + 8 * 3600;
	struct tm tm;
	int y, m;

	gmtime_r(&now, &tm);
	y = tm.tm_year + 1900;
	m = tm.tm_mon; /* 0-based this month = 1-based last month */
	if (m == 0) {
		m = 12;
		y--;
	}
	snprintf(out, n, "%04d-%02d", y % 10000, m % 100);
}

/* Starts a run and waits for it; leaves the finished job in c.json. */
static long run_and_wait(void)
{
	char body[128], path[96];
	long job;

	snprintf(body, sizeof(body), "{\"period\":\"%s\",\"community_id\":%ld}", period,
		 community_id);
	CHECK_EQ_I64(client_req(&c, "POST", A "/billing/runs", body, NULL), 202);
	job = (long)jnum(&c, "job_id");
	CHECK(job > 0);
	snprintf(path, sizeof(path), A "/billing/runs/%ld", job);
	for (int i = 0; i < 600; i++) {
		CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
		if (jstr(&c, "state") && strcmp(jstr(&c, "state"), "running"))
			break;
		usleep(100000);
	}
	CHECK_STR(jstr(&c, "state"), "done");
	CHECK_EQ_I64(jnum(&c, "percent"), 100);
	return job;
}

/* Starts a run with this JSON body and waits for it; leaves the finished job in c.json. */
static void run_body_and_wait(const char *body)
{
	char path[96];
	long job;

	CHECK_EQ_I64(client_req(&c, "POST", A "/billing/runs", body, NULL), 202);
	job = (long)jnum(&c, "job_id");
	CHECK(job > 0);
	snprintf(path, sizeof(path), A "/billing/runs/%ld", job);
	for (int i = 0; i < 600; i++) {
		CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
		if (jstr(&c, "state") && strcmp(jstr(&c, "state"), "running"))
			break;
		usleep(100000);
	}
	CHECK_STR(jstr(&c, "state"), "done");
}

/*
 * The test writes readings straight into MariaDB; like every writer of
 * readings it then refreshes the meter's usage rollups (lib/rollup.h).
 */
static void rollup_meter(int64_t meter_id)
{
	int64_t today = rollup_day_of_ms(xq_now_ms());

	CHECK_EQ_I64(rollup_backfill(db, today - 3 * 366, today + 1, meter_id, NULL), XQ_OK);
}

static int64_t lines_total(void)
{
	struct db_res r;
	int64_t n;

	CHECK_EQ_I64(db_run(db, &q_lines_total, &r), XQ_OK);
	n = db_i64(&r, 0, 0);
	db_res_release(&r);
	return n;
}

/* "2026-10-31T16:00:00.000Z" (the API's form) -> "2026-10-31 16:00:00.000" (SQL's). */
static void sql_time(const char *iso, char out[32])
{
	snprintf(out, 32, "%s", iso ? iso : "");
	if (strlen(out) > 10)
		out[10] = ' ';
	if (strlen(out) && out[strlen(out) - 1] == 'Z')
		out[strlen(out) - 1] = '\0';
}

static long first_bill(const char *utility, int index)
{
	char path[200];

	snprintf(path, sizeof(path), A "/bills?community_id=%ld&period=%s&utility=%s&page_size=50",
		 community_id, period, utility);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	char key[32];
	snprintf(key, sizeof(key), "items.%d.id", index);
	return (long)jnum(&c, key);
}

TEST(run_twice_writes_nothing_the_second_time)
{
	int64_t lines;
	char path[160];

	CHECK_EQ_I64(client_req(&c, "GET", A "/communities?q=DEMO01", NULL, NULL), 200);
	community_id = (long)jnum(&c, "items.0.id");
	CHECK(community_id > 0);

	run_and_wait();
	CHECK_EQ_I64(jnum(&c, "summary.houses"), DEMO_HOUSES);
	CHECK_EQ_I64(jnum(&c, "summary.billed"), 2 * DEMO_HOUSES);
	CHECK_EQ_I64(jnum(&c, "summary.skipped"), 0);
	CHECK(jnum(&c, "summary.total_fen") > 0);
	snprintf(path, sizeof(path), A "/bills?community_id=%ld&period=%s&page_size=1", community_id,
		 period);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	CHECK_EQ_I64(jnum(&c, "total"), 2 * DEMO_HOUSES);

	lines = lines_total();
	run_and_wait();
	CHECK_EQ_I64(jnum(&c, "summary.billed"), 0);
	CHECK_EQ_I64(jnum(&c, "summary.adjusted"), 0);
	CHECK_EQ_I64(jnum(&c, "summary.unchanged"), 2 * DEMO_HOUSES);
	CHECK_EQ_I64(lines_total(), lines);
}

TEST(corrected_reading_gives_one_adjustment)
{
	long id = first_bill("electric", 0);
	char path[96], at[32];
	double amount, nlines;
	int64_t meter;

	CHECK(id > 0);
	snprintf(path, sizeof(path), A "/bills/%ld", id);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	amount = jnum(&c, "amount_fen");
	nlines = cJSON_GetArraySize(jget(&c, "lines"));
	meter = (int64_t)jnum(&c, "usage.0.meter_id");
	sql_time(jstr(&c, "usage.0.curr_read_at"), at);
	/* 5 kWh more on the closing peak register, as if a misread were corrected */
	CHECK_EQ_I64(db_run(db, &q_correct, NULL, (int64_t)5000, (int64_t)5000, meter, at), XQ_OK);
	CHECK_EQ_I64(db_affected(db), 1);

	run_and_wait();
	CHECK_EQ_I64(jnum(&c, "summary.billed"), 0);
	CHECK_EQ_I64(jnum(&c, "summary.adjusted"), 1);
	/* demo tariff: 5 kWh peak in tier 1 at 0.568 */
	CHECK_EQ_I64(jnum(&c, "summary.adjust_fen"), 284);

	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	CHECK_EQ_I64(cJSON_GetArraySize(jget(&c, "lines")), (int64_t)nlines + 1);
	char key[32];
	snprintf(key, sizeof(key), "lines.%d.kind", (int)nlines);
	CHECK_STR(jstr(&c, key), "adjust");
	snprintf(key, sizeof(key), "lines.%d.amount_fen", (int)nlines);
	CHECK_EQ_I64(jnum(&c, key), 284);
	CHECK_EQ_I64(jnum(&c, "amount_fen"), (int64_t)amount + 284);
	CHECK_EQ_I64(jnum(&c, "revision"), 2);

	/* and the correction is not billed again */
	run_and_wait();
	CHECK_EQ_I64(jnum(&c, "summary.adjusted"), 0);
	CHECK_EQ_I64(jnum(&c, "summary.unchanged"), 2 * DEMO_HOUSES);
}

TEST(flagged_reading_is_skipped_and_listed)
{
	long id = first_bill("electric", 1);
	char path[96], at[32];
	int64_t meter;

	snprintf(path, sizeof(path), A "/bills/%ld", id);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	meter = (int64_t)jnum(&c, "usage.0.meter_id");
	sql_time(jstr(&c, "usage.0.curr_read_at"), at);
	CHECK_EQ_I64(db_run(db, &q_flag, NULL, meter, at), XQ_OK);
	run_and_wait();
	CHECK_EQ_I64(jnum(&c, "summary.skipped"), 1);
	CHECK_STR(jstr(&c, "summary.skipped_houses.0.code"), "reading_flagged");
	CHECK_STR(jstr(&c, "summary.skipped_houses.0.utility"), "electric");
	CHECK(jstr(&c, "summary.skipped_houses.0.reason") &&
	      strstr(jstr(&c, "summary.skipped_houses.0.reason"), "待复核"));
}

/*
 * A water meter replaced in mid-period: the old one closes at its final
 * reading (+3 m³ since the opening), the new 5-digit one starts at 99999 m³
 * and rolls over to 1 m³ (+2 m³). The bill is corrected by one adjust line
 * and shows usage rows for both meters.
 */
TEST(meter_replaced_with_rollover)
{
	long id = first_bill("water", 3);
	char path[96], at[32], mid[32], no[40];
	int64_t meter, prev, newid;

	snprintf(path, sizeof(path), A "/bills/%ld", id);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	meter = (int64_t)jnum(&c, "usage.0.meter_id");
	prev = (int64_t)jnum(&c, "usage.0.prev_value");
	sql_time(jstr(&c, "usage.0.curr_read_at"), at);
	snprintf(mid, sizeof(mid), "%s-15 04:00:00.000", period);
	snprintf(no, sizeof(no), "E2E-W-%ld", (long)time(NULL));
	CHECK_EQ_I64(db_run(db, &q_remove, NULL, mid, prev + 3000, meter), XQ_OK);
	CHECK_EQ_I64(db_run(db, &q_new_meter, NULL, no, mid, (int64_t)99999000, meter), XQ_OK);
	newid = db_insert_id(db);
	CHECK_EQ_I64(db_run(db, &q_new_reading, NULL, newid, at, (int64_t)1000), XQ_OK);
	rollup_meter(newid);

	run_and_wait();
	CHECK_EQ_I64(jnum(&c, "summary.adjusted"), 1);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	CHECK_EQ_I64(jnum(&c, "qty_milli"), 5000);
	CHECK_EQ_I64(cJSON_GetArraySize(jget(&c, "usage")), 2);
	CHECK_EQ_I64(jnum(&c, "usage.0.qty_milli"), 3000);
	CHECK_EQ_I64(jnum(&c, "usage.0.rollover"), 0);
	CHECK_EQ_I64(jnum(&c, "usage.1.meter_id"), newid);
	CHECK_EQ_I64(jnum(&c, "usage.1.prev_value"), 99999000);
	CHECK_EQ_I64(jnum(&c, "usage.1.qty_milli"), 2000);
	CHECK(cJSON_IsTrue(jget(&c, "usage.1.rollover")));
	CHECK_EQ_I64(jnum(&c, "revision"), 2);
}

static int64_t count1(const struct db_query *q, int64_t arg, int with_arg)
{
	struct db_res r;
	int64_t n = -1;

	if ((with_arg ? db_run(db, q, &r, arg) : db_run(db, q, &r)) == XQ_OK) {
		n = db_i64(&r, 0, 0);
		db_res_release(&r);
	}
	return n;
}

/*
 * RULE: BILL-ESTIMATE-01. The month after the demo's last full one has no
 * closing readings yet (every house is skipped, closing_stale or
 * closing_missing); staff choose one house to bill on an estimate: its
 * bills are issued, every priced line says 估算, the estimated readings are
 * stored (source estimate) and audited. Choosing it again changes nothing;
 * a real closing reading then corrects the electricity bill by one
 * adjustment, and no house was estimated that staff did not choose.
 */
TEST(estimate_chosen_by_staff)
{
	char next[32], body[256], path[200], end[48];
	int y = 0, m = 0;
	long bill, house;
	int64_t meter, audits = count1(&q_estimate_audits, 0, 0);

	sscanf(period, "%d-%d", &y, &m);
	snprintf(next, sizeof(next), "%04d-%02d", (m == 12 ? y + 1 : y) % 10000, (m == 12 ? 1 : m + 1) % 100);
	bill = first_bill("electric", 5);
	snprintf(path, sizeof(path), A "/bills/%ld", bill);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	house = (long)jnum(&c, "house_id");
	CHECK(house > 0);

	snprintf(body, sizeof(body),
		 "{\"period\":\"%s\",\"community_id\":%ld,\"estimate_house_ids\":[%ld]}", next,
		 community_id, house);
	run_body_and_wait(body);
	CHECK_EQ_I64(jnum(&c, "summary.billed"), 2);
	CHECK_EQ_I64(jnum(&c, "summary.estimated"), 2);
	CHECK_EQ_I64(jnum(&c, "summary.skipped"), 2 * (DEMO_HOUSES - 1));
	CHECK_EQ_I64(count1(&q_estimates, house, 1), 2);
	CHECK_EQ_I64(count1(&q_estimate_audits, 0, 0), audits + 2);

	snprintf(path, sizeof(path),
		 A "/bills?community_id=%ld&period=%s&utility=electric&page_size=50", community_id,
		 next);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	CHECK_EQ_I64(jnum(&c, "total"), 1);
	bill = (long)jnum(&c, "items.0.id");
	snprintf(path, sizeof(path), A "/bills/%ld", bill);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	CHECK(jstr(&c, "lines.0.label_zh") &&
	      strstr(jstr(&c, "lines.0.label_zh"), "估算用量（近1期日均 × "));
	meter = (int64_t)jnum(&c, "usage.0.meter_id");
	CHECK(meter > 0);

	/* the same choice again: the stored estimate is reused, nothing is written */
	run_body_and_wait(body);
	CHECK_EQ_I64(jnum(&c, "summary.billed"), 0);
	CHECK_EQ_I64(jnum(&c, "summary.unchanged"), 2);
	CHECK_EQ_I64(count1(&q_estimates, house, 1), 2);

	/* a real reading at the period's end: the estimated bill is corrected */
	{
		/* the period's last local day ends at 16:00 UTC that day */
		static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
		int ny = m == 12 ? y + 1 : y, nm = m == 12 ? 1 : m + 1;
		int last = mdays[nm - 1] + (nm == 2 && ((ny % 4 == 0 && ny % 100) || ny % 400 == 0));
		snprintf(end, sizeof(end), "%04d-%02d-%02d 16:00:00.000", ny % 10000, nm % 100, last % 100);
	}
	CHECK_EQ_I64(db_run(db, &q_real_after_estimate, NULL, end, meter), XQ_OK);
	rollup_meter(meter);
	snprintf(body, sizeof(body), "{\"period\":\"%s\",\"community_id\":%ld}", next,
		 community_id);
	run_body_and_wait(body);
	CHECK_EQ_I64(jnum(&c, "summary.adjusted"), 1);
	CHECK_EQ_I64(jnum(&c, "summary.estimated"), 0);
	CHECK_EQ_I64(count1(&q_estimate_audits, 0, 0), audits + 2);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	CHECK_EQ_I64(jnum(&c, "revision"), 2);

	/* not a list of house ids: refused */
	snprintf(body, sizeof(body),
		 "{\"period\":\"%s\",\"community_id\":%ld,\"estimate_house_ids\":[\"x\"]}", next,
		 community_id);
	CHECK_EQ_I64(client_req(&c, "POST", A "/billing/runs", body, NULL), 400);
}

struct hold {
	int64_t building, house;
	long job;
	int64_t seen_percent, seen_done, seen_total;
	int seen_running;
};

/* Holds house 1,701's account row while the run reaches it, watching the job meanwhile. */
static int hold_and_watch(struct db *d, void *arg)
{
	struct hold *h = arg;
	struct db_res r;
	char path[96];

	if (db_run(d, &q_p_lock, &r, h->house))
		return XQ_ERROR;
	db_res_release(&r);
	snprintf(path, sizeof(path), A "/billing/runs/%ld", h->job);
	for (int i = 0; i < 600; i++) {
		if (client_req(&c, "GET", path, NULL, NULL) != 200)
			break;
		if (jstr(&c, "state") && !strcmp(jstr(&c, "state"), "running") &&
		    jnum(&c, "percent") > 0) {
			h->seen_running = 1;
			h->seen_percent = (int64_t)jnum(&c, "percent");
			h->seen_done = (int64_t)jnum(&c, "progress_done");
			h->seen_total = (int64_t)jnum(&c, "progress_total");
			break;
		}
		usleep(50000);
	}
	return XQ_ERROR; /* roll back: the lock goes, the run goes on */
}

/*
 * A bigger community (2,000 houses, two batches): while the run waits for
 * a row the test holds in the second batch, the console shows it running
 * with the first batch done (50 %); then it finishes with every bill.
 */
TEST(progress_visible_while_running)
{
	struct hold h = { 0, 0, 0, 0, 0, 0, 0 };
	struct db_res r;
	char code[32], body[128], path[96];
	int64_t cid, tariff;

	snprintf(code, sizeof(code), "E2EP%ld", (long)time(NULL) % 100000);
	CHECK_EQ_I64(db_run(db, &q_p_community, NULL, code), XQ_OK);
	cid = db_insert_id(db);
	CHECK_EQ_I64(db_run(db, &q_p_building, NULL, cid), XQ_OK);
	h.building = db_insert_id(db);
	CHECK_EQ_I64(db_run(db, &q_p_houses, NULL, h.building), XQ_OK);
	CHECK_EQ_I64(db_run(db, &q_p_meters, NULL, cid, code, h.building), XQ_OK);
	CHECK_EQ_I64(db_run(db, &q_p_readings, NULL, period, 0, (int64_t)0, cid), XQ_OK);
	CHECK_EQ_I64(db_run(db, &q_p_readings, NULL, period, 1, (int64_t)1, cid), XQ_OK);
	CHECK_EQ_I64(db_run(db, &q_p_tariff, NULL, cid, code), XQ_OK);
	tariff = db_insert_id(db);
	CHECK_EQ_I64(db_run(db, &q_p_version, NULL, tariff), XQ_OK);
	CHECK_EQ_I64(db_run(db, &q_p_assign, NULL, tariff, h.building), XQ_OK);
	CHECK_EQ_I64(db_run(db, &q_p_account, NULL, h.building, 1500), XQ_OK);
	CHECK_EQ_I64(db_run(db, &q_p_account, NULL, h.building, 1700), XQ_OK);
	CHECK_EQ_I64(db_run(db, &q_p_house, &r, h.building), XQ_OK);
	h.house = db_i64(&r, 0, 0);
	db_res_release(&r);

	snprintf(body, sizeof(body), "{\"period\":\"%s\",\"community_id\":%lld}", period,
		 (long long)cid);
	CHECK_EQ_I64(client_req(&c, "POST", A "/billing/runs", body, NULL), 202);
	h.job = (long)jnum(&c, "job_id");
	CHECK(h.job > 0);
	CHECK_EQ_I64(db_tx(db, hold_and_watch, &h), XQ_ERROR);
	CHECK(h.seen_running);
	CHECK_EQ_I64(h.seen_percent, 50);
	CHECK_EQ_I64(h.seen_done, 1000);
	CHECK_EQ_I64(h.seen_total, 2000);

	snprintf(path, sizeof(path), A "/billing/runs/%ld", h.job);
	for (int i = 0; i < 600; i++) {
		CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
		if (jstr(&c, "state") && strcmp(jstr(&c, "state"), "running"))
			break;
		usleep(100000);
	}
	CHECK_STR(jstr(&c, "state"), "done");
	CHECK_EQ_I64(jnum(&c, "percent"), 100);
	CHECK_EQ_I64(jnum(&c, "summary.houses"), 2000);
	CHECK_EQ_I64(jnum(&c, "summary.billed"), 2000);
	CHECK_EQ_I64(jnum(&c, "summary.skipped"), 0);
	/* 100 + (id mod 7) kWh at 0.50: at least 50.00 yuan a house */
	CHECK(jnum(&c, "summary.total_fen") >= 2000 * 5000);
}

TEST(bill_detail_and_void)
{
	long id = first_bill("water", 2);
	char path[96];

	snprintf(path, sizeof(path), A "/bills/%ld", id);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	CHECK_STR(jstr(&c, "utility"), "water");
	CHECK(cJSON_GetArraySize(jget(&c, "lines")) >= 1);
	CHECK_STR(jstr(&c, "usage.0.register"), "total");
	snprintf(path, sizeof(path), A "/bills/%ld/void", id);
	CHECK_EQ_I64(client_req(&c, "POST", path, "{}", NULL), 400);
	CHECK_STR(jcode(&c), "INVALID_ARGUMENT");
	CHECK_EQ_I64(client_req(&c, "POST", path, "{\"reason\":\"抄表错误，重新出账\"}", NULL), 200);
	CHECK_STR(jstr(&c, "status"), "void");
	CHECK_STR(jstr(&c, "void_reason"), "抄表错误，重新出账");
	CHECK_EQ_I64(client_req(&c, "POST", path, "{\"reason\":\"再次作废\"}", NULL), 409);
	CHECK_EQ_I64(client_req(&c, "GET", A "/audit?entity=bill&page_size=5", NULL, NULL), 200);
	CHECK_EQ_I64(client_req(&c, "GET", A "/bills/99999999", NULL, NULL), 404);
	CHECK_EQ_I64(client_req(&c, "GET", A "/bills?period=2026-13", NULL, NULL), 400);
}

TEST(tariff_versions_and_preview)
{
	char body[512], path[96];
	long tid;

	snprintf(body, sizeof(body), "{\"code\":\"E2E-%ld\",\"name\":\"测试电价\",\"utility\":\"electric\"}",
		 (long)time(NULL));
	CHECK_EQ_I64(client_req(&c, "POST", A "/tariffs", body, NULL), 201);
	tid = (long)jnum(&c, "id");
	snprintf(path, sizeof(path), A "/tariffs/%ld/versions", tid);
	/* the engine's validation reaches the client, naming the field */
	CHECK_EQ_I64(client_req(&c, "POST", path,
				"{\"effective_from\":\"2026-01-01\",\"rules\":{\"utility\":\"electric\","
				"\"basis\":\"monthly\",\"tiers\":[{\"upto_kwh\":400,\"price\":\"0.5\"},"
				"{\"upto_kwh\":200,\"price\":\"0.6\"},{\"price\":\"0.8\"}]}}",
				NULL),
		     400);
	CHECK_STR(jstr(&c, "field"), "rules");
	CHECK_EQ_I64(client_req(&c, "POST", path, "{\"effective_from\":\"2026-01-01\",\"rules\":[1]}",
				NULL),
		     400);
	CHECK_EQ_I64(client_req(&c, "POST", path,
				"{\"effective_from\":\"2026-01-01\",\"rules\":{\"utility\":\"electric\","
				"\"basis\":\"monthly\",\"tiers\":[{\"upto_kwh\":200,\"price\":\"0.5\"},"
				"{\"upto_kwh\":400,\"price\":\"0.6\"},{\"price\":\"0.8\"}]}}",
				NULL),
		     201);
	CHECK_STR(jstr(&c, "status"), "published");
	snprintf(path, sizeof(path), A "/tariffs/%ld", tid);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	CHECK_EQ_I64(cJSON_GetArraySize(jget(&c, "version_list")), 1);

	/* the seed examples through the preview */
	snprintf(body, sizeof(body), "{\"tariff_id\":%ld,\"period\":\"2026-06\",\"qty_kwh\":150}", tid);
	CHECK_EQ_I64(client_req(&c, "POST", A "/tariffs/preview", body, NULL), 200);
	CHECK_STR(jstr(&c, "total_yuan"), "75.00");
	snprintf(body, sizeof(body), "{\"tariff_id\":%ld,\"period\":\"2026-06\",\"qty_kwh\":300}", tid);
	CHECK_EQ_I64(client_req(&c, "POST", A "/tariffs/preview", body, NULL), 200);
	CHECK_STR(jstr(&c, "total_yuan"), "160.00");
	snprintf(body, sizeof(body), "{\"tariff_id\":%ld,\"period\":\"2026-06\",\"qty_kwh\":500}", tid);
	CHECK_EQ_I64(client_req(&c, "POST", A "/tariffs/preview", body, NULL), 200);
	CHECK_STR(jstr(&c, "total_yuan"), "300.00");
	CHECK_EQ_I64(client_req(&c, "POST", A "/tariffs/preview",
				"{\"period\":\"2026-06\",\"peak\":200,\"valley\":100,\"rules\":{\"utility\":"
				"\"electric\",\"basis\":\"monthly\",\"tiers\":[{\"increment\":\"0\"}],"
				"\"tou\":{\"model\":\"A\",\"periods\":[{\"name\":\"peak\",\"windows\":"
				"[\"08:00-22:00\"],\"price\":\"0.7\"},{\"name\":\"valley\",\"windows\":"
				"[\"22:00-08:00\"],\"price\":\"0.4\"}]}}}",
				NULL),
		     200);
	CHECK_STR(jstr(&c, "total_yuan"), "180.00");
	CHECK_EQ_I64(cJSON_GetArraySize(jget(&c, "lines")), 2);

	/* assignment: exactly one scope, the tariff's utility */
	snprintf(body, sizeof(body), "{\"tariff_id\":%ld,\"valid_from\":\"2030-01-01\"}", tid);
	CHECK_EQ_I64(client_req(&c, "POST", A "/tariff-assignments", body, NULL), 400);
	snprintf(body, sizeof(body),
		 "{\"tariff_id\":%ld,\"utility\":\"water\",\"valid_from\":\"2030-01-01\",\"community_id\":%ld}",
		 tid, community_id);
	CHECK_EQ_I64(client_req(&c, "POST", A "/tariff-assignments", body, NULL), 400);
	CHECK_STR(jstr(&c, "field"), "utility");
	snprintf(body, sizeof(body),
		 "{\"tariff_id\":%ld,\"valid_from\":\"2030-01-01\",\"community_id\":%ld}", tid,
		 community_id);
	CHECK_EQ_I64(client_req(&c, "POST", A "/tariff-assignments", body, NULL), 201);
	CHECK_EQ_I64(jnum(&c, "houses"), DEMO_HOUSES);
	CHECK_EQ_I64(client_req(&c, "POST", A "/tariff-assignments", body, NULL), 409);
}

TEST(refused_without_permission)
{
	struct client r;
	char body[256], user[64];

	snprintf(user, sizeof(user), "rd%ld", (long)time(NULL) % 100000000);
	snprintf(body, sizeof(body),
		 "{\"username\":\"%s\",\"password\":\"Reader2026x\",\"role\":\"reader\"}", user);
	CHECK_EQ_I64(client_req(&c, "POST", A "/staff", body, NULL), 201);
	client_init(&r);
	CHECK_EQ_I64(client_req(&r, "GET", A "/bills", NULL, NULL), 401);
	CHECK_EQ_I64(client_login(&r, user, "Reader2026x"), 200);
	CHECK_EQ_I64(client_req(&r, "GET", A "/bills?page_size=1", NULL, NULL), 200);
	snprintf(body, sizeof(body), "{\"period\":\"%s\"}", period);
	CHECK_EQ_I64(client_req(&r, "POST", A "/billing/runs", body, NULL), 403);
	CHECK_EQ_I64(client_req(&r, "POST", A "/bills/1/void", "{\"reason\":\"不行\"}", NULL), 403);
	CHECK_EQ_I64(client_req(&r, "POST", A "/tariffs", "{\"code\":\"X\",\"name\":\"X\",\"utility\":\"water\"}",
				NULL),
		     403);
	client_release(&r);
}

int main(void)
{
	char err[256];
	const char *conf = getenv("XQ_CONFIG");

	if (!conf || config_load(&cfg, conf, err, sizeof(err))) {
		fprintf(stderr, "test_billing: needs XQ_CONFIG pointing at the test stack's xiaoqu.conf\n");
		return 1;
	}
	db_library_init();
	if (db_open(&db, &cfg)) {
		fprintf(stderr, "test_billing: cannot reach the stack's database\n");
		return 1;
	}
	last_month(period, sizeof(period));
	client_init(&c);
	if (client_login(&c, "admin", ADMIN_PW) != 200) {
		fprintf(stderr, "test_billing: admin login failed\n");
		return 1;
	}
	RUN(run_twice_writes_nothing_the_second_time);
	RUN(corrected_reading_gives_one_adjustment);
	RUN(flagged_reading_is_skipped_and_listed);
	RUN(meter_replaced_with_rollover);
	RUN(estimate_chosen_by_staff);
	RUN(progress_visible_while_running);
	RUN(bill_detail_and_void);
	RUN(tariff_versions_and_preview);
	RUN(refused_without_permission);
	client_release(&c);
	db_close(db);
	db_library_end();
	config_release(&cfg);
	return test_report();
}
