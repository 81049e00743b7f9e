/*
 * api_ticket.c - tickets (工单): feedback, repair requests, complaints and
 * billing questions that residents open from the mini-program, and the
 * console queue where staff assign and resolve them.
 *
 * Status machine (validated in ticket_apply):
 *   open -> assigned -> in_progress -> resolved -> closed
 *   resolved -> in_progress (the resident was not satisfied: reopened)
 * "assigned" needs an assignee, "resolved" a resolution text. A resident
 * sees only tickets they opened; anyone else's id is 404. Creation is
 * throttled per WeChat user (TICKET_MAX_PER_DAY in 24 hours).
 */
#include "crud.h"
#include "log.h"
#include "resident_auth.h"

#include <stdio.h>
#include <string.h>

#define TICKET_MAX_PER_DAY 10

static const char *const ticket_kinds[] = { "feedback", "repair", "complaint", "billing", NULL };
static const char *const ticket_statuses[] = { "open",     "assigned", "in_progress",
					       "resolved", "closed",   NULL };

static const char *status_zh(const char *s)
{
	static const char *const map[][2] = {
		{ "open", "待处理" },	{ "assigned", "已指派" }, { "in_progress", "处理中" },
		{ "resolved", "已解决" }, { "closed", "已关闭" },
	};
	for (size_t i = 0; i < XQ_ARRAY_LEN(map); i++)
		if (!strcmp(s, map[i][0]))
			return map[i][1];
	return s;
}

/* ---- residents ------------------------------------------------------------- */

#define RTICKET_COLS "t.id, t.house_id, t.community_id, t.kind, t.title, t.content," \
	" t.contact_mobile, t.status, t.resolution, t.created_at, t.updated_at, t.closed_at"
#define RTICKET_SIG "lllsssssssss"

DB_QUERY(q_rticket_get) = {
	"resident_ticket_get",
	"SELECT " RTICKET_COLS " FROM ticket t WHERE t.id = ? AND t.wx_user_id = ?", "ll",
	RTICKET_SIG,
};
DB_QUERY(q_rticket_count) = {
	"resident_ticket_count",
	"SELECT COUNT(*) FROM ticket t WHERE t.wx_user_id = ? AND (? IS NULL OR t.status = ?)",
	"lss", "l",
};
DB_QUERY(q_rticket_page) = {
	"resident_ticket_page",
	"SELECT " RTICKET_COLS " FROM ticket t WHERE t.wx_user_id = ? AND (? IS NULL OR t.status = ?)"
	" ORDER BY t.id DESC LIMIT ? OFFSET ?",
	"lssll", RTICKET_SIG,
};
DB_QUERY(q_rticket_user_lock) = {
	"resident_ticket_user_lock", "SELECT id FROM wx_user WHERE id = ? FOR UPDATE", "l", "l",
};
DB_QUERY(q_rticket_recent) = {
	"resident_ticket_recent",
	"SELECT COUNT(*) FROM ticket WHERE wx_user_id = ? AND created_at > NOW(3) - INTERVAL 1 DAY",
	"l", "l",
};
DB_QUERY(q_rticket_house_comm) = {
	"resident_ticket_house_community",
	"SELECT b.community_id FROM house h JOIN building b ON b.id = h.building_id WHERE h.id = ?",
	"l", "l",
};
DB_QUERY(q_rticket_insert) = {
	"resident_ticket_insert",
	"INSERT INTO ticket (community_id, house_id, wx_user_id, kind, title, content, contact_mobile)"
	" VALUES (?, ?, ?, ?, ?, ?, ?)",
	"lllssss", NULL,
};

struct rticket_in {
	struct jval house_id, kind, title, content, contact_mobile;
};

