/*
 * xqctl.c - the operator CLI: a git-style table of commands, each a
 * function taking its own arguments. Long work prints progress to stderr.
 * Exit codes: 0 done, 1 failed, 2 usage error, 3 already exists / nothing to do
 * that the caller asked to be told about.
 */
#include "auth.h"
#include "billrun.h"
#include "config.h"
#include "daily.h"
#include "db.h"
#include "demo.h"
#include "log.h"
#include "maint.h"
#include "money.h"
#include "payops.h"
#include "reconcile.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_EXISTS 3

static struct config cfg;

static struct db *open_db(void)
{
	struct db *db = NULL;

	if (db_open(&db, &cfg)) {
		fprintf(stderr, "xqctl: cannot connect to the database (socket '%s', host '%s')\n",
			cfg.db_socket, cfg.db_host);
		db_close(db);
		return NULL;
	}
	return db;
}

/* ---- migrate ------------------------------------------------------- */

DB_QUERY(q_mig_table) = {
	"mig_table",
	"CREATE TABLE IF NOT EXISTS schema_migrations ("
	" version VARCHAR(128) NOT NULL PRIMARY KEY,"
	" checksum CHAR(64) NOT NULL,"
	" applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)"
	") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
	"", NULL,
};
DB_QUERY(q_mig_get) = {
	"mig_get", "SELECT checksum FROM schema_migrations WHERE version = ?", "s", "s",
};
DB_QUERY(q_mig_put) = {
	"mig_put", "INSERT INTO schema_migrations (version, checksum) VALUES (?, ?)", "ss", NULL,
};

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_migration(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return n > 8 && d->d_name[0] >= '0' && d->d_name[0] <= '9' &&
	       !strcmp(d->d_name + n - 4, ".sql");
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return NULL;
	}
	data = xq_malloc((size_t)n + 1);
	if (fread(data, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(data);
		return NULL;
	}
	fclose(f);
	data[n] = '\0';
	*len = (size_t)n;
	return data;
}

static void sha256_hex(const char *data, size_t n, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_Digest(data, n, md, &mdlen, EVP_sha256(), NULL);
	xq_hex(md, sizeof(md), out);
}

static int cmd_migrate(int argc, char **argv)
{
	const char *dir = getenv("XQ_SQL_DIR") ? getenv("XQ_SQL_DIR") : "sql";
	struct dirent **ents = NULL;
	struct db *db;
	int n, applied = 0, rc = 0;

	if (argc > 2 && !strcmp(argv[1], "--dir"))
		dir = argv[2];
	if (!(db = open_db()))
		return 1;
	if (db_run(db, &q_mig_table, NULL)) {
		fprintf(stderr, "xqctl migrate: cannot create schema_migrations: %s\n", db_errmsg(db));
		db_close(db);
		return 1;
	}
	n = scandir(dir, &ents, is_migration, by_name);
	if (n < 0) {
		fprintf(stderr, "xqctl migrate: cannot read '%s': %s\n", dir, strerror(errno));
		db_close(db);
		return 1;
	}
	for (int i = 0; i < n && rc == 0; i++) {
		char path[4096], sum[65];
		struct db_res r;
		size_t len;
		char *sql;

		xq_snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		if (!(sql = read_file(path, &len))) {
			fprintf(stderr, "xqctl migrate: cannot read '%s'\n", path);
			rc = 1;
			break;
		}
		sha256_hex(sql, len, sum);
		if (db_run(db, &q_mig_get, &r, ents[i]->d_name)) {
			fprintf(stderr, "xqctl migrate: %s\n", db_errmsg(db));
			free(sql);
			rc = 1;
			break;
		}
		if (r.nrows) {
			/* migrations are append-only: an applied file must never change */
			if (strcmp(db_str(&r, 0, 0), sum)) {
				fprintf(stderr, "xqctl migrate: '%s' was applied but has changed since"
						" (checksum %.12s..., now %.12s...); add a new migration instead\n",
					ents[i]->d_name, db_str(&r, 0, 0), sum);
				rc = 1;
			}
			db_res_release(&r);
			free(sql);
			continue;
		}
		db_res_release(&r);
		fprintf(stderr, "xqctl migrate: applying %s ...\n", ents[i]->d_name);
		if (db_exec_script(db, sql)) {
			fprintf(stderr, "xqctl migrate: %s FAILED: %s (error %u)\n"
					"  MariaDB commits DDL statement by statement, so the statements before the"
					" failing one stay applied; the migration is not recorded. Fix the file or the"
					" database and run migrate again.\n",
				ents[i]->d_name, db_errmsg(db), db_errno(db));
			rc = 1;
		} else if (db_run(db, &q_mig_put, NULL, ents[i]->d_name, sum)) {
			fprintf(stderr, "xqctl migrate: cannot record %s: %s\n", ents[i]->d_name,
				db_errmsg(db));
			rc = 1;
		} else {
			applied++;
		}
		free(sql);
	}
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	db_close(db);
	if (rc == 0)
		fprintf(stderr, "xqctl migrate: %d applied, %d already up to date\n", applied,
			n - applied);
	return rc;
}

