/*
 * wxsim.h - xq-wxsim, the local imitation of WeChat's servers: mini-program
 * login and messages (api.weixin.qq.com) and Pay API v3 (api.mch.weixin.qq.com)
 * with real RSA signatures, AES-GCM callbacks and trade bills, plus the
 * /sim/... hooks with which tests and the demo play the resident.
 *
 * The protocol it follows is /work/shared/docs/wechat-protocols.md (section
 * numbers below refer to it); sim/README.md says how to use it.
 *
 * Adding a route: write the handler in the file of its area (mp.c, pay.c,
 * refund.c, bill.c, control.c), declare it below, add the row to routes.c
 * (every row is PERM_PUBLIC: WeChat's own authentication - Authorization
 * header or appid+secret or access_token - is done by the handler), and add
 * a case to tests/e2e/test_wxsim.c.
 *
 * State lives in the database wxsim.db_name (default xiaoqu_wxsim), never in
 * process memory, so several worker threads and restarts (even kill -9) see
 * one truth. Money is int64 fen; times in the database are Unix milliseconds
 * (*_ms columns), shown to clients as Beijing time (+08:00).
 */
#ifndef XQ_WXSIM_H
#define XQ_WXSIM_H

#include "buf.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "router.h"
#include "wxpay_sign.h"

#include <cjson/cJSON.h>

/* Process-wide, read-only after startup (main.c fills it). */
struct wxsim {
	struct config cfg;
	struct wxpay_privkey *platform_key; /* signs responses and callbacks as "WeChat" */
	struct wxpay_pubkey *merchant_cert; /* verifies the merchant's request signatures */
	char *platform_cert_pem;	    /* certificate mode: served by /v3/certificates */
	int cert_mode;			    /* 1: wx.platform_key_id is a certificate serial */
	int64_t cert_not_before_s, cert_not_after_s;
};

extern struct wxsim wxsim;

/* routes.c */
extern struct route wxsim_routes[];
extern const size_t wxsim_nroutes;

/* ---- util.c: time, ids, JSON ---------------------------------------------- */

int64_t sim_now_s(void);
/* "2024-06-01T10:00:01+08:00" for Unix seconds (Beijing time). out: 32 bytes. */
void sim_rfc3339(int64_t unix_s, char out[32]);
/* "2024-06-01 10:00:01" (Beijing), as in trade bills. out: 20 bytes. */
void sim_bill_time(int64_t unix_s, char out[20]);
/* "2024-06-01" (Beijing) for Unix seconds. out: 11 bytes. */
void sim_bj_date(int64_t unix_s, char out[11]);
/* "yyyyMMddHHmmss" (Beijing). out: 15 bytes. */
void sim_bj_stamp(int64_t unix_s, char out[15]);
/*
 * Parses RFC 3339 "YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM)" strictly.
 * Returns XQ_OK or XQ_EINVAL.
 */
int sim_parse_rfc3339(const char *s, int64_t *unix_s /* OUT */);
/* Parses "YYYY-MM-DD" into the Unix second of that day's 00:00 Beijing time. */
int sim_parse_bj_date(const char *s, int64_t *day_start_s /* OUT */);

/* n random characters from alphabet into out (n+1 bytes). */
void sim_random_str(char *out, size_t n, const char *alphabet);
#define SIM_HEX_UPPER "0123456789ABCDEF"
#define SIM_HEX_LOWER "0123456789abcdef"
#define SIM_DIGITS "0123456789"
#define SIM_ALNUM "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
/* A random UUID v4 string (37 bytes). */
void sim_uuid(char out[37]);

/* 1 if s contains a 4-byte UTF-8 sequence (outside the BMP, §1.1). */
int sim_has_non_bmp(const char *s);
/* "12.34" for fen; out at least 24 bytes. */
void sim_yuan(int64_t fen, char *out, size_t n);

/* JSON object members; NULL when absent or of another type. */
const char *sim_jstr(const cJSON *o, const char *name);
const cJSON *sim_jobj(const cJSON *o, const char *name);
/* 1 and *out if o.name is an integral number within int64 range. */
int sim_jint(const cJSON *o, const char *name, int64_t *out /* OUT */);

/* ---- util.c: responses ------------------------------------------------------ */

/*
 * Pay v3 error (§1.2): {"code":..,"message":..[,"detail":..]} with status and
 * a Request-ID header (suffix "-<err>" when err != 0, as WeChat's). Takes
 * ownership of detail (may be NULL). Error bodies are not signed.
 */
int pay_fail(struct req *rq, int status, const char *code, const char *message, cJSON *detail,
	     long err);
/* PARAM_ERROR with the usual detail {field, value?, issue, location}. */
int pay_param_error(struct req *rq, const char *field, const char *issue, const char *location);

