/*
 * router.c - path matching, the pre-handler checks and per-route counters.
 * The order of checks is fixed: route (404/405), body size (413), content
 * type (415), session (401), permission (403), CSRF (403), then the handler.
 */
#include "router.h"
#include "auth.h"
#include "config.h"
#include "log.h"
#include "resident_auth.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const double bucket_le[ROUTE_BUCKETS] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
						 0.5,   1,    2.5,   5,    10 };

int router_match(const char *pattern, const char *path, struct req *rq)
{
	const char *p = pattern, *s = path;
	size_t np = 0;
	const char *names[REQ_MAX_PARAMS];
	const char *vals[REQ_MAX_PARAMS];
	size_t vlens[REQ_MAX_PARAMS];

	while (*p && *s) {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			size_t vlen = strcspn(s, "/");
			if (!close || vlen == 0 || np == REQ_MAX_PARAMS)
				return 0;
			names[np] = p + 1;
			vals[np] = s;
			vlens[np] = vlen;
			np++;
			p = close + 1;
			s += vlen;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	/* a trailing slash is the same resource */
	if (*s == '/' && s[1] == '\0')
		s++;
	if (*p || *s)
		return 0;
	if (rq) {
		for (size_t i = 0; i < np; i++) {
			const char *close = strchr(names[i], '}');
			/* the parameter name is stored without its braces */
			char *name = req_strdup(rq, names[i]);
			name[close - names[i]] = '\0';
			rq->param_name[i] = name;
			rq->param_val[i] = http_unescape(vals[i], vlens[i], 0);
			if (!rq->param_val[i])
				rq->param_val[i] = xq_strdup("");
		}
		rq->nparams = np;
	}
	return 1;
}

int router_has_perm(const struct who *who, const char *perm)
{
	size_t n = strlen(perm);
	const char *p = who->perms;

	if (!who->staff_id)
		return 0;
	if (!strcmp(perm, PERM_STAFF))
		return 1;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == n && !memcmp(p, perm, n))
			return 1;
		if (!end)
			break;
		p = end + 1;
	}
	return 0;
}

static int is_safe_method(const char *m)
{
	return !strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "OPTIONS");
}

static int checks_then_handle(struct req *rq, struct route *r)
{
	const char *ct;
	int rc;

	rc = req_read_body(rq, (size_t)((r->flags & R_UPLOAD) ? rq->cfg->readings_photo_max
								: rq->cfg->api_max_body));
	if (rc == XQ_ETOOBIG)
		return resp_fail_msg(rq, XQ_ETOOBIG, "请求内容过大", NULL);
	if (rc)
		return resp_fail_msg(rq, XQ_EINVAL, "请求内容不完整", NULL);
	if ((r->flags & R_JSON) && !is_safe_method(rq->method)) {
		ct = req_header(rq, "Content-Type");
		if (!ct || strncasecmp(ct, "application/json", 16) != 0)
			return resp_fail(rq, XQ_EMEDIA);
	}
	if (!strcmp(r->perm, PERM_RESIDENT)) {
		int64_t house_id;
		rc = resident_session_load(rq);
		if (rc)
			return resp_fail(rq, rc);
		if (r->flags & R_OWN_HOUSE) {
			if (req_param_id(rq, "id", &house_id))
				return resp_fail_msg(rq, XQ_ENOTFOUND, "房屋不存在或未绑定", NULL);
			rc = resident_house_check(rq->db, rq->who.wx_user_id, house_id);
			if (rc == XQ_ENOTFOUND)
				return resp_fail_msg(rq, XQ_ENOTFOUND, "房屋不存在或未绑定", NULL);
			if (rc)
				return resp_fail(rq, rc);
		}
	} else if (strcmp(r->perm, PERM_PUBLIC) != 0) {
		rc = (r->flags & R_BEARER) ? auth_session_load_bearer(rq) : auth_session_load(rq);
		if (rc)
			return resp_fail(rq, rc);
		if (!router_has_perm(&rq->who, r->perm)) {
			log_warn("staff '%s' (role %s) lacks '%s' for %s %s", rq->who.username,
				 rq->who.role, r->perm, rq->method, r->path);
			return resp_fail(rq, XQ_EFORBIDDEN);
		}
		if (!is_safe_method(rq->method) && !(r->flags & (R_NOCSRF | R_BEARER))) {
			const char *tok = req_header(rq, "X-CSRF-Token");
			if (!tok || strlen(tok) != strlen(rq->who.csrf) ||
			    CRYPTO_memcmp(tok, rq->who.csrf, strlen(tok)) != 0) {
				log_warn("csrf check failed for staff '%s' on %s %s", rq->who.username,
					 rq->method, r->path);
				return resp_fail(rq, XQ_ECSRF);
			}
		}
	}
	return r->handler(rq);
}

