/*
 * api_resident.c - the mini-program's resident routes: WeChat login, "me",
 * binding houses (staff-issued code, or owner name + last 4 mobile digits),
 * the bound houses with balance and arrears, and their bills. Also the staff
 * route that issues binding codes. Payment routes are api_pay.c.
 *
 * Ownership is not checked here for {id} house routes: the router does it
 * (R_OWN_HOUSE); ids that arrive any other way go through
 * resident_house_check(), the one helper. A refusal is always 404.
 */
#include "audit.h"
#include "auth.h"
#include "config.h"
#include "crud.h"
#include "log.h"
#include "resident_auth.h"
#include "wxclient.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

/* ---- login ------------------------------------------------------------- */

struct rlogin_in {
	struct jval code;
};

static const struct json_field rlogin_fields[] = {
	{ "code", J_STRING, J_REQUIRED, offsetof(struct rlogin_in, code), 1, 128, NULL, "登录凭证" },
};

DB_QUERY(q_wx_user_upsert) = {
	"wx_user_upsert",
	"INSERT INTO wx_user (openid, unionid, session_key, session_key_at, last_login_at)"
	" VALUES (?, ?, ?, NOW(3), NOW(3)) ON DUPLICATE KEY UPDATE"
	" unionid = COALESCE(VALUES(unionid), unionid), session_key = VALUES(session_key),"
	" session_key_at = NOW(3), last_login_at = NOW(3)",
	"sss",
	NULL,
};

DB_QUERY(q_wx_user_by_openid) = {
	"wx_user_by_openid", "SELECT id FROM wx_user WHERE openid = ?", "s", "l",
};

DB_QUERY(q_resident_me) = {
	"resident_me",
	"SELECT u.id, u.nickname, u.mobile <> '' AS has_mobile, u.last_login_at, u.created_at,"
	" (SELECT COUNT(*) FROM wx_binding b WHERE b.wx_user_id = u.id AND b.status = 'active')"
	"   AS houses"
	" FROM wx_user u WHERE u.id = ?",
	"l",
	"lsbssl",
};

/* {user: {...}} plus the token on login. */
static int reply_me(struct req *rq, int status, int64_t wx_user_id, const char *token)
{
	struct db_res r;
	cJSON *o;
	int rc = db_run(rq->db, &q_resident_me, &r, wx_user_id);

	if (rc)
		return resp_fail(rq, rc);
	if (r.nrows != 1) {
		db_res_release(&r);
		return resp_fail(rq, XQ_EAUTH);
	}
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "user", db_row_json(&r, 0));
	db_res_release(&r);
	if (token) {
		cJSON_AddStringToObject(o, "token", token);
		cJSON_AddNumberToObject(o, "expires_in", (double)rq->cfg->auth_session_ttl_s);
	}
	return resp_json(rq, status, o);
}

int api_resident_login(struct req *rq)
{
	struct rlogin_in in;
	struct wx_session ws;
	struct db_res r;
	char token[65];
	int64_t uid;
	int rc;

	memset(&in, 0, sizeof(in));
	if (api_decode(rq, rlogin_fields, XQ_ARRAY_LEN(rlogin_fields), &in))
		return rq->status;
	rc = wx_code2session(rq->cfg, in.code.s, &ws);
	if (rc == XQ_EINVAL)
		return resp_fail_msg(rq, XQ_EAUTH, wx_login_message_zh(ws.errcode), "code");
	if (rc == XQ_EAGAIN)
		return resp_fail_msg(rq, XQ_EAGAIN, wx_login_message_zh(ws.errcode ? ws.errcode : -1),
				     NULL);
	if (rc)
		return resp_fail_msg(rq, XQ_EPROTO, "微信登录服务异常，请稍后重试", NULL);
	rc = db_run(rq->db, &q_wx_user_upsert, NULL, ws.openid, ws.unionid[0] ? ws.unionid : NULL,
		    ws.session_key[0] ? ws.session_key : NULL);
	OPENSSL_cleanse(ws.session_key, sizeof(ws.session_key));
	if (rc)
		return resp_fail(rq, rc);
	if ((rc = db_run(rq->db, &q_wx_user_by_openid, &r, ws.openid)))
		return resp_fail(rq, rc);
	uid = r.nrows == 1 ? db_i64(&r, 0, 0) : 0;
	db_res_release(&r);
	if (!uid)
		return resp_fail(rq, XQ_ERROR);
	rc = resident_session_create(rq->db, uid, rq->cfg->auth_session_ttl_s, rq->remote_addr,
				     req_header(rq, "User-Agent"), token);
	if (rc)
		return resp_fail(rq, rc);
	log_info("resident login ok: wx_user %lld", (long long)uid);
	rc = reply_me(rq, 200, uid, token);
	OPENSSL_cleanse(token, sizeof(token));
	return rc;
}

