/*
 * test_wxpay_sign.c - lib/wxpay_sign.c against the published WeChat Pay
 * known-answer vectors, read from the JSON files in the directory given as
 * argv[1] (tests/data/wechat, copied from /work/shared/vectors/wechat), plus
 * negatives derived from them: every vector marked negative, or carrying a
 * 16-byte "APIv3" key, must be refused.
 */
#include "log.h"
#include "test.h"
#include "wxpay_sign.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *vec_dir = "tests/data/wechat";

/* Official test merchant of apiclient_test_key.pem (WeChat's signature how-to pages). */
#define OFFICIAL_MCHID "1900007291"
#define OFFICIAL_SERIAL "408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB"
#define PUBKEY_ID "PUB_KEY_ID_0000000000000024101100397200000006"

/* ---- vector access ------------------------------------------------------------ */

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		p = malloc((size_t)n + 1);
		if (p && fread(p, 1, (size_t)n, f) == (size_t)n) {
			p[n] = '\0';
			*len = (size_t)n;
		} else {
			free(p);
			p = NULL;
		}
	}
	fclose(f);
	return p;
}

/* The parsed vector file; a missing or broken file is a failed check, never a skip. */
static cJSON *vec_load(const char *name)
{
	char path[1024];
	size_t len = 0;
	char *text;
	cJSON *v;

	snprintf(path, sizeof(path), "%s/%s", vec_dir, name);
	text = read_file(path, &len);
	v = text ? cJSON_ParseWithLength(text, len) : NULL;
	free(text);
	CHECK(v != NULL);
	if (!v)
		fprintf(stderr, "cannot load vector %s\n", path);
	return v;
}

