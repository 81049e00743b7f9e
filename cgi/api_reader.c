/*
 * api_reader.c - the mini-program's reader mode (docs/readings.md). Readers
 * are staff accounts (role reader): they log in with their console
 * password and get the staff session token in the body, sent back as
 * "Authorization: Bearer" on R_BEARER routes (no cookie, no CSRF). Same
 * session table, expiry and login throttling as the console.
 * The route is the manual meters of the reader's assignments without a
 * good reading this month; a batch from the offline queue carries a client
 * id per entry, so syncing it twice stores each reading once. Assignments
 * are managed in the console (staff.admin), audited.
 */
#include "auth.h"
#include "config.h"
#include "crud.h"
#include "log.h"
#include "reading.h"
#include "valid.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BATCH_MAX 200

struct rlogin_in {
	struct jval username, password;
};

#define RL(f) offsetof(struct rlogin_in, f)
static const struct json_field rlogin_fields[] = {
    {"username", J_STRING, J_REQUIRED, RL(username), 1, 64, NULL, "用户名"},
    {"password", J_STRING, J_REQUIRED, RL(password), 1, 128, NULL, "密码"},
};

DB_QUERY(q_reader_perm) = {
    "reader_perm",
    "SELECT u.username, u.display_name, u.role_code, COUNT(rp.perm_code) FROM staff_user u"
    " LEFT JOIN role_permission rp ON rp.role_code = u.role_code AND rp.perm_code = 'reading.entry'"
    " WHERE u.id = ? GROUP BY u.id, u.username, u.display_name, u.role_code",
    "l",
    "sssl",
};

int api_reader_login(struct req *rq)
{
	struct rlogin_in in;
	struct login_result lr;
	struct audit_actor who = {0, NULL, rq->remote_addr, rq->rid};
	struct db_res r;
	cJSON *o, *s;
	char hash[65];
	int rc;

	if (api_decode(rq, rlogin_fields, XQ_ARRAY_LEN(rlogin_fields), &in))
		return rq->status;
	/* TOTP accounts are console accounts: a reader phone has no second factor here */
	rc = auth_login(rq->db, rq->cfg, in.username.s, in.password.s, NULL, rq->remote_addr,
	                req_header(rq, "User-Agent"), &lr);
	if (rc)
		return resp_fail(rq, rc);
	if ((rc = db_run(rq->db, &q_reader_perm, &r, lr.staff_id))) {
		auth_sha256_hex(lr.token, hash);
		auth_logout(rq->db, hash);
		return resp_fail(rq, rc);
	}
	if (r.nrows != 1 || db_i64(&r, 0, 3) == 0) {
		db_res_release(&r);
		auth_sha256_hex(lr.token, hash);
		auth_logout(rq->db, hash);
		return resp_fail_msg(rq, XQ_EFORBIDDEN, "该账号没有抄表权限", NULL);
	}
	who.staff_id = lr.staff_id;
	who.name = in.username.s;
	audit_write(rq->db, &who, "login", "staff_user", lr.staff_id, NULL, NULL);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "token", lr.token);
	cJSON_AddNumberToObject(o, "expires_in", (double)rq->cfg->auth_session_ttl_s);
	s = cJSON_CreateObject();
	cJSON_AddNumberToObject(s, "id", (double)lr.staff_id);
	cJSON_AddStringToObject(s, "username", db_str(&r, 0, 0));
	cJSON_AddStringToObject(s, "display_name", db_str(&r, 0, 1));
	cJSON_AddStringToObject(s, "role", db_str(&r, 0, 2));
	cJSON_AddItemToObject(o, "staff", s);
	db_res_release(&r);
	return resp_json(rq, 200, o);
}

int api_reader_logout(struct req *rq)
{
	cJSON *o;
	int rc = auth_logout(rq->db, rq->who.session_hash);

	if (rc)
		return resp_fail(rq, rc);
	o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "ok", 1);
	return resp_json(rq, 200, o);
}

/*
 * Household manual meters of the reader's communities/buildings with no
 * good reading in [month start, next month start) (UTC bounds of the China
 * month), with the last reading and the typical day so the phone can warn
 * offline.
 */
