/*
 * auth.c - staff login, sessions, password hashing and TOTP.
 * Sessions and throttling state live in MariaDB, never in process memory,
 * so several xq-api hosts behind one nginx share them.
 */
#include "auth.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "log.h"

#include <argon2.h>
#include <ctype.h>
#include <pthread.h>
#include <strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#define PW_T_COST 2
#define PW_M_COST (19 * 1024) /* KiB: OWASP's argon2id minimum */
#define PW_PARALLEL 1
#define PW_SALT_LEN 16
#define PW_HASH_LEN 32

void auth_sha256_hex(const char *s, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;

	EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
	xq_hex(md, sizeof(md), out);
}

int auth_hash_password(const char *password, char *out, size_t outlen)
{
	unsigned char salt[PW_SALT_LEN];
	int rc;

	if (xq_random(salt, sizeof(salt)))
		return XQ_ERROR;
	rc = argon2id_hash_encoded(PW_T_COST, PW_M_COST, PW_PARALLEL, password, strlen(password),
				   salt, sizeof(salt), PW_HASH_LEN, out, outlen);
	if (rc != ARGON2_OK)
		return xq_error(XQ_ERROR, "argon2id hashing failed: %s", argon2_error_message(rc));
	return XQ_OK;
}

int auth_verify_password(const char *encoded, const char *password)
{
	return argon2id_verify(encoded, password, strlen(password)) == ARGON2_OK ? XQ_OK
										  : XQ_EBADLOGIN;
}

int auth_check_policy(const char *password)
{
	size_t n = strlen(password);
	int alpha = 0, digit = 0;

	for (const char *p = password; *p; p++) {
		if (isalpha((unsigned char)*p))
			alpha = 1;
		if (isdigit((unsigned char)*p))
			digit = 1;
	}
	return n >= 8 && n <= 128 && alpha && digit ? XQ_OK : XQ_EWEAKPW;
}