#define RI(f) offsetof(struct rticket_in, f)
static const struct json_field rticket_fields[] = {
	{ "house_id", J_INT64, J_REQUIRED, RI(house_id), 1, INT64_MAX, NULL, "房屋" },
	{ "kind", J_ENUM, J_REQUIRED, RI(kind), 0, 0, ticket_kinds, "类型" },
	{ "title", J_STRING, J_REQUIRED, RI(title), 1, 100, NULL, "标题" },
	{ "content", J_STRING, J_REQUIRED, RI(content), 1, 2000, NULL, "内容" },
	{ "contact_mobile", J_STRING, 0, RI(contact_mobile), 0, 20, NULL, "联系电话" },
};

struct rticket_tx {
	const struct rticket_in *in;
	int64_t wx_user_id, community_id, id;
};

static int rticket_tx(struct db *db, void *arg)
{
	struct rticket_tx *t = arg;
	struct db_res r;
	int64_t recent;
	int rc;

	/* the user's row serialises their concurrent creations, so the limit holds */
	if ((rc = db_run(db, &q_rticket_user_lock, &r, t->wx_user_id)))
		return rc;
	db_res_release(&r);
	if ((rc = db_run(db, &q_rticket_recent, &r, t->wx_user_id)))
		return rc;
	recent = db_i64(&r, 0, 0);
	db_res_release(&r);
	if (recent >= TICKET_MAX_PER_DAY)
		return XQ_ETHROTTLED;
	if ((rc = db_run(db, &q_rticket_insert, NULL, t->community_id, t->in->house_id.i,
			 t->wx_user_id, t->in->kind.s, t->in->title.s, t->in->content.s,
			 t->in->contact_mobile.set ? t->in->contact_mobile.s : "")))
		return rc;
	t->id = db_insert_id(db);
	return XQ_OK;
}

static int reply_rticket(struct req *rq, int status, int64_t id)
{
	struct db_res r;
	cJSON *o;
	int rc = db_run(rq->db, &q_rticket_get, &r, id, rq->who.wx_user_id);

	if (rc)
		return resp_fail(rq, rc);
	if (r.nrows != 1) {
		db_res_release(&r);
		return resp_fail_msg(rq, XQ_ENOTFOUND, "工单不存在", NULL);
	}
	o = db_row_json(&r, 0);
	cJSON_AddStringToObject(o, "status_zh", status_zh(db_str(&r, 0, 7)));
	db_res_release(&r);
	return resp_json(rq, status, o);
}

int api_resident_ticket_create(struct req *rq)
{
	struct rticket_in in;
	struct rticket_tx t;
	struct db_res r;
	int rc;

	memset(&in, 0, sizeof(in));
	if (api_decode(rq, rticket_fields, XQ_ARRAY_LEN(rticket_fields), &in))
		return rq->status;
	if (in.contact_mobile.set &&
	    strspn(in.contact_mobile.s, "0123456789+- ") != strlen(in.contact_mobile.s))
		return resp_fail_msg(rq, XQ_EINVAL, "联系电话只能包含数字、+、- 和空格",
				     "contact_mobile");
	/* the one ownership helper: another resident's house is "not found" */
	rc = resident_house_check(rq->db, rq->who.wx_user_id, in.house_id.i);
	if (rc == XQ_ENOTFOUND)
		return resp_fail_msg(rq, XQ_ENOTFOUND, "房屋不存在或未绑定", "house_id");
	if (rc)
		return resp_fail(rq, rc);
	if ((rc = db_run(rq->db, &q_rticket_house_comm, &r, in.house_id.i)))
		return resp_fail(rq, rc);
	memset(&t, 0, sizeof(t));
	t.community_id = r.nrows == 1 ? db_i64(&r, 0, 0) : 0;
	db_res_release(&r);
	t.in = &in;
	t.wx_user_id = rq->who.wx_user_id;
	rc = db_tx(rq->db, rticket_tx, &t);
	if (rc == XQ_ETHROTTLED) {
		log_warn("ticket creation throttled for wx_user %lld", (long long)t.wx_user_id);
		return resp_fail_msg(rq, XQ_ETHROTTLED, "今天提交的工单太多了，请明天再试", NULL);
	}
	if (rc)
		return resp_fail(rq, rc);
	log_info("wx_user %lld opened ticket %lld", (long long)t.wx_user_id, (long long)t.id);
	return reply_rticket(rq, 201, t.id);
}

