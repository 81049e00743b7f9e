/*
 * admin_auth.c - staff login, logout, "who am I" and password change.
 * The session token travels only in an HttpOnly cookie; the CSRF token is
 * returned in the body for the console to send back as X-CSRF-Token.
 */
#include "audit.h"
#include "auth.h"
#include "config.h"
#include "crud.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct login_in {
	struct jval username, password, totp;
};

#define LI(f) offsetof(struct login_in, f)
static const struct json_field login_fields[] = {
	{ "username", J_STRING, J_REQUIRED, LI(username), 1, 64, NULL, "用户名" },
	{ "password", J_STRING, J_REQUIRED, LI(password), 1, 128, NULL, "密码" },
	{ "totp", J_STRING, 0, LI(totp), 0, 6, NULL, "动态验证码" },
};

DB_QUERY(q_me) = {
	"staff_me",
	"SELECT u.id, u.username, u.display_name, u.role_code, r.name_zh AS role_name,"
	" u.must_change_password, u.totp_secret IS NOT NULL AS totp_enabled,"
	" u.last_login_at,"
	" (SELECT GROUP_CONCAT(rp.perm_code ORDER BY rp.perm_code SEPARATOR ',')"
	"    FROM role_permission rp WHERE rp.role_code = u.role_code) AS permissions"
	" FROM staff_user u JOIN role r ON r.code = u.role_code WHERE u.id = ?",
	"l",
	"lssssbbss",
};

/* {staff: {...}, csrf_token} for login and /auth/me. */
static int reply_me(struct req *rq, int64_t staff_id, const char *csrf)
{
	struct db_res r;
	cJSON *o, *staff, *perms, *arr;
	int rc = db_run(rq->db, &q_me, &r, staff_id);

	if (rc)
		return resp_fail(rq, rc);
	if (r.nrows != 1) {
		db_res_release(&r);
		return resp_fail(rq, XQ_EAUTH);
	}
	staff = db_row_json(&r, 0);
	db_res_release(&r);
	/* permissions as an array: the console hides what the role cannot do */
	perms = cJSON_DetachItemFromObject(staff, "permissions");
	arr = cJSON_CreateArray();
	if (cJSON_IsString(perms)) {
		char *list = xq_strdup(perms->valuestring), *save = NULL;
		for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save))
			cJSON_AddItemToArray(arr, cJSON_CreateString(t));
		free(list);
	}
	cJSON_Delete(perms);
	cJSON_AddItemToObject(staff, "permissions", arr);
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "staff", staff);
	cJSON_AddStringToObject(o, "csrf_token", csrf);
	return resp_json(rq, 200, o);
}

static void set_session_cookie(struct req *rq, const char *token, int64_t max_age)
{
	const char *https = req_env(rq, "HTTPS");
	char c[256];

	/* Secure when configured, and whenever nginx tells us the request came over TLS */
	xq_snprintf(c, sizeof(c), "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s",
		    AUTH_COOKIE, token, (long long)max_age,
		    rq->cfg->api_secure_cookie || (https && !strcmp(https, "on")) ? "; Secure" : "");
	resp_header(rq, "Set-Cookie", c);
}

int admin_login(struct req *rq)
{
	struct login_in in;
	struct login_result lr;
	struct audit_actor who = { 0, NULL, rq->remote_addr, rq->rid };
	int rc;

	if (api_decode(rq, login_fields, XQ_ARRAY_LEN(login_fields), &in))
		return rq->status;
	rc = auth_login(rq->db, rq->cfg, in.username.s, in.password.s,
			in.totp.set && !in.totp.null ? in.totp.s : NULL, rq->remote_addr,
			req_header(rq, "User-Agent"), &lr);
	if (rc)
		return resp_fail(rq, rc);
	who.staff_id = lr.staff_id;
	who.name = in.username.s;
	audit_write(rq->db, &who, "login", "staff_user", lr.staff_id, NULL, NULL);
	set_session_cookie(rq, lr.token, rq->cfg->auth_session_ttl_s);
	return reply_me(rq, lr.staff_id, lr.csrf);
}

int admin_logout(struct req *rq)
{
	cJSON *o;
	int rc = auth_logout(rq->db, rq->who.session_hash);

	if (rc)
		return resp_fail(rq, rc);
	set_session_cookie(rq, "", 0);
	o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "ok", 1);
	return resp_json(rq, 200, o);
}

int admin_me(struct req *rq)
{
	return reply_me(rq, rq->who.staff_id, rq->who.csrf);
}

struct password_in {
	struct jval old_password, new_password;
};

#define PI(f) offsetof(struct password_in, f)
static const struct json_field password_fields[] = {
	{ "old_password", J_STRING, J_REQUIRED, PI(old_password), 1, 128, NULL, "原密码" },
	{ "new_password", J_STRING, J_REQUIRED, PI(new_password), 1, 128, NULL, "新密码" },
};

DB_QUERY(q_pw_get) = {
	"staff_pw_get", "SELECT password_hash FROM staff_user WHERE id = ?", "l", "s",
};
DB_QUERY(q_pw_set) = {
	"staff_pw_set",
	"UPDATE staff_user SET password_hash = ?, must_change_password = 0 WHERE id = ?", "sl", NULL,
};

int admin_password(struct req *rq)
{
	struct password_in in;
	struct audit_actor who = { rq->who.staff_id, rq->who.username, rq->remote_addr, rq->rid };
	struct db_res r;
	char hash[AUTH_HASH_MAX];
	cJSON *o;
	int rc;

	if (api_decode(rq, password_fields, XQ_ARRAY_LEN(password_fields), &in))
		return rq->status;
	if ((rc = db_run(rq->db, &q_pw_get, &r, rq->who.staff_id)))
		return resp_fail(rq, rc);
	rc = r.nrows == 1 ? auth_verify_password(db_str(&r, 0, 0), in.old_password.s) : XQ_EAUTH;
	db_res_release(&r);
	if (rc == XQ_EBADLOGIN)
		return resp_fail_msg(rq, XQ_EBADLOGIN, "原密码不正确", "old_password");
	if (rc)
		return resp_fail(rq, rc);
	if ((rc = auth_check_policy(in.new_password.s)))
		return resp_fail_msg(rq, rc, NULL, "new_password");
	if ((rc = auth_hash_password(in.new_password.s, hash, sizeof(hash))) ||
	    (rc = db_run(rq->db, &q_pw_set, NULL, hash, rq->who.staff_id)))
		return resp_fail(rq, rc);
	/* a changed password ends every other session of this account */
	auth_drop_sessions(rq->db, rq->who.staff_id, rq->who.session_hash);
	audit_write(rq->db, &who, "change_password", "staff_user", rq->who.staff_id, NULL, NULL);
	o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "ok", 1);
	return resp_json(rq, 200, o);
}