DB_QUERY(q_route) = {
    "reader_route",
    "SELECT m.id AS meter_id, m.meter_no, m.utility, m.digits, m.multiplier, m.community_id,"
    " c.name AS community_name, b.name AS building_name, h.unit_no, h.room,"
    " CONCAT(b.name, h.unit_no, '单元', h.room) AS house_label,"
    " (SELECT x.read_at FROM meter_reading x WHERE x.meter_id = m.id AND x.status <> 'rejected'"
    "   ORDER BY x.read_at DESC LIMIT 1) AS last_read_at,"
    " (SELECT x.value FROM meter_reading x WHERE x.meter_id = m.id AND x.status <> 'rejected'"
    "   ORDER BY x.read_at DESC LIMIT 1) AS last_value,"
    " (SELECT x.status FROM meter_reading x WHERE x.meter_id = m.id AND x.status <> 'rejected'"
    "   ORDER BY x.read_at DESC LIMIT 1) AS last_status,"
    " (SELECT CAST(ROUND(AVG(d.usage_total) / m.multiplier) AS SIGNED) FROM meter_usage_daily d"
    "   WHERE d.meter_id = m.id AND d.day >= ? - INTERVAL 90 DAY AND d.day < ?) AS "
    "typical_daily_raw"
    " FROM meter m JOIN community c ON c.id = m.community_id JOIN house h ON h.id = m.house_id"
    " JOIN building b ON b.id = h.building_id"
    " WHERE m.smart = 0 AND m.status = 'active' AND EXISTS (SELECT 1 FROM reader_assignment a"
    "   WHERE a.staff_user_id = ? AND a.community_id = m.community_id"
    "   AND (a.building_id IS NULL OR a.building_id = h.building_id))"
    " AND NOT EXISTS (SELECT 1 FROM meter_reading g WHERE g.meter_id = m.id AND g.read_at >= ?"
    "   AND g.read_at < ? AND g.status IN ('ok', 'corrected'))"
    " ORDER BY c.name, b.name, h.unit_no, h.room, m.meter_no LIMIT 5000",
    "sslss",
    "lsslllsssssslsl",
};

int api_reader_route(struct req *rq)
{
	const char *d = req_query(rq, "date");
	int64_t day;
	char ds[16], lo[32], hi[32];
	struct db_res r;
	cJSON *o;
	int y, mo, rc;

	day = rollup_day_of_ms(xq_now_ms());
	if (d && *d && rollup_day_parse(d, &day))
		return resp_fail_msg(rq, XQ_EINVAL, "日期格式应为 YYYY-MM-DD", "date");
	rollup_day_str(day, ds, sizeof(ds));
	/* the China month of the day, as UTC instants */
	y = (ds[0] - '0') * 1000 + (ds[1] - '0') * 100 + (ds[2] - '0') * 10 + (ds[3] - '0');
	mo = (ds[5] - '0') * 10 + (ds[6] - '0');
	{
		char m0[24], m1[24];
		int64_t d0, d1;

		snprintf(m0, sizeof(m0), "%04d-%02d-01", y, mo);
		snprintf(m1, sizeof(m1), "%04d-%02d-01", mo == 12 ? y + 1 : y,
		         mo == 12 ? 1 : mo + 1);
		if (rollup_day_parse(m0, &d0) || rollup_day_parse(m1, &d1))
			return resp_fail(rq, XQ_ERROR);
		valid_time_sql(d0 * 86400000LL - 8 * 3600000LL, lo, sizeof(lo));
		valid_time_sql(d1 * 86400000LL - 8 * 3600000LL, hi, sizeof(hi));
	}
	rc = db_run(rq->db, &q_route, &r, ds, ds, rq->who.staff_id, lo, hi);
	if (rc)
		return resp_fail(rq, rc);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "date", ds);
	cJSON_AddNumberToObject(o, "total", (double)r.nrows);
	cJSON_AddItemToObject(o, "items", db_rows_json(&r));
	db_res_release(&r);
	return resp_json(rq, 200, o);
}

/* ---- batch sync ---- */

struct bentry_in {
	struct jval client_id, meter_id, read_at, value, rate[4], note;
};

#define BE(f) offsetof(struct bentry_in, f)
static const struct json_field bentry_fields[] = {
    {"client_id", J_STRING, J_REQUIRED, BE(client_id), 1, 64, NULL, "客户端编号"},
    {"meter_id", J_INT64, J_REQUIRED, BE(meter_id), 1, INT64_MAX, NULL, "表计"},
    {"read_at", J_STRING, J_REQUIRED, BE(read_at), 10, 40, NULL, "抄表时间"},
    {"value", J_INT64, J_REQUIRED, BE(value), 0, INT64_MAX / 4, NULL, "读数"},
    {"value_sharp", J_INT64, J_NULLABLE, BE(rate[0]), 0, INT64_MAX / 4, NULL, "尖读数"},
    {"value_peak", J_INT64, J_NULLABLE, BE(rate[1]), 0, INT64_MAX / 4, NULL, "峰读数"},
    {"value_flat", J_INT64, J_NULLABLE, BE(rate[2]), 0, INT64_MAX / 4, NULL, "平读数"},
    {"value_valley", J_INT64, J_NULLABLE, BE(rate[3]), 0, INT64_MAX / 4, NULL, "谷读数"},
    {"note", J_STRING, 0, BE(note), 0, 200, NULL, "备注"},
};

