/*
 * demo.c - `xqctl demo`: one plausible community (阳光花园, DEMO01) with
 * buildings, houses, residents, household and supply meters and months of
 * readings, so the console, the mini-program and the billing run have data.
 * It writes only estate, meter and reading rows: tariffs, bills and money
 * come from the real code paths. Every value goes through a placeholder.
 */
#include "demo.h"
#include "db.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEMO_CODE "DEMO01"
#define MAX_HOUSES 1000
#define MAX_MONTHS 24
#define CST_OFFSET_S (8 * 3600) /* Asia/Shanghai, no daylight saving */

/* ---- queries ---------------------------------------------------------- */

DB_QUERY(q_community_find) = {
	"demo_community_find", "SELECT id FROM community WHERE code = ?", "s", "l",
};
DB_QUERY(q_community_ins) = {
	"demo_community_ins",
	"INSERT INTO community (code, name, address, company) VALUES (?, ?, ?, ?)", "ssss", NULL,
};
DB_QUERY(q_building_ins) = {
	"demo_building_ins",
	"INSERT INTO building (community_id, name, floors, units) VALUES (?, ?, ?, ?)", "lsii", NULL,
};
DB_QUERY(q_house_ins) = {
	"demo_house_ins",
	"INSERT INTO house (building_id, unit_no, room, floor, area_m2, status, household_size)"
	" VALUES (?, ?, ?, ?, ?, ?, ?)",
	"lssissi", NULL,
};
DB_QUERY(q_resident_ins) = {
	"demo_resident_ins",
	"INSERT INTO resident (community_id, code, name, phone, mobile, credit_rating)"
	" VALUES (?, ?, ?, ?, ?, ?)",
	"lssssi", NULL,
};
DB_QUERY(q_house_resident_ins) = {
	"demo_house_resident_ins",
	"INSERT INTO house_resident (house_id, resident_id, relation, move_in) VALUES (?, ?, ?, ?)",
	"llss", NULL,
};
DB_QUERY(q_meter_ins) = {
	"demo_meter_ins",
	"INSERT INTO meter (community_id, house_id, parent_meter_id, utility, kind, meter_no, model,"
	" digits, multiplier, protocol, address, smart, has_relay, installed_at, initial_reading)"
	" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	"lLLssssiissiisl", NULL,
};

DB_QUERY(q_tariff_ins) = {
	"demo_tariff_ins",
	"INSERT INTO tariff (community_id, code, name, utility, region, note) VALUES (?, ?, ?, ?, ?, ?)",
	"lsssss", NULL,
};
DB_QUERY(q_tariff_version_ins) = {
	"demo_tariff_version_ins",
	"INSERT INTO tariff_version (tariff_id, effective_from, status, rules, source_url, published_at)"
	" VALUES (?, ?, 'published', ?, ?, CURRENT_TIMESTAMP(3))",
	"lsss", NULL,
};
/* every house of the community pays the tariff from valid_from on */
DB_QUERY(q_house_tariff_all) = {
	"demo_house_tariff_all",
	"INSERT INTO house_tariff (house_id, utility, tariff_id, valid_from)"
	" SELECT h.id, ?, ?, ? FROM house h JOIN building b ON b.id = h.building_id"
	" WHERE b.community_id = ?",
	"slsl", NULL,
};

/*
 * Readings go in multi-row INSERTs. db.c binds at most 64 parameters, so an
 * electric row (6 parameters) comes 10 to a statement and a water row (4) 16.
 */
#define REP3(s) s s s
#define REP9(s) REP3(REP3(s))
#define REP10(s) REP9(s) s
#define REP15(s) REP3(s) REP3(s) REP9(s)
#define REP16(s) REP15(s) s

#define E_BATCH 10
#define E_COLS "INSERT INTO meter_reading (meter_id, read_at, value, value_peak, value_flat," \
	" value_valley) VALUES "
#define E_ROW "(?, ?, ?, ?, ?, ?)"
#define E_SIG "lsllll"
DB_QUERY(q_read_e1) = { "demo_read_e1", E_COLS E_ROW, E_SIG, NULL };
DB_QUERY(q_read_en) = {
	"demo_read_e10", E_COLS E_ROW REP9(", " E_ROW), REP10(E_SIG), NULL,
};
_Static_assert(sizeof(REP10(E_SIG)) - 1 == 6 * E_BATCH, "electric batch signature");

