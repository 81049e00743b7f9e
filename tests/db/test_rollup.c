/*
 * test_rollup.c - lib/rollup.c against the test stack's MariaDB: exact daily
 * and monthly usage for hand-made readings (a register rollover, a flagged
 * and a rejected reading ignored, a multiplier, a day without readings, the
 * local-midnight boundary, month sums), idempotence, a correction that moves
 * the next day's base, and the backfill giving the same rows.
 */
#include "config.h"
#include "db.h"
#include "rollup.h"
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

static struct config cfg;
static int64_t meter_a, meter_b;

DB_QUERY(q_t_comm) = {
	"t_rollup_comm", "INSERT INTO community (code, name) VALUES (?, '用量测试')", "s", NULL
};
/* digits 4: wraps at 10^4 kWh = 10 000 000 Wh */
DB_QUERY(q_t_meter) = {
	"t_rollup_meter",
	"INSERT INTO meter (community_id, utility, kind, meter_no, digits, multiplier, protocol)"
	" VALUES (?, 'electric', 'public', ?, ?, ?, 'dlt645')",
	"lsii", NULL
};
DB_QUERY(q_t_read) = {
	"t_rollup_read",
	"INSERT INTO meter_reading (meter_id, read_at, value, value_sharp, value_peak, value_flat,"
	" value_valley, source, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'manual', ?)",
	"lslLLLLs", NULL
};
DB_QUERY(q_t_reject) = {
	"t_rollup_reject",
	"UPDATE meter_reading SET status = 'rejected' WHERE meter_id = ? AND read_at = ?", "ls", NULL
};
DB_QUERY(q_t_day) = {
	"t_rollup_day",
	"SELECT CONCAT_WS(' ', usage_total, COALESCE(usage_sharp, '-'), COALESCE(usage_peak, '-'),"
	" COALESCE(usage_flat, '-'), COALESCE(usage_valley, '-'), readings, flagged, last_value,"
	" DATE_FORMAT(first_read_at, '%Y-%m-%d %H:%i'), DATE_FORMAT(last_read_at, '%Y-%m-%d %H:%i'))"
	" FROM meter_usage_daily WHERE meter_id = ? AND day = ?",
	"ls", "s"
};
DB_QUERY(q_t_month) = {
	"t_rollup_month",
	"SELECT CONCAT_WS(' ', usage_total, COALESCE(usage_sharp, '-'), COALESCE(usage_peak, '-'),"
	" COALESCE(usage_flat, '-'), COALESCE(usage_valley, '-'), days, COALESCE(last_value, '-'),"
	" COALESCE(DATE_FORMAT(last_read_at, '%Y-%m-%d %H:%i'), '-'))"
	" FROM meter_usage_monthly WHERE meter_id = ? AND month = ?",
	"ls", "s"
};
DB_QUERY(q_t_snapshot) = {
	"t_rollup_snapshot",
	"SELECT COALESCE(GROUP_CONCAT(CONCAT_WS(' ', meter_id, day, usage_total,"
	" COALESCE(usage_sharp, '-'), COALESCE(usage_peak, '-'), COALESCE(usage_flat, '-'),"
	" COALESCE(usage_valley, '-'), readings, flagged, last_value, first_read_at, last_read_at)"
	" ORDER BY meter_id, day SEPARATOR '|'), '')"
	" FROM meter_usage_daily WHERE meter_id IN (?, ?)",
	"ll", "s"
};
DB_QUERY(q_t_snapshot_m) = {
	"t_rollup_snapshot_m",
	"SELECT COALESCE(GROUP_CONCAT(CONCAT_WS(' ', meter_id, month, usage_total, days,"
	" COALESCE(last_value, '-')) ORDER BY meter_id, month SEPARATOR '|'), '')"
	" FROM meter_usage_monthly WHERE meter_id IN (?, ?)",
	"ll", "s"
};
DB_QUERY(q_t_wipe) = {
	"t_rollup_wipe", "DELETE FROM meter_usage_daily WHERE meter_id IN (?, ?)", "ll", NULL
};
DB_QUERY(q_t_wipe_m) = {
	"t_rollup_wipe_m", "DELETE FROM meter_usage_monthly WHERE meter_id IN (?, ?)", "ll", NULL
};

