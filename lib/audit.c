/*
 * audit.c - inserts audit_log rows. Reading the log is the console's job
 * (cgi/admin_staff.c).
 */
#include "audit.h"
#include "db.h"

#include <stdlib.h>

DB_QUERY(q_audit_insert) = {
	"audit_insert",
	"INSERT INTO audit_log (staff_id, actor, action, entity, entity_id, before_json, after_json,"
	" ip, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
	"LsssLssss",
	NULL,
};

int audit_write(struct db *db, const struct audit_actor *who, const char *action,
		const char *entity, int64_t entity_id, const cJSON *before, const cJSON *after)
{
	char *b = before ? cJSON_PrintUnformatted(before) : NULL;
	char *a = after ? cJSON_PrintUnformatted(after) : NULL;
	int64_t sid = who->staff_id;
	int rc;

	rc = db_run(db, &q_audit_insert, NULL, sid ? &sid : NULL, who->name ? who->name : "",
		    action, entity, entity_id ? &entity_id : NULL, b, a, who->ip ? who->ip : "",
		    who->request_id ? who->request_id : "");
	free(b);
	free(a);
	return rc;
}
