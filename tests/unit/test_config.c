/*
 * test_config.c - lib/config.c: built-in defaults, the ini parser (sections,
 * comments, whitespace, errors naming file:line and key), bounds, XQ_*
 * environment overrides and secret files (read, trimmed, never dumped).
 * Scratch files go to $TMPDIR (or /tmp) and are removed again.
 */
#include "config.h"
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

extern char **environ;

/* Like CHECK(strstr(hay, needle)), but prints the text on failure. */
#define CHECK_CONTAINS(hay, needle)                                            \
	do {                                                                   \
		const char *h_ = (hay);                                        \
		if (h_ && strstr(h_, (needle)))                                \
			test_passed_++;                                        \
		else                                                           \
			TEST_FAIL_(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"", \
				   h_ ? h_ : "(null)", (needle));              \
	} while (0)

/* Writes text to a new scratch file and stores its path in path[n]. */
static void write_tmp(char *path, size_t n, const char *text)
{
	const char *dir = getenv("TMPDIR");
	int fd;
	size_t len = strlen(text);

	xq_snprintf(path, n, "%s/xq-test-config-XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	XQ_ASSERT(fd >= 0);
	XQ_ASSERT(write(fd, text, len) == (ssize_t)len);
	close(fd);
}

/* No XQ_* variable from the caller's environment may leak into a test. */
static void clear_xq_env(void)
{
	for (;;) {
		char name[128];
		size_t i, n = 0;

		for (i = 0; environ[i]; i++)
			if (strncmp(environ[i], "XQ_", 3) == 0)
				break;
		if (!environ[i])
			return;
		while (environ[i][n] && environ[i][n] != '=' && n < sizeof(name) - 1)
			n++;
		memcpy(name, environ[i], n);
		name[n] = '\0';
		XQ_ASSERT(unsetenv(name) == 0);
	}
}

/* Loads ini text; returns the config_load() result, err holds its message. */
static int load_text(struct config *c, const char *text, char *err, size_t errlen)
{
	char path[256];
	int rc;

	write_tmp(path, sizeof(path), text);
	err[0] = '\0';
	rc = config_load(c, path, err, errlen);
	unlink(path);
	return rc;
}

/* The one-key file "[section]\nkey = value\n"; returns the load result. */
static int load_one(const char *section, const char *key, const char *value, char *err,
		    size_t errlen)
{
	struct config c;
	char text[512];
	int rc;

	xq_snprintf(text, sizeof(text), "[%s]\n%s = %s\n", section, key, value);
	rc = load_text(&c, text, err, errlen);
	config_release(&c);
	return rc;
}

TEST(defaults)
{
	struct config c;
	char err[256] = "";

	CHECK_EQ_I64(config_load(&c, NULL, err, sizeof(err)), XQ_OK);
	CHECK_STR(c.db_host, "");
	CHECK_STR(c.db_socket, "var/run/mysqld.sock");
	CHECK_EQ_I64(c.db_port, 3306);
	CHECK_STR(c.db_name, "xiaoqu");
	CHECK_STR(c.db_user, "xiaoqu");
	CHECK_STR(c.db_password, "");
	CHECK_STR(c.api_socket, "var/run/xq-api.sock");
	CHECK_EQ_I64(c.api_threads, 8);
	CHECK_EQ_I64(c.api_max_body, 64 * 1024);
	CHECK_EQ_I64(c.api_secure_cookie, 0);
	CHECK_EQ_I64(c.auth_session_ttl_s, 28800);
	CHECK_EQ_I64(c.auth_login_max_fail, 5);
	CHECK_EQ_I64(c.auth_login_window_s, 900);
	CHECK_STR(c.log_level, "info");
	config_release(&c);
	CHECK(c.db_name == NULL);
}

TEST(ini_sections_comments_whitespace)
{
	struct config c;
	char err[256];

	CHECK_EQ_I64(load_text(&c,
			       "# comment\n"
			       "; another comment\n"
			       "\n"
			       "   \t\n"
			       "db.user = top_level_dotted\n"
			       "[db]\n"
			       "host = db.example   \n"
			       "port=3307\n"
			       "  name   =  xq_test  \n"
			       "   # indented comment\n"
			       "socket = a=b\n"
			       "[ api ]\n"
			       "threads = 16\n"
			       "max_body = 1m\n"
			       "secure_cookie = yes\n"
			       "[auth]\n"
			       "session_ttl = 60\n"
			       "login_max_fail = 1\n"
			       "login_max_fail = 7\n" /* later line wins */
			       "[log]\n"
			       "level = debug\n",
			       err, sizeof(err)),
		     XQ_OK);
	CHECK_STR(err, "");
	CHECK_STR(c.db_user, "top_level_dotted");
	CHECK_STR(c.db_host, "db.example");
	CHECK_EQ_I64(c.db_port, 3307);
	CHECK_STR(c.db_name, "xq_test");
	CHECK_STR(c.db_socket, "a=b"); /* split at the first '=' only */
	CHECK_EQ_I64(c.api_threads, 16);
	CHECK_EQ_I64(c.api_max_body, 1024 * 1024);
	CHECK_EQ_I64(c.api_secure_cookie, 1);
	CHECK_EQ_I64(c.auth_session_ttl_s, 60);
	CHECK_EQ_I64(c.auth_login_max_fail, 7);
	CHECK_STR(c.log_level, "debug");
	/* untouched keys keep their defaults */
	CHECK_EQ_I64(c.auth_login_window_s, 900);
	CHECK_STR(c.api_socket, "var/run/xq-api.sock");
	config_release(&c);

	/* an empty file is all defaults */
	CHECK_EQ_I64(load_text(&c, "", err, sizeof(err)), XQ_OK);
	CHECK_EQ_I64(c.api_threads, 8);
	config_release(&c);
}

TEST(ini_errors_name_file_line_key)
{
	struct config c;
	char err[512];

	CHECK_EQ_I64(load_text(&c, "[db]\nhots = x\n", err, sizeof(err)), XQ_EINVAL);
	CHECK_CONTAINS(err, "xq-test-config-");
	CHECK_CONTAINS(err, ":2: unknown key 'db.hots'");
	config_release(&c);

	CHECK_EQ_I64(load_text(&c, "threads = 4\n", err, sizeof(err)), XQ_EINVAL);
	CHECK_CONTAINS(err, ":1: unknown key 'threads'"); /* no section, no prefix */
	config_release(&c);

	CHECK_EQ_I64(load_text(&c, "# ok\n[db\nport = 1\n", err, sizeof(err)), XQ_EINVAL);
	CHECK_CONTAINS(err, ":2: bad section header");
	config_release(&c);

	CHECK_EQ_I64(load_text(&c, "[db]\nport 3306\n", err, sizeof(err)), XQ_EINVAL);
	CHECK_CONTAINS(err, ":2: expected 'key = value'");
	config_release(&c);

	/* no inline comments: the '#' is part of the value, which is then bad */
	CHECK_EQ_I64(load_text(&c, "[api]\nthreads = 4 # four\n", err, sizeof(err)), XQ_EINVAL);
	CHECK_CONTAINS(err, "api.threads: bad value '4 # four'");
	config_release(&c);

	err[0] = '\0';
	CHECK_EQ_I64(config_load(&c, "/nonexistent/xq.conf", err, sizeof(err)), XQ_EINVAL);
	CHECK_CONTAINS(err, "cannot open config '/nonexistent/xq.conf'");
	config_release(&c);
}

TEST(bounds)
{
	char err[256];

	/* api.threads is 1..256 */
	CHECK_EQ_I64(load_one("api", "threads", "1", err, sizeof(err)), XQ_OK);
	CHECK_EQ_I64(load_one("api", "threads", "256", err, sizeof(err)), XQ_OK);
	CHECK_EQ_I64(load_one("api", "threads", "0", err, sizeof(err)), XQ_EINVAL);
	CHECK_STR(err, "api.threads: bad value '0' (expected 1..256)");
	CHECK_EQ_I64(load_one("api", "threads", "257", err, sizeof(err)), XQ_EINVAL);
	CHECK_STR(err, "api.threads: bad value '257' (expected 1..256)");
	CHECK_EQ_I64(load_one("api", "threads", "-1", err, sizeof(err)), XQ_EINVAL);
	CHECK_EQ_I64(load_one("api", "threads", "8.5", err, sizeof(err)), XQ_EINVAL);
	CHECK_EQ_I64(load_one("api", "threads", "eight", err, sizeof(err)), XQ_EINVAL);
	CHECK_EQ_I64(load_one("api", "threads", "", err, sizeof(err)), XQ_EINVAL);
	CHECK_EQ_I64(load_one("api", "threads", "99999999999999999999", err, sizeof(err)),
		     XQ_EINVAL);
	/* db.port is 1..65535 */
	CHECK_EQ_I64(load_one("db", "port", "65535", err, sizeof(err)), XQ_OK);
	CHECK_EQ_I64(load_one("db", "port", "65536", err, sizeof(err)), XQ_EINVAL);
	CHECK_STR(err, "db.port: bad value '65536' (expected 1..65535)");
	/* sizes: k and m suffixes, 1024..16m */
	CHECK_EQ_I64(load_one("api", "max_body", "1k", err, sizeof(err)), XQ_OK);
	CHECK_EQ_I64(load_one("api", "max_body", "1024", err, sizeof(err)), XQ_OK);
	CHECK_EQ_I64(load_one("api", "max_body", "16M", err, sizeof(err)), XQ_OK);
	CHECK_EQ_I64(load_one("api", "max_body", "1023", err, sizeof(err)), XQ_EINVAL);
	CHECK_STR(err, "api.max_body: bad value '1023' (expected 1024..16777216)");
	CHECK_EQ_I64(load_one("api", "max_body", "17m", err, sizeof(err)), XQ_EINVAL);
	CHECK_EQ_I64(load_one("api", "max_body", "64x", err, sizeof(err)), XQ_EINVAL);
	CHECK_EQ_I64(load_one("api", "max_body", "64kb", err, sizeof(err)), XQ_EINVAL);
	CHECK_EQ_I64(load_one("api", "max_body", "-64k", err, sizeof(err)), XQ_EINVAL);
	CHECK_EQ_I64(load_one("api", "max_body", "k", err, sizeof(err)), XQ_EINVAL);
	CHECK_EQ_I64(load_one("api", "max_body", "9999999999999999m", err, sizeof(err)),
		     XQ_EINVAL);
	/* booleans */
	CHECK_EQ_I64(load_one("api", "secure_cookie", "on", err, sizeof(err)), XQ_OK);
	CHECK_EQ_I64(load_one("api", "secure_cookie", "off", err, sizeof(err)), XQ_OK);
	CHECK_EQ_I64(load_one("api", "secure_cookie", "maybe", err, sizeof(err)), XQ_EINVAL);
	CHECK_STR(err, "api.secure_cookie: bad value 'maybe' (expected 0..1)");
	CHECK_EQ_I64(load_one("api", "secure_cookie", "2", err, sizeof(err)), XQ_EINVAL);
	/* auth.session_ttl is 60..2592000 */
	CHECK_EQ_I64(load_one("auth", "session_ttl", "59", err, sizeof(err)), XQ_EINVAL);
	CHECK_EQ_I64(load_one("auth", "session_ttl", "2592000", err, sizeof(err)), XQ_OK);
	CHECK_EQ_I64(load_one("auth", "session_ttl", "2592001", err, sizeof(err)), XQ_EINVAL);
}

TEST(env_overrides)
{
	struct config c;
	char err[256];

	XQ_ASSERT(setenv("XQ_API_THREADS", "32", 1) == 0);
	XQ_ASSERT(setenv("XQ_LOG_LEVEL", "warn", 1) == 0);
	XQ_ASSERT(setenv("XQ_API_MAX_BODY", "128k", 1) == 0);
	XQ_ASSERT(setenv("XQ_AUTH_LOGIN_MAX_FAIL", "3", 1) == 0);
	/* the environment beats the file */
	CHECK_EQ_I64(load_text(&c, "[api]\nthreads = 16\n[log]\nlevel = debug\n", err,
			       sizeof(err)),
		     XQ_OK);
	CHECK_EQ_I64(c.api_threads, 32);
	CHECK_STR(c.log_level, "warn");
	CHECK_EQ_I64(c.api_max_body, 128 * 1024);
	CHECK_EQ_I64(c.auth_login_max_fail, 3);
	config_release(&c);
	/* and the defaults without a file */
	CHECK_EQ_I64(config_load(&c, NULL, err, sizeof(err)), XQ_OK);
	CHECK_EQ_I64(c.api_threads, 32);
	config_release(&c);

	/* environment values are bounds-checked like file values */
	XQ_ASSERT(setenv("XQ_API_THREADS", "0", 1) == 0);
	CHECK_EQ_I64(config_load(&c, NULL, err, sizeof(err)), XQ_EINVAL);
	CHECK_STR(err, "api.threads: bad value '0' (expected 1..256)");
	config_release(&c);

	clear_xq_env();
	CHECK_EQ_I64(config_load(&c, NULL, err, sizeof(err)), XQ_OK);
	CHECK_EQ_I64(c.api_threads, 8);
	config_release(&c);
}

/* config_dump() output as a string (caller frees). */
static char *dump_to_string(const struct config *c)
{
	FILE *f = tmpfile();
	int saved, len;
	char *out;

	XQ_ASSERT(f != NULL);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	XQ_ASSERT(saved >= 0 && dup2(fileno(f), STDOUT_FILENO) >= 0);
	config_dump(c);
	fflush(stdout);
	XQ_ASSERT(dup2(saved, STDOUT_FILENO) >= 0);
	close(saved);
	len = (int)ftell(f);
	XQ_ASSERT(len >= 0);
	out = xq_malloc((size_t)len + 1);
	rewind(f);
	XQ_ASSERT(fread(out, 1, (size_t)len, f) == (size_t)len);
	out[len] = '\0';
	fclose(f);
	return out;
}

TEST(secret_files)
{
	struct config c;
	char err[512], secret[256], ini[512];
	char *dump;

	write_tmp(secret, sizeof(secret), "s3cret-pw\r\n\n");
	xq_snprintf(ini, sizeof(ini), "[db]\npassword_file = %s\n", secret);
	CHECK_EQ_I64(load_text(&c, ini, err, sizeof(err)), XQ_OK);
	CHECK_STR(c.db_password, "s3cret-pw"); /* trailing CR/LF trimmed */
	dump = dump_to_string(&c);
	CHECK_CONTAINS(dump, "db.password_file = <set>\n");
	CHECK_CONTAINS(dump, "api.threads = 8\n");
	CHECK_CONTAINS(dump, "db.name = xiaoqu\n");
	CHECK(strstr(dump, "s3cret") == NULL); /* the secret is never printed */
	CHECK(strstr(dump, secret) == NULL);   /* nor the file name */
	free(dump);
	config_release(&c);

	/* through the environment as well */
	XQ_ASSERT(setenv("XQ_DB_PASSWORD_FILE", secret, 1) == 0);
	CHECK_EQ_I64(config_load(&c, NULL, err, sizeof(err)), XQ_OK);
	CHECK_STR(c.db_password, "s3cret-pw");
	config_release(&c);
	clear_xq_env();
	unlink(secret);

	/* unset secret dumps as <unset> */
	CHECK_EQ_I64(config_load(&c, NULL, err, sizeof(err)), XQ_OK);
	dump = dump_to_string(&c);
	CHECK_CONTAINS(dump, "db.password_file = <unset>\n");
	free(dump);
	config_release(&c);

	/* a missing secret file is an error that names the key */
	CHECK_EQ_I64(load_text(&c, "[db]\npassword_file = /nonexistent/pw\n", err, sizeof(err)),
		     XQ_EINVAL);
	CHECK_CONTAINS(err, "db.password_file: cannot read secret file '/nonexistent/pw'");
	config_release(&c);
}

int main(void)
{
	clear_xq_env();
	RUN(defaults);
	RUN(ini_sections_comments_whitespace);
	RUN(ini_errors_name_file_line_key);
	RUN(bounds);
	RUN(env_overrides);
	RUN(secret_files);
	return test_report();
}
