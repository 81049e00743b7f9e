/*
 * admin_tariff.c - the console's tariffs: list and create tariffs, add
 * effective-dated versions (rules validated by tariff_parse() and stored
 * in canonical form), assign a tariff to houses in bulk, and preview what a
 * consumption would cost. The pricing itself is lib/billing.c.
 */
#include "audit.h"
#include "billing.h"
#include "billrun.h"
#include "crud.h"
#include "money.h"
#include "tariff.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- tariffs ---------------------------------------------------------- */

#define TARIFF_COLS "t.id, t.community_id, t.code, t.name, t.utility, t.customer_class, t.region," \
	" t.active, t.note, t.created_at, t.updated_at," \
	" (SELECT COUNT(*) FROM tariff_version v WHERE v.tariff_id = t.id) AS versions"
#define TARIFF_SIG "llsssssbsssl"
#define TARIFF_Q " WHERE (? = '' OR t.name LIKE ? OR t.code LIKE ?)"

DB_QUERY(q_tariff_get) = {
	"tariff_get", "SELECT " TARIFF_COLS " FROM tariff t WHERE t.id = ?", "l", TARIFF_SIG,
};
DB_QUERY(q_tariff_lock) = {
	"tariff_lock", "SELECT " TARIFF_COLS " FROM tariff t WHERE t.id = ? FOR UPDATE", "l",
	TARIFF_SIG,
};
DB_QUERY(q_tariff_count) = {
	"tariff_count", "SELECT COUNT(*) FROM tariff t" TARIFF_Q, "sss", "l",
};
DB_QUERY(q_tariff_page) = {
	"tariff_page", "SELECT " TARIFF_COLS " FROM tariff t" TARIFF_Q " ORDER BY t.id LIMIT ? OFFSET ?",
	"sssll", TARIFF_SIG,
};
DB_QUERY(q_tariff_insert) = {
	"tariff_insert",
	"INSERT INTO tariff (community_id, code, name, utility, customer_class, region, note)"
	" VALUES (?, ?, ?, ?, ?, ?, ?)",
	"Lssssss", NULL,
};
DB_QUERY(q_tariff_versions) = {
	"tariff_versions",
	"SELECT id, effective_from, status, rules, source_url, source_checked_on, created_by,"
	" published_at, created_at FROM tariff_version WHERE tariff_id = ? ORDER BY effective_from",
	"l", "lssjsslss",
};
DB_QUERY(q_version_get) = {
	"tariff_version_get",
	"SELECT id, tariff_id, effective_from, status, rules, source_url, source_checked_on,"
	" created_by, published_at, created_at FROM tariff_version WHERE id = ?",
	"l", "llssjsslss",
};
DB_QUERY(q_version_insert) = {
	"tariff_version_insert",
	"INSERT INTO tariff_version (tariff_id, effective_from, status, rules, source_url,"
	" source_checked_on, created_by, published_at)"
	" VALUES (?, ?, ?, ?, ?, ?, ?, CASE WHEN ? = 'published' THEN CURRENT_TIMESTAMP(3) END)",
	"lsssssls", NULL,
};
DB_QUERY(q_tariff_utility) = {
	"tariff_utility", "SELECT utility FROM tariff WHERE id = ?", "l", "s",
};
/* the version a preview prices with: in force on the period's first day */
DB_QUERY(q_version_in_force) = {
	"tariff_version_in_force",
	"SELECT id, rules FROM tariff_version WHERE tariff_id = ? AND status = 'published'"
	" AND effective_from <= ? ORDER BY effective_from DESC LIMIT 1",
	"ls", "lj",
};

static const struct crud_entity ent_tariff = {
	"tariff", "价格方案", &q_tariff_get, &q_tariff_lock, NULL,
	"所属小区不存在", "价格方案编号已存在", "价格方案仍被使用",
};
static const struct crud_entity ent_version = {
	"tariff_version", "价格版本", &q_version_get, &q_version_get, NULL,
	"价格方案不存在", "该价格方案在这一天已有版本", "价格版本仍被使用",
};

