/*
 * admin_meter.c - the console's meters: list, detail with recent readings,
 * install, edit, remove and replace. Installing, removing and replacing also
 * store the opening or closing reading in meter_reading in the same
 * transaction, so billing always has both ends of a meter's life. Entering
 * ordinary readings and judging their plausibility is not done here.
 */
#include "audit.h"
#include "crud.h"
#include "log.h"
#include "reading.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define METER_COLS "m.id, m.community_id, c.name AS community_name, m.house_id," \
	" CONCAT(b.name, h.unit_no, '单元', h.room) AS house_label, m.parent_meter_id," \
	" p.meter_no AS parent_meter_no, m.utility, m.kind, m.meter_no, m.model, m.digits," \
	" m.multiplier, m.protocol, m.address, m.smart, m.has_relay, m.status," \
	" m.installed_at, m.initial_reading," \
	" m.removed_at, m.final_reading, m.replaced_by," \
	" m.created_at, m.updated_at"
/* supply and public meters have no house: their label is NULL */
#define METER_FROM " FROM meter m JOIN community c ON c.id = m.community_id" \
	" LEFT JOIN house h ON h.id = m.house_id LEFT JOIN building b ON b.id = h.building_id" \
	" LEFT JOIN meter p ON p.id = m.parent_meter_id"
#define METER_SIG "llslslsssssllssbbsslsllss"
#define METER_FILTER " WHERE (? IS NULL OR m.community_id = ?) AND (? IS NULL OR m.house_id = ?)" \
	" AND (? IS NULL OR m.utility = ?) AND (? IS NULL OR m.kind = ?)" \
	" AND (? IS NULL OR m.status = ?) AND (? = '' OR m.meter_no LIKE ? OR m.address LIKE ?)"
/* the latest reading that counts; the key (meter_id, read_at) makes each an index probe */
#define METER_LAST ", (SELECT r.value FROM meter_reading r WHERE r.meter_id = m.id" \
	"   AND r.status <> 'rejected' ORDER BY r.read_at DESC LIMIT 1) AS last_value," \
	" (SELECT r.read_at FROM meter_reading r WHERE r.meter_id = m.id" \
	"   AND r.status <> 'rejected' ORDER BY r.read_at DESC LIMIT 1) AS last_read_at"

DB_QUERY(q_meter_get) = {
	"meter_get", "SELECT " METER_COLS METER_FROM " WHERE m.id = ?", "l", METER_SIG,
};
DB_QUERY(q_meter_lock) = {
	"meter_lock", "SELECT " METER_COLS METER_FROM " WHERE m.id = ? FOR UPDATE", "l", METER_SIG,
};
DB_QUERY(q_meter_count) = {
	"meter_count", "SELECT COUNT(*)" METER_FROM METER_FILTER, "LLLLsssssssss", "l",
};
DB_QUERY(q_meter_page) = {
	"meter_page",
	"SELECT " METER_COLS METER_LAST METER_FROM METER_FILTER
	" ORDER BY m.community_id, m.utility, m.meter_no LIMIT ? OFFSET ?",
	"LLLLsssssssssll", METER_SIG "ls",
};
DB_QUERY(q_meter_readings) = {
	"meter_readings",
	"SELECT read_at, value, value_sharp, value_peak, value_flat,"
	" value_valley, source, status, flag_reason, entered_by FROM meter_reading"
	" WHERE meter_id = ? ORDER BY read_at DESC LIMIT 12",
	"l", "slllllsssl",
};
DB_QUERY(q_meter_insert) = {
	"meter_insert",
	"INSERT INTO meter (community_id, house_id, parent_meter_id, utility, kind, meter_no, model,"
	" digits, multiplier, protocol, address, smart, has_relay, installed_at, initial_reading)"
	" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	"lLLssssllssllsl", NULL,
};
DB_QUERY(q_meter_update) = {
	"meter_update",
	"UPDATE meter SET house_id = ?, parent_meter_id = ?, meter_no = ?, model = ?, digits = ?,"
	" multiplier = ?, protocol = ?, address = ?, smart = ?, has_relay = ? WHERE id = ?",
	"LLssllsslll", NULL,
};
DB_QUERY(q_reading_insert) = {
	"meter_reading_insert",
	"INSERT INTO meter_reading (meter_id, read_at, value, source, status, entered_by)"
	" VALUES (?, ?, ?, 'manual', 'ok', ?)",
	"lslL", NULL,
};
/*
 * What removal needs to know: the latest reading that counts, whether any
 * reading is dated after the removal day, and the removal instant. That is
 * the removal day at 00:00, or just after the latest reading when the meter
 * was read during that day: the closing reading must be the last one in time
 * (billing takes it as the end value) and must not collide with a reading
 * frozen at midnight on the primary key.
 */
