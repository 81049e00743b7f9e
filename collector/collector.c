/*
 * collector.c - xq-collector: polls smart meters behind serial-to-TCP
 * gateways and stores their readings (docs/collector.md).
 *
 * One epoll loop drives every gateway of this shard without blocking. Each
 * gateway is one RS-485 bus: strictly one request outstanding, a reply
 * timeout, an inter-frame gap, retries on timeout or a bad frame, none on an
 * abnormal reply (meter-protocols.md 6.1, 6.2). Frames are built and decoded
 * only with the lib/proto codecs. A reading is validated against the
 * meter's previous one (backwards unless a plausible rollover, a spike above
 * max power x elapsed time), then appended to the write-ahead spool
 * (spool.h) before it goes to MariaDB in batches; the spool is emptied only
 * once the database has everything, so an outage or kill -9 loses nothing
 * and a replay duplicates nothing (INSERT IGNORE on (meter_id, read_at)).
 *
 * read_at is the poll slot (now rounded down to collector.interval_s), so a
 * re-poll of the same slot after a restart lands on the same row. The DB
 * calls are synchronous in the loop: they are short, and while the database
 * is unreachable they are only tried every few seconds.
 */
#include "audit.h"
#include "config.h"
#include "db.h"
#include "link.h"
#include "log.h"
#include "proto/dlt645.h"
#include "proto/modbus.h"
#include "proto/meter_proto.h"
#include "rollup.h"
#include "spool.h"
#include "valid.h"
#include "xq.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DB_RETRY_MS 3000
#define FLUSH_MS 1000
#define BATCH_MAX 500
#define REPLAY_MAX 5000 /* records per flush: ~60 ms of MariaDB work */
#define WATER_MAX_L_PER_H 5000 /* DN15/DN20 household meters: Q4 is 3.125..5 m3/h */
#define MAX_HTTP 16
#define CMD_POLL_MS 2000 /* how often approved meter_command rows are looked for */
#define CMD_TRIES 4        /* attempts at a relay command before it is failed */
#define CMD_DEADLINE_MIN 10 /* the meter refuses the command after this (2.7) */
#define TAG_GW 1
#define TAG_HTTP 2

enum gw_state { GW_DOWN, GW_CONNECTING, GW_IDLE, GW_WAIT };

struct cmeter {
	int64_t id, community_id;
	char addr_text[METER_ADDR_STR];
	struct meter_req req;
	int64_t modulus;  /* register wraps here (Wh or L) */
	int have_prev;
	int64_t prev, prev_at_ms;
	int64_t done_slot; /* last slot read successfully */
	int64_t same;      /* readings in a row equal to the one before */
	int missed;        /* consecutive missed cycles */
	int unsupported;   /* the meter said "no such item": stop asking */
};

/* A remote trip/close (meter_command row claimed as 'sent' by this collector). */
struct ccmd {
	int64_t id;
	struct cmeter *m;
	int trip;
	int attempts;
	int64_t next_us;      /* not before this (backoff after a timeout) */
	const char *outcome;  /* "done" or "failed" once decided, to be written */
	char result[256];     /* Chinese, for meter_command.result */
	struct ccmd *next;
};

struct gateway {
	int tag; /* TAG_GW: what an epoll event points at */
	struct ccmd *cmds;     /* relay commands of this bus, oldest first */
	struct ccmd *cur_cmd;  /* GW_WAIT: the command in flight, NULL for a read */
	int64_t id, community_id;
	char host[64];
	int port, baud, timeout_ms;
	int gap_ms; /* quiet after a reply or timeout: gateway.gap_ms, else collector.gap_ms */
	const struct meter_proto *p;
	struct link link;
	enum gw_state state;
	struct cmeter **m;
	size_t n, cap;
	int64_t slot;          /* slot being polled */
	size_t idx;            /* next meter of the slot */
	int attempt;           /* attempts at meter idx so far */
	int64_t deadline_us;   /* GW_WAIT: reply timeout; GW_DOWN: reconnect time */
	int64_t gap_until_us;  /* GW_IDLE: no request before this */
	int64_t sent_us;
	int backoff_ms;
	int slot_ok;           /* meters read in this slot */
	int missed_cycles;     /* consecutive slots with no meter answering */
	uint8_t rx[METER_FRAME_MAX * 2];
	size_t rxlen;
	/* metrics */
	uint64_t ok, fail, err_reply, bad_frames, timeouts, connects;
	double lat_sum;
	uint64_t lat_n;
};

struct http_conn {
	int tag; /* TAG_HTTP */
	int fd;
	char buf[1024];
	size_t len;
};

static struct config cfg;
static struct gateway **gws;
static size_t ngw;
static struct spool sp;
static struct db *db;
static int db_up;
static int64_t db_retry_at_ms, last_flush_ms;
static int epfd = -1, http_fd = -1;
static struct http_conn *https[MAX_HTTP];
static volatile sig_atomic_t stop_sig, reload_sig;
static uint64_t n_stored, n_flagged, n_alerts, n_spooled, n_db_errors;
static int64_t interval_ms;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_sig = 1;
	else
		stop_sig = 1;
}

static void ep_set(int fd, void *ptr, uint32_t events, int op)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	epoll_ctl(epfd, op, fd, &ev);
}