static const char *js(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *jo(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static int jtrue(const cJSON *o, const char *k)
{
	return cJSON_IsTrue(jo(o, k));
}

static int64_t jint(const cJSON *o, const char *k)
{
	const cJSON *v = jo(o, k);
	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -1;
}

static struct wxpay_privkey *priv_of(const char *pem)
{
	struct wxpay_privkey *k = NULL;

	CHECK(pem != NULL);
	if (pem)
		CHECK_EQ_I64(wxpay_privkey_load(pem, strlen(pem), &k), XQ_OK);
	return k;
}

static struct wxpay_pubkey *pub_of(const char *pem)
{
	struct wxpay_pubkey *k = NULL;

	CHECK(pem != NULL);
	if (pem)
		CHECK_EQ_I64(wxpay_pubkey_load(pem, strlen(pem), &k), XQ_OK);
	return k;
}

/* ---- RSA: request signing, paySign, raw sign/verify ------------------------------ */

/*
 * One rsa_sha256_signature vector: reproduce the string to sign from its
 * fields, sign deterministically, verify with its public key, and build the
 * Authorization header or the wx.requestPayment parameters it describes.
 */
static void run_rsa_vector(const char *file)
{
	cJSON *v = vec_load(file);
	const cJSON *f;
	const char *msg, *sig, *privpem, *pubpem;
	struct wxpay_privkey *priv = NULL;
	struct wxpay_pubkey *pub = NULL;
	char out[WXPAY_SIG_B64_MAX];
	struct buf b;

	if (!v)
		return;
	buf_init(&b, 1 << 16);
	msg = js(v, "message");
	sig = js(v, "signature");
	privpem = js(v, "privkey");
	pubpem = js(v, "pubkey");
	f = jo(v, "fields");
	CHECK(msg && sig);
	if (privpem)
		priv = priv_of(privpem);
	if (priv && jtrue(v, "deterministic_sign_check")) {
		CHECK_EQ_I64(wxpay_sign_raw(priv, msg, strlen(msg), out, sizeof(out)), XQ_OK);
		CHECK_STR(out, sig);
	}
	if (pubpem) {
		pub = pub_of(pubpem);
		if (pub)
			CHECK_EQ_I64(wxpay_verify_raw(pub, msg, strlen(msg), sig),
				     jtrue(v, "expect_valid") ? XQ_OK : XQ_EAUTH);
		if (priv && pub)
			CHECK(wxpay_key_pair_match(priv, pub));
	}
	if (f && js(f, "method")) {
		/* a request signature: five lines, then the whole Authorization value */
		const char *body = js(f, "body");
		int64_t ts = 0;

		CHECK_EQ_I64(wxpay_request_message(&b, js(f, "method"), js(f, "canonical_url"),
						   js(f, "timestamp"), js(f, "nonce_str"), body,
						   strlen(body)),
			     XQ_OK);
		CHECK_STR(b.data, msg);
		CHECK_EQ_I64(xq_parse_i64(js(f, "timestamp"), &ts), XQ_OK);
		buf_reset(&b);
		CHECK_EQ_I64(wxpay_sign_request(priv, OFFICIAL_MCHID, OFFICIAL_SERIAL,
						js(f, "method"), js(f, "canonical_url"), body,
						strlen(body), ts, js(f, "nonce_str"), &b),
			     XQ_OK);
		CHECK(strstr(b.data, sig) != NULL);
		if (js(v, "authorization"))
			CHECK_STR(b.data, js(v, "authorization"));
		if (js(v, "signature_published_prefix")) {
			CHECK(strncmp(sig, js(v, "signature_published_prefix"),
				      strlen(js(v, "signature_published_prefix"))) == 0);
			CHECK(strlen(sig) >= strlen(js(v, "signature_published_suffix")) &&
			      strcmp(sig + strlen(sig) - strlen(js(v, "signature_published_suffix")),
				     js(v, "signature_published_suffix")) == 0);
		}
	} else if (f && js(f, "appId")) {
		/* paySign: ours must equal the mini-program form and never the APP form */
		const char *line4 = js(f, "line4");
		int is_mp = strncmp(line4, "prepay_id=", 10) == 0;
		struct wxpay_jsapi_params p;
		int64_t ts = 0;

		CHECK_EQ_I64(xq_parse_i64(js(f, "timeStamp"), &ts), XQ_OK);
		CHECK_EQ_I64(wxpay_jsapi_params(priv, js(f, "appId"), is_mp ? line4 + 10 : line4, ts,
						js(f, "nonceStr"), &p),
			     XQ_OK);
		CHECK_STR(p.time_stamp, js(f, "timeStamp"));
		CHECK_STR(p.nonce_str, js(f, "nonceStr"));
		CHECK_STR(p.sign_type, "RSA");
		if (is_mp) {
			CHECK_STR(p.package, line4);
			CHECK_STR(p.pay_sign, sig);
		} else {
			CHECK(strncmp(p.package, "prepay_id=", 10) == 0);
			CHECK_STR(p.package + 10, line4);
			CHECK(strcmp(p.pay_sign, sig) != 0);
		}
	}
	buf_release(&b);
	wxpay_privkey_free(priv);
	wxpay_pubkey_free(pub);
	cJSON_Delete(v);
}

TEST(official_request_signatures)
{
	run_rsa_vector("official_req_sign_get_refund_query.json");
	run_rsa_vector("official_req_sign_post_jsapi.json");
}

TEST(official_paysign)
{
	run_rsa_vector("official_paysign_miniprogram.json");
	run_rsa_vector("official_paysign_app_contrast.json");
}

TEST(sdk_rsa_vectors)
{
	run_rsa_vector("go_signer_source.json");
	run_rsa_vector("go_pubkey_verify_wrong_message.json");		/* negative */
	run_rsa_vector("java_merchant_sign_message.json");
	run_rsa_vector("java_pubkey_mode_rejects_foreign_signature.json"); /* negative */
}

TEST(sign_message_layout)
{
	cJSON *v = vec_load("go_sign_message_layout.json");
	const cJSON *c;
	struct buf b;
	int n = 0;

	if (!v)
		return;
	buf_init(&b, 4096);
	cJSON_ArrayForEach(c, jo(v, "cases")) {
		const char *body = js(c, "body");

		buf_reset(&b);
		CHECK_EQ_I64(wxpay_request_message(&b, js(c, "method"), js(c, "canonical_url"),
						   js(c, "timestamp"), js(c, "nonce_str"), body,
						   strlen(body)),
			     XQ_OK);
		CHECK_STR(b.data, js(c, "expected_message"));
		n++;
	}
	CHECK_EQ_I64(n, 2);
	/* NULL body with length 0 is the GET form */
	buf_reset(&b);
	CHECK_EQ_I64(wxpay_request_message(&b, "GET", "/v3/certificates", "1624523846",
					   "A1B2C3D4E5F6G7", NULL, 0),
		     XQ_OK);
	CHECK_STR(b.data, "GET\n/v3/certificates\n1624523846\nA1B2C3D4E5F6G7\n\n");
	buf_release(&b);
	cJSON_Delete(v);
}

TEST(request_input_rules)
{
	cJSON *v = vec_load("official_req_sign_get_refund_query.json");
	struct wxpay_privkey *k;
	struct buf b, tiny;
	const char *u = "/v3/refund/domestic/refunds/123123123123";
	const char *nonce = "593BEC0C930BF1AFEB40B4A08C8FB242";

	if (!v)
		return;
	k = priv_of(js(v, "privkey"));
	buf_init(&b, 4096);
	CHECK_EQ_I64(wxpay_sign_request(k, OFFICIAL_MCHID, OFFICIAL_SERIAL, "GET", u, NULL, 0,
					1554208460000LL, nonce, &b),
		     XQ_EINVAL); /* milliseconds */
	CHECK_EQ_I64(wxpay_sign_request(k, "19000x7291", OFFICIAL_SERIAL, "GET", u, NULL, 0,
					1554208460, nonce, &b),
		     XQ_EINVAL);
	CHECK_EQ_I64(wxpay_sign_request(k, OFFICIAL_MCHID, "408B\"07", "GET", u, NULL, 0,
					1554208460, nonce, &b),
		     XQ_EINVAL);
	CHECK_EQ_I64(wxpay_sign_request(k, OFFICIAL_MCHID, OFFICIAL_SERIAL, "get", u, NULL, 0,
					1554208460, nonce, &b),
		     XQ_EINVAL);
	CHECK_EQ_I64(wxpay_sign_request(k, OFFICIAL_MCHID, OFFICIAL_SERIAL, "GET",
					"https://api.mch.weixin.qq.com/v3/certificates", NULL, 0,
					1554208460, nonce, &b),
		     XQ_EINVAL);
	CHECK_EQ_I64(wxpay_sign_request(k, OFFICIAL_MCHID, OFFICIAL_SERIAL, "GET", "/v3/a b", NULL,
					0, 1554208460, nonce, &b),
		     XQ_EINVAL);
	CHECK_EQ_I64(wxpay_sign_request(k, OFFICIAL_MCHID, OFFICIAL_SERIAL, "GET", u, NULL, 0,
					1554208460, "abc\",x=\"y", &b),
		     XQ_EINVAL); /* header injection through the nonce */
	CHECK_EQ_I64(wxpay_sign_request(k, OFFICIAL_MCHID, OFFICIAL_SERIAL, "GET", u, NULL, 0,
					1554208460, "0123456789012345678901234567890123", &b),
		     XQ_EINVAL); /* 34 > 32 */
	CHECK_EQ_I64(b.len, 0);
	/* a full buffer fails cleanly and leaves what was there */
	buf_init(&tiny, 100);
	buf_puts(&tiny, "keep");
	CHECK_EQ_I64(wxpay_sign_request(k, OFFICIAL_MCHID, OFFICIAL_SERIAL, "GET", u, NULL, 0,
					1554208460, nonce, &tiny),
		     XQ_ETOOBIG);
	CHECK_STR(tiny.data, "keep");
	buf_reset(&b);
	CHECK_EQ_I64(wxpay_request_message(&b, "GET", "/x", "1554208460123", "n", NULL, 0),
		     XQ_EINVAL);
	CHECK_EQ_I64(wxpay_request_message(&b, "GET", "/x", "1554208460", "n", NULL, 5), XQ_EINVAL);
	CHECK_EQ_I64(b.len, 0);
	buf_release(&tiny);
	buf_release(&b);
	wxpay_privkey_free(k);
	cJSON_Delete(v);
}

TEST(paysign_input_rules)
{
	cJSON *v = vec_load("official_paysign_miniprogram.json");
	struct wxpay_privkey *k;
	struct wxpay_jsapi_params p;
	const char *appid = "wx2421b1c4370ec43b", *nonce = "593BEC0C930BF1AFEB40B4A08C8FB242";
	char long_id[WXPAY_PREPAY_ID_MAX + 2];

	if (!v)
		return;
	k = priv_of(js(v, "privkey"));
	/* the double-prefix bug is refused, not signed */
	CHECK_EQ_I64(wxpay_jsapi_params(k, appid, "prepay_id=wx201410272009395522657a690389285100",
					1554208460, nonce, &p),
		     XQ_EINVAL);
	CHECK_STR(p.pay_sign, "");
	CHECK_EQ_I64(wxpay_jsapi_params(k, appid, "wx2014", 1554208460000LL, nonce, &p), XQ_EINVAL);
	CHECK_EQ_I64(wxpay_jsapi_params(k, "", "wx2014", 1554208460, nonce, &p), XQ_EINVAL);
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	CHECK_EQ_I64(wxpay_jsapi_params(k, appid, long_id, 1554208460, nonce, &p),
		     XQ_EINVAL); /* 65 > 64 */
	long_id[64] = '\0';
	CHECK_EQ_I64(wxpay_jsapi_params(k, appid, long_id, 1554208460, nonce, &p), XQ_OK);
	CHECK_EQ_I64(strlen(p.package), 74);
	CHECK_EQ_I64(wxpay_jsapi_params(k, appid, "wx2014", 1554208460, "a b", &p), XQ_EINVAL);
	wxpay_privkey_free(k);
	cJSON_Delete(v);
}

/* ---- keys -------------------------------------------------------------------- */

TEST(java_keyset)
{
	cJSON *v = vec_load("java_test_keys.json");
	struct wxpay_privkey *mpriv, *ppriv;
	struct wxpay_pubkey *mcert, *pcert, *ppub;

	if (!v)
		return;
	mpriv = priv_of(js(v, "merchant_privkey"));
	ppriv = priv_of(js(v, "platform_privkey"));
	mcert = pub_of(js(v, "merchant_cert"));
	pcert = pub_of(js(v, "platform_cert"));
	ppub = pub_of(js(v, "platform_pubkey"));
	if (mpriv && ppriv && mcert && pcert && ppub) {
		CHECK_STR(wxpay_pubkey_serial(mcert), js(v, "merchant_cert_serial_hex"));
		CHECK_STR(wxpay_pubkey_serial(pcert), js(v, "platform_cert_serial_hex"));
		CHECK_STR(wxpay_pubkey_serial(ppub), ""); /* bare SPKI has no serial */
		CHECK(wxpay_key_pair_match(mpriv, mcert));
		CHECK(wxpay_key_pair_match(ppriv, pcert));
		CHECK(wxpay_key_pair_match(ppriv, ppub));
		CHECK(!wxpay_key_pair_match(mpriv, pcert));
		CHECK(!wxpay_key_pair_match(ppriv, mcert));
	}
	wxpay_privkey_free(mpriv);
	wxpay_privkey_free(ppriv);
	wxpay_pubkey_free(mcert);
	wxpay_pubkey_free(pcert);
	wxpay_pubkey_free(ppub);
	cJSON_Delete(v);
}

/* PEM text of pkey written by fn; malloc'ed. */
static char *pem_of(EVP_PKEY *pkey, int traditional, int encrypted)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL, *copy = NULL;
	long n;
	int ok;

	if (encrypted)
		ok = PEM_write_bio_PKCS8PrivateKey(bio, pkey, EVP_aes_256_cbc(), "pw", 2, NULL, NULL);
	else if (traditional)
		ok = PEM_write_bio_PrivateKey_traditional(bio, pkey, NULL, NULL, 0, NULL, NULL);
	else
		ok = PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL);
	n = BIO_get_mem_data(bio, &data);
	if (ok == 1 && n > 0) {
		copy = malloc((size_t)n + 1);
		memcpy(copy, data, (size_t)n);
		copy[n] = '\0';
	}
	BIO_free(bio);
	return copy;
}