static const char *const utilities[] = { "electric", "water", NULL };
static const char *const classes[] = { "single", "shared", "commercial", NULL };
static const char *const version_statuses[] = { "draft", "published", NULL };

static const char *str_or(const struct jval *v, const char *def)
{
	return v->set && !v->null ? v->s : def;
}

int admin_tariff_list(struct req *rq)
{
	return api_list_by_q(rq, &q_tariff_count, &q_tariff_page);
}

int admin_tariff_get(struct req *rq)
{
	struct db_res r;
	int64_t id;
	cJSON *o;
	int rc;

	if (req_param_id(rq, "id", &id))
		return resp_fail_msg(rq, XQ_ENOTFOUND, "价格方案不存在", NULL);
	rc = crud_load_row(rq->db, &q_tariff_get, id, &o);
	if (rc == XQ_ENOTFOUND)
		return resp_fail_msg(rq, rc, "价格方案不存在", NULL);
	if (rc)
		return resp_fail(rq, rc);
	if ((rc = db_run(rq->db, &q_tariff_versions, &r, id))) {
		cJSON_Delete(o);
		return resp_fail(rq, rc);
	}
	cJSON_AddItemToObject(o, "version_list", db_rows_json(&r));
	db_res_release(&r);
	return resp_json(rq, 200, o);
}

struct tariff_in {
	struct jval community_id, code, name, utility, customer_class, region, note;
};

#define TI(f) offsetof(struct tariff_in, f)
static const struct json_field tariff_fields[] = {
	{ "community_id", J_INT64, J_NULLABLE, TI(community_id), 1, INT64_MAX, NULL, "所属小区" },
	{ "code", J_STRING, J_REQUIRED, TI(code), 1, 32, NULL, "方案编号" },
	{ "name", J_STRING, J_REQUIRED, TI(name), 1, 100, NULL, "方案名称" },
	{ "utility", J_ENUM, J_REQUIRED, TI(utility), 0, 0, utilities, "类别" },
	{ "customer_class", J_ENUM, 0, TI(customer_class), 0, 0, classes, "用户类别" },
	{ "region", J_STRING, 0, TI(region), 0, 32, NULL, "地区" },
	{ "note", J_STRING, 0, TI(note), 0, 255, NULL, "备注" },
};

static int tariff_apply(struct db *db, struct crud_op *op)
{
	struct tariff_in *in = op->in;
	int64_t cid = in->community_id.i;
	int rc;

	rc = db_run(db, &q_tariff_insert, NULL,
		    in->community_id.set && !in->community_id.null ? &cid : NULL, in->code.s,
		    in->name.s, in->utility.s, str_or(&in->customer_class, "single"),
		    str_or(&in->region, ""), str_or(&in->note, ""));
	op->id = db_insert_id(db);
	return rc;
}

int admin_tariff_create(struct req *rq)
{
	struct tariff_in in;
	struct crud_op op = { .rq = rq, .ent = &ent_tariff, .in = &in, .apply = tariff_apply,
			      .action = "create", .created_status = 201 };

	return crud_handle(&op, 0, tariff_fields, XQ_ARRAY_LEN(tariff_fields));
}

/* ---- versions --------------------------------------------------------- */

struct version_in {
	struct jval effective_from, rules, status, source_url, source_checked_on;
	int64_t tariff_id;
	char *canonical; /* tariff_to_json() of the parsed rules */
	enum tariff_utility utility;
};

#define VI(f) offsetof(struct version_in, f)
static const struct json_field version_fields[] = {
	{ "effective_from", J_DATE, J_REQUIRED, VI(effective_from), 0, 0, NULL, "生效日期" },
	{ "rules", J_RAW_OBJECT, J_REQUIRED, VI(rules), 1, 64, NULL, "价格规则" },
	{ "status", J_ENUM, 0, VI(status), 0, 0, version_statuses, "状态" },
	{ "source_url", J_STRING, 0, VI(source_url), 0, 255, NULL, "价格来源" },
	{ "source_checked_on", J_DATE, J_NULLABLE, VI(source_checked_on), 0, 0, NULL, "核对日期" },
};