static struct db *open_db(void)
{
	struct db *db = NULL;
	int rc = db_open(&db, &cfg);
	CHECK_EQ_I64(rc, XQ_OK);
	return db;
}

/* UTC instant, readings with rates (NULL rates when r is NULL) */
static void rd(struct db *db, int64_t m, const char *utc, int64_t v, const int64_t *r,
	       const char *status)
{
	CHECK_EQ_I64(db_run(db, &q_t_read, NULL, m, utc, v, r ? &r[0] : NULL, r ? &r[1] : NULL,
			    r ? &r[2] : NULL, r ? &r[3] : NULL, status),
		     XQ_OK);
}

static char *row(struct db *db, const struct db_query *q, int64_t m, const char *key)
{
	static char out[512];
	struct db_res r;

	out[0] = '\0';
	if (db_run(db, q, &r, m, key) != XQ_OK)
		return out;
	xq_snprintf(out, sizeof(out), "%s", r.nrows ? db_str(&r, 0, 0) : "(none)");
	db_res_release(&r);
	return out;
}

static int64_t day(const char *s)
{
	int64_t d = 0;
	CHECK_EQ_I64(rollup_day_parse(s, &d), XQ_OK);
	return d;
}

TEST(days)
{
	char s[16];
	int64_t d;

	/* 2026-03-30 16:00 UTC is 2026-03-31 00:00 in Shanghai */
	CHECK_EQ_I64(rollup_day_of_ms(1774886400000LL), day("2026-03-31"));
	CHECK_EQ_I64(rollup_day_of_ms(1774886400000LL - 1), day("2026-03-30"));
	rollup_day_str(day("2024-02-29"), s, sizeof(s));
	CHECK_STR(s, "2024-02-29");
	CHECK_EQ_I64(rollup_day_parse("2026-02-30", &d), XQ_EINVAL);
	CHECK_EQ_I64(rollup_day_parse("2026-1-01", &d), XQ_EINVAL);
}

static void load(struct db *db)
{
	char code[32], no[32];
	int64_t cid;
	/* sharp peak flat valley, Wh */
	static const int64_t r0[] = { 1000000, 3000000, 3990000, 2000000 },
			     r1[] = { 1000000, 3000000, 3990000, 2005000 },
			     r2[] = { 1000000, 3008000, 3990000, 2005000 },
			     r3[] = { 1000000, 3008000, 3991000, 2005000 },
			     r4[] = { 1000000, 3008000, 3991000, 2005500 },
			     r5[] = { 1002000, 3008000, 3991000, 2005500 },
			     r6[] = { 1002000, 3008000, 3992000, 2005500 };

	xq_snprintf(code, sizeof(code), "RLT%d", (int)getpid());
	CHECK_EQ_I64(db_run(db, &q_t_comm, NULL, code), XQ_OK);
	cid = db_insert_id(db);
	xq_snprintf(no, sizeof(no), "RLTA%d", (int)getpid());
	CHECK_EQ_I64(db_run(db, &q_t_meter, NULL, cid, no, 4, 1), XQ_OK);
	meter_a = db_insert_id(db);
	xq_snprintf(no, sizeof(no), "RLTB%d", (int)getpid());
	CHECK_EQ_I64(db_run(db, &q_t_meter, NULL, cid, no, 6, 30), XQ_OK);
	meter_b = db_insert_id(db);

	/* A, local times in comments (UTC+8) */
	rd(db, meter_a, "2026-03-29 15:00:00", 9990000, r0, "ok");   /* 03-29 23:00, the base */
	rd(db, meter_a, "2026-03-30 00:00:00", 9995000, r1, "ok");   /* 03-30 08:00 */
	rd(db, meter_a, "2026-03-30 04:00:00", 3000, r2, "ok");      /* 12:00, rolled over */
	rd(db, meter_a, "2026-03-30 10:00:00", 9000000, r2, "flagged"); /* 18:00, ignored */
	rd(db, meter_a, "2026-03-30 15:30:00", 4000, r3, "ok");      /* 23:30 */
	rd(db, meter_a, "2026-03-30 16:00:00", 4500, r4, "ok");      /* 03-31 00:00 */
	rd(db, meter_a, "2026-03-31 12:00:00", 6500, r5, "ok");      /* 03-31 20:00 */
	/* 04-01: nothing */
	rd(db, meter_a, "2026-04-02 01:00:00", 1, r6, "rejected");   /* 04-02 09:00, ignored */
	rd(db, meter_a, "2026-04-02 02:00:00", 7500, r6, "corrected"); /* 04-02 10:00 */
	/* B: multiplier 30, no rate registers, no reading before its first day */
	rd(db, meter_b, "2026-03-29 22:00:00", 100000, NULL, "ok"); /* 03-30 06:00 */
	rd(db, meter_b, "2026-03-30 14:00:00", 100250, NULL, "ok"); /* 03-30 22:00 */
	rd(db, meter_b, "2026-03-30 17:00:00", 100300, NULL, "ok"); /* 03-31 01:00 */
}

