/*
 * wxpay_sign.h - WeChat Pay API v3 cryptography: the strings that get signed,
 * SHA256withRSA request signing and response/callback verification,
 * AEAD_AES_256_GCM for notification resources and /v3/certificates, and the
 * mini-program wx.requestPayment parameters (paySign).
 *
 * Invariants every function here keeps:
 *  - No I/O, no network, no clock. Timestamps and nonces are parameters, so a
 *    known-answer test reproduces every byte (PKCS#1 v1.5 is deterministic).
 *  - Strings that get signed are built from the exact bytes given: bodies are
 *    never parsed or re-serialised, URLs never decoded.
 *  - Keys are read-only once loaded: one struct wxpay_privkey/wxpay_pubkey may
 *    serve every worker thread at once.
 *  - Secrets (private keys, the APIv3 key, decrypted plaintext) never reach the
 *    log; temporary copies are wiped with OPENSSL_cleanse. A signature is
 *    logged at most as its first 8 characters.
 *  - Result codes: XQ_EINVAL for input we refuse to work with (wrong key
 *    length, malformed PEM/base64/header value), XQ_EAUTH for "this was not
 *    signed/sealed by whom it claims" (bad signature, probe signature, stale
 *    timestamp, GCM tag mismatch), XQ_ENOTFOUND for an unknown
 *    Wechatpay-Serial (certificate mode: refresh /v3/certificates once and
 *    retry), XQ_EPROTO for a WeChat reply that is inconsistent with itself,
 *    XQ_ETOOBIG when an output buf's cap is hit. Callers map them to the
 *    answer they owe (a callback answers 4xx/5xx on any of them).
 *
 * Protocol reference: /work/shared/docs/wechat-protocols.md sections 2-5, 7.
 */
#ifndef XQ_WXPAY_SIGN_H
#define XQ_WXPAY_SIGN_H

#include "buf.h"
#include "xq.h"

#include <stddef.h>
#include <stdint.h>

/* Authorization scheme and Wechatpay-Signature-Type value (§2.4, §3.1). */
#define WXPAY_SIGN_SCHEME "WECHATPAY2-SHA256-RSA2048"
/* Prefix of WeChat's deliberate probe signatures (§3.3 step 4). */
#define WXPAY_SIGNTEST_PREFIX "WECHATPAY/SIGNTEST/"
/* Responses and callbacks older or newer than this are refused (§3.3 step 2). */
#define WXPAY_TS_WINDOW_S 300
/* The APIv3 key is exactly this many bytes (§4.1). */
#define WXPAY_APIV3_KEY_LEN 32
/* GCM nonce in encrypted resources: 12 ASCII characters used as the IV (§5.1). */
#define WXPAY_GCM_NONCE_LEN 12
#define WXPAY_GCM_TAG_LEN 16
/* Base64 of an RSA signature up to 4096 bits, plus NUL (2048 bits -> 344 chars). */
#define WXPAY_SIG_B64_MAX 700
/* Cert serials are <= 40 hex in practice, public-key ids ~47 chars. */
#define WXPAY_SERIAL_MAX 64
#define WXPAY_NONCE_MAX 32
#define WXPAY_PREPAY_ID_MAX 64

/* A merchant private key (RSA >= 2048 bits). Opaque; holds secret material. */
struct wxpay_privkey;
/* A WeChat (or merchant) public key, from a certificate or a bare SPKI PEM. */
struct wxpay_pubkey;

/* ---- keys ------------------------------------------------------------- */

/*
 * Parses an RSA private key from PEM in memory: PKCS#8 ("BEGIN PRIVATE KEY",
 * what apiclient_key.pem holds) or PKCS#1 ("BEGIN RSA PRIVATE KEY").
 * Encrypted keys are refused (never prompts), as are non-RSA keys and keys
 * under 2048 bits. pem need not be NUL-terminated. On success *out is owned
 * by the caller (wxpay_privkey_free). The caller still owns and should wipe pem.
 * Returns XQ_OK or XQ_EINVAL.
 */
int wxpay_privkey_load(const char *pem, size_t pem_len, struct wxpay_privkey **out /* OUT */);
void wxpay_privkey_free(struct wxpay_privkey *k);

