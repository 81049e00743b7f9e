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
#include "payops.h"
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

/* console (issue 6): admin_dashboard.c, admin_export.c (xlsx of the lists) */
int admin_dashboard(struct req *rq);
int admin_house_export(struct req *rq);
int admin_bill_export(struct req *rq);
int admin_meter_export(struct req *rq);

/* reports (issue 8 part 4): admin_report.c, each also as .xlsx (docs/reports.md) */
#define XQ_REPORT_DECL(fn) int fn(struct req *rq); int fn##_xlsx(struct req *rq);
XQ_REPORT_DECL(admin_report_usage)
XQ_REPORT_DECL(admin_report_billing)
XQ_REPORT_DECL(admin_report_ageing)
XQ_REPORT_DECL(admin_report_payments)
XQ_REPORT_DECL(admin_report_latefee)
XQ_REPORT_DECL(admin_report_lineloss)
XQ_REPORT_DECL(admin_report_top)
XQ_REPORT_DECL(admin_report_offline)
#undef XQ_REPORT_DECL

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

/*
 * Residents' API beyond payments (resident area): meters, readings and
 * usage of a bound house (api_usage.c), payments, receipts and the ledger
 * (api_account.c), notices (api_notice.c, with the console side) and
 * tickets (api_ticket.c, with the console side). docs/resident-api.md.
 */
int api_resident_house_meters(struct req *rq);
int api_resident_meter_readings(struct req *rq);
int api_resident_house_usage(struct req *rq);
int api_resident_house_payments(struct req *rq);
int api_resident_payment_receipt(struct req *rq);
/* console2 area: staff receipt (api_account.c) */
int admin_payment_receipt(struct req *rq);
int api_resident_house_ledger(struct req *rq);
int api_resident_notices(struct req *rq);
int api_resident_notice_get(struct req *rq);
int api_resident_ticket_create(struct req *rq);
int api_resident_tickets(struct req *rq);
int api_resident_ticket_get(struct req *rq);
int admin_notice_list(struct req *rq);
int admin_notice_get(struct req *rq);
int admin_notice_create(struct req *rq);
int admin_notice_update(struct req *rq);
int admin_notice_publish(struct req *rq);
int admin_notice_withdraw(struct req *rq);
int admin_ticket_list(struct req *rq);
int admin_ticket_get(struct req *rq);
int admin_ticket_update(struct req *rq);

/*
 * admin_dunning.c (area dunning): late-fee waiver, alerts, forecasts.
 * forecast_reply() answers for one house (house_id > 0) or a community.
 */
int admin_bill_waive_late_fee(struct req *rq);
int admin_alert_list(struct req *rq);
int admin_alert_summary(struct req *rq);
int admin_alert_ack(struct req *rq);
int admin_alert_close(struct req *rq);
int admin_forecast(struct req *rq);
int admin_bill_dunning(struct req *rq);
int admin_alert_rule_list(struct req *rq);
int admin_alert_rule_put(struct req *rq);
int admin_dunning_policy_get(struct req *rq);
int admin_dunning_policy_put(struct req *rq);
int api_house_forecast(struct req *rq);
int forecast_reply(struct req *rq, int64_t house_id, int64_t community_id);

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

/* pay_txn_parse(), pay_txn_check(), pay_settle(): lib/payops.h */

/* admin_payops.c (payops): payments, refunds, cash/bank/balance payments, reconciliation */
int admin_payment_list(struct req *rq);
int admin_payment_refund(struct req *rq);
int admin_refund_list(struct req *rq);
int admin_house_payment(struct req *rq);
int admin_reconciliation_get(struct req *rq);
int api_pay_from_balance(struct req *rq);

#endif
