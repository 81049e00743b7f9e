/*
 * test_auth.c - end to end through nginx: health, metrics, staff login and
 * its throttle, sessions and logout, CSRF, roles and permissions.
 */
#include "client.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ADMIN_PW (getenv("XQ_TEST_ADMIN_PASSWORD") ? getenv("XQ_TEST_ADMIN_PASSWORD") : "Xiaoqu@2026")

static char uniq[32];

TEST(healthz)
{
	struct client c;
	client_init(&c);
	CHECK_EQ_I64(client_req(&c, "GET", "/healthz", NULL, NULL), 200);
	CHECK_STR(jstr(&c, "status"), "ok");
	CHECK_STR(jstr(&c, "db"), "ok");
	CHECK(jnum(&c, "migrations") >= 1);
	client_release(&c);
}

TEST(unknown_route_and_method)
{
	struct client c;
	client_init(&c);
	CHECK_EQ_I64(client_req(&c, "GET", "/admin/api/v1/no-such-thing", NULL, NULL), 404);
	CHECK_STR(jcode(&c), "NOT_FOUND");
	CHECK(jstr(&c, "message") != NULL);
	CHECK_EQ_I64(client_req(&c, "PATCH", "/healthz", "{}", NULL), 405);
	CHECK_STR(jcode(&c), "METHOD_NOT_ALLOWED");
	client_release(&c);
}

TEST(login_good_sets_cookie_and_me)
{
	struct client c;
	client_init(&c);
	CHECK_EQ_I64(client_login(&c, "admin", ADMIN_PW), 200);
	CHECK_STR(jstr(&c, "staff.username"), "admin");
	CHECK_STR(jstr(&c, "staff.role_code"), "admin");
	CHECK(strlen(c.csrf) == 64);
	/* the session cookie is HttpOnly and SameSite=Strict, and the token is not in the body */
	CHECK(strstr(c.headers, "Set-Cookie: xq_sid=") != NULL);
	CHECK(strstr(c.headers, "HttpOnly") != NULL);
	CHECK(strstr(c.headers, "SameSite=Strict") != NULL);
	CHECK(c.body && !strstr(c.body, "xq_sid"));
	CHECK(c.body && !strstr(c.body, "password_hash"));
	CHECK_EQ_I64(client_req(&c, "GET", "/admin/api/v1/auth/me", NULL, NULL), 200);
	CHECK_STR(jstr(&c, "staff.username"), "admin");
	CHECK(cJSON_GetArraySize(jget(&c, "staff.permissions")) >= 10);
	client_release(&c);
}

TEST(login_bad)
{
	struct client c;
	client_init(&c);
	CHECK_EQ_I64(client_login(&c, "admin", "wrong-password-1"), 401);
	CHECK_STR(jcode(&c), "BAD_CREDENTIALS");
	CHECK_STR(jstr(&c, "message"), "用户名或密码错误");
	CHECK(strstr(c.headers, "xq_sid=") == NULL);
	/* unknown users answer exactly like a wrong password */
	CHECK_EQ_I64(client_login(&c, "nobody-here", "whatever1"), 401);
	CHECK_STR(jcode(&c), "BAD_CREDENTIALS");
	/* no session: protected routes say 401 */
	CHECK_EQ_I64(client_req(&c, "GET", "/admin/api/v1/auth/me", NULL, NULL), 401);
	CHECK_STR(jcode(&c), "UNAUTHENTICATED");
	CHECK_EQ_I64(client_req(&c, "GET", "/admin/api/v1/houses", NULL, NULL), 401);
	/* a forged cookie is no session either */
	CHECK_EQ_I64(client_req(&c, "GET", "/admin/api/v1/auth/me?x=1", NULL, NULL), 401);
	client_release(&c);
}

static void create_staff(struct client *admin, const char *user, const char *pw, const char *role)
{
	long st = client_reqf(admin, "POST", "/admin/api/v1/staff",
			      "{\"username\":\"%s\",\"password\":\"%s\",\"role\":\"%s\",\"display_name\":\"测试\"}",
			      user, pw, role);
	CHECK_EQ_I64(st, 201);
	CHECK_STR(jstr(admin, "username"), user);
	CHECK(admin->body && !strstr(admin->body, "argon2"));
}