TEST(key_formats_and_refusals)
{
	cJSON *v = vec_load("official_req_sign_get_refund_query.json");
	const char *pem;
	BIO *bio;
	EVP_PKEY *ossl, *ec, *small;
	char *pkcs1, *enc, *ecpem, *smallpem, out[WXPAY_SIG_B64_MAX];
	struct wxpay_privkey *k = NULL;
	struct wxpay_pubkey *pk = NULL;

	if (!v)
		return;
	pem = js(v, "privkey");
	bio = BIO_new_mem_buf(pem, -1);
	ossl = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	CHECK(ossl != NULL);
	if (!ossl) {
		cJSON_Delete(v);
		return;
	}
	/* PKCS#1 ("BEGIN RSA PRIVATE KEY") signs exactly like the PKCS#8 original */
	pkcs1 = pem_of(ossl, 1, 0);
	CHECK(pkcs1 && strstr(pkcs1, "-----BEGIN RSA PRIVATE KEY-----"));
	CHECK_EQ_I64(wxpay_privkey_load(pkcs1, strlen(pkcs1), &k), XQ_OK);
	if (k) {
		CHECK_EQ_I64(wxpay_sign_raw(k, js(v, "message"), strlen(js(v, "message")), out,
					    sizeof(out)),
			     XQ_OK);
		CHECK_STR(out, js(v, "signature"));
		CHECK_EQ_I64(wxpay_sign_raw(k, "x", 1, out, 344), XQ_EINVAL); /* no room for NUL */
	}
	wxpay_privkey_free(k);
	k = NULL;
	/* encrypted keys are refused without prompting on a terminal */
	enc = pem_of(ossl, 0, 1);
	CHECK(enc && strstr(enc, "ENCRYPTED PRIVATE KEY"));
	CHECK_EQ_I64(wxpay_privkey_load(enc, strlen(enc), &k), XQ_EINVAL);
	CHECK(k == NULL);
	/* non-RSA and short RSA keys */
	ec = EVP_EC_gen("P-256");
	ecpem = ec ? pem_of(ec, 0, 0) : NULL;
	CHECK(ecpem != NULL);
	if (ecpem)
		CHECK_EQ_I64(wxpay_privkey_load(ecpem, strlen(ecpem), &k), XQ_EINVAL);
	small = EVP_RSA_gen(1024);
	smallpem = small ? pem_of(small, 0, 0) : NULL;
	CHECK(smallpem != NULL);
	if (smallpem)
		CHECK_EQ_I64(wxpay_privkey_load(smallpem, strlen(smallpem), &k), XQ_EINVAL);
	/* garbage, truncation, the wrong kind of PEM */
	CHECK_EQ_I64(wxpay_privkey_load("hello", 5, &k), XQ_EINVAL);
	CHECK_EQ_I64(wxpay_privkey_load(pem, strlen(pem) / 2, &k), XQ_EINVAL);
	CHECK_EQ_I64(wxpay_privkey_load(pem, 0, &k), XQ_EINVAL);
	CHECK_EQ_I64(wxpay_pubkey_load(pem, strlen(pem), &pk), XQ_EINVAL);
	CHECK(pk == NULL);
	CHECK(k == NULL);
	EVP_PKEY_free(ossl);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(small);
	free(pkcs1);
	free(enc);
	free(ecpem);
	free(smallpem);
	cJSON_Delete(v);
}

/* ---- callbacks: verification ------------------------------------------------------ */

static struct wxpay_sig_headers hdrs_of(const cJSON *v)
{
	const cJSON *h = jo(v, "headers");
	struct wxpay_sig_headers s = {
		js(h, "Wechatpay-Timestamp"), js(h, "Wechatpay-Nonce"), js(h, "Wechatpay-Signature"),
		js(h, "Wechatpay-Serial"),    NULL,
	};
	return s;
}

/* Resource of a callback body through the 16/32-byte test hook. */
static int open_resource(const char *key, const char *body, struct buf *out)
{
	cJSON *root = cJSON_Parse(body);
	const cJSON *r = jo(root, "resource");
	int rc = wxpay_gcm_open((const unsigned char *)key, strlen(key), js(r, "nonce"),
				js(r, "associated_data"), js(r, "ciphertext"), out);
	cJSON_Delete(root);
	return rc;
}

/*
 * A published (or derived) callback: the string to sign, the whole check at
 * the vector's "now", the signature alone, and the resource. All these SDK
 * callbacks use a 16-byte APIv3 key, so our decrypt must refuse the key
 * while the 128-bit test hook proves the resource decodes to the published
 * plaintext.
 */
