/*
 * admin_estate.c - the console's communities, buildings and houses.
 * SQL for these tables lives here; transactions, audit and paging come from
 * crud.c. Lists filter with "? IS NULL OR col = ?" so every statement stays
 * one static, prepared text.
 */
#include "crud.h"

#include <stddef.h>
#include <stdio.h>

/* ---- communities ---------------------------------------------------- */

#define COMMUNITY_SIG "lssssssl"
#define COMMUNITY_COLS "c.id, c.code, c.name, c.address, c.company, c.created_at, c.updated_at," \
	" (SELECT COUNT(*) FROM building b WHERE b.community_id = c.id) AS buildings"

DB_QUERY(q_community_get) = {
	"community_get", "SELECT " COMMUNITY_COLS " FROM community c WHERE c.id = ?", "l", COMMUNITY_SIG,
};
DB_QUERY(q_community_lock) = {
	"community_lock", "SELECT " COMMUNITY_COLS " FROM community c WHERE c.id = ? FOR UPDATE", "l",
	COMMUNITY_SIG,
};
DB_QUERY(q_community_del) = {
	"community_del", "DELETE FROM community WHERE id = ?", "l", NULL,
};
DB_QUERY(q_community_count) = {
	"community_count",
	"SELECT COUNT(*) FROM community c WHERE (? = '' OR c.name LIKE ? OR c.code LIKE ?)",
	"sss", "l",
};
DB_QUERY(q_community_page) = {
	"community_page",
	"SELECT " COMMUNITY_COLS " FROM community c WHERE (? = '' OR c.name LIKE ? OR c.code LIKE ?)"
	" ORDER BY c.id LIMIT ? OFFSET ?",
	"sssll", COMMUNITY_SIG,
};
DB_QUERY(q_community_insert) = {
	"community_insert",
	"INSERT INTO community (code, name, address, company) VALUES (?, ?, ?, ?)", "ssss", NULL,
};
DB_QUERY(q_community_update) = {
	"community_update",
	"UPDATE community SET code = ?, name = ?, address = ?, company = ? WHERE id = ?", "ssssl",
	NULL,
};

static const struct crud_entity ent_community = {
	"community", "小区", &q_community_get, &q_community_lock, &q_community_del,
	"关联记录不存在", "小区编号已存在", "该小区下还有楼栋、住户或表计，不能删除",
};

struct community_in {
	struct jval code, name, address, company;
};

#define CI(f) offsetof(struct community_in, f)
static const struct json_field community_fields[] = {
	{ "code", J_STRING, J_REQUIRED, CI(code), 1, 32, NULL, "小区编号" },
	{ "name", J_STRING, J_REQUIRED, CI(name), 1, 100, NULL, "小区名称" },
	{ "address", J_STRING, 0, CI(address), 0, 255, NULL, "地址" },
	{ "company", J_STRING, 0, CI(company), 0, 100, NULL, "物业公司" },
};

static const char *str_or(const struct jval *v, const char *def)
{
	return v->set && !v->null ? v->s : def;
}

int admin_community_list(struct req *rq)
{
	return api_list_by_q(rq, &q_community_count, &q_community_page);
}

int admin_community_get(struct req *rq)
{
	int64_t id;
	if (req_param_id(rq, "id", &id))
		return resp_fail_msg(rq, XQ_ENOTFOUND, "小区不存在", NULL);
	return api_get_reply(rq, &ent_community, id);
}

static int community_apply(struct db *db, struct crud_op *op)
{
	struct community_in *in = op->in;
	int rc;

	if (!op->id) {
		rc = db_run(db, &q_community_insert, NULL, in->code.s, in->name.s,
			    str_or(&in->address, ""), str_or(&in->company, ""));
		op->id = db_insert_id(db);
		return rc;
	}
	return db_run(db, &q_community_update, NULL, in->code.s, in->name.s,
		      str_or(&in->address, ""), str_or(&in->company, ""), op->id);
}

static int community_write(struct req *rq, int path_id)
{
	struct community_in in;
	struct crud_op op = { .rq = rq, .ent = &ent_community, .in = &in, .apply = community_apply,
			      .action = path_id ? "update" : "create",
			      .created_status = path_id ? 200 : 201 };

	return crud_handle(&op, path_id, community_fields, XQ_ARRAY_LEN(community_fields));
}

int admin_community_create(struct req *rq)
{
	return community_write(rq, 0);
}

int admin_community_update(struct req *rq)
{
	return community_write(rq, 1);
}

int admin_community_delete(struct req *rq)
{
	return crud_delete(rq, &ent_community);
}