int api_resident_me(struct req *rq)
{
	return reply_me(rq, 200, rq->who.wx_user_id, NULL);
}

int api_resident_logout(struct req *rq)
{
	int rc = resident_logout(rq->db, rq->who.session_hash);
	cJSON *o;

	if (rc)
		return resp_fail(rq, rc);
	o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "ok", 1);
	return resp_json(rq, 200, o);
}

/* ---- binding ------------------------------------------------------------- */

struct bind_in {
	struct jval house_id, binding_code, owner_name, phone_last4, building_id, unit_no, room;
};

#define BI(f) offsetof(struct bind_in, f)
static const struct json_field bind_fields[] = {
	{ "house_id", J_INT64, 0, BI(house_id), 1, INT64_MAX, NULL, "房屋" },
	{ "binding_code", J_STRING, 0, BI(binding_code), 4, 16, NULL, "绑定码" },
	{ "owner_name", J_STRING, 0, BI(owner_name), 1, 64, NULL, "业主姓名" },
	{ "phone_last4", J_STRING, 0, BI(phone_last4), 4, 4, NULL, "手机号后四位" },
	{ "building_id", J_INT64, 0, BI(building_id), 1, INT64_MAX, NULL, "楼栋" },
	{ "unit_no", J_STRING, 0, BI(unit_no), 1, 16, NULL, "单元" },
	{ "room", J_STRING, 0, BI(room), 1, 32, NULL, "门牌号" },
};

DB_QUERY(q_bind_fails) = {
	"binding_fails",
	"SELECT COUNT(*) FROM binding_attempt WHERE wx_user_id = ? AND ok = 0"
	" AND at > NOW(3) - INTERVAL ? SECOND"
	" AND id > COALESCE((SELECT MAX(id) FROM binding_attempt WHERE wx_user_id = ? AND ok = 1), 0)",
	"lll",
	"l",
};

DB_QUERY(q_bind_attempt) = {
	"binding_attempt", "INSERT INTO binding_attempt (wx_user_id, ok) VALUES (?, ?)", "li", NULL,
};

DB_QUERY(q_bind_code_take) = {
	"binding_code_take",
	"SELECT id, house_id, relation FROM binding_code"
	" WHERE code_hash = ? AND used_at IS NULL AND expires_at > NOW(3) FOR UPDATE",
	"s",
	"lls",
};

DB_QUERY(q_bind_code_use) = {
	"binding_code_use", "UPDATE binding_code SET used_at = NOW(3), used_by = ? WHERE id = ?", "ll",
	NULL,
};

DB_QUERY(q_bind_house_by_room) = {
	"binding_house_by_room",
	"SELECT id FROM house WHERE building_id = ? AND unit_no = ? AND room = ?",
	"lss",
	"l",
};

DB_QUERY(q_bind_owner) = {
	"binding_owner_match",
	"SELECT r.id FROM house_resident hr JOIN resident r ON r.id = hr.resident_id"
	" WHERE hr.house_id = ? AND hr.relation = 'owner' AND hr.move_out IS NULL"
	" AND r.name = ? AND CHAR_LENGTH(r.mobile) >= 4 AND RIGHT(r.mobile, 4) = ?"
	" ORDER BY r.id LIMIT 1",
	"lss",
	"l",
};

DB_QUERY(q_bind_upsert) = {
	"binding_upsert",
	"INSERT INTO wx_binding (wx_user_id, house_id, resident_id, relation, status, verified_by)"
	" VALUES (?, ?, ?, ?, 'active', ?) ON DUPLICATE KEY UPDATE status = 'active',"
	" resident_id = VALUES(resident_id), relation = VALUES(relation),"
	" verified_by = VALUES(verified_by)",
	"llLss",
	NULL,
};

struct bind_tx {
	int64_t wx_user_id;
	char code_hash[65];
	int64_t want_house; /* 0: any */
	int64_t house_id;   /* OUT */
	char relation[17];  /* OUT */
};

