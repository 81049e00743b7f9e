/*
 * notify_load.c - the load side of bench/notify.sh.
 *
 *   notify_load notify N CONC   N topup orders (over 200 houses) inserted into MariaDB, N WeChat
 *                               notifications signed and encrypted beforehand
 *                               (tests/e2e/wxnotify_gen.c), then fired at
 *                               /wxpay/notify CONC at a time; prints the rate
 *                               of verified-and-committed notifications and
 *                               checks that exactly N payments were credited.
 *   notify_load bills NAME      a resident (sim login code test-NAME) bound to a
 *                               house with 12 bills; prints "TOKEN HOUSE_ID".
 * Environment: XQ_CONFIG (the stack's), XQ_URL (nginx), XQ_WXSIM_URL.
 */
#include "config.h"
#include "db.h"
#include "wxnotify_gen.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

DB_QUERY(q_comm) = { "bn_comm", "INSERT INTO community (code, name) VALUES (?, ?)", "ss", NULL };
DB_QUERY(q_bldg) = { "bn_bldg", "INSERT INTO building (community_id, name) VALUES (?, '1号楼')", "l", NULL };
DB_QUERY(q_house) = { "bn_house", "INSERT INTO house (building_id, unit_no, room) VALUES (?, '1', ?)", "ls", NULL };
DB_QUERY(q_user) = { "bn_user", "INSERT INTO wx_user (openid) VALUES (?)", "s", NULL };
DB_QUERY(q_order) = {
	"bn_order",
	"INSERT INTO wx_order (out_trade_no, house_id, wx_user_id, openid, purpose, amount_fen, description)"
	" VALUES (?, ?, ?, ?, 'topup', ?, '基准测试充值')",
	"sllsl", NULL,
};
DB_QUERY(q_count) = {
	"bn_count",
	"SELECT COUNT(*), COALESCE(SUM(p.amount_fen), 0) FROM payment p JOIN wx_order o ON o.id = p.wx_order_id"
	" WHERE o.out_trade_no LIKE ?",
	"s", "ll",
};
DB_QUERY(q_bill) = {
	"bn_bill",
	"INSERT INTO bill (house_id, period, utility, status, amount_fen, issued_at, due_date)"
	" VALUES (?, ?, ?, 'issued', ?, NOW(3), CURRENT_DATE)",
	"lssl", NULL,
};
DB_QUERY(q_me) = { "bn_me", "SELECT id FROM wx_user WHERE openid = ?", "s", "l" };
DB_QUERY(q_bind) = {
	"bn_bind",
	"INSERT INTO wx_binding (wx_user_id, house_id, relation, status, verified_by) VALUES (?, ?, 'owner', 'active', 'staff')",
	"ll", NULL,
};

static struct config cfg;
static struct db *db;

#define BENCH_HOUSES 200

struct orders {
	int64_t house[BENCH_HOUSES], user, n;
	char (*otn)[33];
};

static int orders_tx(struct db *d, void *arg)
{
	struct orders *o = arg;
	int rc;

	for (int64_t i = 0; i < o->n; i++)
		if ((rc = db_run(d, &q_order, NULL, o->otn[i], o->house[i % BENCH_HOUSES], o->user,
				 "oBenchPayer", 100 + i % 900)))
			return rc;
	return XQ_OK;
}

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int do_notify(int64_t n, int conc)
{
	struct wxgen gen;
	struct orders o;
	struct wxgen_req *r;
	struct db_res res;
	char uniq[32], code[48], url[300];
	int64_t t0, t1, want = 0;
	size_t ok;

	snprintf(uniq, sizeof(uniq), "%lx%x", (unsigned long)time(NULL), (unsigned)getpid());
	snprintf(code, sizeof(code), "BN%s", uniq);
	if (wxgen_init(&gen, &cfg) || db_run(db, &q_comm, NULL, code, code))
		return 1;
	db_run(db, &q_bldg, NULL, db_insert_id(db));
	{
		int64_t bldg = db_insert_id(db);
		for (int h = 0; h < BENCH_HOUSES; h++) {
			char room[16];
			snprintf(room, sizeof(room), "%d", 1000 + h);
			db_run(db, &q_house, NULL, bldg, room);
			o.house[h] = db_insert_id(db);
		}
	}
	snprintf(code, sizeof(code), "oBench%s", uniq);
	db_run(db, &q_user, NULL, code);
	o.user = db_insert_id(db);
	o.n = n;
	o.otn = calloc((size_t)n, sizeof(*o.otn));
	for (int64_t i = 0; i < n; i++)
		snprintf(o.otn[i], 33, "XQB%s%08lld", uniq, (long long)i);
	if (db_tx(db, orders_tx, &o)) {
		fprintf(stderr, "notify_load: cannot insert orders\n");
		return 1;
	}
	r = calloc((size_t)n, sizeof(*r));
	t0 = mono_us();
	for (int64_t i = 0; i < n; i++) {
		char *plain = wxgen_txn(&gen, o.otn[i], 100 + i % 900, NULL, NULL);
		char nid[64];
		snprintf(nid, sizeof(nid), "EV-bench-%s-%lld", uniq, (long long)i);
		wxgen_sign(&gen, wxgen_envelope(&gen, nid, "TRANSACTION.SUCCESS", "transaction", plain), 0, 0, &r[i]);
		free(plain);
		want += 100 + i % 900;
	}
	t1 = mono_us();
	fprintf(stderr, "notify_load: %lld notifications signed+encrypted in %.1f s (not timed below)\n",
		(long long)n, (double)(t1 - t0) / 1e6);
	snprintf(url, sizeof(url), "%s/wxpay/notify", getenv("XQ_URL"));
	t0 = mono_us();
	ok = wxgen_fire(url, r, (size_t)n, conc);
	t1 = mono_us();
	snprintf(code, sizeof(code), "XQB%s%%", uniq);
	db_run(db, &q_count, &res, code);
	printf("notifications %lld, concurrency %d: %zu answered 200 in %.2f s = %.0f/s; payments credited %lld"
	       " (%lld fen, expected %lld)\n",
	       (long long)n, conc, ok, (double)(t1 - t0) / 1e6, (double)ok * 1e6 / (double)(t1 - t0),
	       (long long)db_i64(&res, 0, 0), (long long)db_i64(&res, 0, 1), (long long)want);
	ok = (int64_t)ok == n && db_i64(&res, 0, 0) == n && db_i64(&res, 0, 1) == want;
	db_res_release(&res);
	for (int64_t i = 0; i < n; i++)
		wxgen_req_release(&r[i]);
	free(r);
	free(o.otn);
	wxgen_release(&gen);
	return ok ? 0 : 1;
}

