/*
 * admin_resident.c - the console's residents and their links to houses
 * (house_resident: who lives where, as owner, tenant or family, and since when).
 * A link is never deleted: moving out closes it with a date, so the history
 * of a house stays answerable. Transactions, audit and paging come from crud.c.
 */
#include "crud.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* "1号楼1单元101": how people name a house */
#define HOUSE_LABEL "CONCAT(b.name, h.unit_no, '单元', h.room)"

/* ---- residents ------------------------------------------------------ */

#define RESIDENT_COLS "r.id, r.community_id, c.name AS community_name, r.code, r.name, r.phone," \
	" r.mobile, r.email, r.credit_rating, r.note, r.created_at, r.updated_at"
#define RESIDENT_FROM " FROM resident r JOIN community c ON c.id = r.community_id"
#define RESIDENT_SIG "llsssssslsss"
/* house_id matches current and past links: "who has lived in 101?" */
#define RESIDENT_FILTER " WHERE (? IS NULL OR r.community_id = ?)" \
	" AND (? IS NULL OR EXISTS (SELECT 1 FROM house_resident x" \
	"   WHERE x.resident_id = r.id AND x.house_id = ?))" \
	" AND (? = '' OR r.name LIKE ? OR r.code LIKE ? OR r.mobile LIKE ?)"
/* the list shows where each resident lives now, one line per house */
#define RESIDENT_HOUSES ", (SELECT GROUP_CONCAT(DISTINCT " HOUSE_LABEL " SEPARATOR '、')" \
	" FROM house_resident hr JOIN house h ON h.id = hr.house_id" \
	" JOIN building b ON b.id = h.building_id" \
	" WHERE hr.resident_id = r.id AND hr.move_out IS NULL) AS houses"

DB_QUERY(q_resident_get) = {
	"resident_get", "SELECT " RESIDENT_COLS RESIDENT_FROM " WHERE r.id = ?", "l", RESIDENT_SIG,
};
DB_QUERY(q_resident_lock) = {
	"resident_lock", "SELECT " RESIDENT_COLS RESIDENT_FROM " WHERE r.id = ? FOR UPDATE", "l",
	RESIDENT_SIG,
};
DB_QUERY(q_resident_del) = {
	"resident_del", "DELETE FROM resident WHERE id = ?", "l", NULL,
};
DB_QUERY(q_resident_count) = {
	"resident_count", "SELECT COUNT(*)" RESIDENT_FROM RESIDENT_FILTER, "LLLLssss", "l",
};
DB_QUERY(q_resident_page) = {
	"resident_page",
	"SELECT " RESIDENT_COLS RESIDENT_HOUSES RESIDENT_FROM RESIDENT_FILTER
	" ORDER BY r.community_id, r.code LIMIT ? OFFSET ?",
	"LLLLssssll", RESIDENT_SIG "s",
};
/* absent optional fields arrive as NULL; COALESCE gives the column defaults */
DB_QUERY(q_resident_insert) = {
	"resident_insert",
	"INSERT INTO resident (community_id, code, name, phone, mobile, email, credit_rating, note)"
	" VALUES (?, ?, ?, COALESCE(?, ''), COALESCE(?, ''), COALESCE(?, ''), COALESCE(?, 100),"
	" COALESCE(?, ''))",
	"lsssssLs", NULL,
};
DB_QUERY(q_resident_update) = {
	"resident_update",
	"UPDATE resident SET community_id = ?, code = ?, name = ?, phone = COALESCE(?, ''),"
	" mobile = COALESCE(?, ''), email = COALESCE(?, ''), credit_rating = COALESCE(?, 100),"
	" note = COALESCE(?, '') WHERE id = ?",
	"lsssssLsl", NULL,
};
/* links to houses outside a community: moving the resident there would orphan them */
DB_QUERY(q_resident_foreign_links) = {
	"resident_foreign_links",
	"SELECT COUNT(*) FROM house_resident hr JOIN house h ON h.id = hr.house_id"
	" JOIN building b ON b.id = h.building_id WHERE hr.resident_id = ? AND b.community_id <> ?",
	"ll", "l",
};
DB_QUERY(q_resident_links) = {
	"resident_links",
	"SELECT hr.id, hr.house_id, b.name AS building_name, h.unit_no, h.room, hr.relation,"
	" CAST(hr.move_in AS CHAR) AS move_in, CAST(hr.move_out AS CHAR) AS move_out"
	" FROM house_resident hr JOIN house h ON h.id = hr.house_id"
	" JOIN building b ON b.id = h.building_id"
	" WHERE hr.resident_id = ? ORDER BY hr.move_out IS NOT NULL, hr.move_in DESC, hr.id",
	"l", "llssssss",
};