static int bind_by_code_tx(struct db *db, void *arg)
{
	struct bind_tx *t = arg;
	struct db_res r;
	int64_t code_id;
	int rc;

	if ((rc = db_run(db, &q_bind_code_take, &r, t->code_hash)))
		return rc;
	if (r.nrows != 1 || (t->want_house && db_i64(&r, 0, 1) != t->want_house)) {
		db_res_release(&r);
		return XQ_ENOTFOUND;
	}
	code_id = db_i64(&r, 0, 0);
	t->house_id = db_i64(&r, 0, 1);
	xq_snprintf(t->relation, sizeof(t->relation), "%s", db_str(&r, 0, 2));
	db_res_release(&r);
	if ((rc = db_run(db, &q_bind_code_use, NULL, t->wx_user_id, code_id)))
		return rc;
	return db_run(db, &q_bind_upsert, NULL, t->wx_user_id, t->house_id, (const int64_t *)NULL,
		      t->relation, "code");
}

/* Upper-cases the code (codes are shown in capitals) and hashes it. */
static void code_hash(const char *code, char out[65])
{
	char up[32];
	size_t i;

	for (i = 0; code[i] && i < sizeof(up) - 1; i++)
		up[i] = (char)toupper((unsigned char)code[i]);
	up[i] = '\0';
	auth_sha256_hex(up, out);
}

int api_binding_create(struct req *rq)
{
	struct bind_in in;
	struct bind_tx t;
	struct db_res r;
	int64_t uid = rq->who.wx_user_id, fails, resident_id = 0;
	const char *why;
	cJSON *o;
	int rc;

	memset(&in, 0, sizeof(in));
	memset(&t, 0, sizeof(t));
	if (api_decode(rq, bind_fields, XQ_ARRAY_LEN(bind_fields), &in))
		return rq->status;
	if (!in.binding_code.set && !(in.owner_name.set && in.phone_last4.set))
		return resp_fail_msg(rq, XQ_EINVAL, "请提供绑定码，或业主姓名和手机号后四位",
				     "binding_code");
	if (!in.binding_code.set && !in.house_id.set && !(in.building_id.set && in.room.set))
		return resp_fail_msg(rq, XQ_EINVAL, "请选择房屋", "house_id");

	/* throttling: failures since the last success within auth.login_window */
	if ((rc = db_run(rq->db, &q_bind_fails, &r, uid, rq->cfg->auth_login_window_s, uid)))
		return resp_fail(rq, rc);
	fails = db_i64(&r, 0, 0);
	db_res_release(&r);
	if (fails >= rq->cfg->auth_login_max_fail) {
		log_warn("binding throttled for wx_user %lld (%lld failures)", (long long)uid,
			 (long long)fails);
		return resp_fail(rq, XQ_ETHROTTLED);
	}

	t.wx_user_id = uid;
	if (in.binding_code.set) {
		code_hash(in.binding_code.s, t.code_hash);
		t.want_house = in.house_id.set ? in.house_id.i : 0;
		rc = db_tx(rq->db, bind_by_code_tx, &t);
		why = "绑定码无效或已过期";
	} else {
		why = "业主信息与房屋不匹配";
		t.house_id = in.house_id.set ? in.house_id.i : 0;
		rc = XQ_OK;
		if (!t.house_id) {
			rc = db_run(rq->db, &q_bind_house_by_room, &r, in.building_id.i,
				    in.unit_no.set ? in.unit_no.s : "1", in.room.s);
			if (!rc) {
				t.house_id = r.nrows == 1 ? db_i64(&r, 0, 0) : 0;
				db_res_release(&r);
			}
		}
		if (!rc && t.house_id) {
			rc = db_run(rq->db, &q_bind_owner, &r, t.house_id, in.owner_name.s,
				    in.phone_last4.s);
			if (!rc) {
				resident_id = r.nrows == 1 ? db_i64(&r, 0, 0) : 0;
				db_res_release(&r);
			}
		}
		if (!rc && !resident_id)
			rc = XQ_ENOTFOUND;
		xq_snprintf(t.relation, sizeof(t.relation), "owner");
		if (!rc)
			rc = db_run(rq->db, &q_bind_upsert, NULL, uid, t.house_id, &resident_id,
				    t.relation, "mobile");
	}
	if (rc == XQ_ENOTFOUND) {
		db_run(rq->db, &q_bind_attempt, NULL, uid, 0);
		log_info("binding refused for wx_user %lld", (long long)uid);
		return resp_fail_msg(rq, XQ_EINVAL, why, in.binding_code.set ? "binding_code" : "owner_name");
	}
	if (rc)
		return resp_fail(rq, rc);
	db_run(rq->db, &q_bind_attempt, NULL, uid, 1);
	log_info("wx_user %lld bound house %lld", (long long)uid, (long long)t.house_id);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "house_id", (double)t.house_id);
	cJSON_AddStringToObject(o, "relation", t.relation);
	cJSON_AddStringToObject(o, "status", "active");
	return resp_json(rq, 201, o);
}

