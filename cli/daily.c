/*
 * daily.c - `xqctl daily [--date YYYY-MM-DD]` and `xqctl forecast
 * --backtest`. The work is lib/dunning.c, lib/alerts.c and lib/forecast.c;
 * this file parses options, claims the job and prints progress and the
 * summary.
 */
#include "daily.h"
#include "billing.h"
#include "config.h"
#include "db.h"
#include "dunning.h"
#include "forecast.h"
#include "money.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_EXISTS 3

static struct db *open_db(const struct config *cfg)
{
	struct db *db = NULL;

	if (db_open(&db, cfg)) {
		fprintf(stderr, "xqctl: cannot connect to the database (socket '%s', host '%s')\n",
			cfg->db_socket, cfg->db_host);
		db_close(db);
		return NULL;
	}
	return db;
}

struct prog {
	int64_t last_us, last_done;
	char phase[16];
};

/* One line per phase start and end, and every 5 s in between. */
static void daily_progress(void *arg, const char *phase, int64_t done, int64_t total)
{
	struct prog *p = arg;
	int64_t now = xq_mono_us();
	int same = !strcmp(p->phase, phase);

	if (same && done == p->last_done)
		return; /* the library reports the start and the end; 0/0 once is enough */
	if (!same || done == total || now - p->last_us >= 5000000) {
		fprintf(stderr, "xqctl daily: %-8s %" PRId64 "/%" PRId64 "\n", phase, done, total);
		p->last_us = now;
		p->last_done = done;
		xq_snprintf(p->phase, sizeof(p->phase), "%s", phase);
	}
}

int cmd_daily_run(const struct config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "date", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct daily_opts o = { .cfg = cfg };
	struct daily_summary s;
	struct prog pg = { 0, -1, "" };
	char owner[128], host[64] = "", date[11], yuan[MONEY_STR_MAX];
	struct db *db;
	int64_t job_id = 0;
	int opt, rc;

	o.day = daily_today();
	optind = 1;
	while ((opt = getopt_long(argc, argv, "d:", opts, NULL)) != -1) {
		if (opt == 'd' && daily_parse_date(optarg, &o.day) == XQ_OK)
			continue;
		fprintf(stderr, "usage: xqctl daily [--date YYYY-MM-DD]\n");
		return 2;
	}
	if (optind != argc) {
		fprintf(stderr, "usage: xqctl daily [--date YYYY-MM-DD]\n");
		return 2;
	}
	daily_date_text(o.day, date);
	gethostname(host, sizeof(host) - 1);
	xq_snprintf(owner, sizeof(owner), "%s:%ld", host, (long)getpid());
	o.owner = owner;
	o.progress = daily_progress;
	o.progress_arg = &pg;
	if (!(db = open_db(cfg)))
		return 1;
	rc = daily_claim(db, &o, &job_id);
	if (rc == XQ_ECONFLICT) {
		fprintf(stderr, "xqctl daily: %s is being processed by another process (job %" PRId64
				"); a claim without heartbeat for %d s may be taken over\n",
			date, job_id, DAILY_STALE_S);
		db_close(db);
		return EXIT_EXISTS;
	}
	if (rc) {
		fprintf(stderr, "xqctl daily: cannot claim the job: %s (%s)\n", xq_strerror(rc),
			db_errmsg(db));
		db_close(db);
		return 1;
	}
	fprintf(stderr, "xqctl daily: %s, job %" PRId64 "\n", date, job_id);
	rc = daily_run(db, job_id, &o, &s);
	db_close(db);
	money_format_yuan(s.latefee_fen, yuan, sizeof(yuan));
	printf("date %s (job %" PRId64 ")\n", date, job_id);
	printf("late fees: %" PRId64 " overdue bills checked, %" PRId64 " accrued, %" PRId64
	       " entries, %s yuan (%" PRId64 " fen)\n",
	       s.bills_checked, s.bills_accrued, s.latefee_entries, yuan, s.latefee_fen);
	printf("dunning: %" PRId64 " reminders sent, %" PRId64 " failed, %" PRId64
	       " skipped, %" PRId64 " staff tasks\n",
	       s.reminders_sent, s.reminders_failed, s.reminders_skipped, s.staff_tasks);
	printf("alerts: %" PRId64 " raised (%" PRId64 " critical), %" PRId64 " staff notifications\n",
	       s.alerts_raised, s.alerts_critical, s.notifications);
	if (rc) {
		fprintf(stderr, "xqctl daily: failed: %s\n", xq_strerror(rc));
		return 1;
	}
	return 0;
}

