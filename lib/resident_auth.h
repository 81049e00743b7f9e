/*
 * resident_auth.h - mini-program resident sessions and house ownership.
 *
 * A resident logs in with a WeChat code (cgi/api_resident.c); we create a
 * session whose token (32 random bytes as 64 hex) travels only as
 * "Authorization: Bearer <token>" and is stored as its SHA-256, like staff
 * sessions (lib/auth.c). There are no cookies, hence no CSRF for these routes.
 *
 * Ownership: a resident may see a house only while an active wx_binding links
 * them. resident_house_check() is the one place that decides it; the router
 * calls it for R_OWN_HOUSE routes and handlers call it for ids in bodies.
 * Every refusal is XQ_ENOTFOUND, so another resident's house looks exactly
 * like one that does not exist.
 */
#ifndef XQ_RESIDENT_AUTH_H
#define XQ_RESIDENT_AUTH_H

#include "xq.h"

struct db;
struct req;

/*
 * Creates a session for wx_user_id valid auth.session_ttl seconds; writes the
 * bearer token (64 hex + NUL) into token. The token is the caller's to
 * return to the resident and must never be logged. Returns XQ_OK or a db code.
 */
int resident_session_create(struct db *db, int64_t wx_user_id, int64_t ttl_s, const char *ip,
			    const char *user_agent, char token[65] /* OUT */);

/*
 * Loads rq->who (wx_user_id, openid, session_hash) from the Bearer token.
 * XQ_EAUTH if absent, malformed or expired; a db code on failure.
 */
int resident_session_load(struct req *rq);

/* Deletes the session whose token hash is session_hash. */
int resident_logout(struct db *db, const char *session_hash);

/*
 * XQ_OK if wx_user_id has an active binding to house_id, XQ_ENOTFOUND if not
 * (including a house that does not exist), a db code on failure.
 */
int resident_house_check(struct db *db, int64_t wx_user_id, int64_t house_id);

#endif