/* UTC "YYYY-MM-DD hh:mm:ss.mmm" for a DATETIME(3) column. */
static void fmt_utc(int64_t ms, char *buf, size_t n)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	xq_snprintf(buf, n, "%04d-%02d-%02d %02d:%02d:%02d.%03d", tm.tm_year + 1900, tm.tm_mon + 1,
		    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* ------------------------------------------------------------ database */

DB_QUERY(q_gateways) = {
	"collector_gateways",
	"SELECT id, community_id, host, port, protocol, baud, timeout_ms, COALESCE(gap_ms, -1)"
	" FROM gateway WHERE shard = ? AND enabled = 1 ORDER BY id",
	"l", "llslslll"
};

DB_QUERY(q_meters) = {
	"collector_meters",
	"SELECT m.id, m.community_id, m.gateway_id, m.address, m.digits, r.value,"
	" CAST(UNIX_TIMESTAMP(r.read_at) * 1000 AS SIGNED), m.model"
	" FROM meter m JOIN gateway g ON g.id = m.gateway_id"
	" LEFT JOIN meter_reading r ON r.meter_id = m.id AND r.read_at ="
	"  (SELECT MAX(r2.read_at) FROM meter_reading r2 WHERE r2.meter_id = m.id)"
	" WHERE g.shard = ? AND g.enabled = 1 AND m.status = 'active' AND m.smart = 1"
	" ORDER BY m.gateway_id, m.id",
	"l", "lllsllls"
};

/* A whole batch in one statement: the JSON array goes in as one parameter. */
DB_QUERY(q_insert_batch) = {
	"collector_insert_batch",
	"INSERT IGNORE INTO meter_reading (meter_id, read_at, value, value_sharp, value_peak,"
	" value_flat, value_valley, source, status, flag_reason)"
	" SELECT j.meter_id, j.read_at, j.v, j.vs, j.vp, j.vf, j.vv, 'auto', j.st, j.why"
	" FROM JSON_TABLE(?, '$[*]' COLUMNS (meter_id BIGINT PATH '$[0]',"
	"  read_at DATETIME(3) PATH '$[1]', v BIGINT PATH '$[2]', vs BIGINT PATH '$[3]',"
	"  vp BIGINT PATH '$[4]', vf BIGINT PATH '$[5]', vv BIGINT PATH '$[6]',"
	"  st VARCHAR(16) PATH '$[7]', why VARCHAR(64) PATH '$[8]')) AS j",
	"s", NULL
};

DB_QUERY(q_alert_ins) = {
	"collector_alert_ins",
	"INSERT IGNORE INTO alert (community_id, kind, level, meter_id, message, detail, dedup_key)"
	" VALUES (?, ?, ?, ?, ?, ?, ?)",
	"lssLsss", NULL
};

static int db_ensure(int64_t now_ms)
{
	if (db_up)
		return XQ_OK;
	if (now_ms < db_retry_at_ms)
		return XQ_EDB;
	if (!db && db_open(&db, &cfg) != XQ_OK) {
		db_retry_at_ms = now_ms + DB_RETRY_MS;
		return XQ_EDB;
	}
	if (db_ping(db) != XQ_OK) {
		db_retry_at_ms = now_ms + DB_RETRY_MS;
		return XQ_EDB;
	}
	db_up = 1;
	log_info("xq-collector: database reachable");
	return XQ_OK;
}

static void db_lost(int64_t now_ms)
{
	if (db_up)
		log_warn("xq-collector: database error (%s), spooling to %s", db_errmsg(db),
			 cfg.collector_spool_file);
	n_db_errors++;
	db_up = 0;
	db_retry_at_ms = now_ms + DB_RETRY_MS;
}

/* ------------------------------------------------------------ configuration */

static struct gateway *gw_find(int64_t id)
{
	for (size_t i = 0; i < ngw; i++)
		if (gws[i]->id == id)
			return gws[i];
	return NULL;
}

static void gw_add(int64_t id, int64_t community_id, const char *host, int port,
		   const char *proto, int baud, int timeout_ms, int gap_ms)
{
	const struct meter_proto *p = proto_find(proto);
	struct gateway *g;

	if (gw_find(id))
		return;
	if (!p) {
		log_warn("xq-collector: gateway %" PRId64 ": unknown protocol '%s'", id, proto);
		return;
	}
	g = xq_calloc(1, sizeof(*g));
	g->tag = TAG_GW;
	g->id = id;
	g->community_id = community_id;
	xq_snprintf(g->host, sizeof(g->host), "%s", host);
	g->port = port;
	g->p = p;
	g->baud = baud > 0 ? baud : 2400;
	g->timeout_ms = timeout_ms > 0 ? timeout_ms : 2000;
	g->gap_ms = gap_ms >= 0 ? gap_ms : (int)cfg.collector_gap_ms;
	g->link.fd = -1;
	g->state = GW_DOWN;
	g->slot = -1;
	gws = xq_realloc(gws, (ngw + 1) * sizeof(*gws));
	gws[ngw++] = g;
}

static void meter_add(int64_t id, int64_t community_id, int64_t gw_id, const char *addr,
		      int64_t digits, const char *prev, int64_t prev_at_ms, const char *model)
{
	struct gateway *g = gw_find(gw_id);
	struct cmeter *m;

	if (!g)
		return;
	for (size_t i = 0; i < g->n; i++)
		if (g->m[i]->id == id)
			return;
	m = xq_calloc(1, sizeof(*m));
	m->id = id;
	m->community_id = community_id;
	xq_snprintf(m->addr_text, sizeof(m->addr_text), "%s", addr ? addr : "");
	if (!addr || g->p->addr_parse(addr, &m->req.addr) != XQ_OK) {
		log_warn("xq-collector: meter %" PRId64 ": bad %s address '%s'", id, g->p->name,
			 addr ? addr : "");
		free(m);
		return;
	}
	m->req.item = METER_READ_TOTAL;
	/* the DL/T 645 block read gives total and all four rates in one transaction (6.3) */
	m->req.tariff = g->p == &proto_dlt645 ? METER_TARIFF_ALL : 0;
	if (g->p == &proto_modbus_rtu || g->p == &proto_modbus_tcp) {
		/* the register map is the meter model's (modbus.c maps, docs/collector.md) */
		m->req.map = modbus_map_find(model);
		if (!m->req.map) {
			log_warn("xq-collector: meter %" PRId64 ": no Modbus register map for model"
				 " '%s', not polled", id, model ? model : "");
			free(m);
			return;
		}
	}
	if (digits < 4 || digits > 6)
		digits = 6;
	m->modulus = 1000;
	for (int64_t i = 0; i < digits; i++)
		m->modulus *= 10;
	if (prev) {
		m->have_prev = xq_parse_i64(prev, &m->prev) == XQ_OK;
		m->prev_at_ms = prev_at_ms;
	}
	m->done_slot = -1;
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 16;
		g->m = xq_realloc(g->m, g->cap * sizeof(*g->m));
	}
	g->m[g->n++] = m;
}

/*
 * collector.gateways_file: lines
 *	gateway ID COMMUNITY_ID HOST PORT PROTOCOL BAUD TIMEOUT_MS [GAP_MS]
 *	meter ID COMMUNITY_ID GATEWAY_ID ADDRESS DIGITS [LAST_VALUE|- [MODEL]]
 */
static int load_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256], host[64], proto[32], addr[40], prev[32], model[32];
	long long a, b, c, d;
	int port, baud, tmo, gap;

	if (!f) {
		log_error("xq-collector: cannot read %s: %s", path, strerror(errno));
		return XQ_EINVAL;
	}
	while (fgets(line, sizeof(line), f)) {
		int n;

		if ((n = sscanf(line, "gateway %lld %lld %63s %d %31s %d %d %d", &a, &b, host, &port,
				proto, &baud, &tmo, &gap)) >= 7)
			gw_add(a, b, host, port, proto, baud, tmo, n == 8 ? gap : -1);
		else if ((n = sscanf(line, "meter %lld %lld %lld %39s %lld %31s %31s", &a, &b, &c, addr,
				     &d, prev, model)) >= 5)
			meter_add(a, b, c, addr, d, n >= 6 && strcmp(prev, "-") ? prev : NULL, 0,
				  n == 7 ? model : NULL);
	}
	fclose(f);
	return XQ_OK;
}

static int load_db(void)
{
	struct db_res res;
	size_t before = 0;
	int rc;

	for (size_t i = 0; i < ngw; i++)
		before += gws[i]->n;
	if ((rc = db_ensure(xq_now_ms())) != XQ_OK)
		return rc;
	if ((rc = db_run(db, &q_gateways, &res, (int64_t)cfg.collector_shard)) != XQ_OK) {
		db_lost(xq_now_ms());
		return rc;
	}
	for (size_t r = 0; r < res.nrows; r++)
		gw_add(db_i64(&res, r, 0), db_i64(&res, r, 1), db_str(&res, r, 2),
		       (int)db_i64(&res, r, 3), db_str(&res, r, 4), (int)db_i64(&res, r, 5),
		       (int)db_i64(&res, r, 6), (int)db_i64(&res, r, 7));
	db_res_release(&res);
	if ((rc = db_run(db, &q_meters, &res, (int64_t)cfg.collector_shard)) != XQ_OK) {
		db_lost(xq_now_ms());
		return rc;
	}
	for (size_t r = 0; r < res.nrows; r++)
		meter_add(db_i64(&res, r, 0), db_i64(&res, r, 1), db_i64(&res, r, 2),
			  db_str(&res, r, 3), db_i64(&res, r, 4), db_str(&res, r, 5),
			  db_i64(&res, r, 6), db_str(&res, r, 7));
	db_res_release(&res);
	{
		size_t after = 0;

		for (size_t i = 0; i < ngw; i++)
			after += gws[i]->n;
		log_info("xq-collector: shard %lld: %zu gateways, %zu meters (%zu new)",
			 (long long)cfg.collector_shard, ngw, after, after - before);
	}
	return XQ_OK;
}

