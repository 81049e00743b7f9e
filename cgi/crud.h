/*
 * crud.h - what the console's create/read/update/delete handlers share:
 * body decoding into a field table, pagination and filters from the query
 * string, and crud_run(), which performs a change in one transaction with
 * the before/after audit row and answers with the stored row.
 */
#ifndef XQ_CRUD_H
#define XQ_CRUD_H

#include "api.h"
#include "db.h"
#include "json.h"

struct crud_entity {
	const char *name;     /* audit entity name, e.g. "house" */
	const char *label_zh; /* "房屋", used in messages */
	const struct db_query *get;  /* params "l" (id) -> one row, the public shape */
	const struct db_query *lock; /* the same row with FOR UPDATE */
	const struct db_query *del;  /* params "l" */
	const char *fk_msg_zh;    /* a referenced parent row does not exist */
	const char *dup_msg_zh;   /* a unique key would be violated */
	const char *inuse_msg_zh; /* delete refused because rows refer to it */
};

struct crud_op {
	struct req *rq;
	const struct crud_entity *ent;
	const char *action; /* "create", "update", "delete" or a verb like "replace" */
	int64_t id;         /* the row changed; apply() sets it on create */
	/* The writes, inside the transaction; NULL for delete. May set msg/field. */
	int (*apply)(struct db *db, struct crud_op *op);
	void *in;      /* the decoded request */
	cJSON *before; /* filled by crud_run */
	cJSON *after;
	int created_status; /* status on success: 201 for create, 200 otherwise */
	char msg[256];
	char field[64];
};

/*
 * Decodes rq's JSON body into out. On failure it has already responded (400
 * with a Chinese message naming the field) and returns non-zero; the handler
 * then returns rq->status.
 */
int api_decode(struct req *rq, const struct json_field *fields, size_t n, void *out);

struct page {
	int64_t page, size, offset;
};

/* page (>=1, default 1) and page_size (1..200, default 20) from the query. Responds on error. */
int api_page(struct req *rq, struct page *pg /* OUT */);
/*
 * Integer query parameter NAME in [min, max], def when absent or empty: XQ_OK,
 * or XQ_EINVAL with the 400 envelope (naming the parameter) already written.
 */
int api_query_int(struct req *rq, const char *name, int64_t def, int64_t min, int64_t max,
		  int64_t *out /* OUT */);
/* An optional positive integer query filter: *out points at store, or is NULL if absent. Responds on error. */
int api_opt_id(struct req *rq, const char *name, int64_t *store, const int64_t **out /* OUT */);
/* An optional text filter for LIKE: "%term%" with % and _ escaped, or "" if absent. */
const char *api_like(struct req *rq, const char *name);
/* An optional enum filter; NULL if absent; responds 400 if not in values. */
int api_opt_enum(struct req *rq, const char *name, const char *const *values, const char **out);

/* Answers {items, total, page, page_size} from a count result and a page of rows; releases both. */
int api_list_reply(struct req *rq, int rc, struct db_res *count, struct db_res *rows,
		   const struct page *pg);
/* Answers one row of q (params "l") or 404. */
int api_get_reply(struct req *rq, const struct crud_entity *ent, int64_t id);

/*
 * The list of a resource searched only by "q": both queries take the LIKE
 * pattern three times (count: "sss"; page: "sssll" with LIMIT and OFFSET).
 */
int api_list_by_q(struct req *rq, const struct db_query *count, const struct db_query *page);

/* Runs op in a transaction: lock+before, apply, after, audit; then responds. */
int crud_run(struct crud_op *op);
/*
 * The whole of a typical write route: the {id} from the path when path_id
 * (404 if it is not a positive integer), the body decoded into op->in by
 * fields, then crud_run(op).
 */
int crud_handle(struct crud_op *op, int path_id, const struct json_field *fields, size_t n);
/* DELETE of the {id} in the path, audited. */
int crud_delete(struct req *rq, const struct crud_entity *ent);
/* Refuses op from inside apply(): sets the Chinese message and the field, returns rc. */
int crud_reject(struct crud_op *op, int rc, const char *field, const char *fmt, ...)
	XQ_PRINTF(4, 5);
/* A column of the locked row in op->before: text (NULL if SQL NULL) or integer (0 if NULL). */
const char *crud_before_str(const struct crud_op *op, const char *col);
int64_t crud_before_i64(const struct crud_op *op, const char *col);
/* One row of q (params "l") as JSON into *out; XQ_ENOTFOUND if none. */
int crud_load_row(struct db *db, const struct db_query *q, int64_t id, cJSON **out /* OUT */);

/* A list put beside a row by crud_row_reply(): rows of q (params "l", the id) under key. */
struct crud_child {
	const char *key;
	const struct db_query *q;
};
/*
 * GET of one row by the path's {id} with child lists: the row of q, each
 * child's rows added under its key, 200. 404 with notfound_zh when the id is
 * bad or has no row. Responds in every case; returns the HTTP status.
 */
int crud_row_reply(struct req *rq, const struct db_query *q, const char *notfound_zh,
		   const struct crud_child *kids, size_t nkids);
/* Response for a failed op: maps codes to the entity's messages. */
int crud_fail(struct crud_op *op, int rc);

#endif
