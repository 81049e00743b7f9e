/*
 * api_notice.c - notices (公告): what residents read in the mini-program and
 * what staff write in the console. A notice is draft -> published ->
 * withdrawn (and may be published again); residents see published notices
 * inside [publish_at, expire_at) for the communities of their bound houses
 * and those for every community (community_id NULL), pinned first.
 * Staff writes go through crud_run(): one transaction, one audit row.
 */
#include "caldate.h"
#include "crud.h"

#include <stdio.h>
#include <string.h>

/* ---- residents ------------------------------------------------------------ */

#define NOTICE_VISIBLE                                                                          \
	" n.status = 'published' AND (n.publish_at IS NULL OR n.publish_at <= NOW(3))"          \
	" AND (n.expire_at IS NULL OR n.expire_at > NOW(3))"                                    \
	" AND (n.community_id IS NULL OR n.community_id IN (SELECT b.community_id"              \
	"   FROM wx_binding wb JOIN house h ON h.id = wb.house_id"                              \
	"   JOIN building b ON b.id = h.building_id"                                            \
	"   WHERE wb.wx_user_id = ? AND wb.status = 'active'))"
#define RNOTICE_COLS "n.id, n.community_id, c.name AS community_name, n.title, n.pinned," \
	" n.publish_at, n.expire_at"
#define RNOTICE_SIG "llssbss"
#define NOTICE_FROM " FROM notice n LEFT JOIN community c ON c.id = n.community_id"

DB_QUERY(q_rnotice_count) = {
	"resident_notice_count", "SELECT COUNT(*) FROM notice n WHERE" NOTICE_VISIBLE, "l", "l",
};
DB_QUERY(q_rnotice_page) = {
	"resident_notice_page",
	"SELECT " RNOTICE_COLS NOTICE_FROM " WHERE" NOTICE_VISIBLE
	" ORDER BY n.pinned DESC, n.publish_at DESC, n.id DESC LIMIT ? OFFSET ?",
	"lll",
	RNOTICE_SIG,
};
DB_QUERY(q_rnotice_get) = {
	"resident_notice_get",
	"SELECT " RNOTICE_COLS ", n.body" NOTICE_FROM " WHERE n.id = ? AND" NOTICE_VISIBLE,
	"ll",
	RNOTICE_SIG "s",
};

int api_resident_notices(struct req *rq)
{
	struct db_res cnt, rows = { 0 };
	struct page pg;
	int rc;

	if (api_page(rq, &pg))
		return rq->status;
	rc = db_run(rq->db, &q_rnotice_count, &cnt, rq->who.wx_user_id);
	if (rc == XQ_OK)
		rc = db_run(rq->db, &q_rnotice_page, &rows, rq->who.wx_user_id, pg.size, pg.offset);
	return api_list_reply(rq, rc, &cnt, &rows, &pg);
}

int api_resident_notice_get(struct req *rq)
{
	struct db_res r;
	int64_t id;
	cJSON *o;
	int rc;

	if (req_param_id(rq, "id", &id))
		return resp_fail_msg(rq, XQ_ENOTFOUND, "公告不存在", NULL);
	if ((rc = db_run(rq->db, &q_rnotice_get, &r, id, rq->who.wx_user_id)))
		return resp_fail(rq, rc);
	/* a draft, a withdrawn or expired notice, another community's: all "not found" */
	if (r.nrows != 1) {
		db_res_release(&r);
		return resp_fail_msg(rq, XQ_ENOTFOUND, "公告不存在", NULL);
	}
	o = db_row_json(&r, 0);
	db_res_release(&r);
	return resp_json(rq, 200, o);
}

/* ---- staff --------------------------------------------------------------------- */

#define NOTICE_COLS "n.id, n.community_id, c.name AS community_name, n.title, n.body, n.status," \
	" n.pinned, n.publish_at, n.expire_at, n.created_by, n.created_at, n.updated_at"
#define NOTICE_SIG "llssssbsslss"
#define NOTICE_FILTER " WHERE (? IS NULL OR n.community_id = ?) AND (? IS NULL OR n.status = ?)"