static const struct crud_entity ent_resident = {
	"resident", "住户", &q_resident_get, &q_resident_lock, &q_resident_del,
	"所属小区不存在", "该小区下已存在相同编号的住户", "该住户仍有房屋入住记录或微信绑定，不能删除",
};

struct resident_in {
	struct jval community_id, code, name, phone, mobile, email, credit_rating, note;
};

#define RI(f) offsetof(struct resident_in, f)
static const struct json_field resident_fields[] = {
	{ "community_id", J_INT64, J_REQUIRED, RI(community_id), 1, INT64_MAX, NULL, "所属小区" },
	{ "code", J_STRING, J_REQUIRED, RI(code), 1, 32, NULL, "住户编号" },
	{ "name", J_STRING, J_REQUIRED, RI(name), 1, 64, NULL, "姓名" },
	{ "phone", J_STRING, 0, RI(phone), 0, 32, NULL, "联系电话" },
	{ "mobile", J_STRING, 0, RI(mobile), 0, 20, NULL, "手机号" },
	{ "email", J_STRING, 0, RI(email), 0, 128, NULL, "电子邮箱" },
	{ "credit_rating", J_INT64, 0, RI(credit_rating), 0, 100, NULL, "信用分" },
	{ "note", J_STRING, 0, RI(note), 0, 255, NULL, "备注" },
};

/* Refuses op with a fixed message about field; returns rc for the caller to pass on. */
/* The value of a COUNT(*) result; releases it. */
static int64_t count_of(struct db_res *r)
{
	int64_t n = db_i64(r, 0, 0);
	db_res_release(r);
	return n;
}

/* A mainland mobile number: 11 digits starting with 1 (SMS notices go there). */
static int mobile_ok(const char *s)
{
	return strlen(s) == 11 && s[0] == '1' && strspn(s, "0123456789") == 11;
}

/* Only a sanity check: something on both sides of one '@'; delivery proves the rest. */
static int email_ok(const char *s)
{
	const char *at = strchr(s, '@');
	return at && at != s && at[1] && !strchr(at + 1, '@');
}

int admin_resident_list(struct req *rq)
{
	struct page pg;
	struct db_res cnt, rows = { 0 };
	int64_t cid_v, hid_v;
	const int64_t *cid, *hid;
	const char *like;
	int rc;

	if (api_page(rq, &pg) || api_opt_id(rq, "community_id", &cid_v, &cid) ||
	    api_opt_id(rq, "house_id", &hid_v, &hid))
		return rq->status;
	like = api_like(rq, "q");
	rc = db_run(rq->db, &q_resident_count, &cnt, cid, cid, hid, hid, like, like, like, like);
	if (rc == XQ_OK)
		rc = db_run(rq->db, &q_resident_page, &rows, cid, cid, hid, hid, like, like, like,
			    like, pg.size, pg.offset);
	return api_list_reply(rq, rc, &cnt, &rows, &pg);
}

int admin_resident_get(struct req *rq)
{
	struct db_res r = { 0 }, links = { 0 };
	cJSON *o;
	int64_t id;
	int rc;

	if (req_param_id(rq, "id", &id))
		return resp_fail_msg(rq, XQ_ENOTFOUND, "住户不存在", NULL);
	rc = db_run(rq->db, &q_resident_get, &r, id);
	if (rc == XQ_OK && r.nrows == 1)
		rc = db_run(rq->db, &q_resident_links, &links, id);
	if (rc || r.nrows != 1) {
		db_res_release(&r);
		return rc ? resp_fail(rq, rc) : resp_fail_msg(rq, XQ_ENOTFOUND, "住户不存在", NULL);
	}
	/* every link, current first: the console shows where they live and lived */
	o = db_row_json(&r, 0);
	cJSON_AddItemToObject(o, "houses", db_rows_json(&links));
	db_res_release(&r);
	db_res_release(&links);
	return resp_json(rq, 200, o);
}