TEST(login_throttled)
{
	struct client admin, c;
	char user[64];

	client_init(&admin);
	client_init(&c);
	CHECK_EQ_I64(client_login(&admin, "admin", ADMIN_PW), 200);
	snprintf(user, sizeof(user), "thr%s", uniq);
	create_staff(&admin, user, "Right-pass-9", "service");
	for (int i = 0; i < 5; i++)
		CHECK_EQ_I64(client_login(&c, user, "wrong-pass-1"), 401);
	/* the sixth try is refused even with the right password */
	CHECK_EQ_I64(client_login(&c, user, "Right-pass-9"), 429);
	CHECK_STR(jcode(&c), "TOO_MANY_ATTEMPTS");
	CHECK(strstr(c.headers, "xq_sid=") == NULL);
	/* other accounts are not locked by it */
	CHECK_EQ_I64(client_login(&c, "admin", ADMIN_PW), 200);
	client_release(&admin);
	client_release(&c);
}

TEST(csrf_required_for_changes)
{
	struct client c;
	client_init(&c);
	CHECK_EQ_I64(client_login(&c, "admin", ADMIN_PW), 200);
	c.send_csrf = 0;
	CHECK_EQ_I64(client_reqf(&c, "POST", "/admin/api/v1/communities",
				 "{\"code\":\"CSRF%s\",\"name\":\"不应创建\"}", uniq), 403);
	CHECK_STR(jcode(&c), "CSRF_FAILED");
	c.send_csrf = 1;
	{
		char saved[80];
		snprintf(saved, sizeof(saved), "%s", c.csrf);
		snprintf(c.csrf, sizeof(c.csrf), "%s", "0000000000000000000000000000000000000000000000000000000000000000");
		CHECK_EQ_I64(client_reqf(&c, "POST", "/admin/api/v1/communities",
					 "{\"code\":\"CSRF%s\",\"name\":\"不应创建\"}", uniq), 403);
		CHECK_STR(jcode(&c), "CSRF_FAILED");
		snprintf(c.csrf, sizeof(c.csrf), "%s", saved);
	}
	/* nothing was created by the refused requests */
	{
		char path[128];
		snprintf(path, sizeof(path), "/admin/api/v1/communities?q=CSRF%s", uniq);
		CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
		CHECK_EQ_I64(jnum(&c, "total"), 0);
	}
	/* reads need no token */
	c.send_csrf = 0;
	CHECK_EQ_I64(client_req(&c, "GET", "/admin/api/v1/communities", NULL, NULL), 200);
	client_release(&c);
}

TEST(logout_ends_session)
{
	struct client c;
	client_init(&c);
	CHECK_EQ_I64(client_login(&c, "admin", ADMIN_PW), 200);
	c.send_csrf = 0;
	CHECK_EQ_I64(client_req(&c, "POST", "/admin/api/v1/auth/logout", NULL, NULL), 403);
	c.send_csrf = 1;
	CHECK_EQ_I64(client_req(&c, "POST", "/admin/api/v1/auth/logout", NULL, NULL), 200);
	CHECK_EQ_I64(client_req(&c, "GET", "/admin/api/v1/auth/me", NULL, NULL), 401);
	client_release(&c);
}

TEST(reader_role_denied_staff_routes)
{
	struct client admin, r;
	char user[64];

	client_init(&admin);
	client_init(&r);
	CHECK_EQ_I64(client_login(&admin, "admin", ADMIN_PW), 200);
	snprintf(user, sizeof(user), "rdr%s", uniq);
	create_staff(&admin, user, "Reader-pass-1", "reader");
	CHECK_EQ_I64(client_login(&r, user, "Reader-pass-1"), 200);
	CHECK_STR(jstr(&r, "staff.role_code"), "reader");
	/* readers see houses and meters ... */
	CHECK_EQ_I64(client_req(&r, "GET", "/admin/api/v1/houses", NULL, NULL), 200);
	CHECK_EQ_I64(client_req(&r, "GET", "/admin/api/v1/meters", NULL, NULL), 200);
	/* ... but cannot change the estate, manage staff or read the audit log */
	CHECK_EQ_I64(client_reqf(&r, "POST", "/admin/api/v1/communities",
				 "{\"code\":\"RD%s\",\"name\":\"抄表员建的\"}", uniq), 403);
	CHECK_STR(jcode(&r), "FORBIDDEN");
	CHECK_EQ_I64(client_req(&r, "GET", "/admin/api/v1/staff", NULL, NULL), 403);
	CHECK_EQ_I64(client_req(&r, "GET", "/admin/api/v1/audit", NULL, NULL), 403);
	client_release(&admin);
	client_release(&r);
}