static void run_notification(const char *file, int sig_ok, int time_ok)
{
	cJSON *v = vec_load(file);
	struct wxpay_sig_headers h;
	struct wxpay_pubkey *cert, *cert2;
	struct wxpay_keyset_entry e[1];
	struct wxpay_keyset ks = { e, 1 };
	const char *body, *key;
	struct buf b;

	if (!v)
		return;
	h = hdrs_of(v);
	body = js(v, "body");
	key = js(v, "apiv3_key");
	cert = pub_of(js(v, "platform_cert"));
	cert2 = pub_of(js(v, "pubkey")); /* these vectors repeat the certificate here */
	if (!cert || !cert2 || !body || !key)
		goto out;
	CHECK_STR(wxpay_pubkey_serial(cert), h.serial);
	CHECK_STR(wxpay_pubkey_serial(cert2), h.serial);
	CHECK_STR(h.signature, js(v, "signature"));
	e[0].serial = h.serial;
	e[0].key = cert;
	buf_init(&b, 1 << 16);
	CHECK_EQ_I64(wxpay_response_message(&b, h.timestamp, h.nonce, body, strlen(body)), XQ_OK);
	CHECK_STR(b.data, js(v, "message")); /* for "tampered", the changed body's string */
	CHECK_EQ_I64(wxpay_check_timestamp(h.timestamp, jint(v, "now")), time_ok ? XQ_OK : XQ_EAUTH);
	CHECK_EQ_I64(wxpay_verify_signature(&ks, &h, body, strlen(body)), sig_ok ? XQ_OK : XQ_EAUTH);
	CHECK_EQ_I64(wxpay_verify_response(&ks, &h, body, strlen(body), jint(v, "now")),
		     jtrue(v, "expect_valid") ? XQ_OK : XQ_EAUTH);
	CHECK_EQ_I64(jtrue(v, "expect_valid"), sig_ok && time_ok);
	/* the 16-byte key is refused; out stays empty */
	CHECK_EQ_I64(jint(v, "aes_key_bits"), 128);
	buf_reset(&b);
	CHECK_EQ_I64(wxpay_notify_decrypt((const unsigned char *)key, strlen(key), body,
					  strlen(body), &b),
		     XQ_EINVAL);
	CHECK_EQ_I64(b.len, 0);
	CHECK_EQ_I64(open_resource(key, body, &b), XQ_OK);
	CHECK_STR(b.data, js(v, "expected_plaintext"));
	buf_release(&b);
out:
	wxpay_pubkey_free(cert);
	wxpay_pubkey_free(cert2);
	cJSON_Delete(v);
}

TEST(notification_vectors)
{
	run_notification("go_notification_payscore.json", 1, 1);
	run_notification("derived_go_notify_skew_299s.json", 1, 1);
	run_notification("derived_go_notify_skew_300s_negative.json", 1, 0);
	run_notification("derived_go_notify_tampered_negative.json", 0, 1);
}

/* Negatives built from the valid published callback. */
TEST(notification_refusals)
{
	cJSON *v = vec_load("go_notification_payscore.json");
	cJSON *keys = vec_load("java_test_keys.json");
	struct wxpay_sig_headers h, x;
	struct wxpay_pubkey *cert = NULL, *other = NULL;
	struct wxpay_keyset_entry e[2];
	struct wxpay_keyset ks = { e, 2 }, none = { NULL, 0 };
	const char *body;
	size_t n;
	int64_t now;
	char *sig;

	if (!v || !keys)
		goto out;
	h = hdrs_of(v);
	body = js(v, "body");
	n = strlen(body);
	now = jint(v, "now");
	cert = pub_of(js(v, "platform_cert"));
	other = pub_of(js(keys, "platform_cert"));
	if (!cert || !other)
		goto out;
	e[0].serial = js(keys, "platform_cert_serial_hex");
	e[0].key = other;
	e[1].serial = "D7CE59D1F522D701";
	e[1].key = cert;
	CHECK_EQ_I64(wxpay_verify_response(&ks, &h, body, n, now), XQ_OK);
	/* serial: case and leading zeros do not matter, unknown ones are ENOTFOUND */
	x = h;
	x.serial = "d7ce59d1f522d701";
	CHECK_EQ_I64(wxpay_verify_response(&ks, &x, body, n, now), XQ_OK);
	x.serial = "00D7CE59D1F522D701";
	CHECK_EQ_I64(wxpay_verify_response(&ks, &x, body, n, now), XQ_OK);
	x.serial = "D7CE59D1F522D702";
	CHECK_EQ_I64(wxpay_verify_response(&ks, &x, body, n, now), XQ_ENOTFOUND);
	x.serial = PUBKEY_ID;
	CHECK_EQ_I64(wxpay_verify_response(&ks, &x, body, n, now), XQ_ENOTFOUND);
	CHECK_EQ_I64(wxpay_verify_response(&none, &h, body, n, now), XQ_ENOTFOUND);
	CHECK_EQ_I64(wxpay_verify_response(NULL, &h, body, n, now), XQ_ENOTFOUND);
	/* the right serial pointing at the wrong key */
	e[1].key = other;
	CHECK_EQ_I64(wxpay_verify_response(&ks, &h, body, n, now), XQ_EAUTH);
	e[1].key = cert;
	/* WeChat's probe signature is refused, as is anything not base64 or truncated */
	x = h;
	x.signature = "WECHATPAY/SIGNTEST/tJHIiIS9eB2hAYstmAmbbD3ZE5LiIm/Ug5tuL4fC0YOFRWIHV39U";
	CHECK_EQ_I64(wxpay_verify_response(&ks, &x, body, n, now), XQ_EAUTH);
	x.signature = "not base64!";
	CHECK_EQ_I64(wxpay_verify_response(&ks, &x, body, n, now), XQ_EAUTH);
	sig = strdup(h.signature);
	sig[strlen(sig) - 4] = '\0';
	x.signature = sig;
	CHECK_EQ_I64(wxpay_verify_response(&ks, &x, body, n, now), XQ_EAUTH);
	memcpy(sig, h.signature, strlen(h.signature) + 1);
	sig[10] = sig[10] == 'A' ? 'B' : 'A'; /* one changed character, same length */
	CHECK_EQ_I64(wxpay_verify_response(&ks, &x, body, n, now), XQ_EAUTH);
	free(sig);
	/* missing headers */
	x = h;
	x.timestamp = NULL;
	CHECK_EQ_I64(wxpay_verify_response(&ks, &x, body, n, now), XQ_EAUTH);
	x = h;
	x.nonce = "";
	CHECK_EQ_I64(wxpay_verify_response(&ks, &x, body, n, now), XQ_EAUTH);
	x = h;
	x.signature = NULL;
	CHECK_EQ_I64(wxpay_verify_response(&ks, &x, body, n, now), XQ_EAUTH);
	x = h;
	x.serial = NULL;
	CHECK_EQ_I64(wxpay_verify_response(&ks, &x, body, n, now), XQ_EAUTH);
	CHECK_EQ_I64(wxpay_verify_response(&ks, NULL, body, n, now), XQ_EAUTH);
	/* signature type */
	x = h;
	x.signature_type = WXPAY_SIGN_SCHEME;
	CHECK_EQ_I64(wxpay_verify_response(&ks, &x, body, n, now), XQ_OK);
	x.signature_type = "WECHATPAY2-SM2-WITH-SM3";
	CHECK_EQ_I64(wxpay_verify_response(&ks, &x, body, n, now), XQ_EAUTH);
	/* the window is symmetric: 299 s early passes, 300 s early does not */
	CHECK_EQ_I64(wxpay_verify_response(&ks, &h, body, n, now - 299), XQ_OK);
	CHECK_EQ_I64(wxpay_verify_response(&ks, &h, body, n, now - 300), XQ_EAUTH);
	CHECK_EQ_I64(wxpay_verify_response(&ks, &h, body, n, now + 300), XQ_EAUTH);
	CHECK_EQ_I64(wxpay_check_timestamp("1624523846000", now), XQ_EAUTH); /* ms */
	CHECK_EQ_I64(wxpay_check_timestamp("-1624523846", now), XQ_EAUTH);
	CHECK_EQ_I64(wxpay_check_timestamp("", now), XQ_EAUTH);
	CHECK_EQ_I64(wxpay_check_timestamp(NULL, now), XQ_EAUTH);
	CHECK_EQ_I64(wxpay_check_timestamp("1624523846", -1), XQ_EAUTH);
	/* a different timestamp or nonce than was signed, the body cut short or absent */
	x = h;
	x.timestamp = "1624523847";
	CHECK_EQ_I64(wxpay_verify_response(&ks, &x, body, n, now), XQ_EAUTH);
	x = h;
	x.nonce = "EcZ9Cmy4Xyx1i6RlJQzLcCyEqDa26NBZ";
	CHECK_EQ_I64(wxpay_verify_response(&ks, &x, body, n, now), XQ_EAUTH);
	CHECK_EQ_I64(wxpay_verify_response(&ks, &h, body, n - 1, now), XQ_EAUTH);
	CHECK_EQ_I64(wxpay_verify_response(&ks, &h, NULL, 0, now), XQ_EAUTH);
	CHECK_EQ_I64(wxpay_verify_response(&ks, &h, NULL, n, now), XQ_EAUTH);
out:
	wxpay_pubkey_free(cert);
	wxpay_pubkey_free(other);
	cJSON_Delete(v);
	cJSON_Delete(keys);
}