static int load_config(void)
{
	if (cfg.collector_gateways_file && *cfg.collector_gateways_file)
		return load_file(cfg.collector_gateways_file);
	return load_db();
}

/* ------------------------------------------------------------ spool and store */

static void spool_put(const char *fmt, ...) XQ_PRINTF(1, 2);
static void spool_put(const char *fmt, ...)
{
	char rec[SPOOL_REC_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(rec, sizeof(rec), fmt, ap);
	va_end(ap);
	if (n <= 0 || (size_t)n >= sizeof(rec))
		return;
	if (spool_append(&sp, rec, (size_t)n) != XQ_OK)
		log_error("xq-collector: spool append failed: %s (record lost: %s)", strerror(errno),
			  rec);
	else
		n_spooled++;
}

/* Raises an alert (through the spool, so it survives an outage like a reading). */
static void alert(int64_t community_id, int64_t meter_id, const char *kind, const char *level,
		  const char *dedup, const char *message)
{
	spool_put("A %" PRId64 " %" PRId64 " %s %s %s %s", community_id, meter_id, kind, level, dedup,
		  message);
}

struct flush_ctx {
	char *json;
	size_t len, cap;
	int rows, rc;
	int64_t now_ms;
	struct rollup_key keys[BATCH_MAX]; /* (meter, day) of the batch's rows */
};

static void json_add(struct flush_ctx *fc, const char *s)
{
	size_t n = strlen(s);

	if (fc->len + n + 2 > fc->cap) {
		fc->cap = (fc->len + n + 2) * 2;
		fc->json = xq_realloc(fc->json, fc->cap);
	}
	memcpy(fc->json + fc->len, s, n + 1);
	fc->len += n;
}

static int flush_rows(struct flush_ctx *fc)
{
	int rc;

	if (!fc->rows)
		return XQ_OK;
	json_add(fc, "]");
	rc = db_run(db, &q_insert_batch, NULL, fc->json);
	if (rc == XQ_OK)
		n_stored += (uint64_t)db_affected(db);
	/*
	 * The usage rollups of the days these rows fall on, after the rows: a
	 * failure replays the batch (harmless) and refreshes again, so the
	 * rollups never stay behind a stored reading.
	 */
	if (rc == XQ_OK && (rc = rollup_refresh(db, fc->keys, (size_t)fc->rows)) != XQ_OK)
		log_warn("xq-collector: usage rollup failed: %s", db_errmsg(db));
	fc->len = 0;
	fc->rows = 0;
	return rc;
}

static const char *json_num(const char *s)
{
	return strcmp(s, "-") ? s : "null";
}

/* One spooled record into the database (readings are batched). */
static int replay_one(void *arg, const char *rec, size_t n)
{
	struct flush_ctx *fc = arg;
	char item[256], v[5][24], st[16], why[64], kind[32], level[16], dedup[96];
	long long a, b;
	int off = 0, rc;

	(void)n;
	if (rec[0] == 'R') {
		if (sscanf(rec, "R %lld %lld %23s %23s %23s %23s %23s %15s %63s", &a, &b, v[0], v[1],
			   v[2], v[3], v[4], st, why) != 9)
			return XQ_OK; /* cannot happen: we wrote it; skip rather than wedge */
		fmt_utc(b, kind, sizeof(kind));
		xq_snprintf(item, sizeof(item), "%s[%lld,\"%s\",%s,%s,%s,%s,%s,\"%s\",\"%s\"]",
			    fc->rows ? "," : "[", a, kind, v[0], json_num(v[1]), json_num(v[2]),
			    json_num(v[3]), json_num(v[4]), st, strcmp(why, "-") ? why : "");
		json_add(fc, item);
		fc->keys[fc->rows].meter_id = a;
		fc->keys[fc->rows].day = rollup_day_of_ms(b);
		if (++fc->rows >= BATCH_MAX)
			return flush_rows(fc);
		return XQ_OK;
	}
	if (rec[0] == 'A' && sscanf(rec, "A %lld %lld %31s %15s %95s %n", &a, &b, kind, level, dedup,
				    &off) == 5 && off > 0) {
		int64_t mid = b;

		/* keep the order: readings before this alert go in first */
		if ((rc = flush_rows(fc)) != XQ_OK)
			return rc;
		rc = db_run(db, &q_alert_ins, NULL, (int64_t)a, kind, level, b ? &mid : NULL,
			    rec + off, "{}", dedup);
		if (rc == XQ_OK && db_affected(db) > 0)
			n_alerts++;
		return rc;
	}
	return XQ_OK;
}

/*
 * Moves the spool into the database, at most REPLAY_MAX records per call so
 * a backlog after an outage does not stall the buses, and empties the spool
 * once everything in it is stored. Only fully stored batches advance
 * sp.done; a failure leaves the rest for the next call (and a crash replays
 * from the start, which the idempotent inserts absorb).
 */
static void flush(int64_t now_ms)
{
	struct flush_ctx fc = { .now_ms = now_ms };
	int64_t start = sp.done;
	int rc;

	last_flush_ms = now_ms;
	spool_sync(&sp, now_ms, cfg.collector_fsync_ms);
	if (sp.records == 0 || db_ensure(now_ms) != XQ_OK)
		return;
	/* BATCH_MAX divides REPLAY_MAX: a chunk ends on a batch boundary */
	rc = spool_each_from(&sp, REPLAY_MAX, replay_one, &fc);
	if (rc == XQ_OK)
		rc = flush_rows(&fc);
	free(fc.json);
	if (rc != XQ_OK) {
		/* rows of a failed batch may be partly in: replaying them is harmless */
		sp.done = start;
		db_lost(now_ms);
		return;
	}
	if (sp.done < sp.bytes)
		return;
	/* everything up to here is stored; replaying it again would be harmless */
	if (spool_clear(&sp) != XQ_OK)
		log_error("xq-collector: cannot empty the spool: %s", strerror(errno));
}

/* ------------------------------------------------------------ readings */

/*
 * Validates a reading against the meter's previous one (6.5, 6.8) and spools
 * it with status and flag_reason; a flagged reading also raises an alert.
 */
static void store_reading(struct gateway *g, struct cmeter *m, const struct meter_values *v,
			  int64_t read_at_ms)
{
	int64_t value = g->p->kind == METER_WATER ? v->total_l : v->total_wh;
	const char *status = "ok", *why = "-";
	char rates[4][24], dedup[96], msg[160];
	struct valid_in vin = { 0 };
	struct valid_out vout;

	for (int i = 0; i < 4; i++) {
		if (g->p->kind == METER_ELECTRIC && (v->have_rates & (1u << i)))
			xq_snprintf(rates[i], sizeof(rates[i]), "%" PRId64, v->rate_wh[i]);
		else
			xq_snprintf(rates[i], sizeof(rates[i]), "-");
	}
	/* the rules are lib/valid.c, shared with manual entry (docs/readings.md) */
	vin.at_ms = read_at_ms;
	vin.value = value;
	vin.prev.have = m->have_prev;
	vin.prev.at_ms = m->prev_at_ms;
	vin.prev.value = m->prev;
	vin.modulus = m->modulus;
	vin.max_per_h = g->p->kind == METER_WATER ? WATER_MAX_L_PER_H : cfg.collector_max_kw * 1000;
	vin.min_hours_x1000 = interval_ms / 3600;
	valid_check(&vin, &vout);
	if (vout.flagged)
		status = "flagged";
	if (vout.reason[0])
		why = vout.reason;
	m->same = m->have_prev && value == m->prev ? m->same + 1 : 0;
	/* once per run of equal readings: a stopped register or a frozen meter */
	if (cfg.collector_stuck_polls && m->same == cfg.collector_stuck_polls && !strcmp(status, "ok")) {
		status = "flagged";
		why = "stuck";
	}
	spool_put("R %" PRId64 " %" PRId64 " %" PRId64 " %s %s %s %s %s %s", m->id, read_at_ms, value,
		  rates[0], rates[1], rates[2], rates[3], status, why);
	if (!strcmp(status, "flagged")) {
		n_flagged++;
		xq_snprintf(dedup, sizeof(dedup), "reading_flagged:%" PRId64 ":%" PRId64, m->id,
			    read_at_ms / 1000);
		xq_snprintf(msg, sizeof(msg), "表 %s 读数异常 (%s): %" PRId64 " -> %" PRId64,
			    m->addr_text, why, m->prev, value);
		alert(m->community_id, m->id, strcmp(why, "stuck") ? "reading_flagged" : "zero_use",
		      "warning", dedup, msg);
	}
	if (read_at_ms >= m->prev_at_ms) {
		m->prev = value;
		m->prev_at_ms = read_at_ms;
		m->have_prev = 1;
	}
}

/* ------------------------------------------------------------ relay commands */

/*
 * Remote trip/close (meter_command, approved in the console by a second
 * staff member). Every CMD_POLL_MS the collector claims the approved rows of
 * its shard's DL/T 645 buses (UPDATE ... WHERE state = 'approved' -> 'sent',
 * so two collectors never both take one) and loads every 'sent' row it owns,
 * which after a restart includes the ones it had not finished. A command
 * goes out before the next meter read on its bus; a timeout is retried
 * after 1, 2, 4 s (the bus keeps reading meters meanwhile), CMD_TRIES in
 * all; the meter's answer or the give-up decides done/failed, written with
 * an audit row. The outcome stays in memory until the database has it.
 */
static char collector_name[64];
static int64_t cmd_poll_at_ms;

DB_QUERY(q_cmd_claim) = {
	"collector_cmd_claim",
	"UPDATE meter_command c JOIN meter m ON m.id = c.meter_id JOIN gateway g ON g.id = m.gateway_id"
	" SET c.state = 'sent', c.sent_at = CURRENT_TIMESTAMP(3), c.collector = ?"
	" WHERE c.state = 'approved' AND g.shard = ? AND g.enabled = 1 AND g.protocol = 'dlt645'",
	"sl", NULL
};

DB_QUERY(q_cmd_mine) = {
	"collector_cmd_mine",
	"SELECT id, meter_id, command FROM meter_command WHERE state = 'sent' AND collector = ?"
	" ORDER BY id",
	"s", "lls"
};

DB_QUERY(q_cmd_finish) = {
	"collector_cmd_finish",
	"UPDATE meter_command SET state = ?, done_at = CURRENT_TIMESTAMP(3), result = ?"
	" WHERE id = ? AND state = 'sent'",
	"ssl", NULL
};

static void cmd_decide(struct ccmd *c, const char *outcome, const char *fmt, ...) XQ_PRINTF(3, 4);
static void cmd_decide(struct ccmd *c, const char *outcome, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->result, sizeof(c->result), fmt, ap);
	va_end(ap);
	c->outcome = outcome;
	log_info("xq-collector: command %" PRId64 " (%s meter %s): %s, %s", c->id,
		 c->trip ? "trip" : "close", c->m ? c->m->addr_text : "?", outcome, c->result);
}

