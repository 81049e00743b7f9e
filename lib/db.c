/*
 * db.c - the MariaDB Connector/C wrapper: connection, prepared statement
 * cache keyed by the static struct db_query address, binding from
 * signatures, fetching everything as text, and the transaction retry loop.
 * Queries per table family live beside their callers, never here.
 */
#include "db.h"
#include "log.h"

#include <cjson/cJSON.h>
#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>

#define STMT_CACHE_MAX 512
#define MAX_PARAMS 64

struct stmt_slot {
	const struct db_query *q;
	MYSQL_STMT *st;
};

struct db {
	MYSQL *my;
	const struct config *cfg;
	struct stmt_slot cache[STMT_CACHE_MAX];
	size_t ncache;
	int in_tx;
	int64_t affected, insert_id;
	unsigned last_errno;
	char last_err[256];
};

int db_library_init(void)
{
	if (mysql_library_init(0, NULL, NULL))
		return xq_error(XQ_EDB, "mysql_library_init failed");
	return XQ_OK;
}

void db_library_end(void) { mysql_library_end(); }

void db_thread_init(void) { mysql_thread_init(); }
void db_thread_end(void) { mysql_thread_end(); }

static void cache_clear(struct db *db)
{
	for (size_t i = 0; i < db->ncache; i++)
		mysql_stmt_close(db->cache[i].st);
	db->ncache = 0;
}

static atomic_uint_fast64_t db_error_count;

uint64_t db_errors_total(void)
{
	return atomic_load(&db_error_count);
}