DB_QUERY(q_meter_last) = {
	"meter_last",
	"SELECT (SELECT r.value FROM meter_reading r WHERE r.meter_id = ? AND r.status <> 'rejected'"
	"   ORDER BY r.read_at DESC LIMIT 1) AS last_value,"
	" DATE(MAX(read_at)) > ? AS too_early, CAST(DATE(MAX(read_at)) AS CHAR) AS last_day,"
	" CAST(COALESCE(GREATEST(CAST(? AS DATETIME(3)), MAX(read_at) + INTERVAL 1000 MICROSECOND),"
	"   CAST(? AS DATETIME(3))) AS CHAR) AS removal_at"
	" FROM meter_reading WHERE meter_id = ?",
	"lsssl", "lbss",
};
DB_QUERY(q_meter_close) = {
	"meter_close",
	"UPDATE meter SET status = 'removed', removed_at = ?, final_reading = ? WHERE id = ?",
	"sll", NULL,
};
DB_QUERY(q_meter_replaced_by) = {
	"meter_replaced_by", "UPDATE meter SET replaced_by = ? WHERE id = ?", "ll", NULL,
};
/* the sub-meters of a replaced supply meter now hang below its successor
 * (NEEDSWORK: they get no audit row of their own; the replace row implies it) */
DB_QUERY(q_meter_reparent) = {
	"meter_reparent",
	"UPDATE meter SET parent_meter_id = ? WHERE parent_meter_id = ? AND status = 'active'",
	"ll", NULL,
};
DB_QUERY(q_meter_house_in_community) = {
	"meter_house_in_community",
	"SELECT COUNT(*) FROM house h JOIN building b ON b.id = h.building_id"
	" WHERE h.id = ? AND b.community_id = ?",
	"ll", "l",
};
DB_QUERY(q_meter_parent) = {
	"meter_parent", "SELECT community_id, utility, kind, status FROM meter WHERE id = ?", "l",
	"lsss",
};

/* Meters are never deleted (readings and bills hang on them): no del query. */
static const struct crud_entity ent_meter = {
	"meter", "表计", &q_meter_get, &q_meter_lock, NULL,
	"所属小区、房屋或上级表不存在", "表号已存在", NULL,
};

static const char *const utilities[] = { "electric", "water", NULL };
static const char *const kinds[] = { "household", "supply", "public", NULL };
static const char *const protocols[] = { "manual", "dlt645", "modbus", "cjt188", NULL };
static const char *const statuses[] = { "active", "removed", NULL };

/* What the installer chooses about a meter; create, update and replace share it. */
struct meter_settings {
	struct jval meter_no, model, digits, multiplier, protocol, address, smart, has_relay;
};

/* The settings' fields; replace names them "new_meter_no" ... "新表表号" ... */
#define SETTINGS_FIELDS(P, LP, OFF) \
	{ P "meter_no", J_STRING, J_REQUIRED, OFF + SO(meter_no), 1, 32, NULL, LP "表号" }, \
	{ P "model", J_STRING, 0, OFF + SO(model), 0, 64, NULL, LP "型号" }, \
	{ P "digits", J_INT64, 0, OFF + SO(digits), 4, 10, NULL, LP "表盘整数位数" }, \
	{ P "multiplier", J_INT64, 0, OFF + SO(multiplier), 1, 100000, NULL, LP "倍率" }, \
	{ P "protocol", J_ENUM, 0, OFF + SO(protocol), 0, 0, protocols, LP "通讯协议" }, \
	{ P "address", J_STRING, 0, OFF + SO(address), 0, 32, NULL, LP "通讯地址" }, \
	{ P "smart", J_BOOL, 0, OFF + SO(smart), 0, 0, NULL, LP "是否智能表" }, \
	{ P "has_relay", J_BOOL, 0, OFF + SO(has_relay), 0, 0, NULL, LP "是否带通断控制" }