static int cmd_finish_tx(struct db *d, void *arg)
{
	struct ccmd *c = arg;
	struct audit_actor who = { 0, collector_name, "", "" };
	cJSON *after;
	int rc;

	if ((rc = db_run(d, &q_cmd_finish, NULL, c->outcome, c->result, c->id)) != XQ_OK)
		return rc;
	after = cJSON_CreateObject();
	cJSON_AddNumberToObject(after, "command_id", (double)c->id);
	cJSON_AddStringToObject(after, "state", c->outcome);
	cJSON_AddStringToObject(after, "result", c->result);
	rc = audit_write(d, &who, c->trip ? "trip" : "close", "meter", c->m ? c->m->id : 0, NULL,
			 after);
	cJSON_Delete(after);
	return rc;
}

static struct ccmd *cmd_known(int64_t id)
{
	for (size_t i = 0; i < ngw; i++)
		for (struct ccmd *c = gws[i]->cmds; c; c = c->next)
			if (c->id == id)
				return c;
	return NULL;
}

static struct gateway *meter_gw(int64_t meter_id, struct cmeter **out)
{
	for (size_t i = 0; i < ngw; i++)
		for (size_t k = 0; k < gws[i]->n; k++)
			if (gws[i]->m[k]->id == meter_id) {
				*out = gws[i]->m[k];
				return gws[i];
			}
	return NULL;
}

static void cmd_poll(int64_t now_ms)
{
	struct db_res res;

	if (!db_up || now_ms < cmd_poll_at_ms)
		return;
	cmd_poll_at_ms = now_ms + CMD_POLL_MS;
	/* outcomes first, so a finished command leaves the 'sent' set before we reload it */
	for (size_t i = 0; i < ngw; i++) {
		struct ccmd **pp = &gws[i]->cmds;

		while (*pp) {
			struct ccmd *c = *pp;

			if (!c->outcome || c == gws[i]->cur_cmd) {
				pp = &c->next;
				continue;
			}
			if (db_tx(db, cmd_finish_tx, c) != XQ_OK) {
				db_lost(now_ms);
				return;
			}
			*pp = c->next;
			free(c);
		}
	}
	if (db_run(db, &q_cmd_claim, NULL, collector_name, (int64_t)cfg.collector_shard) != XQ_OK ||
	    db_run(db, &q_cmd_mine, &res, collector_name) != XQ_OK) {
		db_lost(now_ms);
		return;
	}
	for (size_t r = 0; r < res.nrows; r++) {
		struct ccmd *c, **tail;
		struct cmeter *m = NULL;
		struct gateway *g;

		if (cmd_known(db_i64(&res, r, 0)))
			continue;
		c = xq_calloc(1, sizeof(*c));
		c->id = db_i64(&res, r, 0);
		c->trip = !strcmp(db_str(&res, r, 2), "trip");
		g = meter_gw(db_i64(&res, r, 1), &m);
		c->m = m;
		if (!g) {
			/* claimed for this shard but not polled here (e.g. a gateways file): say so */
			cmd_decide(c, "failed", "采集器未接入该表, 无法执行");
			if (db_tx(db, cmd_finish_tx, c) != XQ_OK)
				db_lost(now_ms);
			free(c);
			continue;
		}
		for (tail = &g->cmds; *tail; tail = &(*tail)->next)
			;
		*tail = c;
	}
	db_res_release(&res);
}

