/*
 * wxpay_sign.c - WeChat Pay API v3 crypto on OpenSSL 3 EVP: strings to sign,
 * SHA256withRSA sign/verify, AEAD_AES_256_GCM, /v3/certificates and paySign.
 * Deliberately not here: HTTP, reading key files, the clock, random nonces
 * (wxpay.c and the callers own those), so every output is reproducible from
 * the published test vectors.
 */
#include "wxpay_sign.h"
#include "log.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <string.h>

#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 4096 /* keeps signatures within WXPAY_SIG_B64_MAX */
#define SIG_MAX_BYTES (RSA_MAX_BITS / 8)
#define MSG_SLACK 8192	    /* string-to-sign beyond the body: method, url, ... */
#define URL_MAX 4096
#define CERT_PEM_MAX 65536

struct wxpay_privkey {
	EVP_PKEY *pkey;
};

struct wxpay_pubkey {
	EVP_PKEY *pkey;
	char serial[WXPAY_SERIAL_MAX + 1]; /* "" unless loaded from a certificate */
};

/* ---- small helpers -------------------------------------------------------- */

/* Text of OpenSSL's last error for a log line (never carries key bytes), and clears the queue. */
static const char *ossl_reason(void)
{
	static _Thread_local char why[128];
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	xq_snprintf(why, sizeof(why), "%.100s", r ? r : "no detail");
	ERR_clear_error();
	return why;
}

/* Restores b to its first n bytes (undoing a partial append). */
static void buf_cut(struct buf *b, size_t n)
{
	XQ_ASSERT(n <= b->len);
	b->len = n;
	b->data[n] = '\0';
}

/* 1 if s is 1..max decimal digits. */
static int is_digits(const char *s, size_t max)
{
	size_t n = 0;

	if (!s || !*s)
		return 0;
	for (; s[n]; n++)
		if (s[n] < '0' || s[n] > '9' || n >= max)
			return 0;
	return 1;
}

static int is_hex_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
}

/* 1 if s is 1..max hex digits. */
static int is_hex(const char *s, size_t max)
{
	size_t n = 0;

	if (!s || !*s)
		return 0;
	for (; s[n]; n++)
		if (!is_hex_char(s[n]) || n >= max)
			return 0;
	return 1;
}

/*
 * 1 if s is 1..max printable ASCII characters other than space, '"' and ','
 * (safe inside a quoted Authorization value and on one line of a string to sign).
 */
static int is_token(const char *s, size_t max)
{
	size_t n = 0;

	if (!s || !*s)
		return 0;
	for (; s[n]; n++) {
		unsigned char c = (unsigned char)s[n];
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == ',' || n >= max)
			return 0;
	}
	return 1;
}

static char ascii_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* Hex serials compare without leading zeros ("0ABC" is "abc"); ids like PUB_KEY_ID_... as is. */
static const char *serial_core(const char *s)
{
	if (!is_hex(s, WXPAY_SERIAL_MAX))
		return s;
	while (s[0] == '0' && s[1])
		s++;
	return s;
}

static int serial_eq(const char *a, const char *b)
{
	a = serial_core(a);
	b = serial_core(b);
	for (; *a && *b; a++, b++)
		if (ascii_upper(*a) != ascii_upper(*b))
			return 0;
	return *a == *b;
}

/* ---- base64 (standard alphabet, padded, no whitespace) -------------------- */

static int b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Strict decode: length a multiple of 4, only the alphabet, '=' only as final
 * padding, unused bits zero (so each byte string has exactly one encoding).
 * EVP_DecodeBlock is not used because it skips whitespace and keeps padding
 * bytes. On success *out is xq_malloc'ed (free it).
 */
