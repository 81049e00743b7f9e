/*
 * metersim.c - xq-metersim: many smart meters behind serial-to-TCP gateways,
 * for the demo and the collector tests (docs/collector.md).
 *
 * Every gateway is one TCP port on 127.0.0.1 carrying one simulated RS-485
 * bus of one protocol (dlt645 or cjt188). Requests are re-framed with the
 * protocol codecs (lib/proto) and answered with their reply encoders, so the
 * simulator and the collector share no code but the codecs. Replies are
 * paced at metersim.baud: the request's own air time plus a turnaround, then
 * one byte every bits/baud, so the collector sees replies split across reads
 * as from a real gateway.
 *
 * Registers advance with a daily load profile (simulated time runs
 * metersim.speed times faster than real time) into the time-of-use register
 * of the hour, in whole register units (10 Wh, 10 L), so sharp + peak + flat
 * + valley == total exactly; they wrap at 10^digits kWh / m3 like the meter.
 *
 * The truth for tests: a control line protocol on 127.0.0.1:control_port
 * (GET, DUMP, SET, FAULT, FREEZE, RELOAD; docs/collector.md), an optional
 * reply log with one line per reply sent, and a state file written on
 * SIGUSR1. Meters come from the gateway/meter tables, or from a file (-f).
 * Single-threaded: one epoll loop, so no locking anywhere.
 */
#include "config.h"
#include "db.h"
#include "log.h"
#include "proto/cjt188.h"
#include "proto/dlt645.h"
#include "proto/modbus.h"
#include "proto/meter_proto.h"
#include "xq.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_GW 4096
#define MAX_CONN 8192
#define TURNAROUND_US 20000 /* meters answer 20..500 ms after the request (6.1) */
#define BITS_PER_BYTE 10    /* 1 start + 8 data + 1 stop; parity would make 11 */
#define CHINA_OFFSET_S (8 * 3600)

enum fault { F_NONE, F_SILENCE, F_GARBAGE, F_BADCS, F_ERROR, F_SLOW };
static const char *const fault_names[] = { "none", "silence", "garbage", "badcs", "error", "slow" };

struct smeter {
	int64_t id;
	char addr_text[METER_ADDR_STR];
	struct meter_req self;
	int64_t modulus;   /* register wraps here (Wh or L) */
	int64_t reg[5];    /* total, sharp, peak, flat, valley: Wh or L, multiples of 10 */
	int64_t acc;       /* energy not yet in a register: W*s, or mL */
	int64_t avg;       /* this meter's average power (W) or flow (mL/s) */
	enum fault fault;
	int64_t slow_ms;
	int tripped; /* relay open after a DL/T 645 trip (0x1C N1 = 1A): no load, registers stop */
};

struct sgw {
	int port;
	const struct meter_proto *p;
	int lfd;
	struct smeter **m;
	size_t n, cap;
};

struct sconn {
	int fd;
	int is_ctl;
	struct sgw *gw;
	uint8_t rx[1024];
	size_t rxlen;
	uint8_t tx[METER_FRAME_MAX + 64];
	size_t txlen, txoff;
	int64_t tx_start_us; /* when byte 0 of tx may leave */
	const struct smeter *tx_meter;
	int tx_log; /* log this reply as truth once it is fully sent */
};

static struct config cfg;
static struct sgw gws[MAX_GW];
static size_t ngw;
static struct smeter **meters;
static size_t nmeters, cap_meters;
static struct sconn *conns[MAX_CONN];
static int epfd = -1, ctl_fd = -1;
static volatile sig_atomic_t stop_sig, dump_sig, reload_sig;
static int frozen;
static int64_t byte_us;
static const char *meter_file;
static int pty_port;         /* -P PORT:FILE: this gateway's bus is a pty, not TCP */
static const char *pty_file; /* where the pty's slave path is written */
static FILE *reply_log;

/* Fraction (per mille) of a household's peak load in each local hour. */
static const int profile[24] = { 300, 250, 220, 200, 200, 250, 400, 650, 700, 600, 550, 600,
				 650, 550, 500, 500, 600, 800, 950, 1000, 950, 850, 700, 450 };
