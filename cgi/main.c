/*
 * main.c - xq-api, the FastCGI application behind nginx.
 * Binds the unix socket from api.socket, runs api.threads workers that each
 * own an FCGX_Request and a DB connection, and on SIGTERM/SIGINT stops
 * accepting, lets in-flight requests finish and removes the socket.
 */
#include "api.h"
#include "config.h"
#include "db.h"
#include "log.h"

#include <errno.h>
#include <fcgiapp.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static struct config cfg;
static int listen_fd = -1;
static atomic_int stopping;

static void *worker(void *arg)
{
	FCGX_Request fr;
	struct db *db = NULL;
	long id = (long)(intptr_t)arg;

	db_thread_init();
	if (db_open(&db, &cfg))
		log_warn("worker %ld: database not reachable yet, will retry per request", id);
	FCGX_InitRequest(&fr, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
	while (!atomic_load(&stopping)) {
		struct req rq;

		if (FCGX_Accept_r(&fr) < 0)
			break;
		req_init(&rq, &fr, db, &cfg);
		router_dispatch(&rq, xq_routes, xq_nroutes);
		req_finish(&rq);
		req_release(&rq);
		FCGX_Finish_r(&fr);
	}
	FCGX_Free(&fr, 0);
	db_close(db);
	db_thread_end();
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: xq-api [-c CONFIG] [--check-sql]\n"
			"  Serves the Xiaoqu API over FastCGI on the unix socket api.socket.\n"
			"  --check-sql prepares every SQL statement of xq-api against the\n"
			"  database and checks its signature, then exits (0: all good).\n");
}

static int check_sql(void)
{
	struct db *db = NULL;
	int n = 0, bad;

	db_library_init();
	if (db_open(&db, &cfg)) {
		fprintf(stderr, "xq-api: cannot connect to the database\n");
		db_close(db);
		return 1;
	}
	bad = db_check_queries(db, &n);
	db_close(db);
	db_library_end();
	printf("xq-api: %d queries checked, %d bad\n", n, bad);
	return bad == 0 && n > 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *conf_path = getenv("XQ_CONFIG");
	char err[512];
	enum log_level lvl;
	pthread_t *threads;
	sigset_t sigs;
	int sig, opt, want_check = 0;
	static const struct option opts[] = {
		{ "check-sql", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};

	while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			conf_path = optarg;
			break;
		case 'k':
			want_check = 1;
			break;
		default:
			usage();
			return opt == 'h' ? 0 : 2;
		}
	}
	if (config_load(&cfg, conf_path, err, sizeof(err))) {
		fprintf(stderr, "xq-api: %s\n", err);
		return 2;
	}
	if (log_parse_level(cfg.log_level, &lvl) == XQ_OK)
		log_set_level(lvl);
	if (want_check)
		return check_sql();

	/* Signals go to the main thread only; workers inherit the blocked mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (db_library_init())
		return 1;
	if (FCGX_Init()) {
		log_error("FCGX_Init failed");
		return 1;
	}
	unlink(cfg.api_socket); /* a stale socket from a crash */
	listen_fd = FCGX_OpenSocket(cfg.api_socket, 128);
	if (listen_fd < 0) {
		log_error("cannot listen on '%s': %s", cfg.api_socket, strerror(errno));
		return 1;
	}
	/* nginx workers may run as another user; the socket's directory guards it */
	chmod(cfg.api_socket, 0666);

	threads = xq_calloc((size_t)cfg.api_threads, sizeof(*threads));
	for (long i = 0; i < cfg.api_threads; i++)
		pthread_create(&threads[i], NULL, worker, (void *)(intptr_t)i);
	log_info("xq-api listening on %s with %lld threads, %zu routes", cfg.api_socket,
		 (long long)cfg.api_threads, xq_nroutes);

	sigwait(&sigs, &sig);
	log_info("xq-api got signal %d, finishing in-flight requests", sig);
	atomic_store(&stopping, 1);
	FCGX_ShutdownPending();
	/* wakes every worker blocked in accept(); requests being served finish */
	shutdown(listen_fd, SHUT_RDWR);
	for (long i = 0; i < cfg.api_threads; i++)
		pthread_join(threads[i], NULL);
	close(listen_fd);
	unlink(cfg.api_socket);
	free(threads);
	db_library_end();
	config_release(&cfg);
	log_info("xq-api stopped");
	return 0;
}