/* ---- buildings ------------------------------------------------------ */

#define BUILDING_COLS "b.id, b.community_id, c.name AS community_name, b.name, b.floors, b.units," \
	" b.created_at, b.updated_at, (SELECT COUNT(*) FROM house h WHERE h.building_id = b.id) AS houses"
#define BUILDING_FROM " FROM building b JOIN community c ON c.id = b.community_id"
#define BUILDING_SIG "llssllssl"
#define BUILDING_FILTER " WHERE (? IS NULL OR b.community_id = ?) AND (? = '' OR b.name LIKE ?)"

DB_QUERY(q_building_get) = {
	"building_get", "SELECT " BUILDING_COLS BUILDING_FROM " WHERE b.id = ?", "l", BUILDING_SIG,
};
DB_QUERY(q_building_lock) = {
	"building_lock", "SELECT " BUILDING_COLS BUILDING_FROM " WHERE b.id = ? FOR UPDATE", "l",
	BUILDING_SIG,
};
DB_QUERY(q_building_del) = {
	"building_del", "DELETE FROM building WHERE id = ?", "l", NULL,
};
DB_QUERY(q_building_count) = {
	"building_count", "SELECT COUNT(*)" BUILDING_FROM BUILDING_FILTER, "LLss", "l",
};
DB_QUERY(q_building_page) = {
	"building_page",
	"SELECT " BUILDING_COLS BUILDING_FROM BUILDING_FILTER " ORDER BY b.community_id, b.id"
	" LIMIT ? OFFSET ?",
	"LLssll", BUILDING_SIG,
};
DB_QUERY(q_building_insert) = {
	"building_insert",
	"INSERT INTO building (community_id, name, floors, units) VALUES (?, ?, ?, ?)", "lsll", NULL,
};
DB_QUERY(q_building_update) = {
	"building_update",
	"UPDATE building SET community_id = ?, name = ?, floors = ?, units = ? WHERE id = ?",
	"lslll", NULL,
};

static const struct crud_entity ent_building = {
	"building", "楼栋", &q_building_get, &q_building_lock, &q_building_del,
	"所属小区不存在", "该小区下已有同名楼栋", "该楼栋下还有房屋，不能删除",
};

struct building_in {
	struct jval community_id, name, floors, units;
};

#define BI(f) offsetof(struct building_in, f)
static const struct json_field building_fields[] = {
	{ "community_id", J_INT64, J_REQUIRED, BI(community_id), 1, INT64_MAX, NULL, "所属小区" },
	{ "name", J_STRING, J_REQUIRED, BI(name), 1, 64, NULL, "楼栋名称" },
	{ "floors", J_INT64, 0, BI(floors), 0, 200, NULL, "楼层数" },
	{ "units", J_INT64, 0, BI(units), 1, 50, NULL, "单元数" },
};

int admin_building_list(struct req *rq)
{
	struct page pg;
	struct db_res cnt, rows = { 0 };
	int64_t cid_v;
	const int64_t *cid;
	const char *like;
	int rc;

	if (api_page(rq, &pg) || api_opt_id(rq, "community_id", &cid_v, &cid))
		return rq->status;
	like = api_like(rq, "q");
	rc = db_run(rq->db, &q_building_count, &cnt, cid, cid, like, like);
	if (rc == XQ_OK)
		rc = db_run(rq->db, &q_building_page, &rows, cid, cid, like, like, pg.size,
			    pg.offset);
	return api_list_reply(rq, rc, &cnt, &rows, &pg);
}

int admin_building_get(struct req *rq)
{
	int64_t id;
	if (req_param_id(rq, "id", &id))
		return resp_fail_msg(rq, XQ_ENOTFOUND, "楼栋不存在", NULL);
	return api_get_reply(rq, &ent_building, id);
}

static int building_apply(struct db *db, struct crud_op *op)
{
	struct building_in *in = op->in;
	int64_t floors = in->floors.set ? in->floors.i : 0;
	int64_t units = in->units.set ? in->units.i : 1;
	int rc;

	if (!op->id) {
		rc = db_run(db, &q_building_insert, NULL, in->community_id.i, in->name.s, floors,
			    units);
		op->id = db_insert_id(db);
		return rc;
	}
	return db_run(db, &q_building_update, NULL, in->community_id.i, in->name.s, floors, units,
		      op->id);
}

static int building_write(struct req *rq, int path_id)
{
	struct building_in in;
	struct crud_op op = { .rq = rq, .ent = &ent_building, .in = &in, .apply = building_apply,
			      .action = path_id ? "update" : "create",
			      .created_status = path_id ? 200 : 201 };

	return crud_handle(&op, path_id, building_fields, XQ_ARRAY_LEN(building_fields));
}