/*
 * Parses a public key from PEM in memory: an X.509 certificate ("BEGIN
 * CERTIFICATE": platform certificate mode, or a merchant cert) or a bare
 * SubjectPublicKeyInfo ("BEGIN PUBLIC KEY": WeChat Pay public-key mode).
 * RSA >= 2048 bits only. The certificate's validity dates are not checked
 * (no clock here). On success *out is owned by the caller (wxpay_pubkey_free).
 * Returns XQ_OK or XQ_EINVAL.
 */
int wxpay_pubkey_load(const char *pem, size_t pem_len, struct wxpay_pubkey **out /* OUT */);
void wxpay_pubkey_free(struct wxpay_pubkey *k);

/*
 * Serial of the certificate the key came from, upper-case hex without leading
 * zeros (as the SDKs print it, e.g. "D7CE59D1F522D701"); "" for a bare public
 * key. Never NULL; valid while k lives.
 */
const char *wxpay_pubkey_serial(const struct wxpay_pubkey *k);

/* 1 if pub is the public half of priv (config sanity check: key vs cert), else 0. */
int wxpay_key_pair_match(const struct wxpay_privkey *priv, const struct wxpay_pubkey *pub);

/*
 * The keys we accept WeChat signatures from, by Wechatpay-Serial: platform
 * certificate serials and/or PUB_KEY_ID_... ids (both during a migration,
 * §4.3). Serials compare case-insensitively, ignoring leading zeros of hex
 * serials. The set borrows everything; it is a plain array the caller fills.
 */
struct wxpay_keyset_entry {
	const char *serial;
	const struct wxpay_pubkey *key;
};

struct wxpay_keyset {
	const struct wxpay_keyset_entry *v;
	size_t n;
};

/* The key for serial, or NULL if the set has none. */
const struct wxpay_pubkey *wxpay_keyset_find(const struct wxpay_keyset *ks, const char *serial);

/* ---- strings to sign ---------------------------------------------------- */

/*
 * Appends the five-line request string-to-sign (§2.2) to out:
 * method LF url LF timestamp LF nonce LF body LF. method is upper-case A-Z;
 * url is the request target exactly as sent (starts with '/', printable
 * ASCII, no scheme/host); timestamp is 1-10 decimal digits (seconds, never
 * milliseconds); nonce is 1-32 printable ASCII without space, '"' or ','.
 * body is the exact wire bytes (may be NULL when body_len is 0); a body that
 * ends in LF still gets its own LF. Returns XQ_OK, XQ_EINVAL or XQ_ETOOBIG
 * (out unchanged on error).
 */
int wxpay_request_message(struct buf *out, const char *method, const char *url,
			  const char *timestamp, const char *nonce, const char *body,
			  size_t body_len);

/*
 * Appends the three-line response/callback string-to-sign (§3.2) to out:
 * timestamp LF nonce LF body LF, where timestamp and nonce are the raw
 * Wechatpay-Timestamp / Wechatpay-Nonce header values and body the raw bytes
 * received (empty for 204). Same value rules as above, except the nonce may
 * be up to 64 characters. Returns XQ_OK, XQ_EINVAL or XQ_ETOOBIG.
 */
int wxpay_response_message(struct buf *out, const char *timestamp, const char *nonce,
			   const char *body, size_t body_len);

/* ---- signing (merchant side; the sandbox uses it to sign as "WeChat") ---- */

/*
 * Base64(SHA256withRSA(k, msg)), PKCS#1 v1.5, standard alphabet, padded, no
 * line breaks, into sig_b64 (NUL-terminated). Deterministic.
 * Returns XQ_OK, XQ_EINVAL (sig_b64_cap too small) or XQ_ERROR.
 */
int wxpay_sign_raw(const struct wxpay_privkey *k, const void *msg, size_t msg_len,
		   char *sig_b64 /* OUT */, size_t sig_b64_cap);