static int b64_decode(const char *s, unsigned char **out, size_t *out_len)
{
	size_t n = s ? strlen(s) : 0, pad = 0, o = 0;
	unsigned char *p;

	if (n == 0 || n % 4)
		return XQ_EINVAL;
	if (s[n - 1] == '=')
		pad = s[n - 2] == '=' ? 2 : 1;
	for (size_t i = 0; i < n - pad; i++)
		if (b64_val((unsigned char)s[i]) < 0)
			return XQ_EINVAL;
	if (pad == 2 && (b64_val((unsigned char)s[n - 3]) & 0x0f))
		return XQ_EINVAL;
	if (pad == 1 && (b64_val((unsigned char)s[n - 2]) & 0x03))
		return XQ_EINVAL;
	p = xq_malloc(n / 4 * 3);
	for (size_t i = 0; i < n; i += 4) {
		unsigned v0 = (unsigned)b64_val((unsigned char)s[i]);
		unsigned v1 = (unsigned)b64_val((unsigned char)s[i + 1]);
		int c2 = s[i + 2] == '=' && i + 4 == n ? 0 : b64_val((unsigned char)s[i + 2]);
		int c3 = s[i + 3] == '=' && i + 4 == n ? 0 : b64_val((unsigned char)s[i + 3]);
		uint32_t v = v0 << 18 | v1 << 12 | (uint32_t)c2 << 6 | (uint32_t)c3;

		p[o++] = (unsigned char)(v >> 16);
		if (i + 4 < n || pad < 2)
			p[o++] = (unsigned char)(v >> 8);
		if (i + 4 < n || pad < 1)
			p[o++] = (unsigned char)v;
	}
	*out = p;
	*out_len = o;
	return XQ_OK;
}

/* Base64 of n bytes appended to out; no line breaks. */
static int b64_append(struct buf *out, const unsigned char *in, size_t n)
{
	size_t cap;
	unsigned char *enc;
	int len, rc;

	if (n > (size_t)INT_MAX / 4 * 3 - 3)
		return XQ_ETOOBIG;
	cap = 4 * ((n + 2) / 3) + 1;
	enc = xq_malloc(cap);
	len = EVP_EncodeBlock(enc, in, (int)n);
	rc = buf_append(out, enc, (size_t)len);
	free(enc);
	return rc;
}

/* ---- keys ------------------------------------------------------------------ */

/* Never prompt for a passphrase: an encrypted key is a configuration error. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

/* RSA, 2048..4096 bits, or a logged XQ_EINVAL. what names the key in the log. */
static int check_rsa(EVP_PKEY *pkey, const char *what)
{
	int bits;

	if (!EVP_PKEY_is_a(pkey, "RSA"))
		return xq_error(XQ_EINVAL, "%s is not an rsa key", what);
	bits = EVP_PKEY_get_bits(pkey);
	if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS)
		return xq_error(XQ_EINVAL, "%s has %d bits, want %d..%d", what, bits, RSA_MIN_BITS,
				RSA_MAX_BITS);
	return XQ_OK;
}

int wxpay_privkey_load(const char *pem, size_t pem_len, struct wxpay_privkey **out)
{
	BIO *bio;
	EVP_PKEY *pkey;
	struct wxpay_privkey *k;

	*out = NULL;
	if (!pem || pem_len == 0 || pem_len > INT_MAX)
		return xq_error(XQ_EINVAL, "merchant private key: empty or oversized pem");
	bio = BIO_new_mem_buf(pem, (int)pem_len);
	if (!bio)
		return xq_error(XQ_EINVAL, "merchant private key: %s", ossl_reason());
	pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (!pkey)
		return xq_error(XQ_EINVAL,
				"merchant private key: no unencrypted PRIVATE KEY or RSA PRIVATE KEY "
				"block (%s)",
				ossl_reason());
	if (check_rsa(pkey, "merchant private key")) {
		EVP_PKEY_free(pkey);
		return XQ_EINVAL;
	}
	k = xq_calloc(1, sizeof(*k));
	k->pkey = pkey;
	*out = k;
	return XQ_OK;
}

void wxpay_privkey_free(struct wxpay_privkey *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey); /* OpenSSL wipes the RSA private components */
	free(k);
}

/* Upper-case hex serial of cert without leading zeros into out. */
static int cert_serial(X509 *cert, char out[WXPAY_SERIAL_MAX + 1])
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;
	const char *p = hex;
	int rc = XQ_EINVAL;

	if (p) {
		while (p[0] == '0' && p[1])
			p++;
		if (is_hex(p, WXPAY_SERIAL_MAX)) {
			xq_snprintf(out, WXPAY_SERIAL_MAX + 1, "%s", p);
			rc = XQ_OK;
		}
	}
	OPENSSL_free(hex);
	BN_free(bn);
	return rc;
}