/* The first command of g that may go out now, or NULL. */
static struct ccmd *cmd_due(struct gateway *g, int64_t now_us)
{
	for (struct ccmd *c = g->cmds; c; c = c->next)
		if (!c->outcome && now_us >= c->next_us)
			return c;
	return NULL;
}

static void cmd_end(struct gateway *g, int64_t now_us)
{
	g->cur_cmd = NULL;
	g->state = GW_IDLE;
	g->gap_until_us = now_us + (int64_t)g->gap_ms * 1000;
}

static void gw_disconnect(struct gateway *g, int64_t now_us);

static void cmd_send(struct gateway *g, struct ccmd *c, int64_t now_us)
{
	struct dlt645_control ctl = { .pa = 0x02, .password = 0 };
	uint8_t frame[METER_FRAME_MAX + 16];
	time_t t = (time_t)(xq_now_ms() / 1000 + 8 * 3600 + CMD_DEADLINE_MIN * 60);
	struct tm tm;
	size_t len = 0;

	gmtime_r(&t, &tm);
	ctl.cmd = c->trip ? DLT645_CTL_TRIP : DLT645_CTL_CLOSE_NOW;
	ctl.deadline = (struct meter_time){ tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
					    tm.tm_hour, tm.tm_min, tm.tm_sec };
	if (dlt645_build_control(frame, sizeof(frame), &len, DLT645_PREAMBLE, c->m->req.addr.b,
				 &ctl) != XQ_OK) {
		cmd_decide(c, "failed", "无法生成控制命令帧");
		return;
	}
	g->rxlen = 0;
	if (g->link.ops->write(&g->link, frame, len) != (ssize_t)len) {
		gw_disconnect(g, now_us);
		return;
	}
	c->attempts++;
	g->cur_cmd = c;
	g->sent_us = now_us;
	g->deadline_us = now_us + (int64_t)len * 11 * 1000000 / g->baud +
			 (int64_t)g->timeout_ms * 1000;
	g->state = GW_WAIT;
}

static void cmd_timeout(struct gateway *g, int64_t now_us)
{
	struct ccmd *c = g->cur_cmd;

	if (c->attempts >= CMD_TRIES)
		cmd_decide(c, "failed", "电表无应答 (已尝试 %d 次)", c->attempts);
	else
		c->next_us = now_us + (1000000LL << (c->attempts - 1)); /* 1, 2, 4 s */
	cmd_end(g, now_us);
}

/* Bytes arrived for the command in flight: its acknowledgement or refusal. */
static void cmd_reply(struct gateway *g, int64_t now_us)
{
	struct ccmd *c = g->cur_cmd;
	struct meter_frame f;
	struct meter_values v;

	for (;;) {
		int rc = g->p->parse(g->rx, g->rxlen, METER_DIR_REPLY, &f);
		size_t drop = rc == XQ_OK ? f.consumed : f.skip;

		if (rc == XQ_EPROTO)
			g->bad_frames++;
		if (rc == XQ_OK &&
		    dlt645_check_ack(c->m->req.addr.b, DLT645_F_CONTROL, &f, &v) == XQ_OK) {
			g->rxlen = 0;
			if (v.err)
				cmd_decide(c, "failed", "电表拒绝执行: %s",
					   dlt645_err_text((uint8_t)v.err, 0, 1));
			else
				cmd_decide(c, "done", "%s成功, 电表已确认", c->trip ? "拉闸" : "合闸");
			cmd_end(g, now_us);
			return;
		}
		if (drop > g->rxlen)
			drop = g->rxlen;
		memmove(g->rx, g->rx + drop, g->rxlen - drop);
		g->rxlen -= drop;
		if (rc == XQ_EAGAIN || g->rxlen == 0)
			return;
	}
}

/* ------------------------------------------------------------ the bus */

static void gw_disconnect(struct gateway *g, int64_t now_us)
{
	if (g->link.fd >= 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, g->link.fd, NULL);
		g->link.ops->close(&g->link);
	}
	if (g->cur_cmd) /* the attempt counts; it goes out again once reconnected */
		g->cur_cmd = NULL;
	g->state = GW_DOWN;
	g->backoff_ms = g->backoff_ms ? (g->backoff_ms * 2 > 10000 ? 10000 : g->backoff_ms * 2) : 500;
	g->deadline_us = now_us + (int64_t)g->backoff_ms * 1000;
	g->rxlen = 0;
}

static void gw_connect(struct gateway *g, int64_t now_us)
{
	int inprog = 0;

	if (g->host[0] == '/') {
		/* a local serial port: DL/T 645 and CJ/T 188 buses are 8E1, Modbus RTU 8N1 */
		int even = g->p != &proto_modbus_rtu;

		if (link_serial_open(&g->link, g->host, g->baud, even) != XQ_OK) {
			log_warn("xq-collector: gateway %" PRId64 ": cannot open %s: %s", g->id,
				 g->host, strerror(errno));
			gw_disconnect(g, now_us);
			return;
		}
		log_info("xq-collector: gateway %" PRId64 " opened %s at %d baud 8%c1 (%s)", g->id,
			 g->host, g->baud, even ? 'E' : 'N', g->p->name);
		g->backoff_ms = 0;
	} else if (link_tcp_open(&g->link, g->host, g->port, &inprog) != XQ_OK) {
		gw_disconnect(g, now_us);
		return;
	}
	g->connects++;
	g->state = inprog ? GW_CONNECTING : GW_IDLE;
	ep_set(g->link.fd, g, inprog ? EPOLLOUT : EPOLLIN, EPOLL_CTL_ADD);
	g->deadline_us = now_us + (int64_t)g->timeout_ms * 1000;
}

/* Meter idx is finished for this slot (read, refused, or given up). */
static void next_meter(struct gateway *g, int64_t now_us)
{
	g->idx++;
	g->attempt = 0;
	g->state = GW_IDLE;
	g->gap_until_us = now_us + (int64_t)g->gap_ms * 1000;
}

static void gw_send(struct gateway *g, int64_t now_us)
{
	struct cmeter *m = g->m[g->idx];
	uint8_t frame[METER_FRAME_MAX + 16];
	size_t len = 0;
	ssize_t w;

	if (m->unsupported || g->p->build_read(&m->req, frame, sizeof(frame), &len) != XQ_OK) {
		next_meter(g, now_us);
		return;
	}
	g->rxlen = 0; /* a late reply to a timed-out request must not match this one */
	w = g->link.ops->write(&g->link, frame, len);
	if (w != (ssize_t)len) {
		g->fail++;
		gw_disconnect(g, now_us);
		return;
	}
	g->attempt++;
	g->sent_us = now_us;
	/* the request's air time at the bus speed, plus the configured reply timeout */
	g->deadline_us = now_us + (int64_t)len * 11 * 1000000 / g->baud +
			 (int64_t)g->timeout_ms * 1000;
	g->state = GW_WAIT;
}

/* A meter did not answer properly (timeout or bad frames): retry or give up. */
static void gw_failed(struct gateway *g, int64_t now_us)
{
	if (g->attempt <= cfg.collector_retries) {
		g->state = GW_IDLE;
		g->gap_until_us = now_us + (int64_t)g->gap_ms * 1000;
		return;
	}
	g->fail++;
	next_meter(g, now_us);
}