#define SO(f) offsetof(struct meter_settings, f)

struct meter_in {
	struct jval community_id, utility, kind, installed_at, initial_reading;
	struct jval house_id, parent_meter_id;
	struct meter_settings set;
};

#define MI(f) offsetof(struct meter_in, f)
/* create takes every field; update only the editable tail from house_id on */
static const struct json_field meter_fields[] = {
	{ "community_id", J_INT64, J_REQUIRED, MI(community_id), 1, INT64_MAX, NULL, "所属小区" },
	{ "utility", J_ENUM, J_REQUIRED, MI(utility), 0, 0, utilities, "计量类型" },
	{ "kind", J_ENUM, 0, MI(kind), 0, 0, kinds, "表计类别" },
	{ "installed_at", J_DATE, J_REQUIRED, MI(installed_at), 0, 0, NULL, "安装日期" },
	{ "initial_reading", J_INT64, 0, MI(initial_reading), 0, INT64_MAX, NULL, "初始读数" },
#define METER_EDITABLE 5 /* the index of house_id: update decodes from here on */
	{ "house_id", J_INT64, J_NULLABLE, MI(house_id), 1, INT64_MAX, NULL, "所属房屋" },
	{ "parent_meter_id", J_INT64, J_NULLABLE, MI(parent_meter_id), 1, INT64_MAX, NULL, "上级表" },
	SETTINGS_FIELDS("", "", MI(set)),
};

struct remove_in {
	struct jval removed_at, final_reading;
};

#define RMI(f) offsetof(struct remove_in, f)
static const struct json_field remove_fields[] = {
	{ "removed_at", J_DATE, J_REQUIRED, RMI(removed_at), 0, 0, NULL, "拆除日期" },
	{ "final_reading", J_INT64, J_REQUIRED, RMI(final_reading), 0, INT64_MAX, NULL, "拆表读数" },
};

struct replace_in {
	struct remove_in rm;
	struct jval new_initial_reading;
	struct meter_settings set;
};

#define RPI(f) offsetof(struct replace_in, f)
static const struct json_field replace_fields[] = {
	{ "removed_at", J_DATE, J_REQUIRED, RPI(rm.removed_at), 0, 0, NULL, "换表日期" },
	{ "final_reading", J_INT64, J_REQUIRED, RPI(rm.final_reading), 0, INT64_MAX, NULL,
	  "旧表拆表读数" },
	{ "new_initial_reading", J_INT64, 0, RPI(new_initial_reading), 0, INT64_MAX, NULL,
	  "新表初始读数" },
	SETTINGS_FIELDS("new_", "新表", RPI(set)),
};

/* A meter as checked and written, defaults applied; ids are 0 for none. */
struct meter_spec {
	int64_t id; /* 0 while being created */
	int64_t community_id, house_id, parent_id;
	const char *utility, *kind, *installed_at;
	const char *meter_no, *model, *protocol, *address;
	int64_t digits, multiplier, smart, has_relay, initial_reading;
	const char *pfx; /* prefix of the request's field names: "" or "new_" */
};

static int reject(struct crud_op *op, int rc, const char *pfx, const char *field,
		  const char *fmt, ...) XQ_PRINTF(5, 6);

/* Refuses op: a Chinese message for people and the request field (pfx + field) it is about. */
static int reject(struct crud_op *op, int rc, const char *pfx, const char *field,
		  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(op->msg, sizeof(op->msg), fmt, ap);
	va_end(ap);
	snprintf(op->field, sizeof(op->field), "%s%s", pfx, field);
	return rc;
}

/* An id for an 'L' parameter: NULL (SQL NULL) for 0. */
static const int64_t *opt(const int64_t *id)
{
	return *id ? id : NULL;
}

static int64_t id_or_none(const struct jval *v)
{
	return v->set && !v->null ? v->i : 0;
}

/* One past the largest register value: 10^digits kWh or m³, counted in Wh or litres. */
static int64_t register_limit(int64_t digits)
{
	int64_t v = 1000;

	while (digits-- > 0)
		v *= 10;
	return v;
}

/* A Modbus unit id as its canonical decimal text: no sign, no leading zero. */
static int modbus_unit_ok(const char *a)
{
	int64_t v;

	return a[0] >= '1' && a[0] <= '9' && strspn(a, "0123456789") == strlen(a) &&
	       xq_parse_i64(a, &v) == XQ_OK && v <= 247;
}