int wxpay_pubkey_load(const char *pem, size_t pem_len, struct wxpay_pubkey **out)
{
	static const char cert_tag[] = "-----BEGIN CERTIFICATE-----";
	static const char spki_tag[] = "-----BEGIN PUBLIC KEY-----";
	BIO *bio;
	X509 *cert = NULL;
	EVP_PKEY *pkey = NULL;
	char serial[WXPAY_SERIAL_MAX + 1] = "";
	struct wxpay_pubkey *k;
	int rc = XQ_EINVAL;

	*out = NULL;
	if (!pem || pem_len == 0 || pem_len > INT_MAX)
		return xq_error(XQ_EINVAL, "public key: empty or oversized pem");
	bio = BIO_new_mem_buf(pem, (int)pem_len);
	if (!bio)
		return xq_error(XQ_EINVAL, "public key: %s", ossl_reason());
	if (memmem(pem, pem_len, cert_tag, sizeof(cert_tag) - 1)) {
		cert = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
		if (!cert) {
			xq_error(XQ_EINVAL, "public key: bad certificate pem (%s)", ossl_reason());
			goto out;
		}
		if (cert_serial(cert, serial)) {
			xq_error(XQ_EINVAL, "public key: unusable certificate serial number");
			goto out;
		}
		pkey = X509_get_pubkey(cert);
	} else if (memmem(pem, pem_len, spki_tag, sizeof(spki_tag) - 1)) {
		pkey = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
	} else {
		xq_error(XQ_EINVAL, "public key: no CERTIFICATE or PUBLIC KEY block in pem");
		goto out;
	}
	if (!pkey) {
		xq_error(XQ_EINVAL, "public key: unreadable key (%s)", ossl_reason());
		goto out;
	}
	if (check_rsa(pkey, "public key"))
		goto out;
	k = xq_calloc(1, sizeof(*k));
	k->pkey = pkey;
	pkey = NULL;
	memcpy(k->serial, serial, sizeof(serial));
	*out = k;
	rc = XQ_OK;
out:
	EVP_PKEY_free(pkey);
	X509_free(cert);
	BIO_free(bio);
	return rc;
}

void wxpay_pubkey_free(struct wxpay_pubkey *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

const char *wxpay_pubkey_serial(const struct wxpay_pubkey *k)
{
	return k->serial;
}

int wxpay_key_pair_match(const struct wxpay_privkey *priv, const struct wxpay_pubkey *pub)
{
	return priv && pub && EVP_PKEY_eq(priv->pkey, pub->pkey) == 1;
}

const struct wxpay_pubkey *wxpay_keyset_find(const struct wxpay_keyset *ks, const char *serial)
{
	if (!ks || !serial || !*serial)
		return NULL;
	for (size_t i = 0; i < ks->n; i++)
		if (ks->v[i].serial && ks->v[i].key && serial_eq(ks->v[i].serial, serial))
			return ks->v[i].key;
	return NULL;
}

/* ---- strings to sign -------------------------------------------------------- */

/* Appends each of the n (pointer, length) lines followed by LF; out unchanged on failure. */
static int append_lines(struct buf *out, const char *const *line, const size_t *len, size_t n)
{
	size_t len0 = out->len;

	for (size_t i = 0; i < n; i++) {
		if (buf_append(out, line[i], len[i]) || buf_append(out, "\n", 1)) {
			buf_cut(out, len0);
			return XQ_ETOOBIG;
		}
	}
	return XQ_OK;
}

static int is_method(const char *m)
{
	size_t n = 0;

	if (!m || !*m)
		return 0;
	for (; m[n]; n++)
		if (m[n] < 'A' || m[n] > 'Z' || n >= 16)
			return 0;
	return 1;
}

/* The request target as sent: "/path[?query]", printable ASCII, no spaces. */
static int is_request_target(const char *u)
{
	size_t n = 0;

	if (!u || u[0] != '/')
		return 0;
	for (; u[n]; n++)
		if ((unsigned char)u[n] <= 0x20 || (unsigned char)u[n] >= 0x7f || n >= URL_MAX)
			return 0;
	return 1;
}

int wxpay_request_message(struct buf *out, const char *method, const char *url,
			  const char *timestamp, const char *nonce, const char *body,
			  size_t body_len)
{
	const char *line[5] = { method, url, timestamp, nonce, body ? body : "" };
	size_t len[5];

	if (!is_method(method))
		return xq_error(XQ_EINVAL, "sign: bad http method");
	if (!is_request_target(url))
		return xq_error(XQ_EINVAL, "sign: url must be the request target '/path?query'");
	if (!is_digits(timestamp, 10))
		return xq_error(XQ_EINVAL, "sign: timestamp must be unix seconds");
	if (!is_token(nonce, WXPAY_NONCE_MAX))
		return xq_error(XQ_EINVAL, "sign: nonce must be 1..%d printable characters",
				WXPAY_NONCE_MAX);
	if (!body && body_len)
		return xq_error(XQ_EINVAL, "sign: body is NULL");
	for (size_t i = 0; i < 4; i++)
		len[i] = strlen(line[i]);
	len[4] = body_len;
	return append_lines(out, line, len, 5);
}

int wxpay_response_message(struct buf *out, const char *timestamp, const char *nonce,
			   const char *body, size_t body_len)
{
	const char *line[3] = { timestamp, nonce, body ? body : "" };
	size_t len[3];

	if (!is_digits(timestamp, 10))
		return xq_error(XQ_EINVAL, "verify: Wechatpay-Timestamp is not unix seconds");
	if (!is_token(nonce, 64))
		return xq_error(XQ_EINVAL, "verify: bad Wechatpay-Nonce");
	if (!body && body_len)
		return xq_error(XQ_EINVAL, "verify: body is NULL");
	len[0] = strlen(timestamp);
	len[1] = strlen(nonce);
	len[2] = body_len;
	return append_lines(out, line, len, 3);
}

/* ---- RSA ---------------------------------------------------------------------- */

int wxpay_sign_raw(const struct wxpay_privkey *k, const void *msg, size_t msg_len,
		   char *sig_b64, size_t sig_b64_cap)
{
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY_CTX *pctx;
	unsigned char sig[SIG_MAX_BYTES];
	size_t sig_len = sizeof(sig);
	int rc = XQ_ERROR;

	XQ_ASSERT(k && k->pkey);
	if (sig_b64_cap < 4 * (((size_t)EVP_PKEY_get_size(k->pkey) + 2) / 3) + 1)
		return xq_error(XQ_EINVAL, "sign: signature buffer too small");
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, k->pkey) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1 ||
	    EVP_DigestSign(ctx, sig, &sig_len, msg, msg_len) != 1) {
		xq_error(XQ_ERROR, "sign: SHA256withRSA failed (%s)", ossl_reason());
		goto out;
	}
	EVP_EncodeBlock((unsigned char *)sig_b64, sig, (int)sig_len);
	rc = XQ_OK;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

