/*
 * test_db.c - lib/db.c against the real MariaDB of the test stack
 * (XQ_CONFIG names its xiaoqu.conf): binding and NULLs, long values,
 * error mapping, transactions that roll back, and the deadlock retry of
 * db_tx() provoked by two threads locking rows in opposite order.
 */
#include "config.h"
#include "db.h"
#include "test.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static struct config cfg;

DB_QUERY(q_setup) = {
	"t_setup",
	"CREATE TEMPORARY TABLE IF NOT EXISTS t_db (id BIGINT PRIMARY KEY, s VARCHAR(400) NULL,"
	" n BIGINT NULL) ENGINE=InnoDB",
	"", NULL,
};
DB_QUERY(q_ins) = { "t_ins", "INSERT INTO t_db (id, s, n) VALUES (?, ?, ?)", "lsL", NULL };
DB_QUERY(q_get) = { "t_get", "SELECT id, s, n FROM t_db WHERE id = ?", "l", "lsl" };
DB_QUERY(q_count) = { "t_count", "SELECT COUNT(*) FROM t_db", "", "l" };
DB_QUERY(q_bad_fk) = {
	"t_bad_fk", "INSERT INTO building (community_id, name) VALUES (?, 'x')", "l", NULL,
};
DB_QUERY(q_lock_table) = {
	"t_lock_table",
	"CREATE TABLE IF NOT EXISTS t_deadlock (id INT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB",
	"", NULL,
};
DB_QUERY(q_lock_seed) = {
	"t_lock_seed", "INSERT IGNORE INTO t_deadlock (id, v) VALUES (1, 0), (2, 0)", "", NULL,
};
DB_QUERY(q_lock_bump) = { "t_lock_bump", "UPDATE t_deadlock SET v = v + 1 WHERE id = ?", "i", NULL };
DB_QUERY(q_lock_sum) = { "t_lock_sum", "SELECT SUM(v) FROM t_deadlock", "", "l" };
DB_QUERY(q_lock_drop) = { "t_lock_drop", "DROP TABLE IF EXISTS t_deadlock", "", NULL };

static struct db *open_db(void)
{
	struct db *db = NULL;
	int rc = db_open(&db, &cfg);
	CHECK_EQ_I64(rc, XQ_OK);
	return db;
}

TEST(bind_null_and_long_values)
{
	struct db *db = open_db();
	struct db_res r;
	char long_s[301];
	int64_t n = -42;

	memset(long_s, 'x', 300);
	long_s[300] = '\0';
	CHECK_EQ_I64(db_run(db, &q_setup, NULL), XQ_OK);
	CHECK_EQ_I64(db_run(db, &q_ins, NULL, (int64_t)1, "小区 'quoted' \\ back", &n), XQ_OK);
	CHECK_EQ_I64(db_run(db, &q_ins, NULL, (int64_t)2, NULL, NULL), XQ_OK);
	CHECK_EQ_I64(db_run(db, &q_ins, NULL, (int64_t)3, long_s, &n), XQ_OK);
	CHECK_EQ_I64(db_run(db, &q_get, &r, (int64_t)1), XQ_OK);
	CHECK_STR(db_str(&r, 0, 1), "小区 'quoted' \\ back");
	CHECK_EQ_I64(db_i64(&r, 0, 2), -42);
	db_res_release(&r);
	CHECK_EQ_I64(db_run(db, &q_get, &r, (int64_t)2), XQ_OK);
	CHECK(db_str(&r, 0, 1) == NULL && db_str(&r, 0, 2) == NULL);
	db_res_release(&r);
	/* longer than the first fetch buffer: fetched again whole */
	CHECK_EQ_I64(db_run(db, &q_get, &r, (int64_t)3), XQ_OK);
	CHECK_STR(db_str(&r, 0, 1), long_s);
	db_res_release(&r);
	CHECK_EQ_I64(db_run(db, &q_get, &r, (int64_t)99), XQ_OK);
	CHECK_EQ_I64(r.nrows, 0);
	db_res_release(&r);
	/* errors are mapped to our codes */
	CHECK_EQ_I64(db_run(db, &q_ins, NULL, (int64_t)1, "dup", NULL), XQ_ECONFLICT);
	CHECK_EQ_I64(db_run(db, &q_bad_fk, NULL, (int64_t)987654321), XQ_EINVAL);
	db_close(db);
}