void router_dispatch(struct req *rq, struct route *routes, size_t n)
{
	struct route *hit = NULL;
	int path_matched = 0;
	int64_t t0 = xq_mono_us(), us;
	int status;

	for (size_t i = 0; i < n; i++) {
		if (!router_match(routes[i].path, rq->path, NULL))
			continue;
		path_matched = 1;
		if (!strcmp(routes[i].method, rq->method) ||
		    (!strcmp(rq->method, "HEAD") && !strcmp(routes[i].method, "GET"))) {
			hit = &routes[i];
			break;
		}
	}
	if (!hit) {
		if (path_matched) {
			resp_fail(rq, XQ_EMETHOD);
		} else {
			resp_fail_msg(rq, XQ_ENOTFOUND, "接口不存在", NULL);
		}
		return;
	}
	rq->route = hit;
	router_match(hit->path, rq->path, rq);
	status = checks_then_handle(rq, hit);
	if (!rq->responded)
		status = resp_fail(rq, XQ_ERROR);
	status = rq->status;
	us = xq_mono_us() - t0;
	atomic_fetch_add(&hit->stats.calls, 1);
	atomic_fetch_add(&hit->stats.total_us, (uint_fast64_t)us);
	if (status >= 500)
		atomic_fetch_add(&hit->stats.failures, 1);
	else if (status >= 400)
		atomic_fetch_add(&hit->stats.rejected, 1);
	for (size_t b = 0; b < ROUTE_BUCKETS; b++)
		if ((double)us / 1e6 <= bucket_le[b]) {
			atomic_fetch_add(&hit->stats.bucket[b], 1);
			break;
		}
	log_info("%s %s -> %d %lldus staff=%s", rq->method, rq->path, status, (long long)us,
		 rq->who.username[0] ? rq->who.username : "-");
}

void router_metrics(struct buf *out, struct route *routes, size_t n)
{
	buf_puts(out, "# HELP xq_http_requests_total Requests per route and outcome.\n"
		      "# TYPE xq_http_requests_total counter\n");
	for (size_t i = 0; i < n; i++) {
		struct route_stats *s = &routes[i].stats;
		uint64_t calls = atomic_load(&s->calls), f = atomic_load(&s->failures),
			 rj = atomic_load(&s->rejected);
		buf_printf(out, "xq_http_requests_total{method=\"%s\",route=\"%s\",outcome=\"ok\"} %llu\n",
			   routes[i].method, routes[i].path, (unsigned long long)(calls - f - rj));
		buf_printf(out, "xq_http_requests_total{method=\"%s\",route=\"%s\",outcome=\"client_error\"} %llu\n",
			   routes[i].method, routes[i].path, (unsigned long long)rj);
		buf_printf(out, "xq_http_requests_total{method=\"%s\",route=\"%s\",outcome=\"server_error\"} %llu\n",
			   routes[i].method, routes[i].path, (unsigned long long)f);
	}
	buf_puts(out, "# HELP xq_http_request_duration_seconds Handler latency per route.\n"
		      "# TYPE xq_http_request_duration_seconds histogram\n");
	for (size_t i = 0; i < n; i++) {
		struct route_stats *s = &routes[i].stats;
		uint64_t cum = 0;
		for (size_t b = 0; b < ROUTE_BUCKETS; b++) {
			cum += atomic_load(&s->bucket[b]);
			buf_printf(out, "xq_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\",le=\"%g\"} %llu\n",
				   routes[i].method, routes[i].path, bucket_le[b], (unsigned long long)cum);
		}
		buf_printf(out, "xq_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\",le=\"+Inf\"} %llu\n",
			   routes[i].method, routes[i].path, (unsigned long long)atomic_load(&s->calls));
		buf_printf(out, "xq_http_request_duration_seconds_sum{method=\"%s\",route=\"%s\"} %.6f\n",
			   routes[i].method, routes[i].path, (double)atomic_load(&s->total_us) / 1e6);
		buf_printf(out, "xq_http_request_duration_seconds_count{method=\"%s\",route=\"%s\"} %llu\n",
			   routes[i].method, routes[i].path, (unsigned long long)atomic_load(&s->calls));
	}
}