/* ---- forecast --backtest ------------------------------------------------ */

DB_QUERY(q_fc_community) = {
	"fc_backtest_series",
	"SELECT m.community_id, m.utility, u.month, SUM(u.usage_total) FROM meter_usage_monthly u"
	" JOIN meter m ON m.id = u.meter_id AND m.kind = 'household'"
	" GROUP BY m.community_id, m.utility, u.month ORDER BY m.community_id, m.utility, u.month",
	"", "lssl",
};

/*
 * Without rollups (the demo loader writes readings only): the last good
 * register of each household meter per Beijing month, so a month's use is
 * the difference to the month before. A one-off offline scan, not a report.
 */
DB_QUERY(q_fc_readings) = {
	"fc_backtest_readings",
	"SELECT m.community_id, m.utility, r.meter_id,"
	" DATE_FORMAT(r.read_at + INTERVAL 8 HOUR, '%Y-%m') AS mon, MAX(r.value) * m.multiplier"
	" FROM meter_reading r JOIN meter m ON m.id = r.meter_id AND m.kind = 'household'"
	" WHERE r.status IN ('ok', 'corrected')"
	" GROUP BY m.community_id, m.utility, r.meter_id, mon, m.multiplier"
	" ORDER BY m.community_id, m.utility, mon, r.meter_id",
	"", "lslsl",
};

#define FC_MONTHS 240

struct fc_series {
	int64_t community_id;
	char utility[12];
	int first;             /* month index of y[0] */
	int64_t y[FC_MONTHS];
	size_t n;
};

static int mon_index(const char *s)
{
	int y, m;
	return s && sscanf(s, "%4d-%2d", &y, &m) == 2 ? y * 12 + m - 1 : -1;
}

/* Sums per (community, utility, month) the month-over-month register deltas. */
static void series_from_readings(const struct db_res *r, struct fc_series *out, size_t cap,
				 size_t *nout)
{
	size_t ns = 0;
	int y0, m0, d0, cur;

	billing_civil(daily_today(), &y0, &m0, &d0);
	cur = y0 * 12 + m0 - 1;

	for (size_t i = 0; i < r->nrows; i++) {
		int64_t cid = db_i64(r, i, 0), meter = db_i64(r, i, 2), v = db_i64(r, i, 4);
		const char *u = db_str(r, i, 1);
		int mi = mon_index(db_str(r, i, 3));
		struct fc_series *s = NULL;
		int64_t prev = -1;

		/* the same meter's previous month, if it is the month before */
		for (size_t j = i; j-- > 0;) {
			if (db_i64(r, j, 2) == meter && db_i64(r, j, 0) == cid) {
				if (mon_index(db_str(r, j, 3)) == mi - 1)
					prev = db_i64(r, j, 4);
				break;
			}
			if (mon_index(db_str(r, j, 3)) < mi - 1)
				break;
		}
		if (prev < 0 || v < prev || mi < 0 || mi >= cur)
			continue; /* first month of a meter, a rollover, or this incomplete month */
		for (size_t k = 0; k < ns; k++)
			if (out[k].community_id == cid && !strcmp(out[k].utility, u))
				s = &out[k];
		if (!s) {
			if (ns == cap)
				continue;
			s = &out[ns++];
			memset(s, 0, sizeof(*s));
			s->community_id = cid;
			xq_snprintf(s->utility, sizeof(s->utility), "%s", u);
			s->first = mi;
		}
		if (mi - s->first < 0 || mi - s->first >= FC_MONTHS)
			continue;
		s->y[mi - s->first] += v - prev;
		if ((size_t)(mi - s->first) + 1 > s->n)
			s->n = (size_t)(mi - s->first) + 1;
	}
	*nout = ns;
}

