/*
 * admin_reading.c - readings as staff handle them (docs/readings.md): the
 * latest reading per meter, a meter's history and usage chart, manual
 * entry, the review queue of flagged readings (approve, correct, reject)
 * and CSV import. Every write checks the reading against its neighbours
 * with lib/valid.c, is audited in its transaction, and refreshes the usage
 * rollups of the (meter, day) it touched after commit.
 *
 * A reading is addressed as /readings/{meter_id}/{read_at} where read_at is
 * the UTC instant in milliseconds since 1970-01-01 (the read_at_ms field of
 * every reading returned): URL-safe and exact to the stored DATETIME(3).
 */
#include "config.h"
#include "crud.h"
#include "log.h"
#include "reading.h"
#include "valid.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READING_COLS                                                                               \
	"r.meter_id, r.read_at, CAST(UNIX_TIMESTAMP(r.read_at) * 1000 AS SIGNED)"                  \
	" AS read_at_ms, r.value, r.value_sharp, r.value_peak, r.value_flat, r.value_valley,"      \
	" r.source, r.status, r.flag_reason, r.entered_by, r.created_at"
#define READING_SIG       "lsllllllsssls"
#define WATER_MAX_L_PER_H 5000 /* as the collector: DN15/DN20 household meters */
#define RATE_TOLERANCE    10   /* Wh per rate register: each is rounded to 0.01 kWh */

DB_QUERY(q_rd_meter) = {
    "reading_meter",
    "SELECT m.id, m.community_id, m.house_id, m.utility, m.digits, m.multiplier, m.status,"
    " CAST(UNIX_TIMESTAMP(m.installed_at) * 1000 AS SIGNED), m.meter_no"
    " FROM meter m WHERE m.id = ? FOR UPDATE",
    "l",
    "lllsllsls",
};
DB_QUERY(q_rd_meter_by_no) = {
    "reading_meter_by_no",
    "SELECT id FROM meter WHERE meter_no = ?",
    "s",
    "l",
};
DB_QUERY(q_rd_reader_may) = {
    "reading_reader_may",
    "SELECT COUNT(*) FROM reader_assignment a JOIN meter m ON m.community_id = a.community_id"
    " LEFT JOIN house h ON h.id = m.house_id"
    " WHERE a.staff_user_id = ? AND m.id = ? AND (a.building_id IS NULL OR a.building_id = "
    "h.building_id)",
    "ll",
    "l",
};
DB_QUERY(q_rd_get) = {
    "reading_get",
    "SELECT " READING_COLS " FROM meter_reading r WHERE r.meter_id = ? AND r.read_at = ?",
    "ls",
    READING_SIG,
};
DB_QUERY(q_rd_lock) = {
    "reading_lock",
    "SELECT " READING_COLS
    " FROM meter_reading r WHERE r.meter_id = ? AND r.read_at = ? FOR UPDATE",
    "ls",
    READING_SIG,
};
/* the good neighbours in time: primary-key probes */
DB_QUERY(q_rd_prev) = {
    "reading_prev",
    "SELECT CAST(UNIX_TIMESTAMP(read_at) * 1000 AS SIGNED), value FROM meter_reading"
    " WHERE meter_id = ? AND read_at < ? AND status IN ('ok', 'corrected')"
    " ORDER BY read_at DESC LIMIT 1",
    "ls",
    "ll",
};
DB_QUERY(q_rd_next) = {
    "reading_next",
    "SELECT CAST(UNIX_TIMESTAMP(read_at) * 1000 AS SIGNED), value FROM meter_reading"
    " WHERE meter_id = ? AND read_at > ? AND status IN ('ok', 'corrected')"
    " ORDER BY read_at ASC LIMIT 1",
    "ls",
    "ll",
};
/* the meter's history from the rollup: days with data in the 90 before */
DB_QUERY(q_rd_history) = {
    "reading_history",
    "SELECT COUNT(*), COALESCE(SUM(usage_total), 0) FROM meter_usage_daily"
    " WHERE meter_id = ? AND day >= ? AND day < ?",
    "lss",
    "ll",
};
DB_QUERY(q_rd_insert) = {
    "reading_insert",
    "INSERT INTO meter_reading (meter_id, read_at, value, value_sharp, value_peak, value_flat,"
    " value_valley, source, status, flag_reason, entered_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
    "?)",
    "lslLLLLsssL",
    NULL,
};
DB_QUERY(q_rd_alert) = {
    "reading_alert",
    "INSERT IGNORE INTO alert (community_id, kind, level, meter_id, house_id, message, detail,"
    " dedup_key) VALUES (?, 'reading_flagged', 'warning', ?, ?, ?, ?, ?)",
    "llLsss",
    NULL,
};
/* the collector uses the same key: reading_flagged:<meter>:<read_at seconds> */
DB_QUERY(q_rd_alert_close) = {
    "reading_alert_close",
    "UPDATE alert SET status = 'closed', acked_by = COALESCE(acked_by, ?),"
    " acked_at = COALESCE(acked_at, CURRENT_TIMESTAMP(3)), closed_at = CURRENT_TIMESTAMP(3)"
    " WHERE dedup_key = ? AND status <> 'closed'",
    "Ls",
    NULL,
};
DB_QUERY(q_rd_set_status) = {
    "reading_set_status",
    "UPDATE meter_reading SET status = ? WHERE meter_id = ? AND read_at = ?",
    "sls",
    NULL,
};
DB_QUERY(q_rd_correct) = {
    "reading_correct",
    "UPDATE meter_reading SET status = 'corrected', value = ?, value_sharp = ?, value_peak = ?,"
    " value_flat = ?, value_valley = ?, entered_by = ? WHERE meter_id = ? AND read_at = ?",
    "lLLLLLls",
    NULL,
};