TEST(disable_account_ends_its_sessions)
{
	struct client admin, s;
	char user[64], path[128];
	long id;

	client_init(&admin);
	client_init(&s);
	CHECK_EQ_I64(client_login(&admin, "admin", ADMIN_PW), 200);
	snprintf(user, sizeof(user), "dis%s", uniq);
	create_staff(&admin, user, "Finance-pass-1", "finance");
	id = (long)jnum(&admin, "id");
	CHECK_EQ_I64(client_login(&s, user, "Finance-pass-1"), 200);
	snprintf(path, sizeof(path), "/admin/api/v1/staff/%ld", id);
	CHECK_EQ_I64(client_reqf(&admin, "PUT", path, "{\"role\":\"finance\",\"active\":false}"), 200);
	CHECK_EQ_I64(client_req(&s, "GET", "/admin/api/v1/auth/me", NULL, NULL), 401);
	CHECK_EQ_I64(client_login(&s, user, "Finance-pass-1"), 403);
	CHECK_STR(jcode(&s), "ACCOUNT_DISABLED");
	/* an admin cannot lock themselves out */
	CHECK_EQ_I64(client_req(&admin, "GET", "/admin/api/v1/auth/me", NULL, NULL), 200);
	snprintf(path, sizeof(path), "/admin/api/v1/staff/%ld", (long)jnum(&admin, "staff.id"));
	CHECK_EQ_I64(client_reqf(&admin, "PUT", path, "{\"role\":\"reader\",\"active\":true}"), 400);
	client_release(&admin);
	client_release(&s);
}

TEST(change_password)
{
	struct client admin, s;
	char user[64];

	client_init(&admin);
	client_init(&s);
	CHECK_EQ_I64(client_login(&admin, "admin", ADMIN_PW), 200);
	snprintf(user, sizeof(user), "pw%s", uniq);
	create_staff(&admin, user, "First-pass-1", "service");
	/* weak initial passwords are refused */
	CHECK_EQ_I64(client_reqf(&admin, "POST", "/admin/api/v1/staff",
				 "{\"username\":\"weak%s\",\"password\":\"short\",\"role\":\"service\"}", uniq), 400);
	CHECK_STR(jcode(&admin), "WEAK_PASSWORD");
	CHECK_EQ_I64(client_login(&s, user, "First-pass-1"), 200);
	CHECK_EQ_I64(client_reqf(&s, "POST", "/admin/api/v1/auth/password",
				 "{\"old_password\":\"nope-1234\",\"new_password\":\"Second-pass-2\"}"), 401);
	CHECK_EQ_I64(client_reqf(&s, "POST", "/admin/api/v1/auth/password",
				 "{\"old_password\":\"First-pass-1\",\"new_password\":\"Second-pass-2\"}"), 200);
	CHECK_EQ_I64(client_login(&s, user, "First-pass-1"), 401);
	CHECK_EQ_I64(client_login(&s, user, "Second-pass-2"), 200);
	client_release(&admin);
	client_release(&s);
}

TEST(metrics_count_routes)
{
	struct client c;
	client_init(&c);
	client_req(&c, "GET", "/healthz", NULL, NULL);
	CHECK_EQ_I64(client_req(&c, "GET", "/metrics", NULL, NULL), 200);
	CHECK(c.body && strstr(c.body, "xq_http_requests_total{method=\"GET\",route=\"/healthz\",outcome=\"ok\"}"));
	CHECK(c.body && strstr(c.body, "xq_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"+Inf\"}"));
	CHECK(c.body && strstr(c.body, "xq_db_errors_total"));
	CHECK(strstr(c.headers, "text/plain") != NULL);
	client_release(&c);
}

int main(void)
{
	snprintf(uniq, sizeof(uniq), "%ld", (long)time(NULL) % 1000000);
	RUN(healthz);
	RUN(unknown_route_and_method);
	RUN(login_good_sets_cookie_and_me);
	RUN(login_bad);
	RUN(login_throttled);
	RUN(csrf_required_for_changes);
	RUN(logout_ends_session);
	RUN(reader_role_denied_staff_routes);
	RUN(disable_account_ends_its_sessions);
	RUN(change_password);
	RUN(metrics_count_routes);
	return test_report();
}