int wxpay_verify_raw(const struct wxpay_pubkey *k, const void *msg, size_t msg_len,
		     const char *sig_b64)
{
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY_CTX *pctx;
	unsigned char *sig = NULL;
	size_t sig_len = 0;
	int rc = XQ_EAUTH;

	XQ_ASSERT(k && k->pkey);
	if (b64_decode(sig_b64, &sig, &sig_len))
		return xq_error(XQ_EAUTH, "verify: signature is not base64");
	if (sig_len != (size_t)EVP_PKEY_get_size(k->pkey)) {
		xq_error(XQ_EAUTH, "verify: signature is %zu bytes, key wants %d", sig_len,
			 EVP_PKEY_get_size(k->pkey));
		goto out;
	}
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, k->pkey) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
		xq_error(XQ_ERROR, "verify: cannot set up SHA256withRSA (%s)", ossl_reason());
		rc = XQ_EAUTH; /* a failure to check is never a pass */
		goto out;
	}
	if (EVP_DigestVerify(ctx, sig, sig_len, msg, msg_len) != 1) {
		ERR_clear_error();
		xq_error(XQ_EAUTH, "verify: signature does not match");
		goto out;
	}
	rc = XQ_OK;
out:
	EVP_MD_CTX_free(ctx);
	free(sig);
	return rc;
}

int wxpay_sign_request(const struct wxpay_privkey *k, const char *mchid, const char *serial_no,
		       const char *method, const char *url, const char *body, size_t body_len,
		       int64_t timestamp_s, const char *nonce, struct buf *auth)
{
	struct buf msg;
	char ts[24];
	char sig[WXPAY_SIG_B64_MAX];
	size_t len0 = auth->len;
	int rc;

	if (!is_digits(mchid, 32))
		return xq_error(XQ_EINVAL, "sign: mchid must be 1..32 digits");
	if (!is_hex(serial_no, WXPAY_SERIAL_MAX))
		return xq_error(XQ_EINVAL, "sign: serial_no must be the merchant certificate serial (hex)");
	if (timestamp_s <= 0 || timestamp_s > 9999999999)
		return xq_error(XQ_EINVAL, "sign: timestamp %lld is not unix seconds",
				(long long)timestamp_s);
	if (body_len > SIZE_MAX - MSG_SLACK)
		return xq_error(XQ_EINVAL, "sign: body too large");
	xq_snprintf(ts, sizeof(ts), "%lld", (long long)timestamp_s);
	buf_init(&msg, body_len + MSG_SLACK);
	rc = wxpay_request_message(&msg, method, url, ts, nonce, body, body_len);
	if (!rc)
		rc = wxpay_sign_raw(k, msg.data, msg.len, sig, sizeof(sig));
	buf_release(&msg);
	if (rc)
		return rc;
	rc = buf_printf(auth,
			WXPAY_SIGN_SCHEME " mchid=\"%s\",nonce_str=\"%s\",signature=\"%s\","
					  "timestamp=\"%s\",serial_no=\"%s\"",
			mchid, nonce, sig, ts, serial_no);
	if (rc) {
		buf_cut(auth, len0);
		return xq_error(rc, "sign: authorization header does not fit");
	}
	return XQ_OK;
}