/*
 * Builds the Authorization header value for one API call (§2.4):
 *   WECHATPAY2-SHA256-RSA2048 mchid="..",nonce_str="..",signature="..",timestamp="..",serial_no=".."
 * (that field order, as in WeChat's own example; no spaces after commas) and
 * appends it to auth. mchid is 1-32 digits; serial_no is the merchant API
 * certificate serial, 1-64 hex digits; timestamp_s is Unix seconds (> 0,
 * at most 10 digits); nonce follows wxpay_request_message. The same method,
 * url, body bytes, timestamp and nonce must then go on the wire.
 * Returns XQ_OK, XQ_EINVAL, XQ_ETOOBIG or XQ_ERROR (auth unchanged on error).
 */
int wxpay_sign_request(const struct wxpay_privkey *k, const char *mchid, const char *serial_no,
		       const char *method, const char *url, const char *body, size_t body_len,
		       int64_t timestamp_s, const char *nonce, struct buf *auth /* OUT */);

/* ---- verification (WeChat -> us) ----------------------------------------- */

/* The Wechatpay-* headers of a response or callback, raw; NULL when absent. */
struct wxpay_sig_headers {
	const char *timestamp;	    /* Wechatpay-Timestamp */
	const char *nonce;	    /* Wechatpay-Nonce */
	const char *signature;	    /* Wechatpay-Signature */
	const char *serial;	    /* Wechatpay-Serial */
	const char *signature_type; /* Wechatpay-Signature-Type; may be NULL (older replies) */
};

/*
 * XQ_OK if sig_b64 is a valid SHA256withRSA PKCS#1 v1.5 signature of msg
 * under k; XQ_EAUTH otherwise (including malformed base64 or a wrong length).
 */
int wxpay_verify_raw(const struct wxpay_pubkey *k, const void *msg, size_t msg_len,
		     const char *sig_b64);

/*
 * Freshness of a Wechatpay-Timestamp: XQ_OK when |now_s - timestamp| < 300,
 * XQ_EAUTH when it is 300 s or more either way (both official SDKs reject at
 * exactly 5 minutes; the vectors pin 299 s accepted and 300 s refused), and
 * XQ_EAUTH when timestamp is not 1-10 decimal digits.
 */
int wxpay_check_timestamp(const char *timestamp, int64_t now_s);

/*
 * Checks the signature of a response or callback (§3.3 steps 1, 3-5) without
 * looking at the time: all four headers present, signature type (if given)
 * WECHATPAY2-SHA256-RSA2048, a WECHATPAY/SIGNTEST/ probe refused as a failed
 * verification, key chosen by h->serial from ks, RSA over the three-line
 * string. Returns XQ_OK, XQ_EAUTH or XQ_ENOTFOUND (serial not in ks).
 * Prefer wxpay_verify_response, which also checks the time.
 */
int wxpay_verify_signature(const struct wxpay_keyset *ks, const struct wxpay_sig_headers *h,
			   const char *body, size_t body_len);

/*
 * The whole check for a 2xx response or a callback (§3.3): the timestamp
 * window against now_s (Unix seconds, read by the caller), then
 * wxpay_verify_signature. Returns XQ_OK, XQ_EAUTH or XQ_ENOTFOUND.
 * Only XQ_OK means the body came from WeChat.
 */
int wxpay_verify_response(const struct wxpay_keyset *ks, const struct wxpay_sig_headers *h,
			  const char *body, size_t body_len, int64_t now_s);

/* ---- AEAD_AES_256_GCM (§5) ------------------------------------------------ */

/*
 * Decrypts one encrypted resource. key is the APIv3 key, exactly 32 bytes
 * (anything else, such as the 16-byte keys of some SDK tests, is XQ_EINVAL).
 * nonce is the 12-character string used as the IV; aad is associated_data
 * (NULL or "" means none); ciphertext_b64 is Base64(ciphertext || 16-byte tag).
 * On success appends the plaintext to out. On a tag mismatch (wrong key,
 * nonce, aad or tampered data) returns XQ_EAUTH and out is unchanged: no
 * unauthenticated byte is ever released. Returns XQ_OK, XQ_EINVAL, XQ_EAUTH
 * or XQ_ETOOBIG. Plaintext may be personal data: the caller wipes out.
 */
int wxpay_aead_decrypt(const unsigned char *key, size_t key_len, const char *nonce,
		       const char *aad, const char *ciphertext_b64, struct buf *out /* OUT */);