/* Time-of-use period of each local hour: 0 sharp 尖, 1 peak 峰, 2 flat 平, 3 valley 谷. */
static const int tou[24] = { 3, 3, 3, 3, 3, 3, 3, 2, 1, 1, 1, 2,
			     2, 2, 2, 2, 2, 1, 1, 0, 0, 1, 1, 3 };

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		dump_sig = 1;
	else if (sig == SIGHUP)
		reload_sig = 1;
	else
		stop_sig = 1;
}

static int listen_on(int port)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 16)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void ep_add(int fd, void *ptr)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = ptr };

	epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* A small deterministic spread of household sizes, so meters differ. */
static int64_t spread(int64_t id, int64_t lo, int64_t hi)
{
	uint64_t x = (uint64_t)id * 0x9E3779B97F4A7C15ull;

	x ^= x >> 29;
	return lo + (int64_t)(x % (uint64_t)(hi - lo + 1));
}

static int64_t up10(int64_t v)
{
	return v < 0 ? 0 : (v + 9) / 10 * 10;
}

static struct smeter *meter_by_addr(const char *text)
{
	for (size_t i = 0; i < nmeters; i++)
		if (!strcmp(meters[i]->addr_text, text))
			return meters[i];
	return NULL;
}

static int open_pty(struct sgw *g);

static struct sgw *gw_for(int port, const struct meter_proto *p)
{
	for (size_t i = 0; i < ngw; i++)
		if (gws[i].port == port)
			return gws[i].p == p ? &gws[i] : NULL;
	if (ngw == MAX_GW)
		return NULL;
	gws[ngw].port = port;
	gws[ngw].p = p;
	if (port == pty_port) {
		if (open_pty(&gws[ngw]) != XQ_OK)
			return NULL;
		return &gws[ngw++];
	}
	gws[ngw].lfd = listen_on(port);
	if (gws[ngw].lfd < 0) {
		log_error("xq-metersim: cannot listen on 127.0.0.1:%d: %s", port, strerror(errno));
		return NULL;
	}
	ep_add(gws[ngw].lfd, &gws[ngw]);
	return &gws[ngw++];
}

/*
 * Adds one meter (unless its address is known already). Registers are
 * seeded from the last stored reading, rounded up to whole register units,
 * so the first reading the collector takes is never behind the history.
 */
static int add_meter(int port, const char *proto, int64_t id, const char *addr, int64_t digits,
		     const int64_t seed[5], const char *model)
{
	const struct meter_proto *p = proto_find(proto);
	struct smeter *m;
	struct sgw *g;
	int64_t sum = 0;

	if (!p)
		return XQ_EINVAL;
	if (!(g = gw_for(port, p)))
		return XQ_EINVAL;
	/* known already (RELOAD): on this bus, since Modbus unit ids repeat across buses */
	for (size_t i = 0; i < g->n; i++)
		if (!strcmp(g->m[i]->addr_text, addr))
			return XQ_OK;
	if (p != &proto_modbus_rtu && p != &proto_modbus_tcp && meter_by_addr(addr))
		return XQ_OK;
	m = xq_calloc(1, sizeof(*m));
	if (p->addr_parse(addr, &m->self.addr) != XQ_OK) {
		free(m);
		return XQ_EINVAL;
	}
	if (p == &proto_modbus_rtu || p == &proto_modbus_tcp) {
		/* the meter model's register map, exactly as the collector reads it */
		m->self.map = modbus_map_find(model);
		if (!m->self.map) {
			free(m);
			return XQ_EINVAL;
		}
	}
	m->id = id;
	xq_snprintf(m->addr_text, sizeof(m->addr_text), "%s", addr);
	if (digits < 4 || digits > 6)
		digits = 6; /* 8 BCD digits on the wire: XXXXXX.XX */
	m->modulus = 1000;
	for (int64_t i = 0; i < digits; i++)
		m->modulus *= 10;
	for (int i = 1; i < 5; i++) {
		m->reg[i] = up10(seed[i]) % m->modulus;
		sum += m->reg[i];
	}
	m->reg[0] = up10(seed[0]) % m->modulus;
	if (m->reg[0] < sum)
		m->reg[0] = sum;
	m->reg[3] += m->reg[0] - sum; /* whatever the history did not split goes to flat */
	if (p->kind == METER_WATER)
		m->avg = spread(id, 5, 15); /* mL/s at peak: 250..750 L a day */
	else
		m->avg = spread(id, 600, 2500);  /* W at peak */
	if (nmeters == cap_meters) {
		cap_meters = cap_meters ? cap_meters * 2 : 64;
		meters = xq_realloc(meters, cap_meters * sizeof(*meters));
	}
	meters[nmeters++] = m;
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 16;
		g->m = xq_realloc(g->m, g->cap * sizeof(*g->m));
	}
	g->m[g->n++] = m;
	return XQ_OK;
}