/* The address as the protocol's meters print it on the nameplate; NULL if fine. */
static const char *address_problem(const char *protocol, const char *a)
{
	size_t n = strlen(a);

	if (!strcmp(protocol, "manual"))
		return NULL;
	if (n == 0)
		return "自动采集的表计（通讯协议不是 manual）必须填写通讯地址";
	if (!strcmp(protocol, "dlt645") && (n != 12 || strspn(a, "0123456789") != n))
		return "DL/T 645 表的通讯地址必须是 12 位数字";
	if (!strcmp(protocol, "cjt188") && (n != 14 || strspn(a, "0123456789abcdefABCDEF") != n))
		return "CJ/T 188 表的通讯地址必须是 14 位十六进制字符";
	if (!strcmp(protocol, "modbus") && !modbus_unit_ok(a))
		return "Modbus 表的通讯地址是从站号，必须是 1 到 247 之间的整数";
	return NULL;
}

/* Fills what the installer chose, with a new meter's defaults for what they left out. */
static void spec_settings(struct meter_spec *s, const struct meter_settings *in)
{
	s->meter_no = in->meter_no.s;
	s->model = in->model.set ? in->model.s : "";
	s->digits = in->digits.set ? in->digits.i : 6;
	s->multiplier = in->multiplier.set ? in->multiplier.i : 1;
	s->protocol = in->protocol.set ? in->protocol.s : "manual";
	s->address = in->address.set ? in->address.s : "";
	s->smart = in->smart.i;
	s->has_relay = in->has_relay.i;
}

/* Fills where the meter is and what it measures from the locked row. */
static void spec_from_before(struct meter_spec *s, const struct crud_op *op)
{
	s->community_id = crud_before_i64(op, "community_id");
	s->house_id = crud_before_i64(op, "house_id");
	s->parent_id = crud_before_i64(op, "parent_meter_id");
	s->utility = crud_before_str(op, "utility");
	s->kind = crud_before_str(op, "kind");
	s->initial_reading = crud_before_i64(op, "initial_reading");
}

/* The checks that need no database. */
static int spec_check(struct crud_op *op, const struct meter_spec *s)
{
	int64_t limit = register_limit(s->digits);
	const char *why;

	/* billing finds a house's use through its household meters */
	if (!strcmp(s->kind, "household") && !s->house_id)
		return reject(op, XQ_EINVAL, s->pfx, "house_id", "户表必须指定所属房屋");
	if (!strcmp(s->kind, "supply") && s->house_id)
		return reject(op, XQ_EINVAL, s->pfx, "house_id", "总表不能关联到房屋");
	if ((why = address_problem(s->protocol, s->address)))
		return reject(op, XQ_EINVAL, s->pfx, "address", "%s", why);
	if (s->initial_reading >= limit)
		return reject(op, XQ_EINVAL, s->pfx, "initial_reading",
			      "初始读数必须小于 %lld（%lld 位表盘的量程，单位：%s）", (long long)limit,
			      (long long)s->digits, strcmp(s->utility, "water") ? "Wh" : "升");
	return XQ_OK;
}

/* What is wrong with the parent meter row r for s; NULL if nothing. */
static const char *parent_problem(const struct db_res *r, const struct meter_spec *s)
{
	if (r->nrows != 1)
		return "上级表不存在";
	if (db_i64(r, 0, 0) != s->community_id)
		return "上级表必须属于同一小区";
	if (strcmp(db_str(r, 0, 1), s->utility))
		return "上级表的计量类型（水/电）必须与本表相同";
	if (strcmp(db_str(r, 0, 2), "supply"))
		return "上级表必须是总表（supply）";
	if (strcmp(db_str(r, 0, 3), "active"))
		return "上级表已拆除";
	return NULL;
}

