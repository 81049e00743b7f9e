/*
 * maint.c - xqctl maintenance commands of the collector area (maint.h).
 */
#include "maint.h"

#include "buf.h"
#include "config.h"
#include "db.h"
#include "rollup.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct config *maint_cfg;

DB_QUERY(q_first_reading) = {
	"maint_first_reading",
	"SELECT COALESCE(DATEDIFF(DATE(MIN(read_at) + INTERVAL 8 HOUR), '1970-01-01'), -1)"
	" FROM meter_reading",
	"", "l"
};

static struct db *maint_db(void)
{
	struct db *db = NULL;

	if (db_open(&db, maint_cfg) != XQ_OK) {
		fprintf(stderr, "xqctl: cannot connect to the database\n");
		db_close(db);
		return NULL;
	}
	return db;
}

int maint_rollup(struct db *db, int64_t from, int64_t to, int64_t meter_id)
{
	int64_t t0 = xq_mono_us(), pairs = 0;
	char f[16], t[16];
	int rc;

	if (from == 0) {
		struct db_res r;

		if ((rc = db_run(db, &q_first_reading, &r)) != XQ_OK)
			return rc;
		from = db_i64(&r, 0, 0);
		db_res_release(&r);
		if (from < 0)
			return XQ_OK; /* no readings at all */
	}
	if (to == 0)
		to = rollup_day_of_ms(xq_now_ms());
	rollup_day_str(from, f, sizeof(f));
	rollup_day_str(to, t, sizeof(t));
	rc = rollup_backfill(db, from, to, meter_id, &pairs);
	if (rc != XQ_OK) {
		fprintf(stderr, "xqctl rollup: failed: %s (%s)\n", xq_strerror(rc), db_errmsg(db));
		return rc;
	}
	fprintf(stderr, "xqctl rollup: %s..%s: %" PRId64 " meter-days in %.1f s\n", f, t, pairs,
		(double)(xq_mono_us() - t0) / 1e6);
	return XQ_OK;
}

int cmd_rollup(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "meter", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t from = 0, to = 0, meter = 0;
	struct db *db;
	int opt, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			if (rollup_day_parse(optarg, &from) != XQ_OK)
				goto usage;
			break;
		case 't':
			if (rollup_day_parse(optarg, &to) != XQ_OK)
				goto usage;
			break;
		case 'm':
			if (xq_parse_i64(optarg, &meter) != XQ_OK || meter < 1)
				goto usage;
			break;
		default: goto usage;
		}
	}
	if (optind != argc || (from && to && from > to))
		goto usage;
	if (!(db = maint_db()))
		return 1;
	rc = maint_rollup(db, from, to, meter);
	db_close(db);
	return rc == XQ_OK ? 0 : 1;
usage:
	fprintf(stderr, "usage: xqctl rollup [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--meter ID]\n");
	return 2;
}

/* ---- partitions ------------------------------------------------------ */

/* The last two partitions: p_max and the last bounded month ('YYYY-MM-01'). */
DB_QUERY(q_parts_tail) = {
	"maint_parts_tail",
	"SELECT PARTITION_NAME, PARTITION_DESCRIPTION FROM information_schema.PARTITIONS"
	" WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'meter_reading'"
	" AND PARTITION_NAME IS NOT NULL ORDER BY PARTITION_ORDINAL_POSITION DESC LIMIT 2",
	"", "ss"
};

/*
 * Splits months off p_max until there are partitions up to `ahead` months
 * after the current (UTC) month. Idempotent: nothing to do prints 0 added.
 * p_max is meant to stay empty, so REORGANIZE moves no rows; if it does hold
 * rows (the command was not run for months) they move to their month.
 */
int cmd_partitions(int argc, char **argv)
{
	struct db *db;
	struct db_res r;
	struct buf sql;
	int64_t ahead = 3;
	int y, m, ty, tm_, added = 0, rc;
	time_t now = (time_t)(xq_now_ms() / 1000);
	struct tm tm;

	for (int i = 1; i < argc; i += 2) {
		if (i + 1 >= argc || strcmp(argv[i], "--ahead") || xq_parse_i64(argv[i + 1], &ahead) ||
		    ahead < 0 || ahead > 120) {
			fprintf(stderr, "usage: xqctl partitions [--ahead MONTHS]  (default 3)\n");
			return 2;
		}
	}
	if (!(db = maint_db()))
		return 1;
	if ((rc = db_run(db, &q_parts_tail, &r)) != XQ_OK || r.nrows < 2 ||
	    strcmp(db_str(&r, 0, 0), "p_max") || !db_str(&r, 1, 1) ||
	    sscanf(db_str(&r, 1, 1), "'%4d-%2d-01", &y, &m) != 2) {
		fprintf(stderr, "xqctl partitions: meter_reading is not partitioned by month with a"
				" p_max partition (migration 008)\n");
		if (rc == XQ_OK)
			db_res_release(&r);
		db_close(db);
		return 1;
	}
	db_res_release(&r);
	/* y-m is the first month not covered; cover through the current month + ahead */
	gmtime_r(&now, &tm);
	ty = tm.tm_year + 1900 + (int)((tm.tm_mon + ahead) / 12);
	tm_ = (int)((tm.tm_mon + ahead) % 12) + 1;
	buf_init(&sql, 1 << 16);
	buf_puts(&sql, "ALTER TABLE meter_reading REORGANIZE PARTITION p_max INTO (");
	while (y < ty || (y == ty && m <= tm_)) {
		int ny = m == 12 ? y + 1 : y, nm = m == 12 ? 1 : m + 1;

		buf_printf(&sql, "PARTITION p%04d%02d VALUES LESS THAN ('%04d-%02d-01'), ", y, m, ny,
			   nm);
		y = ny;
		m = nm;
		added++;
	}
	buf_puts(&sql, "PARTITION p_max VALUES LESS THAN (MAXVALUE))");
	rc = added ? db_exec_script(db, sql.data) : XQ_OK;
	buf_release(&sql);
	db_close(db);
	if (rc != XQ_OK) {
		fprintf(stderr, "xqctl partitions: failed: %s\n", xq_strerror(rc));
		return 1;
	}
	printf("xqctl partitions: %d added, months up to %04d-%02d covered\n", added, ty, tm_);
	return 0;
}