DB_QUERY(q_sim_meters) = {
	"metersim_meters",
	"SELECT g.port, g.protocol, m.id, m.address, m.digits,"
	" COALESCE(r.value, m.initial_reading), COALESCE(r.value_sharp, 0),"
	" COALESCE(r.value_peak, 0), COALESCE(r.value_flat, 0), COALESCE(r.value_valley, 0),"
	" m.model"
	" FROM gateway g JOIN meter m ON m.gateway_id = g.id AND m.status = 'active' AND m.smart = 1"
	" LEFT JOIN meter_reading r ON r.meter_id = m.id AND r.read_at ="
	"  (SELECT MAX(r2.read_at) FROM meter_reading r2 WHERE r2.meter_id = m.id)"
	" WHERE g.enabled = 1 ORDER BY g.port, m.id",
	"", "lslslllllls"
};

static int load_db(void)
{
	struct db *db = NULL;
	struct db_res res;
	size_t added = 0;
	int rc;

	rc = db_open(&db, &cfg);
	if (rc == XQ_OK)
		rc = db_run(db, &q_sim_meters, &res);
	if (rc != XQ_OK) {
		log_error("xq-metersim: cannot load meters: %s", db ? db_errmsg(db) : "no db");
		db_close(db);
		return rc;
	}
	for (size_t r = 0; r < res.nrows; r++) {
		int64_t seed[5];
		size_t before = nmeters;

		for (int i = 0; i < 5; i++)
			seed[i] = db_i64(&res, r, 5 + (size_t)i);
		if (add_meter((int)db_i64(&res, r, 0), db_str(&res, r, 1), db_i64(&res, r, 2),
			      db_str(&res, r, 3), db_i64(&res, r, 4), seed, db_str(&res, r, 10)) != XQ_OK)
			log_warn("xq-metersim: skipped meter %s on port %s", db_str(&res, r, 3),
				 db_str(&res, r, 0));
		added += nmeters - before;
	}
	db_res_release(&res);
	db_close(db);
	log_info("xq-metersim: %zu new meters, %zu meters on %zu gateways", added, nmeters, ngw);
	return XQ_OK;
}

/* File lines: "port protocol address digits total_wh_or_l [modbus-model]"; # comments. */
static int load_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256], proto[32], addr[40], model[40];
	int port, digits, n = 0;
	long long total, id = 1;

	if (!f) {
		log_error("xq-metersim: cannot read %s: %s", path, strerror(errno));
		return XQ_EINVAL;
	}
	while (fgets(line, sizeof(line), f)) {
		int64_t seed[5] = { 0 };
		int k;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		model[0] = '\0';
		if ((k = sscanf(line, "%d %31s %39s %d %lld %39s", &port, proto, addr, &digits, &total,
				model)) < 5) {
			log_warn("xq-metersim: %s: bad line '%s'", path, line);
			continue;
		}
		seed[0] = total;
		if (add_meter(port, proto, id++, addr, digits, seed, k == 6 ? model : NULL) == XQ_OK)
			n++;
	}
	fclose(f);
	log_info("xq-metersim: %d meters from %s on %zu gateways", n, path, ngw);
	return XQ_OK;
}