/* ---------------------------------------------------------------- helpers */

static const int64_t *opt(const int64_t *id)
{
	return *id ? id : NULL;
}

/* A register value for people: "1234.560 kWh" / "12.345 m³". */
static void fmt_reg(const char *utility, int64_t v, char *out, size_t n)
{
	snprintf(out, n, "%lld.%03lld %s", (long long)(v / 1000), (long long)(v % 1000),
	         strcmp(utility, "water") ? "kWh" : "m³");
}

static int refuse(struct reading_out *out, int rc, const char *code, const char *field,
                  const char *fmt, ...) XQ_PRINTF(5, 6);

static int refuse(struct reading_out *out, int rc, const char *code, const char *field,
                  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->msg, sizeof(out->msg), fmt, ap);
	va_end(ap);
	snprintf(out->code, sizeof(out->code), "%s", code);
	snprintf(out->field, sizeof(out->field), "%s", field);
	return rc;
}

static void warn(struct reading_out *out, const char *fmt, ...) XQ_PRINTF(2, 3);

static void warn(struct reading_out *out, const char *fmt, ...)
{
	char m[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	if (!out->warnings)
		out->warnings = cJSON_CreateArray();
	cJSON_AddItemToArray(out->warnings, cJSON_CreateString(m));
}

void reading_out_release(struct reading_out *out)
{
	cJSON_Delete(out->warnings);
	cJSON_Delete(out->row);
	out->warnings = out->row = NULL;
}

void reading_refresh(struct db *db, const struct rollup_key *keys, size_t n)
{
	int rc;

	if (!n)
		return;
	if ((rc = rollup_refresh(db, keys, n)))
		log_error(
		    "rollup refresh of %zu (meter, day) pairs failed: %s (xqctl rollup repairs it)",
		    n, xq_strerror(rc));
}

/* The good reading before (dir < 0) or after (dir > 0) at. */
static int neighbour(struct db *db, int64_t meter_id, const char *at, int dir,
                     struct valid_point *p)
{
	struct db_res r;
	int rc = db_run(db, dir < 0 ? &q_rd_prev : &q_rd_next, &r, meter_id, at);

	if (rc)
		return rc;
	p->have = r.nrows == 1;
	if (p->have) {
		p->at_ms = db_i64(&r, 0, 0);
		p->value = db_i64(&r, 0, 1);
	}
	db_res_release(&r);
	return XQ_OK;
}

/* What the meter row says, for judging a reading. */
struct meter_facts {
	int64_t id, community_id, house_id, digits, multiplier, installed_ms;
	char utility[16], status[16], meter_no[40];
};

static int meter_facts_lock(struct db *db, int64_t id, struct meter_facts *f)
{
	struct db_res r;
	int rc = db_run(db, &q_rd_meter, &r, id);

	if (rc)
		return rc;
	if (r.nrows != 1) {
		db_res_release(&r);
		return XQ_ENOTFOUND;
	}
	f->id = db_i64(&r, 0, 0);
	f->community_id = db_i64(&r, 0, 1);
	f->house_id = db_i64(&r, 0, 2);
	snprintf(f->utility, sizeof(f->utility), "%s", db_str(&r, 0, 3));
	f->digits = db_i64(&r, 0, 4);
	f->multiplier = db_i64(&r, 0, 5);
	snprintf(f->status, sizeof(f->status), "%s", db_str(&r, 0, 6));
	f->installed_ms = db_i64(&r, 0, 7);
	snprintf(f->meter_no, sizeof(f->meter_no), "%s", db_str(&r, 0, 8));
	db_res_release(&r);
	return XQ_OK;
}

/*
 * The rules of lib/valid.c for value at at_ms of meter f, with the
 * neighbours and the 90-day history from the database; Chinese warnings
 * into out. vout gets the verdict.
 */
static int judge(struct db *db, const struct config *cfg, const struct meter_facts *f,
                 int64_t at_ms, const char *at, int64_t value, struct reading_out *out,
                 struct valid_out *vout)
{
	struct valid_in vin = {0};
	struct db_res r;
	char d0[16], d1[16], a[40], b[40];
	int64_t day = rollup_day_of_ms(at_ms);
	int rc;

	vin.at_ms = at_ms;
	vin.value = value;
	vin.modulus = valid_modulus(f->digits);
	vin.max_per_h =
	    strcmp(f->utility, "water") ? cfg->collector_max_kw * 1000 : WATER_MAX_L_PER_H;
	vin.spike_factor = cfg->readings_spike_factor;
	if ((rc = neighbour(db, f->id, at, -1, &vin.prev)) ||
	    (rc = neighbour(db, f->id, at, 1, &vin.next)))
		return rc;
	rollup_day_str(day - 90, d0, sizeof(d0));
	rollup_day_str(day, d1, sizeof(d1));
	if ((rc = db_run(db, &q_rd_history, &r, f->id, d0, d1)))
		return rc;
	/* a week of history at least, else the average says little; rollups include the multiplier
	 */
	if (db_i64(&r, 0, 0) >= 7)
		vin.daily_avg =
		    db_i64(&r, 0, 1) / db_i64(&r, 0, 0) / (f->multiplier ? f->multiplier : 1);
	db_res_release(&r);
	valid_check(&vin, vout);
	fmt_reg(f->utility, value, a, sizeof(a));
	if (!strcmp(vout->reason, VALID_BEYOND_DIGITS)) {
		fmt_reg(f->utility, vin.modulus, b, sizeof(b));
		warn(out, "%s：%s 不小于 %lld 位表盘的量程 %s", valid_reason_zh(vout->reason), a,
		     (long long)f->digits, b);
	} else if (!strcmp(vout->reason, VALID_BACKWARDS)) {
		fmt_reg(f->utility, vin.prev.value, b, sizeof(b));
		warn(out, "%s：上次 %s，本次 %s", valid_reason_zh(vout->reason), b, a);
	} else if (!strcmp(vout->reason, VALID_ABOVE_NEXT)) {
		fmt_reg(f->utility, vin.next.value, b, sizeof(b));
		warn(out, "%s：其后读数 %s，本次 %s", valid_reason_zh(vout->reason), b, a);
	} else if (vout->reason[0]) {
		char c[40];

		fmt_reg(f->utility, vout->delta, b, sizeof(b));
		fmt_reg(f->utility, vout->ceiling, c, sizeof(c));
		if (vout->flagged)
			warn(out, "%s：用量 %s，上限 %s", valid_reason_zh(vout->reason), b, c);
		else
			warn(out, "%s：用量 %s", valid_reason_zh(vout->reason), b);
	}
	return XQ_OK;
}

/* Rate registers: electric only, each within the register, together equal to the total. */
static int rates_check(const struct meter_facts *f, const int has[4], const int64_t rate[4],
                       int64_t value, struct reading_out *out)
{
	static const char *const names[4] = {"value_sharp", "value_peak", "value_flat",
	                                     "value_valley"};
	int64_t sum = 0, tol = 0;
	int given = 0;

	for (int i = 0; i < 4; i++) {
		if (!has[i])
			continue;
		if (!strcmp(f->utility, "water"))
			return refuse(out, XQ_EINVAL, "RATES_NOT_ALLOWED", names[i],
			              "水表没有分时寄存器");
		if (rate[i] < 0 || rate[i] >= valid_modulus(f->digits))
			return refuse(out, XQ_EINVAL, "BAD_VALUE", names[i],
			              "分时读数超出表盘量程");
		sum += rate[i];
		tol += RATE_TOLERANCE;
		given++;
	}
	if (given == 4 ? (sum > value + tol || sum < value - tol) : (given && sum > value + tol))
		return refuse(out, XQ_EINVAL, "RATES_MISMATCH", "value",
		              "尖峰平谷读数之和（%lld）与总读数（%lld）不符，允许误差 %lld Wh",
		              (long long)sum, (long long)value, (long long)tol);
	return XQ_OK;
}

static cJSON *row_load(struct db *db, int64_t meter_id, const char *at, int lock)
{
	struct db_res r;
	cJSON *o = NULL;

	if (db_run(db, lock ? &q_rd_lock : &q_rd_get, &r, meter_id, at))
		return NULL;
	if (r.nrows == 1)
		o = db_row_json(&r, 0);
	db_res_release(&r);
	return o;
}

static int alert_raise(struct db *db, const struct meter_facts *f, int64_t at_ms,
                       const char *reason, const struct reading_out *out)
{
	char dedup[96], msg[200];
	cJSON *d = cJSON_CreateObject();
	char *detail;
	int rc;

	snprintf(dedup, sizeof(dedup), "reading_flagged:%lld:%lld", (long long)f->id,
	         (long long)(at_ms / 1000));
	snprintf(msg, sizeof(msg), "表 %s 人工读数异常 (%s)，待审核", f->meter_no, reason);
	cJSON_AddStringToObject(d, "reason", reason);
	cJSON_AddNumberToObject(d, "read_at_ms", (double)at_ms);
	if (out->warnings)
		cJSON_AddItemToObject(d, "warnings", cJSON_Duplicate(out->warnings, 1));
	detail = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	rc = db_run(db, &q_rd_alert, NULL, f->community_id, f->id, opt(&f->house_id), msg, detail,
	            dedup);
	free(detail);
	return rc;
}

int reading_store(struct db *db, const struct audit_actor *who, const struct config *cfg,
                  const struct reading_in *in, struct reading_out *out)
{
	struct meter_facts f;
	struct valid_out v;
	struct db_res r;
	char at[32];
	int64_t id = in->meter_id;
	int rc;

	reading_out_release(out);
	memset(out, 0, sizeof(*out));
	out->reason = "";
	if (!id) {
		if ((rc = db_run(db, &q_rd_meter_by_no, &r, in->meter_no)))
			return rc;
		id = r.nrows == 1 ? db_i64(&r, 0, 0) : 0;
		db_res_release(&r);
		if (!id)
			return refuse(out, XQ_ENOTFOUND, "METER_NOT_FOUND", "meter_no",
			              "表号 %s 不存在", in->meter_no);
	}
	if (in->reader_id > 0) {
		if ((rc = db_run(db, &q_rd_reader_may, &r, in->reader_id, id)))
			return rc;
		rc = db_i64(&r, 0, 0) > 0 ? XQ_OK : XQ_ENOTFOUND;
		db_res_release(&r);
		if (rc)
			return refuse(out, rc, "METER_NOT_FOUND", "meter_id",
			              "表计不存在或不在您的抄表范围内");
	}
	rc = meter_facts_lock(db, id, &f);
	if (rc == XQ_ENOTFOUND)
		return refuse(out, rc, "METER_NOT_FOUND", "meter_id", "表计不存在");
	if (rc)
		return rc;
	out->meter_id = f.id;
	out->community_id = f.community_id;
	if (strcmp(f.status, "active"))
		return refuse(out, XQ_ECONFLICT, "METER_REMOVED", "meter_id",
		              "表 %s 已拆除，不能再录入读数", f.meter_no);
	if (in->at_ms < f.installed_ms)
		return refuse(out, XQ_EINVAL, "BEFORE_INSTALL", "read_at",
		              "抄表时间早于表 %s 的安装时间", f.meter_no);
	/* five minutes of clock skew between a phone and the server */
	if (in->at_ms > in->now_ms + 5 * 60 * 1000)
		return refuse(out, XQ_EINVAL, "IN_FUTURE", "read_at", "抄表时间不能晚于当前时间");
	if ((rc = rates_check(&f, in->has_rate, in->rate, in->value, out)))
		return rc;
	valid_time_sql(in->at_ms, at, sizeof(at));
	if ((out->row = row_load(db, f.id, at, 1))) {
		const cJSON *cv = cJSON_GetObjectItem(out->row, "value");
		int64_t old = cJSON_IsNumber(cv) ? (int64_t)cv->valuedouble : -1;

		if (old == in->value) {
			out->duplicate = 1;
			return XQ_OK;
		}
		cJSON_Delete(out->row);
		out->row = NULL;
		{
			char a[40];

			fmt_reg(f.utility, old, a, sizeof(a));
			return refuse(
			    out, XQ_ECONFLICT, "DUPLICATE", "read_at",
			    "表 %s 在该时间已有读数 %s，不会覆盖；如需修改请在读数审核中更正",
			    f.meter_no, a);
		}
	}
	if ((rc = judge(db, cfg, &f, in->at_ms, at, in->value, out, &v)))
		return rc;
	out->flagged = v.flagged;
	out->reason = v.reason;
	rc = db_run(db, &q_rd_insert, NULL, f.id, at, in->value,
	            in->has_rate[0] ? &in->rate[0] : NULL, in->has_rate[1] ? &in->rate[1] : NULL,
	            in->has_rate[2] ? &in->rate[2] : NULL, in->has_rate[3] ? &in->rate[3] : NULL,
	            in->source, v.flagged ? "flagged" : "ok", v.reason,
	            who->staff_id ? &who->staff_id : NULL);
	if (rc == XQ_ECONFLICT) /* a concurrent entry at the same instant */
		return refuse(out, rc, "DUPLICATE", "read_at", "表 %s 在该时间已有读数",
		              f.meter_no);
	if (rc)
		return rc;
	if (v.flagged && (rc = alert_raise(db, &f, in->at_ms, v.reason, out)))
		return rc;
	if (!(out->row = row_load(db, f.id, at, 0)))
		return XQ_EDB;
	{
		cJSON *after = cJSON_Duplicate(out->row, 1);

		if (in->note && in->note[0])
			cJSON_AddStringToObject(after, "note", in->note);
		rc = audit_write(db, who, strcmp(in->source, "import") ? "enter" : "import",
		                 "meter_reading", f.id, NULL, after);
		cJSON_Delete(after);
	}
	if (rc)
		return rc;
	out->stored = 1;
	out->key.meter_id = f.id;
	out->key.day = rollup_day_of_ms(in->at_ms);
	return XQ_OK;
}

/* ---------------------------------------------------------------- manual entry */

struct entry_in {
	struct jval read_at, value, rate[4], note;
};

#define EI(f) offsetof(struct entry_in, f)
static const struct json_field entry_fields[] = {
    {"read_at", J_STRING, J_REQUIRED, EI(read_at), 10, 40, NULL, "抄表时间"},
    {"value", J_INT64, J_REQUIRED, EI(value), 0, INT64_MAX / 4, NULL, "读数"},
    {"value_sharp", J_INT64, J_NULLABLE, EI(rate[0]), 0, INT64_MAX / 4, NULL, "尖读数"},
    {"value_peak", J_INT64, J_NULLABLE, EI(rate[1]), 0, INT64_MAX / 4, NULL, "峰读数"},
    {"value_flat", J_INT64, J_NULLABLE, EI(rate[2]), 0, INT64_MAX / 4, NULL, "平读数"},
    {"value_valley", J_INT64, J_NULLABLE, EI(rate[3]), 0, INT64_MAX / 4, NULL, "谷读数"},
    {"note", J_STRING, 0, EI(note), 0, 200, NULL, "备注"},
};

struct entry_job {
	struct reading_in in;
	struct reading_out out;
	const struct audit_actor *who;
	const struct config *cfg;
};

static int entry_tx(struct db *db, void *arg)
{
	struct entry_job *j = arg;
	return reading_store(db, j->who, j->cfg, &j->in, &j->out);
}

/* Fills the rate registers of in from decoded values. */
static void rates_from(struct reading_in *in, const struct jval rate[4])
{
	for (int i = 0; i < 4; i++) {
		in->has_rate[i] = rate[i].set && !rate[i].null;
		in->rate[i] = rate[i].i;
	}
}

/* {reading, flagged, flag_reason, warnings}; 201 when stored. */
static cJSON *entry_reply(struct reading_out *out)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddItemToObject(o, "reading", out->row ? out->row : cJSON_CreateNull());
	out->row = NULL;
	cJSON_AddBoolToObject(o, "flagged", out->flagged);
	cJSON_AddStringToObject(o, "flag_reason", out->reason ? out->reason : "");
	cJSON_AddItemToObject(o, "warnings", out->warnings ? out->warnings : cJSON_CreateArray());
	out->warnings = NULL;
	return o;
}