static int version_apply(struct db *db, struct crud_op *op)
{
	struct version_in *in = op->in;
	struct db_res r;
	const char *status = str_or(&in->status, "published");
	int rc;

	if ((rc = db_run(db, &q_tariff_utility, &r, in->tariff_id)))
		return rc;
	if (r.nrows == 0) {
		db_res_release(&r);
		return crud_reject(op, XQ_ENOTFOUND, "", "价格方案不存在");
	}
	if (strcmp(db_str(&r, 0, 0), in->utility == TARIFF_ELECTRIC ? "electric" : "water")) {
		db_res_release(&r);
		return crud_reject(op, XQ_EINVAL, "rules", "价格规则的 utility 与价格方案的类别不一致");
	}
	db_res_release(&r);
	rc = db_run(db, &q_version_insert, NULL, in->tariff_id, in->effective_from.s, status,
		    in->canonical, str_or(&in->source_url, ""), str_or(&in->source_checked_on, NULL),
		    op->rq->who.staff_id, status);
	op->id = db_insert_id(db);
	return rc;
}

int admin_tariff_version_create(struct req *rq)
{
	struct version_in in;
	struct crud_op op = { .rq = rq, .ent = &ent_version, .in = &in, .apply = version_apply,
			      .action = "create", .created_status = 201 };
	struct tariff t;
	char err[256], *text;
	int rc;

	memset(&in, 0, sizeof(in));
	if (req_param_id(rq, "id", &in.tariff_id))
		return resp_fail_msg(rq, XQ_ENOTFOUND, "价格方案不存在", NULL);
	if (api_decode(rq, version_fields, XQ_ARRAY_LEN(version_fields), &in))
		return rq->status;
	/* the engine's own parser decides; its Chinese sentence names the JSON path */
	text = cJSON_PrintUnformatted(in.rules.raw);
	memset(&t, 0, sizeof(t));
	rc = tariff_parse(text, &t, err, sizeof(err));
	free(text);
	if (rc)
		return resp_fail_msg(rq, XQ_EINVAL, err, "rules");
	in.utility = t.utility;
	rc = tariff_to_json(&t, &in.canonical);
	tariff_release(&t);
	if (rc)
		return resp_fail(rq, rc);
	rc = crud_run(&op);
	free(in.canonical);
	return rc;
}

/* ---- assignments ------------------------------------------------------ */

DB_QUERY(q_assign_scope) = {
	"tariff_assign_scope",
	"INSERT INTO house_tariff (house_id, utility, tariff_id, valid_from, valid_to)"
	" SELECT h.id, ?, ?, ?, ? FROM house h JOIN building b ON b.id = h.building_id"
	" WHERE (? IS NULL OR b.community_id = ?) AND (? IS NULL OR h.building_id = ?)",
	"slssLLLL", NULL,
};
DB_QUERY(q_assign_house) = {
	"tariff_assign_house",
	"INSERT INTO house_tariff (house_id, utility, tariff_id, valid_from, valid_to)"
	" VALUES (?, ?, ?, ?, ?)",
	"lslss", NULL,
};

struct assign_in {
	struct jval tariff_id, utility, valid_from, valid_to, community_id, building_id, house_ids;
	struct req *rq;
	int64_t houses;
	char msg[160], field[32];
};

#define AI(f) offsetof(struct assign_in, f)
static const struct json_field assign_fields[] = {
	{ "tariff_id", J_INT64, J_REQUIRED, AI(tariff_id), 1, INT64_MAX, NULL, "价格方案" },
	{ "utility", J_ENUM, 0, AI(utility), 0, 0, utilities, "类别" },
	{ "valid_from", J_DATE, J_REQUIRED, AI(valid_from), 0, 0, NULL, "起始日期" },
	{ "valid_to", J_DATE, J_NULLABLE, AI(valid_to), 0, 0, NULL, "截止日期" },
	{ "community_id", J_INT64, 0, AI(community_id), 1, INT64_MAX, NULL, "小区" },
	{ "building_id", J_INT64, 0, AI(building_id), 1, INT64_MAX, NULL, "楼栋" },
	{ "house_ids", J_RAW_ARRAY, 0, AI(house_ids), 1, 10000, NULL, "房屋" },
};