DB_QUERY(q_notice_get) = {
	"notice_get", "SELECT " NOTICE_COLS NOTICE_FROM " WHERE n.id = ?", "l", NOTICE_SIG,
};
DB_QUERY(q_notice_lock) = {
	"notice_lock", "SELECT " NOTICE_COLS NOTICE_FROM " WHERE n.id = ? FOR UPDATE", "l",
	NOTICE_SIG,
};
DB_QUERY(q_notice_count) = {
	"notice_count", "SELECT COUNT(*)" NOTICE_FROM NOTICE_FILTER, "LLss", "l",
};
DB_QUERY(q_notice_page) = {
	"notice_page",
	"SELECT " NOTICE_COLS NOTICE_FROM NOTICE_FILTER
	" ORDER BY n.pinned DESC, n.updated_at DESC, n.id DESC LIMIT ? OFFSET ?",
	"LLssll", NOTICE_SIG,
};
DB_QUERY(q_notice_insert) = {
	"notice_insert",
	"INSERT INTO notice (community_id, title, body, pinned, publish_at, expire_at, created_by)"
	" VALUES (?, ?, ?, ?, ?, ?, ?)",
	"Lssissl", NULL,
};
DB_QUERY(q_notice_update) = {
	"notice_update",
	"UPDATE notice SET community_id = ?, title = ?, body = ?, pinned = ?, publish_at = ?,"
	" expire_at = ? WHERE id = ?",
	"Lssissl", NULL,
};
DB_QUERY(q_notice_publish) = {
	"notice_publish",
	"UPDATE notice SET status = 'published', publish_at = COALESCE(publish_at, NOW(3))"
	" WHERE id = ?",
	"l", NULL,
};
DB_QUERY(q_notice_withdraw) = {
	"notice_withdraw", "UPDATE notice SET status = 'withdrawn' WHERE id = ?", "l", NULL,
};

/* Notices are never deleted (the audit log keeps their history): no del query. */
static const struct crud_entity ent_notice = {
	"notice", "公告", &q_notice_get, &q_notice_lock, NULL,
	"所属小区不存在", "公告已存在", "公告仍被引用",
};

struct notice_in {
	struct jval community_id, title, body, pinned, publish_at, expire_at;
	char publish_utc[20], expire_utc[20];
};

#define NI(f) offsetof(struct notice_in, f)
static const struct json_field notice_fields[] = {
	{ "community_id", J_INT64, J_NULLABLE, NI(community_id), 1, INT64_MAX, NULL, "所属小区" },
	{ "title", J_STRING, J_REQUIRED, NI(title), 1, 100, NULL, "标题" },
	{ "body", J_STRING, J_REQUIRED, NI(body), 1, 20000, NULL, "正文" },
	{ "pinned", J_BOOL, 0, NI(pinned), 0, 1, NULL, "置顶" },
	{ "publish_at", J_STRING, J_NULLABLE, NI(publish_at), 20, 35, NULL, "发布时间" },
	{ "expire_at", J_STRING, J_NULLABLE, NI(expire_at), 20, 35, NULL, "过期时间" },
};

static const char *time_or_null(const struct jval *v, const char *utc)
{
	return v->set && !v->null ? utc : NULL;
}

static int notice_apply(struct db *db, struct crud_op *op)
{
	struct notice_in *in = op->in;
	const int64_t *cid = in->community_id.set && !in->community_id.null ? &in->community_id.i
									      : NULL;
	const char *pub = time_or_null(&in->publish_at, in->publish_utc);
	const char *exp = time_or_null(&in->expire_at, in->expire_utc);
	int pinned = in->pinned.set ? (int)in->pinned.i : 0;
	int rc;

	if (!op->id) {
		rc = db_run(db, &q_notice_insert, NULL, cid, in->title.s, in->body.s, pinned, pub,
			    exp, op->rq->who.staff_id);
		op->id = db_insert_id(db);
		return rc;
	}
	return db_run(db, &q_notice_update, NULL, cid, in->title.s, in->body.s, pinned, pub, exp,
		      op->id);
}

