/*
 * alerts.c - the abnormal-usage detectors of alerts.h and the staff
 * notification of critical alerts. Every detector is one aggregate query
 * over meter_usage_daily (or, for night flow, a three-hour primary-key
 * range of meter_reading per water meter), then one insert per finding.
 */
#include "alerts.h"
#include "billing.h"
#include "config.h"
#include "db.h"
#include "dunning.h"
#include "log.h"
#include "wxmsg.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RULES 256

DB_QUERY(q_rules) = {
	"alerts_rules",
	"SELECT COALESCE(community_id, 0), kind, level, params, enabled FROM alert_rule", "", "lssjb",
};
DB_QUERY(q_open) = {
	"alerts_open",
	"SELECT COUNT(*) FROM alert WHERE kind = ? AND COALESCE(meter_id, 0) = ?"
	" AND COALESCE(house_id, 0) = ? AND status <> 'closed'",
	"sll", "l",
};
DB_QUERY(q_raise) = {
	"alerts_raise",
	"INSERT INTO alert (community_id, kind, level, meter_id, house_id, message, detail, dedup_key)"
	" VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	"lssLLsss", NULL,
};
DB_QUERY(q_notify) = {
	"alerts_notify",
	"INSERT INTO staff_notification (community_id, alert_id, message) VALUES (?, ?, ?)", "lls", NULL,
};
DB_QUERY(q_notify_wx) = {
	"alerts_notify_wx", "UPDATE staff_notification SET wx_sent = ? WHERE id = ?", "ll", NULL,
};
DB_QUERY(q_staff_openids) = {
	"alerts_staff_openids",
	"SELECT u.openid FROM wx_user u JOIN staff_user s ON s.id = u.staff_id WHERE s.active = 1"
	" ORDER BY u.id",
	"", "s",
};

/* Meter usage on day y against its own previous 30 days (rows that exist). */
DB_QUERY(q_spike) = {
	"alerts_spike",
	"SELECT m.id, m.community_id, COALESCE(m.house_id, 0), m.utility, d.usage_total,"
	" COALESCE(SUM(p.usage_total), 0), COUNT(p.day) FROM meter_usage_daily d"
	" JOIN meter m ON m.id = d.meter_id AND m.kind = 'household' AND m.status = 'active'"
	" LEFT JOIN meter_usage_daily p ON p.meter_id = d.meter_id"
	" AND p.day >= DATE_SUB(?, INTERVAL 30 DAY) AND p.day < ?"
	" WHERE d.day = ? GROUP BY m.id, m.community_id, m.house_id, m.utility, d.usage_total",
	"sss", "lllsll" "l",
};
/* Occupied houses whose meter has a row on each of the n days and used nothing. */
DB_QUERY(q_zero) = {
	"alerts_zero",
	"SELECT m.id, m.community_id, m.house_id, m.utility FROM meter m"
	" JOIN house h ON h.id = m.house_id AND h.status = 'occupied'"
	" JOIN meter_usage_daily d ON d.meter_id = m.id AND d.day BETWEEN ? AND ?"
	" WHERE m.kind = 'household' AND m.status = 'active'"
	" GROUP BY m.id, m.community_id, m.house_id, m.utility"
	" HAVING COUNT(*) = ? AND SUM(d.usage_total) = 0",
	"ssl", "llls",
};
DB_QUERY(q_vacant) = {
	"alerts_vacant",
	"SELECT m.id, m.community_id, m.house_id, m.utility, d.usage_total FROM meter m"
	" JOIN house h ON h.id = m.house_id AND h.status = 'vacant'"
	" JOIN meter_usage_daily d ON d.meter_id = m.id AND d.day = ?"
	" WHERE m.kind = 'household' AND m.status = 'active' AND d.usage_total > 0",
	"s", "lllsl",
};
/*
 * Night flow: the register steps of each water meter between 02:00 and
 * 05:00 Beijing time (18:00-21:00 UTC the evening before).
 */