static int assign_tx(struct db *db, void *arg)
{
	struct assign_in *in = arg;
	struct audit_actor who = { in->rq->who.staff_id, in->rq->who.username,
				   in->rq->remote_addr, in->rq->rid };
	struct db_res r;
	const char *to = str_or(&in->valid_to, NULL), *utility;
	char ut[16];
	cJSON *after;
	int rc;

	in->houses = 0;
	in->msg[0] = in->field[0] = '\0';
	if ((rc = db_run(db, &q_tariff_utility, &r, in->tariff_id.i)))
		return rc;
	if (r.nrows == 0) {
		db_res_release(&r);
		xq_snprintf(in->msg, sizeof(in->msg), "价格方案不存在");
		xq_snprintf(in->field, sizeof(in->field), "tariff_id");
		return XQ_EINVAL;
	}
	xq_snprintf(ut, sizeof(ut), "%s", db_str(&r, 0, 0));
	db_res_release(&r);
	utility = ut;
	if (!strcmp(utility, "ev") || (in->utility.set && strcmp(in->utility.s, utility))) {
		xq_snprintf(in->msg, sizeof(in->msg), "价格方案的类别（%s）与 utility 不一致", ut);
		xq_snprintf(in->field, sizeof(in->field), "utility");
		return XQ_EINVAL;
	}
	if (in->house_ids.set) {
		const cJSON *it;
		cJSON_ArrayForEach(it, in->house_ids.raw) {
			if (!cJSON_IsNumber(it) || it->valuedouble < 1 ||
			    it->valuedouble != (double)(int64_t)it->valuedouble) {
				xq_snprintf(in->msg, sizeof(in->msg), "房屋（house_ids）必须是房屋编号的数组");
				xq_snprintf(in->field, sizeof(in->field), "house_ids");
				return XQ_EINVAL;
			}
			if ((rc = db_run(db, &q_assign_house, NULL, (int64_t)it->valuedouble, utility,
					 in->tariff_id.i, in->valid_from.s, to)))
				return rc;
			in->houses++;
		}
	} else {
		const int64_t *cid = in->community_id.set ? &in->community_id.i : NULL;
		const int64_t *bid = in->building_id.set ? &in->building_id.i : NULL;
		if ((rc = db_run(db, &q_assign_scope, NULL, utility, in->tariff_id.i, in->valid_from.s,
				 to, cid, cid, bid, bid)))
			return rc;
		in->houses = db_affected(db);
	}
	after = cJSON_CreateObject();
	cJSON_AddNumberToObject(after, "tariff_id", (double)in->tariff_id.i);
	cJSON_AddStringToObject(after, "utility", utility);
	cJSON_AddStringToObject(after, "valid_from", in->valid_from.s);
	if (to)
		cJSON_AddStringToObject(after, "valid_to", to);
	if (in->community_id.set)
		cJSON_AddNumberToObject(after, "community_id", (double)in->community_id.i);
	if (in->building_id.set)
		cJSON_AddNumberToObject(after, "building_id", (double)in->building_id.i);
	if (in->house_ids.set)
		cJSON_AddItemToObject(after, "house_ids", cJSON_Duplicate(in->house_ids.raw, 1));
	cJSON_AddNumberToObject(after, "houses", (double)in->houses);
	rc = audit_write(db, &who, "assign", "house_tariff", in->tariff_id.i, NULL, after);
	cJSON_Delete(after);
	return rc;
}

