/*
 * admin_meter_command.c - remote trip/close (远程拉闸/合闸) with four eyes:
 * one staff member requests a command for a meter with a relay, another one
 * approves or rejects it, and xq-collector executes approved commands
 * (docs/collector.md). Every step is audited; the table's CHECK refuses an
 * approver equal to the requester even if this code were wrong.
 */
#include "audit.h"
#include "crud.h"
#include "log.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define CMD_COLS "c.id, c.meter_id, m.meter_no, m.community_id, c.command, c.reason, c.state," \
	" c.requested_by, c.approved_by, c.requested_at, c.decided_at, c.sent_at, c.done_at," \
	" c.collector, c.result"
#define CMD_SIG "llslsssllssssss"
#define CMD_FROM " FROM meter_command c JOIN meter m ON m.id = c.meter_id"

DB_QUERY(q_cmd_get) = {
	"meter_cmd_get", "SELECT " CMD_COLS CMD_FROM " WHERE c.id = ?", "l", CMD_SIG,
};
DB_QUERY(q_cmd_lock) = {
	"meter_cmd_lock", "SELECT " CMD_COLS CMD_FROM " WHERE c.id = ? FOR UPDATE", "l", CMD_SIG,
};
DB_QUERY(q_cmd_meter) = {
	"meter_cmd_meter",
	"SELECT has_relay, status, smart, protocol, (SELECT COUNT(*) FROM meter_command p WHERE p.meter_id = m.id"
	" AND p.state IN ('requested', 'approved', 'sent')) FROM meter m WHERE m.id = ? FOR UPDATE",
	"l", "bsbsl",
};
DB_QUERY(q_cmd_insert) = {
	"meter_cmd_insert",
	"INSERT INTO meter_command (meter_id, command, reason, state, requested_by)"
	" VALUES (?, ?, ?, 'requested', ?)",
	"lssl", NULL,
};
DB_QUERY(q_cmd_decide) = {
	"meter_cmd_decide",
	"UPDATE meter_command SET state = ?, approved_by = ?, decided_at = CURRENT_TIMESTAMP(3)"
	" WHERE id = ? AND state = 'requested'",
	"sll", NULL,
};
#define CMD_FILTER " WHERE (? IS NULL OR c.state = ?) AND (? IS NULL OR c.meter_id = ?)"
DB_QUERY(q_cmd_count) = {
	"meter_cmd_count", "SELECT COUNT(*)" CMD_FROM CMD_FILTER, "ssLL", "l",
};
DB_QUERY(q_cmd_page) = {
	"meter_cmd_page",
	"SELECT " CMD_COLS CMD_FROM CMD_FILTER " ORDER BY c.id DESC LIMIT ? OFFSET ?",
	"ssLLll", CMD_SIG,
};

static const struct crud_entity ent_cmd = {
	"meter_command", "拉合闸指令", &q_cmd_get, &q_cmd_lock, NULL,
	"表计不存在", "指令已存在", NULL,
};

static const char *const commands[] = { "trip", "close", NULL };
static const char *const states[] = { "requested", "approved", "rejected", "sent",
				      "done", "failed", "cancelled", NULL };

struct cmd_in {
	struct jval command, reason;
	int64_t meter_id;
};

#define CI(f) offsetof(struct cmd_in, f)
static const struct json_field cmd_fields[] = {
	{ "command", J_ENUM, J_REQUIRED, CI(command), 0, 0, commands, "指令" },
	{ "reason", J_STRING, J_REQUIRED, CI(reason), 1, 255, NULL, "原因" },
};