DB_QUERY(q_night) = {
	"alerts_night",
	"SELECT x.meter_id, MAX(x.community_id), MAX(x.house_id), COUNT(*), SUM(x.d > 0), SUM(x.d)"
	" FROM (SELECT r.meter_id, m.community_id, COALESCE(m.house_id, 0) AS house_id,"
	" r.value - LAG(r.value) OVER (PARTITION BY r.meter_id ORDER BY r.read_at) AS d"
	" FROM meter m JOIN meter_reading r ON r.meter_id = m.id AND r.read_at >= ? AND r.read_at <= ?"
	" AND r.status IN ('ok', 'corrected')"
	" WHERE m.utility = 'water' AND m.kind = 'household' AND m.status = 'active') x"
	" WHERE x.d IS NOT NULL GROUP BY x.meter_id",
	"ss", "llllll",
};
DB_QUERY(q_loss) = {
	"alerts_loss",
	"SELECT s.id, s.community_id, s.utility, d.usage_total, COUNT(c.id), COUNT(cd.meter_id),"
	" COALESCE(SUM(cd.usage_total), 0) FROM meter s"
	" JOIN meter_usage_daily d ON d.meter_id = s.id AND d.day = ?"
	" JOIN meter c ON c.parent_meter_id = s.id AND c.status = 'active'"
	" LEFT JOIN meter_usage_daily cd ON cd.meter_id = c.id AND cd.day = ?"
	" WHERE s.kind = 'supply' AND s.status = 'active'"
	" GROUP BY s.id, s.community_id, s.utility, d.usage_total",
	"ss", "llsllll",
};

struct rule {
	int64_t community_id;
	char kind[32], level[12];
	cJSON *params;
	int enabled;
};

struct ctx {
	struct db *db;
	const struct config *cfg;
	struct alerts_summary *s;
	struct rule rules[MAX_RULES];
	size_t nrules;
	char ydate[11];
};

static const struct rule *rule_for(const struct ctx *c, const char *kind, int64_t community_id)
{
	const struct rule *def = NULL;

	for (size_t i = 0; i < c->nrules; i++) {
		if (strcmp(c->rules[i].kind, kind))
			continue;
		if (c->rules[i].community_id == community_id)
			return c->rules[i].enabled ? &c->rules[i] : NULL;
		if (c->rules[i].community_id == 0)
			def = &c->rules[i];
	}
	return def && def->enabled ? def : NULL;
}

static int64_t param(const struct rule *r, const char *k, int64_t def)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(r->params, k);
	return cJSON_IsNumber(it) ? (int64_t)it->valuedouble : def;
}

static void notify_staff(struct ctx *c, int64_t community_id, int64_t alert_id, const char *msg)
{
	struct db_res ids;
	int64_t nid, sent = 0;

	if (db_run(c->db, &q_notify, NULL, community_id, alert_id, msg))
		return;
	nid = db_insert_id(c->db);
	c->s->notifications++;
	if (!c->cfg->dunning_tpl_alert || !*c->cfg->dunning_tpl_alert)
		return;
	if (db_run(c->db, &q_staff_openids, &ids))
		return;
	for (size_t i = 0; i < ids.nrows; i++) {
		struct wxmsg_result res;
		cJSON *data = cJSON_CreateObject(), *v;
		char thing[64];

		/* thing1: what (<= 20 characters), time2: when */
		xq_snprintf(thing, sizeof(thing), "%.48s", msg);
		v = cJSON_CreateObject();
		cJSON_AddStringToObject(v, "value", "严重告警，请查看控制台");
		cJSON_AddItemToObject(data, "thing1", v);
		v = cJSON_CreateObject();
		cJSON_AddStringToObject(v, "value", c->ydate);
		cJSON_AddItemToObject(data, "date2", v);
		if (wxmsg_subscribe_send(c->db, c->cfg, db_str(&ids, i, 0), c->cfg->dunning_tpl_alert,
					 NULL, data, &res) == XQ_OK)
			sent++;
		cJSON_Delete(data);
	}
	db_res_release(&ids);
	db_run(c->db, &q_notify_wx, NULL, sent, nid);
}

