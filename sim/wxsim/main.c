/*
 * main.c - xq-wxsim, the FastCGI process that imitates WeChat's servers.
 * Like xq-api (cgi/main.c): binds wxsim.socket, runs wxsim.threads workers
 * that each own an FCGX_Request and a DB connection (to wxsim.db_name, not
 * the application's database), plus one thread that sends callbacks from
 * the outbox. Loads the keys once at startup and refuses to start without
 * them: a simulator that cannot sign is no simulator. SIGTERM/SIGINT stop
 * accepting, finish in-flight requests and the current callback, remove the
 * socket.
 */
#include "wxsim.h"
#include "log.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcgiapp.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PEM_MAX (1u << 20)

struct wxsim wxsim;
static int listen_fd = -1;
static atomic_int stopping;

static void *worker(void *arg)
{
	FCGX_Request fr;
	struct db *db = NULL;
	long id = (long)(intptr_t)arg;

	db_thread_init();
	if (db_open(&db, &wxsim.cfg))
		log_warn("wxsim worker %ld: database not reachable yet, will retry per request", id);
	FCGX_InitRequest(&fr, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
	while (!atomic_load(&stopping)) {
		struct req rq;

		if (FCGX_Accept_r(&fr) < 0)
			break;
		req_init(&rq, &fr, db, &wxsim.cfg);
		router_dispatch(&rq, wxsim_routes, wxsim_nroutes);
		req_finish(&rq);
		req_release(&rq);
		FCGX_Finish_r(&fr);
	}
	FCGX_Free(&fr, 0);
	db_close(db);
	db_thread_end();
	return NULL;
}

/* Reads a whole (small) file; NULL with a log line on failure. Caller wipes and frees. */
static char *slurp(const char *what, const char *path, size_t *len)
{
	FILE *f;
	char *p;
	size_t n;

	if (!path || !*path) {
		log_error("xq-wxsim: %s is not configured", what);
		return NULL;
	}
	f = fopen(path, "rb");
	if (!f) {
		log_error("xq-wxsim: cannot read %s '%s': %s", what, path, strerror(errno));
		return NULL;
	}
	p = xq_malloc(PEM_MAX + 1);
	n = fread(p, 1, PEM_MAX, f);
	fclose(f);
	p[n] = '\0';
	*len = n;
	return p;
}

static int cert_dates(const char *pem, size_t len)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	struct tm a, b;
	int rc = XQ_EINVAL;

	if (x && ASN1_TIME_to_tm(X509_get0_notBefore(x), &a) == 1 &&
	    ASN1_TIME_to_tm(X509_get0_notAfter(x), &b) == 1) {
		wxsim.cert_not_before_s = (int64_t)timegm(&a);
		wxsim.cert_not_after_s = (int64_t)timegm(&b);
		rc = XQ_OK;
	}
	X509_free(x);
	BIO_free(bio);
	return rc;
}

/* Loads and cross-checks every key; logs what is wrong (never key material). */
static int load_keys(void)
{
	const struct config *c = &wxsim.cfg;
	struct wxpay_pubkey *pub = NULL;
	size_t len = 0;
	char *pem;
	int rc;

	if (!*c->wx_appid || !*c->wx_mchid || !*c->wx_platform_key_id) {
		log_error("xq-wxsim: wx.appid, wx.mchid and wx.platform_key_id must be set");
		return XQ_EINVAL;
	}
	if (!*c->wx_app_secret) {
		log_error("xq-wxsim: wx.app_secret_file is not set or empty");
		return XQ_EINVAL;
	}
	if (strlen(c->wx_apiv3_key) != WXPAY_APIV3_KEY_LEN) {
		log_error("xq-wxsim: the APIv3 key (wx.apiv3_key_file) must be exactly %d bytes",
			  WXPAY_APIV3_KEY_LEN);
		return XQ_EINVAL;
	}
	if (!(pem = slurp("wxsim.platform_key_file", c->wxsim_platform_key_file, &len)))
		return XQ_EINVAL;
	rc = wxpay_privkey_load(pem, len, &wxsim.platform_key);
	OPENSSL_cleanse(pem, len);
	free(pem);
	if (rc)
		return xq_error(rc, "xq-wxsim: cannot load the platform private key");
	if (!(pem = slurp("wxsim.merchant_cert_file", c->wxsim_merchant_cert_file, &len)))
		return XQ_EINVAL;
	rc = wxpay_pubkey_load(pem, len, &wxsim.merchant_cert);
	free(pem);
	if (rc)
		return xq_error(rc, "xq-wxsim: cannot load the merchant certificate");
	if (*c->wx_merchant_serial && strcasecmp(c->wx_merchant_serial,
						 wxpay_pubkey_serial(wxsim.merchant_cert)) != 0)
		log_warn("xq-wxsim: wx.merchant_serial '%s' is not the serial of wxsim.merchant_cert_file"
			 " (%s); clients signing with it will get SIGN_ERROR",
			 c->wx_merchant_serial, wxpay_pubkey_serial(wxsim.merchant_cert));
	wxsim.cert_mode = strncmp(c->wx_platform_key_id, "PUB_KEY_ID_", 11) != 0;
	if (wxsim.cert_mode) {
		if (!(pem = slurp("wxsim.platform_cert_file", c->wxsim_platform_cert_file, &len)))
			return XQ_EINVAL;
		rc = wxpay_pubkey_load(pem, len, &pub);
		if (rc == XQ_OK && !wxpay_key_pair_match(wxsim.platform_key, pub))
			rc = xq_error(XQ_EINVAL, "xq-wxsim: wxsim.platform_cert_file is not the"
						 " certificate of wxsim.platform_key_file");
		if (rc == XQ_OK && strcasecmp(wxpay_pubkey_serial(pub), c->wx_platform_key_id) != 0)
			rc = xq_error(XQ_EINVAL, "xq-wxsim: wx.platform_key_id '%s' is not the serial"
						 " of wxsim.platform_cert_file (%s)",
				      c->wx_platform_key_id, wxpay_pubkey_serial(pub));
		if (rc == XQ_OK && cert_dates(pem, len))
			rc = xq_error(XQ_EINVAL, "xq-wxsim: unreadable validity in the platform certificate");
		wxpay_pubkey_free(pub);
		if (rc) {
			free(pem);
			return rc;
		}
		wxsim.platform_cert_pem = pem;
	} else if (*c->wx_platform_pubkey_file) {
		/* the key clients verify with should be ours: say so early if it is not */
		if ((pem = slurp("wx.platform_pubkey_file", c->wx_platform_pubkey_file, &len))) {
			if (wxpay_pubkey_load(pem, len, &pub) == XQ_OK &&
			    !wxpay_key_pair_match(wxsim.platform_key, pub))
				log_warn("xq-wxsim: wx.platform_pubkey_file does not match"
					 " wxsim.platform_key_file; clients will reject our signatures");
			wxpay_pubkey_free(pub);
			free(pem);
		}
	}
	return XQ_OK;
}