static int connect_my(struct db *db)
{
	const struct config *cfg = db->cfg;
	unsigned timeout = 5;
	const char *host = *cfg->db_host ? cfg->db_host : NULL;
	const char *sock = host ? NULL : cfg->db_socket;

	db->my = mysql_init(NULL);
	if (!db->my)
		return xq_error(XQ_EDB, "mysql_init failed");
	mysql_options(db->my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(db->my, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(db->my, MYSQL_INIT_COMMAND, "SET time_zone = '+00:00'");
	if (!mysql_real_connect(db->my, host, cfg->db_user, cfg->db_password, cfg->db_name,
				(unsigned)cfg->db_port, sock, 0)) {
		db->last_errno = mysql_errno(db->my);
		snprintf(db->last_err, sizeof(db->last_err), "%s", mysql_error(db->my));
		atomic_fetch_add(&db_error_count, 1);
		log_error("db connect to '%s' failed: %s", host ? host : sock, db->last_err);
		mysql_close(db->my);
		db->my = NULL;
		return XQ_EDB;
	}
	return XQ_OK;
}

int db_open(struct db **out, const struct config *cfg)
{
	struct db *db = xq_calloc(1, sizeof(*db));
	int rc;

	db->cfg = cfg;
	rc = connect_my(db);
	/* the handle is returned even when the server is away: db_run() reconnects
	 * lazily, so a worker started before the database still comes good */
	*out = db;
	return rc;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	cache_clear(db);
	if (db->my)
		mysql_close(db->my);
	free(db);
}

static int reconnect(struct db *db)
{
	cache_clear(db);
	if (db->my)
		mysql_close(db->my);
	db->my = NULL;
	db->in_tx = 0;
	return connect_my(db);
}

int db_ping(struct db *db)
{
	if (db->my && mysql_ping(db->my) == 0)
		return XQ_OK;
	return reconnect(db);
}

static int is_conn_lost(unsigned e)
{
	return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST || e == CR_CONNECTION_ERROR ||
	       e == CR_CONN_HOST_ERROR || e == ER_CONNECTION_KILLED;
}

/* Maps a server error to our result codes (see db.h) and records it. */
static int map_err(struct db *db, unsigned e, const char *msg, const char *qname)
{
	db->last_errno = e;
	snprintf(db->last_err, sizeof(db->last_err), "%s", msg);
	switch (e) {
	case ER_DUP_ENTRY:
		return XQ_ECONFLICT;
	case ER_ROW_IS_REFERENCED:
	case ER_ROW_IS_REFERENCED_2:
		return XQ_EINUSE;
	case ER_NO_REFERENCED_ROW:
	case ER_NO_REFERENCED_ROW_2:
		return XQ_EINVAL;
	case ER_LOCK_DEADLOCK:
	case ER_LOCK_WAIT_TIMEOUT:
		log_warn("query '%s' hit lock conflict %u, will retry", qname, e);
		return XQ_EAGAIN;
	case ER_DATA_TOO_LONG:
	case ER_TRUNCATED_WRONG_VALUE:
	case ER_TRUNCATED_WRONG_VALUE_FOR_FIELD:
	case ER_WARN_DATA_OUT_OF_RANGE:
	case ER_BAD_NULL_ERROR:
	case ER_CONSTRAINT_FAILED:
		return XQ_EINVAL;
	default:
		atomic_fetch_add(&db_error_count, 1);
		log_error("query '%s' failed: %u %s", qname, e, msg);
		return XQ_EDB;
	}
}

static MYSQL_STMT *stmt_get(struct db *db, const struct db_query *q, int *rc)
{
	MYSQL_STMT *st;

	for (size_t i = 0; i < db->ncache; i++)
		if (db->cache[i].q == q)
			return db->cache[i].st;
	st = mysql_stmt_init(db->my);
	if (!st) {
		*rc = XQ_EDB;
		return NULL;
	}
	if (mysql_stmt_prepare(st, q->sql, strlen(q->sql))) {
		*rc = map_err(db, mysql_stmt_errno(st), mysql_stmt_error(st), q->name);
		mysql_stmt_close(st);
		return NULL;
	}
	/* A mismatch between a signature and the SQL is our bug, not the world's. */
	if (mysql_stmt_param_count(st) != strlen(q->params) ||
	    mysql_stmt_field_count(st) != strlen(q->results ? q->results : "")) {
		log_error("query '%s' signature mismatch: sql has %lu params / %u columns,"
			  " signature '%s' / '%s'", q->name, mysql_stmt_param_count(st),
			  mysql_stmt_field_count(st), q->params, q->results ? q->results : "");
		XQ_ASSERT(!"query signature does not match its SQL");
	}
	if (db->ncache < STMT_CACHE_MAX) {
		db->cache[db->ncache].q = q;
		db->cache[db->ncache].st = st;
		db->ncache++;
	}
	return st;
}

static void res_init(struct db_res *res, const char *types)
{
	memset(res, 0, sizeof(*res));
	res->types = types;
}

static int fetch_all(struct db *db, const struct db_query *q, MYSQL_STMT *st, struct db_res *res)
{
	MYSQL_RES *meta = mysql_stmt_result_metadata(st);
	MYSQL_FIELD *fields;
	MYSQL_BIND *bind = NULL;
	unsigned long *lens = NULL;
	my_bool *nulls = NULL, *errs = NULL;
	char **bufs = NULL;
	size_t ncols, cap = 0;
	int rc = XQ_OK, f;

	if (!meta)
		return map_err(db, mysql_stmt_errno(st), mysql_stmt_error(st), q->name);
	ncols = mysql_num_fields(meta);
	fields = mysql_fetch_fields(meta);
	res->ncols = ncols;
	res->names = xq_calloc(ncols, sizeof(char *));
	res->is_time = xq_calloc(ncols, 1);
	bind = xq_calloc(ncols, sizeof(*bind));
	lens = xq_calloc(ncols, sizeof(*lens));
	nulls = xq_calloc(ncols, sizeof(*nulls));
	errs = xq_calloc(ncols, sizeof(*errs));
	bufs = xq_calloc(ncols, sizeof(char *));
	for (size_t c = 0; c < ncols; c++) {
		res->names[c] = xq_strdup(fields[c].name);
		res->is_time[c] = fields[c].type == MYSQL_TYPE_DATETIME ||
				  fields[c].type == MYSQL_TYPE_TIMESTAMP;
		bufs[c] = xq_malloc(64);
		bind[c].buffer_type = MYSQL_TYPE_STRING;
		bind[c].buffer = bufs[c];
		bind[c].buffer_length = 64;
		bind[c].length = &lens[c];
		bind[c].is_null = &nulls[c];
		bind[c].error = &errs[c];
	}
	if (mysql_stmt_bind_result(st, bind) || mysql_stmt_store_result(st)) {
		rc = map_err(db, mysql_stmt_errno(st), mysql_stmt_error(st), q->name);
		goto out;
	}
	while ((f = mysql_stmt_fetch(st)) == 0 || f == MYSQL_DATA_TRUNCATED) {
		if (res->nrows == cap) {
			cap = cap ? cap * 2 : 16;
			res->cells = xq_realloc(res->cells, cap * ncols * sizeof(char *));
		}
		for (size_t c = 0; c < ncols; c++) {
			char **cell = &res->cells[res->nrows * ncols + c];
			if (nulls[c]) {
				*cell = NULL;
			} else if (lens[c] <= 63) {
				*cell = xq_strndup(bufs[c], lens[c]);
			} else {
				/* Too long for the first buffer: fetch this column again, whole. */
				MYSQL_BIND b1;
				unsigned long l1 = 0;
				memset(&b1, 0, sizeof(b1));
				*cell = xq_malloc(lens[c] + 1);
				b1.buffer_type = MYSQL_TYPE_STRING;
				b1.buffer = *cell;
				b1.buffer_length = lens[c] + 1;
				b1.length = &l1;
				if (mysql_stmt_fetch_column(st, &b1, (unsigned)c, 0)) {
					(*cell)[0] = '\0';
					rc = map_err(db, mysql_stmt_errno(st), mysql_stmt_error(st), q->name);
				} else {
					(*cell)[lens[c]] = '\0';
				}
			}
		}
		res->nrows++;
	}
	if (f != MYSQL_NO_DATA && rc == XQ_OK)
		rc = map_err(db, mysql_stmt_errno(st), mysql_stmt_error(st), q->name);
out:
	mysql_stmt_free_result(st);
	mysql_free_result(meta);
	for (size_t c = 0; c < ncols; c++)
		free(bufs[c]);
	free(bufs);
	free(bind);
	free(lens);
	free(nulls);
	free(errs);
	if (rc)
		db_res_release(res);
	return rc;
}

static int run_once(struct db *db, const struct db_query *q, struct db_res *res, va_list ap)
{
	MYSQL_BIND bind[MAX_PARAMS];
	int64_t ints[MAX_PARAMS];
	unsigned long lens[MAX_PARAMS];
	my_bool isnull[MAX_PARAMS];
	size_t np = strlen(q->params);
	MYSQL_STMT *st;
	int rc = XQ_OK;

	XQ_ASSERT(np <= MAX_PARAMS);
	if (!db->my && (rc = reconnect(db)))
		return rc;
	st = stmt_get(db, q, &rc);
	if (!st)
		return rc;
	memset(bind, 0, sizeof(bind[0]) * (np ? np : 1));
	for (size_t i = 0; i < np; i++) {
		isnull[i] = 0;
		bind[i].is_null = &isnull[i];
		switch (q->params[i]) {
		case 'l':
			ints[i] = va_arg(ap, int64_t);
			goto bind_int;
		case 'i':
			ints[i] = va_arg(ap, int);
			goto bind_int;
		case 'L': {
			const int64_t *p = va_arg(ap, const int64_t *);
			if (p)
				ints[i] = *p;
			else
				isnull[i] = 1;
		}
		bind_int:
			bind[i].buffer_type = MYSQL_TYPE_LONGLONG;
			bind[i].buffer = &ints[i];
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			bind[i].buffer_type = MYSQL_TYPE_STRING;
			if (s) {
				lens[i] = strlen(s);
				bind[i].buffer = (void *)s;
				bind[i].buffer_length = lens[i];
				bind[i].length = &lens[i];
			} else {
				isnull[i] = 1;
			}
			break;
		}
		default:
			XQ_ASSERT(!"unknown parameter signature letter");
		}
	}
	if ((np && mysql_stmt_bind_param(st, bind)) || mysql_stmt_execute(st))
		return map_err(db, mysql_stmt_errno(st), mysql_stmt_error(st), q->name);
	db->affected = (int64_t)mysql_stmt_affected_rows(st);
	db->insert_id = (int64_t)mysql_stmt_insert_id(st);
	if (res) {
		XQ_ASSERT(q->results && *q->results);
		return fetch_all(db, q, st, res);
	}
	if (mysql_stmt_field_count(st))
		mysql_stmt_free_result(st);
	return XQ_OK;
}

int db_run(struct db *db, const struct db_query *q, struct db_res *res, ...)
{
	va_list ap;
	int rc;

	if (res)
		res_init(res, q->results);
	va_start(ap, res);
	rc = run_once(db, q, res, ap);
	va_end(ap);
	if (rc == XQ_EDB && is_conn_lost(db->last_errno)) {
		/* Outside a transaction a lost connection is retried once, transparently.
		 * Inside one the work is gone: report XQ_EAGAIN so db_tx() restarts it. */
		int was_tx = db->in_tx;
		log_warn("db connection lost during '%s', reconnecting", q->name);
		if ((rc = reconnect(db)))
			return rc;
		if (was_tx)
			return XQ_EAGAIN;
		if (res)
			res_init(res, q->results);
		va_start(ap, res);
		rc = run_once(db, q, res, ap);
		va_end(ap);
	}
	return rc;
}

int64_t db_affected(struct db *db) { return db->affected; }
int64_t db_insert_id(struct db *db) { return db->insert_id; }
unsigned db_errno(struct db *db) { return db->last_errno; }
const char *db_errmsg(struct db *db) { return db->last_err; }

int db_exec_script(struct db *db, const char *sql)
{
	int status;

	if (!db->my && reconnect(db))
		return XQ_EDB;
	mysql_set_server_option(db->my, MYSQL_OPTION_MULTI_STATEMENTS_ON);
	if (mysql_real_query(db->my, sql, strlen(sql)))
		goto fail;
	do {
		MYSQL_RES *r = mysql_store_result(db->my);
		if (r)
			mysql_free_result(r);
		status = mysql_next_result(db->my);
		if (status > 0)
			goto fail;
	} while (status == 0);
	mysql_set_server_option(db->my, MYSQL_OPTION_MULTI_STATEMENTS_OFF);
	return XQ_OK;
fail:
	db->last_errno = mysql_errno(db->my);
	snprintf(db->last_err, sizeof(db->last_err), "%s", mysql_error(db->my));
	/* drain anything left so the connection stays usable */
	while (mysql_more_results(db->my) && mysql_next_result(db->my) == 0) {
		MYSQL_RES *r = mysql_store_result(db->my);
		if (r)
			mysql_free_result(r);
	}
	mysql_set_server_option(db->my, MYSQL_OPTION_MULTI_STATEMENTS_OFF);
	return XQ_EDB;
}

extern const struct db_query *const __start_xq_queries[] __attribute__((weak));
extern const struct db_query *const __stop_xq_queries[] __attribute__((weak));

int db_check_queries(struct db *db, int *nchecked)
{
	int bad = 0;

	*nchecked = 0;
	if (!db->my && reconnect(db))
		return -1;
	for (const struct db_query *const *p = __start_xq_queries; p && p < __stop_xq_queries; p++) {
		const struct db_query *q = *p;
		MYSQL_STMT *st = mysql_stmt_init(db->my);
		size_t np = strlen(q->params), nr = strlen(q->results ? q->results : "");

		(*nchecked)++;
		if (!st)
			return -1;
		if (mysql_stmt_prepare(st, q->sql, strlen(q->sql))) {
			fprintf(stderr, "query '%s': %s\n", q->name, mysql_stmt_error(st));
			bad++;
		} else if (mysql_stmt_param_count(st) != np || mysql_stmt_field_count(st) != nr) {
			fprintf(stderr, "query '%s': sql has %lu params and %u columns, signature says"
					" %zu ('%s') and %zu ('%s')\n",
				q->name, mysql_stmt_param_count(st), mysql_stmt_field_count(st), np,
				q->params, nr, q->results ? q->results : "");
			bad++;
		}
		mysql_stmt_close(st);
	}
	return bad;
}

void db_res_release(struct db_res *res)
{
	if (!res)
		return;
	for (size_t i = 0; i < res->nrows * res->ncols; i++)
		free(res->cells[i]);
	for (size_t c = 0; c < res->ncols && res->names; c++)
		free(res->names[c]);
	free(res->cells);
	free(res->names);
	free(res->is_time);
	res->cells = NULL;
	res->names = NULL;
	res->is_time = NULL;
	res->nrows = res->ncols = 0;
}

const char *db_str(const struct db_res *res, size_t row, size_t col)
{
	XQ_ASSERT(row < res->nrows && col < res->ncols);
	return res->cells[row * res->ncols + col];
}

int64_t db_i64(const struct db_res *res, size_t row, size_t col)
{
	const char *s = db_str(res, row, col);
	return s ? strtoll(s, NULL, 10) : 0;
}

cJSON *db_row_json(const struct db_res *res, size_t row)
{
	cJSON *o = cJSON_CreateObject();

	for (size_t c = 0; c < res->ncols; c++) {
		const char *s = db_str(res, row, c);
		char t = res->types && c < strlen(res->types) ? res->types[c] : 's';
		cJSON *v;

		if (!s) {
			v = cJSON_CreateNull();
		} else if (res->is_time && res->is_time[c] && strlen(s) >= 19 && strlen(s) < 40) {
			char iso[48];
			xq_snprintf(iso, sizeof(iso), "%.10sT%sZ", s, s + 11);
			v = cJSON_CreateString(iso);
		} else if (t == 'l')
			v = cJSON_CreateNumber((double)strtoll(s, NULL, 10));
		else if (t == 'b')
			v = cJSON_CreateBool(strcmp(s, "0") != 0);
		else if (t == 'j' && (v = cJSON_Parse(s)) != NULL)
			; /* stored JSON, passed through as a tree */
		else
			v = cJSON_CreateString(s);
		cJSON_AddItemToObject(o, res->names[c], v);
	}
	return o;
}

cJSON *db_rows_json(const struct db_res *res)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t r = 0; r < res->nrows; r++)
		cJSON_AddItemToArray(a, db_row_json(res, r));
	return a;
}