/* ---- verification ---------------------------------------------------------------- */

int wxpay_check_timestamp(const char *timestamp, int64_t now_s)
{
	int64_t ts, skew;

	if (!is_digits(timestamp, 10) || xq_parse_i64(timestamp, &ts))
		return xq_error(XQ_EAUTH, "verify: Wechatpay-Timestamp is not unix seconds");
	if (now_s < 0 || now_s > INT64_MAX / 2)
		return xq_error(XQ_EAUTH, "verify: clock value %lld is not unix seconds",
				(long long)now_s);
	skew = now_s - ts;
	if (skew < 0)
		skew = -skew;
	/* Both official SDKs refuse at exactly five minutes: 299 s passes, 300 s does not. */
	if (skew >= WXPAY_TS_WINDOW_S)
		return xq_error(XQ_EAUTH, "verify: Wechatpay-Timestamp %s is %lld s from now (limit %d)",
				timestamp, (long long)skew, WXPAY_TS_WINDOW_S - 1);
	return XQ_OK;
}

int wxpay_verify_signature(const struct wxpay_keyset *ks, const struct wxpay_sig_headers *h,
			   const char *body, size_t body_len)
{
	const struct wxpay_pubkey *key;
	struct buf msg;
	int rc;

	if (!h || !h->timestamp || !*h->timestamp)
		return xq_error(XQ_EAUTH, "verify: no Wechatpay-Timestamp header");
	if (!h->nonce || !*h->nonce)
		return xq_error(XQ_EAUTH, "verify: no Wechatpay-Nonce header");
	if (!h->signature || !*h->signature)
		return xq_error(XQ_EAUTH, "verify: no Wechatpay-Signature header");
	if (!h->serial || !*h->serial)
		return xq_error(XQ_EAUTH, "verify: no Wechatpay-Serial header");
	if (h->signature_type && strcmp(h->signature_type, WXPAY_SIGN_SCHEME) != 0)
		return xq_error(XQ_EAUTH, "verify: unsupported Wechatpay-Signature-Type '%.40s'",
				h->signature_type);
	/*
	 * WeChat's probe traffic: a deliberately wrong signature to see whether we
	 * check. It must fail like any bad signature (WeChat re-sends a real one);
	 * refuse it by name so the log says this was expected.
	 */
	if (strncmp(h->signature, WXPAY_SIGNTEST_PREFIX, sizeof(WXPAY_SIGNTEST_PREFIX) - 1) == 0)
		return xq_error(XQ_EAUTH, "verify: WECHATPAY/SIGNTEST/ probe signature refused");
	key = wxpay_keyset_find(ks, h->serial);
	if (!key)
		return xq_error(XQ_ENOTFOUND, "verify: no key for Wechatpay-Serial '%.64s'",
				h->serial);
	if (body_len > SIZE_MAX - MSG_SLACK)
		return xq_error(XQ_EAUTH, "verify: body too large");
	buf_init(&msg, body_len + MSG_SLACK);
	rc = wxpay_response_message(&msg, h->timestamp, h->nonce, body, body_len);
	if (rc)
		rc = XQ_EAUTH;
	else
		rc = wxpay_verify_raw(key, msg.data, msg.len, h->signature);
	buf_release(&msg);
	if (rc)
		return xq_error(XQ_EAUTH, "verify: rejected message signed as serial '%.64s'",
				h->serial);
	return XQ_OK;
}

int wxpay_verify_response(const struct wxpay_keyset *ks, const struct wxpay_sig_headers *h,
			  const char *body, size_t body_len, int64_t now_s)
{
	if (!h || !h->timestamp)
		return xq_error(XQ_EAUTH, "verify: no Wechatpay-Timestamp header");
	if (wxpay_check_timestamp(h->timestamp, now_s))
		return XQ_EAUTH;
	return wxpay_verify_signature(ks, h, body, body_len);
}

/* ---- AES-GCM ------------------------------------------------------------------------ */