static void check_first_state(struct db *db)
{
	/* total sharp peak flat valley readings flagged last_value first last */
	CHECK_STR(row(db, &q_t_day, meter_a, "2026-03-29"),
		  "0 0 0 0 0 1 0 9990000 2026-03-29 15:00 2026-03-29 15:00");
	/* 9 990 000 -> 4 000 through 0: 14 000 Wh = 5 000 valley + 8 000 peak + 1 000 flat */
	CHECK_STR(row(db, &q_t_day, meter_a, "2026-03-30"),
		  "14000 0 8000 1000 5000 3 1 4000 2026-03-30 00:00 2026-03-30 15:30");
	CHECK_STR(row(db, &q_t_day, meter_a, "2026-03-31"),
		  "2500 2000 0 0 500 2 0 6500 2026-03-30 16:00 2026-03-31 12:00");
	CHECK_STR(row(db, &q_t_day, meter_a, "2026-04-01"), "(none)");
	/* from the last good reading before the day (03-31 20:00), not the rejected one */
	CHECK_STR(row(db, &q_t_day, meter_a, "2026-04-02"),
		  "1000 0 0 1000 0 1 0 7500 2026-04-02 02:00 2026-04-02 02:00");
	CHECK_STR(row(db, &q_t_month, meter_a, "2026-03"),
		  "16500 2000 8000 1000 5500 3 6500 2026-03-31 12:00");
	CHECK_STR(row(db, &q_t_month, meter_a, "2026-04"),
		  "1000 0 0 1000 0 1 7500 2026-04-02 02:00");
	/* B: 250 and 50 register Wh times 30 */
	CHECK_STR(row(db, &q_t_day, meter_b, "2026-03-30"),
		  "7500 - - - - 2 0 100250 2026-03-29 22:00 2026-03-30 14:00");
	CHECK_STR(row(db, &q_t_day, meter_b, "2026-03-31"),
		  "1500 - - - - 1 0 100300 2026-03-30 17:00 2026-03-30 17:00");
	CHECK_STR(row(db, &q_t_month, meter_b, "2026-03"), "9000 - - - - 2 100300 2026-03-30 17:00");
}

static char *snapshot(struct db *db)
{
	struct db_res r;
	size_t n;
	char *s, *out;

	if (db_run(db, &q_t_snapshot, &r, meter_a, meter_b) != XQ_OK)
		return xq_strdup("");
	s = xq_strdup(db_str(&r, 0, 0));
	db_res_release(&r);
	if (db_run(db, &q_t_snapshot_m, &r, meter_a, meter_b) != XQ_OK)
		return s;
	n = strlen(s) + strlen(db_str(&r, 0, 0)) + 2;
	out = xq_malloc(n);
	xq_snprintf(out, n, "%s#%s", s, db_str(&r, 0, 0));
	free(s);
	db_res_release(&r);
	return out;
}

