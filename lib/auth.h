/*
 * auth.h - staff authentication: password hashing (argon2id), login with
 * throttling, sessions stored in the database (so any xq-api host can serve
 * any request), CSRF tokens, and TOTP second factors (RFC 6238).
 *
 * Session tokens and passwords are never logged and never stored in clear:
 * the cookie carries 32 random bytes, the database their SHA-256.
 */
#ifndef XQ_AUTH_H
#define XQ_AUTH_H

#include "xq.h"

struct db;
struct config;
struct req;

#define AUTH_COOKIE "xq_sid"
#define AUTH_HASH_MAX 160

/* argon2id, OWASP parameters (t=2, m=19 MiB, p=1), encoded PHC string into out. */
int auth_hash_password(const char *password, char *out /* OUT */, size_t outlen);
/* XQ_OK if password matches encoded, XQ_EBADLOGIN otherwise. */
int auth_verify_password(const char *encoded, const char *password);
/* XQ_OK if password meets the policy (8..128 chars, a letter and a digit), else XQ_EWEAKPW. */
int auth_check_policy(const char *password);

/* RFC 6238 TOTP (SHA-1, 6 digits, 30 s) of a base32 secret at unix time t. */
int auth_totp_code(const char *secret_b32, int64_t t, char out[7]);
/* XQ_OK if code matches at t, t-30 or t+30 (clock skew), XQ_ETOTP otherwise. */
int auth_totp_verify(const char *secret_b32, const char *code, int64_t t);

struct login_result {
	int64_t staff_id;
	char token[65]; /* goes into the cookie, nowhere else */
	char csrf[65];
};

/*
 * Checks throttling (failures since the last success within
 * auth.login_window: auth.login_max_fail per username, 4x that per IP), the
 * password and, when the account has one, the TOTP code; records the attempt;
 * on success creates a session. Returns XQ_OK, XQ_ETHROTTLED, XQ_EBADLOGIN,
 * XQ_ETOTP, XQ_EDISABLED or XQ_EDB. Unknown users cost the same hash time.
 */
int auth_login(struct db *db, const struct config *cfg, const char *username,
	       const char *password, const char *totp, const char *ip, const char *user_agent,
	       struct login_result *out /* OUT */);

/* Loads rq->who from the session cookie; XQ_EAUTH if absent, expired or disabled. */
int auth_session_load(struct req *rq);
/*
 * The same staff session from "Authorization: Bearer <token>" (routes with
 * R_BEARER: the mini-program's reader mode, which has no cookie jar).
 */
int auth_session_load_bearer(struct req *rq);
/* Deletes the session whose token hash is session_hash. */
int auth_logout(struct db *db, const char *session_hash);
/* Deletes every session of staff_id except keep_hash (may be NULL: all). */
int auth_drop_sessions(struct db *db, int64_t staff_id, const char *keep_hash);

/* Creates a staff account; XQ_ECONFLICT if the username exists. */
int auth_create_staff(struct db *db, const char *username, const char *display_name,
		      const char *password, const char *role, int64_t *id /* OUT, may be NULL */);

/* SHA-256 of s as lower-case hex (65 bytes). */
void auth_sha256_hex(const char *s, char out[65]);

#endif
