/*
 * crud.c - shared plumbing of the console's CRUD handlers (see crud.h).
 * Each resource file keeps its own SQL and field tables; what is the same
 * for all of them - transactions, audit rows, paging, error messages - is here.
 */
#include "crud.h"
#include "audit.h"
#include "log.h"
#include "xlsx_export.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int api_decode(struct req *rq, const struct json_field *fields, size_t n, void *out)
{
	char msg[256], field[64];
	cJSON *root = NULL;
	int rc;

	rc = json_decode(rq->body.data, rq->body.len, fields, n, out, &root, msg, sizeof(msg),
			 field, sizeof(field));
	if (rc) {
		resp_fail_msg(rq, rc, msg, field);
		return rc;
	}
	req_json_keep(rq, root);
	return XQ_OK;
}

int api_query_int(struct req *rq, const char *name, int64_t def, int64_t min, int64_t max,
		  int64_t *out)
{
	const char *v = req_query(rq, name);
	char msg[160];

	*out = def;
	if (!v || !*v)
		return XQ_OK;
	if (xq_parse_i64(v, out) || *out < min || *out > max) {
		snprintf(msg, sizeof(msg), "查询参数 %s 必须是 %lld 到 %lld 之间的整数", name,
			 (long long)min, (long long)max);
		resp_fail_msg(rq, XQ_EINVAL, msg, name);
		return XQ_EINVAL;
	}
	return XQ_OK;
}

int api_page(struct req *rq, struct page *pg)
{
	if (rq->export_sheet) {
		/* an export: every row from the start, up to the cap (xlsx_export.h) */
		pg->page = 1;
		pg->size = XLSX_MAX_ROWS;
		pg->offset = 0;
		return XQ_OK;
	}
	if (api_query_int(rq, "page", 1, 1, 1000000, &pg->page) ||
	    api_query_int(rq, "page_size", 20, 1, 200, &pg->size))
		return XQ_EINVAL;
	pg->offset = (pg->page - 1) * pg->size;
	return XQ_OK;
}

int api_opt_id(struct req *rq, const char *name, int64_t *store, const int64_t **out)
{
	const char *v = req_query(rq, name);

	*out = NULL;
	if (!v || !*v)
		return XQ_OK;
	if (api_query_int(rq, name, 0, 1, INT64_MAX, store))
		return XQ_EINVAL;
	*out = store;
	return XQ_OK;
}

const char *api_like(struct req *rq, const char *name)
{
	const char *v = req_query(rq, name);
	size_t n, j = 0;
	char *out;

	if (!v || !*v)
		return "";
	n = strlen(v);
	if (n > 100)
		n = 100;
	out = xq_malloc(2 * n + 3);
	req_defer(rq, free, out);
	out[j++] = '%';
	for (size_t i = 0; i < n; i++) {
		/* the client's wildcards are literal characters to us */
		if (v[i] == '%' || v[i] == '_' || v[i] == '\\')
			out[j++] = '\\';
		out[j++] = v[i];
	}
	out[j++] = '%';
	out[j] = '\0';
	return out;
}

int api_opt_enum(struct req *rq, const char *name, const char *const *values, const char **out)
{
	const char *v = req_query(rq, name);
	char msg[160];

	*out = NULL;
	if (!v || !*v)
		return XQ_OK;
	for (const char *const *e = values; *e; e++)
		if (!strcmp(*e, v)) {
			*out = *e;
			return XQ_OK;
		}
	snprintf(msg, sizeof(msg), "查询参数 %s 的取值不正确", name);
	resp_fail_msg(rq, XQ_EINVAL, msg, name);
	return XQ_EINVAL;
}

int api_list_reply(struct req *rq, int rc, struct db_res *count, struct db_res *rows,
		   const struct page *pg)
{
	cJSON *o;

	if (rq->export_sheet)
		return xlsx_reply(rq, rc, count, rows);
	if (rc) {
		db_res_release(count);
		db_res_release(rows);
		return resp_fail(rq, rc);
	}
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "items", db_rows_json(rows));
	cJSON_AddNumberToObject(o, "total", (double)db_i64(count, 0, 0));
	cJSON_AddNumberToObject(o, "page", (double)pg->page);
	cJSON_AddNumberToObject(o, "page_size", (double)pg->size);
	db_res_release(count);
	db_res_release(rows);
	return resp_json(rq, 200, o);
}

int crud_load_row(struct db *db, const struct db_query *q, int64_t id, cJSON **out)
{
	struct db_res r;
	int rc = db_run(db, q, &r, id);

	*out = NULL;
	if (rc)
		return rc;
	if (r.nrows == 1)
		*out = db_row_json(&r, 0);
	db_res_release(&r);
	return *out ? XQ_OK : XQ_ENOTFOUND;
}

int api_get_reply(struct req *rq, const struct crud_entity *ent, int64_t id)
{
	cJSON *row;
	int rc = crud_load_row(rq->db, ent->get, id, &row);
	char msg[128];

	if (rc == XQ_ENOTFOUND) {
		snprintf(msg, sizeof(msg), "%s不存在", ent->label_zh);
		return resp_fail_msg(rq, rc, msg, NULL);
	}
	if (rc)
		return resp_fail(rq, rc);
	return resp_json(rq, 200, row);
}