/*
 * Public-key mode end to end, as the WeChat imitation will do it: sign a
 * 204 response (empty body) and a callback with the "WeChat" key, verify with
 * the bare public key registered under its PUB_KEY_ID_.
 */
TEST(pubkey_mode_round_trip)
{
	cJSON *v = vec_load("java_test_keys.json");
	struct wxpay_privkey *wx = NULL, *merchant = NULL;
	struct wxpay_pubkey *pub = NULL, *mcert = NULL;
	struct wxpay_keyset_entry e[1];
	struct wxpay_keyset ks = { e, 1 };
	struct wxpay_sig_headers h = { "1717207200", "5K8264ILTKCH16CQ2502SI8ZNMTM67VS", NULL,
				       PUBKEY_ID, WXPAY_SIGN_SCHEME };
	const char *body = "{\"code\":\"SUCCESS\"}\n";
	char sig[WXPAY_SIG_B64_MAX];
	struct buf b;
	struct wxpay_jsapi_params p;

	if (!v)
		return;
	wx = priv_of(js(v, "platform_privkey"));
	merchant = priv_of(js(v, "merchant_privkey"));
	pub = pub_of(js(v, "platform_pubkey"));
	mcert = pub_of(js(v, "merchant_cert"));
	if (!wx || !merchant || !pub || !mcert)
		goto out;
	e[0].serial = PUBKEY_ID;
	e[0].key = pub;
	buf_init(&b, 4096);
	CHECK_EQ_I64(wxpay_response_message(&b, h.timestamp, h.nonce, NULL, 0), XQ_OK);
	CHECK_STR(b.data, "1717207200\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\n\n");
	CHECK_EQ_I64(wxpay_sign_raw(wx, b.data, b.len, sig, sizeof(sig)), XQ_OK);
	h.signature = sig;
	CHECK_EQ_I64(wxpay_verify_response(&ks, &h, NULL, 0, 1717207200), XQ_OK);
	CHECK_EQ_I64(wxpay_verify_response(&ks, &h, "", 0, 1717207200 + 299), XQ_OK);
	CHECK_EQ_I64(wxpay_verify_response(&ks, &h, "{}", 2, 1717207200), XQ_EAUTH);
	/* a body ending in LF keeps it and gets one more */
	buf_reset(&b);
	CHECK_EQ_I64(wxpay_response_message(&b, h.timestamp, h.nonce, body, strlen(body)), XQ_OK);
	CHECK(b.len >= 2 && b.data[b.len - 1] == '\n' && b.data[b.len - 2] == '\n');
	CHECK_EQ_I64(wxpay_sign_raw(wx, b.data, b.len, sig, sizeof(sig)), XQ_OK);
	CHECK_EQ_I64(wxpay_verify_response(&ks, &h, body, strlen(body), 1717207200), XQ_OK);
	CHECK_EQ_I64(wxpay_verify_response(&ks, &h, body, strlen(body) - 1, 1717207200), XQ_EAUTH);
	/* signed by the merchant key instead: refused (java_pubkey_mode_rejects_foreign_signature) */
	CHECK_EQ_I64(wxpay_sign_raw(merchant, b.data, b.len, sig, sizeof(sig)), XQ_OK);
	CHECK_EQ_I64(wxpay_verify_response(&ks, &h, body, strlen(body), 1717207200), XQ_EAUTH);
	/* paySign verifies with the merchant certificate over the four lines */
	CHECK_EQ_I64(wxpay_jsapi_params(merchant, "wx8888888888888888",
					"wx201410272009395522657a690389285100", 1717207200,
					"5K8264ILTKCH16CQ2502SI8ZNMTM67VS", &p),
		     XQ_OK);
	buf_reset(&b);
	buf_printf(&b, "wx8888888888888888\n%s\n%s\n%s\n", p.time_stamp, p.nonce_str, p.package);
	CHECK_EQ_I64(wxpay_verify_raw(mcert, b.data, b.len, p.pay_sign), XQ_OK);
	CHECK_EQ_I64(strlen(p.pay_sign), 344);
	buf_release(&b);
out:
	wxpay_privkey_free(wx);
	wxpay_privkey_free(merchant);
	wxpay_pubkey_free(pub);
	wxpay_pubkey_free(mcert);
	cJSON_Delete(v);
}

/* ---- AEAD_AES_256_GCM -------------------------------------------------------------- */

