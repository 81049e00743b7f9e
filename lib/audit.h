/*
 * audit.h - the audit trail: who changed what, with the row before and after.
 * Written in the same transaction as the change it describes, so an audit
 * row exists exactly when the change does.
 */
#ifndef XQ_AUDIT_H
#define XQ_AUDIT_H

#include "xq.h"

#include <cjson/cJSON.h>

struct db;

struct audit_actor {
	int64_t staff_id; /* 0 for the system (xqctl, jobs) */
	const char *name; /* username or "xqctl" */
	const char *ip;
	const char *request_id;
};

/*
 * Inserts one audit row. before/after may be NULL (create has no before,
 * delete no after); they are stored as JSON text and must never contain
 * secrets (password hashes, tokens). Returns XQ_OK or a db error.
 */
int audit_write(struct db *db, const struct audit_actor *who, const char *action,
		const char *entity, int64_t entity_id, const cJSON *before, const cJSON *after);

#endif