int admin_reading_create(struct req *rq)
{
	struct entry_in e;
	struct audit_actor who = {rq->who.staff_id, rq->who.username, rq->remote_addr, rq->rid};
	struct entry_job j = {.who = &who, .cfg = rq->cfg};
	int rc;

	if (req_param_id(rq, "id", &j.in.meter_id))
		return resp_fail_msg(rq, XQ_ENOTFOUND, "表计不存在", NULL);
	if (api_decode(rq, entry_fields, XQ_ARRAY_LEN(entry_fields), &e))
		return rq->status;
	if (valid_parse_time(e.read_at.s, &j.in.at_ms))
		return resp_fail_msg(
		    rq, XQ_EINVAL,
		    "抄表时间格式不正确，应为 RFC 3339（如 2026-11-30T09:00:00+08:00）", "read_at");
	j.in.value = e.value.i;
	rates_from(&j.in, e.rate);
	j.in.source = "manual";
	j.in.note = e.note.set ? e.note.s : NULL;
	j.in.now_ms = xq_now_ms();
	/* a reader at the console is held to the same assignments as on the phone */
	if (!strcmp(rq->who.role, "reader"))
		j.in.reader_id = rq->who.staff_id;
	rc = db_tx(rq->db, entry_tx, &j);
	if (rc == XQ_OK && j.out.duplicate) {
		reading_out_release(&j.out);
		return resp_fail_msg(rq, XQ_ECONFLICT, "该表在此时间已有相同的读数，未重复保存",
		                     "read_at");
	}
	if (rc) {
		reading_out_release(&j.out);
		return j.out.msg[0] ? resp_fail_msg(rq, rc, j.out.msg, j.out.field)
		                    : resp_fail(rq, rc);
	}
	reading_refresh(rq->db, &j.out.key, 1);
	return resp_json(rq, 201, entry_reply(&j.out));
}