int admin_tariff_assign(struct req *rq)
{
	struct assign_in in;
	cJSON *o;
	int scopes, rc;

	memset(&in, 0, sizeof(in));
	in.rq = rq;
	if (api_decode(rq, assign_fields, XQ_ARRAY_LEN(assign_fields), &in))
		return rq->status;
	scopes = in.community_id.set + in.building_id.set + in.house_ids.set;
	if (scopes != 1)
		return resp_fail_msg(rq, XQ_EINVAL,
				     "community_id、building_id、house_ids 必须且只能给出一个",
				     "community_id");
	rc = db_tx(rq->db, assign_tx, &in);
	if (rc == XQ_ECONFLICT)
		return resp_fail_msg(rq, rc, "部分房屋在该起始日期已有同类价格方案", "valid_from");
	if (rc == XQ_EINVAL && !in.msg[0])
		return resp_fail_msg(rq, rc, "房屋或价格方案不存在", "house_ids");
	if (rc)
		return resp_fail_msg(rq, rc, in.msg[0] ? in.msg : NULL, in.field);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "tariff_id", (double)in.tariff_id.i);
	cJSON_AddStringToObject(o, "valid_from", in.valid_from.s);
	cJSON_AddNumberToObject(o, "houses", (double)in.houses);
	return resp_json(rq, 201, o);
}

/* ---- preview ---------------------------------------------------------- */

struct preview_in {
	struct jval rules, tariff_id, period, qty_kwh, qty_m3, sharp, peak, flat, valley,
		household_size, ytd, multiplier;
};

#define PI(f) offsetof(struct preview_in, f)
#define QTY_MAX 100000000000LL /* 10^9 units in hundredths */
static const struct json_field preview_fields[] = {
	{ "rules", J_RAW_OBJECT, 0, PI(rules), 1, 64, NULL, "价格规则" },
	{ "tariff_id", J_INT64, 0, PI(tariff_id), 1, INT64_MAX, NULL, "价格方案" },
	{ "period", J_STRING, 0, PI(period), 7, 7, NULL, "账期" },
	{ "qty_kwh", J_DEC2, 0, PI(qty_kwh), 0, QTY_MAX, NULL, "用电量" },
	{ "qty_m3", J_DEC2, 0, PI(qty_m3), 0, QTY_MAX, NULL, "用水量" },
	{ "sharp", J_DEC2, 0, PI(sharp), 0, QTY_MAX, NULL, "尖峰电量" },
	{ "peak", J_DEC2, 0, PI(peak), 0, QTY_MAX, NULL, "峰时电量" },
	{ "flat", J_DEC2, 0, PI(flat), 0, QTY_MAX, NULL, "平时电量" },
	{ "valley", J_DEC2, 0, PI(valley), 0, QTY_MAX, NULL, "谷时电量" },
	{ "household_size", J_INT64, 0, PI(household_size), 0, BILLING_HOUSEHOLD_MAX, NULL, "家庭人口" },
	{ "ytd", J_DEC2, 0, PI(ytd), 0, QTY_MAX, NULL, "本年度已用量" },
	{ "multiplier", J_INT64, 0, PI(multiplier), 1, BILLING_MULTIPLIER_MAX, NULL, "倍率" },
};