/*
 * Advances every register by dt_ms of real time (dt_ms * speed simulated).
 * Energy accumulates in W*s (mL for water) and moves into the registers in
 * whole units of 10 Wh / 10 L, total and the hour's TOU register together.
 */
static void advance(int64_t now_ms, int64_t dt_ms)
{
	static int64_t t0_ms;
	int64_t sim_s;
	int hour;

	if (!t0_ms)
		t0_ms = now_ms;
	/* simulated local time: runs metersim.speed times faster from start */
	sim_s = (t0_ms + (now_ms - t0_ms) * cfg.metersim_speed) / 1000 + CHINA_OFFSET_S;
	hour = (int)((sim_s / 3600) % 24);
	hour = (int)((sim_s / 3600) % 24);

	if (frozen || dt_ms <= 0)
		return;
	for (size_t i = 0; i < nmeters; i++) {
		struct smeter *m = meters[i];
		int64_t unit = m->self.addr.len == CJT188_ADDR_LEN ? 10000 : 36000; /* 10 L, 10 Wh */
		int64_t add;

		if (m->tripped)
			continue;

		m->acc += m->avg * profile[hour] / 1000 * dt_ms * cfg.metersim_speed / 1000;
		add = m->acc / unit;
		if (add <= 0)
			continue;
		m->acc -= add * unit;
		m->reg[0] = (m->reg[0] + add * 10) % m->modulus;
		m->reg[1 + tou[hour]] = (m->reg[1 + tou[hour]] + add * 10) % m->modulus;
	}
}

static void fill_state(const struct smeter *m, const struct meter_proto *p, struct meter_values *st)
{
	memset(st, 0, sizeof(*st));
	if (p->kind == METER_WATER) {
		st->have = MV_HAVE_L | MV_HAVE_SETTLE;
		st->total_l = m->reg[0];
		st->settle_l = m->reg[0];
		st->unit = CJT188_UNIT_M3;
	} else {
		st->have = MV_HAVE_WH;
		st->total_wh = m->reg[0];
		for (int i = 0; i < METER_RATES; i++)
			st->rate_wh[i] = m->reg[1 + i];
		st->have_rates = 0x0F;
		st->nrates = METER_RATES;
	}
	if (m->fault == F_ERROR)
		st->err = 0x01;
}

static void conn_close(struct sconn *c)
{
	for (size_t i = 0; i < MAX_CONN; i++)
		if (conns[i] == c)
			conns[i] = NULL;
	close(c->fd);
	free(c);
}