/* The house and the parent meter, if given, must fit the meter's community and utility. */
static int spec_links_check(struct db *db, struct crud_op *op, const struct meter_spec *s)
{
	struct db_res r = { 0 };
	const char *why;
	int rc;

	if (s->house_id) {
		rc = db_run(db, &q_meter_house_in_community, &r, s->house_id, s->community_id);
		if (rc)
			return rc;
		rc = db_i64(&r, 0, 0) ? XQ_OK : XQ_EINVAL;
		db_res_release(&r);
		if (rc)
			return reject(op, rc, s->pfx, "house_id", "房屋不存在或不属于该表计所在的小区");
	}
	if (!s->parent_id)
		return XQ_OK;
	/* NEEDSWORK: longer cycles (A under B under A) are not looked for */
	if (s->parent_id == s->id)
		return reject(op, XQ_EINVAL, s->pfx, "parent_meter_id", "上级表不能是表计自身");
	if ((rc = db_run(db, &q_meter_parent, &r, s->parent_id)))
		return rc;
	why = parent_problem(&r, s);
	db_res_release(&r);
	return why ? reject(op, XQ_EINVAL, s->pfx, "parent_meter_id", "%s", why) : XQ_OK;
}

/* A manual, accepted reading entered by the calling staff member. */
static int reading_insert(struct db *db, const struct crud_op *op, int64_t meter_id,
			  const char *at, int64_t value)
{
	int64_t staff = op->rq->who.staff_id;
	return db_run(db, &q_reading_insert, NULL, meter_id, at, value, opt(&staff));
}

/* Inserts the meter of s with its opening reading at installed_at; *id (OUT) is its id. */
static int meter_insert(struct db *db, const struct crud_op *op, const struct meter_spec *s,
			int64_t *id)
{
	int rc = db_run(db, &q_meter_insert, NULL, s->community_id, opt(&s->house_id),
			opt(&s->parent_id), s->utility, s->kind, s->meter_no, s->model, s->digits,
			s->multiplier, s->protocol, s->address, s->smart, s->has_relay,
			s->installed_at, s->initial_reading);

	if (rc)
		return rc;
	*id = db_insert_id(db);
	/* billing measures use from the opening value, so it is stored as a reading */
	return reading_insert(db, op, *id, s->installed_at, s->initial_reading);
}

static int require_active(struct crud_op *op, const char *msg_zh)
{
	const char *status = crud_before_str(op, "status");

	if (status && !strcmp(status, "active"))
		return XQ_OK;
	return reject(op, XQ_ECONFLICT, "", "", "%s", msg_zh);
}

/*
 * Ends the life of the locked meter op->id: the final reading must fit the
 * register and not be below the latest reading; it is stored as a reading
 * and the meter marked removed. at (OUT) receives the removal instant, where
 * a replacement meter starts.
 */
static int meter_close(struct db *db, struct crud_op *op, const struct remove_in *in, char *at,
		       size_t atlen)
{
	int64_t limit = register_limit(crud_before_i64(op, "digits"));
	int64_t final = in->final_reading.i;
	const char *day = in->removed_at.s;
	struct db_res r = { 0 };
	int rc;

	if ((rc = require_active(op, "该表计已拆除")))
		return rc;
	if (final >= limit)
		return reject(op, XQ_EINVAL, "", "final_reading", "拆表读数必须小于 %lld（表盘量程）",
			      (long long)limit);
	if ((rc = db_run(db, &q_meter_last, &r, op->id, day, day, day, op->id)))
		return rc;
	if (db_i64(&r, 0, 1))
		rc = reject(op, XQ_EINVAL, "", "removed_at", "拆除日期不能早于最近一次读数的日期（%s）",
			    db_str(&r, 0, 2));
	else if (db_str(&r, 0, 0) && final < db_i64(&r, 0, 0))
		/* a wrapped register would need rollover handling; the reading path has it */
		rc = reject(op, XQ_EINVAL, "", "final_reading",
			    "拆表读数 %lld 小于最近一次读数 %lld。如果表盘已走满归零，请先把归零后的表盘示数"
			    "作为一次抄表读数录入，再办理拆表",
			    (long long)final, (long long)db_i64(&r, 0, 0));
	else
		snprintf(at, atlen, "%s", db_str(&r, 0, 3));
	db_res_release(&r);
	if (rc || (rc = reading_insert(db, op, op->id, at, final)))
		return rc;
	return db_run(db, &q_meter_close, NULL, at, final, op->id);
}

/* ---- handlers ------------------------------------------------------- */

/* Rollups of the (meter, China day of date) an opening/closing reading went into (lib/rollup.h). */
static void refresh_day(struct req *rq, int64_t meter_id, const char *date)
{
	struct rollup_key k[2] = { { meter_id, 0 }, { meter_id, 0 } };

	if (rollup_day_parse(date, &k[0].day))
		return;
	/* a closing reading just after a late reading of the day may fall on the next China day */
	k[1].day = k[0].day + 1;
	reading_refresh(rq->db, k, 2);
}