/* ---------------------------------------------------------------- latest, history, usage */

#define LATEST_FROM                                                                                \
	" FROM meter m JOIN community c ON c.id = m.community_id"                                  \
	" LEFT JOIN house h ON h.id = m.house_id LEFT JOIN building b ON b.id = h.building_id"     \
	" WHERE (? IS NULL OR m.community_id = ?) AND (? IS NULL OR h.building_id = ?)"            \
	" AND (? IS NULL OR m.utility = ?) AND (? = '' OR m.meter_no LIKE ?)"

DB_QUERY(q_latest_count) = {
    "reading_latest_count",
    "SELECT COUNT(*)" LATEST_FROM,
    "LLLLssss",
    "l",
};
/*
 * The page of meters first, then for each one the newest non-rejected
 * reading by a descending probe of the primary key (meter_id, read_at):
 * no scan of meter_reading however long its history.
 */
DB_QUERY(q_latest_page) = {
    "reading_latest_page",
    "SELECT p.id AS meter_id, p.meter_no, p.community_id, p.community_name, p.house_label,"
    " p.utility, p.kind, p.smart, p.status AS meter_status, r.read_at,"
    " CAST(UNIX_TIMESTAMP(r.read_at) * 1000 AS SIGNED) AS read_at_ms, r.value, r.source,"
    " r.status, r.flag_reason, DATEDIFF(UTC_TIMESTAMP(), r.read_at) AS days_since"
    " FROM (SELECT m.id, m.meter_no, m.community_id, c.name AS community_name,"
    "   CONCAT(b.name, h.unit_no, '单元', h.room) AS house_label, m.utility, m.kind, m.smart, "
    "m.status,"
    "   (SELECT x.read_at FROM meter_reading x WHERE x.meter_id = m.id AND x.status <> 'rejected'"
    "     ORDER BY x.read_at DESC LIMIT 1) AS last_at"
    "   " LATEST_FROM " ORDER BY m.community_id, m.utility, m.meter_no LIMIT ? OFFSET ?) p"
    " LEFT JOIN meter_reading r ON r.meter_id = p.id AND r.read_at = p.last_at"
    " ORDER BY p.community_id, p.utility, p.meter_no",
    "LLLLssssll",
    "lslssssbssllsssl",
};