static int cmd_request_apply(struct db *db, struct crud_op *op)
{
	struct cmd_in *in = op->in;
	struct db_res r;
	int rc, relay, active, smart, dlt645;
	int64_t pending;

	if ((rc = db_run(db, &q_cmd_meter, &r, in->meter_id)) != XQ_OK)
		return rc;
	if (r.nrows == 0) {
		db_res_release(&r);
		return crud_reject(op, XQ_ENOTFOUND, NULL, "表计不存在");
	}
	relay = db_i64(&r, 0, 0) != 0;
	active = !strcmp(db_str(&r, 0, 1), "active");
	smart = db_i64(&r, 0, 2) != 0;
	dlt645 = !strcmp(db_str(&r, 0, 3), "dlt645");
	pending = db_i64(&r, 0, 4);
	db_res_release(&r);
	if (!relay || !smart)
		return crud_reject(op, XQ_EINVAL, "command", "该表没有远程拉合闸功能");
	/* the collector sends DL/T 645 control 0x1C only */
	if (!dlt645)
		return crud_reject(op, XQ_EINVAL, "command", "该表的通信协议不支持远程拉合闸");
	if (!active)
		return crud_reject(op, XQ_EINVAL, "command", "该表已拆除");
	/* one command at a time per meter: two would race on the relay */
	if (pending)
		return crud_reject(op, XQ_ECONFLICT, "command", "该表已有未完成的拉合闸指令");
	if ((rc = db_run(db, &q_cmd_insert, NULL, in->meter_id, in->command.s, in->reason.s,
			 op->rq->who.staff_id)) != XQ_OK)
		return rc;
	op->id = db_insert_id(db);
	return XQ_OK;
}

/* POST /meters/{id}/commands {command: trip|close, reason} */
int admin_meter_command_create(struct req *rq)
{
	struct cmd_in in;
	struct crud_op op = { .rq = rq, .ent = &ent_cmd, .action = "request",
			      .apply = cmd_request_apply, .in = &in, .created_status = 201 };

	memset(&in, 0, sizeof(in));
	if (req_param_id(rq, "id", &in.meter_id))
		return resp_fail_msg(rq, XQ_ENOTFOUND, "表计不存在", NULL);
	if (api_decode(rq, cmd_fields, XQ_ARRAY_LEN(cmd_fields), &in))
		return rq->status;
	return crud_run(&op);
}

static int cmd_decide_apply(struct db *db, struct crud_op *op)
{
	const char *state = crud_before_str(op, "state");
	int rc;

	if (!state || strcmp(state, "requested"))
		return crud_reject(op, XQ_ECONFLICT, NULL, "指令当前状态为 %s, 不能审批",
				   state ? state : "?");
	if (crud_before_i64(op, "requested_by") == op->rq->who.staff_id)
		return crud_reject(op, XQ_EFORBIDDEN, NULL, "不能审批自己发起的拉合闸指令");
	rc = db_run(db, &q_cmd_decide, NULL, op->action[0] == 'a' ? "approved" : "rejected",
		    op->rq->who.staff_id, op->id);
	if (rc == XQ_OK && db_affected(db) != 1)
		rc = XQ_ECONFLICT;
	return rc;
}

static int cmd_decide(struct req *rq, const char *action)
{
	struct crud_op op = { .rq = rq, .ent = &ent_cmd, .action = action,
			      .apply = cmd_decide_apply };

	if (req_param_id(rq, "id", &op.id))
		return crud_fail(&op, XQ_ENOTFOUND);
	return crud_run(&op);
}

/* POST /meter-commands/{id}/approve: a staff member other than the requester */
int admin_meter_command_approve(struct req *rq)
{
	return cmd_decide(rq, "approve");
}

/* POST /meter-commands/{id}/reject */
int admin_meter_command_reject(struct req *rq)
{
	return cmd_decide(rq, "reject");
}

/* GET /meter-commands?state&meter_id&page&page_size, newest first */
int admin_meter_command_list(struct req *rq)
{
	struct page pg;
	struct db_res cnt, rows = { 0 };
	int64_t mid_v;
	const int64_t *mid;
	const char *state;
	int rc;

	if (api_page(rq, &pg) || api_opt_id(rq, "meter_id", &mid_v, &mid) ||
	    api_opt_enum(rq, "state", states, &state))
		return rq->status;
	rc = db_run(rq->db, &q_cmd_count, &cnt, state, state, mid, mid);
	if (rc == XQ_OK)
		rc = db_run(rq->db, &q_cmd_page, &rows, state, state, mid, mid, pg.size, pg.offset);
	return api_list_reply(rq, rc, &cnt, &rows, &pg);
}