int admin_meter_list(struct req *rq)
{
	struct page pg;
	struct db_res cnt, rows = { 0 };
	int64_t cid_v, hid_v;
	const int64_t *cid, *hid;
	const char *like, *utility, *kind, *status;
	int rc;

	if (api_page(rq, &pg) || api_opt_id(rq, "community_id", &cid_v, &cid) ||
	    api_opt_id(rq, "house_id", &hid_v, &hid) ||
	    api_opt_enum(rq, "utility", utilities, &utility) ||
	    api_opt_enum(rq, "kind", kinds, &kind) || api_opt_enum(rq, "status", statuses, &status))
		return rq->status;
	like = api_like(rq, "q");
	rc = db_run(rq->db, &q_meter_count, &cnt, cid, cid, hid, hid, utility, utility, kind, kind,
		    status, status, like, like, like);
	if (rc == XQ_OK)
		rc = db_run(rq->db, &q_meter_page, &rows, cid, cid, hid, hid, utility, utility, kind,
			    kind, status, status, like, like, like, pg.size, pg.offset);
	return api_list_reply(rq, rc, &cnt, &rows, &pg);
}

int admin_meter_get(struct req *rq)
{
	struct db_res rd = { 0 };
	cJSON *o = NULL;
	int64_t id;
	int rc;

	if (req_param_id(rq, "id", &id))
		return resp_fail_msg(rq, XQ_ENOTFOUND, "表计不存在", NULL);
	rc = crud_load_row(rq->db, &q_meter_get, id, &o);
	if (rc == XQ_OK)
		rc = db_run(rq->db, &q_meter_readings, &rd, id);
	if (rc) {
		cJSON_Delete(o);
		return rc == XQ_ENOTFOUND ? resp_fail_msg(rq, rc, "表计不存在", NULL) : resp_fail(rq, rc);
	}
	/* newest first: what the staff member compares a new reading with */
	cJSON_AddItemToObject(o, "readings", db_rows_json(&rd));
	db_res_release(&rd);
	return resp_json(rq, 200, o);
}

static int meter_create_apply(struct db *db, struct crud_op *op)
{
	struct meter_in *in = op->in;
	struct meter_spec s = {
		.community_id = in->community_id.i, .house_id = id_or_none(&in->house_id),
		.parent_id = id_or_none(&in->parent_meter_id), .utility = in->utility.s,
		.kind = in->kind.set ? in->kind.s : "household", .installed_at = in->installed_at.s,
		.initial_reading = in->initial_reading.i, .pfx = "",
	};
	int rc;

	spec_settings(&s, &in->set);
	if ((rc = spec_check(op, &s)) || (rc = spec_links_check(db, op, &s)))
		return rc;
	return meter_insert(db, op, &s, &op->id);
}

int admin_meter_create(struct req *rq)
{
	struct meter_in in;
	struct crud_op op = { .rq = rq, .ent = &ent_meter, .action = "create", .in = &in,
			      .apply = meter_create_apply, .created_status = 201 };
	int status = crud_handle(&op, 0, meter_fields, XQ_ARRAY_LEN(meter_fields));

	/* readings area: the opening reading counts in the usage rollups too */
	if (status == 201)
		refresh_day(rq, op.id, in.installed_at.s);
	return status;
}

/* Full replace of the editable settings; where it is and what it measures stay. */
static int meter_update_apply(struct db *db, struct crud_op *op)
{
	struct meter_in *in = op->in;
	struct meter_spec s = { .id = op->id, .pfx = "" };
	int rc;

	if ((rc = require_active(op, "已拆除的表计不能修改")))
		return rc;
	spec_from_before(&s, op);
	s.house_id = id_or_none(&in->house_id);
	s.parent_id = id_or_none(&in->parent_meter_id);
	spec_settings(&s, &in->set);
	if ((rc = spec_check(op, &s)) || (rc = spec_links_check(db, op, &s)))
		return rc;
	return db_run(db, &q_meter_update, NULL, opt(&s.house_id), opt(&s.parent_id), s.meter_no,
		      s.model, s.digits, s.multiplier, s.protocol, s.address, s.smart, s.has_relay,
		      op->id);
}