static int notice_write(struct req *rq, int path_id)
{
	struct notice_in in;
	struct crud_op op = { .rq = rq, .ent = &ent_notice, .in = &in, .apply = notice_apply,
			      .action = path_id ? "update" : "create",
			      .created_status = path_id ? 200 : 201 };

	memset(&in, 0, sizeof(in));
	if (path_id && req_param_id(rq, "id", &op.id))
		return crud_fail(&op, XQ_ENOTFOUND);
	if (api_decode(rq, notice_fields, XQ_ARRAY_LEN(notice_fields), &in))
		return rq->status;
	if (in.publish_at.set && !in.publish_at.null &&
	    caldate_rfc3339_to_utc(in.publish_at.s, in.publish_utc))
		return resp_fail_msg(rq, XQ_EINVAL,
				     "发布时间格式应为 RFC 3339，例如 2026-12-01T08:00:00+08:00",
				     "publish_at");
	if (in.expire_at.set && !in.expire_at.null &&
	    caldate_rfc3339_to_utc(in.expire_at.s, in.expire_utc))
		return resp_fail_msg(rq, XQ_EINVAL,
				     "过期时间格式应为 RFC 3339，例如 2026-12-31T00:00:00+08:00",
				     "expire_at");
	/* fixed-width UTC text compares like the times it holds */
	if (time_or_null(&in.publish_at, in.publish_utc) && time_or_null(&in.expire_at, in.expire_utc) &&
	    strcmp(in.expire_utc, in.publish_utc) <= 0)
		return resp_fail_msg(rq, XQ_EINVAL, "过期时间必须晚于发布时间", "expire_at");
	return crud_run(&op);
}

int admin_notice_list(struct req *rq)
{
	static const char *const statuses[] = { "draft", "published", "withdrawn", NULL };
	struct db_res cnt, rows = { 0 };
	int64_t cid_v;
	const int64_t *cid;
	const char *status;
	struct page pg;
	int rc;

	if (api_page(rq, &pg) || api_opt_id(rq, "community_id", &cid_v, &cid) ||
	    api_opt_enum(rq, "status", statuses, &status))
		return rq->status;
	rc = db_run(rq->db, &q_notice_count, &cnt, cid, cid, status, status);
	if (rc == XQ_OK)
		rc = db_run(rq->db, &q_notice_page, &rows, cid, cid, status, status, pg.size,
			    pg.offset);
	return api_list_reply(rq, rc, &cnt, &rows, &pg);
}

int admin_notice_get(struct req *rq)
{
	int64_t id;

	if (req_param_id(rq, "id", &id))
		return resp_fail_msg(rq, XQ_ENOTFOUND, "公告不存在", NULL);
	return api_get_reply(rq, &ent_notice, id);
}

int admin_notice_create(struct req *rq)
{
	return notice_write(rq, 0);
}

int admin_notice_update(struct req *rq)
{
	return notice_write(rq, 1);
}

static int publish_apply(struct db *db, struct crud_op *op)
{
	const char *st = crud_before_str(op, "status");

	if (st && !strcmp(st, "published"))
		return crud_reject(op, XQ_ECONFLICT, "status", "公告已发布");
	return db_run(db, &q_notice_publish, NULL, op->id);
}

static int withdraw_apply(struct db *db, struct crud_op *op)
{
	const char *st = crud_before_str(op, "status");

	if (!st || strcmp(st, "published") != 0)
		return crud_reject(op, XQ_ECONFLICT, "status", "只有已发布的公告可以撤回");
	return db_run(db, &q_notice_withdraw, NULL, op->id);
}

static int notice_transition(struct req *rq, const char *action,
			     int (*apply)(struct db *, struct crud_op *))
{
	struct crud_op op = { .rq = rq, .ent = &ent_notice, .action = action, .apply = apply };

	if (req_param_id(rq, "id", &op.id))
		return crud_fail(&op, XQ_ENOTFOUND);
	return crud_run(&op);
}

int admin_notice_publish(struct req *rq)
{
	return notice_transition(rq, "publish", publish_apply);
}

int admin_notice_withdraw(struct req *rq)
{
	return notice_transition(rq, "withdraw", withdraw_apply);
}
