/*
 * wxclient.h - xq-api's libcurl client of WeChat: mini-program login
 * (code2Session, protocols §14) and WeChat Pay API v3 calls (JSAPI order §6,
 * query order §9), signed with the merchant key and with every 2xx answer
 * verified against the configured WeChat Pay public key (§3.3).
 *
 * Invariants:
 *  - The merchant key and the platform key are loaded once per process from
 *    wx.merchant_key_file / wx.platform_pubkey_file (wxclient_keys) and are
 *    read-only afterwards, so every worker thread may share them.
 *  - Secrets (app secret, session_key, keys) are never logged. A session_key
 *    is handed to the caller only to be stored server-side.
 *  - Replies are capped at 1 MiB; calls time out after 10 s.
 *
 * Result codes: XQ_OK; XQ_EPROTO for a reply that is not what WeChat
 * promises (bad JSON, missing field, unsigned/forged 2xx); XQ_EAGAIN for a
 * transport failure or WeChat's "busy"; XQ_EINVAL for a refusal of our
 * request (the WeChat code is in the out-struct).
 */
#ifndef XQ_WXCLIENT_H
#define XQ_WXCLIENT_H

#include "buf.h"
#include "wxpay_sign.h"
#include "xq.h"

struct config;

/* The keys of the process; borrowed, valid until exit. */
struct wx_keys {
	struct wxpay_privkey *merchant; /* signs requests and paySign */
	struct wxpay_pubkey *platform;  /* verifies answers and callbacks */
	struct wxpay_keyset_entry entry;
	struct wxpay_keyset keyset;     /* { wx.platform_key_id -> platform } */
};

/*
 * Loads (first call) and returns the keys. XQ_EINVAL when a file is missing
 * or not a key (logged once, without contents); later calls retry the load.
 */
int wxclient_keys(const struct config *cfg, const struct wx_keys **out /* OUT */);

/* code2Session result. errcode/errmsg are WeChat's on failure (errmsg for logs only). */
struct wx_session {
	char openid[65];
	char unionid[65];
	char session_key[65]; /* secret: store server-side, never log or return */
	long errcode;
	char errmsg[128];
};

/*
 * GET {wx.api_base_url}/sns/jscode2session for code. Returns XQ_OK with
 * openid (and unionid when given) filled; XQ_EINVAL when WeChat refused the
 * code (out->errcode: 40029, 40163, 40226, 45011 ...); XQ_EAGAIN for -1 or a
 * transport failure; XQ_EPROTO for an answer without openid.
 */
int wx_code2session(const struct config *cfg, const char *code, struct wx_session *out /* OUT */);

/* Chinese text for a code2Session errcode, shown to the resident. Never NULL. */
const char *wx_login_message_zh(long errcode);

/* One signed answer from WeChat Pay. code/message are from an error body. */
struct wxpay_reply {
	long status;       /* HTTP status; 0 when no answer arrived */
	struct buf body;   /* raw body (capped 1 MiB) */
	char code[64];     /* error code on 4xx/5xx, e.g. ORDERPAID */
	char request_id[80];
};

void wxpay_reply_init(struct wxpay_reply *r);
void wxpay_reply_release(struct wxpay_reply *r);

/*
 * A signed API v3 call: method, path+query (the canonical URL, appended to
 * wx.pay_base_url), body (NULL for none). A 2xx answer is verified (§3.3,
 * timestamp window and signature with the platform key) before XQ_OK is
 * returned; an unverifiable 2xx is XQ_EPROTO. 4xx/5xx return XQ_EINVAL
 * (4xx) or XQ_EAGAIN (5xx, 429) with r->code filled. r is filled in every
 * case; the caller releases it.
 */
int wxpay_call(const struct config *cfg, const char *method, const char *path_query,
	       const char *body, struct wxpay_reply *r /* OUT */);

/*
 * POST /v3/pay/transactions/jsapi with body (the exact compact JSON to send)
 * and copies the prepay_id. Returns like wxpay_call, plus XQ_EPROTO when a
 * 200 carries no prepay_id. r->code tells ORDERPAID / ORDER_CLOSED /
 * INVALID_REQUEST apart.
 */
int wxpay_jsapi(const struct config *cfg, const char *body, char prepay_id[WXPAY_PREPAY_ID_MAX + 1],
		struct wxpay_reply *r /* OUT */);

/*
 * GET /v3/pay/transactions/out-trade-no/{no}?mchid=..; on XQ_OK r->body is
 * the verified transaction JSON (§9.2). 404 ORDER_NOT_EXIST is XQ_ENOTFOUND.
 */
int wxpay_query(const struct config *cfg, const char *out_trade_no, struct wxpay_reply *r /* OUT */);

/*
 * GET of a trade bill download_url's path+query (§12.2), signed like any
 * call; the answer is the raw file and is NOT signed, so nothing is verified
 * here: the caller compares its SHA-1 with the hash_value of the apply call.
 * XQ_OK on 200 (r->body is the file, capped 256 MiB).
 */
int wxpay_download(const struct config *cfg, const char *path_query, struct wxpay_reply *r /* OUT */);

#endif
