/*
 * router.h - the route table machinery: path matching with {parameters} and
 * the checks every request passes before its handler runs, driven by the
 * route row: body size, content type, session, permission, CSRF. Handlers
 * therefore never begin with "if (!is_admin)".
 *
 * The table itself is cgi/routes.c; read cgi/api.h for how to add a row.
 */
#ifndef XQ_ROUTER_H
#define XQ_ROUTER_H

#include "buf.h"
#include "http.h"

#include <stdatomic.h>

/* Route flags. */
#define R_JSON 0x01u   /* body must be Content-Type: application/json */
#define R_NOCSRF 0x02u /* state-changing but exempt from the CSRF check (login only) */
/*
 * Resident routes: the path's {id} is a house id that must be bound to the
 * calling resident (lib/resident_auth.h); otherwise 404, never data.
 */
#define R_OWN_HOUSE 0x04u
/*
 * Staff routes for the mini-program's reader mode: the staff session token
 * comes as "Authorization: Bearer" instead of the cookie, and there is no
 * CSRF check (a browser never attaches that header by itself).
 */
#define R_BEARER 0x08u
/* A binary upload: the body may reach readings.photo_max instead of api.max_body. */
#define R_UPLOAD 0x10u

/* Who may call: a permission code from the permission table, or one of these. */
#define PERM_PUBLIC "" /* anyone, no session needed */
#define PERM_STAFF "staff" /* any logged-in staff member */
/* a mini-program resident with a Bearer session (no cookie, so no CSRF) */
#define PERM_RESIDENT "resident"

#define ROUTE_BUCKETS 11

/* Runtime counters beside each row (Redis-style); printed by /metrics. */
struct route_stats {
	atomic_uint_fast64_t calls;
	atomic_uint_fast64_t failures; /* responses with status >= 500 */
	atomic_uint_fast64_t rejected; /* 4xx */
	atomic_uint_fast64_t total_us;
	atomic_uint_fast64_t bucket[ROUTE_BUCKETS]; /* latency histogram, cumulative at print */
};

struct route {
	const char *method;
	const char *path; /* "/admin/api/v1/houses/{id}" */
	int (*handler)(struct req *rq); /* returns the HTTP status it responded with */
	const char *perm;
	unsigned flags;
	struct route_stats stats;
};

/*
 * Finds the route for rq, runs the checks and the handler, and records the
 * counters. Always leaves a response in rq (404/405/401/403/413/415 or the
 * handler's). routes[0..n) must outlive the call.
 */
void router_dispatch(struct req *rq, struct route *routes, size_t n);

/* Matches path against pattern; on success fills rq's parameters. Returns 1/0. */
int router_match(const char *pattern, const char *path, struct req *rq /* may be NULL */);

/* Appends the Prometheus text exposition of every route's counters to out. */
void router_metrics(struct buf *out, struct route *routes, size_t n);

/* 1 if the caller's role grants perm (PERM_STAFF: any staff session). */
int router_has_perm(const struct who *who, const char *perm);

#endif