struct batch_in {
	struct jval entries;
};

static const struct json_field batch_fields[] = {
    {"entries", J_RAW_ARRAY, J_REQUIRED, offsetof(struct batch_in, entries), 1, BATCH_MAX, NULL,
     "抄表记录"},
};

DB_QUERY(q_sync_get) = {
    "reader_sync_get",
    "SELECT result FROM reader_sync WHERE staff_user_id = ? AND client_id = ?",
    "ls",
    "j",
};
DB_QUERY(q_sync_put) = {
    "reader_sync_put",
    "INSERT INTO reader_sync (staff_user_id, client_id, meter_id, read_at, result) VALUES (?, ?, "
    "?, ?, ?)",
    "lslss",
    NULL,
};

struct sync_job {
	struct req *rq;
	const char *client_id;
	struct reading_in in;
	struct reading_out out;
	char *replay; /* the stored result of an earlier sync */
};

static int sync_tx(struct db *db, void *arg)
{
	struct sync_job *j = arg;
	struct req *rq = j->rq;
	struct audit_actor who = {rq->who.staff_id, rq->who.username, rq->remote_addr, rq->rid};
	struct db_res r;
	cJSON *res;
	char *text, at[32];
	int rc;

	free(j->replay);
	j->replay = NULL;
	if ((rc = db_run(db, &q_sync_get, &r, rq->who.staff_id, j->client_id)))
		return rc;
	if (r.nrows == 1) {
		j->replay = xq_strdup(db_str(&r, 0, 0));
		db_res_release(&r);
		return XQ_OK;
	}
	db_res_release(&r);
	if ((rc = reading_store(db, &who, rq->cfg, &j->in, &j->out)))
		return rc;
	if (j->out.duplicate)
		return XQ_OK; /* the same value was stored otherwise (console, import) */
	res = cJSON_CreateObject();
	cJSON_AddStringToObject(res, "status", j->out.flagged ? "flagged" : "stored");
	cJSON_AddStringToObject(res, "flag_reason", j->out.reason);
	cJSON_AddItemToObject(res, "warnings",
	                      j->out.warnings ? cJSON_Duplicate(j->out.warnings, 1)
	                                      : cJSON_CreateArray());
	text = cJSON_PrintUnformatted(res);
	cJSON_Delete(res);
	valid_time_sql(j->in.at_ms, at, sizeof(at));
	rc = db_run(db, &q_sync_put, NULL, rq->who.staff_id, j->client_id, j->out.meter_id, at,
	            text);
	free(text);
	return rc;
}

