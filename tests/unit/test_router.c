/*
 * test_router.c - path patterns, parameters and permission lists.
 */
#include "router.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TEST(match_static_and_params)
{
	struct req rq;

	memset(&rq, 0, sizeof(rq));
	CHECK(router_match("/healthz", "/healthz", NULL));
	CHECK(router_match("/healthz", "/healthz/", NULL));
	CHECK(!router_match("/healthz", "/healthzz", NULL));
	CHECK(!router_match("/a/{id}", "/a/", NULL));
	CHECK(!router_match("/a/{id}", "/a", NULL));
	CHECK(!router_match("/a/{id}", "/a/1/b", NULL));
	CHECK(router_match("/a/{id}/b/{x}", "/a/12/b/%E5%B0%8F", &rq));
	CHECK_EQ_I64(rq.nparams, 2);
	CHECK_STR(req_param(&rq, "id"), "12");
	CHECK_STR(req_param(&rq, "x"), "小");
	CHECK(req_param(&rq, "nope") == NULL);
	{
		int64_t id = 0;
		CHECK_EQ_I64(req_param_id(&rq, "id", &id), XQ_OK);
		CHECK_EQ_I64(id, 12);
		CHECK_EQ_I64(req_param_id(&rq, "x", &id), XQ_ENOTFOUND);
	}
	req_release(&rq);
}

TEST(permissions)
{
	struct who w;

	memset(&w, 0, sizeof(w));
	snprintf(w.perms, sizeof(w.perms), "%s", "estate.edit,estate.read,meter.edit");
	CHECK(!router_has_perm(&w, "estate.read")); /* no staff id: no session */
	w.staff_id = 1;
	CHECK(router_has_perm(&w, "estate.read"));
	CHECK(router_has_perm(&w, "meter.edit"));
	CHECK(router_has_perm(&w, PERM_STAFF));
	CHECK(!router_has_perm(&w, "estate"));
	CHECK(!router_has_perm(&w, "estate.re"));
	CHECK(!router_has_perm(&w, "staff.admin"));
}

TEST(unescape)
{
	char *s = http_unescape("a%20b+c", 7, 1);
	CHECK_STR(s, "a b c");
	free(s);
	s = http_unescape("a+b", 3, 0);
	CHECK_STR(s, "a+b");
	free(s);
	CHECK(http_unescape("%2", 2, 0) == NULL);
	CHECK(http_unescape("%zz", 3, 0) == NULL);
	CHECK(http_unescape("%00", 3, 0) == NULL);
}

int main(void)
{
	RUN(match_static_and_params);
	RUN(permissions);
	RUN(unescape);
	return test_report();
}