static const char *const utilities[] = {"electric", "water", NULL};

int admin_reading_latest(struct req *rq)
{
	struct page pg;
	struct db_res cnt, rows = {0};
	int64_t cid_v, bid_v;
	const int64_t *cid, *bid;
	const char *utility, *like;
	int rc;

	if (api_page(rq, &pg) || api_opt_id(rq, "community_id", &cid_v, &cid) ||
	    api_opt_id(rq, "building_id", &bid_v, &bid) ||
	    api_opt_enum(rq, "utility", utilities, &utility))
		return rq->status;
	like = api_like(rq, "q");
	rc =
	    db_run(rq->db, &q_latest_count, &cnt, cid, cid, bid, bid, utility, utility, like, like);
	if (rc == XQ_OK)
		rc = db_run(rq->db, &q_latest_page, &rows, cid, cid, bid, bid, utility, utility,
		            like, like, pg.size, pg.offset);
	return api_list_reply(rq, rc, &cnt, &rows, &pg);
}

DB_QUERY(q_meter_exists) = {
    "reading_meter_exists",
    "SELECT utility, digits, multiplier FROM meter WHERE id = ?",
    "l",
    "sll",
};
DB_QUERY(q_hist_count) = {
    "reading_hist_count",
    "SELECT COUNT(*) FROM meter_reading r WHERE r.meter_id = ? AND r.read_at >= ? AND r.read_at < "
    "?",
    "lss",
    "l",
};
DB_QUERY(q_hist_page) = {
    "reading_hist_page",
    "SELECT " READING_COLS " FROM meter_reading r WHERE r.meter_id = ? AND r.read_at >= ?"
    " AND r.read_at < ? ORDER BY r.read_at DESC LIMIT ? OFFSET ?",
    "lssll",
    READING_SIG,
};