static const EVP_CIPHER *gcm_cipher(size_t key_len)
{
	if (key_len == 32)
		return EVP_aes_256_gcm();
	if (key_len == 16)
		return EVP_aes_128_gcm(); /* only reachable through the test hook */
	return NULL;
}

static int check_nonce(const char *nonce)
{
	if (!nonce || strlen(nonce) != WXPAY_GCM_NONCE_LEN)
		return xq_error(XQ_EINVAL, "aead: nonce must be %d characters",
				WXPAY_GCM_NONCE_LEN);
	return XQ_OK;
}

/*
 * The GCM core: key of 16 or 32 bytes (policy is the caller's). Decrypts into
 * a private buffer and appends to out only after the tag has verified.
 */
XQ_STATIC int wxpay_gcm_open(const unsigned char *key, size_t key_len, const char *nonce,
			     const char *aad, const char *ciphertext_b64, struct buf *out)
{
	const EVP_CIPHER *cipher = gcm_cipher(key_len);
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *ct = NULL, *pt = NULL, tag[WXPAY_GCM_TAG_LEN];
	size_t ct_len = 0, pt_len = 0, aad_len = aad ? strlen(aad) : 0;
	int n = 0, fin = 0, rc = XQ_EINVAL;

	if (!key || !cipher)
		return xq_error(XQ_EINVAL, "aead: key must be 32 bytes, got %zu", key ? key_len : 0);
	if (check_nonce(nonce))
		return XQ_EINVAL;
	if (b64_decode(ciphertext_b64, &ct, &ct_len))
		return xq_error(XQ_EINVAL, "aead: ciphertext is not base64");
	if (ct_len < WXPAY_GCM_TAG_LEN || ct_len > INT_MAX || aad_len > INT_MAX) {
		xq_error(XQ_EINVAL, "aead: ciphertext of %zu bytes cannot hold the tag", ct_len);
		goto out;
	}
	pt_len = ct_len - WXPAY_GCM_TAG_LEN;
	memcpy(tag, ct + pt_len, WXPAY_GCM_TAG_LEN);
	pt = xq_malloc(pt_len + 1);
	rc = XQ_ERROR;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx || EVP_DecryptInit_ex(ctx, cipher, NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, WXPAY_GCM_NONCE_LEN, NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, key, (const unsigned char *)nonce) != 1 ||
	    (aad_len && EVP_DecryptUpdate(ctx, NULL, &n, (const unsigned char *)aad,
					  (int)aad_len) != 1) ||
	    EVP_DecryptUpdate(ctx, pt, &n, ct, (int)pt_len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, WXPAY_GCM_TAG_LEN, tag) != 1) {
		xq_error(XQ_ERROR, "aead: cipher setup failed (%s)", ossl_reason());
		goto out;
	}
	/* The tag check: anything but 1 means wrong key, nonce, aad or forged data. */
	if (EVP_DecryptFinal_ex(ctx, pt + n, &fin) != 1) {
		ERR_clear_error();
		rc = xq_error(XQ_EAUTH, "aead: tag mismatch (wrong key, nonce or associated_data, "
					"or forged ciphertext)");
		goto out;
	}
	XQ_ASSERT((size_t)n + (size_t)fin == pt_len);
	rc = buf_append(out, pt, pt_len);
	if (rc)
		xq_error(rc, "aead: plaintext of %zu bytes does not fit", pt_len);
out:
	EVP_CIPHER_CTX_free(ctx);
	if (pt) {
		OPENSSL_cleanse(pt, pt_len + 1);
		free(pt);
	}
	free(ct);
	return rc;
}

int wxpay_aead_decrypt(const unsigned char *key, size_t key_len, const char *nonce,
		       const char *aad, const char *ciphertext_b64, struct buf *out)
{
	if (!key || key_len != WXPAY_APIV3_KEY_LEN)
		return xq_error(XQ_EINVAL, "aead: apiv3 key must be %d bytes, got %zu",
				WXPAY_APIV3_KEY_LEN, key ? key_len : 0);
	return wxpay_gcm_open(key, key_len, nonce, aad, ciphertext_b64, out);
}