/* Raises one alert unless one is open for the subject or the key exists. */
static int alert_raise(struct ctx *c, const struct rule *r, int idx, int64_t community_id,
		 int64_t meter_id, int64_t house_id, const char *msg, cJSON *detail)
{
	struct db_res open;
	char key[96], *dj;
	int rc;

	if ((rc = db_run(c->db, &q_open, &open, r->kind, meter_id, house_id))) {
		cJSON_Delete(detail);
		return rc;
	}
	if (db_i64(&open, 0, 0) > 0) {
		db_res_release(&open);
		cJSON_Delete(detail);
		return XQ_OK;
	}
	db_res_release(&open);
	xq_snprintf(key, sizeof(key), "%s:%" PRId64 ":%" PRId64 ":%s", r->kind, meter_id, house_id,
		    c->ydate);
	cJSON_AddStringToObject(detail, "day", c->ydate);
	dj = cJSON_PrintUnformatted(detail);
	cJSON_Delete(detail);
	rc = db_run(c->db, &q_raise, NULL, community_id, r->kind, r->level, meter_id ? &meter_id : NULL,
		    house_id ? &house_id : NULL, msg, dj, key);
	free(dj);
	if (rc == XQ_ECONFLICT)
		return XQ_OK;
	if (rc)
		return rc;
	c->s->raised++;
	c->s->by_kind[idx]++;
	if (!strcmp(r->level, "critical")) {
		c->s->critical++;
		notify_staff(c, community_id, db_insert_id(c->db), msg);
	}
	return XQ_OK;
}

static const char *unit(const char *utility)
{
	return !strcmp(utility, "water") ? "L" : "Wh";
}

static int spike(struct ctx *c)
{
	struct db_res res;
	int rc;

	if ((rc = db_run(c->db, &q_spike, &res, c->ydate, c->ydate, c->ydate)))
		return rc;
	for (size_t i = 0; i < res.nrows && rc == XQ_OK; i++) {
		int64_t mid = db_i64(&res, i, 0), cid = db_i64(&res, i, 1), hid = db_i64(&res, i, 2);
		const char *u = db_str(&res, i, 3);
		int64_t use = db_i64(&res, i, 4), sum = db_i64(&res, i, 5), n = db_i64(&res, i, 6);
		const struct rule *r = rule_for(c, "usage_spike", cid);
		int64_t factor, floor;
		char msg[200];
		cJSON *d;

		if (!r || n < param(r, "min_history_days", 7) || n <= 0)
			continue;
		factor = param(r, "factor_pct", 300);
		floor = param(r, !strcmp(u, "water") ? "min_l" : "min_wh", 2000);
		/* use > factor% of the mean: use * 100 * n > factor * sum, in integers */
		if (use < floor || (__int128)use * 100 * n <= (__int128)factor * sum)
			continue;
		xq_snprintf(msg, sizeof(msg), "用量突增：表 %" PRId64 " %s 用量 %" PRId64 " %s，为近 %"
			    PRId64 " 天均值 %" PRId64 " %s 的 %" PRId64 "%%", mid, c->ydate, use, unit(u),
			    n, sum / n, unit(u), sum ? use * 100 * n / sum : 0);
		d = cJSON_CreateObject();
		cJSON_AddNumberToObject(d, "usage", (double)use);
		cJSON_AddNumberToObject(d, "mean", (double)(sum / n));
		cJSON_AddNumberToObject(d, "history_days", (double)n);
		cJSON_AddNumberToObject(d, "factor_pct", (double)factor);
		rc = alert_raise(c, r, 0, cid, mid, hid, msg, d);
	}
	db_res_release(&res);
	return rc;
}