#define W_BATCH 16
#define W_COLS "INSERT INTO meter_reading (meter_id, read_at, value, source) VALUES "
#define W_ROW "(?, ?, ?, ?)"
#define W_SIG "lsls"
DB_QUERY(q_read_w1) = { "demo_read_w1", W_COLS W_ROW, W_SIG, NULL };
DB_QUERY(q_read_wn) = {
	"demo_read_w16", W_COLS W_ROW REP15(", " W_ROW), REP16(W_SIG), NULL,
};
_Static_assert(sizeof(REP16(W_SIG)) - 1 == 4 * W_BATCH, "water batch signature");

/* ---- deterministic randomness ---------------------------------------- */

struct rng {
	uint64_t s;
};

/* Seeds an independent stream: the same (seed, stream) always gives the same numbers. */
static void rng_init(struct rng *r, unsigned seed, uint64_t stream)
{
	/* splitmix64 of the pair, so neighbouring streams do not look alike */
	uint64_t z = ((uint64_t)seed << 32 ^ stream) + 0x9E3779B97F4A7C15ull;

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	z ^= z >> 31;
	r->s = z ? z : 1;
}

/* xorshift64*: plenty for demo data, and identical on every platform. */
static uint64_t rng_next(struct rng *r)
{
	uint64_t x = r->s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* Uniform in [lo, hi], both inclusive (the modulo bias is irrelevant here). */
static int64_t rng_range(struct rng *r, int64_t lo, int64_t hi)
{
	return lo + (int64_t)((rng_next(r) >> 11) % (uint64_t)(hi - lo + 1));
}

/* ---- calendar (days since 1970-01-01, proleptic Gregorian) ------------ */

static int64_t days_from_civil(int y, int m, int d)
{
	int64_t yy = y - (m <= 2);
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t yoe = yy - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static int month_of(int64_t day)
{
	int y, m, d;

	civil_from_days(day, &y, &m, &d);
	return m;
}

/* The calendar day `day` (a local date) as 'YYYY-MM-DD'. */
static void fmt_date(char *buf, size_t n, int64_t day)
{
	int y, m, d;

	civil_from_days(day, &y, &m, &d);
	xq_snprintf(buf, n, "%04d-%02d-%02d", y, m, d);
}

/* Local (Asia/Shanghai) day + seconds into it, as a UTC DATETIME string. */
static void fmt_utc(char *buf, size_t n, int64_t day, int64_t sec_cst)
{
	int64_t t = day * 86400 + sec_cst - CST_OFFSET_S;
	int64_t dd = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	int64_t s = t - dd * 86400;
	int y, m, d;

	civil_from_days(dd, &y, &m, &d);
	xq_snprintf(buf, n, "%04d-%02d-%02d %02d:%02d:%02d", y, m, d, (int)(s / 3600),
		    (int)(s / 60 % 60), (int)(s % 60));
}

/* ---- names and numbers ------------------------------------------------ */

static const char *const surnames[] = {
	"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡",
	"郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹",
	"沈", "钱", "蒋", "叶", "方", "俞",
};
static const char *const given_names[] = {
	"伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰",
	"娟", "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "建华", "志强", "晓燕",
	"俊杰", "子涵", "浩然", "欣怡", "雨桐", "国庆", "海燕", "建国", "丽华", "文斌",
	"佳琪", "思远", "一鸣", "玉兰", "德明", "嘉怡",
};
static const char *const mobile_prefixes[] = {
	"130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
	"153", "155", "156", "157", "158", "159", "180", "181", "182", "183", "186", "187",
	"188", "189",
};

#define PICK(r, a) ((a)[rng_range((r), 0, (int64_t)XQ_ARRAY_LEN(a) - 1)])

static void make_name(struct rng *r, char *buf, size_t n)
{
	xq_snprintf(buf, n, "%s%s", PICK(r, surnames), PICK(r, given_names));
}

static void make_mobile(struct rng *r, char *buf, size_t n)
{
	xq_snprintf(buf, n, "%s%08d", PICK(r, mobile_prefixes), (int)rng_range(r, 0, 99999999));
}

/* ---- consumption model ------------------------------------------------ */

/* Per mille of the yearly average, by month: air conditioning in summer, heating in winter. */
static const int elec_season_pm[12] = { 1300, 1250, 1000, 850, 900, 1150,
					1500, 1550, 1150, 850, 950, 1200 };
static const int water_season_pm[12] = { 950, 950, 1000, 1000, 1050, 1150,
					 1250, 1250, 1100, 1000, 950, 950 };

enum { OCCUPIED, VACANT, DECORATING };
static const char *const house_status[] = { "occupied", "vacant", "decorating" };

struct dhouse {
	int64_t id, emeter_id, wmeter_id;
	uint64_t stream; /* this house's random stream for readings */
	int status, size, area_x100, water_smart;
	int64_t e_base_wh; /* typical day at a season factor of 1000 */
	int64_t w_base_l;
	int64_t e_start[3]; /* peak, flat, valley registers at the first reading, exact Wh */
	int64_t w_start_l;
};

/* One day of electricity, Wh. */
static int64_t elec_day_wh(struct rng *r, const struct dhouse *h, int64_t day)
{
	int64_t wh;
	int64_t wd = (day + 4) % 7; /* 0 = Sunday: 1970-01-01 was a Thursday */

	if (h->status == VACANT)
		return rng_range(r, 50, 300); /* standby: router, fridge left on */
	if (h->status == DECORATING)
		return rng_range(r, 1000, 4000);
	wh = h->e_base_wh * elec_season_pm[month_of(day) - 1] / 1000;
	wh = wh * rng_range(r, 750, 1250) / 1000;
	if (wd == 0 || wd == 6)
		wh = wh * 108 / 100;
	return wh < 5000 ? 5000 : wh > 20000 ? 20000 : wh;
}

/* Splits a day's Wh into peak, flat and valley, summing exactly to wh. */
static void tou_split(struct rng *r, int64_t wh, int64_t out[3])
{
	out[0] = wh * rng_range(r, 400, 500) / 1000;
	out[1] = wh * rng_range(r, 250, 350) / 1000;
	out[2] = wh - out[0] - out[1];
}

/* One day of water, litres: 2..12 m3 a month for an occupied house. */
static int64_t water_day_l(struct rng *r, const struct dhouse *h, int64_t day)
{
	int64_t l;

	if (h->status == VACANT)
		return rng_range(r, 0, 9) == 0 ? rng_range(r, 1, 20) : 0;
	if (h->status == DECORATING)
		return rng_range(r, 50, 300);
	l = h->w_base_l * water_season_pm[month_of(day) - 1] / 1000;
	l = l * rng_range(r, 700, 1300) / 1000;
	/* 80..370 L a day keeps even whole-m3 monthly readings inside 2..12 m3 */
	return l < 80 ? 80 : l > 370 ? 370 : l;
}

/* Registers show 0.01 kWh (DL/T 645) or 0.01 m3 (CJ/T 188): 10 Wh, 10 L. */
static int64_t reg10(int64_t v)
{
	return v - v % 10;
}

/* ---- batched reading inserts ------------------------------------------ */

struct erow {
	int64_t meter_id;
	char read_at[24];
	int64_t value, peak, flat, valley;
};
struct wrow {
	int64_t meter_id;
	char read_at[24];
	int64_t value;
	const char *source;
};

struct demo_ctx {
	const struct demo_opts *o;
	int64_t start_day, end_day; /* local dates of the first and last daily reading */
	int64_t community_id;
	struct rng est; /* estate stream: buildings, houses, people, meters */
	long buildings, houses, residents, meters, readings;
	size_t ne, nw;
	struct erow e[E_BATCH];
	struct wrow w[W_BATCH];
};

#define EA(i) c->e[i].meter_id, c->e[i].read_at, c->e[i].value, c->e[i].peak, c->e[i].flat, \
	c->e[i].valley
#define WA(i) c->w[i].meter_id, c->w[i].read_at, c->w[i].value, c->w[i].source

static int flush_e(struct db *db, struct demo_ctx *c)
{
	int rc = XQ_OK;

	if (c->ne == E_BATCH) {
		rc = db_run(db, &q_read_en, NULL, EA(0), EA(1), EA(2), EA(3), EA(4), EA(5), EA(6),
			    EA(7), EA(8), EA(9));
	} else {
		for (size_t i = 0; i < c->ne && rc == XQ_OK; i++)
			rc = db_run(db, &q_read_e1, NULL, EA(i));
	}
	c->readings += (long)c->ne;
	c->ne = 0;
	return rc;
}

static int flush_w(struct db *db, struct demo_ctx *c)
{
	int rc = XQ_OK;

	if (c->nw == W_BATCH) {
		rc = db_run(db, &q_read_wn, NULL, WA(0), WA(1), WA(2), WA(3), WA(4), WA(5), WA(6),
			    WA(7), WA(8), WA(9), WA(10), WA(11), WA(12), WA(13), WA(14), WA(15));
	} else {
		for (size_t i = 0; i < c->nw && rc == XQ_OK; i++)
			rc = db_run(db, &q_read_w1, NULL, WA(i));
	}
	c->readings += (long)c->nw;
	c->nw = 0;
	return rc;
}

/* Queues an electric reading with rate registers (exact Wh, stored at 10 Wh). */
static int put_e(struct db *db, struct demo_ctx *c, int64_t meter_id, int64_t day,
		 const int64_t reg[3])
{
	struct erow *e = &c->e[c->ne++];

	e->meter_id = meter_id;
	fmt_utc(e->read_at, sizeof(e->read_at), day, 0);
	e->peak = reg10(reg[0]);
	e->flat = reg10(reg[1]);
	e->valley = reg10(reg[2]);
	e->value = e->peak + e->flat + e->valley;
	return c->ne == E_BATCH ? flush_e(db, c) : XQ_OK;
}

static int put_w(struct db *db, struct demo_ctx *c, int64_t meter_id, int64_t day, int64_t sec,
		 int64_t value, const char *source)
{
	struct wrow *w = &c->w[c->nw++];

	w->meter_id = meter_id;
	fmt_utc(w->read_at, sizeof(w->read_at), day, sec);
	w->value = value;
	w->source = source;
	return c->nw == W_BATCH ? flush_w(db, c) : XQ_OK;
}

/* ---- estate ----------------------------------------------------------- */

/* Inserts a meter; installed before the first reading. */
static int add_meter(struct db *db, struct demo_ctx *c, const int64_t *house_id,
		     const int64_t *parent_id, const char *utility, const char *kind,
		     const char *meter_no, const char *model, int digits, const char *protocol,
		     const char *address, int smart, int has_relay, int64_t initial,
		     int64_t *id /* OUT */)
{
	char installed[24];
	int64_t day = c->start_day - rng_range(&c->est, 30, 900);
	int rc;

	fmt_utc(installed, sizeof(installed), day, rng_range(&c->est, 9 * 3600, 16 * 3600));
	rc = db_run(db, &q_meter_ins, NULL, c->community_id, house_id, parent_id, utility, kind,
		    meter_no, model, digits, 1, protocol, address, smart, has_relay, installed,
		    initial);
	if (rc)
		return rc;
	*id = db_insert_id(db);
	c->meters++;
	return XQ_OK;
}

static int add_resident(struct db *db, struct demo_ctx *c, int64_t house_id,
			const char *relation, int64_t move_in_day)
{
	char code[16], name[32], mobile[16], phone[24], move_in[16];
	int64_t rid;
	int rc;

	xq_snprintf(code, sizeof(code), "R%04ld", c->residents + 1);
	make_name(&c->est, name, sizeof(name));
	make_mobile(&c->est, mobile, sizeof(mobile));
	if (rng_range(&c->est, 0, 4) == 0)
		xq_snprintf(phone, sizeof(phone), "0571-8%07d", (int)rng_range(&c->est, 0, 9999999));
	else
		phone[0] = '\0';
	fmt_date(move_in, sizeof(move_in), move_in_day);
	if ((rc = db_run(db, &q_resident_ins, NULL, c->community_id, code, name, phone, mobile,
			 rng_range(&c->est, 0, 9) ? 100 : (int)rng_range(&c->est, 70, 99))))
		return rc;
	rid = db_insert_id(db);
	c->residents++;
	return db_run(db, &q_house_resident_ins, NULL, house_id, rid, relation, move_in);
}

/* Inserts one house with its people and meters; fills h (ids, model parameters). */
static int add_house(struct db *db, struct demo_ctx *c, int64_t building_id, int64_t supply_id,
		     int unit, int floor, int door, struct dhouse *h)
{
	static const int size_pm[5] = { 100, 350, 700, 900, 1000 }; /* cumulative: 1..5 people */
	struct rng *r = &c->est;
	char unit_no[8], room[16], area[16], meter_no[32], address[24];
	int64_t p = rng_range(r, 0, 99), k, pre_days, reg;
	int rc;

	memset(h, 0, sizeof(*h));
	h->stream = (uint64_t)(c->houses + 1);
	h->status = p < 90 ? OCCUPIED : p < 97 ? VACANT : DECORATING;
	h->area_x100 = (int)rng_range(r, 6000, 14000);
	k = rng_range(r, 0, 999);
	for (h->size = 1; h->size < 5 && k >= size_pm[h->size - 1]; h->size++)
		;
	if (h->status != OCCUPIED)
		h->size = 1;
	h->water_smart = rng_range(r, 0, 2) == 0;
	h->e_base_wh = (6000 + (int64_t)(h->area_x100 - 6000) / 2 + (h->size - 1) * 1200) *
		       rng_range(r, 850, 1150) / 1000;
	h->w_base_l = (60 + 70 * (int64_t)h->size) * rng_range(r, 800, 1200) / 1000;

	xq_snprintf(unit_no, sizeof(unit_no), "%d", unit);
	xq_snprintf(room, sizeof(room), "%d%02d", floor, door);
	xq_snprintf(area, sizeof(area), "%d.%02d", h->area_x100 / 100, h->area_x100 % 100);
	if ((rc = db_run(db, &q_house_ins, NULL, building_id, unit_no, room, floor, area,
			 house_status[h->status], h->size)))
		return rc;
	h->id = db_insert_id(db);
	c->houses++;

	/* the owner bought between 2008 and a year before the readings start */
	k = c->start_day - rng_range(r, 365, 365 * 16);
	if ((rc = add_resident(db, c, h->id, "owner", k)))
		return rc;
	if (h->status == OCCUPIED && rng_range(r, 0, 99) < 15) {
		k = c->end_day - rng_range(r, 30, 730);
		if ((rc = add_resident(db, c, h->id, "tenant", k)))
			return rc;
	}

	/* electric: smart prepay-capable DL/T 645 meter under the building supply meter */
	reg = rng_range(r, 2000, 40000) * 1000;
	pre_days = rng_range(r, 30, 200);
	h->e_start[0] = reg * 45 / 100;
	h->e_start[1] = reg * 30 / 100;
	h->e_start[2] = reg - h->e_start[0] - h->e_start[1];
	xq_snprintf(meter_no, sizeof(meter_no), DEMO_CODE "-E%04ld", c->houses);
	xq_snprintf(address, sizeof(address), "%012lld", 330106000000ll + c->houses);
	if ((rc = add_meter(db, c, &h->id, &supply_id, "electric", "household", meter_no,
			    "DDZY1888 单相费控智能电能表", 6, "dlt645", address, 1, 1,
			    reg10(h->e_start[0]) + reg10(h->e_start[1]) + reg10(h->e_start[2]),
			    &h->emeter_id)))
		return rc;
	/* usage between installation and the first reading */
	for (int i = 0; i < 3; i++)
		h->e_start[i] += pre_days * h->e_base_wh * (i == 0 ? 45 : i == 1 ? 30 : 25) / 100;

	/* water: a third are CJ/T 188 remote-read meters, the rest are read by hand */
	h->w_start_l = rng_range(r, 50, 2000) * 1000;
	xq_snprintf(meter_no, sizeof(meter_no), DEMO_CODE "-W%04ld", c->houses);
	if (h->water_smart)
		xq_snprintf(address, sizeof(address), "%014lld", 33010600000000ll + c->houses);
	else
		address[0] = '\0';
	if ((rc = add_meter(db, c, &h->id, NULL, "water", "household", meter_no,
			    h->water_smart ? "LXSY-20E 无线远传水表" : "LXS-20E 旋翼式水表", 5,
			    h->water_smart ? "cjt188" : "manual", address, h->water_smart, 0,
			    h->water_smart ? reg10(h->w_start_l) : h->w_start_l,
			    &h->wmeter_id)))
		return rc;
	h->w_start_l += rng_range(r, 30, 200) * h->w_base_l;
	return XQ_OK;
}

/* ---- readings --------------------------------------------------------- */

/*
 * Daily electric readings of one house at 00:00 local time, start_day..end_day.
 * Adds each day's register increments to sums[day][rate] for the supply meter.
 */
static int house_electric(struct db *db, struct demo_ctx *c, const struct dhouse *h,
			  int64_t (*sums)[3])
{
	struct rng r;
	int64_t reg[3] = { h->e_start[0], h->e_start[1], h->e_start[2] };
	int64_t prev[3], use[3];
	int rc;

	rng_init(&r, c->o->seed, h->stream << 8 | 1);
	if ((rc = put_e(db, c, h->emeter_id, c->start_day, reg)))
		return rc;
	for (int64_t day = c->start_day; day < c->end_day; day++) {
		size_t i = (size_t)(day - c->start_day);
		for (int k = 0; k < 3; k++)
			prev[k] = reg10(reg[k]);
		tou_split(&r, elec_day_wh(&r, h, day), use);
		for (int k = 0; k < 3; k++) {
			reg[k] += use[k];
			sums[i][k] += reg10(reg[k]) - prev[k]; /* what the stored readings show */
		}
		if ((rc = put_e(db, c, h->emeter_id, day + 1, reg)))
			return rc;
	}
	return XQ_OK;
}

/*
 * Water of one house: daily readings at 00:00 for remote-read meters, one
 * hand reading in the morning of each month's last day (月末抄表, whole m3)
 * for the others.
 */
static int house_water(struct db *db, struct demo_ctx *c, const struct dhouse *h)
{
	struct rng r;
	int64_t reg = h->w_start_l, use;
	int rc = XQ_OK;

	rng_init(&r, c->o->seed, h->stream << 8 | 2);
	for (int64_t day = c->start_day - 1; day < c->end_day && rc == XQ_OK; day++) {
		use = water_day_l(&r, h, day);
		if (!h->water_smart && month_of(day + 1) != month_of(day)) {
			int64_t sec = rng_range(&r, 9 * 3600, 12 * 3600 - 1);
			int64_t now = reg + use * sec / 86400;
			rc = put_w(db, c, h->wmeter_id, day, sec, now - now % 1000, "manual");
		}
		reg += use;
		if (h->water_smart && rc == XQ_OK)
			rc = put_w(db, c, h->wmeter_id, day + 1, 0, reg10(reg), "auto");
	}
	return rc;
}

/*
 * The supply meter reads its sub-meters' sum plus line loss, every day. The
 * loss is 2-6 % of the supply reading, as line-loss reports compute it.
 */
static int supply_readings(struct db *db, struct demo_ctx *c, int64_t meter_id, int64_t start_wh,
			   uint64_t stream, int64_t (*sums)[3])
{
	struct rng r;
	int64_t reg[3] = { start_wh * 45 / 100, start_wh * 30 / 100, 0 };
	int rc;

	reg[2] = start_wh - reg[0] - reg[1];
	rng_init(&r, c->o->seed, stream << 8 | 3);
	if ((rc = put_e(db, c, meter_id, c->start_day, reg)))
		return rc;
	for (int64_t day = c->start_day; day < c->end_day; day++) {
		size_t i = (size_t)(day - c->start_day);
		int64_t loss_ppm = rng_range(&r, 20000, 60000);
		for (int k = 0; k < 3; k++)
			reg[k] += sums[i][k] * 1000000 / (1000000 - loss_ppm);
		if ((rc = put_e(db, c, meter_id, day + 1, reg)))
			return rc;
	}
	return XQ_OK;
}

/* ---- tariffs ---------------------------------------------------------- */

/*
 * Electricity: Zhejiang's annual tiers (2760 / 4800 kWh, +0.05 / +0.30
 * yuan) on TOU model A. The demo meters register peak, flat and valley, so
 * the demo splits Zhejiang's two periods into three (a made-up flat price);
 * a real community uses the published two-period tariff.
 */
static const char demo_electric_rules[] =
	"{\"utility\":\"electric\",\"basis\":\"annual\",\"tiers\":["
	"{\"upto_kwh\":2760,\"increment\":\"0\"},{\"upto_kwh\":4800,\"increment\":\"0.05\"},"
	"{\"increment\":\"0.30\"}],\"tou\":{\"model\":\"A\",\"periods\":["
	"{\"name\":\"peak\",\"windows\":[\"08:00-11:00\",\"18:00-22:00\"],\"price\":\"0.568\"},"
	"{\"name\":\"flat\",\"windows\":[\"11:00-18:00\"],\"price\":\"0.538\"},"
	"{\"name\":\"valley\",\"windows\":[\"22:00-08:00\"],\"price\":\"0.288\"}]}}";

/* Water: Hangzhou-style annual tiers, 2.90 / 3.85 / 6.70 yuan a m3 all parts included. */
static const char demo_water_rules[] =
	"{\"utility\":\"water\",\"basis\":\"annual\",\"tiers\":["
	"{\"upto_m3\":216},{\"upto_m3\":300},{}],\"components\":["
	"{\"name\":\"water\",\"label\":\"水费\",\"prices\":[\"1.75\",\"2.70\",\"5.55\"]},"
	"{\"name\":\"resource\",\"label\":\"水资源费\",\"price\":\"0.20\"},"
	"{\"name\":\"sewage\",\"label\":\"污水处理费\",\"price\":\"0.95\"}]}";

/* One tariff with one published version from the first reading day, assigned to every house. */
static int add_tariff(struct db *db, struct demo_ctx *c, const char *code, const char *name,
		      const char *utility, const char *rules)
{
	char from[16];
	int64_t id;
	int rc;

	fmt_date(from, sizeof(from), c->start_day);
	if ((rc = db_run(db, &q_tariff_ins, NULL, c->community_id, code, name, utility, "浙江",
			 "演示数据")))
		return rc;
	id = db_insert_id(db);
	if ((rc = db_run(db, &q_tariff_version_ins, NULL, id, from, rules, "")))
		return rc;
	return db_run(db, &q_house_tariff_all, NULL, utility, id, from, c->community_id);
}

/* ---- the load --------------------------------------------------------- */

/* One building: 2 units, two flats a floor, its supply meter and all readings. */
static int load_building(struct db *db, struct demo_ctx *c, int b, int nhouses)
{
	int per_unit[2] = { (nhouses + 1) / 2, nhouses / 2 };
	int floors = (per_unit[0] + 1) / 2;
	size_t ndays = (size_t)(c->end_day - c->start_day);
	int64_t (*sums)[3] = xq_calloc(ndays + 1, sizeof(*sums));
	struct dhouse *hs = xq_calloc((size_t)nhouses, sizeof(*hs));
	char name[32], meter_no[32], address[24];
	int64_t building_id, supply_id, supply_start;
	long readings0 = c->readings + (long)c->ne + (long)c->nw;
	int rc, n = 0;

	xq_snprintf(name, sizeof(name), "%d号楼", b + 1);
	if ((rc = db_run(db, &q_building_ins, NULL, c->community_id, name, floors, 2)))
		goto out;
	building_id = db_insert_id(db);
	c->buildings++;

	supply_start = rng_range(&c->est, 50000, 300000) * 1000;
	xq_snprintf(meter_no, sizeof(meter_no), DEMO_CODE "-S%02d", b + 1);
	xq_snprintf(address, sizeof(address), "%012lld", 330106900000ll + b + 1);
	if ((rc = add_meter(db, c, NULL, NULL, "electric", "supply", meter_no,
			    "DTZY1888 三相四线智能电能表", 6, "dlt645", address, 1, 0,
			    reg10(supply_start * 45 / 100) + reg10(supply_start * 30 / 100) +
				    reg10(supply_start - supply_start * 45 / 100 - supply_start * 30 / 100),
			    &supply_id)))
		goto out;

	for (int u = 0; u < 2; u++)
		for (int i = 0; i < per_unit[u]; i++, n++)
			if ((rc = add_house(db, c, building_id, supply_id, u + 1, i / 2 + 1, i % 2 + 1,
					    &hs[n])))
				goto out;

	for (int i = 0; i < nhouses; i++)
		if ((rc = house_electric(db, c, &hs[i], sums)) || (rc = house_water(db, c, &hs[i])))
			goto out;
	/* the supply meter's registers start where its own history says, plus pre-reading use */
	if ((rc = supply_readings(db, c, supply_id, supply_start + rng_range(&c->est, 30, 200) * 300000,
				  (uint64_t)(100000 + b), sums)))
		goto out;
	fprintf(stderr, "demo: %s: %d houses, %ld readings\n", name, nhouses,
		c->readings - readings0 + (long)c->ne + (long)c->nw);
out:
	free(sums);
	free(hs);
	return rc;
}

static int load_tx(struct db *db, void *arg)
{
	struct demo_ctx *c = arg;
	struct db_res res;
	int nb, rc;

	/* db_tx() may run this again after a deadlock: start from a clean slate */
	c->buildings = c->houses = c->residents = c->meters = c->readings = 0;
	c->ne = c->nw = 0;
	rng_init(&c->est, c->o->seed, 0);

	if ((rc = db_run(db, &q_community_find, &res, DEMO_CODE)))
		return rc;
	nb = (int)res.nrows;
	db_res_release(&res);
	if (nb)
		return XQ_ECONFLICT;
	if ((rc = db_run(db, &q_community_ins, NULL, DEMO_CODE, "阳光花园",
			 "浙江省杭州市西湖区阳光路 88 号", "某物业公司")))
		return rc;
	c->community_id = db_insert_id(db);

	nb = (int)rng_range(&c->est, 6, 8);
	if (nb > c->o->houses)
		nb = c->o->houses;
	for (int b = 0; b < nb; b++) {
		int n = c->o->houses / nb + (b < c->o->houses % nb);
		if ((rc = load_building(db, c, b, n)))
			return rc;
	}
	if ((rc = flush_e(db, c)) || (rc = flush_w(db, c)))
		return rc;
	if ((rc = add_tariff(db, c, DEMO_CODE "-E", "居民生活用电（浙江阶梯，峰平谷演示）", "electric",
			     demo_electric_rules)) ||
	    (rc = add_tariff(db, c, DEMO_CODE "-W", "居民生活用水（杭州阶梯）", "water",
			     demo_water_rules)))
		return rc;
	return XQ_OK;
}

int demo_load(struct db *db, const struct demo_opts *o)
{
	struct demo_ctx *c;
	int64_t t0 = xq_mono_us(), today, ms;
	int y, m, d, sm, rc;

	if (o->houses < 1 || o->houses > MAX_HOUSES)
		return xq_error(XQ_EINVAL, "demo: houses must be 1..%d, not %d", MAX_HOUSES, o->houses);
	if (o->months < 1 || o->months > MAX_MONTHS)
		return xq_error(XQ_EINVAL, "demo: months must be 1..%d, not %d", MAX_MONTHS, o->months);

	c = xq_calloc(1, sizeof(*c));
	c->o = o;
	/* readings end at 00:00 local time on the first day of the current local month */
	today = (xq_now_ms() / 1000 + CST_OFFSET_S) / 86400;
	civil_from_days(today, &y, &m, &d);
	c->end_day = days_from_civil(y, m, 1);
	sm = y * 12 + (m - 1) - o->months;
	c->start_day = days_from_civil(sm / 12, sm % 12 + 1, 1);

	fprintf(stderr, "demo: loading %s with %d houses, %d months of readings (seed %u)\n",
		DEMO_CODE, o->houses, o->months, o->seed);
	rc = db_tx(db, load_tx, c);
	ms = (xq_mono_us() - t0) / 1000;
	if (rc == XQ_ECONFLICT)
		fprintf(stderr, "demo: community %s already exists, nothing loaded\n", DEMO_CODE);
	else if (rc)
		fprintf(stderr, "demo: failed (%s: %s), nothing loaded\n", xq_strerror(rc),
			db_errmsg(db));
	else
		fprintf(stderr, "demo: loaded %ld buildings, %ld houses, %ld residents, %ld meters,"
			" %ld readings in %lld.%03lld s\n", c->buildings, c->houses, c->residents,
			c->meters, c->readings, (long long)(ms / 1000), (long long)(ms % 1000));
	free(c);
	return rc;
}