static void run_gcm_vector(const char *file)
{
	cJSON *v = vec_load(file);
	const unsigned char *key;
	size_t klen;
	struct buf b;
	int valid;

	if (!v)
		return;
	key = (const unsigned char *)js(v, "key");
	klen = strlen((const char *)key);
	valid = jtrue(v, "expect_valid");
	buf_init(&b, 4096);
	if (jint(v, "aes_key_bits") == 256) {
		CHECK_EQ_I64(klen, 32);
		CHECK_EQ_I64(wxpay_aead_decrypt(key, klen, js(v, "nonce"), js(v, "associated_data"),
						js(v, "ciphertext"), &b),
			     valid ? XQ_OK : XQ_EAUTH);
		if (valid)
			CHECK_STR(b.data, js(v, "plaintext"));
		else
			CHECK_EQ_I64(b.len, 0); /* no unauthenticated byte escapes */
		if (jtrue(v, "encrypt_check")) {
			const char *pt = js(v, "plaintext");

			buf_reset(&b);
			CHECK_EQ_I64(wxpay_aead_encrypt(key, klen, js(v, "nonce"),
							js(v, "associated_data"), pt, strlen(pt), &b),
				     XQ_OK);
			CHECK_STR(b.data, js(v, "ciphertext"));
		}
	} else {
		/* a 16-byte "APIv3 key" is AES-128: refused by policy, checked via the hook */
		CHECK_EQ_I64(jint(v, "aes_key_bits"), 128);
		CHECK_EQ_I64(wxpay_aead_decrypt(key, klen, js(v, "nonce"), js(v, "associated_data"),
						js(v, "ciphertext"), &b),
			     XQ_EINVAL);
		CHECK_EQ_I64(wxpay_aead_encrypt(key, klen, js(v, "nonce"), js(v, "associated_data"),
						"x", 1, &b),
			     XQ_EINVAL);
		CHECK_EQ_I64(b.len, 0);
		CHECK_EQ_I64(wxpay_gcm_open(key, klen, js(v, "nonce"), js(v, "associated_data"),
					    js(v, "ciphertext"), &b),
			     valid ? XQ_OK : XQ_EAUTH);
		if (valid)
			CHECK_STR(b.data, js(v, "plaintext"));
		else
			CHECK_EQ_I64(b.len, 0);
	}
	buf_release(&b);
	cJSON_Delete(v);
}

TEST(gcm_vectors)
{
	run_gcm_vector("java_aead_aes256_message.json");
	run_gcm_vector("java_aead_aes256_bad_aad_negative.json");
	run_gcm_vector("java_aead_aes256_bad_nonce_negative.json");
	run_gcm_vector("go_aes_gcm_hello_world_128bit_key.json");
	run_gcm_vector("go_aes_gcm_wrong_key_negative.json");
}

TEST(gcm_edges)
{
	const unsigned char *key = (const unsigned char *)"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
	const char *ct = "ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI=";
	struct buf b, small;
	char bad[64];

	buf_init(&b, 4096);
	/* key lengths other than 32 */
	CHECK_EQ_I64(wxpay_aead_decrypt(key, 31, "uluk4a9R25RW", "associatedData", ct, &b), XQ_EINVAL);
	CHECK_EQ_I64(wxpay_aead_decrypt(key, 33, "uluk4a9R25RW", "associatedData", ct, &b), XQ_EINVAL);
	CHECK_EQ_I64(wxpay_aead_decrypt(key, 0, "uluk4a9R25RW", "associatedData", ct, &b), XQ_EINVAL);
	CHECK_EQ_I64(wxpay_aead_decrypt(NULL, 32, "uluk4a9R25RW", "associatedData", ct, &b),
		     XQ_EINVAL);
	/* nonce must be 12 characters */
	CHECK_EQ_I64(wxpay_aead_decrypt(key, 32, "uluk4a9R25R", "associatedData", ct, &b), XQ_EINVAL);
	CHECK_EQ_I64(wxpay_aead_decrypt(key, 32, "uluk4a9R25RWx", "associatedData", ct, &b),
		     XQ_EINVAL);
	CHECK_EQ_I64(wxpay_aead_decrypt(key, 32, NULL, "associatedData", ct, &b), XQ_EINVAL);
	/* base64 must be strict; shorter than a tag is malformed */
	CHECK_EQ_I64(wxpay_aead_decrypt(key, 32, "uluk4a9R25RW", "associatedData",
					"ulwSiIajGClcvcOY vOQ7+l+0PAbzzwI=", &b),
		     XQ_EINVAL);
	CHECK_EQ_I64(wxpay_aead_decrypt(key, 32, "uluk4a9R25RW", "associatedData",
					"ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI", &b),
		     XQ_EINVAL);
	CHECK_EQ_I64(wxpay_aead_decrypt(key, 32, "uluk4a9R25RW", "associatedData",
					"ulwSiIajGClcvcOYvOQ7+l+0PAbzzwJ=", &b),
		     XQ_EINVAL); /* non-zero padding bits */
	CHECK_EQ_I64(wxpay_aead_decrypt(key, 32, "uluk4a9R25RW", "associatedData", "AAAA", &b),
		     XQ_EINVAL);
	CHECK_EQ_I64(wxpay_aead_decrypt(key, 32, "uluk4a9R25RW", "associatedData", "", &b),
		     XQ_EINVAL);
	/* a flipped bit anywhere, in payload or tag, fails the tag */
	snprintf(bad, sizeof(bad), "%s", ct);
	bad[0] = 'v';
	CHECK_EQ_I64(wxpay_aead_decrypt(key, 32, "uluk4a9R25RW", "associatedData", bad, &b), XQ_EAUTH);
	snprintf(bad, sizeof(bad), "%s", ct);
	bad[25] = bad[25] == 'A' ? 'B' : 'A';
	CHECK_EQ_I64(wxpay_aead_decrypt(key, 32, "uluk4a9R25RW", "associatedData", bad, &b), XQ_EAUTH);
	/* AAD absent vs present */
	CHECK_EQ_I64(wxpay_aead_decrypt(key, 32, "uluk4a9R25RW", NULL, ct, &b), XQ_EAUTH);
	CHECK_EQ_I64(b.len, 0);
	/* round trips: empty plaintext, NULL and "" AAD are the same, Chinese text */
	CHECK_EQ_I64(wxpay_aead_encrypt(key, 32, "0123456789ab", NULL, NULL, 0, &b), XQ_OK);
	CHECK_EQ_I64(b.len, 24); /* base64 of the bare 16-byte tag */
	{
		char *c = strdup(b.data);

		buf_reset(&b);
		CHECK_EQ_I64(wxpay_aead_decrypt(key, 32, "0123456789ab", "", c, &b), XQ_OK);
		CHECK_EQ_I64(b.len, 0);
		buf_reset(&b);
		CHECK_EQ_I64(wxpay_aead_encrypt(key, 32, "0123456789ab", "transaction",
						"支付成功", strlen("支付成功"), &b),
			     XQ_OK);
		free(c);
		c = strdup(b.data);
		buf_reset(&b);
		CHECK_EQ_I64(wxpay_aead_decrypt(key, 32, "0123456789ab", "transaction", c, &b),
			     XQ_OK);
		CHECK_STR(b.data, "支付成功");
		/* plaintext larger than the output cap: ETOOBIG, nothing appended */
		buf_init(&small, 4);
		buf_puts(&small, "ab");
		CHECK_EQ_I64(wxpay_aead_decrypt(key, 32, "0123456789ab", "transaction", c, &small),
			     XQ_ETOOBIG);
		CHECK_STR(small.data, "ab");
		buf_release(&small);
		free(c);
	}
	buf_release(&b);
}