int admin_tariff_preview(struct req *rq)
{
	struct preview_in in;
	struct tariff t;
	struct billing_version v;
	struct billing_input bi;
	struct billing_result res;
	struct db_res r = { 0 };
	char err[256], *text = NULL, period[8], a[24], e[24], yuan[MONEY_STR_MAX];
	const struct jval *regs[TARIFF_PERIODS_MAX] = { &in.sharp, &in.peak, &in.flat, &in.valley };
	int y, m, rc, any_reg = 0;
	int32_t f, l;
	cJSON *o, *lines;

	memset(&in, 0, sizeof(in));
	if (api_decode(rq, preview_fields, XQ_ARRAY_LEN(preview_fields), &in))
		return rq->status;
	if (in.rules.set == in.tariff_id.set)
		return resp_fail_msg(rq, XQ_EINVAL, "rules 和 tariff_id 必须且只能给出一个", "rules");
	if (in.period.set) {
		xq_snprintf(period, sizeof(period), "%s", in.period.s);
	} else {
		/* default: this month in Asia/Shanghai */
		int yy, mm, dd;
		billing_civil((int32_t)((xq_now_ms() / 1000 + 8 * 3600) / 86400), &yy, &mm, &dd);
		xq_snprintf(period, sizeof(period), "%04d-%02d", yy, mm);
	}
	if (billrun_period(period, &y, &m, &f, &l, a, e))
		return resp_fail_msg(rq, XQ_EINVAL, "账期必须是 YYYY-MM 格式的月份", "period");
	memset(&v, 0, sizeof(v));
	if (in.rules.set) {
		text = cJSON_PrintUnformatted(in.rules.raw);
	} else {
		char d[16];
		int yy, mm, dd;
		billing_civil(f, &yy, &mm, &dd);
		xq_snprintf(d, sizeof(d), "%04d-%02d-%02d", yy, mm, dd);
		if ((rc = db_run(rq->db, &q_version_in_force, &r, in.tariff_id.i, d)))
			return resp_fail(rq, rc);
		if (r.nrows == 0) {
			db_res_release(&r);
			return resp_fail_msg(rq, XQ_ENOTFOUND, "该价格方案在此账期没有已发布的版本",
					     "tariff_id");
		}
		v.version_id = db_i64(&r, 0, 0);
		text = xq_strdup(db_str(&r, 0, 1));
		db_res_release(&r);
	}
	memset(&t, 0, sizeof(t));
	rc = tariff_parse(text, &t, err, sizeof(err));
	free(text);
	if (rc)
		return resp_fail_msg(rq, XQ_EINVAL, err, "rules");
	v.tariff = &t;
	v.effective_day = f;
	memset(&bi, 0, sizeof(bi));
	bi.versions = &v;
	bi.n_versions = 1;
	bi.bill_year = y;
	bi.bill_month = m;
	bi.first_day = f;
	bi.last_day = l;
	bi.multiplier = in.multiplier.set ? in.multiplier.i : 1;
	bi.household_size = (int)in.household_size.i;
	/* J_DEC2 gives hundredths of a unit; the engine counts thousandths */
	bi.ytd_before_milli = in.ytd.i * 10;
	for (int k = 0; k < TARIFF_PERIODS_MAX; k++)
		if (regs[k]->set) {
			bi.period_raw_milli[k] = regs[k]->i * 10;
			any_reg = 1;
		}
	if (!any_reg)
		bi.total_raw_milli = (t.utility == TARIFF_WATER ? in.qty_m3.i : in.qty_kwh.i) * 10;
	rc = billing_compute(&bi, &res, err, sizeof(err));
	tariff_release(&t);
	if (rc)
		return resp_fail_msg(rq, rc, rc == XQ_EINVAL ? err : NULL, "rules");
	o = cJSON_CreateObject();
	lines = cJSON_AddArrayToObject(o, "lines");
	for (size_t i = 0; i < res.n_lines; i++) {
		const struct bill_line *bl = &res.lines[i];
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "kind", bl->kind);
		cJSON_AddNumberToObject(j, "tier", bl->tier);
		cJSON_AddStringToObject(j, "period", bl->period);
		cJSON_AddStringToObject(j, "component", bl->component);
		cJSON_AddStringToObject(j, "label_zh", bl->label_zh);
		cJSON_AddNumberToObject(j, "qty_milli", (double)bl->qty_milli);
		cJSON_AddNumberToObject(j, "price_hao", (double)bl->price_hao);
		cJSON_AddNumberToObject(j, "amount_fen", (double)bl->amount_fen);
		cJSON_AddStringToObject(j, "rule", bl->rule);
		cJSON_AddItemToArray(lines, j);
	}
	money_format_yuan(res.total_fen, yuan, sizeof(yuan));
	cJSON_AddStringToObject(o, "period", period);
	cJSON_AddNumberToObject(o, "qty_milli", (double)res.qty_milli);
	cJSON_AddNumberToObject(o, "total_fen", (double)res.total_fen);
	cJSON_AddStringToObject(o, "total_yuan", yuan);
	if (v.version_id)
		cJSON_AddNumberToObject(o, "tariff_version_id", (double)v.version_id);
	billing_result_release(&res);
	return resp_json(rq, 200, o);
}