DB_QUERY(q_begin) = { "begin", "START TRANSACTION", "", NULL };
DB_QUERY(q_commit) = { "commit", "COMMIT", "", NULL };
DB_QUERY(q_rollback) = { "rollback", "ROLLBACK", "", NULL };

int db_tx(struct db *db, int (*fn)(struct db *, void *), void *arg)
{
	int rc = XQ_EAGAIN;

	for (int attempt = 0; attempt < 5; attempt++) {
		if (attempt)
			usleep((useconds_t)(10000 << attempt)); /* 20, 40, 80, 160 ms */
		if ((rc = db_run(db, &q_begin, NULL)))
			continue;
		db->in_tx = 1;
		rc = fn(db, arg);
		if (rc == XQ_OK)
			rc = db_run(db, &q_commit, NULL);
		if (rc != XQ_OK && db->my)
			db_run(db, &q_rollback, NULL);
		db->in_tx = 0;
		if (rc != XQ_EAGAIN)
			return rc;
	}
	return rc;
}

/* ---- bulk statements (billing area) ------------------------------------- */

struct db_bulk {
	const struct db_query *q;
	size_t np;           /* parameters per row */
	size_t n, cap;       /* cells added, cells allocated (row-major) */
	int64_t *ints;       /* integer value, or the string's offset in text */
	char *ind;           /* 0 value, 1 NULL */
	char *text;          /* the strings, NUL-terminated, back to back */
	size_t tlen, tcap;
};