static int resident_apply(struct db *db, struct crud_op *op)
{
	struct resident_in *in = op->in;
	const int64_t *credit = in->credit_rating.set ? &in->credit_rating.i : NULL;
	struct db_res r;
	int rc;

	if (in->mobile.s && *in->mobile.s && !mobile_ok(in->mobile.s))
		return crud_reject(op, XQ_EINVAL, "mobile", "手机号必须是以 1 开头的 11 位数字");
	if (in->email.s && *in->email.s && !email_ok(in->email.s))
		return crud_reject(op, XQ_EINVAL, "email", "电子邮箱格式不正确");
	if (!op->id) {
		rc = db_run(db, &q_resident_insert, NULL, in->community_id.i, in->code.s, in->name.s,
			    in->phone.s, in->mobile.s, in->email.s, credit, in->note.s);
		op->id = db_insert_id(db);
		return rc;
	}
	if ((rc = db_run(db, &q_resident_foreign_links, &r, op->id, in->community_id.i)))
		return rc;
	if (count_of(&r))
		return crud_reject(op, XQ_ECONFLICT, "community_id",
			      "该住户已关联其他小区的房屋，不能更换所属小区");
	return db_run(db, &q_resident_update, NULL, in->community_id.i, in->code.s, in->name.s,
		      in->phone.s, in->mobile.s, in->email.s, credit, in->note.s, op->id);
}

static int resident_write(struct req *rq, int path_id)
{
	struct resident_in in;
	struct crud_op op = { .rq = rq, .ent = &ent_resident, .in = &in, .apply = resident_apply,
			      .action = path_id ? "update" : "create",
			      .created_status = path_id ? 200 : 201 };

	return crud_handle(&op, path_id, resident_fields, XQ_ARRAY_LEN(resident_fields));
}

int admin_resident_create(struct req *rq)
{
	return resident_write(rq, 0);
}

int admin_resident_update(struct req *rq)
{
	return resident_write(rq, 1);
}

/* Links (even closed ones) keep a resident: the FK refuses and crud_fail says why. */
int admin_resident_delete(struct req *rq)
{
	return crud_delete(rq, &ent_resident);
}

/* ---- house_resident links ------------------------------------------- */

#define LINK_COLS "hr.id, hr.house_id, " HOUSE_LABEL " AS house_label, hr.resident_id," \
	" r.name AS resident_name, hr.relation, CAST(hr.move_in AS CHAR) AS move_in," \
	" CAST(hr.move_out AS CHAR) AS move_out, hr.created_at"
#define LINK_FROM " FROM house_resident hr JOIN resident r ON r.id = hr.resident_id" \
	" JOIN house h ON h.id = hr.house_id JOIN building b ON b.id = h.building_id"
#define LINK_SIG "llslsssss"

DB_QUERY(q_link_get) = {
	"link_get", "SELECT " LINK_COLS LINK_FROM " WHERE hr.id = ?", "l", LINK_SIG,
};
DB_QUERY(q_link_lock) = {
	"link_lock", "SELECT " LINK_COLS LINK_FROM " WHERE hr.id = ? FOR UPDATE", "l", LINK_SIG,
};
DB_QUERY(q_link_house_community) = {
	"link_house_community",
	"SELECT b.community_id FROM house h JOIN building b ON b.id = h.building_id WHERE h.id = ?",
	"l", "l",
};
/* locking the resident serializes link changes for them, so the open-link check holds */
DB_QUERY(q_link_resident_community) = {
	"link_resident_community", "SELECT community_id FROM resident WHERE id = ? FOR UPDATE", "l",
	"l",
};
DB_QUERY(q_link_open) = {
	"link_open",
	"SELECT COUNT(*) FROM house_resident WHERE house_id = ? AND resident_id = ? AND relation = ?"
	" AND move_out IS NULL",
	"lls", "l",
};
DB_QUERY(q_link_insert) = {
	"link_insert",
	"INSERT INTO house_resident (house_id, resident_id, relation, move_in) VALUES (?, ?, ?, ?)",
	"llss", NULL,
};
DB_QUERY(q_link_move_out) = {
	"link_move_out", "UPDATE house_resident SET move_out = ? WHERE id = ?", "sl", NULL,
};

