/*
 * admin_bill.c - the console's billing runs and bills: start a run (it goes
 * on in a detached thread with its own database connection, so the request
 * returns the job id at once), watch its progress, list and read bills
 * with their usage and lines, void a bill with a reason.
 */
#include "billrun.h"
#include "crud.h"
#include "log.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- billing runs ------------------------------------------------------ */

DB_QUERY(q_run_get) = {
	"bill_run_get",
	"SELECT id, community_id, period, state, owner, attempt, progress_done, progress_total,"
	" message, error, started_at, heartbeat_at, finished_at, summary FROM job"
	" WHERE id = ? AND kind = 'bill'",
	"l", "llssslllsssssj",
};

struct run_in {
	struct jval period, community_id, estimate_house_ids;
};

#define RI(f) offsetof(struct run_in, f)
static const struct json_field run_fields[] = {
	{ "period", J_STRING, J_REQUIRED, RI(period), 7, 7, NULL, "账期" },
	{ "community_id", J_INT64, J_NULLABLE, RI(community_id), 1, INT64_MAX, NULL, "小区" },
	{ "estimate_house_ids", J_RAW_ARRAY, 0, RI(estimate_house_ids), 0, BILLRUN_ESTIMATE_MAX,
	  NULL, "估算房屋" },
};

/* What the detached thread needs; it owns this and frees it. */
struct run_job {
	const struct config *cfg;
	int64_t job_id;
	char period[8];
	char owner[128];
	char actor[65];
	struct billrun_opts o;
	int64_t estimate[BILLRUN_ESTIMATE_MAX]; /* o.estimate_house_ids points here */
};

static void *run_thread(void *arg)
{
	struct run_job *j = arg;
	struct billrun_summary s;
	struct db *db = NULL;
	int rc;

	db_thread_init();
	if (db_open(&db, j->cfg))
		log_warn("billing run job %lld: database not reachable yet, retrying on first use",
			 (long long)j->job_id);
	rc = billrun_run(db, j->job_id, &j->o, &s);
	log_info("billing run job %lld %s: %lld billed, %lld adjusted, %lld skipped, %lld fen",
		 (long long)j->job_id, rc ? "failed" : "done", (long long)s.bills_new,
		 (long long)s.bills_adjusted, (long long)s.skipped, (long long)s.total_fen);
	billrun_summary_release(&s);
	db_close(db);
	db_thread_end();
	free(j);
	return NULL;
}

int admin_billing_run_start(struct req *rq)
{
	struct run_in in;
	struct run_job *j;
	pthread_attr_t attr;
	pthread_t t;
	char host[64] = "";
	int y, m, rc;
	int32_t f, l;
	char a[24], e[24];
	cJSON *o;

	if (api_decode(rq, run_fields, XQ_ARRAY_LEN(run_fields), &in))
		return rq->status;
	if (billrun_period(in.period.s, &y, &m, &f, &l, a, e))
		return resp_fail_msg(rq, XQ_EINVAL, "账期必须是 YYYY-MM 格式的月份", "period");
	j = xq_calloc(1, sizeof(*j));
	j->cfg = rq->cfg;
	xq_snprintf(j->period, sizeof(j->period), "%s", in.period.s);
	gethostname(host, sizeof(host) - 1);
	xq_snprintf(j->owner, sizeof(j->owner), "%s:%ld:api", host, (long)getpid());
	xq_snprintf(j->actor, sizeof(j->actor), "%s", rq->who.username);
	j->o.period = j->period;
	j->o.community_id = in.community_id.set && !in.community_id.null ? in.community_id.i : 0;
	j->o.owner = j->owner;
	j->o.staff_id = rq->who.staff_id;
	j->o.actor = j->actor;
	if (in.estimate_house_ids.set && in.estimate_house_ids.raw) {
		/* RULE: BILL-ESTIMATE-01: houses staff chose to bill on an estimate; each
		 * estimate written is an audit row (action estimate) with this staff user */
		const cJSON *it;
		cJSON_ArrayForEach(it, in.estimate_house_ids.raw)
		{
			if (!cJSON_IsNumber(it) || it->valuedouble < 1 || it->valuedouble > 9e15 ||
			    it->valuedouble != (double)(int64_t)it->valuedouble) {
				free(j);
				return resp_fail_msg(rq, XQ_EINVAL, "估算房屋必须是房屋编号（正整数）列表",
						     "estimate_house_ids");
			}
			j->estimate[j->o.n_estimate++] = (int64_t)it->valuedouble;
		}
		j->o.estimate_house_ids = j->estimate;
	}
	rc = billrun_claim(rq->db, &j->o, &j->job_id);
	if (rc == XQ_ECONFLICT) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "code", xq_code(rc));
		cJSON_AddStringToObject(o, "message", "该账期正在计费中，请稍后查看进度");
		cJSON_AddNumberToObject(o, "job_id", (double)j->job_id);
		free(j);
		return resp_json(rq, 409, o);
	}
	if (rc) {
		free(j);
		return resp_fail(rq, rc);
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "job_id", (double)j->job_id);
	cJSON_AddStringToObject(o, "state", "running");
	cJSON_AddStringToObject(o, "period", j->period);
	cJSON_AddNumberToObject(o, "community_id", (double)j->o.community_id);
	log_info("billing run job %lld for %s started by '%s'", (long long)j->job_id, j->period,
		 rq->who.username);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, run_thread, j)) {
		/* the claim stays; it goes stale and the next start takes it over */
		pthread_attr_destroy(&attr);
		free(j);
		cJSON_Delete(o);
		return resp_fail(rq, XQ_ERROR);
	}
	pthread_attr_destroy(&attr);
	return resp_json(rq, 202, o);
}