static void gw_reply(struct gateway *g, int64_t now_us)
{
	struct cmeter *m;
	struct meter_frame f;
	struct meter_values v;

	if (g->cur_cmd) {
		cmd_reply(g, now_us);
		return;
	}
	m = g->m[g->idx];
	for (;;) {
		int rc = g->p->parse(g->rx, g->rxlen, METER_DIR_REPLY, &f);
		size_t drop;

		if (rc == XQ_EAGAIN) {
			drop = f.skip;
		} else if (rc == XQ_EPROTO) {
			g->bad_frames++;
			drop = f.skip;
		} else {
			drop = f.consumed;
			if (g->p->decode(&m->req, &f, &v) == XQ_OK) {
				double lat = (double)(now_us - g->sent_us) / 1e6;

				g->lat_sum += lat;
				g->lat_n++;
				g->rxlen = 0;
				if (v.err) {
					/* the meter heard us and said no: no retry (2.8) */
					g->err_reply++;
					if (v.err_class == MV_ERR_UNSUPPORTED)
						m->unsupported = 1;
					log_info("xq-collector: meter %s refused: %s", m->addr_text,
						 v.err_en ? v.err_en : "error");
				} else {
					g->ok++;
					g->slot_ok++;
					m->missed = 0;
					m->done_slot = g->slot;
					store_reading(g, m, &v, g->slot * interval_ms);
				}
				next_meter(g, now_us);
				return;
			}
			g->bad_frames++; /* stale or for another meter: keep listening */
		}
		if (drop > g->rxlen)
			drop = g->rxlen;
		memmove(g->rx, g->rx + drop, g->rxlen - drop);
		g->rxlen -= drop;
		if (rc == XQ_EAGAIN || g->rxlen == 0)
			return;
	}
}

/* A new slot starts: account for the previous one, then poll everyone again. */
static void gw_new_slot(struct gateway *g, int64_t slot, int64_t now_ms)
{
	char dedup[96], msg[160], day[32];

	fmt_utc(now_ms, day, sizeof(day));
	day[10] = '\0';
	if (g->slot >= 0) {
		if (g->slot_ok == 0 && g->n > 0)
			g->missed_cycles++;
		else
			g->missed_cycles = 0;
		/* every meter silent: suspect the gateway, not each meter (6.2) */
		if (g->missed_cycles == cfg.collector_offline_cycles) {
			xq_snprintf(dedup, sizeof(dedup), "gateway_offline:%" PRId64 ":%s", g->id, day);
			xq_snprintf(msg, sizeof(msg), "采集网关 %s:%d 离线, %zu 块表无法抄读", g->host,
				    g->port, g->n);
			alert(g->community_id, 0, "meter_offline", "critical", dedup, msg);
		}
		for (size_t i = 0; i < g->n && g->missed_cycles == 0; i++) {
			struct cmeter *m = g->m[i];

			if (m->done_slot == g->slot)
				continue;
			if (++m->missed == cfg.collector_offline_cycles) {
				xq_snprintf(dedup, sizeof(dedup), "meter_offline:%" PRId64 ":%s", m->id,
					    day);
				xq_snprintf(msg, sizeof(msg), "表 %s 连续 %d 次抄表失败", m->addr_text,
					    m->missed);
				alert(m->community_id, m->id, "meter_offline", "warning", dedup, msg);
			}
		}
	}
	if (g->state == GW_WAIT && g->cur_cmd)
		cmd_timeout(g, xq_mono_us()); /* a command is not abandoned: it is retried */
	if (g->state == GW_WAIT)
		g->state = GW_IDLE; /* the old slot's request is abandoned */
	g->slot = slot;
	g->idx = 0;
	g->attempt = 0;
	g->slot_ok = 0;
}

static void gw_tick(struct gateway *g, int64_t slot, int64_t now_us, int64_t now_ms)
{
	if (slot != g->slot)
		gw_new_slot(g, slot, now_ms);
	switch (g->state) {
	case GW_DOWN:
		if (now_us >= g->deadline_us)
			gw_connect(g, now_us);
		break;
	case GW_CONNECTING:
		if (now_us >= g->deadline_us) {
			g->fail++;
			gw_disconnect(g, now_us);
		}
		break;
	case GW_IDLE: {
		struct ccmd *c;

		/* a relay command goes before the next read: a resident waits for it */
		if (now_us >= g->gap_until_us && (c = cmd_due(g, now_us))) {
			cmd_send(g, c, now_us);
			break;
		}
		while (g->idx < g->n && g->m[g->idx]->done_slot == g->slot)
			g->idx++;
		if (g->idx < g->n && now_us >= g->gap_until_us)
			gw_send(g, now_us);
		break;
	}
	case GW_WAIT:
		if (now_us >= g->deadline_us) {
			g->timeouts++;
			if (g->cur_cmd)
				cmd_timeout(g, now_us);
			else
				gw_failed(g, now_us);
		}
		break;
	}
}

static void gw_event(struct gateway *g, uint32_t events, int64_t now_us)
{
	if (g->state == GW_CONNECTING) {
		if (link_tcp_finish(&g->link) != XQ_OK) {
			g->fail++;
			gw_disconnect(g, now_us);
			return;
		}
		g->backoff_ms = 0;
		g->state = GW_IDLE;
		ep_set(g->link.fd, g, EPOLLIN, EPOLL_CTL_MOD);
		log_info("xq-collector: gateway %" PRId64 " connected (%s:%d, %s)", g->id, g->host,
			 g->port, g->p->name);
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		ssize_t r;

		if (g->rxlen == sizeof(g->rx))
			g->rxlen = 0;
		r = g->link.ops->read(&g->link, g->rx + g->rxlen, sizeof(g->rx) - g->rxlen);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
			log_warn("xq-collector: gateway %" PRId64 " closed the connection", g->id);
			gw_disconnect(g, now_us);
			return;
		}
		if (r < 0)
			return;
		g->rxlen += (size_t)r;
		if (g->state == GW_WAIT)
			gw_reply(g, now_us);
		else
			g->rxlen = 0; /* noise, heartbeats or late replies between requests */
	}
}

/* ------------------------------------------------------------ metrics */