/* The meter {id} of the path, or a 404 already answered (returns non-zero). */
static int path_meter(struct req *rq, int64_t *id, char *utility, size_t n)
{
	struct db_res r;
	int rc;

	if (req_param_id(rq, "id", id))
		return resp_fail_msg(rq, XQ_ENOTFOUND, "表计不存在", NULL), XQ_ENOTFOUND;
	if ((rc = db_run(rq->db, &q_meter_exists, &r, *id)))
		return resp_fail(rq, rc), rc;
	if (r.nrows != 1) {
		db_res_release(&r);
		return resp_fail_msg(rq, XQ_ENOTFOUND, "表计不存在", NULL), XQ_ENOTFOUND;
	}
	snprintf(utility, n, "%s", db_str(&r, 0, 0));
	db_res_release(&r);
	return XQ_OK;
}

/*
 * from/to as China dates (to inclusive), defaults to the last days_def
 * days, at most days_max apart. Answers 400 itself on error.
 */
static int day_range(struct req *rq, int64_t days_def, int64_t days_max, int64_t *from, int64_t *to)
{
	const char *f = req_query(rq, "from"), *t = req_query(rq, "to");
	char m[128];

	*to = rollup_day_of_ms(xq_now_ms());
	if (t && *t && rollup_day_parse(t, to))
		return resp_fail_msg(rq, XQ_EINVAL, "结束日期格式应为 YYYY-MM-DD", "to"), XQ_EINVAL;
	*from = *to - days_def + 1;
	if (f && *f && rollup_day_parse(f, from))
		return resp_fail_msg(rq, XQ_EINVAL, "开始日期格式应为 YYYY-MM-DD", "from"),
		       XQ_EINVAL;
	if (*from > *to)
		return resp_fail_msg(rq, XQ_EINVAL, "开始日期不能晚于结束日期", "from"), XQ_EINVAL;
	if (*to - *from + 1 > days_max) {
		snprintf(m, sizeof(m), "查询范围最多 %lld 天", (long long)days_max);
		return resp_fail_msg(rq, XQ_EINVAL, m, "from"), XQ_EINVAL;
	}
	return XQ_OK;
}

/* UTC DATETIME text of a China day's midnight. */
static void day_start_sql(int64_t day, char *out, size_t n)
{
	valid_time_sql(day * 86400000LL - 8 * 3600 * 1000LL, out, n);
}

int admin_meter_readings(struct req *rq)
{
	struct page pg;
	struct db_res cnt, rows = {0};
	int64_t id, from, to;
	char utility[16], lo[32], hi[32];
	int rc;

	if (path_meter(rq, &id, utility, sizeof(utility)) || api_page(rq, &pg) ||
	    day_range(rq, 31, 366, &from, &to))
		return rq->status;
	day_start_sql(from, lo, sizeof(lo));
	day_start_sql(to + 1, hi, sizeof(hi));
	rc = db_run(rq->db, &q_hist_count, &cnt, id, lo, hi);
	if (rc == XQ_OK)
		rc = db_run(rq->db, &q_hist_page, &rows, id, lo, hi, pg.size, pg.offset);
	return api_list_reply(rq, rc, &cnt, &rows, &pg);
}

DB_QUERY(q_usage_day) = {
    "reading_usage_day",
    "SELECT CAST(day AS CHAR) AS day, usage_total, usage_sharp, usage_peak, usage_flat, "
    "usage_valley,"
    " readings, flagged, last_value, last_read_at FROM meter_usage_daily"
    " WHERE meter_id = ? AND day >= ? AND day <= ? ORDER BY day",
    "lss",
    "slllllllls",
};
DB_QUERY(q_usage_month) = {
    "reading_usage_month",
    "SELECT month, usage_total, usage_sharp, usage_peak, usage_flat, usage_valley, days,"
    " last_value, last_read_at FROM meter_usage_monthly"
    " WHERE meter_id = ? AND month >= ? AND month <= ? ORDER BY month",
    "lss",
    "sllllllls",
};

/* From the rollups (sql/005): usage after rollover and multiplier, Wh or L. */
int admin_meter_usage(struct req *rq)
{
	static const char *const grans[] = {"day", "month", NULL};
	const char *gran;
	struct db_res r;
	int64_t id, from, to;
	char utility[16], a[16], b[16];
	cJSON *o;
	int rc, month;

	if (path_meter(rq, &id, utility, sizeof(utility)) ||
	    api_opt_enum(rq, "granularity", grans, &gran))
		return rq->status;
	month = gran && !strcmp(gran, "month");
	if (day_range(rq, month ? 366 : 31, month ? 3660 : 400, &from, &to))
		return rq->status;
	rollup_day_str(from, a, sizeof(a));
	rollup_day_str(to, b, sizeof(b));
	if (month) {
		a[7] = b[7] = '\0';
		rc = db_run(rq->db, &q_usage_month, &r, id, a, b);
	} else {
		rc = db_run(rq->db, &q_usage_day, &r, id, a, b);
	}
	if (rc)
		return resp_fail(rq, rc);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "meter_id", (double)id);
	cJSON_AddStringToObject(o, "granularity", month ? "month" : "day");
	cJSON_AddStringToObject(o, "unit", strcmp(utility, "water") ? "Wh" : "L");
	cJSON_AddItemToObject(o, "items", db_rows_json(&r));
	db_res_release(&r);
	return resp_json(rq, 200, o);
}