DB_QUERY(q_bind_revoke) = {
	"binding_revoke",
	"UPDATE wx_binding SET status = 'revoked' WHERE wx_user_id = ? AND house_id = ?",
	"ll",
	NULL,
};

int api_binding_delete(struct req *rq)
{
	int64_t house_id;
	cJSON *o;
	int rc;

	/* the router has checked the binding (R_OWN_HOUSE) */
	if (req_param_id(rq, "id", &house_id))
		return resp_fail(rq, XQ_ENOTFOUND);
	if ((rc = db_run(rq->db, &q_bind_revoke, NULL, rq->who.wx_user_id, house_id)))
		return resp_fail(rq, rc);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "house_id", (double)house_id);
	cJSON_AddStringToObject(o, "status", "revoked");
	return resp_json(rq, 200, o);
}

/* ---- houses and bills ------------------------------------------------------ */

DB_QUERY(q_res_houses) = {
	"resident_houses",
	"SELECT h.id, c.name AS community, b.name AS building, h.unit_no, h.room, wb.relation,"
	" COALESCE(a.balance_fen, 0) AS balance_fen,"
	" COALESCE((SELECT SUM(bl.amount_fen + bl.late_fee_fen - bl.paid_fen) FROM bill bl"
	"   WHERE bl.house_id = h.id AND bl.status = 'issued'), 0) AS arrears_fen"
	" FROM wx_binding wb JOIN house h ON h.id = wb.house_id"
	" JOIN building b ON b.id = h.building_id JOIN community c ON c.id = b.community_id"
	" LEFT JOIN account a ON a.house_id = h.id"
	" WHERE wb.wx_user_id = ? AND wb.status = 'active' ORDER BY h.id",
	"l",
	"lsssssll",
};

int api_resident_houses(struct req *rq)
{
	struct db_res r;
	cJSON *o;
	int rc = db_run(rq->db, &q_res_houses, &r, rq->who.wx_user_id);

	if (rc)
		return resp_fail(rq, rc);
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "items", db_rows_json(&r));
	db_res_release(&r);
	return resp_json(rq, 200, o);
}

#define RBILL_COLS "b.id, b.house_id, b.period, b.utility, b.status, b.amount_fen, b.late_fee_fen," \
	" b.paid_fen, b.amount_fen + b.late_fee_fen - b.paid_fen AS unpaid_fen, b.due_date," \
	" b.issued_at, b.paid_at"
#define RBILL_SIG "llsssllllsss"

DB_QUERY(q_res_house_bills) = {
	"resident_house_bills",
	"SELECT " RBILL_COLS " FROM bill b WHERE b.house_id = ? AND b.status IN ('issued', 'paid')"
	" ORDER BY b.period DESC, b.utility LIMIT 120",
	"l",
	RBILL_SIG,
};

int api_resident_house_bills(struct req *rq)
{
	struct db_res r;
	int64_t house_id;
	cJSON *o;
	int rc;

	/* the router has checked the binding (R_OWN_HOUSE) */
	if (req_param_id(rq, "id", &house_id))
		return resp_fail(rq, XQ_ENOTFOUND);
	if ((rc = db_run(rq->db, &q_res_house_bills, &r, house_id)))
		return resp_fail(rq, rc);
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "items", db_rows_json(&r));
	db_res_release(&r);
	return resp_json(rq, 200, o);
}

DB_QUERY(q_res_bill) = {
	"resident_bill",
	"SELECT " RBILL_COLS " FROM bill b WHERE b.id = ? AND b.status IN ('issued', 'paid')",
	"l",
	RBILL_SIG,
};

DB_QUERY(q_res_bill_lines) = {
	"resident_bill_lines",
	"SELECT line_no, kind, tier, tou_window, component, label_zh, qty_milli, unit_price_hao,"
	" amount_fen FROM bill_line WHERE bill_id = ? ORDER BY line_no",
	"l",
	"lslssslll",
};