static void metrics(char **out, size_t *len)
{
	size_t cap = 4096 + ngw * 1024, n = 0;
	char *b = xq_malloc(cap);

#define P(...) n += (size_t)snprintf(b + n, n < cap ? cap - n : 0, __VA_ARGS__)
	P("# TYPE xq_collector_polls_total counter\n");
	for (size_t i = 0; i < ngw; i++) {
		struct gateway *g = gws[i];

		P("xq_collector_polls_total{gateway=\"%" PRId64 "\",result=\"ok\"} %" PRIu64 "\n", g->id,
		  g->ok);
		P("xq_collector_polls_total{gateway=\"%" PRId64 "\",result=\"fail\"} %" PRIu64 "\n", g->id,
		  g->fail);
		P("xq_collector_polls_total{gateway=\"%" PRId64 "\",result=\"error_reply\"} %" PRIu64 "\n",
		  g->id, g->err_reply);
		P("xq_collector_timeouts_total{gateway=\"%" PRId64 "\"} %" PRIu64 "\n", g->id,
		  g->timeouts);
		P("xq_collector_bad_frames_total{gateway=\"%" PRId64 "\"} %" PRIu64 "\n", g->id,
		  g->bad_frames);
		P("xq_collector_latency_seconds_sum{gateway=\"%" PRId64 "\"} %.6f\n", g->id, g->lat_sum);
		P("xq_collector_latency_seconds_count{gateway=\"%" PRId64 "\"} %" PRIu64 "\n", g->id,
		  g->lat_n);
		P("xq_collector_gateway_up{gateway=\"%" PRId64 "\"} %d\n", g->id,
		  g->state == GW_IDLE || g->state == GW_WAIT);
		P("xq_collector_gateway_meters{gateway=\"%" PRId64 "\"} %zu\n", g->id, g->n);
	}
	P("xq_collector_spool_records %" PRId64 "\n", sp.records);
	P("xq_collector_spool_bytes %" PRId64 "\n", sp.bytes);
	P("xq_collector_readings_spooled_total %" PRIu64 "\n", n_spooled);
	P("xq_collector_readings_stored_total %" PRIu64 "\n", n_stored);
	P("xq_collector_readings_flagged_total %" PRIu64 "\n", n_flagged);
	P("xq_collector_alerts_total %" PRIu64 "\n", n_alerts);
	P("xq_collector_db_errors_total %" PRIu64 "\n", n_db_errors);
	P("xq_collector_db_up %d\n", db_up);
#undef P
	if (n >= cap)
		n = cap - 1;
	*out = b;
	*len = n;
}

static void http_accept(void)
{
	int fd = accept4(http_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	size_t i;

	if (fd < 0)
		return;
	for (i = 0; i < MAX_HTTP && https[i]; i++)
		;
	if (i == MAX_HTTP) {
		close(fd);
		return;
	}
	https[i] = xq_calloc(1, sizeof(**https));
	https[i]->tag = TAG_HTTP;
	https[i]->fd = fd;
	ep_set(fd, https[i], EPOLLIN, EPOLL_CTL_ADD);
}

static void http_close(struct http_conn *h)
{
	for (size_t i = 0; i < MAX_HTTP; i++)
		if (https[i] == h)
			https[i] = NULL;
	close(h->fd);
	free(h);
}

/* Any complete GET gets the metrics (the response is small: one send). */
static void http_event(struct http_conn *h)
{
	char hdr[160], *body;
	size_t blen;
	ssize_t r = recv(h->fd, h->buf + h->len, sizeof(h->buf) - 1 - h->len, 0);
	int n;

	if (r <= 0) {
		if (r == 0 || errno != EAGAIN)
			http_close(h);
		return;
	}
	h->len += (size_t)r;
	h->buf[h->len] = '\0';
	if (!strstr(h->buf, "\r\n\r\n") && h->len < sizeof(h->buf) - 1)
		return;
	metrics(&body, &blen);
	n = snprintf(hdr, sizeof(hdr),
		     "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
		     blen);
	(void)!send(h->fd, hdr, (size_t)n, MSG_NOSIGNAL);
	(void)!send(h->fd, body, blen, MSG_NOSIGNAL);
	free(body);
	http_close(h);
}

static int http_listen(int port)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 8)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ------------------------------------------------------------ setup */

DB_QUERY(q_setup_pairs) = {
	"collector_setup_pairs",
	"SELECT h.building_id, m.protocol, b.name FROM meter m"
	" JOIN house h ON h.id = m.house_id JOIN building b ON b.id = h.building_id"
	" JOIN community c ON c.id = m.community_id"
	" WHERE c.code = ? AND m.smart = 1 AND m.status = 'active' AND m.gateway_id IS NULL"
	" AND m.protocol IN ('dlt645', 'cjt188', 'modbus')"
	" GROUP BY h.building_id, m.protocol, b.name ORDER BY h.building_id, m.protocol",
	"s", "lss"
};

DB_QUERY(q_setup_next_port) = {
	"collector_setup_next_port",
	"SELECT COALESCE(MAX(port) + 1, 0) FROM gateway WHERE port >= ?",
	"i", "l"
};

DB_QUERY(q_setup_gw_ins) = {
	"collector_setup_gw_ins",
	"INSERT INTO gateway (community_id, name, host, port, protocol, baud, timeout_ms, shard)"
	" SELECT b.community_id, ?, '127.0.0.1', ?, ?, ?, ?, 0 FROM building b WHERE b.id = ?",
	"sisiil", NULL
};

DB_QUERY(q_setup_link_house) = {
	"collector_setup_link_house",
	"UPDATE meter m JOIN house h ON h.id = m.house_id SET m.gateway_id = ?"
	" WHERE h.building_id = ? AND m.protocol = ? AND m.smart = 1 AND m.gateway_id IS NULL",
	"lls", NULL
};

DB_QUERY(q_setup_link_supply) = {
	"collector_setup_link_supply",
	"UPDATE meter s JOIN meter c ON c.parent_meter_id = s.id JOIN house h ON h.id = c.house_id"
	" SET s.gateway_id = ? WHERE h.building_id = ? AND s.protocol = ? AND s.smart = 1"
	" AND s.house_id IS NULL AND s.gateway_id IS NULL",
	"lls", NULL
};

struct setup_arg {
	const char *code;
	int made;
};

static int setup_tx(struct db *d, void *arg)
{
	struct setup_arg *sa = arg;
	struct db_res pairs, np;
	int64_t port;
	int rc;

	sa->made = 0;
	if ((rc = db_run(d, &q_setup_pairs, &pairs, sa->code)) != XQ_OK)
		return rc;
	if ((rc = db_run(d, &q_setup_next_port, &np, (int)cfg.metersim_base_port)) != XQ_OK) {
		db_res_release(&pairs);
		return rc;
	}
	port = db_i64(&np, 0, 0);
	db_res_release(&np);
	if (port < cfg.metersim_base_port)
		port = cfg.metersim_base_port;
	for (size_t r = 0; r < pairs.nrows && rc == XQ_OK; r++, port++) {
		int64_t b = db_i64(&pairs, r, 0), gw;
		const char *proto = db_str(&pairs, r, 1);
		char name[64];

		xq_snprintf(name, sizeof(name), "%s %s", db_str(&pairs, r, 2),
			    strcmp(proto, "cjt188") ? "电表" : "水表");
		/* water meters on M-Bus are slower to answer than electricity meters;
		 * Modbus meters (meter.protocol modbus) hang on RTU buses */
		if ((rc = db_run(d, &q_setup_gw_ins, NULL, name, (int)port,
				 strcmp(proto, "modbus") ? proto : "modbus-rtu",
				 (int)cfg.metersim_baud, strcmp(proto, "cjt188") ? 1000 : 2000, b)))
			break;
		gw = db_insert_id(d);
		if ((rc = db_run(d, &q_setup_link_house, NULL, gw, b, proto)) ||
		    (rc = db_run(d, &q_setup_link_supply, NULL, gw, b, proto)))
			break;
		sa->made++;
	}
	db_res_release(&pairs);
	return rc;
}

/* --setup CODE: one gateway per building and protocol, meters linked to it. */
static int cmd_setup(const char *code)
{
	struct setup_arg sa = { code, 0 };
	int rc;

	if (db_open(&db, &cfg) != XQ_OK) {
		fprintf(stderr, "xq-collector: database not reachable\n");
		return 1;
	}
	rc = db_tx(db, setup_tx, &sa);
	if (rc != XQ_OK) {
		fprintf(stderr, "xq-collector: setup failed: %s\n", db_errmsg(db));
		return 1;
	}
	printf("xq-collector: community %s: %d gateways created\n", code, sa.made);
	return 0;
}