/*
 * The inverse, for the WeChat imitation building callbacks and certificate
 * lists: appends Base64(AES-256-GCM(pt) || tag) to out. The caller supplies
 * the 12-character nonce (fresh random [0-9A-Za-z] per message in production;
 * fixed in tests). Returns XQ_OK, XQ_EINVAL, XQ_ETOOBIG or XQ_ERROR.
 */
int wxpay_aead_encrypt(const unsigned char *key, size_t key_len, const char *nonce,
		       const char *aad, const void *pt, size_t pt_len, struct buf *out /* OUT */);

/*
 * Decrypts the "resource" of a callback body (§8.1) after the caller has
 * verified the body's signature: parses body as JSON, requires
 * resource.algorithm == "AEAD_AES_256_GCM", then wxpay_aead_decrypt with
 * resource.nonce/associated_data/ciphertext. Appends the plaintext (the
 * transaction/refund JSON) to out. Returns like wxpay_aead_decrypt, plus
 * XQ_EJSON when body is not JSON or lacks those fields.
 */
int wxpay_notify_decrypt(const unsigned char *key, size_t key_len, const char *body,
			 size_t body_len, struct buf *out /* OUT */);

/* ---- /v3/certificates (§4.2) ----------------------------------------------- */

struct wxpay_platform_cert {
	char serial_no[WXPAY_SERIAL_MAX + 1]; /* as listed, checked against the cert */
	char *pem;			      /* decrypted certificate PEM, NUL-terminated */
	struct wxpay_pubkey *key;	      /* parsed from pem */
};

struct wxpay_cert_list {
	struct wxpay_platform_cert *v;
	size_t n;
};

/*
 * Decrypts every data[].encrypt_certificate of a /v3/certificates body with
 * the APIv3 key, parses each PEM and checks its serial equals serial_no.
 * Fills *out (release with wxpay_cert_list_release) only on full success.
 * The body's own signature is the caller's to check afterwards, with a
 * keyset built from these certificates (bootstrap, §4.2).
 * Returns XQ_OK, XQ_EINVAL (key length), XQ_EJSON, XQ_EAUTH (tag),
 * XQ_EPROTO (not a certificate, serial mismatch, empty list).
 */
int wxpay_certs_decrypt(const unsigned char *key, size_t key_len, const char *body,
			size_t body_len, struct wxpay_cert_list *out /* OUT */);
void wxpay_cert_list_release(struct wxpay_cert_list *l);

/* ---- mini-program payment (§7) ------------------------------------------------- */

/* What wx.requestPayment takes (appId is signed but not passed in a mini-program). */
struct wxpay_jsapi_params {
	char time_stamp[16];		 /* "timeStamp": Unix seconds as a string */
	char nonce_str[WXPAY_NONCE_MAX + 1]; /* "nonceStr" */
	char package[10 + WXPAY_PREPAY_ID_MAX + 1]; /* "package": "prepay_id=..." */
	char sign_type[4];		 /* "signType": "RSA" */
	char pay_sign[WXPAY_SIG_B64_MAX]; /* "paySign" */
};

/*
 * Fills out for prepay_id (the bare id returned by the JSAPI order, e.g.
 * "wx2014...", not "prepay_id=..."; that prefix is refused to catch the
 * double-prefix bug). paySign signs the four lines appid, timeStamp,
 * nonceStr, package, each ending in LF; package carries "prepay_id=" (the
 * APP-payment form with the bare id is a different, wrong string here).
 * appid is 1-32 printable ASCII; nonce as for requests.
 * Returns XQ_OK, XQ_EINVAL or XQ_ERROR.
 */
int wxpay_jsapi_params(const struct wxpay_privkey *k, const char *appid, const char *prepay_id,
		       int64_t timestamp_s, const char *nonce,
		       struct wxpay_jsapi_params *out /* OUT */);

#ifdef XQ_UNITTEST
/*
 * The GCM core without the 32-byte policy (16 or 32 byte keys), so the SDK
 * vectors that use 16-byte keys still prove our nonce/tag/base64 handling.
 * Test-only: production code must go through wxpay_aead_decrypt.
 */
int wxpay_gcm_open(const unsigned char *key, size_t key_len, const char *nonce, const char *aad,
		   const char *ciphertext_b64, struct buf *out /* OUT */);
#endif

#endif