static const struct crud_entity ent_link = {
	"house_resident", "入住记录", &q_link_get, &q_link_lock, NULL,
	"房屋或住户不存在", "该住户在同一入住日期已有相同身份的入住记录", NULL,
};

static const char *const relations[] = { "owner", "tenant", "family", NULL };

struct link_in {
	int64_t house_id; /* from the path */
	struct jval resident_id, relation, move_in, move_out;
};

#define LI(f) offsetof(struct link_in, f)
static const struct json_field link_add_fields[] = {
	{ "resident_id", J_INT64, J_REQUIRED, LI(resident_id), 1, INT64_MAX, NULL, "住户" },
	{ "relation", J_ENUM, J_REQUIRED, LI(relation), 0, 0, relations, "身份" },
	{ "move_in", J_DATE, J_REQUIRED, LI(move_in), 0, 0, NULL, "入住日期" },
};
static const struct json_field link_move_out_fields[] = {
	{ "move_out", J_DATE, J_REQUIRED, LI(move_out), 0, 0, NULL, "迁出日期" },
};

/* The community_id of the single row q returns for id; XQ_ENOTFOUND if none. */
static int community_of(struct db *db, const struct db_query *q, int64_t id, int64_t *out)
{
	struct db_res r;
	int rc = db_run(db, q, &r, id);

	if (rc)
		return rc;
	rc = r.nrows == 1 ? XQ_OK : XQ_ENOTFOUND;
	*out = rc ? 0 : db_i64(&r, 0, 0);
	db_res_release(&r);
	return rc;
}

static int link_add_apply(struct db *db, struct crud_op *op)
{
	struct link_in *in = op->in;
	int64_t house_cid, resident_cid;
	struct db_res r;
	int rc;

	if ((rc = community_of(db, &q_link_house_community, in->house_id, &house_cid)))
		return rc == XQ_ENOTFOUND ? crud_reject(op, rc, "", "房屋不存在") : rc;
	if ((rc = community_of(db, &q_link_resident_community, in->resident_id.i, &resident_cid)))
		return rc == XQ_ENOTFOUND ? crud_reject(op, XQ_EINVAL, "resident_id", "住户不存在") : rc;
	if (house_cid != resident_cid)
		return crud_reject(op, XQ_EINVAL, "resident_id", "该住户不属于此房屋所在的小区");
	if ((rc = db_run(db, &q_link_open, &r, in->house_id, in->resident_id.i, in->relation.s)))
		return rc;
	if (count_of(&r))
		return crud_reject(op, XQ_ECONFLICT, "resident_id", "该住户已登记在此房屋");
	rc = db_run(db, &q_link_insert, NULL, in->house_id, in->resident_id.i, in->relation.s,
		    in->move_in.s);
	op->id = db_insert_id(db);
	return rc;
}

int admin_house_resident_add(struct req *rq)
{
	struct link_in in;
	struct crud_op op = { .rq = rq, .ent = &ent_link, .action = "create", .in = &in,
			      .apply = link_add_apply, .created_status = 201 };

	if (req_param_id(rq, "id", &in.house_id))
		return resp_fail_msg(rq, XQ_ENOTFOUND, "房屋不存在", NULL);
	if (api_decode(rq, link_add_fields, XQ_ARRAY_LEN(link_add_fields), &in))
		return rq->status;
	return crud_run(&op);
}

static int link_move_out_apply(struct db *db, struct crud_op *op)
{
	struct link_in *in = op->in;
	const char *move_in = crud_before_str(op, "move_in");

	if (crud_before_str(op, "move_out"))
		return crud_reject(op, XQ_ECONFLICT, "move_out", "该入住记录已办理迁出，不能重复迁出");
	/* both are "YYYY-MM-DD", so text order is date order */
	if (move_in && strcmp(in->move_out.s, move_in) < 0)
		return crud_reject(op, XQ_EINVAL, "move_out", "迁出日期不能早于入住日期");
	return db_run(db, &q_link_move_out, NULL, in->move_out.s, op->id);
}

int admin_house_resident_moveout(struct req *rq)
{
	struct link_in in;
	struct crud_op op = { .rq = rq, .ent = &ent_link, .action = "move_out", .in = &in,
			      .apply = link_move_out_apply };

	return crud_handle(&op, 1, link_move_out_fields, XQ_ARRAY_LEN(link_move_out_fields));
}
