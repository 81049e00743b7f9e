/*
 * notify.c - WeChat's callbacks: the §8.1 envelope around an AES-256-GCM
 * encrypted resource, stored once in sim_notification, and an outbox
 * (sim_delivery) that one sender thread works through: every send is freshly
 * signed with the platform key (or carries the fault asked for), 200/204
 * is success (§20.1), anything else is retried on the §8.4 schedule divided
 * by the retry scale. Because the outbox is in the database, a restart or a
 * kill -9 loses nothing: pending sends go out after the restart (a send cut
 * off mid-way is repeated, which WeChat may also do).
 */
#include "wxsim.h"
#include "log.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SEND_TIMEOUT_MS 5000 /* §8.3: an answer later than 5 s counts as failed */
#define IDLE_WAIT_MS 200
#define BATCH 20

/* §8.4: seconds after the previous send, for retries 1..15. */
static const int64_t retry_after_s[] = { 15,   15,   30,    180,   600,	1200,  1800, 1800,
					 1800, 3600, 10800, 10800, 10800, 21600, 21600 };

DB_QUERY(q_notification_add) = {
	"wxsim_notification_add",
	"INSERT INTO sim_notification (id, kind, event_type, order_id, out_trade_no, out_refund_no,"
	" notify_url, body, plaintext, fault, fault_attempts, created_ms)"
	" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	"ssslssssssll", NULL,
};

DB_QUERY(q_delivery_add) = {
	"wxsim_delivery_add",
	"INSERT INTO sim_delivery (notification_id, reason, state, attempts, retry_scale, next_ms,"
	" created_ms) VALUES (?, ?, 'PENDING', 0, ?, ?, ?)",
	"sslll", NULL,
};

DB_QUERY(q_notification_refault) = {
	"wxsim_notification_refault",
	"UPDATE sim_notification SET fault = ?, fault_attempts = fault_used + 1 WHERE id = ?",
	"ss", NULL,
};

DB_QUERY(q_notification_exists) = {
	"wxsim_notification_exists",
	"SELECT id FROM sim_notification WHERE id = ?",
	"s", "s",
};

DB_QUERY(q_due_refunds) = {
	"wxsim_due_refunds",
	"SELECT id, outcome FROM sim_refund WHERE status = 'PROCESSING'"
	" AND complete_at_ms IS NOT NULL AND complete_at_ms <= ? ORDER BY complete_at_ms LIMIT 20",
	"l", "ls",
};

DB_QUERY(q_due_deliveries) = {
	"wxsim_due_deliveries",
	"SELECT d.id, d.notification_id, d.attempts, d.retry_scale, n.notify_url, n.body"
	" FROM sim_delivery d JOIN sim_notification n ON n.id = d.notification_id"
	" WHERE d.state = 'PENDING' AND d.next_ms <= ? ORDER BY d.next_ms, d.id LIMIT 20",
	"l", "lsllss",
};

DB_QUERY(q_fault_use) = {
	"wxsim_fault_use",
	"UPDATE sim_notification SET fault_used = fault_used + 1"
	" WHERE id = ? AND fault IS NOT NULL AND fault_used < fault_attempts",
	"s", NULL,
};

DB_QUERY(q_fault_name) = {
	"wxsim_fault_name",
	"SELECT fault FROM sim_notification WHERE id = ?",
	"s", "s",
};

DB_QUERY(q_attempt_add) = {
	"wxsim_attempt_add",
	"INSERT INTO sim_attempt (delivery_id, attempt, at_ms, http_status, error, fault,"
	" duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
	"lllissl", NULL,
};

DB_QUERY(q_delivery_done) = {
	"wxsim_delivery_done",
	"UPDATE sim_delivery SET state = ?, attempts = attempts + 1, last_status = ?,"
	" done_ms = ? WHERE id = ?",
	"sill", NULL,
};

DB_QUERY(q_delivery_retry) = {
	"wxsim_delivery_retry",
	"UPDATE sim_delivery SET attempts = attempts + 1, last_status = ?, next_ms = ? WHERE id = ?",
	"ill", NULL,
};

/* ---- building and queueing -------------------------------------------------------- */

static int add_deliveries(struct db *db, const char *id, const char *reason, int64_t n,
			  int64_t scale, int64_t delay_ms)
{
	int64_t now = xq_now_ms();
	int rc = XQ_OK;

	if (scale <= 0)
		scale = wxsim.cfg.wxsim_retry_scale;
	for (int64_t i = 0; i < n && rc == XQ_OK; i++)
		rc = db_run(db, &q_delivery_add, NULL, id, i ? "repeat" : reason, scale,
			    now + (delay_ms > 0 ? delay_ms : 0), now);
	return rc;
}