int wxpay_aead_encrypt(const unsigned char *key, size_t key_len, const char *nonce,
		       const char *aad, const void *pt, size_t pt_len, struct buf *out)
{
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *ct = NULL;
	size_t aad_len = aad ? strlen(aad) : 0;
	int n = 0, fin = 0, rc = XQ_ERROR;

	if (!key || key_len != WXPAY_APIV3_KEY_LEN)
		return xq_error(XQ_EINVAL, "aead: apiv3 key must be %d bytes, got %zu",
				WXPAY_APIV3_KEY_LEN, key ? key_len : 0);
	if (check_nonce(nonce))
		return XQ_EINVAL;
	if ((!pt && pt_len) || pt_len > INT_MAX / 2 || aad_len > INT_MAX)
		return xq_error(XQ_EINVAL, "aead: bad plaintext");
	ct = xq_malloc(pt_len + WXPAY_GCM_TAG_LEN);
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx || EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, WXPAY_GCM_NONCE_LEN, NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, key, (const unsigned char *)nonce) != 1 ||
	    (aad_len && EVP_EncryptUpdate(ctx, NULL, &n, (const unsigned char *)aad,
					  (int)aad_len) != 1) ||
	    (pt_len && EVP_EncryptUpdate(ctx, ct, &n, pt, (int)pt_len) != 1) ||
	    EVP_EncryptFinal_ex(ctx, ct + (pt_len ? n : 0), &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, WXPAY_GCM_TAG_LEN, ct + pt_len) != 1) {
		xq_error(XQ_ERROR, "aead: encryption failed (%s)", ossl_reason());
		goto out;
	}
	rc = b64_append(out, ct, pt_len + WXPAY_GCM_TAG_LEN);
	if (rc)
		xq_error(rc, "aead: ciphertext does not fit");
out:
	EVP_CIPHER_CTX_free(ctx);
	free(ct);
	return rc;
}

/* ---- JSON envelopes ------------------------------------------------------------------ */

static const char *json_str(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/*
 * Decrypts one {"algorithm","nonce","associated_data","ciphertext"} object.
 * associated_data may be absent (zero-length AAD) but not of another type.
 */
static int open_encrypted_object(const unsigned char *key, size_t key_len, const cJSON *obj,
				 const char *what, struct buf *out)
{
	const char *alg = json_str(obj, "algorithm");
	const cJSON *aad = cJSON_GetObjectItemCaseSensitive(obj, "associated_data");

	if (!cJSON_IsObject(obj))
		return xq_error(XQ_EJSON, "%s: no encrypted object", what);
	if (!alg || strcmp(alg, "AEAD_AES_256_GCM") != 0)
		return xq_error(XQ_EJSON, "%s: algorithm '%.32s' is not AEAD_AES_256_GCM", what,
				alg ? alg : "(missing)");
	if (!json_str(obj, "nonce") || !json_str(obj, "ciphertext") ||
	    (aad && !cJSON_IsString(aad)))
		return xq_error(XQ_EJSON, "%s: nonce, ciphertext or associated_data missing", what);
	return wxpay_aead_decrypt(key, key_len, json_str(obj, "nonce"),
				  aad ? aad->valuestring : NULL, json_str(obj, "ciphertext"), out);
}

int wxpay_notify_decrypt(const unsigned char *key, size_t key_len, const char *body,
			 size_t body_len, struct buf *out)
{
	cJSON *root;
	int rc;

	if (!key || key_len != WXPAY_APIV3_KEY_LEN)
		return xq_error(XQ_EINVAL, "notify: apiv3 key must be %d bytes, got %zu",
				WXPAY_APIV3_KEY_LEN, key ? key_len : 0);
	root = body ? cJSON_ParseWithLength(body, body_len) : NULL;
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return xq_error(XQ_EJSON, "notify: body is not a json object");
	}
	rc = open_encrypted_object(key, key_len, cJSON_GetObjectItemCaseSensitive(root, "resource"),
				   "notify resource", out);
	cJSON_Delete(root);
	return rc;
}

void wxpay_cert_list_release(struct wxpay_cert_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].pem);
		wxpay_pubkey_free(l->v[i].key);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Decrypts, parses and checks one data[] element into c. */
static int open_cert(const unsigned char *key, size_t key_len, const cJSON *item,
		     struct wxpay_platform_cert *c)
{
	const char *serial = json_str(item, "serial_no");
	struct buf pem;
	int rc;