/* RFC 4648 base32 (no padding needed), case-insensitive; returns length or -1. */
static int b32_decode(const char *in, unsigned char *out, size_t outlen)
{
	unsigned bits = 0, acc = 0;
	size_t n = 0;

	for (const char *p = in; *p; p++) {
		int c = toupper((unsigned char)*p), v;
		if (c == '=' || c == ' ')
			continue;
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= '2' && c <= '7')
			v = c - '2' + 26;
		else
			return -1;
		acc = (acc << 5) | (unsigned)v;
		bits += 5;
		if (bits >= 8) {
			if (n == outlen)
				return -1;
			out[n++] = (unsigned char)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	return (int)n;
}

int auth_totp_code(const char *secret_b32, int64_t t, char out[7])
{
	unsigned char key[64], msg[8], md[20];
	unsigned int mdlen = 0;
	int klen = b32_decode(secret_b32, key, sizeof(key));
	uint64_t counter = (uint64_t)(t / 30);
	uint32_t bin;
	int off;

	if (klen <= 0)
		return XQ_EINVAL;
	for (int i = 7; i >= 0; i--, counter >>= 8)
		msg[i] = (unsigned char)(counter & 0xff);
	if (!HMAC(EVP_sha1(), key, klen, msg, sizeof(msg), md, &mdlen) || mdlen != 20)
		return XQ_ERROR;
	off = md[19] & 0x0f;
	bin = ((uint32_t)(md[off] & 0x7f) << 24) | ((uint32_t)md[off + 1] << 16) |
	      ((uint32_t)md[off + 2] << 8) | md[off + 3];
	xq_snprintf(out, 7, "%06u", bin % 1000000u);
	return XQ_OK;
}

int auth_totp_verify(const char *secret_b32, const char *code, int64_t t)
{
	char want[7];

	if (!code || strlen(code) != 6)
		return XQ_ETOTP;
	for (int d = -1; d <= 1; d++) {
		if (auth_totp_code(secret_b32, t + d * 30, want))
			return XQ_ETOTP;
		if (CRYPTO_memcmp(want, code, 6) == 0)
			return XQ_OK;
	}
	return XQ_ETOTP;
}

DB_QUERY(q_fail_counts) = {
	"login_fail_counts",
	"SELECT"
	" (SELECT COUNT(*) FROM login_attempt WHERE username = ? AND ok = 0"
	"   AND at > NOW(3) - INTERVAL ? SECOND"
	"   AND at > COALESCE((SELECT MAX(at) FROM login_attempt WHERE username = ? AND ok = 1),"
	"                     '1970-01-01')),"
	" (SELECT COUNT(*) FROM login_attempt WHERE ip = ? AND ok = 0"
	"   AND at > NOW(3) - INTERVAL ? SECOND)",
	"slssl",
	"ll",
};

DB_QUERY(q_attempt) = {
	"login_attempt_insert",
	"INSERT INTO login_attempt (username, ip, ok) VALUES (?, ?, ?)",
	"ssi",
	NULL,
};

DB_QUERY(q_staff_by_name) = {
	"staff_by_username",
	"SELECT id, password_hash, active, totp_secret FROM staff_user WHERE username = ?",
	"s",
	"lsbs",
};

DB_QUERY(q_session_insert) = {
	"session_insert",
	"INSERT INTO staff_session (token_hash, staff_id, csrf_token, expires_at, ip, user_agent)"
	" VALUES (?, ?, ?, NOW(3) + INTERVAL ? SECOND, ?, ?)",
	"slslss",
	NULL,
};

DB_QUERY(q_last_login) = {
	"staff_last_login",
	"UPDATE staff_user SET last_login_at = NOW(3) WHERE id = ?",
	"l",
	NULL,
};

/* a valid argon2id string so unknown users cost the same time as known ones */
static char dummy_hash[AUTH_HASH_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy_hash(void)
{
	auth_hash_password("not-a-real-password-1", dummy_hash, sizeof(dummy_hash));
}

int auth_login(struct db *db, const struct config *cfg, const char *username,
	       const char *password, const char *totp, const char *ip, const char *user_agent,
	       struct login_result *out)
{
	struct db_res r;
	unsigned char tok[32], csrf[32];
	char tok_hash[65], ua[256];
	int rc, known, active = 0;
	int64_t staff_id = 0, user_fails, ip_fails;
	const char *hash;

	memset(out, 0, sizeof(*out));
	if ((rc = db_run(db, &q_fail_counts, &r, username, cfg->auth_login_window_s, username, ip,
			 cfg->auth_login_window_s)))
		return rc;
	user_fails = db_i64(&r, 0, 0);
	ip_fails = db_i64(&r, 0, 1);
	db_res_release(&r);
	if (user_fails >= cfg->auth_login_max_fail || ip_fails >= 4 * cfg->auth_login_max_fail) {
		log_warn("login throttled for '%s' from %s (%lld user / %lld ip failures)", username,
			 ip, (long long)user_fails, (long long)ip_fails);
		return XQ_ETHROTTLED;
	}

	if ((rc = db_run(db, &q_staff_by_name, &r, username)))
		return rc;
	known = r.nrows == 1;
	pthread_once(&dummy_once, make_dummy_hash);
	hash = known ? db_str(&r, 0, 1) : dummy_hash;
	rc = auth_verify_password(hash, password);
	if (known) {
		staff_id = db_i64(&r, 0, 0);
		active = (int)db_i64(&r, 0, 2);
	} else {
		rc = XQ_EBADLOGIN;
	}
	if (rc == XQ_OK && known && db_str(&r, 0, 3) && *db_str(&r, 0, 3)) {
		/* the second factor is checked only after the password, so a wrong
		 * code never tells an attacker the password was right */
		if (!totp || !*totp) {
			db_res_release(&r);
			return XQ_ETOTP;
		}
		rc = auth_totp_verify(db_str(&r, 0, 3), totp, xq_now_ms() / 1000);
	}
	db_res_release(&r);
	if (rc == XQ_OK && !active)
		rc = XQ_EDISABLED;

	if (db_run(db, &q_attempt, NULL, username, ip, rc == XQ_OK ? 1 : 0))
		return XQ_EDB;
	if (rc) {
		log_info("login failed for '%s' from %s: %s", username, ip, xq_strerror(rc));
		return rc;
	}

	if (xq_random(tok, sizeof(tok)) || xq_random(csrf, sizeof(csrf)))
		return XQ_ERROR;
	xq_hex(tok, sizeof(tok), out->token);
	xq_hex(csrf, sizeof(csrf), out->csrf);
	auth_sha256_hex(out->token, tok_hash);
	/* keep only printable ASCII of the user agent: it is shown to staff, never parsed */
	{
		size_t j = 0;
		for (const char *p = user_agent ? user_agent : ""; *p && j < sizeof(ua) - 1; p++)
			ua[j++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
		ua[j] = '\0';
	}
	if ((rc = db_run(db, &q_session_insert, NULL, tok_hash, staff_id, out->csrf,
			 cfg->auth_session_ttl_s, ip, ua)))
		return rc;
	db_run(db, &q_last_login, NULL, staff_id);
	out->staff_id = staff_id;
	log_info("login ok for '%s' from %s", username, ip);
	return XQ_OK;
}

DB_QUERY(q_session_load) = {
	"session_load",
	"SELECT s.staff_id, u.username, u.role_code, s.csrf_token,"
	"  (SELECT GROUP_CONCAT(rp.perm_code ORDER BY rp.perm_code SEPARATOR ',')"
	"     FROM role_permission rp WHERE rp.role_code = u.role_code),"
	"  TIMESTAMPDIFF(SECOND, s.last_seen_at, NOW(3))"
	" FROM staff_session s JOIN staff_user u ON u.id = s.staff_id"
	" WHERE s.token_hash = ? AND s.expires_at > NOW(3) AND u.active = 1",
	"s",
	"lssssl",
};

DB_QUERY(q_session_touch) = {
	"session_touch",
	"UPDATE staff_session SET last_seen_at = NOW(3), expires_at = NOW(3) + INTERVAL ? SECOND"
	" WHERE token_hash = ?",
	"ls",
	NULL,
};

static int session_load_token(struct req *rq, const char *tok)
{
	struct who *w = &rq->who;
	struct db_res r;
	int rc;

	if (!tok || strlen(tok) != 64)
		return XQ_EAUTH;
	auth_sha256_hex(tok, w->session_hash);
	if ((rc = db_run(rq->db, &q_session_load, &r, w->session_hash)))
		return rc;
	if (r.nrows != 1) {
		db_res_release(&r);
		return XQ_EAUTH;
	}
	w->staff_id = db_i64(&r, 0, 0);
	snprintf(w->username, sizeof(w->username), "%s", db_str(&r, 0, 1));
	snprintf(w->role, sizeof(w->role), "%s", db_str(&r, 0, 2));
	snprintf(w->csrf, sizeof(w->csrf), "%s", db_str(&r, 0, 3));
	snprintf(w->perms, sizeof(w->perms), "%s", db_str(&r, 0, 4) ? db_str(&r, 0, 4) : "");
	/* sliding expiry, written at most once a minute per session */
	if (db_i64(&r, 0, 5) >= 60)
		db_run(rq->db, &q_session_touch, NULL, rq->cfg->auth_session_ttl_s, w->session_hash);
	db_res_release(&r);
	return XQ_OK;
}

int auth_session_load(struct req *rq)
{
	return session_load_token(rq, req_cookie(rq, AUTH_COOKIE));
}

int auth_session_load_bearer(struct req *rq)
{
	const char *h = req_header(rq, "Authorization");

	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return XQ_EAUTH;
	return session_load_token(rq, h + 7);
}

DB_QUERY(q_session_delete) = {
	"session_delete", "DELETE FROM staff_session WHERE token_hash = ?", "s", NULL,
};

DB_QUERY(q_session_drop_others) = {
	"session_drop_others",
	"DELETE FROM staff_session WHERE staff_id = ? AND token_hash <> ?",
	"ls",
	NULL,
};

int auth_logout(struct db *db, const char *session_hash)
{
	return db_run(db, &q_session_delete, NULL, session_hash);
}

int auth_drop_sessions(struct db *db, int64_t staff_id, const char *keep_hash)
{
	return db_run(db, &q_session_drop_others, NULL, staff_id, keep_hash ? keep_hash : "");
}

DB_QUERY(q_staff_insert) = {
	"staff_insert",
	"INSERT INTO staff_user (username, display_name, password_hash, role_code) VALUES (?, ?, ?, ?)",
	"ssss",
	NULL,
};

int auth_create_staff(struct db *db, const char *username, const char *display_name,
		      const char *password, const char *role, int64_t *id)
{
	char hash[AUTH_HASH_MAX];
	int rc;

	if ((rc = auth_check_policy(password)))
		return rc;
	if ((rc = auth_hash_password(password, hash, sizeof(hash))))
		return rc;
	if ((rc = db_run(db, &q_staff_insert, NULL, username, display_name, hash, role)))
		return rc;
	if (id)
		*id = db_insert_id(db);
	return XQ_OK;
}