int notify_enqueue(struct db *db, const char *kind, const char *event_type, const char *summary,
		   int64_t order_id, const char *out_trade_no, const char *out_refund_no,
		   const char *notify_url, const char *plaintext, const struct notify_opts *opts,
		   char id_out[37])
{
	const unsigned char *key = (const unsigned char *)wxsim.cfg.wx_apiv3_key;
	char nonce[13], when[32], *body;
	cJSON *env, *res;
	struct buf ct;
	int64_t fault_attempts = opts->fault ? (opts->fault_attempts > 0 ? opts->fault_attempts : 1) : 0;
	int rc;

	sim_uuid(id_out);
	sim_random_str(nonce, 12, SIM_ALNUM);
	buf_init(&ct, 4u << 20);
	rc = wxpay_aead_encrypt(key, strlen(wxsim.cfg.wx_apiv3_key), nonce, kind, plaintext,
				strlen(plaintext), &ct);
	if (rc) {
		buf_release(&ct);
		return rc;
	}
	sim_rfc3339(sim_now_s(), when);
	env = cJSON_CreateObject();
	cJSON_AddStringToObject(env, "id", id_out);
	cJSON_AddStringToObject(env, "create_time", when);
	cJSON_AddStringToObject(env, "resource_type", "encrypt-resource");
	cJSON_AddStringToObject(env, "event_type", event_type);
	cJSON_AddStringToObject(env, "summary", summary);
	res = cJSON_AddObjectToObject(env, "resource");
	cJSON_AddStringToObject(res, "original_type", kind);
	cJSON_AddStringToObject(res, "algorithm", "AEAD_AES_256_GCM");
	cJSON_AddStringToObject(res, "ciphertext", ct.data);
	cJSON_AddStringToObject(res, "associated_data", kind);
	cJSON_AddStringToObject(res, "nonce", nonce);
	body = cJSON_PrintUnformatted(env);
	cJSON_Delete(env);
	buf_release(&ct);
	rc = db_run(db, &q_notification_add, NULL, id_out, kind, event_type, order_id, out_trade_no,
		    out_refund_no, notify_url, body, plaintext, opts->fault, fault_attempts,
		    xq_now_ms());
	free(body);
	if (rc == XQ_OK)
		rc = add_deliveries(db, id_out, "first", opts->repeat > 0 ? opts->repeat : 1,
				    opts->retry_scale, opts->delay_ms);
	if (rc == XQ_OK)
		log_info("wxsim: notification %s %s for %s queued to %s", id_out, event_type,
			 out_trade_no, notify_url);
	return rc;
}

int notify_requeue(struct db *db, const char *notification_id, const char *fault,
		   int64_t retry_scale, int64_t delay_ms)
{
	struct db_res r;
	int rc;

	if ((rc = db_run(db, &q_notification_exists, &r, notification_id)))
		return rc;
	if (!r.nrows)
		rc = XQ_ENOTFOUND;
	db_res_release(&r);
	if (rc)
		return rc;
	/* a fault on a replay applies to its next send only */
	if (fault && (rc = db_run(db, &q_notification_refault, NULL, fault, notification_id)))
		return rc;
	return add_deliveries(db, notification_id, "replay", 1, retry_scale, delay_ms);
}

/* ---- the sender thread -------------------------------------------------------------------- */

static pthread_t sender;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int kicked;
static atomic_int stopping;
static int started;

