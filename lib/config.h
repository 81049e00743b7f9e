/*
 * config.h - the one configuration of every xiaoqu program.
 * Sources, later wins: built-in defaults, the ini file, XQ_* environment
 * variables (key "db.socket" -> XQ_DB_SOCKET). Secret values (CFG_SECRET) name a
 * file whose contents are read once; the value itself is never logged.
 * Every key is listed once in config.c and documented in
 * deploy/xiaoqu.conf.example.
 */
#ifndef XQ_CONFIG_H
#define XQ_CONFIG_H

#include "xq.h"

struct config {
	/* database */
	char *db_host;
	char *db_socket;
	int64_t db_port;
	char *db_name;
	char *db_user;
	char *db_password; /* secret: read from db.password_file */
	/* api */
	char *api_socket;
	int64_t api_threads;
	int64_t api_max_body;
	int64_t api_secure_cookie;
	/* auth */
	int64_t auth_session_ttl_s;
	int64_t auth_login_max_fail;
	int64_t auth_login_window_s;
	/* logging */
	char *log_level;
};

/*
 * Loads defaults, then path (may be NULL: no file), then the environment.
 * On error returns XQ_EINVAL with a message naming the key and line in errbuf;
 * call config_release() in both cases (strings may already be allocated).
 */
int config_load(struct config *cfg /* OUT */, const char *path, char *errbuf, size_t errlen);
void config_release(struct config *cfg);
/* Prints every key and its value (secrets as "<set>"/"<unset>") to stdout. */
void config_dump(const struct config *cfg);

#endif