int api_resident_tickets(struct req *rq)
{
	struct db_res cnt, rows = { 0 };
	const char *status;
	struct page pg;
	int rc;

	if (api_page(rq, &pg) || api_opt_enum(rq, "status", ticket_statuses, &status))
		return rq->status;
	rc = db_run(rq->db, &q_rticket_count, &cnt, rq->who.wx_user_id, status, status);
	if (rc == XQ_OK)
		rc = db_run(rq->db, &q_rticket_page, &rows, rq->who.wx_user_id, status, status,
			    pg.size, pg.offset);
	return api_list_reply(rq, rc, &cnt, &rows, &pg);
}

int api_resident_ticket_get(struct req *rq)
{
	int64_t id;

	if (req_param_id(rq, "id", &id))
		return resp_fail_msg(rq, XQ_ENOTFOUND, "工单不存在", NULL);
	return reply_rticket(rq, 200, id);
}

/* ---- staff ------------------------------------------------------------------------ */

#define TICKET_COLS "t.id, t.community_id, c.name AS community_name, t.house_id, t.wx_user_id," \
	" t.kind, t.title, t.content, t.contact_mobile, t.status, t.assigned_to," \
	" s.username AS assigned_username, t.resolution, t.created_at, t.updated_at, t.closed_at"
#define TICKET_SIG "llsllsssssl" "sssss"
#define TICKET_FROM " FROM ticket t JOIN community c ON c.id = t.community_id" \
	" LEFT JOIN staff_user s ON s.id = t.assigned_to"
#define TICKET_FILTER " WHERE (? IS NULL OR t.status = ?) AND (? IS NULL OR t.community_id = ?)" \
	" AND (? IS NULL OR t.kind = ?)"

DB_QUERY(q_ticket_get) = {
	"ticket_get", "SELECT " TICKET_COLS TICKET_FROM " WHERE t.id = ?", "l", TICKET_SIG,
};
DB_QUERY(q_ticket_lock) = {
	"ticket_lock", "SELECT " TICKET_COLS TICKET_FROM " WHERE t.id = ? FOR UPDATE", "l",
	TICKET_SIG,
};
DB_QUERY(q_ticket_count) = {
	"ticket_count", "SELECT COUNT(*)" TICKET_FROM TICKET_FILTER, "ssLLss", "l",
};
DB_QUERY(q_ticket_page) = {
	"ticket_page",
	"SELECT " TICKET_COLS TICKET_FROM TICKET_FILTER " ORDER BY t.id DESC LIMIT ? OFFSET ?",
	"ssLLssll", TICKET_SIG,
};
DB_QUERY(q_ticket_update) = {
	"ticket_update",
	"UPDATE ticket SET status = ?, assigned_to = ?, resolution = ?,"
	" closed_at = IF(? = 'closed', COALESCE(closed_at, NOW(3)), NULL) WHERE id = ?",
	"sLssl", NULL,
};

static const struct crud_entity ent_ticket = {
	"ticket", "工单", &q_ticket_get, &q_ticket_lock, NULL,
	"指派的员工不存在", "工单已存在", "工单仍被引用",
};

