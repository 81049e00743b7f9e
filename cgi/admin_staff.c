/*
 * admin_staff.c - staff accounts (list, create, change role/state) and the
 * audit log reader. Password hashes never leave the database: no query here
 * selects them.
 */
#include "auth.h"
#include "crud.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define STAFF_COLS "u.id, u.username, u.display_name, u.role_code, r.name_zh AS role_name, u.active," \
	" u.totp_secret IS NOT NULL AS totp_enabled, u.last_login_at," \
	" u.created_at, u.updated_at"
#define STAFF_FROM " FROM staff_user u JOIN role r ON r.code = u.role_code"
#define STAFF_SIG "lssssbbsss"

DB_QUERY(q_staff_get) = {
	"staff_get", "SELECT " STAFF_COLS STAFF_FROM " WHERE u.id = ?", "l", STAFF_SIG,
};
DB_QUERY(q_staff_lock) = {
	"staff_lock", "SELECT " STAFF_COLS STAFF_FROM " WHERE u.id = ? FOR UPDATE", "l", STAFF_SIG,
};
DB_QUERY(q_staff_count) = {
	"staff_count",
	"SELECT COUNT(*)" STAFF_FROM " WHERE (? = '' OR u.username LIKE ? OR u.display_name LIKE ?)",
	"sss", "l",
};
DB_QUERY(q_staff_page) = {
	"staff_page",
	"SELECT " STAFF_COLS STAFF_FROM " WHERE (? = '' OR u.username LIKE ? OR u.display_name LIKE ?)"
	" ORDER BY u.id LIMIT ? OFFSET ?",
	"sssll", STAFF_SIG,
};
DB_QUERY(q_staff_update) = {
	"staff_update",
	"UPDATE staff_user SET display_name = ?, role_code = ?, active = ? WHERE id = ?", "ssil",
	NULL,
};
DB_QUERY(q_staff_drop_sessions) = {
	"staff_drop_sessions", "DELETE FROM staff_session WHERE staff_id = ?", "l", NULL,
};

static const struct crud_entity ent_staff = {
	"staff_user", "员工账号", &q_staff_get, &q_staff_lock, NULL,
	"角色不存在", "用户名已存在", "",
};

static const char *const roles[] = { "admin", "finance", "reader", "service", NULL };

int admin_staff_list(struct req *rq)
{
	return api_list_by_q(rq, &q_staff_count, &q_staff_page);
}

struct staff_in {
	struct jval username, display_name, password, role, active;
};

#define SI(f) offsetof(struct staff_in, f)
static const struct json_field staff_create_fields[] = {
	{ "username", J_STRING, J_REQUIRED, SI(username), 3, 64, NULL, "用户名" },
	{ "display_name", J_STRING, 0, SI(display_name), 0, 64, NULL, "姓名" },
	{ "password", J_STRING, J_REQUIRED, SI(password), 1, 128, NULL, "初始密码" },
	{ "role", J_ENUM, J_REQUIRED, SI(role), 0, 0, roles, "角色" },
};
static const struct json_field staff_update_fields[] = {
	{ "display_name", J_STRING, 0, SI(display_name), 0, 64, NULL, "姓名" },
	{ "role", J_ENUM, J_REQUIRED, SI(role), 0, 0, roles, "角色" },
	{ "active", J_BOOL, J_REQUIRED, SI(active), 0, 1, NULL, "是否启用" },
};

static int staff_create_apply(struct db *db, struct crud_op *op)
{
	struct staff_in *in = op->in;
	int rc = auth_create_staff(db, in->username.s,
				   in->display_name.set ? in->display_name.s : "", in->password.s,
				   in->role.s, &op->id);
	if (rc == XQ_EWEAKPW)
		snprintf(op->field, sizeof(op->field), "password");
	return rc;
}

int admin_staff_create(struct req *rq)
{
	struct staff_in in;
	struct crud_op op = { .rq = rq, .ent = &ent_staff, .action = "create", .in = &in,
			      .apply = staff_create_apply, .created_status = 201 };

	return crud_handle(&op, 0, staff_create_fields, XQ_ARRAY_LEN(staff_create_fields));
}

static int staff_update_apply(struct db *db, struct crud_op *op)
{
	struct staff_in *in = op->in;
	int rc;

	if (op->id == op->rq->who.staff_id && (!in->active.i || strcmp(in->role.s, "admin"))) {
		/* nobody locks themselves out of staff administration by accident */
		return crud_reject(op, XQ_EINVAL, "active", "不能停用自己的账号或取消自己的管理员角色");
	}
	rc = db_run(db, &q_staff_update, NULL, in->display_name.set ? in->display_name.s : "",
		    in->role.s, (int)in->active.i, op->id);
	/* a disabled account or a changed role takes effect now, not at next login */
	if (rc == XQ_OK)
		rc = db_run(db, &q_staff_drop_sessions, NULL, op->id);
	return rc;
}

int admin_staff_update(struct req *rq)
{
	struct staff_in in;
	struct crud_op op = { .rq = rq, .ent = &ent_staff, .action = "update", .in = &in,
			      .apply = staff_update_apply };

	return crud_handle(&op, 1, staff_update_fields, XQ_ARRAY_LEN(staff_update_fields));
}

#define AUDIT_FILTER " WHERE (? IS NULL OR a.entity = ?) AND (? IS NULL OR a.entity_id = ?)" \
	" AND (? IS NULL OR a.staff_id = ?)"

DB_QUERY(q_audit_count) = {
	"audit_count", "SELECT COUNT(*) FROM audit_log a" AUDIT_FILTER, "ssLLLL", "l",
};
DB_QUERY(q_audit_page) = {
	"audit_page",
	"SELECT a.id, a.at, a.staff_id, a.actor, a.action, a.entity, a.entity_id,"
	" a.before_json AS `before`, a.after_json AS `after`, a.ip, a.request_id"
	" FROM audit_log a" AUDIT_FILTER " ORDER BY a.id DESC LIMIT ? OFFSET ?",
	"ssLLLLll", "lslsssljjss",
};

int admin_audit_list(struct req *rq)
{
	struct page pg;
	struct db_res cnt, rows = { 0 };
	int64_t eid_v, sid_v;
	const int64_t *eid, *sid;
	const char *entity = req_query(rq, "entity");
	int rc;

	if (api_page(rq, &pg) || api_opt_id(rq, "entity_id", &eid_v, &eid) ||
	    api_opt_id(rq, "staff_id", &sid_v, &sid))
		return rq->status;
	if (entity && !*entity)
		entity = NULL;
	rc = db_run(rq->db, &q_audit_count, &cnt, entity, entity, eid, eid, sid, sid);
	if (rc == XQ_OK)
		rc = db_run(rq->db, &q_audit_page, &rows, entity, entity, eid, eid, sid, sid,
			    pg.size, pg.offset);
	return api_list_reply(rq, rc, &cnt, &rows, &pg);
}