static size_t grow(char *p, size_t s, size_t n, void *arg)
{
	char *b = arg;
	size_t len = strlen(b), add = s * n;
	if (len + add < 4095) {
		memcpy(b + len, p, add);
		b[len + add] = '\0';
	}
	return add;
}

static cJSON *post(const char *url, const char *body)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	static char out[4096];

	out[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, grow);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_perform(c);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	return cJSON_Parse(out);
}

static int do_bills(const char *name)
{
	char url[300], body[200], code[48], period[8];
	cJSON *j;
	const char *openid, *token;
	int64_t house, uid = 0;
	struct db_res r;

	snprintf(code, sizeof(code), "BB%lx", (unsigned long)time(NULL));
	db_run(db, &q_comm, NULL, code, code);
	db_run(db, &q_bldg, NULL, db_insert_id(db));
	db_run(db, &q_house, NULL, db_insert_id(db), "101");
	house = db_insert_id(db);
	for (int m = 1; m <= 12; m++) {
		snprintf(period, sizeof(period), "2025-%02d", m);
		db_run(db, &q_bill, NULL, house, period, "electric", (int64_t)(3000 + m * 17));
	}
	snprintf(url, sizeof(url), "%s/sim/login-code", getenv("XQ_WXSIM_URL"));
	snprintf(body, sizeof(body), "{\"name\":\"%s\"}", name);
	j = post(url, body);
	openid = cJSON_GetStringValue(cJSON_GetObjectItem(j, "openid"));
	snprintf(body, sizeof(body), "{\"code\":\"%s\"}", cJSON_GetStringValue(cJSON_GetObjectItem(j, "code")));
	snprintf(code, sizeof(code), "%s", openid ? openid : "");
	cJSON_Delete(j);
	snprintf(url, sizeof(url), "%s/api/v1/auth/login", getenv("XQ_URL"));
	j = post(url, body);
	token = cJSON_GetStringValue(cJSON_GetObjectItem(j, "token"));
	if (!token || db_run(db, &q_me, &r, code)) {
		fprintf(stderr, "notify_load: resident login failed\n");
		return 1;
	}
	if (r.nrows)
		uid = db_i64(&r, 0, 0);
	db_res_release(&r);
	db_run(db, &q_bind, NULL, uid, house);
	printf("%s %lld\n", token, (long long)house);
	cJSON_Delete(j);
	return 0;
}

int main(int argc, char **argv)
{
	char err[256];
	int rc = 2;

	if (config_load(&cfg, getenv("XQ_CONFIG"), err, sizeof(err))) {
		fprintf(stderr, "notify_load: %s\n", err);
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	db_library_init();
	if (db_open(&db, &cfg)) {
		fprintf(stderr, "notify_load: no database\n");
		return 2;
	}
	if (argc == 4 && !strcmp(argv[1], "notify")) {
		int64_t n = 0, conc = 0;
		if (xq_parse_i64(argv[2], &n) || xq_parse_i64(argv[3], &conc) || n < 1 || conc < 1 ||
		    conc > 1024)
			return 2;
		rc = do_notify(n, (int)conc);
	}
	else if (argc == 3 && !strcmp(argv[1], "bills"))
		rc = do_bills(argv[2]);
	else
		fprintf(stderr, "usage: notify_load notify N CONC | bills NAME\n");
	db_close(db);
	return rc;
}