/* ---------------------------------------------------------------- review */

#define REVIEW_FILTER                                                                              \
	" FROM meter_reading r JOIN meter m ON m.id = r.meter_id"                                  \
	" WHERE r.status = 'flagged' AND (? IS NULL OR m.community_id = ?) AND (? IS NULL OR "     \
	"r.flag_reason = ?)"

DB_QUERY(q_review_count) = {
    "reading_review_count",
    "SELECT COUNT(*)" REVIEW_FILTER,
    "LLss",
    "l",
};
/* the neighbours and the typical day let staff judge without another request */
DB_QUERY(q_review_page) = {
    "reading_review_page",
    "SELECT " READING_COLS ", m.meter_no, m.community_id, m.utility, m.digits, m.multiplier,"
    " (SELECT CONCAT(b.name, h.unit_no, '单元', h.room) FROM house h JOIN building b"
    "   ON b.id = h.building_id WHERE h.id = m.house_id) AS house_label,"
    " (SELECT p.read_at FROM meter_reading p WHERE p.meter_id = r.meter_id AND p.read_at < "
    "r.read_at"
    "   AND p.status IN ('ok', 'corrected') ORDER BY p.read_at DESC LIMIT 1) AS prev_read_at,"
    " (SELECT p.value FROM meter_reading p WHERE p.meter_id = r.meter_id AND p.read_at < r.read_at"
    "   AND p.status IN ('ok', 'corrected') ORDER BY p.read_at DESC LIMIT 1) AS prev_value,"
    " (SELECT n.read_at FROM meter_reading n WHERE n.meter_id = r.meter_id AND n.read_at > "
    "r.read_at"
    "   AND n.status IN ('ok', 'corrected') ORDER BY n.read_at ASC LIMIT 1) AS next_read_at,"
    " (SELECT n.value FROM meter_reading n WHERE n.meter_id = r.meter_id AND n.read_at > r.read_at"
    "   AND n.status IN ('ok', 'corrected') ORDER BY n.read_at ASC LIMIT 1) AS next_value,"
    " (SELECT CAST(ROUND(AVG(d.usage_total)) AS SIGNED) FROM meter_usage_daily d"
    "   WHERE d.meter_id = r.meter_id AND d.day >= DATE(r.read_at) - INTERVAL 90 DAY"
    "   AND d.day < DATE(r.read_at)) AS typical_daily_usage" REVIEW_FILTER
    " ORDER BY r.read_at DESC, r.meter_id LIMIT ? OFFSET ?",
    "LLssll",
    READING_SIG "slsllsslsll",
};

int admin_reading_review_list(struct req *rq)
{
	struct page pg;
	struct db_res cnt, rows = {0};
	int64_t cid_v;
	const int64_t *cid;
	const char *reason = req_query(rq, "reason");
	int rc;

	if (api_page(rq, &pg) || api_opt_id(rq, "community_id", &cid_v, &cid))
		return rq->status;
	if (reason && (!*reason || strlen(reason) > 64))
		reason = NULL;
	rc = db_run(rq->db, &q_review_count, &cnt, cid, cid, reason, reason);
	if (rc == XQ_OK)
		rc = db_run(rq->db, &q_review_page, &rows, cid, cid, reason, reason, pg.size,
		            pg.offset);
	return api_list_reply(rq, rc, &cnt, &rows, &pg);
}

struct review_in {
	struct jval value, rate[4], reason;
};

#define RVI(f) offsetof(struct review_in, f)
static const struct json_field correct_fields[] = {
    {"value", J_INT64, J_REQUIRED, RVI(value), 0, INT64_MAX / 4, NULL, "更正读数"},
    {"value_sharp", J_INT64, J_NULLABLE, RVI(rate[0]), 0, INT64_MAX / 4, NULL, "尖读数"},
    {"value_peak", J_INT64, J_NULLABLE, RVI(rate[1]), 0, INT64_MAX / 4, NULL, "峰读数"},
    {"value_flat", J_INT64, J_NULLABLE, RVI(rate[2]), 0, INT64_MAX / 4, NULL, "平读数"},
    {"value_valley", J_INT64, J_NULLABLE, RVI(rate[3]), 0, INT64_MAX / 4, NULL, "谷读数"},
    {"reason", J_STRING, J_REQUIRED, RVI(reason), 1, 200, NULL, "更正原因"},
};
static const struct json_field reject_fields[] = {
    {"reason", J_STRING, J_REQUIRED, RVI(reason), 1, 200, NULL, "作废原因"},
};
static const struct json_field approve_fields[] = {
    {"reason", J_STRING, 0, RVI(reason), 0, 200, NULL, "审核意见"},
};

struct review_job {
	struct req *rq;
	const char *action; /* approve, correct, reject */
	int64_t meter_id, at_ms;
	char at[32];
	struct review_in in;
	struct reading_out out; /* msg, warnings, key */
	cJSON *before, *after;
};

static int review_refuse(struct review_job *j, int rc, const char *field, const char *msg)
{
	snprintf(j->out.msg, sizeof(j->out.msg), "%s", msg);
	snprintf(j->out.field, sizeof(j->out.field), "%s", field);
	return rc;
}

