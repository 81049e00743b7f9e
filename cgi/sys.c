/*
 * sys.c - operational routes: /healthz (is the database reachable?) and
 * /metrics (Prometheus text: per-route requests and latency, DB errors).
 */
#include "api.h"
#include "db.h"

#include <stdio.h>

DB_QUERY(q_health) = {
	"healthz",
	"SELECT 1, (SELECT COUNT(*) FROM schema_migrations)",
	"",
	"ll",
};

int sys_healthz(struct req *rq)
{
	struct db_res r;
	cJSON *o;
	int rc = db_ping(rq->db);

	if (rc == XQ_OK)
		rc = db_run(rq->db, &q_health, &r);
	o = cJSON_CreateObject();
	if (rc) {
		cJSON_AddStringToObject(o, "status", "unhealthy");
		cJSON_AddStringToObject(o, "code", xq_code(XQ_EDB));
		cJSON_AddStringToObject(o, "message", xq_message_zh(XQ_EDB));
		return resp_json(rq, 503, o);
	}
	cJSON_AddStringToObject(o, "status", "ok");
	cJSON_AddStringToObject(o, "db", "ok");
	cJSON_AddNumberToObject(o, "migrations", (double)db_i64(&r, 0, 1));
	db_res_release(&r);
	return resp_json(rq, 200, o);
}

int sys_metrics(struct req *rq)
{
	struct buf b;

	buf_init(&b, 8u << 20);
	router_metrics(&b, xq_routes, xq_nroutes);
	buf_printf(&b, "# HELP xq_db_errors_total Database errors and failed connects.\n"
		       "# TYPE xq_db_errors_total counter\nxq_db_errors_total %llu\n",
		   (unsigned long long)db_errors_total());
	resp_text(rq, 200, "text/plain; version=0.0.4; charset=utf-8", b.data);
	buf_release(&b);
	return 200;
}
