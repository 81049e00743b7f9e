/*
 * api.h - every handler of xq-api, and how to add one.
 *
 * Adding a route takes four steps:
 *   1. write the handler, `int admin_foo_list(struct req *rq)`, in the file of
 *      its resource (admin_*.c for the staff console, api_*.c for residents);
 *      it returns what resp_json()/resp_fail() return;
 *   2. declare it below;
 *   3. add its row to cgi/routes.c: method, path with {params}, handler, the
 *      permission it needs (PERM_PUBLIC, PERM_STAFF or a permission code from
 *      sql/001_init.sql) and flags;
 *   4. add a test under tests/e2e/ that calls it through nginx, including the
 *      caller who must be refused.
 *
 * Flags (see lib/router.h): R_JSON - the body must be application/json (the
 * handler decodes it with json_decode() and a field table); R_NOCSRF - a
 * state-changing route that needs no CSRF token (login only).
 * The router checks, in order: body size, content type, session, permission,
 * CSRF; a handler runs only when all passed, with rq->who filled in.
 * Every staff change to data writes an audit row in the same transaction
 * (crud_write() does it for the CRUD routes).
 */
#ifndef XQ_API_H
#define XQ_API_H

#include "http.h"
#include "router.h"

/* routes.c */
extern struct route xq_routes[];
extern const size_t xq_nroutes;

/* sys.c */
int sys_healthz(struct req *rq);
int sys_metrics(struct req *rq);

/* admin_auth.c */
int admin_login(struct req *rq);
int admin_logout(struct req *rq);
int admin_me(struct req *rq);
int admin_password(struct req *rq);

/* admin_estate.c: communities, buildings, houses */
int admin_community_list(struct req *rq);
int admin_community_get(struct req *rq);
int admin_community_create(struct req *rq);
int admin_community_update(struct req *rq);
int admin_community_delete(struct req *rq);
int admin_building_list(struct req *rq);
int admin_building_get(struct req *rq);
int admin_building_create(struct req *rq);
int admin_building_update(struct req *rq);
int admin_building_delete(struct req *rq);
int admin_house_list(struct req *rq);
int admin_house_get(struct req *rq);
int admin_house_create(struct req *rq);
int admin_house_update(struct req *rq);
int admin_house_delete(struct req *rq);

/* admin_resident.c: residents and their links to houses */
int admin_resident_list(struct req *rq);
int admin_resident_get(struct req *rq);
int admin_resident_create(struct req *rq);
int admin_resident_update(struct req *rq);
int admin_resident_delete(struct req *rq);
int admin_house_resident_add(struct req *rq);
int admin_house_resident_moveout(struct req *rq);

/* admin_meter.c */
int admin_meter_list(struct req *rq);
int admin_meter_get(struct req *rq);
int admin_meter_create(struct req *rq);
int admin_meter_update(struct req *rq);
int admin_meter_remove(struct req *rq);
int admin_meter_replace(struct req *rq);

/* admin_tariff.c: tariffs, versions, assignment to houses, price preview */
int admin_tariff_list(struct req *rq);
int admin_tariff_create(struct req *rq);
int admin_tariff_get(struct req *rq);
int admin_tariff_version_create(struct req *rq);
int admin_tariff_assign(struct req *rq);
int admin_tariff_preview(struct req *rq);

/* admin_bill.c: billing runs and bills */
int admin_billing_run_start(struct req *rq);
int admin_billing_run_get(struct req *rq);
int admin_bill_list(struct req *rq);
int admin_bill_get(struct req *rq);
int admin_bill_void(struct req *rq);

/* admin_staff.c: staff accounts and the audit log */
int admin_staff_list(struct req *rq);
int admin_staff_create(struct req *rq);
int admin_staff_update(struct req *rq);
int admin_audit_list(struct req *rq);

/*
 * Residents (mini-program): api_resident.c, api_pay.c, api_wxnotify.c.
 * Routes with PERM_RESIDENT need "Authorization: Bearer <token>" from
 * POST /api/v1/auth/login; R_OWN_HOUSE routes 404 unless {id} is a house
 * the resident has bound (lib/resident_auth.h).
 */
int api_resident_login(struct req *rq);
int api_resident_logout(struct req *rq);
int api_resident_me(struct req *rq);
int api_binding_create(struct req *rq);
int api_binding_delete(struct req *rq);
int api_resident_houses(struct req *rq);
int api_resident_house_bills(struct req *rq);
int api_resident_bill_get(struct req *rq);
int admin_house_binding_code(struct req *rq);
int api_order_create(struct req *rq);
int api_order_get(struct req *rq);
int api_wxpay_notify(struct req *rq);

/* collector area, admin_meter_command.c: remote trip/close requested, approved by another staff */
int admin_meter_command_create(struct req *rq);
int admin_meter_command_list(struct req *rq);
int admin_meter_command_approve(struct req *rq);
int admin_meter_command_reject(struct req *rq);

/* readings area: admin_reading.c, admin_reading_import.c, api_reader.c (docs/readings.md) */
int admin_reading_latest(struct req *rq);
int admin_meter_readings(struct req *rq);
int admin_meter_usage(struct req *rq);
int admin_reading_create(struct req *rq);
int admin_reading_review_list(struct req *rq);
int admin_reading_approve(struct req *rq);
int admin_reading_correct(struct req *rq);
int admin_reading_reject(struct req *rq);
int admin_reading_import(struct req *rq);
int admin_reading_import_template(struct req *rq);
int admin_reader_assignment_list(struct req *rq);
int admin_reader_assignment_create(struct req *rq);
int admin_reader_assignment_delete(struct req *rq);
int api_reader_login(struct req *rq);
int api_reader_logout(struct req *rq);
int api_reader_route(struct req *rq);
int api_reader_readings(struct req *rq);
int api_reader_photo(struct req *rq);

struct db;
struct config;

/* The fields of a WeChat Pay transaction object (§8.2/§9.2) that we use. */
struct pay_txn {
	char appid[33], mchid[33], out_trade_no[33], transaction_id[33], trade_state[33];
	char currency[17];
	char success_time[24]; /* UTC "YYYY-MM-DD HH:MM:SS", "" if absent */
	int64_t total_fen, payer_total_fen;
};

/* Reads a decrypted/verified transaction JSON into t. XQ_EPROTO if required fields lack. */
int pay_txn_parse(const char *json, size_t len, struct pay_txn *t /* OUT */);
/* XQ_OK if t names our appid and mchid and CNY; XQ_EPROTO (logged) otherwise. */
int pay_txn_check(const struct config *cfg, const struct pay_txn *t);
/*
 * Credits a SUCCESS transaction once, in one transaction: payment row, ledger
 * 'payment' (+amount, pay:<payment_id>), 'settle' per bill of the order
 * (settle:<bill_id>:<payment_id>), bill paid_fen/status, the rest as account
 * credit, order state paid; and, when inbox_id > 0, that wx_notify_inbox row
 * marked credited/duplicate. An order already paid is a duplicate: XQ_OK with
 * *credited = 0. XQ_ENOTFOUND: unknown out_trade_no; XQ_EPROTO: amount differs
 * from the order; XQ_EINVAL: not SUCCESS; db codes otherwise (nothing written).
 */
int pay_settle(struct db *db, const struct pay_txn *t, int64_t inbox_id, int *credited /* OUT, may be NULL */);

#endif