/* ---- create-admin / create-staff ------------------------------------ */

static int cmd_create_staff(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "role", required_argument, NULL, 'r' },
		{ "display-name", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	const char *role = "admin", *display = "系统管理员", *pw = getenv("XQ_ADMIN_PASSWORD");
	char line[256];
	struct db *db;
	int64_t id = 0;
	int opt, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "r:d:", opts, NULL)) != -1) {
		if (opt == 'r')
			role = optarg;
		else if (opt == 'd')
			display = optarg;
		else
			return 2;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: xqctl create-admin USERNAME [--role admin|finance|reader|service]"
				" [--display-name NAME]\n  password from XQ_ADMIN_PASSWORD or one line on stdin\n");
		return 2;
	}
	if (!pw) {
		if (isatty(STDIN_FILENO))
			fprintf(stderr, "password: ");
		if (!fgets(line, sizeof(line), stdin)) {
			fprintf(stderr, "xqctl: no password given\n");
			return 2;
		}
		line[strcspn(line, "\r\n")] = '\0';
		pw = line;
	}
	if (!(db = open_db()))
		return 1;
	rc = auth_create_staff(db, argv[optind], display, pw, role, &id);
	db_close(db);
	if (rc == XQ_ECONFLICT) {
		fprintf(stderr, "xqctl: staff user '%s' already exists\n", argv[optind]);
		return EXIT_EXISTS;
	}
	if (rc == XQ_EWEAKPW) {
		fprintf(stderr, "xqctl: password too weak: at least 8 characters with a letter and a digit\n");
		return 2;
	}
	if (rc == XQ_EINVAL) {
		fprintf(stderr, "xqctl: unknown role '%s'\n", role);
		return 2;
	}
	if (rc) {
		fprintf(stderr, "xqctl: cannot create '%s': %s\n", argv[optind], xq_strerror(rc));
		return 1;
	}
	printf("created staff user '%s' (id %lld, role %s)\n", argv[optind], (long long)id, role);
	return 0;
}

/* ---- demo ---------------------------------------------------------- */

static int cmd_demo(int argc, char **argv)
{
	struct demo_opts o = { 200, 1, 12 };
	struct db *db;
	int rc;

	for (int i = 1; i + 1 < argc; i += 2) {
		int64_t v;
		if (xq_parse_i64(argv[i + 1], &v) || v < 1 || v > 100000) {
			fprintf(stderr, "xqctl demo: bad value for %s\n", argv[i]);
			return 2;
		}
		if (!strcmp(argv[i], "--houses"))
			o.houses = (int)v;
		else if (!strcmp(argv[i], "--seed"))
			o.seed = (unsigned)v;
		else if (!strcmp(argv[i], "--months"))
			o.months = (int)v;
		else {
			fprintf(stderr, "usage: xqctl demo [--houses N] [--seed N] [--months N]\n");
			return 2;
		}
	}
	if (!(db = open_db()))
		return 1;
	rc = demo_load(db, &o);
	/* collector area: the demo's charts read the usage rollups, not raw readings */
	if (rc == XQ_OK && maint_rollup(db, 0, 0, 0) != XQ_OK)
		rc = XQ_EDB;
	db_close(db);
	if (rc == XQ_ECONFLICT) {
		fprintf(stderr, "xqctl demo: demo community already loaded\n");
		return EXIT_EXISTS;
	}
	if (rc) {
		fprintf(stderr, "xqctl demo: failed: %s\n", xq_strerror(rc));
		return 1;
	}
	return 0;
}

/* ---- bill ----------------------------------------------------------- */

struct bar {
	int tty;
	int64_t last_pct;
	int64_t last_us;
};