int api_reader_readings(struct req *rq)
{
	struct batch_in b;
	const cJSON *e;
	cJSON *o, *results;
	struct rollup_key *keys;
	size_t nkeys = 0, idx = 0;
	int64_t stored = 0, flagged = 0, replayed = 0, refused = 0;

	if (api_decode(rq, batch_fields, XQ_ARRAY_LEN(batch_fields), &b))
		return rq->status;
	keys = xq_calloc(BATCH_MAX, sizeof(*keys));
	results = cJSON_CreateArray();
	cJSON_ArrayForEach(e, b.entries.raw)
	{
		struct bentry_in in;
		struct sync_job j = {.rq = rq};
		cJSON *res = NULL, *root = NULL;
		char *text = cJSON_PrintUnformatted(e), msg[256], field[64];
		int rc;

		rc = json_decode(text, strlen(text), bentry_fields, XQ_ARRAY_LEN(bentry_fields),
		                 &in, &root, msg, sizeof(msg), field, sizeof(field));
		free(text);
		res = cJSON_CreateObject();
		cJSON_AddNumberToObject(res, "index", (double)idx++);
		if (rc == XQ_OK && in.client_id.s)
			cJSON_AddStringToObject(res, "client_id", in.client_id.s);
		if (rc == XQ_OK && valid_parse_time(in.read_at.s, &j.in.at_ms)) {
			rc = XQ_EINVAL;
			snprintf(msg, sizeof(msg), "抄表时间格式不正确，应为 RFC 3339");
			snprintf(field, sizeof(field), "read_at");
		}
		if (rc == XQ_OK) {
			j.client_id = in.client_id.s;
			j.in.meter_id = in.meter_id.i;
			j.in.value = in.value.i;
			for (int i = 0; i < 4; i++) {
				j.in.has_rate[i] = in.rate[i].set && !in.rate[i].null;
				j.in.rate[i] = in.rate[i].i;
			}
			j.in.source = "manual";
			j.in.note = in.note.set ? in.note.s : NULL;
			j.in.reader_id = rq->who.staff_id;
			j.in.now_ms = xq_now_ms();
			rc = db_tx(rq->db, sync_tx, &j);
			if (rc && j.out.msg[0]) {
				snprintf(msg, sizeof(msg), "%s", j.out.msg);
				snprintf(field, sizeof(field), "%s", j.out.field);
			} else if (rc) {
				snprintf(msg, sizeof(msg), "%s", xq_message_zh(rc));
				field[0] = '\0';
			}
		}
		if (rc) {
			refused++;
			cJSON_AddStringToObject(res, "status", "error");
			cJSON_AddStringToObject(res, "code",
			                        j.out.code[0] ? j.out.code : xq_code(rc));
			cJSON_AddStringToObject(res, "message", msg);
			cJSON_AddStringToObject(res, "field", field);
		} else if (j.replay) {
			/* the first sync's answer, marked as a repeat */
			cJSON *prev = cJSON_Parse(j.replay);
			cJSON *it;

			replayed++;
			cJSON_ArrayForEach(it, prev)
			    cJSON_AddItemToObject(res, it->string, cJSON_Duplicate(it, 1));
			cJSON_AddBoolToObject(res, "replayed", 1);
			cJSON_Delete(prev);
		} else if (j.out.duplicate) {
			replayed++;
			cJSON_AddStringToObject(res, "status", "duplicate");
			cJSON_AddBoolToObject(res, "replayed", 1);
		} else {
			stored++;
			flagged += j.out.flagged;
			keys[nkeys++] = j.out.key;
			cJSON_AddStringToObject(res, "status",
			                        j.out.flagged ? "flagged" : "stored");
			cJSON_AddStringToObject(res, "flag_reason", j.out.reason);
			cJSON_AddItemToObject(
			    res, "warnings", j.out.warnings ? j.out.warnings : cJSON_CreateArray());
			j.out.warnings = NULL;
		}
		free(j.replay);
		reading_out_release(&j.out);
		cJSON_Delete(root);
		cJSON_AddItemToArray(results, res);
	}
	reading_refresh(rq->db, keys, nkeys);
	free(keys);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "stored", (double)stored);
	cJSON_AddNumberToObject(o, "flagged", (double)flagged);
	cJSON_AddNumberToObject(o, "replayed", (double)replayed);
	cJSON_AddNumberToObject(o, "errors", (double)refused);
	cJSON_AddItemToObject(o, "results", results);
	return resp_json(rq, 200, o);
}

/* ---- console: assignments ---- */

DB_QUERY(q_assign_list) = {
    "reader_assign_list",
    "SELECT a.id, a.staff_user_id, u.username, a.community_id, c.name AS community_name,"
    " a.building_id, b.name AS building_name, a.created_at FROM reader_assignment a"
    " JOIN staff_user u ON u.id = a.staff_user_id JOIN community c ON c.id = a.community_id"
    " LEFT JOIN building b ON b.id = a.building_id WHERE (? IS NULL OR a.staff_user_id = ?)"
    " ORDER BY a.staff_user_id, a.community_id, a.building_id LIMIT 1000",
    "LL",
    "llslslss",
};
DB_QUERY(q_assign_get) = {
    "reader_assign_get",
    "SELECT id, staff_user_id, community_id, building_id, created_at FROM reader_assignment WHERE "
    "id = ?",
    "l",
    "lllls",
};
DB_QUERY(q_assign_lock) = {
    "reader_assign_lock",
    "SELECT id, staff_user_id, community_id, building_id, created_at FROM reader_assignment"
    " WHERE id = ? FOR UPDATE",
    "l",
    "lllls",
};
DB_QUERY(q_assign_del) = {
    "reader_assign_del",
    "DELETE FROM reader_assignment WHERE id = ?",
    "l",
    NULL,
};
DB_QUERY(q_assign_insert) = {
    "reader_assign_insert",
    "INSERT INTO reader_assignment (staff_user_id, community_id, building_id) VALUES (?, ?, ?)",
    "llL",
    NULL,
};
DB_QUERY(q_assign_check) = {
    "reader_assign_check",
    "SELECT (SELECT COUNT(*) FROM staff_user WHERE id = ?),"
    " (SELECT COUNT(*) FROM building WHERE id = ? AND community_id = ?),"
    " (SELECT COUNT(*) FROM reader_assignment WHERE staff_user_id = ? AND community_id = ?"
    "   AND building_id <=> ?)",
    "lLlllL",
    "lll",
};