	if (!is_token(serial, WXPAY_SERIAL_MAX))
		return xq_error(XQ_EJSON, "certificates: entry without a usable serial_no");
	xq_snprintf(c->serial_no, sizeof(c->serial_no), "%s", serial);
	buf_init(&pem, CERT_PEM_MAX);
	rc = open_encrypted_object(key, key_len,
				   cJSON_GetObjectItemCaseSensitive(item, "encrypt_certificate"),
				   "certificates", &pem);
	if (rc)
		goto out;
	if (wxpay_pubkey_load(pem.data, pem.len, &c->key) || !*wxpay_pubkey_serial(c->key)) {
		rc = xq_error(XQ_EPROTO, "certificates: '%s' did not decrypt to a certificate",
			      c->serial_no);
		goto out;
	}
	if (!serial_eq(c->serial_no, wxpay_pubkey_serial(c->key))) {
		rc = xq_error(XQ_EPROTO, "certificates: serial_no '%s' but certificate says '%s'",
			      c->serial_no, wxpay_pubkey_serial(c->key));
		goto out;
	}
	c->pem = buf_detach(&pem, NULL);
out:
	buf_release(&pem);
	return rc;
}

int wxpay_certs_decrypt(const unsigned char *key, size_t key_len, const char *body,
			size_t body_len, struct wxpay_cert_list *out)
{
	struct wxpay_cert_list l = { NULL, 0 };
	const cJSON *data, *item;
	cJSON *root;
	int rc = XQ_OK;

	out->v = NULL;
	out->n = 0;
	if (!key || key_len != WXPAY_APIV3_KEY_LEN)
		return xq_error(XQ_EINVAL, "certificates: apiv3 key must be %d bytes, got %zu",
				WXPAY_APIV3_KEY_LEN, key ? key_len : 0);
	root = body ? cJSON_ParseWithLength(body, body_len) : NULL;
	data = cJSON_GetObjectItemCaseSensitive(root, "data");
	if (!cJSON_IsArray(data)) {
		cJSON_Delete(root);
		return xq_error(XQ_EJSON, "certificates: body has no data array");
	}
	if (cJSON_GetArraySize(data) < 1) {
		cJSON_Delete(root);
		return xq_error(XQ_EPROTO, "certificates: empty list");
	}
	l.v = xq_calloc((size_t)cJSON_GetArraySize(data), sizeof(*l.v));
	cJSON_ArrayForEach(item, data) {
		rc = open_cert(key, key_len, item, &l.v[l.n]);
		if (rc) {
			wxpay_pubkey_free(l.v[l.n].key); /* open_cert may leave a parsed key */
			break;
		}
		l.n++;
	}
	cJSON_Delete(root);
	if (rc) {
		wxpay_cert_list_release(&l);
		return rc;
	}
	*out = l;
	return XQ_OK;
}

/* ---- mini-program payment ---------------------------------------------------------------- */

int wxpay_jsapi_params(const struct wxpay_privkey *k, const char *appid, const char *prepay_id,
		       int64_t timestamp_s, const char *nonce, struct wxpay_jsapi_params *out)
{
	static const char pfx[] = "prepay_id=";
	char msg[32 + 16 + WXPAY_NONCE_MAX + sizeof(out->package) + 8];
	int rc;

	memset(out, 0, sizeof(*out));
	if (!is_token(appid, 32))
		return xq_error(XQ_EINVAL, "paysign: bad appid");
	if (!is_token(prepay_id, WXPAY_PREPAY_ID_MAX))
		return xq_error(XQ_EINVAL, "paysign: prepay_id must be 1..%d printable characters",
				WXPAY_PREPAY_ID_MAX);
	if (strncmp(prepay_id, pfx, sizeof(pfx) - 1) == 0)
		return xq_error(XQ_EINVAL, "paysign: pass the bare prepay_id, not 'prepay_id=...'");
	if (!is_token(nonce, WXPAY_NONCE_MAX))
		return xq_error(XQ_EINVAL, "paysign: nonce must be 1..%d printable characters",
				WXPAY_NONCE_MAX);
	if (timestamp_s <= 0 || timestamp_s > 9999999999)
		return xq_error(XQ_EINVAL, "paysign: timestamp %lld is not unix seconds",
				(long long)timestamp_s);
	xq_snprintf(out->time_stamp, sizeof(out->time_stamp), "%lld", (long long)timestamp_s);
	xq_snprintf(out->nonce_str, sizeof(out->nonce_str), "%s", nonce);
	xq_snprintf(out->package, sizeof(out->package), "%s%s", pfx, prepay_id);
	xq_snprintf(out->sign_type, sizeof(out->sign_type), "RSA");
	/* Four lines, each ending in LF; line 4 is the whole package value (§7). */
	xq_snprintf(msg, sizeof(msg), "%s\n%s\n%s\n%s\n", appid, out->time_stamp, out->nonce_str,
		    out->package);
	rc = wxpay_sign_raw(k, msg, strlen(msg), out->pay_sign, sizeof(out->pay_sign));
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}