/* A bar redrawn in place on a terminal; a plain line every 5 s otherwise (logs, CI). */
static void bill_progress(void *arg, int64_t done, int64_t total)
{
	struct bar *b = arg;
	int64_t pct = total ? done * 100 / total : 100, now = xq_mono_us();
	char bar[41];
	int fill = (int)(pct * 40 / 100);

	if (b->tty) {
		if (pct == b->last_pct && done != total)
			return;
		for (int i = 0; i < 40; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[40] = '\0';
		fprintf(stderr, "\r[%s] %3" PRId64 "%% %" PRId64 "/%" PRId64 " houses", bar, pct, done,
			total);
		if (done == total)
			fputc('\n', stderr);
	} else {
		if (now - b->last_us < 5000000 && done != total)
			return;
		b->last_us = now;
		fprintf(stderr, "xqctl bill: %" PRId64 "/%" PRId64 " houses (%" PRId64 "%%)\n", done,
			total, pct);
	}
	b->last_pct = pct;
}

static int cmd_bill(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "period", required_argument, NULL, 'p' },
		{ "community", required_argument, NULL, 'c' },
		{ "estimate", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	struct billrun_opts o = { .actor = "xqctl" };
	static int64_t est[BILLRUN_ESTIMATE_MAX];
	struct billrun_summary s;
	struct bar b = { isatty(STDERR_FILENO), -1, 0 };
	char owner[128], host[64] = "", yuan[MONEY_STR_MAX];
	struct db *db;
	int64_t job_id = 0;
	int opt, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "p:c:e:", opts, NULL)) != -1) {
		if (opt == 'p')
			o.period = optarg;
		else if (opt == 'e') {
			/* --estimate 12,34: houses staff chose to bill on an estimate */
			char *save = NULL;
			for (char *t = strtok_r(optarg, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
				if (o.n_estimate == BILLRUN_ESTIMATE_MAX ||
				    xq_parse_i64(t, &est[o.n_estimate]) || est[o.n_estimate] < 1)
					goto usage;
				o.n_estimate++;
			}
			o.estimate_house_ids = est;
		}
		else if (opt == 'c' && xq_parse_i64(optarg, &o.community_id) == XQ_OK &&
			 o.community_id > 0)
			continue;
		else
			goto usage;
	}
	if (!o.period || optind != argc)
		goto usage;
	{
		int y, m;
		int32_t f, l;
		char a[24], e[24];
		if (billrun_period(o.period, &y, &m, &f, &l, a, e)) {
			fprintf(stderr, "xqctl bill: period must be YYYY-MM, not '%s'\n", o.period);
			return 2;
		}
	}
	gethostname(host, sizeof(host) - 1);
	xq_snprintf(owner, sizeof(owner), "%s:%ld", host, (long)getpid());
	o.owner = owner;
	o.progress = bill_progress;
	o.progress_arg = &b;
	if (!(db = open_db()))
		return 1;
	rc = billrun_claim(db, &o, &job_id);
	if (rc == XQ_ECONFLICT) {
		fprintf(stderr, "xqctl bill: period %s is being billed by another process (job %" PRId64
				"); a claim without heartbeat for %d s may be taken over\n",
			o.period, job_id, BILLRUN_STALE_S);
		db_close(db);
		return EXIT_EXISTS;
	}
	if (rc) {
		fprintf(stderr, "xqctl bill: cannot claim the job: %s (%s)\n", xq_strerror(rc),
			db_errmsg(db));
		db_close(db);
		return 1;
	}
	fprintf(stderr, "xqctl bill: period %s, %s, job %" PRId64 "\n", o.period,
		o.community_id ? "one community" : "all communities", job_id);
	rc = billrun_run(db, job_id, &o, &s);
	db_close(db);
	money_format_yuan(s.total_fen, yuan, sizeof(yuan));
	printf("houses %" PRId64 ": billed %" PRId64 ", adjusted %" PRId64 ", unchanged %" PRId64
	       ", skipped %" PRId64 "\ntotal %s yuan (%" PRId64 " fen), adjustments %" PRId64
	       " fen, settled from credit %" PRId64 " fen\n",
	       s.houses, s.bills_new, s.bills_adjusted, s.bills_unchanged, s.skipped, yuan,
	       s.total_fen, s.adjust_fen, s.settled_fen);
	if (s.estimated)
		printf("estimated %" PRId64 " bills (labelled 估算; the estimates are audit rows)\n",
		       s.estimated);
	printf("time: compute %" PRId64 " ms, db read %" PRId64 " ms, db write %" PRId64 " ms\n",
	       s.compute_us / 1000, s.db_read_us / 1000, s.db_write_us / 1000);
	for (size_t i = 0; i < s.n_skips; i++)
		printf("skipped house %" PRId64 " %s [%s] %s\n", s.skips[i].house_id,
		       s.skips[i].utility, s.skips[i].code, s.skips[i].reason_zh);
	if ((int64_t)s.n_skips < s.skipped)
		printf("... and %" PRId64 " more skipped (see job %" PRId64 ")\n",
		       s.skipped - (int64_t)s.n_skips, job_id);
	billrun_summary_release(&s);
	if (rc) {
		fprintf(stderr, "xqctl bill: failed: %s\n", xq_strerror(rc));
		return 1;
	}
	return 0;
usage:
	fprintf(stderr, "usage: xqctl bill --period YYYY-MM [--community ID] [--estimate HOUSE_ID[,..]]\n");
	return 2;
}