static const struct crud_entity ent_assign = {
    "reader_assignment",      "抄表范围",         &q_assign_get, &q_assign_lock, &q_assign_del,
    "员工、小区或楼栋不存在", "该抄表范围已存在", NULL,
};

struct assign_in {
	struct jval staff_user_id, community_id, building_id;
};

#define AI(f) offsetof(struct assign_in, f)
static const struct json_field assign_fields[] = {
    {"staff_user_id", J_INT64, J_REQUIRED, AI(staff_user_id), 1, INT64_MAX, NULL, "抄表员"},
    {"community_id", J_INT64, J_REQUIRED, AI(community_id), 1, INT64_MAX, NULL, "小区"},
    {"building_id", J_INT64, J_NULLABLE, AI(building_id), 1, INT64_MAX, NULL, "楼栋"},
};

static int assign_apply(struct db *db, struct crud_op *op)
{
	struct assign_in *in = op->in;
	int64_t bid = in->building_id.set && !in->building_id.null ? in->building_id.i : 0;
	const int64_t *b = bid ? &bid : NULL;
	struct db_res r;
	int64_t staff, bld, dup;
	int rc;

	if ((rc = db_run(db, &q_assign_check, &r, in->staff_user_id.i, b, in->community_id.i,
	                 in->staff_user_id.i, in->community_id.i, b)))
		return rc;
	staff = db_i64(&r, 0, 0), bld = db_i64(&r, 0, 1), dup = db_i64(&r, 0, 2);
	db_res_release(&r);
	if (!staff)
		return crud_reject(op, XQ_EINVAL, "staff_user_id", "员工账号不存在");
	if (bid && !bld)
		return crud_reject(op, XQ_EINVAL, "building_id", "楼栋不存在或不属于该小区");
	if (dup)
		return crud_reject(op, XQ_ECONFLICT, "community_id", "该抄表范围已存在");
	if ((rc = db_run(db, &q_assign_insert, NULL, in->staff_user_id.i, in->community_id.i, b)))
		return rc;
	op->id = db_insert_id(db);
	return XQ_OK;
}

int admin_reader_assignment_create(struct req *rq)
{
	struct assign_in in;
	struct crud_op op = {.rq = rq,
	                     .ent = &ent_assign,
	                     .action = "create",
	                     .in = &in,
	                     .apply = assign_apply,
	                     .created_status = 201};

	return crud_handle(&op, 0, assign_fields, XQ_ARRAY_LEN(assign_fields));
}

int admin_reader_assignment_list(struct req *rq)
{
	struct db_res r;
	int64_t sid_v;
	const int64_t *sid;
	cJSON *o;
	int rc;

	if (api_opt_id(rq, "staff_user_id", &sid_v, &sid))
		return rq->status;
	if ((rc = db_run(rq->db, &q_assign_list, &r, sid, sid)))
		return resp_fail(rq, rc);
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "items", db_rows_json(&r));
	db_res_release(&r);
	return resp_json(rq, 200, o);
}

int admin_reader_assignment_delete(struct req *rq)
{
	return crud_delete(rq, &ent_assign);
}

/* ---- photos ---- */

DB_QUERY(q_photo_reading) = {
    "reader_photo_reading",
    "SELECT COUNT(*) FROM meter_reading r JOIN meter m ON m.id = r.meter_id"
    " LEFT JOIN house h ON h.id = m.house_id"
    " WHERE r.meter_id = ? AND r.read_at = ? AND EXISTS (SELECT 1 FROM reader_assignment a"
    "   WHERE a.staff_user_id = ? AND a.community_id = m.community_id"
    "   AND (a.building_id IS NULL OR a.building_id = h.building_id))",
    "lsl",
    "l",
};
DB_QUERY(q_photo_insert) = {
    "reader_photo_insert",
    "INSERT IGNORE INTO reading_photo (meter_id, read_at, sha256, mime, bytes, staff_user_id)"
    " VALUES (?, ?, ?, ?, ?, ?)",
    "lsssll",
    NULL,
};

