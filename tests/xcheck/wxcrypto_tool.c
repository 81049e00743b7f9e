/*
 * wxcrypto_tool.c - our WeChat Pay crypto (lib/wxpay_sign.c) as a command,
 * so that test_wxcrypto_xcheck.sh can check it against implementations we
 * did not write: the openssl CLI for SHA256withRSA and node's built-in
 * crypto for AES-256-GCM and paySign.
 *   sign KEY.pem MSGFILE                 -> Base64 signature on stdout
 *   verify PUB.pem MSGFILE SIG_B64       -> exit 0 valid, 1 not
 *   encrypt KEYFILE NONCE AAD PLAINFILE  -> a notification body (§8.1) on stdout
 *   decrypt KEYFILE BODYFILE             -> the decrypted resource on stdout
 *   paysign KEY.pem APPID PREPAY_ID TS NONCE -> paySign on stdout
 */
#include "buf.h"
#include "wxpay_sign.h"
#include "xq.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *d;
	long n;

	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		exit(2);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	d = malloc((size_t)n + 1);
	if (fread(d, 1, (size_t)n, f) != (size_t)n)
		exit(2);
	fclose(f);
	d[n] = '\0';
	*len = (size_t)n;
	return d;
}

static struct wxpay_privkey *priv(const char *path)
{
	size_t n;
	char *pem = slurp(path, &n);
	struct wxpay_privkey *k = NULL;

	if (wxpay_privkey_load(pem, n, &k))
		exit(2);
	free(pem);
	return k;
}

int main(int argc, char **argv)
{
	char sig[WXPAY_SIG_B64_MAX];
	size_t n, kn;
	char *msg, *key;
	int rc = 2;

	if (argc == 4 && !strcmp(argv[1], "sign")) {
		struct wxpay_privkey *k = priv(argv[2]);
		msg = slurp(argv[3], &n);
		rc = wxpay_sign_raw(k, msg, n, sig, sizeof(sig));
		if (!rc)
			printf("%s\n", sig);
		wxpay_privkey_free(k);
		free(msg);
	} else if (argc == 5 && !strcmp(argv[1], "verify")) {
		struct wxpay_pubkey *k = NULL;
		char *pem = slurp(argv[2], &n);
		if (wxpay_pubkey_load(pem, n, &k))
			return 2;
		free(pem);
		msg = slurp(argv[3], &n);
		rc = wxpay_verify_raw(k, msg, n, argv[4]) ? 1 : 0;
		wxpay_pubkey_free(k);
		free(msg);
	} else if (argc == 6 && !strcmp(argv[1], "encrypt")) {
		struct buf ct;
		cJSON *e = cJSON_CreateObject(), *r;
		char *s;
		key = slurp(argv[2], &kn);
		msg = slurp(argv[5], &n);
		buf_init(&ct, 1 << 20);
		rc = wxpay_aead_encrypt((const unsigned char *)key, kn, argv[3], argv[4], msg, n, &ct);
		cJSON_AddStringToObject(e, "id", "EV-xcheck");
		cJSON_AddStringToObject(e, "event_type", "TRANSACTION.SUCCESS");
		cJSON_AddStringToObject(e, "resource_type", "encrypt-resource");
		r = cJSON_AddObjectToObject(e, "resource");
		cJSON_AddStringToObject(r, "algorithm", "AEAD_AES_256_GCM");
		cJSON_AddStringToObject(r, "ciphertext", ct.data);
		cJSON_AddStringToObject(r, "associated_data", argv[4]);
		cJSON_AddStringToObject(r, "nonce", argv[3]);
		s = cJSON_PrintUnformatted(e);
		if (!rc)
			printf("%s\n", s);
		cJSON_free(s);
		cJSON_Delete(e);
		buf_release(&ct);
		free(key);
		free(msg);
	} else if (argc == 4 && !strcmp(argv[1], "decrypt")) {
		struct buf pt;
		key = slurp(argv[2], &kn);
		msg = slurp(argv[3], &n);
		buf_init(&pt, 1 << 20);
		rc = wxpay_notify_decrypt((const unsigned char *)key, kn, msg, n, &pt) ? 1 : 0;
		if (!rc)
			fwrite(pt.data, 1, pt.len, stdout);
		buf_release(&pt);
		free(key);
		free(msg);
	} else if (argc == 7 && !strcmp(argv[1], "paysign")) {
		struct wxpay_jsapi_params p;
		struct wxpay_privkey *k = priv(argv[2]);
		int64_t ts = 0;
		if (xq_parse_i64(argv[5], &ts))
			return 2;
		rc = wxpay_jsapi_params(k, argv[3], argv[4], ts, argv[6], &p);
		if (!rc)
			printf("%s\n", p.pay_sign);
		wxpay_privkey_free(k);
	} else {
		fprintf(stderr, "usage: see the comment at the top of wxcrypto_tool.c\n");
	}
	return rc ? (rc == 1 ? 1 : 2) : 0;
}