struct db_bulk *db_bulk_new(const struct db_query *q)
{
	struct db_bulk *b = xq_calloc(1, sizeof(*b));

	b->q = q;
	b->np = strlen(q->params);
	XQ_ASSERT(b->np > 0);
	return b;
}

static size_t bulk_cell(struct db_bulk *b)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64 * b->np;
		b->ints = xq_realloc(b->ints, b->cap * sizeof(*b->ints));
		b->ind = xq_realloc(b->ind, b->cap);
	}
	return b->n++;
}

void db_bulk_i64(struct db_bulk *b, int64_t v)
{
	size_t c = bulk_cell(b);

	XQ_ASSERT(b->q->params[c % b->np] != 's');
	b->ints[c] = v;
	b->ind[c] = 0;
}

void db_bulk_null(struct db_bulk *b)
{
	size_t c = bulk_cell(b);
	char t = b->q->params[c % b->np];

	XQ_ASSERT(t == 's' || t == 'L');
	b->ints[c] = 0;
	b->ind[c] = 1;
}

void db_bulk_str(struct db_bulk *b, const char *s)
{
	size_t c, len;

	if (!s) {
		db_bulk_null(b);
		return;
	}
	c = bulk_cell(b);
	XQ_ASSERT(b->q->params[c % b->np] == 's');
	len = strlen(s) + 1;
	if (b->tlen + len > b->tcap) {
		b->tcap = (b->tlen + len) * 2;
		b->text = xq_realloc(b->text, b->tcap);
	}
	memcpy(b->text + b->tlen, s, len);
	b->ints[c] = (int64_t)b->tlen;
	b->ind[c] = 0;
	b->tlen += len;
}