static void usage(void)
{
	fprintf(stderr, "usage: xq-wxsim [-c CONFIG]\n"
			"  Imitates WeChat's servers (mini-program login and messages, Pay API v3,\n"
			"  callbacks, trade bills) over FastCGI on the unix socket wxsim.socket,\n"
			"  with its state in the database wxsim.db_name. See sim/README.md.\n");
}

int main(int argc, char **argv)
{
	const char *conf_path = getenv("XQ_CONFIG");
	char err[512];
	enum log_level lvl;
	pthread_t *threads;
	sigset_t sigs;
	int sig, opt;
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};

	while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			conf_path = optarg;
			break;
		default:
			usage();
			return opt == 'h' ? 0 : 2;
		}
	}
	if (config_load(&wxsim.cfg, conf_path, err, sizeof(err))) {
		fprintf(stderr, "xq-wxsim: %s\n", err);
		config_release(&wxsim.cfg);
		return 2;
	}
	if (log_parse_level(wxsim.cfg.log_level, &lvl) == XQ_OK)
		log_set_level(lvl);
	/* the sim's own database; everything else about the connection is db.* */
	free(wxsim.cfg.db_name);
	wxsim.cfg.db_name = xq_strdup(wxsim.cfg.wxsim_db_name);
	if (load_keys()) {
		log_error("xq-wxsim: keys missing or inconsistent, not starting");
		return 1;
	}

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (db_library_init())
		return 1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		log_error("curl_global_init failed");
		return 1;
	}
	if (FCGX_Init()) {
		log_error("FCGX_Init failed");
		return 1;
	}
	unlink(wxsim.cfg.wxsim_socket); /* a stale socket from a crash or kill -9 */
	listen_fd = FCGX_OpenSocket(wxsim.cfg.wxsim_socket, 128);
	if (listen_fd < 0) {
		log_error("cannot listen on '%s': %s", wxsim.cfg.wxsim_socket, strerror(errno));
		return 1;
	}
	chmod(wxsim.cfg.wxsim_socket, 0666);

	threads = xq_calloc((size_t)wxsim.cfg.wxsim_threads, sizeof(*threads));
	for (long i = 0; i < wxsim.cfg.wxsim_threads; i++)
		pthread_create(&threads[i], NULL, worker, (void *)(intptr_t)i);
	if (notify_start())
		return 1;
	log_info("xq-wxsim listening on %s with %lld threads, %zu routes, database %s, %s mode"
		 " (Wechatpay-Serial %s), retry scale %lld",
		 wxsim.cfg.wxsim_socket, (long long)wxsim.cfg.wxsim_threads, wxsim_nroutes,
		 wxsim.cfg.db_name, wxsim.cert_mode ? "certificate" : "public-key",
		 wxsim.cfg.wx_platform_key_id, (long long)wxsim.cfg.wxsim_retry_scale);

	sigwait(&sigs, &sig);
	log_info("xq-wxsim got signal %d, finishing in-flight requests", sig);
	atomic_store(&stopping, 1);
	FCGX_ShutdownPending();
	shutdown(listen_fd, SHUT_RDWR);
	for (long i = 0; i < wxsim.cfg.wxsim_threads; i++)
		pthread_join(threads[i], NULL);
	notify_stop();
	close(listen_fd);
	unlink(wxsim.cfg.wxsim_socket);
	free(threads);
	wxpay_privkey_free(wxsim.platform_key);
	wxpay_pubkey_free(wxsim.merchant_cert);
	free(wxsim.platform_cert_pem);
	curl_global_cleanup();
	db_library_end();
	config_release(&wxsim.cfg);
	log_info("xq-wxsim stopped");
	return 0;
}