TEST(notify_decrypt_envelope)
{
	const unsigned char *key = (const unsigned char *)"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
	const char *ok = "{\"id\":\"EV-1\",\"resource\":{\"original_type\":\"transaction\","
			 "\"algorithm\":\"AEAD_AES_256_GCM\",\"ciphertext\":"
			 "\"ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI=\",\"associated_data\":\"associatedData\","
			 "\"nonce\":\"uluk4a9R25RW\"}}";
	const char *alg = "{\"resource\":{\"algorithm\":\"AEAD_AES_128_GCM\",\"ciphertext\":"
			  "\"ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI=\",\"associated_data\":\"associatedData\","
			  "\"nonce\":\"uluk4a9R25RW\"}}";
	const char *noaad = "{\"resource\":{\"algorithm\":\"AEAD_AES_256_GCM\",\"ciphertext\":"
			    "\"ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI=\",\"nonce\":\"uluk4a9R25RW\"}}";
	const char *nonce_num = "{\"resource\":{\"algorithm\":\"AEAD_AES_256_GCM\",\"ciphertext\":"
				"\"ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI=\",\"nonce\":12}}";
	struct buf b;

	buf_init(&b, 4096);
	CHECK_EQ_I64(wxpay_notify_decrypt(key, 32, ok, strlen(ok), &b), XQ_OK);
	CHECK_STR(b.data, "message");
	buf_reset(&b);
	CHECK_EQ_I64(wxpay_notify_decrypt(key, 32, ok, strlen(ok) - 1, &b), XQ_EJSON);
	CHECK_EQ_I64(wxpay_notify_decrypt(key, 32, alg, strlen(alg), &b), XQ_EJSON);
	CHECK_EQ_I64(wxpay_notify_decrypt(key, 32, noaad, strlen(noaad), &b), XQ_EAUTH);
	CHECK_EQ_I64(wxpay_notify_decrypt(key, 32, nonce_num, strlen(nonce_num), &b), XQ_EJSON);
	CHECK_EQ_I64(wxpay_notify_decrypt(key, 32, "{}", 2, &b), XQ_EJSON);
	CHECK_EQ_I64(wxpay_notify_decrypt(key, 32, "[]", 2, &b), XQ_EJSON);
	CHECK_EQ_I64(wxpay_notify_decrypt(key, 16, ok, strlen(ok), &b), XQ_EINVAL);
	CHECK_EQ_I64(b.len, 0);
	buf_release(&b);
}

/* ---- /v3/certificates ------------------------------------------------------------- */

TEST(certificates_java_256)
{
	cJSON *v = vec_load("java_certificates_response.json");
	const unsigned char *key;
	struct wxpay_cert_list l;
	const char *body;
	char *copy, *p;

	if (!v)
		return;
	key = (const unsigned char *)js(v, "apiv3_key");
	body = js(v, "body");
	CHECK_EQ_I64(jint(v, "aes_key_bits"), 256);
	CHECK_EQ_I64(wxpay_certs_decrypt(key, 32, body, strlen(body), &l), XQ_OK);
	CHECK_EQ_I64(l.n, 1);
	if (l.n == 1) {
		CHECK_STR(l.v[0].serial_no, js(v, "expected_serial_hex"));
		CHECK_STR(wxpay_pubkey_serial(l.v[0].key), js(v, "expected_serial_hex"));
		CHECK(strncmp(l.v[0].pem, "-----BEGIN CERTIFICATE-----", 27) == 0);
		if (js(v, "expected_plaintext"))
			CHECK_STR(l.v[0].pem, js(v, "expected_plaintext"));
	}
	wxpay_cert_list_release(&l);
	CHECK(l.v == NULL && l.n == 0);
	/* serial_no that does not match the certificate inside */
	copy = strdup(body);
	p = strstr(copy, "\"serial_no\": \"5DEA");
	CHECK(p != NULL);
	if (p) {
		p[14] = '6';
		CHECK_EQ_I64(wxpay_certs_decrypt(key, 32, copy, strlen(copy), &l), XQ_EPROTO);
		CHECK(l.v == NULL && l.n == 0);
		p[14] = '5';
	}
	/* another algorithm, another key, a 16-byte key, no list */
	p = strstr(copy, "AEAD_AES_256_GCM");
	CHECK(p != NULL);
	if (p) {
		memcpy(p, "AEAD_AES_128_GCM", 16);
		CHECK_EQ_I64(wxpay_certs_decrypt(key, 32, copy, strlen(copy), &l), XQ_EJSON);
	}
	CHECK_EQ_I64(wxpay_certs_decrypt((const unsigned char *)"b7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb",
					 32, body, strlen(body), &l),
		     XQ_EAUTH);
	CHECK_EQ_I64(wxpay_certs_decrypt(key, 16, body, strlen(body), &l), XQ_EINVAL);
	CHECK_EQ_I64(wxpay_certs_decrypt(key, 32, "{\"data\":[]}", 11, &l), XQ_EPROTO);
	CHECK_EQ_I64(wxpay_certs_decrypt(key, 32, "{}", 2, &l), XQ_EJSON);
	free(copy);
	cJSON_Delete(v);
}

TEST(certificates_go_128)
{
	cJSON *v = vec_load("go_certificates_response.json");
	cJSON *n = vec_load("go_notification_payscore.json");
	cJSON *root = NULL;
	const cJSON *item, *ec;
	const char *key, *body;
	struct wxpay_cert_list l;
	struct wxpay_privkey *priv = NULL;
	struct wxpay_pubkey *pub = NULL;
	struct buf b;

	if (!v || !n)
		goto out;
	key = js(v, "apiv3_key");
	body = js(v, "body");
	CHECK_EQ_I64(jint(v, "aes_key_bits"), 128);
	CHECK_EQ_I64(wxpay_certs_decrypt((const unsigned char *)key, strlen(key), body, strlen(body),
					 &l),
		     XQ_EINVAL);
	CHECK(l.n == 0);
	/* the payload itself, through the 128-bit hook */
	root = cJSON_Parse(body);
	item = cJSON_GetArrayItem(jo(root, "data"), 0);
	ec = jo(item, "encrypt_certificate");
	buf_init(&b, 1 << 16);
	CHECK_EQ_I64(wxpay_gcm_open((const unsigned char *)key, strlen(key), js(ec, "nonce"),
				    js(ec, "associated_data"), js(ec, "ciphertext"), &b),
		     XQ_OK);
	CHECK_STR(b.data, js(v, "expected_plaintext"));
	/* it is the platform certificate of the go callbacks, and the mock WeChat key's pair */
	CHECK_STR(b.data, js(n, "platform_cert"));
	pub = pub_of(b.data);
	priv = priv_of(js(v, "expected_cert_pubkey_matches_privkey"));
	if (pub && priv) {
		CHECK_STR(wxpay_pubkey_serial(pub), js(v, "expected_serial_hex"));
		CHECK_STR(wxpay_pubkey_serial(pub), js(item, "serial_no"));
		CHECK(wxpay_key_pair_match(priv, pub));
	}
	buf_release(&b);
out:
	wxpay_privkey_free(priv);
	wxpay_pubkey_free(pub);
	cJSON_Delete(root);
	cJSON_Delete(v);
	cJSON_Delete(n);
}