TEST(usage_numbers)
{
	struct db *db = open_db();
	struct rollup_key k[16];
	size_t n = 0;
	char *s1, *s2;
	int64_t pairs = 0;

	load(db);
	/* what the collector would pass: every (meter, day) of the readings, repeated */
	k[n++] = (struct rollup_key){ meter_a, day("2026-03-29") };
	k[n++] = (struct rollup_key){ meter_a, day("2026-03-30") };
	k[n++] = (struct rollup_key){ meter_a, day("2026-03-30") };
	k[n++] = (struct rollup_key){ meter_a, day("2026-03-31") };
	k[n++] = (struct rollup_key){ meter_a, day("2026-04-01") };
	k[n++] = (struct rollup_key){ meter_a, day("2026-04-02") };
	k[n++] = (struct rollup_key){ meter_b, day("2026-03-30") };
	k[n++] = (struct rollup_key){ meter_b, day("2026-03-31") };
	CHECK_EQ_I64(rollup_refresh(db, k, n), XQ_OK);
	check_first_state(db);

	/* idempotent: again, and in another order */
	s1 = snapshot(db);
	CHECK_EQ_I64(rollup_refresh(db, k + 3, n - 3), XQ_OK);
	CHECK_EQ_I64(rollup_refresh(db, k, n), XQ_OK);
	s2 = snapshot(db);
	CHECK_STR(s2, s1);
	free(s2);

	/* the backfill from nothing gives the very same rows */
	CHECK_EQ_I64(db_run(db, &q_t_wipe, NULL, meter_a, meter_b), XQ_OK);
	CHECK_EQ_I64(db_run(db, &q_t_wipe_m, NULL, meter_a, meter_b), XQ_OK);
	CHECK_EQ_I64(rollup_backfill(db, day("2026-03-01"), day("2026-04-30"), meter_a, &pairs),
		     XQ_OK);
	CHECK_EQ_I64(pairs, 4);
	CHECK_EQ_I64(rollup_backfill(db, day("2026-03-01"), day("2026-04-30"), meter_b, &pairs),
		     XQ_OK);
	CHECK_EQ_I64(pairs, 2);
	s2 = snapshot(db);
	CHECK_STR(s2, s1);
	free(s2);
	free(s1);

	/*
	 * A review rejects A's 03-31 20:00 reading. Refreshing only that day also
	 * moves 04-02, whose base it was: 03-31 is now 500 Wh (valley), 04-02
	 * 7 500 - 4 500 = 3 000 (sharp 2 000 + flat 1 000).
	 */
	CHECK_EQ_I64(db_run(db, &q_t_reject, NULL, meter_a, "2026-03-31 12:00:00"), XQ_OK);
	k[0] = (struct rollup_key){ meter_a, day("2026-03-31") };
	CHECK_EQ_I64(rollup_refresh(db, k, 1), XQ_OK);
	CHECK_STR(row(db, &q_t_day, meter_a, "2026-03-31"),
		  "500 0 0 0 500 1 0 4500 2026-03-30 16:00 2026-03-30 16:00");
	CHECK_STR(row(db, &q_t_day, meter_a, "2026-04-02"),
		  "3000 2000 0 1000 0 1 0 7500 2026-04-02 02:00 2026-04-02 02:00");
	CHECK_STR(row(db, &q_t_month, meter_a, "2026-03"),
		  "14500 0 8000 1000 5500 3 4500 2026-03-30 16:00");
	CHECK_STR(row(db, &q_t_month, meter_a, "2026-04"),
		  "3000 2000 0 1000 0 1 7500 2026-04-02 02:00");
	db_close(db);
}

int main(void)
{
	char err[256];
	const char *conf = getenv("XQ_CONFIG");

	if (!conf || config_load(&cfg, conf, err, sizeof(err))) {
		fprintf(stderr, "test_rollup: needs XQ_CONFIG pointing at the test stack's xiaoqu.conf\n");
		return 1;
	}
	db_library_init();
	RUN(days);
	RUN(usage_numbers);
	db_library_end();
	config_release(&cfg);
	return test_report();
}