static int review_tx(struct db *db, void *arg)
{
	struct review_job *j = arg;
	struct req *rq = j->rq;
	struct audit_actor who = {rq->who.staff_id, rq->who.username, rq->remote_addr, rq->rid};
	const char *status;
	char dedup[96];
	cJSON *audit_after;
	int rc;

	cJSON_Delete(j->before);
	cJSON_Delete(j->after);
	j->before = j->after = NULL;
	reading_out_release(&j->out);
	j->out.msg[0] = j->out.field[0] = '\0';
	if (!(j->before = row_load(db, j->meter_id, j->at, 1)))
		return review_refuse(j, XQ_ENOTFOUND, "", "读数不存在");
	status = cJSON_GetObjectItem(j->before, "status")->valuestring;
	if (!strcmp(j->action, "approve")) {
		if (strcmp(status, "flagged"))
			return review_refuse(j, XQ_ECONFLICT, "",
			                     "只有待审核（flagged）的读数可以审核通过");
		rc = db_run(db, &q_rd_set_status, NULL, "ok", j->meter_id, j->at);
	} else if (!strcmp(j->action, "reject")) {
		if (!strcmp(status, "rejected"))
			return review_refuse(j, XQ_ECONFLICT, "", "该读数已作废");
		rc = db_run(db, &q_rd_set_status, NULL, "rejected", j->meter_id, j->at);
	} else {
		struct meter_facts f;
		struct valid_out v;
		int has[4];
		int64_t rate[4];

		if (!strcmp(status, "rejected"))
			return review_refuse(j, XQ_ECONFLICT, "",
			                     "已作废的读数不能更正，请重新录入");
		if ((rc = meter_facts_lock(db, j->meter_id, &f)))
			return rc;
		for (int i = 0; i < 4; i++) {
			has[i] = j->in.rate[i].set && !j->in.rate[i].null;
			rate[i] = j->in.rate[i].i;
		}
		if ((rc = rates_check(&f, has, rate, j->in.value.i, &j->out)))
			return rc;
		if (j->in.value.i >= valid_modulus(f.digits))
			return review_refuse(j, XQ_EINVAL, "value", "更正读数超出表盘位数");
		/* staff decide, so the result is stored; what the rules think is shown */
		if ((rc = judge(db, rq->cfg, &f, j->at_ms, j->at, j->in.value.i, &j->out, &v)))
			return rc;
		rc = db_run(db, &q_rd_correct, NULL, j->in.value.i, has[0] ? &rate[0] : NULL,
		            has[1] ? &rate[1] : NULL, has[2] ? &rate[2] : NULL,
		            has[3] ? &rate[3] : NULL, &rq->who.staff_id, j->meter_id, j->at);
	}
	if (rc)
		return rc;
	if (!(j->after = row_load(db, j->meter_id, j->at, 0)))
		return XQ_EDB;
	snprintf(dedup, sizeof(dedup), "reading_flagged:%lld:%lld", (long long)j->meter_id,
	         (long long)(j->at_ms / 1000));
	if ((rc = db_run(db, &q_rd_alert_close, NULL, &rq->who.staff_id, dedup)))
		return rc;
	/* the before row keeps the original value; the reason travels with the after row */
	audit_after = cJSON_Duplicate(j->after, 1);
	if (j->in.reason.set)
		cJSON_AddStringToObject(audit_after, "review_reason", j->in.reason.s);
	rc = audit_write(db, &who, j->action, "meter_reading", j->meter_id, j->before, audit_after);
	cJSON_Delete(audit_after);
	j->out.key.meter_id = j->meter_id;
	j->out.key.day = rollup_day_of_ms(j->at_ms);
	return rc;
}

static int review(struct req *rq, const char *action, const struct json_field *fields, size_t n)
{
	struct review_job j = {.rq = rq, .action = action};
	cJSON *o;
	int rc;

	if (req_param_id(rq, "meter_id", &j.meter_id) || req_param_id(rq, "read_at", &j.at_ms))
		return resp_fail_msg(rq, XQ_ENOTFOUND, "读数不存在", NULL);
	memset(&j.in, 0, sizeof(j.in));
	if (rq->body.len > 0 || fields != approve_fields) {
		if (api_decode(rq, fields, n, &j.in))
			return rq->status;
	}
	valid_time_sql(j.at_ms, j.at, sizeof(j.at));
	rc = db_tx(rq->db, review_tx, &j);
	cJSON_Delete(j.before);
	if (rc) {
		cJSON_Delete(j.after);
		reading_out_release(&j.out);
		return j.out.msg[0] ? resp_fail_msg(rq, rc, j.out.msg, j.out.field)
		                    : resp_fail(rq, rc);
	}
	log_info("%s reading meter=%lld at=%s by '%s'", action, (long long)j.meter_id, j.at,
	         rq->who.username);
	reading_refresh(rq->db, &j.out.key, 1);
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "reading", j.after);
	cJSON_AddItemToObject(o, "warnings", j.out.warnings ? j.out.warnings : cJSON_CreateArray());
	j.out.warnings = NULL;
	return resp_json(rq, 200, o);
}

int admin_reading_approve(struct req *rq)
{
	return review(rq, "approve", approve_fields, XQ_ARRAY_LEN(approve_fields));
}

int admin_reading_correct(struct req *rq)
{
	return review(rq, "correct", correct_fields, XQ_ARRAY_LEN(correct_fields));
}

int admin_reading_reject(struct req *rq)
{
	return review(rq, "reject", reject_fields, XQ_ARRAY_LEN(reject_fields));
}