/*
 * A successful Pay v3 answer, signed as §3.4 says: body (NULL: 204 with an
 * empty body) is printed once, signed with the platform key over
 * "ts\nnonce\nbody\n" and sent byte for byte with the Wechatpay-* headers
 * and a Request-ID. Faults armed with POST /sim/faults for this request's
 * path are applied here. Takes ownership of body. Returns the status.
 */
int pay_ok(struct req *rq, int status, cJSON *body);
/* Same for a raw body that is already text (e.g. prepared elsewhere). */
int pay_ok_raw(struct req *rq, int status, const char *body);

/* The errcode-style answers of api.weixin.qq.com: always HTTP 200 (§14.2, §15). */
int mp_fail(struct req *rq, long errcode, const char *errmsg);
int mp_ok(struct req *rq, cJSON *body);

/* Adds a Request-ID header (WeChat's: opaque hex, "-<err>" appended when err != 0). */
void sim_request_id(struct req *rq, long err);
/* Answers status with len raw bytes (may hold NULs) of type ctype (a literal). */
int sim_send_raw(struct req *rq, int status, const char *ctype, const char *data, size_t len);

/* Sim-only /sim/... errors: {"code","message"} with an HTTP status. */
int sim_fail(struct req *rq, int status, const char *code, const char *message);

/* ---- auth.c: §2.5 ---------------------------------------------------------- */

/*
 * Authenticates a Pay v3 request exactly as §2.5: Authorization syntax,
 * merchant (mchid) and certificate serial, body mchid == header mchid,
 * timestamp within 300 s, then SHA256withRSA over method, raw REQUEST_URI,
 * timestamp, nonce and the raw body. On success returns 0 and, when the
 * request has a body and json is non-NULL, *json is the parsed body (kept
 * for the request; NULL for an empty body). On failure it has already
 * answered (401 SIGN_ERROR, 400 ...) and returns the HTTP status.
 */
int pay_auth(struct req *rq, cJSON **json /* OUT, may be NULL */);

/*
 * The headers of a signed message (§3.1) with an optional fault
 * ("probe", "stale_timestamp", "wrong_serial", "tampered", "unsigned" or
 * NULL). *body may be replaced (tampered) by a new string the caller frees
 * (set in *owned). Returns XQ_OK or an error.
 */
struct sim_sig {
	char timestamp[16];
	char nonce[33];
	char signature[WXPAY_SIG_B64_MAX + 32];
	char serial[WXPAY_SERIAL_MAX + 1];
	int unsigned_; /* send no Wechatpay-* headers */
};
int sim_sign(const char *fault, const char *body, size_t len, struct sim_sig *out /* OUT */,
	     char **tampered /* OUT: NULL, or a modified copy of body to send */);
/* 1 if name is a known fault for sim_sign. */
int sim_fault_known(const char *name);

/* ---- mp.c: api.weixin.qq.com ----------------------------------------------- */

int mp_jscode2session(struct req *rq);
int mp_token(struct req *rq);
int mp_stable_token(struct req *rq);
int mp_subscribe_send(struct req *rq);
int mp_phone_number(struct req *rq);
/* The openid that login code "test-<name>[.<suffix>]" stands for (§14, sim rule). */
void mp_openid_for_name(const char *appid, const char *name, char out[29]);
/* Records that openid belongs to appid (it then passes the openid checks). */
int mp_user_register(struct db *db, const char *appid, const char *openid);
/* *known = 1 if openid was handed out for appid. */
int mp_user_known(struct db *db, const char *appid, const char *openid, int *known /* OUT */);

/* ---- pay.c: orders (§6, §9, §10) and /v3/certificates (§4.2) ---------------- */

int pay_jsapi(struct req *rq);
int pay_query_out_trade_no(struct req *rq);
int pay_query_id(struct req *rq);
int pay_close(struct req *rq);
int pay_certificates(struct req *rq);

/* One order row (sim_order). */
struct sim_order {
	int64_t id;
	char mchid[33], out_trade_no[33], appid[33];
	char description[512], attach[512], notify_url[256];
	int has_attach;
	char time_expire[65];
	int64_t time_expire_s; /* 0: none */
	int64_t total_fen;
	char currency[17];
	char openid[129];
	char device_id[65];
	char params_hash[65];
	char prepay_id[65];
	int64_t prepay_expires_ms;
	char trade_state[17];
	char transaction_id[33];
	char bank_type[17];
	int64_t payer_total_fen;
	int64_t success_ms, created_ms;
	char refund_outcome[17];
	int64_t refund_delay_ms; /* -1: the configured default */
};

/* Loads an order by (mchid, out_trade_no) / transaction_id / prepay_id. XQ_ENOTFOUND if none. */
int order_by_otn(struct db *db, const char *mchid, const char *otn, int lock,
		 struct sim_order *o /* OUT */);