int admin_building_create(struct req *rq)
{
	return building_write(rq, 0);
}

int admin_building_update(struct req *rq)
{
	return building_write(rq, 1);
}

int admin_building_delete(struct req *rq)
{
	return crud_delete(rq, &ent_building);
}

/* ---- houses --------------------------------------------------------- */

#define HOUSE_COLS "h.id, h.building_id, b.name AS building_name, b.community_id," \
	" h.unit_no, h.room, h.floor, CAST(h.area_m2 AS CHAR) AS area_m2, h.status, h.billing_mode," \
	" h.household_size, h.created_at, h.updated_at," \
	" (SELECT GROUP_CONCAT(r.name ORDER BY hr.id SEPARATOR '、') FROM house_resident hr" \
	"   JOIN resident r ON r.id = hr.resident_id" \
	"   WHERE hr.house_id = h.id AND hr.move_out IS NULL AND hr.relation = 'owner') AS owners"
#define HOUSE_FROM " FROM house h JOIN building b ON b.id = h.building_id"
#define HOUSE_SIG "llslsslssslsss"
#define HOUSE_FILTER " WHERE (? IS NULL OR b.community_id = ?) AND (? IS NULL OR h.building_id = ?)" \
	" AND (? IS NULL OR h.status = ?) AND (? = '' OR h.room LIKE ?)"

DB_QUERY(q_house_get) = {
	"house_get", "SELECT " HOUSE_COLS HOUSE_FROM " WHERE h.id = ?", "l", HOUSE_SIG,
};
DB_QUERY(q_house_lock) = {
	"house_lock", "SELECT " HOUSE_COLS HOUSE_FROM " WHERE h.id = ? FOR UPDATE", "l", HOUSE_SIG,
};
DB_QUERY(q_house_del) = {
	"house_del", "DELETE FROM house WHERE id = ?", "l", NULL,
};
DB_QUERY(q_house_count) = {
	"house_count", "SELECT COUNT(*)" HOUSE_FROM HOUSE_FILTER, "LLLLssss", "l",
};
DB_QUERY(q_house_page) = {
	"house_page",
	"SELECT " HOUSE_COLS HOUSE_FROM HOUSE_FILTER
	" ORDER BY b.community_id, h.building_id, h.unit_no, h.room LIMIT ? OFFSET ?",
	"LLLLssssll", HOUSE_SIG,
};
DB_QUERY(q_house_insert) = {
	"house_insert",
	"INSERT INTO house (building_id, unit_no, room, floor, area_m2, status, billing_mode,"
	" household_size) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	"lsslsssl", NULL,
};
DB_QUERY(q_house_update) = {
	"house_update",
	"UPDATE house SET building_id = ?, unit_no = ?, room = ?, floor = ?, area_m2 = ?,"
	" status = ?, billing_mode = ?, household_size = ? WHERE id = ?",
	"lsslsssll", NULL,
};

static const struct crud_entity ent_house = {
	"house", "房屋", &q_house_get, &q_house_lock, &q_house_del,
	"所属楼栋不存在", "该楼栋的同一单元下已有相同房号", "该房屋还有住户、表计或账单，不能删除",
};

static const char *const house_status[] = { "occupied", "vacant", "decorating", NULL };
static const char *const billing_modes[] = { "postpaid", "prepaid", NULL };

struct house_in {
	struct jval building_id, unit_no, room, floor, area_m2, status, billing_mode, household_size;
};

#define HI(f) offsetof(struct house_in, f)
static const struct json_field house_fields[] = {
	{ "building_id", J_INT64, J_REQUIRED, HI(building_id), 1, INT64_MAX, NULL, "所属楼栋" },
	{ "unit_no", J_STRING, 0, HI(unit_no), 1, 16, NULL, "单元" },
	{ "room", J_STRING, J_REQUIRED, HI(room), 1, 32, NULL, "房号" },
	{ "floor", J_INT64, 0, HI(floor), -10, 200, NULL, "楼层" },
	{ "area_m2", J_DEC2, 0, HI(area_m2), 0, 10000000, NULL, "建筑面积" },
	{ "status", J_ENUM, 0, HI(status), 0, 0, house_status, "房屋状态" },
	{ "billing_mode", J_ENUM, 0, HI(billing_mode), 0, 0, billing_modes, "计费方式" },
	{ "household_size", J_INT64, 0, HI(household_size), 1, 20, NULL, "户籍人口" },
};

