/*
 * db.h - MariaDB/MySQL access: prepared statements only, one connection per
 * thread, transactions with retry in one place.
 *
 * Every statement is a static const struct db_query with '?' placeholders and
 * two signatures. Parameter signature letters (one per '?', passed as varargs):
 *   'l' int64_t        'i' int           's' const char * (NULL binds SQL NULL)
 *   'L' const int64_t * (NULL binds SQL NULL)
 * Result signature letters (one per column; all columns are fetched as text):
 *   'l' integer  's' string  'b' boolean (0/1)  'j' JSON text
 * db_run() asserts that both signatures match what the server says about the
 * statement, so a query and its signature cannot silently disagree.
 *
 * Error mapping: duplicate key -> XQ_ECONFLICT, a referenced row deleted ->
 * XQ_EINUSE, a missing parent row -> XQ_EINVAL, deadlock/lock wait timeout ->
 * XQ_EAGAIN, anything else (including a lost connection) -> XQ_EDB.
 */
#ifndef XQ_DB_H
#define XQ_DB_H

#include "config.h"
#include "xq.h"

struct cJSON;

struct db_query {
	const char *name;
	const char *sql;
	const char *params;
	const char *results;
};

struct db;

/*
 * Defines a query and registers it in the "xq_queries" section, so that
 * db_check_queries() can prepare every statement a program contains against
 * the real schema (xq-api --check-sql, xqctl check-sql) and find a
 * signature that disagrees with its SQL before a request does.
 *   DB_QUERY(q_house_get) = { "house_get", "SELECT ...", "l", "ls" };
 */
#define DB_QUERY(var)                                                                      \
	static const struct db_query var;                                                  \
	static const struct db_query *const var##_reg_                                     \
		__attribute__((used, section("xq_queries"))) = &var;                        \
	static const struct db_query var

/* A fully fetched result: cells[row * ncols + col] is NUL-terminated text or NULL. */
struct db_res {
	size_t nrows, ncols;
	char **cells;
	char **names; /* column names (aliases) */
	const char *types; /* the query's result signature */
	unsigned char *is_time; /* per column: a DATETIME/TIMESTAMP (UTC) */
};

/* Process-wide setup of the client library; call once before any thread starts. */
int db_library_init(void);
void db_library_end(void);
/* Per-thread setup/teardown of the client library (call around a thread's db use). */
void db_thread_init(void);
void db_thread_end(void);

/*
 * Connects with the [db] settings of cfg; utf8mb4, UTC session time zone.
 * *out is set even when the connection fails (XQ_EDB): the handle then
 * reconnects on first use. Free it with db_close().
 */
int db_open(struct db **out /* OUT */, const struct config *cfg);
/* Server errors and failed connects since start (for /metrics). */
uint64_t db_errors_total(void);
void db_close(struct db *db);
/* Round trip to the server (reconnects if the connection was lost). */
int db_ping(struct db *db);

/*
 * Runs q with the varargs described by q->params. If res is non-NULL the rows
 * are fetched into it (caller releases with db_res_release); q must then have
 * results. On error res is left empty.
 */
int db_run(struct db *db, const struct db_query *q, struct db_res *res, ...);
/* Rows changed and the AUTO_INCREMENT id of the last db_run on db. */
int64_t db_affected(struct db *db);
int64_t db_insert_id(struct db *db);
/* Last server error number and message (for logs and tests). */
unsigned db_errno(struct db *db);
const char *db_errmsg(struct db *db);

/*
 * Prepares every DB_QUERY of the running program and compares parameter and
 * column counts with the signatures. Prints one line per problem to stderr;
 * returns the number of bad queries (0: all good) or -1 if nothing could be
 * checked. *nchecked gets the number of queries seen.
 */
int db_check_queries(struct db *db, int *nchecked /* OUT */);

/* Raw SQL without parameters: only for migrations and administrative DDL. */
int db_exec_script(struct db *db, const char *sql);

void db_res_release(struct db_res *res);
const char *db_str(const struct db_res *res, size_t row, size_t col); /* NULL if SQL NULL */
int64_t db_i64(const struct db_res *res, size_t row, size_t col);    /* 0 if NULL */
/*
 * Row as a JSON object keyed by column names, typed by the result signature.
 * DATETIME/TIMESTAMP columns (stored in UTC) become RFC 3339 strings with a
 * Z suffix, e.g. "2026-11-22T03:57:42.992Z", so no client guesses the zone.
 */
struct cJSON *db_row_json(const struct db_res *res, size_t row);
/* All rows as a JSON array of objects. */
struct cJSON *db_rows_json(const struct db_res *res);

/*
 * Bulk statements (billing area): one single-row INSERT/UPDATE/DELETE q run
 * for many rows in one round trip (MariaDB array binding, COM_STMT_BULK_EXECUTE),
 * so the SQL stays a plain prepared statement and no value is ever put
 * into SQL text. Add each row's parameters in signature order:
 *   struct db_bulk *b = db_bulk_new(&q_line_insert);
 *   db_bulk_i64(b, bill_id); db_bulk_str(b, label); db_bulk_null(b); ...
 *   rc = db_bulk_run(db, b);     (runs every row added, then empties b)
 * Letters 'l', 'i', 'L' take db_bulk_i64 (or db_bulk_null for 'L'), 's'
 * takes db_bulk_str (NULL binds SQL NULL; the text is copied). Rows are
 * sent DB_BULK_CHUNK at a time. Errors map as for db_run(); inside db_tx()
 * a failed bulk means the whole transaction is rolled back.
 */
#define DB_BULK_CHUNK 2000
struct db_bulk;
struct db_bulk *db_bulk_new(const struct db_query *q);
void db_bulk_i64(struct db_bulk *b, int64_t v);
void db_bulk_str(struct db_bulk *b, const char *s);
void db_bulk_null(struct db_bulk *b);
size_t db_bulk_rows(const struct db_bulk *b);
void db_bulk_clear(struct db_bulk *b);
int db_bulk_run(struct db *db, struct db_bulk *b);
void db_bulk_free(struct db_bulk *b);

/*
 * Runs fn in a transaction. fn returns XQ_OK to commit, anything else to roll
 * back. On XQ_EAGAIN (deadlock, lock timeout, Galera certification failure)
 * the whole transaction is retried, up to 5 times with a short backoff, so fn
 * must have no effects outside the database. Returns fn's result.
 */
int db_tx(struct db *db, int (*fn)(struct db *db, void *arg), void *arg);

#endif