/* Minutes since 2000 of a local time, for comparing deadlines. */
static int64_t time_minutes(const struct meter_time *t)
{
	static const int cum[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
	int64_t days = (int64_t)(t->year - 2000) * 365 + (t->year - 2000 + 3) / 4 + cum[t->mon - 1] +
		       t->day - 1 + (t->mon > 2 && t->year % 4 == 0);

	return (days * 24 + t->hour) * 60 + t->min;
}

/*
 * Remote control 0x1C (meter-protocols.md 2.7): trip (1A) opens the relay,
 * close allowed (1B, the resident's button press taken as done) and close
 * now (1C) close it; alarm and power-protect are acknowledged only. A
 * command past its deadline, a malformed one or a meter with fault `error`
 * gets an abnormal reply 0xDC, as a real meter answers.
 */
static int control(struct smeter *m, const struct meter_frame *f, uint8_t *out, size_t cap,
		   size_t *len)
{
	struct dlt645_control c;
	struct meter_time now;
	time_t t = (time_t)(xq_now_ms() / 1000 + CHINA_OFFSET_S);
	struct tm tm;

	gmtime_r(&t, &tm);
	now = (struct meter_time){ tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
				   tm.tm_hour, tm.tm_min, tm.tm_sec };
	if (m->fault == F_ERROR)
		return dlt645_reply_error(out, cap, len, 0, m->self.addr.b, DLT645_F_CONTROL,
					  DLT645_ERR_PASSWORD);
	if (dlt645_decode_control(f, &c) != XQ_OK || time_minutes(&c.deadline) < time_minutes(&now))
		return dlt645_reply_error(out, cap, len, 0, m->self.addr.b, DLT645_F_CONTROL,
					  DLT645_ERR_OTHER);
	if (c.cmd == DLT645_CTL_TRIP)
		m->tripped = 1;
	else if (c.cmd == DLT645_CTL_CLOSE_NOW || c.cmd == DLT645_CTL_CLOSE_ALLOW)
		m->tripped = 0;
	log_info("xq-metersim: meter %s relay %s (N1 %02X)", m->addr_text,
		 m->tripped ? "tripped" : "closed", c.cmd);
	return dlt645_reply_ack(out, cap, len, 0, m->self.addr.b, DLT645_F_CONTROL);
}

/* One request frame arrived: find the meter it addresses and queue the reply. */
static void answer(struct sconn *c, const struct meter_frame *f, int64_t now_us)
{
	struct sgw *g = c->gw;
	struct meter_values st;
	size_t len = 0;

	for (size_t i = 0; i < g->n; i++) {
		struct smeter *m = g->m[i];

		if (!meter_addr_match(&f->addr, &m->self.addr))
			continue;
		if (m->fault == F_SILENCE)
			return;
		fill_state(m, g->p, &st);
		if (g->p == &proto_dlt645 && f->control == DLT645_F_CONTROL) {
			if (control(m, f, c->tx, sizeof(c->tx), &len) != XQ_OK || len == 0)
				return;
		} else if (g->p->build_reply(&m->self, f, &st, c->tx, sizeof(c->tx), &len) != XQ_OK ||
			   len == 0)
			return;
		c->tx_log = m->fault == F_NONE || m->fault == F_SLOW;
		if (m->fault == F_BADCS)
			c->tx[len - 2] ^= 0x5A;
		if (m->fault == F_GARBAGE) {
			xq_random(c->tx, len);
			for (size_t k = 0; k < len; k++)
				if (c->tx[k] == 0x68)
					c->tx[k] = 0x00; /* no frame start: pure noise */
		}
		c->txlen = len;
		c->txoff = 0;
		c->tx_meter = m;
		/* the request's own air time, the meter's turnaround, faults */
		c->tx_start_us = now_us + (int64_t)f->consumed * byte_us + TURNAROUND_US +
				 (m->fault == F_SLOW ? m->slow_ms * 1000 : 0);
		return;
	}
}

static void log_reply(const struct smeter *m)
{
	if (!reply_log)
		return;
	fprintf(reply_log, "%s %lld %lld %lld %lld %lld %lld\n", m->addr_text,
		(long long)xq_now_ms(), (long long)m->reg[0], (long long)m->reg[1],
		(long long)m->reg[2], (long long)m->reg[3], (long long)m->reg[4]);
	fflush(reply_log);
}

/* Sends the bytes of c's reply that are due by now; returns the next due time or 0. */
static int64_t pump(struct sconn *c, int64_t now_us)
{
	size_t due;
	ssize_t w;

	if (c->txlen == 0)
		return 0;
	if (now_us < c->tx_start_us)
		return c->tx_start_us;
	due = (size_t)((now_us - c->tx_start_us) / byte_us) + 1;
	if (due > c->txlen)
		due = c->txlen;
	if (due > c->txoff) {
		w = write(c->fd, c->tx + c->txoff, due - c->txoff); /* SIGPIPE is ignored */
		if (w > 0)
			c->txoff += (size_t)w;
	}
	if (c->txoff >= c->txlen) {
		if (c->tx_log)
			log_reply(c->tx_meter);
		c->txlen = c->txoff = 0;
		return 0;
	}
	return c->tx_start_us + (int64_t)(c->txoff + 1) * byte_us;
}

static void write_state(void)
{
	char tmp[512];
	FILE *f;

	if (!cfg.metersim_state_file || !*cfg.metersim_state_file)
		return;
	xq_snprintf(tmp, sizeof(tmp), "%s.tmp", cfg.metersim_state_file);
	if (!(f = fopen(tmp, "w"))) {
		log_warn("xq-metersim: cannot write %s: %s", tmp, strerror(errno));
		return;
	}
	for (size_t i = 0; i < nmeters; i++)
		fprintf(f, "%s %lld %lld %lld %lld %lld\n", meters[i]->addr_text,
			(long long)meters[i]->reg[0], (long long)meters[i]->reg[1],
			(long long)meters[i]->reg[2], (long long)meters[i]->reg[3],
			(long long)meters[i]->reg[4]);
	fclose(f);
	rename(tmp, cfg.metersim_state_file);
}

static void ctl_reply(struct sconn *c, const char *fmt, ...) XQ_PRINTF(2, 3);
static void ctl_reply(struct sconn *c, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		(void)!send(c->fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1,
			    MSG_NOSIGNAL);
}

static void ctl_meter_line(struct sconn *c, const struct smeter *m)
{
	ctl_reply(c, "%s %lld %lld %lld %lld %lld %s %s\n", m->addr_text, (long long)m->reg[0],
		  (long long)m->reg[1], (long long)m->reg[2], (long long)m->reg[3],
		  (long long)m->reg[4], fault_names[m->fault], m->tripped ? "tripped" : "closed");
}

/* One control command; every answer ends with a line "." (or starts "ERR"). */
static void ctl_command(struct sconn *c, char *line)
{
	char cmd[16] = "", a1[40] = "", a2[24] = "";
	long long v = 0;
	struct smeter *m;
	int n = sscanf(line, "%15s %39s %23s %lld", cmd, a1, a2, &v);

	if (n < 1)
		return;
	if (!strcasecmp(cmd, "DUMP")) {
		for (size_t i = 0; i < nmeters; i++)
			ctl_meter_line(c, meters[i]);
		ctl_reply(c, ".\n");
		return;
	}
	if (!strcasecmp(cmd, "FREEZE")) {
		frozen = a1[0] == '1';
		ctl_reply(c, "OK\n.\n");
		return;
	}
	if (!strcasecmp(cmd, "RELOAD")) {
		int rc = meter_file ? load_file(meter_file) : load_db();

		ctl_reply(c, rc == XQ_OK ? "OK %zu\n.\n" : "ERR reload failed %zu\n", nmeters);
		return;
	}
	if (n < 2 || !(m = meter_by_addr(a1))) {
		ctl_reply(c, "ERR unknown meter or command\n");
		return;
	}
	if (!strcasecmp(cmd, "GET")) {
		ctl_meter_line(c, m);
		ctl_reply(c, ".\n");
	} else if (!strcasecmp(cmd, "SET") && n >= 3) {
		int64_t t;

		if (xq_parse_i64(a2, &t) != XQ_OK || t < 0) {
			ctl_reply(c, "ERR bad value\n");
			return;
		}
		/* A swapped or tampered register: everything lands in flat. */
		m->reg[0] = up10(t) % m->modulus;
		m->reg[1] = m->reg[2] = m->reg[4] = 0;
		m->reg[3] = m->reg[0];
		ctl_reply(c, "OK\n.\n");
	} else if (!strcasecmp(cmd, "FAULT") && n >= 3) {
		size_t k;

		for (k = 0; k < sizeof(fault_names) / sizeof(fault_names[0]); k++)
			if (!strcasecmp(a2, fault_names[k]))
				break;
		if (k == sizeof(fault_names) / sizeof(fault_names[0])) {
			ctl_reply(c, "ERR unknown fault\n");
			return;
		}
		m->fault = (enum fault)k;
		m->slow_ms = n >= 4 ? v : 1000;
		ctl_reply(c, "OK\n.\n");
	} else {
		ctl_reply(c, "ERR unknown command\n");
	}
}

static void on_readable(struct sconn *c, int64_t now_us)
{
	ssize_t r;
	struct meter_frame f;

	if (c->rxlen == sizeof(c->rx))
		c->rxlen = 0; /* noise filled the buffer: a real UART would overrun too */
	r = read(c->fd, c->rx + c->rxlen, sizeof(c->rx) - c->rxlen); /* a socket or a pty */
	if (r <= 0) {
		if (r == 0 || (errno != EAGAIN && errno != EINTR))
			conn_close(c);
		return;
	}
	c->rxlen += (size_t)r;
	if (c->is_ctl) {
		char *nl;

		while ((nl = memchr(c->rx, '\n', c->rxlen))) {
			size_t used = (size_t)(nl - (char *)c->rx) + 1;

			*nl = '\0';
			ctl_command(c, (char *)c->rx);
			memmove(c->rx, c->rx + used, c->rxlen - used);
			c->rxlen -= used;
		}
		return;
	}
	for (;;) {
		int rc = c->gw->p->parse(c->rx, c->rxlen, METER_DIR_REQUEST, &f);
		size_t drop = rc == XQ_OK ? f.consumed : f.skip;

		if (rc == XQ_OK && c->txlen == 0)
			answer(c, &f, now_us);
		if (drop > c->rxlen)
			drop = c->rxlen;
		memmove(c->rx, c->rx + drop, c->rxlen - drop);
		c->rxlen -= drop;
		if (rc == XQ_EAGAIN || c->rxlen == 0)
			break;
	}
}

static void on_accept(int lfd, struct sgw *g)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct sconn *c;
	size_t i;

	if (fd < 0)
		return;
	for (i = 0; i < MAX_CONN && conns[i]; i++)
		;
	if (i == MAX_CONN) {
		close(fd);
		return;
	}
	c = xq_calloc(1, sizeof(*c));
	c->fd = fd;
	c->gw = g;
	c->is_ctl = g == NULL;
	conns[i] = c;
	ep_add(fd, c);
}

