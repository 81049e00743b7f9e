/*
 * wxnotify_gen.h - WeChat Pay notifications made the way WeChat makes them
 * (§8.1: resource AES-256-GCM-encrypted with the APIv3 key, headers signed
 * with the platform key of the stack's xq-wxsim), and fired at
 * /wxpay/notify with libcurl's multi interface at a chosen concurrency.
 * Shared by tests/e2e/test_payops.c and bench/notify_load.c.
 */
#ifndef XQ_WXNOTIFY_GEN_H
#define XQ_WXNOTIFY_GEN_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct wxpay_privkey;

struct wxgen {
	const struct config *cfg;
	struct wxpay_privkey *platform; /* wxsim.platform_key_file */
	struct wxpay_privkey *merchant; /* to forge: a valid RSA signature by the wrong key */
};

/* One ready request: body plus the four Wechatpay-* header lines. */
struct wxgen_req {
	char *body;
	char hdr[4][760];
	long status; /* filled by wxgen_fire */
};

int wxgen_init(struct wxgen *g, const struct config *cfg);
void wxgen_release(struct wxgen *g);

/*
 * The decrypted transaction JSON of a SUCCESS payment (malloc'd). appid and
 * mchid NULL mean the stack's.
 */
char *wxgen_txn(const struct wxgen *g, const char *out_trade_no, int64_t total_fen,
		const char *appid, const char *mchid);
/* The notification envelope around plain (encrypted; aad "transaction" or "refund"). */
char *wxgen_envelope(const struct wxgen *g, const char *notify_id, const char *event_type,
		     const char *aad, const char *plain);
/*
 * Signs body into r (taking ownership of body). ts_skew_s moves the
 * timestamp (e.g. -600 for a stale one); forge signs with the merchant key.
 */
void wxgen_sign(const struct wxgen *g, char *body, int64_t ts_skew_s, int forge,
		struct wxgen_req *r /* OUT */);
void wxgen_req_release(struct wxgen_req *r);

/*
 * POSTs every request to url with at most conc in flight, in the order
 * given; fills each r[i].status (0 when no answer). Returns the number
 * answered 200.
 */
size_t wxgen_fire(const char *url, struct wxgen_req *r, size_t n, int conc);

#endif