static int cmd_check_sql(int argc, char **argv)
{
	struct db *db;
	int n = 0, bad;

	if (!(db = open_db()))
		return 1;
	bad = db_check_queries(db, &n);
	db_close(db);
	printf("xqctl: %d queries checked, %d bad\n", n, bad);
	return bad == 0 && n > 0 ? 0 : 1;
}

/* area dunning: the daily job and the forecast backtest live in cli/daily.c */
static int cmd_daily(int argc, char **argv)
{
	return cmd_daily_run(&cfg, argc, argv);
}

static int cmd_forecast(int argc, char **argv)
{
	return cmd_forecast_run(&cfg, argc, argv);
}

static int cmd_config(int argc, char **argv)
{
	config_dump(&cfg);
	return 0;
}

/* ---- payops: pay-retry, pay-sync, reconcile (docs/payments.md "Jobs") ---- */

/* "--name N" pairs into ints; returns 2 (usage) on anything else. */
static int int_opts(int argc, char **argv, const char *const *names, int *vals, size_t n)
{
	for (int i = 1; i < argc; i += 2) {
		size_t k;
		int64_t v;
		for (k = 0; k < n; k++)
			if (!strcmp(argv[i], names[k]))
				break;
		if (k == n || i + 1 >= argc || xq_parse_i64(argv[i + 1], &v) || v < 0 || v > 100000000)
			return 2;
		vals[k] = (int)v;
	}
	return 0;
}

static int cmd_pay_retry(int argc, char **argv)
{
	static const char *const names[] = { "--min-age", "--claim", "--limit" };
	int v[3] = { 60, 120, 500 };
	struct payops_job_stats st;
	struct db *db;
	int rc;

	if (int_opts(argc, argv, names, v, 3)) {
		fprintf(stderr, "usage: xqctl pay-retry [--min-age SECONDS(60)] [--claim SECONDS(120)]"
				" [--limit N(500)]\n");
		return 2;
	}
	if (!(db = open_db()))
		return 1;
	rc = payops_retry(db, &cfg, v[0], v[1], v[2], &st);
	db_close(db);
	printf("pay-retry: %" PRId64 " unprocessed, %" PRId64 " claimed: %" PRId64 " credited, %" PRId64
	       " already credited, %" PRId64 " refused, %" PRId64 " failed\n",
	       st.seen, st.claimed, st.credited, st.duplicate, st.refused, st.failed);
	if (rc) {
		fprintf(stderr, "xqctl pay-retry: %s\n", xq_strerror(rc));
		return 1;
	}
	return st.failed ? 1 : 0;
}

static int cmd_pay_sync(int argc, char **argv)
{
	static const char *const names[] = { "--min-age", "--expire", "--claim", "--limit" };
	int v[4] = { 300, 6 * 24 * 3600, 120, 500 };
	struct payops_job_stats st;
	struct db *db;
	int rc;

	if (int_opts(argc, argv, names, v, 4)) {
		fprintf(stderr, "usage: xqctl pay-sync [--min-age SECONDS(300)] [--expire SECONDS(518400)]"
				" [--claim SECONDS(120)] [--limit N(500)]\n");
		return 2;
	}
	if (!(db = open_db()))
		return 1;
	rc = payops_sync(db, &cfg, v[0], v[1], v[2], v[3], &st);
	db_close(db);
	printf("pay-sync: %" PRId64 " orders waiting, %" PRId64 " claimed: %" PRId64 " credited, %" PRId64
	       " closed, %" PRId64 " failed; %" PRId64 " refunds followed up\n",
	       st.seen, st.claimed, st.credited, st.closed, st.failed, st.refunds);
	if (rc) {
		fprintf(stderr, "xqctl pay-sync: %s\n", xq_strerror(rc));
		return 1;
	}
	return st.failed ? 1 : 0;
}