/*
 * The bus of gateway g over a pseudo-terminal instead of a TCP port: the
 * master is one connection of g, the slave is the "serial port" the
 * collector opens with termios (collector/link_serial.c); its path goes to
 * pty_file. We hold a slave fd open ourselves, so the master never sees a
 * hangup while no collector has the port open.
 */
static int open_pty(struct sgw *g)
{
	struct termios t;
	struct sconn *c;
	char tmp[512];
	const char *name;
	FILE *f;
	int m, s;
	size_t i;

	g->lfd = -1;
	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0 || grantpt(m) || unlockpt(m) || !(name = ptsname(m)) ||
	    (s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		log_error("xq-metersim: cannot make a pty: %s", strerror(errno));
		if (m >= 0)
			close(m);
		return XQ_ERROR;
	}
	if (tcgetattr(s, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(s, TCSANOW, &t);
	}
	fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK);
	for (i = 0; i < MAX_CONN && conns[i]; i++)
		;
	if (i == MAX_CONN) {
		close(s);
		close(m);
		return XQ_ERROR;
	}
	c = xq_calloc(1, sizeof(*c));
	c->fd = m;
	c->gw = g;
	conns[i] = c;
	ep_add(m, c);
	xq_snprintf(tmp, sizeof(tmp), "%s.tmp", pty_file);
	if (!(f = fopen(tmp, "w")) || fprintf(f, "%s\n", name) < 0 || fclose(f) ||
	    rename(tmp, pty_file)) {
		log_error("xq-metersim: cannot write %s: %s", pty_file, strerror(errno));
		return XQ_ERROR;
	}
	log_info("xq-metersim: gateway port %d served on pty %s (path in %s)", g->port, name,
		 pty_file);
	(void)s; /* kept open for the life of the process */
	return XQ_OK;
}