/* Writes data to dir/name through a temporary file and rename, so a reader never sees half a photo.
 */
static int photo_write(const char *dir, const char *name, const char *data, size_t n)
{
	char tmp[1024], path[1024];
	FILE *f;
	int ok;

	if (mkdir(dir, 0750) && errno != EEXIST)
		return XQ_ERROR;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (access(path, F_OK) == 0)
		return XQ_OK; /* content-addressed: the same bytes are there */
	snprintf(tmp, sizeof(tmp), "%s/.%s.%d.tmp", dir, name, (int)getpid());
	if (!(f = fopen(tmp, "wb")))
		return XQ_ERROR;
	ok = fwrite(data, 1, n, f) == n;
	ok = fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
	ok = fclose(f) == 0 && ok;
	if (!ok || rename(tmp, path)) {
		unlink(tmp);
		return XQ_ERROR;
	}
	return XQ_OK;
}

/*
 * POST /api/v1/reader/photos?meter_id=&read_at=<UTC ms>, body the image
 * (JPEG or PNG by its magic bytes, at most readings.photo_max), linked to
 * a stored reading of a meter in the reader's assignments.
 */
int api_reader_photo(struct req *rq)
{
	static const unsigned char jpeg[] = {0xFF, 0xD8, 0xFF};
	static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
	struct audit_actor who = {rq->who.staff_id, rq->who.username, rq->remote_addr, rq->rid};
	const unsigned char *b = (const unsigned char *)rq->body.data;
	size_t n = rq->body.len;
	const char *mime, *ext, *mq = req_query(rq, "meter_id"), *aq = req_query(rq, "read_at");
	unsigned char md[32];
	unsigned int mdlen = 0;
	char hex[65], name[80], at[32];
	int64_t meter_id, at_ms;
	struct db_res r;
	cJSON *o;
	int rc;

	if (!mq || xq_parse_i64(mq, &meter_id) || meter_id <= 0 || !aq ||
	    xq_parse_i64(aq, &at_ms) || at_ms <= 0)
		return resp_fail_msg(rq, XQ_EINVAL, "请提供读数的 meter_id 和 read_at（UTC 毫秒）",
		                     "read_at");
	if (n >= sizeof(png) && !memcmp(b, png, sizeof(png)))
		mime = "image/png", ext = "png";
	else if (n >= sizeof(jpeg) && !memcmp(b, jpeg, sizeof(jpeg)))
		mime = "image/jpeg", ext = "jpg";
	else
		return resp_fail_msg(rq, XQ_EMEDIA, "照片必须是 JPEG 或 PNG 图片", NULL);
	valid_time_sql(at_ms, at, sizeof(at));
	if ((rc = db_run(rq->db, &q_photo_reading, &r, meter_id, at, rq->who.staff_id)))
		return resp_fail(rq, rc);
	rc = db_i64(&r, 0, 0) ? XQ_OK : XQ_ENOTFOUND;
	db_res_release(&r);
	if (rc)
		return resp_fail_msg(rq, rc, "读数不存在或不在您的抄表范围内，请先同步读数", NULL);
	if (!EVP_Digest(b, n, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return resp_fail(rq, XQ_ERROR);
	xq_hex(md, 32, hex);
	snprintf(name, sizeof(name), "%s.%s", hex, ext);
	if (photo_write(rq->cfg->readings_photo_dir, name, rq->body.data, n)) {
		log_error("cannot store photo %s in %s: %s", name, rq->cfg->readings_photo_dir,
		          strerror(errno));
		return resp_fail(rq, XQ_ERROR);
	}
	if ((rc = db_run(rq->db, &q_photo_insert, NULL, meter_id, at, hex, mime, (int64_t)n,
	                 rq->who.staff_id)))
		return resp_fail(rq, rc);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "meter_id", (double)meter_id);
	cJSON_AddNumberToObject(o, "read_at_ms", (double)at_ms);
	cJSON_AddStringToObject(o, "sha256", hex);
	cJSON_AddStringToObject(o, "mime", mime);
	cJSON_AddNumberToObject(o, "bytes", (double)n);
	cJSON_AddBoolToObject(o, "new", db_affected(rq->db) > 0);
	if (db_affected(rq->db) > 0)
		audit_write(rq->db, &who, "photo", "meter_reading", meter_id, NULL, o);
	return resp_json(rq, 201, o);
}