static int crud_tx(struct db *db, void *arg)
{
	struct crud_op *op = arg;
	struct audit_actor who = { op->rq->who.staff_id, op->rq->who.username,
				   op->rq->remote_addr, op->rq->rid };
	int rc;

	/* a retried transaction starts from scratch */
	cJSON_Delete(op->before);
	cJSON_Delete(op->after);
	op->before = op->after = NULL;
	op->msg[0] = op->field[0] = '\0';
	if (op->id && (rc = crud_load_row(db, op->ent->lock, op->id, &op->before)))
		return rc;
	if (op->apply)
		rc = op->apply(db, op);
	else
		rc = db_run(db, op->ent->del, NULL, op->id);
	if (rc)
		return rc;
	if (op->apply && (rc = crud_load_row(db, op->ent->get, op->id, &op->after)))
		return rc;
	return audit_write(db, &who, op->action, op->ent->name, op->id, op->before, op->after);
}

int crud_fail(struct crud_op *op, int rc)
{
	char msg[256];
	const char *m = NULL;

	if (op->msg[0])
		m = op->msg;
	else if (rc == XQ_ECONFLICT)
		m = op->ent->dup_msg_zh;
	else if (rc == XQ_EINUSE)
		m = op->ent->inuse_msg_zh;
	else if (rc == XQ_EINVAL)
		m = op->ent->fk_msg_zh;
	else if (rc == XQ_ENOTFOUND) {
		snprintf(msg, sizeof(msg), "%s不存在", op->ent->label_zh);
		m = msg;
	}
	return resp_fail_msg(op->rq, rc, m, op->field);
}

int crud_run(struct crud_op *op)
{
	int rc = db_tx(op->rq->db, crud_tx, op);
	int status;

	if (rc) {
		cJSON_Delete(op->before);
		cJSON_Delete(op->after);
		return crud_fail(op, rc);
	}
	log_info("%s %s id=%lld by '%s'", op->action, op->ent->name, (long long)op->id,
		 op->rq->who.username);
	cJSON_Delete(op->before);
	if (!op->after) {
		op->after = cJSON_CreateObject();
		cJSON_AddNumberToObject(op->after, "id", (double)op->id);
		cJSON_AddBoolToObject(op->after, "deleted", 1);
	}
	status = op->created_status ? op->created_status : 200;
	return resp_json(op->rq, status, op->after);
}

int crud_handle(struct crud_op *op, int path_id, const struct json_field *fields, size_t n)
{
	if (path_id && req_param_id(op->rq, "id", &op->id))
		return crud_fail(op, XQ_ENOTFOUND);
	if (api_decode(op->rq, fields, n, op->in))
		return op->rq->status;
	return crud_run(op);
}

int crud_delete(struct req *rq, const struct crud_entity *ent)
{
	struct crud_op op = { .rq = rq, .ent = ent, .action = "delete" };

	if (req_param_id(rq, "id", &op.id))
		return crud_fail(&op, XQ_ENOTFOUND);
	return crud_run(&op);
}

int crud_reject(struct crud_op *op, int rc, const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(op->msg, sizeof(op->msg), fmt, ap);
	va_end(ap);
	snprintf(op->field, sizeof(op->field), "%s", field ? field : "");
	return rc;
}

const char *crud_before_str(const struct crud_op *op, const char *col)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(op->before, col);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int64_t crud_before_i64(const struct crud_op *op, const char *col)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(op->before, col);
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v);
	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

int api_list_by_q(struct req *rq, const struct db_query *count, const struct db_query *page)
{
	struct page pg;
	struct db_res cnt, rows = { 0 };
	const char *like;
	int rc;

	if (api_page(rq, &pg))
		return rq->status;
	like = api_like(rq, "q");
	rc = db_run(rq->db, count, &cnt, like, like, like);
	if (rc == XQ_OK)
		rc = db_run(rq->db, page, &rows, like, like, like, pg.size, pg.offset);
	return api_list_reply(rq, rc, &cnt, &rows, &pg);
}

int crud_row_reply(struct req *rq, const struct db_query *q, const char *notfound_zh,
		   const struct crud_child *kids, size_t nkids)
{
	struct db_res r;
	int64_t id;
	cJSON *o;
	int rc;

	if (req_param_id(rq, "id", &id))
		return resp_fail_msg(rq, XQ_ENOTFOUND, notfound_zh, NULL);
	rc = crud_load_row(rq->db, q, id, &o);
	if (rc == XQ_ENOTFOUND)
		return resp_fail_msg(rq, rc, notfound_zh, NULL);
	if (rc)
		return resp_fail(rq, rc);
	for (size_t i = 0; i < nkids; i++) {
		if ((rc = db_run(rq->db, kids[i].q, &r, id))) {
			cJSON_Delete(o);
			return resp_fail(rq, rc);
		}
		cJSON_AddItemToObject(o, kids[i].key, db_rows_json(&r));
		db_res_release(&r);
	}
	return resp_json(rq, 200, o);
}