int admin_house_list(struct req *rq)
{
	struct page pg;
	struct db_res cnt, rows = { 0 };
	int64_t cid_v, bid_v;
	const int64_t *cid, *bid;
	const char *like, *status;
	int rc;

	if (api_page(rq, &pg) || api_opt_id(rq, "community_id", &cid_v, &cid) ||
	    api_opt_id(rq, "building_id", &bid_v, &bid) ||
	    api_opt_enum(rq, "status", house_status, &status))
		return rq->status;
	like = api_like(rq, "q");
	rc = db_run(rq->db, &q_house_count, &cnt, cid, cid, bid, bid, status, status, like, like);
	if (rc == XQ_OK)
		rc = db_run(rq->db, &q_house_page, &rows, cid, cid, bid, bid, status, status, like,
			    like, pg.size, pg.offset);
	return api_list_reply(rq, rc, &cnt, &rows, &pg);
}

DB_QUERY(q_house_residents) = {
	"house_residents",
	"SELECT hr.id, hr.resident_id, r.name, r.mobile, hr.relation, CAST(hr.move_in AS CHAR) AS move_in,"
	" CAST(hr.move_out AS CHAR) AS move_out FROM house_resident hr JOIN resident r ON r.id = hr.resident_id"
	" WHERE hr.house_id = ? ORDER BY hr.move_out IS NOT NULL, hr.id",
	"l", "llsssss",
};
DB_QUERY(q_house_meters) = {
	"house_meters",
	"SELECT id, meter_no, utility, kind, model, protocol, smart, status FROM meter"
	" WHERE house_id = ? ORDER BY status, utility, id",
	"l", "lsssssbs",
};

int admin_house_get(struct req *rq)
{
	struct db_res r, res, met;
	cJSON *o;
	int64_t id;
	int rc;

	if (req_param_id(rq, "id", &id))
		return resp_fail_msg(rq, XQ_ENOTFOUND, "房屋不存在", NULL);
	if ((rc = db_run(rq->db, &q_house_get, &r, id)))
		return resp_fail(rq, rc);
	if (r.nrows != 1) {
		db_res_release(&r);
		return resp_fail_msg(rq, XQ_ENOTFOUND, "房屋不存在", NULL);
	}
	o = db_row_json(&r, 0);
	db_res_release(&r);
	/* the detail screen shows who lives there and what is metered */
	if ((rc = db_run(rq->db, &q_house_residents, &res, id)) ||
	    (rc = db_run(rq->db, &q_house_meters, &met, id))) {
		cJSON_Delete(o);
		return resp_fail(rq, rc);
	}
	cJSON_AddItemToObject(o, "residents", db_rows_json(&res));
	cJSON_AddItemToObject(o, "meters", db_rows_json(&met));
	db_res_release(&res);
	db_res_release(&met);
	return resp_json(rq, 200, o);
}

static int house_apply(struct db *db, struct crud_op *op)
{
	struct house_in *in = op->in;
	char area[32];
	int rc;

	json_dec2_format(in->area_m2.set ? in->area_m2.i : 0, area, sizeof(area));
	if (!op->id) {
		rc = db_run(db, &q_house_insert, NULL, in->building_id.i, str_or(&in->unit_no, "1"),
			    in->room.s, in->floor.set ? in->floor.i : 0, area,
			    str_or(&in->status, "occupied"), str_or(&in->billing_mode, "postpaid"),
			    in->household_size.set ? in->household_size.i : 1);
		op->id = db_insert_id(db);
		return rc;
	}
	return db_run(db, &q_house_update, NULL, in->building_id.i, str_or(&in->unit_no, "1"),
		      in->room.s, in->floor.set ? in->floor.i : 0, area,
		      str_or(&in->status, "occupied"), str_or(&in->billing_mode, "postpaid"),
		      in->household_size.set ? in->household_size.i : 1, op->id);
}

static int house_write(struct req *rq, int path_id)
{
	struct house_in in;
	struct crud_op op = { .rq = rq, .ent = &ent_house, .in = &in, .apply = house_apply,
			      .action = path_id ? "update" : "create",
			      .created_status = path_id ? 200 : 201 };

	return crud_handle(&op, path_id, house_fields, XQ_ARRAY_LEN(house_fields));
}

int admin_house_create(struct req *rq)
{
	return house_write(rq, 0);
}

int admin_house_update(struct req *rq)
{
	return house_write(rq, 1);
}

int admin_house_delete(struct req *rq)
{
	return crud_delete(rq, &ent_house);
}