static int zero(struct ctx *c, int32_t yday)
{
	int rc = XQ_OK;

	/* the day count can differ per community: run the query once per distinct value */
	int64_t seen[16];
	size_t ns = 0;
	for (size_t k = 0; k < c->nrules && rc == XQ_OK; k++) {
		struct db_res res;
		char from[11];
		int64_t days;
		int dup = 0;

		if (strcmp(c->rules[k].kind, "zero_use") || !c->rules[k].enabled)
			continue;
		days = param(&c->rules[k], "days", 3);
		for (size_t j = 0; j < ns; j++)
			dup |= seen[j] == days;
		if (dup || days < 1 || days > 365 || ns >= 16)
			continue;
		seen[ns++] = days;
		daily_date_text(yday - (int32_t)days + 1, from);
		if ((rc = db_run(c->db, &q_zero, &res, from, c->ydate, days)))
			break;
		for (size_t i = 0; i < res.nrows && rc == XQ_OK; i++) {
			int64_t mid = db_i64(&res, i, 0), cid = db_i64(&res, i, 1), hid = db_i64(&res, i, 2);
			const struct rule *r = rule_for(c, "zero_use", cid);
			char msg[200];
			cJSON *d;

			if (!r || param(r, "days", 3) != days)
				continue;
			xq_snprintf(msg, sizeof(msg), "零用量：入住房屋的表 %" PRId64 " 连续 %" PRId64
				    " 天（至 %s）用量为 0", mid, days, c->ydate);
			d = cJSON_CreateObject();
			cJSON_AddNumberToObject(d, "days", (double)days);
			cJSON_AddStringToObject(d, "utility", db_str(&res, i, 3));
			rc = alert_raise(c, r, 1, cid, mid, hid, msg, d);
		}
		db_res_release(&res);
	}
	return rc;
}

static int vacant(struct ctx *c)
{
	struct db_res res;
	int rc;

	if ((rc = db_run(c->db, &q_vacant, &res, c->ydate)))
		return rc;
	for (size_t i = 0; i < res.nrows && rc == XQ_OK; i++) {
		int64_t mid = db_i64(&res, i, 0), cid = db_i64(&res, i, 1), hid = db_i64(&res, i, 2);
		const char *u = db_str(&res, i, 3);
		int64_t use = db_i64(&res, i, 4);
		const struct rule *r = rule_for(c, "usage_while_vacant", cid);
		char msg[200];
		cJSON *d;

		if (!r || use < param(r, !strcmp(u, "water") ? "min_l" : "min_wh", 500))
			continue;
		xq_snprintf(msg, sizeof(msg), "空置房屋有用量：表 %" PRId64 " %s 用量 %" PRId64 " %s", mid,
			    c->ydate, use, unit(u));
		d = cJSON_CreateObject();
		cJSON_AddNumberToObject(d, "usage", (double)use);
		rc = alert_raise(c, r, 2, cid, mid, hid, msg, d);
	}
	db_res_release(&res);
	return rc;
}

static int leak(struct ctx *c, int32_t yday)
{
	struct db_res res;
	char from[24], to[24], prev[11];
	int rc;

	/* 02:00-05:00 Beijing on day y is 18:00-21:00 UTC on y - 1 */
	daily_date_text(yday - 1, prev);
	xq_snprintf(from, sizeof(from), "%s 18:00:00", prev);
	xq_snprintf(to, sizeof(to), "%s 21:00:00", prev);
	if ((rc = db_run(c->db, &q_night, &res, from, to)))
		return rc;
	for (size_t i = 0; i < res.nrows && rc == XQ_OK; i++) {
		int64_t mid = db_i64(&res, i, 0), cid = db_i64(&res, i, 1), hid = db_i64(&res, i, 2);
		int64_t steps = db_i64(&res, i, 3), rising = db_i64(&res, i, 4), flow = db_i64(&res, i, 5);
		const struct rule *r = rule_for(c, "water_leak", cid);
		char msg[200];
		cJSON *d;

		/* every interval of the night shows flow: nobody runs water all night */
		if (!r || steps + 1 < param(r, "min_readings", 3) || rising != steps ||
		    flow < param(r, "min_l", 5))
			continue;
		xq_snprintf(msg, sizeof(msg), "疑似漏水：水表 %" PRId64 " %s 凌晨 2-5 点持续走字，共 %" PRId64
			    " L", mid, c->ydate, flow);
		d = cJSON_CreateObject();
		cJSON_AddNumberToObject(d, "night_l", (double)flow);
		cJSON_AddNumberToObject(d, "intervals", (double)steps);
		rc = alert_raise(c, r, 3, cid, mid, hid, msg, d);
	}
	db_res_release(&res);
	return rc;
}