static int tx_insert_then_fail(struct db *db, void *arg)
{
	int rc = db_run(db, &q_ins, NULL, (int64_t)10, "in tx", NULL);
	return rc ? rc : XQ_EINVAL; /* the caller refuses: everything rolls back */
}

static int tx_insert(struct db *db, void *arg)
{
	return db_run(db, &q_ins, NULL, (int64_t)11, "in tx", NULL);
}

TEST(transactions)
{
	struct db *db = open_db();
	struct db_res r;
	int64_t before;

	db_run(db, &q_setup, NULL);
	db_run(db, &q_count, &r);
	before = db_i64(&r, 0, 0);
	db_res_release(&r);
	CHECK_EQ_I64(db_tx(db, tx_insert_then_fail, NULL), XQ_EINVAL);
	db_run(db, &q_count, &r);
	CHECK_EQ_I64(db_i64(&r, 0, 0), before);
	db_res_release(&r);
	CHECK_EQ_I64(db_tx(db, tx_insert, NULL), XQ_OK);
	db_run(db, &q_count, &r);
	CHECK_EQ_I64(db_i64(&r, 0, 0), before + 1);
	db_res_release(&r);
	db_close(db);
}

struct locker {
	int first, second;
	int attempts;
	int rc;
};

static pthread_barrier_t barrier;

/* Locks `first`, waits for the other thread to lock its row, then wants `second`. */
static int tx_cross(struct db *db, void *arg)
{
	struct locker *l = arg;
	int rc;

	l->attempts++;
	if ((rc = db_run(db, &q_lock_bump, NULL, l->first)))
		return rc;
	if (l->attempts == 1)
		pthread_barrier_wait(&barrier);
	return db_run(db, &q_lock_bump, NULL, l->second);
}

static void *locker_main(void *arg)
{
	struct locker *l = arg;
	struct db *db;

	db_thread_init();
	db_open(&db, &cfg);
	l->rc = db_tx(db, tx_cross, l);
	db_close(db);
	db_thread_end();
	return NULL;
}

TEST(deadlock_is_retried)
{
	struct db *db = open_db();
	struct locker a = { 1, 2, 0, -1 }, b = { 2, 1, 0, -1 };
	pthread_t ta, tb;
	struct db_res r;

	db_run(db, &q_lock_drop, NULL);
	CHECK_EQ_I64(db_run(db, &q_lock_table, NULL), XQ_OK);
	CHECK_EQ_I64(db_run(db, &q_lock_seed, NULL), XQ_OK);
	pthread_barrier_init(&barrier, NULL, 2);
	pthread_create(&ta, NULL, locker_main, &a);
	pthread_create(&tb, NULL, locker_main, &b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	pthread_barrier_destroy(&barrier);
	/* both committed in the end; InnoDB chose a victim that db_tx ran again */
	CHECK_EQ_I64(a.rc, XQ_OK);
	CHECK_EQ_I64(b.rc, XQ_OK);
	CHECK(a.attempts + b.attempts >= 3);
	CHECK_EQ_I64(db_run(db, &q_lock_sum, &r), XQ_OK);
	CHECK_EQ_I64(db_i64(&r, 0, 0), 4); /* each thread bumped each row once, no more */
	db_res_release(&r);
	db_run(db, &q_lock_drop, NULL);
	db_close(db);
}

TEST(check_queries_finds_nothing_wrong_here)
{
	struct db *db = open_db();
	int n = 0;
	/* the temporary table exists only on this connection: create it first */
	db_run(db, &q_setup, NULL);
	db_run(db, &q_lock_table, NULL);
	CHECK_EQ_I64(db_check_queries(db, &n), 0);
	CHECK(n >= 10);
	db_run(db, &q_lock_drop, NULL);
	db_close(db);
}

int main(void)
{
	char err[256];
	const char *conf = getenv("XQ_CONFIG");

	if (!conf || config_load(&cfg, conf, err, sizeof(err))) {
		fprintf(stderr, "test_db: needs XQ_CONFIG pointing at the test stack's xiaoqu.conf\n");
		return 1;
	}
	db_library_init();
	RUN(bind_null_and_long_values);
	RUN(transactions);
	RUN(deadlock_is_retried);
	RUN(check_queries_finds_nothing_wrong_here);
	db_library_end();
	config_release(&cfg);
	return test_report();
}