int admin_meter_update(struct req *rq)
{
	struct meter_in in;
	struct crud_op op = { .rq = rq, .ent = &ent_meter, .action = "update", .in = &in,
			      .apply = meter_update_apply };

	return crud_handle(&op, 1, meter_fields + METER_EDITABLE,
			   XQ_ARRAY_LEN(meter_fields) - METER_EDITABLE);
}

static int meter_remove_apply(struct db *db, struct crud_op *op)
{
	char at[40];
	return meter_close(db, op, op->in, at, sizeof(at));
}

int admin_meter_remove(struct req *rq)
{
	struct remove_in in;
	struct crud_op op = { .rq = rq, .ent = &ent_meter, .action = "remove", .in = &in,
			      .apply = meter_remove_apply };
	int status = crud_handle(&op, 1, remove_fields, XQ_ARRAY_LEN(remove_fields));

	if (status == 200)
		refresh_day(rq, op.id, in.removed_at.s);
	return status;
}

/*
 * Replacing answers with both rows, which crud_run() cannot do, so it runs
 * its own transaction: op carries the old meter (before/after, messages),
 * the job the new one.
 */
struct replace_job {
	struct crud_op op;
	struct replace_in in;
	int64_t new_id;
	cJSON *new_row;
};

static void replace_drop_rows(struct replace_job *job)
{
	cJSON_Delete(job->op.before);
	cJSON_Delete(job->op.after);
	cJSON_Delete(job->new_row);
	job->op.before = job->op.after = job->new_row = NULL;
}

static int meter_replace_tx(struct db *db, void *arg)
{
	struct replace_job *job = arg;
	struct crud_op *op = &job->op;
	struct req *rq = op->rq;
	struct audit_actor who = { rq->who.staff_id, rq->who.username, rq->remote_addr, rq->rid };
	struct meter_spec s = { .pfx = "new_" };
	char at[40];
	int rc;

	/* a retried transaction starts from scratch */
	replace_drop_rows(job);
	op->msg[0] = op->field[0] = '\0';
	if ((rc = crud_load_row(db, &q_meter_lock, op->id, &op->before)) ||
	    (rc = meter_close(db, op, &job->in.rm, at, sizeof(at))))
		return rc;
	/* the successor takes the old meter's place: same house, parent, utility and kind */
	spec_from_before(&s, op);
	spec_settings(&s, &job->in.set);
	s.installed_at = at;
	s.initial_reading = job->in.new_initial_reading.i;
	if ((rc = spec_check(op, &s)) || (rc = meter_insert(db, op, &s, &job->new_id)) ||
	    (rc = db_run(db, &q_meter_replaced_by, NULL, job->new_id, op->id)) ||
	    (rc = db_run(db, &q_meter_reparent, NULL, job->new_id, op->id)) ||
	    (rc = crud_load_row(db, &q_meter_get, op->id, &op->after)) ||
	    (rc = crud_load_row(db, &q_meter_get, job->new_id, &job->new_row)) ||
	    (rc = audit_write(db, &who, "replace", "meter", op->id, op->before, op->after)))
		return rc;
	return audit_write(db, &who, "create", "meter", job->new_id, NULL, job->new_row);
}

int admin_meter_replace(struct req *rq)
{
	struct replace_job job = { .op = { .rq = rq, .ent = &ent_meter, .action = "replace" } };
	cJSON *o;
	int rc;

	if (req_param_id(rq, "id", &job.op.id))
		return crud_fail(&job.op, XQ_ENOTFOUND);
	if (api_decode(rq, replace_fields, XQ_ARRAY_LEN(replace_fields), &job.in))
		return rq->status;
	rc = db_tx(rq->db, meter_replace_tx, &job);
	if (rc) {
		replace_drop_rows(&job);
		return crud_fail(&job.op, rc);
	}
	log_info("replace meter id=%lld with id=%lld by '%s'", (long long)job.op.id,
		 (long long)job.new_id, rq->who.username);
	cJSON_Delete(job.op.before);
	refresh_day(rq, job.op.id, job.in.rm.removed_at.s);
	refresh_day(rq, job.new_id, job.in.rm.removed_at.s);
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "old", job.op.after);
	cJSON_AddItemToObject(o, "new", job.new_row);
	return resp_json(rq, 200, o);
}