int api_resident_bill_get(struct req *rq)
{
	struct db_res r;
	int64_t bill_id;
	cJSON *o;
	int rc;

	if (req_param_id(rq, "id", &bill_id))
		return resp_fail_msg(rq, XQ_ENOTFOUND, "账单不存在", NULL);
	if ((rc = db_run(rq->db, &q_res_bill, &r, bill_id)))
		return resp_fail(rq, rc);
	if (r.nrows != 1) {
		db_res_release(&r);
		return resp_fail_msg(rq, XQ_ENOTFOUND, "账单不存在", NULL);
	}
	/* the one ownership helper: another resident's bill is "not found" */
	rc = resident_house_check(rq->db, rq->who.wx_user_id, db_i64(&r, 0, 1));
	if (rc) {
		db_res_release(&r);
		return rc == XQ_ENOTFOUND ? resp_fail_msg(rq, XQ_ENOTFOUND, "账单不存在", NULL)
					  : resp_fail(rq, rc);
	}
	o = db_row_json(&r, 0);
	db_res_release(&r);
	if ((rc = db_run(rq->db, &q_res_bill_lines, &r, bill_id))) {
		cJSON_Delete(o);
		return resp_fail(rq, rc);
	}
	cJSON_AddItemToObject(o, "lines", db_rows_json(&r));
	db_res_release(&r);
	return resp_json(rq, 200, o);
}

/* ---- staff: binding codes ---------------------------------------------------- */

struct bcode_in {
	struct jval relation, ttl_hours;
};

static const char *const relations[] = { "owner", "tenant", "family", NULL };

static const struct json_field bcode_fields[] = {
	{ "relation", J_ENUM, 0, offsetof(struct bcode_in, relation), 0, 0, relations, "关系" },
	{ "ttl_hours", J_INT64, 0, offsetof(struct bcode_in, ttl_hours), 1, 720, NULL, "有效期" },
};

DB_QUERY(q_bcode_insert) = {
	"binding_code_insert",
	"INSERT INTO binding_code (code_hash, house_id, relation, expires_at, created_by)"
	" VALUES (?, ?, ?, NOW(3) + INTERVAL ? HOUR, ?)",
	"slsll",
	NULL,
};

DB_QUERY(q_bcode_get) = {
	"binding_code_get",
	"SELECT id, house_id, relation, expires_at, created_by FROM binding_code WHERE id = ?",
	"l",
	"llssl",
};

struct bcode_tx {
	struct req *rq;
	int64_t house_id, ttl_h, id;
	const char *relation;
	char code[9];
	cJSON *after;
};

static int bcode_tx(struct db *db, void *arg)
{
	/* 32 symbols without 0/O/1/I: 8 of them are 40 bits, read out over the phone */
	static const char al[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	struct bcode_tx *t = arg;
	struct audit_actor who = { t->rq->who.staff_id, t->rq->who.username, t->rq->remote_addr,
				   t->rq->rid };
	unsigned char rnd[8];
	char hash[65];
	struct db_res r;
	int rc;

	if (xq_random(rnd, sizeof(rnd)))
		return XQ_ERROR;
	for (size_t i = 0; i < 8; i++)
		t->code[i] = al[rnd[i] & 31];
	t->code[8] = '\0';
	code_hash(t->code, hash);
	if ((rc = db_run(db, &q_bcode_insert, NULL, hash, t->house_id, t->relation, t->ttl_h,
			 t->rq->who.staff_id)))
		return rc;
	t->id = db_insert_id(db);
	if ((rc = db_run(db, &q_bcode_get, &r, t->id)))
		return rc;
	cJSON_Delete(t->after);
	t->after = r.nrows == 1 ? db_row_json(&r, 0) : cJSON_CreateObject();
	db_res_release(&r);
	/* the audit row never holds the code itself */
	return audit_write(db, &who, "create", "binding_code", t->id, NULL, t->after);
}

int admin_house_binding_code(struct req *rq)
{
	struct bcode_in in;
	struct bcode_tx t;
	int rc;

	memset(&in, 0, sizeof(in));
	memset(&t, 0, sizeof(t));
	if (req_param_id(rq, "id", &t.house_id))
		return resp_fail_msg(rq, XQ_ENOTFOUND, "房屋不存在", NULL);
	if (rq->body.len && api_decode(rq, bcode_fields, XQ_ARRAY_LEN(bcode_fields), &in))
		return rq->status;
	t.rq = rq;
	t.relation = in.relation.set ? in.relation.s : "owner";
	t.ttl_h = in.ttl_hours.set ? in.ttl_hours.i : 72;
	rc = db_tx(rq->db, bcode_tx, &t);
	if (rc == XQ_EINVAL) {
		cJSON_Delete(t.after);
		return resp_fail_msg(rq, XQ_ENOTFOUND, "房屋不存在", NULL);
	}
	if (rc) {
		cJSON_Delete(t.after);
		return resp_fail(rq, rc);
	}
	cJSON_AddStringToObject(t.after, "code", t.code);
	return resp_json(rq, 201, t.after);
}