/* ------------------------------------------------------------ bench */

DB_QUERY(q_bench_clean) = {
	"collector_bench_clean",
	"DELETE FROM meter_reading WHERE meter_id >= ?",
	"l", NULL
};

#define BENCH_METER0 9000000000ll /* far above real ids: meter_reading has no FK */

/*
 * --bench-store N: the spool/batch path alone. Appends N readings of 1000
 * fake meters to the spool, flushes them into MariaDB, prints both rates,
 * then deletes the rows again.
 */
static int cmd_bench_store(int64_t n)
{
	int64_t t0, t1, t2, now = xq_now_ms() / interval_ms * interval_ms;

	if (spool_open(&sp, cfg.collector_spool_file) != XQ_OK || spool_clear(&sp) != XQ_OK ||
	    db_ensure(xq_now_ms()) != XQ_OK) {
		fprintf(stderr, "xq-collector: bench needs the spool and the database\n");
		return 1;
	}
	t0 = xq_mono_us();
	for (int64_t i = 0; i < n; i++)
		spool_put("R %lld %lld %lld %lld %lld %lld %lld ok -", BENCH_METER0 + i % 1000,
			  (long long)(now - (i / 1000) * interval_ms), (long long)(1000000 + i),
			  (long long)i, 0ll, 1000000ll, 0ll);
	spool_sync(&sp, xq_now_ms(), 0);
	t1 = xq_mono_us();
	while (sp.records && db_up)
		flush(xq_now_ms() + 10 * FLUSH_MS);
	t2 = xq_mono_us();
	printf("spool append+fsync: %lld readings in %.3f s = %.0f readings/s\n", (long long)n,
	       (double)(t1 - t0) / 1e6, (double)n * 1e6 / (double)(t1 - t0 + 1));
	printf("spool -> MariaDB (batches of %d): %lld stored in %.3f s = %.0f readings/s%s\n",
	       BATCH_MAX, (long long)n_stored, (double)(t2 - t1) / 1e6,
	       (double)n_stored * 1e6 / (double)(t2 - t1 + 1), sp.records ? " (INCOMPLETE)" : "");
	db_run(db, &q_bench_clean, NULL, (int64_t)BENCH_METER0);
	spool_close(&sp);
	return n_stored == (uint64_t)n ? 0 : 1;
}

/* ------------------------------------------------------------ main */

static void usage(void)
{
	fprintf(stderr, "usage: xq-collector [-c xiaoqu.conf] [--setup COMMUNITY_CODE | --bench-store N]\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = { { "setup", required_argument, NULL, 's' },
						  { "bench-store", required_argument, NULL, 'b' },
						  { "help", no_argument, NULL, 'h' },
						  { NULL, 0, NULL, 0 } };
	const char *conf = getenv("XQ_CONFIG"), *setup = NULL, *bench = NULL;
	char err[256];
	enum log_level lvl;
	int opt, rc = 0, loaded;
	int64_t reload_at_ms = 0;

	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': conf = optarg; break;
		case 's': setup = optarg; break;
		case 'b': bench = optarg; break;
		default: usage(); return 2;
		}
	}
	if (config_load(&cfg, conf, err, sizeof(err)) != XQ_OK) {
		fprintf(stderr, "xq-collector: %s\n", err);
		return 1;
	}
	if (log_parse_level(cfg.log_level, &lvl) == XQ_OK)
		log_set_level(lvl);
	db_library_init();
	interval_ms = cfg.collector_interval_s * 1000;
	if (setup || bench) {
		int64_t nb = 0;

		if (bench && (xq_parse_i64(bench, &nb) != XQ_OK || nb < 1)) {
			usage();
			return 2;
		}
		rc = setup ? cmd_setup(setup) : cmd_bench_store(nb);
		db_close(db);
		db_library_end();
		config_release(&cfg);
		return rc;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGHUP, on_signal);
	interval_ms = cfg.collector_interval_s * 1000;
	if (spool_open(&sp, cfg.collector_spool_file) != XQ_OK) {
		log_error("xq-collector: cannot open spool %s: %s", cfg.collector_spool_file,
			  strerror(errno));
		return 1;
	}
	log_info("xq-collector: spool %s holds %" PRId64 " records to replay",
		 cfg.collector_spool_file, sp.records);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (cfg.collector_http_port) {
		http_fd = http_listen((int)cfg.collector_http_port);
		if (http_fd < 0) {
			log_error("xq-collector: cannot listen on 127.0.0.1:%lld: %s",
				  (long long)cfg.collector_http_port, strerror(errno));
			return 1;
		}
		ep_set(http_fd, &http_fd, EPOLLIN, EPOLL_CTL_ADD);
	}
	xq_snprintf(collector_name, sizeof(collector_name), "xq-collector/%lld",
		    (long long)cfg.collector_shard);
	loaded = load_config() == XQ_OK;
	log_info("xq-collector: polling every %lld s, metrics on 127.0.0.1:%lld",
		 (long long)cfg.collector_interval_s, (long long)cfg.collector_http_port);
	while (!stop_sig) {
		struct epoll_event ev[64];
		int64_t now_us = xq_mono_us(), now_ms = xq_now_ms(), slot = now_ms / interval_ms;
		int n;

		if (reload_sig || (!loaded && now_ms >= reload_at_ms)) {
			reload_sig = 0;
			loaded = load_config() == XQ_OK;
			reload_at_ms = now_ms + DB_RETRY_MS;
		}
		for (size_t i = 0; i < ngw; i++)
			gw_tick(gws[i], slot, now_us, now_ms);
		/* a backlog is worked off chunk by chunk between bus events */
		if (now_ms - last_flush_ms >= FLUSH_MS || (sp.done > 0 && db_up))
			flush(now_ms);
		cmd_poll(now_ms);
		n = epoll_wait(epfd, ev, 64, 10);
		now_us = xq_mono_us();
		for (int i = 0; i < n; i++) {
			void *p = ev[i].data.ptr;

			if (p == &http_fd)
				http_accept();
			else if (*(int *)p == TAG_GW)
				gw_event(p, ev[i].events, now_us);
			else
				http_event(p);
		}
	}
	log_info("xq-collector: stopping");
	do
		flush(xq_now_ms() + FLUSH_MS);
	while (sp.records && db_up && sp.done > 0);
	spool_close(&sp);
	for (size_t i = 0; i < ngw; i++) {
		if (gws[i]->link.fd >= 0)
			gws[i]->link.ops->close(&gws[i]->link);
		for (size_t k = 0; k < gws[i]->n; k++)
			free(gws[i]->m[k]);
		while (gws[i]->cmds) {
			struct ccmd *c = gws[i]->cmds;

			gws[i]->cmds = c->next;
			free(c);
		}
		free(gws[i]->m);
		free(gws[i]);
	}
	free(gws);
	for (size_t i = 0; i < MAX_HTTP; i++)
		if (https[i])
			http_close(https[i]);
	if (http_fd >= 0)
		close(http_fd);
	close(epfd);
	db_close(db);
	db_library_end();
	config_release(&cfg);
	return 0;
}