int admin_billing_run_get(struct req *rq)
{
	struct db_res r;
	int64_t id, done, total;
	cJSON *o;
	int rc;

	if (req_param_id(rq, "id", &id))
		return resp_fail_msg(rq, XQ_ENOTFOUND, "计费任务不存在", NULL);
	if ((rc = db_run(rq->db, &q_run_get, &r, id)))
		return resp_fail(rq, rc);
	if (r.nrows == 0) {
		db_res_release(&r);
		return resp_fail_msg(rq, XQ_ENOTFOUND, "计费任务不存在", NULL);
	}
	o = db_row_json(&r, 0);
	done = db_i64(&r, 0, 6);
	total = db_i64(&r, 0, 7);
	/* a figure the console can show directly: whole percent, 100 only when done */
	cJSON_AddNumberToObject(o, "percent",
				(double)(!strcmp(db_str(&r, 0, 3), "done") ? 100 :
					 total ? done * 100 / total : 0));
	db_res_release(&r);
	return resp_json(rq, 200, o);
}

/* ---- bills ----------------------------------------------------------- */

#define BILL_COLS "b.id, b.house_id, h.building_id, bd.community_id," \
	" CONCAT(bd.name, h.unit_no, '单元', h.room) AS house_label, b.period, b.utility, b.status," \
	" b.revision, b.qty_milli, b.ytd_before_milli, b.amount_fen, b.paid_fen, b.late_fee_fen," \
	" b.due_date, b.issued_at, b.paid_at, b.voided_at, b.voided_by, b.void_reason, b.job_id," \
	" b.created_at, b.updated_at"
#define BILL_FROM " FROM bill b JOIN house h ON h.id = b.house_id JOIN building bd ON bd.id = h.building_id"
#define BILL_FILTER " WHERE (? IS NULL OR bd.community_id = ?) AND (? IS NULL OR b.house_id = ?)" \
	" AND (? IS NULL OR b.period = ?) AND (? IS NULL OR b.utility = ?)" \
	" AND (? IS NULL OR b.status = ?)"

#define BILL_SIG_ "llllssssllllllsssslslss"