int order_by_tid(struct db *db, const char *mchid, const char *tid, struct sim_order *o /* OUT */);
int order_by_prepay(struct db *db, const char *prepay_id, struct sim_order *o /* OUT */);
int order_by_id(struct db *db, int64_t id, int lock, struct sim_order *o /* OUT */);
/* The transaction object of §9.2 / §8.2 for o. */
cJSON *order_json(const struct sim_order *o);
/* 1 if s is min..max characters of [0-9A-Za-z_-|*] (and '@' when allow_at). */
int sim_valid_no(const char *s, size_t min, size_t max, int allow_at);
/* 1 if u is an acceptable notify_url: https://..., or http:// to loopback; no query. */
int sim_valid_notify_url(const char *u, size_t max);
/* UTF-8 text of at most max bytes, BMP only (§1.1): NULL if fine, else the issue. */
const char *sim_text_issue(const char *s, size_t max);

/* ---- refund.c (§11) ------------------------------------------------------- */

int refund_create(struct req *rq);
int refund_query(struct req *rq);

struct sim_refund {
	int64_t id, order_id;
	char mchid[33], out_refund_no[65], refund_id[33];
	char out_trade_no[33], transaction_id[33];
	char status[17], outcome[17], reason[256], notify_url[257];
	int64_t refund_fen, total_fen, payer_total_fen;
	int64_t created_ms, success_ms, complete_at_ms;
};

int refund_by_no(struct db *db, const char *mchid, const char *out_refund_no, int lock,
		 struct sim_refund *r /* OUT */);
int refund_by_id(struct db *db, int64_t id, int lock, struct sim_refund *r /* OUT */);
/* The refund object of §11.1 (create/query answers). */
cJSON *refund_json(const struct sim_refund *r);
/*
 * Inside a transaction: moves a PROCESSING refund to status (SUCCESS,
 * ABNORMAL, CLOSED) and queues its callback (§11.3) with the given fault.
 * XQ_ECONFLICT if the refund is no longer PROCESSING.
 */
int refund_finish(struct db *db, int64_t refund_id, const char *status, const char *fault,
		  int64_t fault_attempts, int64_t retry_scale);

/* ---- bill.c (§12) -------------------------------------------------------- */

int bill_tradebill(struct req *rq);
int bill_download(struct req *rq);

/* ---- notify.c: callbacks (§8, §11.3) and the outbox -------------------------- */

struct notify_opts {
	const char *fault;     /* NULL or a sim_sign fault */
	int64_t fault_attempts; /* how many sends carry the fault (default 1) */
	int64_t repeat;	       /* deliveries of the same notification (default 1) */
	int64_t delay_ms;      /* before the first send */
	int64_t retry_scale;   /* 0: wxsim.retry_scale */
};

/*
 * Inside a transaction: encrypts plaintext (the transaction or refund JSON)
 * with the APIv3 key, wraps it in the §8.1 envelope, stores it and queues
 * opts->repeat deliveries to notify_url. id_out (37 bytes) gets the
 * notification id. Returns XQ_OK or an error.
 */
int notify_enqueue(struct db *db, const char *kind, const char *event_type, const char *summary,
		   int64_t order_id, const char *out_trade_no, const char *out_refund_no,
		   const char *notify_url, const char *plaintext, const struct notify_opts *opts,
		   char id_out[37]);
/* Queues one more delivery of an existing notification (replay). */
int notify_requeue(struct db *db, const char *notification_id, const char *fault,
		   int64_t retry_scale, int64_t delay_ms);
/* Wakes the sender thread (after a commit that queued something). */
void notify_kick(void);
/* The sender thread: starts/stops it (main.c). */
int notify_start(void);
void notify_stop(void);

/* ---- control.c: /sim/... ------------------------------------------------------ */

int sim_healthz(struct req *rq);
int sim_login_code(struct req *rq);
int sim_phone_code(struct req *rq);
int sim_subscribe_accept(struct req *rq);
int sim_templates(struct req *rq);
int sim_template_add(struct req *rq);
int sim_messages(struct req *rq);
int sim_pay(struct req *rq);
int sim_notify_replay(struct req *rq);
int sim_notify_deliver(struct req *rq);
int sim_notifications(struct req *rq);
int sim_refund_complete(struct req *rq);
int sim_faults_add(struct req *rq);
int sim_faults_list(struct req *rq);
int sim_faults_clear(struct req *rq);
int sim_backdate(struct req *rq);

/*
 * Takes one armed response fault for path (POST /sim/faults), if any:
 * copies its name into fault (33 bytes) and its delay into *delay_ms.
 * Returns 1 if a fault was taken, 0 if none.
 */
int fault_take(struct db *db, const char *path, char fault[33], int64_t *delay_ms /* OUT */);

#endif
