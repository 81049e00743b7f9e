/*
 * resident_auth.c - resident (mini-program) sessions by bearer token and the
 * one ownership check for houses. Login itself (code2Session, wx_user) is in
 * cgi/api_resident.c; staff sessions are lib/auth.c.
 */
#include "resident_auth.h"
#include "auth.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

DB_QUERY(q_rs_insert) = {
	"resident_session_insert",
	"INSERT INTO resident_session (token_hash, wx_user_id, expires_at, ip, user_agent)"
	" VALUES (?, ?, NOW(3) + INTERVAL ? SECOND, ?, ?)",
	"sllss",
	NULL,
};

int resident_session_create(struct db *db, int64_t wx_user_id, int64_t ttl_s, const char *ip,
			    const char *user_agent, char token[65])
{
	unsigned char tok[32];
	char hash[65], ua[256];
	size_t j = 0;

	if (xq_random(tok, sizeof(tok)))
		return XQ_ERROR;
	xq_hex(tok, sizeof(tok), token);
	auth_sha256_hex(token, hash);
	/* printable ASCII only: shown to staff, never parsed */
	for (const char *p = user_agent ? user_agent : ""; *p && j < sizeof(ua) - 1; p++)
		ua[j++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
	ua[j] = '\0';
	return db_run(db, &q_rs_insert, NULL, hash, wx_user_id, ttl_s, ip ? ip : "", ua);
}

DB_QUERY(q_rs_load) = {
	"resident_session_load",
	"SELECT s.wx_user_id, u.openid, TIMESTAMPDIFF(SECOND, s.last_seen_at, NOW(3))"
	" FROM resident_session s JOIN wx_user u ON u.id = s.wx_user_id"
	" WHERE s.token_hash = ? AND s.expires_at > NOW(3)",
	"s",
	"lsl",
};

DB_QUERY(q_rs_touch) = {
	"resident_session_touch",
	"UPDATE resident_session SET last_seen_at = NOW(3), expires_at = NOW(3) + INTERVAL ? SECOND"
	" WHERE token_hash = ?",
	"ls",
	NULL,
};

int resident_session_load(struct req *rq)
{
	const char *h = req_header(rq, "Authorization");
	struct who *w = &rq->who;
	struct db_res r;
	int rc;

	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return XQ_EAUTH;
	h += 7;
	while (*h == ' ')
		h++;
	if (strlen(h) != 64 || strspn(h, "0123456789abcdef") != 64)
		return XQ_EAUTH;
	auth_sha256_hex(h, w->session_hash);
	if ((rc = db_run(rq->db, &q_rs_load, &r, w->session_hash)))
		return rc;
	if (r.nrows != 1) {
		db_res_release(&r);
		return XQ_EAUTH;
	}
	w->wx_user_id = db_i64(&r, 0, 0);
	snprintf(w->openid, sizeof(w->openid), "%s", db_str(&r, 0, 1));
	/* sliding expiry, written at most once a minute per session */
	if (db_i64(&r, 0, 2) >= 60)
		db_run(rq->db, &q_rs_touch, NULL, rq->cfg->auth_session_ttl_s, w->session_hash);
	db_res_release(&r);
	return XQ_OK;
}

DB_QUERY(q_rs_delete) = {
	"resident_session_delete", "DELETE FROM resident_session WHERE token_hash = ?", "s", NULL,
};

int resident_logout(struct db *db, const char *session_hash)
{
	return db_run(db, &q_rs_delete, NULL, session_hash);
}

DB_QUERY(q_rs_owns) = {
	"resident_owns_house",
	"SELECT 1 FROM wx_binding WHERE wx_user_id = ? AND house_id = ? AND status = 'active'",
	"ll",
	"l",
};

int resident_house_check(struct db *db, int64_t wx_user_id, int64_t house_id)
{
	struct db_res r;
	int rc;

	if (wx_user_id <= 0 || house_id <= 0)
		return XQ_ENOTFOUND;
	if ((rc = db_run(db, &q_rs_owns, &r, wx_user_id, house_id)))
		return rc;
	rc = r.nrows == 1 ? XQ_OK : XQ_ENOTFOUND;
	db_res_release(&r);
	return rc;
}