DB_QUERY(q_bill_get) = {
	"bill_get", "SELECT " BILL_COLS BILL_FROM " WHERE b.id = ?", "l", BILL_SIG_,
};
DB_QUERY(q_bill_lock) = {
	"bill_lock", "SELECT " BILL_COLS BILL_FROM " WHERE b.id = ? FOR UPDATE", "l", BILL_SIG_,
};
DB_QUERY(q_bill_count) = {
	"bill_count", "SELECT COUNT(*)" BILL_FROM BILL_FILTER, "LLLLssssss", "l",
};
DB_QUERY(q_bill_page) = {
	"bill_page",
	"SELECT " BILL_COLS BILL_FROM BILL_FILTER " ORDER BY b.id DESC LIMIT ? OFFSET ?",
	"LLLLssssssll", BILL_SIG_,
};
DB_QUERY(q_bill_lines) = {
	"bill_lines",
	"SELECT line_no, kind, tier, tou_window, component, label_zh, qty_milli, unit_price_hao,"
	" amount_fen, tariff_version_id, rule_id, seg_from, seg_to FROM bill_line"
	" WHERE bill_id = ? ORDER BY line_no",
	"l", "lslsssllllsss",
};
DB_QUERY(q_bill_usage) = {
	"bill_usage",
	"SELECT u.meter_id, m.meter_no, u.register, u.prev_read_at, u.prev_value, u.curr_read_at,"
	" u.curr_value, u.rollover, u.multiplier, u.qty_milli FROM bill_usage u"
	" JOIN meter m ON m.id = u.meter_id WHERE u.bill_id = ? ORDER BY u.meter_id, u.id",
	"l", "lssslslbll",
};
DB_QUERY(q_bill_void) = {
	"bill_void",
	"UPDATE bill SET status = 'void', voided_at = CURRENT_TIMESTAMP(3), voided_by = ?,"
	" void_reason = ? WHERE id = ?",
	"lsl", NULL,
};

static const struct crud_entity ent_bill = {
	"bill", "账单", &q_bill_get, &q_bill_lock, NULL,
	"关联记录不存在", "账单已存在", "账单仍被引用",
};

static const char *const utilities[] = { "electric", "water", NULL };
static const char *const bill_statuses[] = { "draft", "issued", "paid", "void", NULL };

int admin_bill_list(struct req *rq)
{
	struct page pg;
	struct db_res cnt, rows = { 0 };
	int64_t cid_v, hid_v;
	const int64_t *cid, *hid;
	const char *period, *utility, *status;
	int y, m, rc;
	int32_t f, l;
	char a[24], e[24];

	if (api_page(rq, &pg) || api_opt_id(rq, "community_id", &cid_v, &cid) ||
	    api_opt_id(rq, "house_id", &hid_v, &hid) ||
	    api_opt_enum(rq, "utility", utilities, &utility) ||
	    api_opt_enum(rq, "status", bill_statuses, &status))
		return rq->status;
	period = req_query(rq, "period");
	if (period && !*period)
		period = NULL;
	if (period && billrun_period(period, &y, &m, &f, &l, a, e))
		return resp_fail_msg(rq, XQ_EINVAL, "查询参数 period 必须是 YYYY-MM", "period");
	rc = db_run(rq->db, &q_bill_count, &cnt, cid, cid, hid, hid, period, period, utility, utility,
		    status, status);
	if (rc == XQ_OK)
		rc = db_run(rq->db, &q_bill_page, &rows, cid, cid, hid, hid, period, period, utility,
			    utility, status, status, pg.size, pg.offset);
	return api_list_reply(rq, rc, &cnt, &rows, &pg);
}

int admin_bill_get(struct req *rq)
{
	static const struct crud_child kids[] = { { "usage", &q_bill_usage }, { "lines", &q_bill_lines } };

	return crud_row_reply(rq, &q_bill_get, "账单不存在", kids, sizeof(kids) / sizeof(kids[0]));
}

struct void_in {
	struct jval reason;
};

static const struct json_field void_fields[] = {
	{ "reason", J_STRING, J_REQUIRED, offsetof(struct void_in, reason), 2, 200, NULL,
	  "作废原因" },
};

static int void_apply(struct db *db, struct crud_op *op)
{
	struct void_in *in = op->in;
	const char *st = crud_before_str(op, "status");

	if (st && !strcmp(st, "void"))
		return crud_reject(op, XQ_ECONFLICT, "status", "账单已作废");
	/* money already applied must be reversed first (refund or reverse), not lost in a void */
	if (crud_before_i64(op, "paid_fen") > 0 || (st && !strcmp(st, "paid")))
		return crud_reject(op, XQ_ECONFLICT, "status", "账单已有付款，不能作废");
	return db_run(db, &q_bill_void, NULL, op->rq->who.staff_id, in->reason.s, op->id);
}

int admin_bill_void(struct req *rq)
{
	struct void_in in;
	struct crud_op op = { .rq = rq, .ent = &ent_bill, .in = &in, .apply = void_apply,
			      .action = "void" };

	return crud_handle(&op, 1, void_fields, XQ_ARRAY_LEN(void_fields));
}