static int cmd_reconcile(int argc, char **argv)
{
	struct recon_report rep;
	char owner[128], host[64] = "";
	struct db *db;
	cJSON *d;
	int rc;

	if (argc != 3 || strcmp(argv[1], "--date")) {
		fprintf(stderr, "usage: xqctl reconcile --date YYYY-MM-DD\n"
				"  exit 0: no difference, 1: differences or failure\n");
		return 2;
	}
	gethostname(host, sizeof(host) - 1);
	xq_snprintf(owner, sizeof(owner), "xqctl@%s:%ld", host, (long)getpid());
	if (!(db = open_db()))
		return 1;
	rc = recon_run(db, &cfg, argv[2], owner, &rep);
	db_close(db);
	if (rc == XQ_EINVAL && !rep.status[0]) {
		fprintf(stderr, "xqctl reconcile: %s\n", rep.error);
		return 2;
	}
	printf("reconcile %s: %s\nwechat: %" PRId64 " payments %" PRId64 " fen, %" PRId64
	       " refunds %" PRId64 " fen\nours:   %" PRId64 " payments %" PRId64 " fen, %" PRId64
	       " refunds %" PRId64 " fen\ndifferences: %" PRId64 "\n",
	       argv[2], rep.status, rep.wx_trades, rep.wx_total_fen, rep.wx_refunds, rep.wx_refund_fen,
	       rep.our_trades, rep.our_total_fen, rep.our_refunds, rep.our_refund_fen, rep.diffs);
	d = rep.detail_json ? cJSON_Parse(rep.detail_json) : NULL;
	{
		const cJSON *it;
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(d, "differences"))
		{
			char *t = cJSON_PrintUnformatted(it);
			printf("  %s\n", t);
			cJSON_free(t);
		}
	}
	cJSON_Delete(d);
	if (rep.error[0])
		fprintf(stderr, "xqctl reconcile: %s\n", rep.error);
	recon_report_release(&rep);
	return rc || rep.diffs || !strcmp(rep.status, "failed") ? 1 : 0;
}

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
	{ "migrate", cmd_migrate, "apply new sql/NNN_*.sql migrations (--dir DIR)" },
	{ "create-admin", cmd_create_staff, "create a staff account: USERNAME [--role R]" },
	{ "create-staff", cmd_create_staff, "same as create-admin" },
	{ "demo", cmd_demo, "load the demo community [--houses N] [--months N] [--seed N]" },
	{ "bill", cmd_bill, "bill a month: --period YYYY-MM [--community ID] [--estimate IDS]" },
	{ "check-sql", cmd_check_sql, "prepare every SQL statement of xqctl against the database" },
	{ "config", cmd_config, "print the effective configuration (secrets hidden)" },
	/* area dunning */
	{ "daily", cmd_daily, "late fees, reminders and alert checks for a day [--date YYYY-MM-DD]" },
	{ "forecast", cmd_forecast, "usage forecast backtest (MAPE): --backtest" },

	/* payops */
	{ "pay-retry", cmd_pay_retry, "reprocess unprocessed WeChat notifications [--min-age S]" },
	{ "pay-sync", cmd_pay_sync, "query/close waiting orders, follow refunds [--min-age S]" },
	{ "reconcile", cmd_reconcile, "compare WeChat's trade bill: --date YYYY-MM-DD" },

	/* collector area (cli/maint.c) */
	{ "rollup", cmd_rollup, "refresh usage rollups [--from DAY] [--to DAY] [--meter ID]" },
	{ "partitions", cmd_partitions, "add monthly meter_reading partitions [--ahead N]" },
};

static void usage(void)
{
	fprintf(stderr, "usage: xqctl [-c CONFIG] COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < XQ_ARRAY_LEN(commands); i++)
		fprintf(stderr, "  %-14s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv)
{
	const char *conf = getenv("XQ_CONFIG");
	char err[512];
	enum log_level lvl;
	int argi = 1, rc;

	if (argc > 2 && !strcmp(argv[1], "-c")) {
		conf = argv[2];
		argi = 3;
	}
	if (argi >= argc) {
		usage();
		return 2;
	}
	if (config_load(&cfg, conf, err, sizeof(err))) {
		fprintf(stderr, "xqctl: %s\n", err);
		return 2;
	}
	if (log_parse_level(cfg.log_level, &lvl) == XQ_OK)
		log_set_level(lvl < LOG_WARN ? LOG_WARN : lvl);
	for (size_t i = 0; i < XQ_ARRAY_LEN(commands); i++) {
		if (strcmp(commands[i].name, argv[argi]))
			continue;
		db_library_init();
		maint_cfg = &cfg;
		rc = commands[i].fn(argc - argi, argv + argi);
		db_library_end();
		config_release(&cfg);
		return rc;
	}
	fprintf(stderr, "xqctl: unknown command '%s'\n", argv[argi]);
	usage();
	return 2;
}