static void usage(void)
{
	fprintf(stderr, "usage: xq-metersim [-c xiaoqu.conf] [-f meters.txt] [-P PORT:PATHFILE]\n"
			"  meters.txt lines: port protocol address digits total [modbus-model]\n"
			"  -P: the bus of gateway PORT on a pty; its slave path is written to PATHFILE\n");
}

int main(int argc, char **argv)
{
	const char *conf = getenv("XQ_CONFIG");
	char err[256];
	int64_t last_ms;
	int opt, ctl_marker = 0;
	enum log_level lvl;

	while ((opt = getopt(argc, argv, "c:f:P:h")) != -1) {
		switch (opt) {
		case 'c': conf = optarg; break;
		case 'f': meter_file = optarg; break;
		case 'P': {
			char *colon = strchr(optarg, ':');
			int64_t pp;

			if (!colon || !colon[1])
				goto bad;
			*colon = '\0';
			if (xq_parse_i64(optarg, &pp) != XQ_OK || pp < 1 || pp > 65535)
				goto bad;
			pty_port = (int)pp;
			pty_file = colon + 1;
			break;
		}
		bad:
		default: usage(); return 2;
		}
	}
	if (config_load(&cfg, conf, err, sizeof(err)) != XQ_OK) {
		fprintf(stderr, "xq-metersim: %s\n", err);
		return 1;
	}
	if (log_parse_level(cfg.log_level, &lvl) == XQ_OK)
		log_set_level(lvl);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGUSR1, on_signal);
	signal(SIGHUP, on_signal);
	byte_us = BITS_PER_BYTE * 1000000 / cfg.metersim_baud;
	if (cfg.metersim_reply_log && *cfg.metersim_reply_log &&
	    !(reply_log = fopen(cfg.metersim_reply_log, "a")))
		log_warn("xq-metersim: cannot open %s: %s", cfg.metersim_reply_log, strerror(errno));
	epfd = epoll_create1(EPOLL_CLOEXEC);
	ctl_fd = listen_on((int)cfg.metersim_control_port);
	if (epfd < 0 || ctl_fd < 0) {
		log_error("xq-metersim: cannot listen on control port %lld: %s",
			  (long long)cfg.metersim_control_port, strerror(errno));
		return 1;
	}
	ep_add(ctl_fd, &ctl_marker);
	db_library_init();
	if ((meter_file ? load_file(meter_file) : load_db()) != XQ_OK && meter_file)
		return 1;
	log_info("xq-metersim: control on 127.0.0.1:%lld, %lld baud, speed x%lld",
		 (long long)cfg.metersim_control_port, (long long)cfg.metersim_baud,
		 (long long)cfg.metersim_speed);
	last_ms = xq_now_ms();
	while (!stop_sig) {
		struct epoll_event ev[64];
		int64_t now_us = xq_mono_us(), next = now_us + 200000, now_ms;
		int n, timeout;

		for (size_t i = 0; i < MAX_CONN; i++) {
			int64_t due = conns[i] ? pump(conns[i], now_us) : 0;

			if (due && due < next)
				next = due;
		}
		timeout = (int)((next - now_us + 999) / 1000);
		n = epoll_wait(epfd, ev, 64, timeout < 0 ? 0 : timeout);
		now_us = xq_mono_us();
		for (int i = 0; i < n; i++) {
			void *p = ev[i].data.ptr;

			if (p == &ctl_marker) {
				on_accept(ctl_fd, NULL);
				continue;
			}
			if (p >= (void *)gws && p < (void *)(gws + MAX_GW)) {
				on_accept(((struct sgw *)p)->lfd, p);
				continue;
			}
			on_readable(p, now_us);
		}
		now_ms = xq_now_ms();
		if (now_ms - last_ms >= 100) {
			advance(now_ms, now_ms - last_ms);
			last_ms = now_ms;
		}
		if (dump_sig) {
			dump_sig = 0;
			write_state();
		}
		if (reload_sig) {
			reload_sig = 0;
			if (meter_file)
				load_file(meter_file);
			else
				load_db();
		}
	}
	write_state();
	log_info("xq-metersim: stopping");
	for (size_t i = 0; i < MAX_CONN; i++)
		if (conns[i])
			conn_close(conns[i]);
	for (size_t i = 0; i < ngw; i++) {
		close(gws[i].lfd);
		free(gws[i].m);
	}
	for (size_t i = 0; i < nmeters; i++)
		free(meters[i]);
	free(meters);
	if (reply_log)
		fclose(reply_log);
	close(ctl_fd);
	close(epfd);
	db_library_end();
	config_release(&cfg);
	return 0;
}