static int loss(struct ctx *c)
{
	struct db_res res;
	int rc;

	if ((rc = db_run(c->db, &q_loss, &res, c->ydate, c->ydate)))
		return rc;
	for (size_t i = 0; i < res.nrows && rc == XQ_OK; i++) {
		int64_t mid = db_i64(&res, i, 0), cid = db_i64(&res, i, 1);
		const char *u = db_str(&res, i, 2);
		int64_t sup = db_i64(&res, i, 3), subs = db_i64(&res, i, 4), have = db_i64(&res, i, 5);
		int64_t sum = db_i64(&res, i, 6), lost, pct_x100;
		const struct rule *r = rule_for(c, "line_loss", cid);
		char msg[200];
		cJSON *d;

		/* a sub-meter without a row that day would look like loss: judge complete days only */
		if (!r || have != subs || sup <= 0 || sup < param(r, "min_wh", 10000))
			continue;
		lost = sup - sum;
		pct_x100 = lost * 10000 / sup;
		if (pct_x100 <= param(r, "loss_pct_x100", 1000))
			continue;
		xq_snprintf(msg, sizeof(msg), "线损超限：总表 %" PRId64 " %s 供 %" PRId64 " %s，分表合计 %"
			    PRId64 "，损耗 %" PRId64 ".%02" PRId64 "%%", mid, c->ydate, sup, unit(u), sum,
			    pct_x100 / 100, pct_x100 % 100);
		d = cJSON_CreateObject();
		cJSON_AddNumberToObject(d, "supply", (double)sup);
		cJSON_AddNumberToObject(d, "sub_sum", (double)sum);
		cJSON_AddNumberToObject(d, "sub_meters", (double)subs);
		cJSON_AddNumberToObject(d, "loss_pct_x100", (double)pct_x100);
		rc = alert_raise(c, r, 4, cid, mid, 0, msg, d);
	}
	db_res_release(&res);
	return rc;
}

int alerts_detect(struct db *db, const struct config *cfg, int32_t day, struct alerts_summary *s)
{
	struct ctx *c = xq_calloc(1, sizeof(*c));
	struct db_res res;
	int rc;

	memset(s, 0, sizeof(*s));
	c->db = db;
	c->cfg = cfg;
	c->s = s;
	daily_date_text(day - 1, c->ydate);
	if ((rc = db_run(db, &q_rules, &res))) {
		free(c);
		return rc;
	}
	for (size_t i = 0; i < res.nrows && c->nrules < MAX_RULES; i++) {
		struct rule *r = &c->rules[c->nrules++];
		r->community_id = db_i64(&res, i, 0);
		xq_snprintf(r->kind, sizeof(r->kind), "%s", db_str(&res, i, 1));
		xq_snprintf(r->level, sizeof(r->level), "%s", db_str(&res, i, 2));
		r->params = cJSON_Parse(db_str(&res, i, 3) ? db_str(&res, i, 3) : "{}");
		r->enabled = (int)db_i64(&res, i, 4);
	}
	db_res_release(&res);
	rc = spike(c);
	if (rc == XQ_OK)
		rc = zero(c, day - 1);
	if (rc == XQ_OK)
		rc = vacant(c);
	if (rc == XQ_OK)
		rc = leak(c, day - 1);
	if (rc == XQ_OK)
		rc = loss(c);
	for (size_t i = 0; i < c->nrules; i++)
		cJSON_Delete(c->rules[i].params);
	free(c);
	return rc;
}