static void print_bt(const char *what, const int64_t *y, size_t n)
{
	struct forecast f;
	int64_t mape;

	if (n < 13 || forecast_backtest(y, n, 12, &mape, &f)) {
		printf("%-40s %3zu months: too short for a 12-month holdout\n", what, n);
		return;
	}
	printf("%-40s %3zu months, %-14s%s MAPE %" PRId64 ".%02" PRId64 " %%\n", what, n,
	       forecast_method_name(f.method),
	       f.method == FORECAST_HW ? (f.multiplicative ? " (mult.)" : " (add.)") : "", mape / 100,
	       mape % 100);
}

int cmd_forecast_run(const struct config *cfg, int argc, char **argv)
{
	struct db_res r;
	struct db *db;
	int64_t y[240], worst = 0, sum = 0;
	int seeds = 20;

	if (argc != 2 || strcmp(argv[1], "--backtest")) {
		fprintf(stderr, "usage: xqctl forecast --backtest\n");
		return 2;
	}
	/* generated: 5 years, summer peak, 3 %/year growth, 5 % noise, seeds 1..20 */
	for (int seed = 1; seed <= seeds; seed++) {
		int64_t mape;
		forecast_generate((uint64_t)seed, 60, 300000, 35, 7, 3, 5, y);
		if (forecast_backtest(y, 60, 12, &mape, NULL))
			return 1;
		sum += mape;
		if (mape > worst)
			worst = mape;
	}
	printf("generated seasonal data (60 months, 5 %% noise, %d seeds, last 12 held out): mean MAPE "
	       "%" PRId64 ".%02" PRId64 " %%, worst %" PRId64 ".%02" PRId64 " %% (bound 10 %%)\n",
	       seeds, sum / seeds / 100, sum / seeds % 100, worst / 100, worst % 100);
	if (!(db = open_db(cfg)))
		return 1;
	if (db_run(db, &q_fc_community, &r)) {
		fprintf(stderr, "xqctl forecast: %s\n", db_errmsg(db));
		db_close(db);
		return 1;
	}
	if (r.nrows == 0) {
		struct fc_series *ss = xq_calloc(8, sizeof(*ss));
		struct db_res rr;
		size_t ns = 0;

		printf("demo data: no monthly rollups; monthly use from the readings' month-end registers\n");
		if (db_run(db, &q_fc_readings, &rr)) {
			fprintf(stderr, "xqctl forecast: %s\n", db_errmsg(db));
			free(ss);
			db_res_release(&r);
			db_close(db);
			return 1;
		}
		series_from_readings(&rr, ss, 8, &ns);
		db_res_release(&rr);
		for (size_t k = 0; k < ns; k++) {
			char what[80], a[8], b[8];
			xq_snprintf(a, sizeof(a), "%04d-%02d", ss[k].first / 12, ss[k].first % 12 + 1);
			xq_snprintf(b, sizeof(b), "%04d-%02d", (ss[k].first + (int)ss[k].n - 1) / 12,
				    (ss[k].first + (int)ss[k].n - 1) % 12 + 1);
			xq_snprintf(what, sizeof(what), "community %" PRId64 " %s (%s .. %s)",
				    ss[k].community_id, ss[k].utility, a, b);
			print_bt(what, ss[k].y, ss[k].n);
		}
		free(ss);
	}
	for (size_t i = 0; i < r.nrows;) {
		size_t j = i, n = 0;
		char what[80];
		while (j < r.nrows && db_i64(&r, j, 0) == db_i64(&r, i, 0) &&
		       !strcmp(db_str(&r, j, 1), db_str(&r, i, 1))) {
			if (n < XQ_ARRAY_LEN(y))
				y[n++] = db_i64(&r, j, 3);
			j++;
		}
		xq_snprintf(what, sizeof(what), "community %" PRId64 " %s (%s .. %s)", db_i64(&r, i, 0),
			    db_str(&r, i, 1), db_str(&r, i, 2), db_str(&r, j - 1, 2));
		print_bt(what, y, n);
		i = j;
	}
	db_res_release(&r);
	db_close(db);
	return worst < 1000 ? 0 : 1;
}