/* ---- hygiene ----------------------------------------------------------------------- */

/*
 * Secrets never reach the log: run failing and succeeding operations with
 * stderr captured, then look for the key, plaintext and signatures in it.
 */
TEST(logs_have_no_secrets)
{
	cJSON *sv = vec_load("official_req_sign_get_refund_query.json");
	cJSON *nv = vec_load("go_notification_payscore.json");
	const unsigned char *key = (const unsigned char *)"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
	struct wxpay_privkey *k = NULL;
	struct wxpay_pubkey *cert = NULL;
	struct wxpay_keyset_entry e[1];
	struct wxpay_keyset ks = { e, 1 };
	struct wxpay_sig_headers h, x;
	char sig[WXPAY_SIG_B64_MAX], logbuf[16384], probe[24];
	struct buf b;
	FILE *tmp = tmpfile();
	int saved = dup(2);
	size_t got = 0;
	const char *body, *pem;

	CHECK(tmp != NULL && saved >= 0);
	if (!sv || !nv || !tmp || saved < 0)
		goto out;
	pem = js(sv, "privkey");
	body = js(nv, "body");
	h = hdrs_of(nv);
	cert = pub_of(js(nv, "platform_cert"));
	k = priv_of(pem);
	if (!k || !cert)
		goto out;
	e[0].serial = h.serial;
	e[0].key = cert;
	buf_init(&b, 4096);
	fflush(stderr);
	dup2(fileno(tmp), 2);
	log_set_level(LOG_DEBUG);
	/* failures that carry secrets in their inputs */
	{
		struct wxpay_privkey *junk = NULL;
		char *half = strndup(pem, strlen(pem) / 2);

		wxpay_privkey_load(half, strlen(half), &junk);
		free(half);
	}
	wxpay_aead_encrypt(key, 32, "0123456789ab", "transaction", "PLAINTEXT-SECRET-42", 19, &b);
	{
		char *c = strdup(b.data);

		buf_reset(&b);
		wxpay_aead_decrypt(key, 32, "0123456789ab", "refund", c, &b);
		wxpay_aead_decrypt(key, 31, "0123456789ab", "transaction", c, &b);
		wxpay_aead_decrypt(key, 32, "0123456789ab", "transaction", c, &b);
		CHECK_STR(b.data, "PLAINTEXT-SECRET-42");
		free(c);
	}
	wxpay_verify_response(&ks, &h, body, strlen(body), jint(nv, "now") + 300);
	wxpay_verify_response(&ks, &h, body, strlen(body) - 1, jint(nv, "now"));
	x = h;
	x.signature = "WECHATPAY/SIGNTEST/AAAAAAAAAAAAAAAAAAAAAAAA";
	wxpay_verify_response(&ks, &x, body, strlen(body), jint(nv, "now"));
	wxpay_sign_raw(k, "x", 1, sig, sizeof(sig));
	fflush(stderr);
	dup2(saved, 2);
	log_set_level(LOG_INFO);
	rewind(tmp);
	got = fread(logbuf, 1, sizeof(logbuf) - 1, tmp);
	logbuf[got] = '\0';
	CHECK(got > 0); /* the failures did log */
	CHECK(strstr(logbuf, "a7cde1ZJB1kG2e7V") == NULL);
	CHECK(strstr(logbuf, "PLAINTEXT-SECRET") == NULL);
	CHECK(strstr(logbuf, "MIIEvAIBADANBgkq") == NULL);
	memcpy(probe, h.signature + 8, 16);
	probe[16] = '\0';
	CHECK(strstr(logbuf, probe) == NULL);
	memcpy(probe, sig + 8, 16);
	CHECK(strstr(logbuf, probe) == NULL);
	CHECK(strstr(logbuf, "AAAAAAAAAAAAAAAA") == NULL);
	buf_release(&b);
out:
	if (saved >= 0)
		close(saved);
	if (tmp)
		fclose(tmp);
	wxpay_privkey_free(k);
	wxpay_pubkey_free(cert);
	cJSON_Delete(sv);
	cJSON_Delete(nv);
}

/*
 * Every vector file in the directory is either exercised above or named
 * here as belonging to another module, so a new vector cannot be silently
 * ignored.
 */
TEST(every_vector_accounted_for)
{
	static const char *const used[] = {
		"derived_go_notify_skew_299s.json",
		"derived_go_notify_skew_300s_negative.json",
		"derived_go_notify_tampered_negative.json",
		"go_aes_gcm_hello_world_128bit_key.json",
		"go_aes_gcm_wrong_key_negative.json",
		"go_certificates_response.json",
		"go_notification_payscore.json",
		"go_pubkey_verify_wrong_message.json",
		"go_sign_message_layout.json",
		"go_signer_source.json",
		"java_aead_aes256_bad_aad_negative.json",
		"java_aead_aes256_bad_nonce_negative.json",
		"java_aead_aes256_message.json",
		"java_certificates_response.json",
		"java_merchant_sign_message.json",
		"java_pubkey_mode_rejects_foreign_signature.json",
		"java_test_keys.json",
		"official_paysign_app_contrast.json",
		"official_paysign_miniprogram.json",
		"official_req_sign_get_refund_query.json",
		"official_req_sign_post_jsapi.json",
		/* not this module: trade bill parsing, mini-program AES-128-CBC login data */
		"bill_all_fixture.json",
		"miniprogram_encrypteddata_cbc.json",
	};
	DIR *d = opendir(vec_dir);
	struct dirent *de;
	size_t n_json = 0;

	CHECK(d != NULL);
	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		int known = 0;

		if (len < 5 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		n_json++;
		for (size_t i = 0; i < sizeof(used) / sizeof(used[0]); i++)
			known |= strcmp(de->d_name, used[i]) == 0;
		if (!known)
			TEST_FAIL_(__FILE__, __LINE__, "vector %s is not covered by any test",
				   de->d_name);
		else
			test_passed_++;
	}
	closedir(d);
	CHECK(n_json >= 21);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		vec_dir = argv[1];
	RUN(official_request_signatures);
	RUN(official_paysign);
	RUN(sdk_rsa_vectors);
	RUN(sign_message_layout);
	RUN(request_input_rules);
	RUN(paysign_input_rules);
	RUN(java_keyset);
	RUN(key_formats_and_refusals);
	RUN(notification_vectors);
	RUN(notification_refusals);
	RUN(pubkey_mode_round_trip);
	RUN(gcm_vectors);
	RUN(gcm_edges);
	RUN(notify_decrypt_envelope);
	RUN(certificates_java_256);
	RUN(certificates_go_128);
	RUN(logs_have_no_secrets);
	RUN(every_vector_accounted_for);
	return test_report();
}