int admin_ticket_list(struct req *rq)
{
	static const char *const all_kinds[] = { "feedback", "repair", "complaint", "billing",
						 "ev_fault", NULL };
	struct db_res cnt, rows = { 0 };
	const char *status, *kind;
	int64_t cid_v;
	const int64_t *cid;
	struct page pg;
	int rc;

	if (api_page(rq, &pg) || api_opt_enum(rq, "status", ticket_statuses, &status) ||
	    api_opt_id(rq, "community_id", &cid_v, &cid) ||
	    api_opt_enum(rq, "kind", all_kinds, &kind))
		return rq->status;
	rc = db_run(rq->db, &q_ticket_count, &cnt, status, status, cid, cid, kind, kind);
	if (rc == XQ_OK)
		rc = db_run(rq->db, &q_ticket_page, &rows, status, status, cid, cid, kind, kind,
			    pg.size, pg.offset);
	return api_list_reply(rq, rc, &cnt, &rows, &pg);
}

int admin_ticket_get(struct req *rq)
{
	int64_t id;

	if (req_param_id(rq, "id", &id))
		return resp_fail_msg(rq, XQ_ENOTFOUND, "工单不存在", NULL);
	return api_get_reply(rq, &ent_ticket, id);
}

struct ticket_in {
	struct jval status, assigned_to, resolution;
};

#define TI(f) offsetof(struct ticket_in, f)
static const struct json_field ticket_fields[] = {
	{ "status", J_ENUM, 0, TI(status), 0, 0, ticket_statuses, "状态" },
	{ "assigned_to", J_INT64, J_NULLABLE, TI(assigned_to), 1, INT64_MAX, NULL, "处理人" },
	{ "resolution", J_STRING, J_NULLABLE, TI(resolution), 0, 5000, NULL, "处理结果" },
};

/* The allowed moves; staying in the same status (reassigning, editing the text) is always fine. */
static int transition_ok(const char *from, const char *to)
{
	static const char *const moves[][2] = {
		{ "open", "assigned" },	    { "assigned", "in_progress" },
		{ "in_progress", "resolved" }, { "resolved", "closed" },
		{ "resolved", "in_progress" },
	};

	if (!strcmp(from, to))
		return 1;
	for (size_t i = 0; i < XQ_ARRAY_LEN(moves); i++)
		if (!strcmp(moves[i][0], from) && !strcmp(moves[i][1], to))
			return 1;
	return 0;
}

static int ticket_apply(struct db *db, struct crud_op *op)
{
	const struct ticket_in *in = op->in;
	const char *from = crud_before_str(op, "status");
	const char *to = in->status.set ? in->status.s : from;
	const char *res = crud_before_str(op, "resolution");
	int64_t who_v = crud_before_i64(op, "assigned_to");
	const int64_t *who = who_v ? &who_v : NULL;

	if (!from)
		return XQ_ENOTFOUND;
	if (!strcmp(from, "closed") && (in->status.set || in->assigned_to.set || in->resolution.set))
		return crud_reject(op, XQ_ECONFLICT, "status", "工单已关闭，不能再修改");
	if (!transition_ok(from, to))
		return crud_reject(op, XQ_ECONFLICT, "status", "工单状态不能从「%s」改为「%s」",
				   status_zh(from), status_zh(to));
	if (in->assigned_to.set) {
		who_v = in->assigned_to.null ? 0 : in->assigned_to.i;
		who = who_v ? &who_v : NULL;
	}
	if (in->resolution.set)
		res = in->resolution.null ? NULL : in->resolution.s;
	if (strcmp(to, "open") != 0 && !who)
		return crud_reject(op, XQ_EINVAL, "assigned_to", "请先指派处理人");
	if ((!strcmp(to, "resolved") || !strcmp(to, "closed")) && (!res || !*res))
		return crud_reject(op, XQ_EINVAL, "resolution", "请填写处理结果");
	return db_run(db, &q_ticket_update, NULL, to, who, res, to, op->id);
}

int admin_ticket_update(struct req *rq)
{
	struct ticket_in in;
	struct crud_op op = { .rq = rq, .ent = &ent_ticket, .in = &in, .apply = ticket_apply,
			      .action = "update" };

	memset(&in, 0, sizeof(in));
	return crud_handle(&op, 1, ticket_fields, XQ_ARRAY_LEN(ticket_fields));
}