size_t db_bulk_rows(const struct db_bulk *b)
{
	return b->n / b->np;
}

void db_bulk_clear(struct db_bulk *b)
{
	b->n = 0;
	b->tlen = 0;
}

void db_bulk_free(struct db_bulk *b)
{
	if (!b)
		return;
	free(b->ints);
	free(b->ind);
	free(b->text);
	free(b);
}

/* Rows [r0, r0 + nr) of b, column-wise, in one execution. */
static int bulk_once(struct db *db, struct db_bulk *b, size_t r0, size_t nr)
{
	size_t np = b->np;
	MYSQL_BIND *bind = xq_calloc(np, sizeof(*bind));
	int64_t *ints = xq_malloc(np * nr * sizeof(*ints));
	char **ptrs = xq_malloc(np * nr * sizeof(*ptrs));
	unsigned long *lens = xq_malloc(np * nr * sizeof(*lens));
	char *ind = xq_malloc(np * nr);
	unsigned int size = (unsigned int)nr, zero = 0;
	MYSQL_STMT *st;
	int rc = XQ_OK;

	if (!db->my && (rc = reconnect(db)))
		goto out;
	if (!(st = stmt_get(db, b->q, &rc)))
		goto out;
	for (size_t c = 0; c < np; c++) {
		int is_str = b->q->params[c] == 's';
		for (size_t r = 0; r < nr; r++) {
			size_t cell = (r0 + r) * np + c, k = c * nr + r;
			ind[k] = b->ind[cell] ? STMT_INDICATOR_NULL : STMT_INDICATOR_NONE;
			if (is_str) {
				ptrs[k] = b->ind[cell] ? NULL : b->text + b->ints[cell];
				lens[k] = ptrs[k] ? strlen(ptrs[k]) : 0;
			} else {
				ints[k] = b->ints[cell];
			}
		}
		bind[c].buffer_type = is_str ? MYSQL_TYPE_STRING : MYSQL_TYPE_LONGLONG;
		bind[c].buffer = is_str ? (void *)(ptrs + c * nr) : (void *)(ints + c * nr);
		bind[c].length = is_str ? lens + c * nr : NULL;
		bind[c].u.indicator = ind + c * nr;
	}
	if (mysql_stmt_attr_set(st, STMT_ATTR_ARRAY_SIZE, &size) || mysql_stmt_bind_param(st, bind) ||
	    mysql_stmt_execute(st))
		rc = map_err(db, mysql_stmt_errno(st), mysql_stmt_error(st), b->q->name);
	else
		db->affected += (int64_t)mysql_stmt_affected_rows(st);
	/* the cached statement goes back to single-row use */
	mysql_stmt_attr_set(st, STMT_ATTR_ARRAY_SIZE, &zero);
out:
	free(bind);
	free(ints);
	free(ptrs);
	free(lens);
	free(ind);
	return rc;
}

int db_bulk_run(struct db *db, struct db_bulk *b)
{
	size_t rows = db_bulk_rows(b);
	int rc = XQ_OK;

	XQ_ASSERT(b->n % b->np == 0);
	db->affected = 0;
	for (size_t r0 = 0; r0 < rows && rc == XQ_OK; r0 += DB_BULK_CHUNK) {
		size_t nr = rows - r0 < DB_BULK_CHUNK ? rows - r0 : DB_BULK_CHUNK;
		rc = bulk_once(db, b, r0, nr);
		if (rc == XQ_EDB && is_conn_lost(db->last_errno)) {
			/* as db_run(): inside a transaction the work is gone, so db_tx() restarts it */
			int was_tx = db->in_tx;
			log_warn("db connection lost during bulk '%s', reconnecting", b->q->name);
			if ((rc = reconnect(db)) == XQ_OK && was_tx)
				rc = XQ_EAGAIN;
			else if (rc == XQ_OK)
				rc = bulk_once(db, b, r0, nr);
		}
	}
	db_bulk_clear(b);
	return rc;
}