void notify_kick(void)
{
	pthread_mutex_lock(&mu);
	kicked = 1;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* One POST of body to url with the §3.1 headers; returns the HTTP status (0: none). */
static long post(CURL *curl, const char *url, const char *body, const struct sim_sig *sig,
		 char *err, size_t errlen)
{
	struct curl_slist *h = NULL;
	char line[WXPAY_SIG_B64_MAX + 64], cerr[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode rc;

	curl_easy_reset(curl);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Accept: */*");
	h = curl_slist_append(h, "Expect:");
	if (!sig->unsigned_) {
		xq_snprintf(line, sizeof(line), "Wechatpay-Nonce: %s", sig->nonce);
		h = curl_slist_append(h, line);
		xq_snprintf(line, sizeof(line), "Wechatpay-Signature: %s", sig->signature);
		h = curl_slist_append(h, line);
		xq_snprintf(line, sizeof(line), "Wechatpay-Timestamp: %s", sig->timestamp);
		h = curl_slist_append(h, line);
		xq_snprintf(line, sizeof(line), "Wechatpay-Serial: %s", sig->serial);
		h = curl_slist_append(h, line);
		h = curl_slist_append(h, "Wechatpay-Signature-Type: " WXPAY_SIGN_SCHEME);
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "Mozilla/4.0");
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)SEND_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)SEND_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, cerr);
	rc = curl_easy_perform(curl);
	curl_slist_free_all(h);
	if (rc != CURLE_OK) {
		xq_snprintf(err, errlen, "%.200s", cerr[0] ? cerr : curl_easy_strerror(rc));
		return 0;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

static void deliver(struct db *db, CURL *curl, int64_t did, const char *nid, int64_t attempts,
		    int64_t scale, const char *url, const char *body)
{
	struct sim_sig sig;
	struct db_res r;
	char fault[33] = "", err[256] = "", *tampered = NULL;
	int64_t t0 = xq_now_ms(), now, sends;
	long status;

	if (db_run(db, &q_fault_use, NULL, nid) == XQ_OK && db_affected(db) == 1 &&
	    db_run(db, &q_fault_name, &r, nid) == XQ_OK) {
		if (r.nrows && db_str(&r, 0, 0))
			xq_snprintf(fault, sizeof(fault), "%.32s", db_str(&r, 0, 0));
		db_res_release(&r);
	}
	if (sim_sign(fault[0] ? fault : NULL, body, strlen(body), &sig, &tampered)) {
		xq_snprintf(err, sizeof(err), "signing failed");
		status = 0;
	} else {
		status = post(curl, url, tampered ? tampered : body, &sig, err, sizeof(err));
	}
	free(tampered);
	now = xq_now_ms();
	sends = attempts + 1;
	if (status && status != 200 && status != 204)
		xq_snprintf(err, sizeof(err), "merchant answered %ld", status);
	db_run(db, &q_attempt_add, NULL, did, sends, t0, (int)status, err[0] ? err : NULL,
	       fault[0] ? fault : NULL, now - t0);
	if (status == 200 || status == 204) {
		db_run(db, &q_delivery_done, NULL, "DELIVERED", (int)status, now, did);
		log_info("wxsim: notification %s delivered on send %lld (%ld)%s%s", nid,
			 (long long)sends, status, fault[0] ? " despite fault " : "", fault);
		return;
	}
	if (!wxsim.cfg.wxsim_notify_retry || sends - 1 >= wxsim.cfg.wxsim_notify_max_retries ||
	    sends - 1 >= (int64_t)XQ_ARRAY_LEN(retry_after_s)) {
		db_run(db, &q_delivery_done, NULL, "FAILED", (int)status, now, did);
		log_warn("wxsim: notification %s to %s failed for good after %lld sends (%s)", nid, url,
			 (long long)sends, err);
		return;
	}
	if (scale <= 0)
		scale = 1;
	db_run(db, &q_delivery_retry, NULL, (int)status,
	       now + retry_after_s[sends - 1] * 1000 / scale, did);
	log_info("wxsim: notification %s send %lld failed (%s%s%s), next in %lld ms", nid,
		 (long long)sends, err, fault[0] ? ", fault " : "", fault,
		 (long long)(retry_after_s[sends - 1] * 1000 / scale));
}

struct finishing {
	int64_t id;
	const char *status;
};

static int finish_tx(struct db *db, void *arg)
{
	struct finishing *f = arg;
	int rc = refund_finish(db, f->id, f->status, NULL, 0, 0);
	return rc == XQ_ECONFLICT ? XQ_OK : rc;
}

/* One pass over due refunds and due sends; returns how much was done. */
static int tick(struct db *db, CURL *curl)
{
	struct db_res r;
	int done = 0;

	if (db_run(db, &q_due_refunds, &r, xq_now_ms()) == XQ_OK) {
		for (size_t i = 0; i < r.nrows; i++) {
			struct finishing f = { db_i64(&r, i, 0), db_str(&r, i, 1) };
			if (db_tx(db, finish_tx, &f))
				log_warn("wxsim: could not finish refund %lld", (long long)f.id);
			done++;
		}
		db_res_release(&r);
	}
	if (db_run(db, &q_due_deliveries, &r, xq_now_ms()) == XQ_OK) {
		for (size_t i = 0; i < r.nrows && !atomic_load(&stopping); i++) {
			deliver(db, curl, db_i64(&r, i, 0), db_str(&r, i, 1), db_i64(&r, i, 2),
				db_i64(&r, i, 3), db_str(&r, i, 4), db_str(&r, i, 5));
			done++;
		}
		db_res_release(&r);
	}
	return done;
}

static void *sender_main(void *arg)
{
	struct db *db = NULL;
	CURL *curl;

	(void)arg;
	log_set_request_id("sender");
	db_thread_init();
	if (db_open(&db, &wxsim.cfg))
		log_warn("wxsim: sender: database not reachable yet, will retry");
	curl = curl_easy_init();
	while (!atomic_load(&stopping)) {
		if (tick(db, curl) > 0)
			continue;
		pthread_mutex_lock(&mu);
		if (!kicked && !atomic_load(&stopping)) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += IDLE_WAIT_MS * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&cv, &mu, &ts);
		}
		kicked = 0;
		pthread_mutex_unlock(&mu);
	}
	curl_easy_cleanup(curl);
	db_close(db);
	db_thread_end();
	return NULL;
}

int notify_start(void)
{
	if (pthread_create(&sender, NULL, sender_main, NULL))
		return xq_error(XQ_ERROR, "cannot start the notification sender");
	started = 1;
	return XQ_OK;
}

void notify_stop(void)
{
	if (!started)
		return;
	atomic_store(&stopping, 1);
	notify_kick();
	pthread_join(sender, NULL);
	started = 0;
}
