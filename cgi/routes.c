/*
 * routes.c - THE list of what xq-api serves. Read cgi/api.h before adding a
 * row. Order matters only where two patterns could match the same path:
 * the first match wins.
 */
#include "api.h"

#define A "/admin/api/v1"

struct route xq_routes[] = {
	/* method   path                                  handler                        who               flags */
	{ "GET",    "/healthz",                           sys_healthz,                   PERM_PUBLIC,      0 },
	{ "GET",    "/metrics",                           sys_metrics,                   PERM_PUBLIC,      0 },

	{ "POST",   A "/auth/login",                      admin_login,                   PERM_PUBLIC,      R_JSON | R_NOCSRF },
	{ "POST",   A "/auth/logout",                     admin_logout,                  PERM_STAFF,       0 },
	{ "GET",    A "/auth/me",                         admin_me,                      PERM_STAFF,       0 },
	{ "POST",   A "/auth/password",                   admin_password,                PERM_STAFF,       R_JSON },

	{ "GET",    A "/communities",                     admin_community_list,          "estate.read",    0 },
	{ "POST",   A "/communities",                     admin_community_create,        "estate.edit",    R_JSON },
	{ "GET",    A "/communities/{id}",                admin_community_get,           "estate.read",    0 },
	{ "PUT",    A "/communities/{id}",                admin_community_update,        "estate.edit",    R_JSON },
	{ "DELETE", A "/communities/{id}",                admin_community_delete,        "estate.edit",    0 },

	{ "GET",    A "/buildings",                       admin_building_list,           "estate.read",    0 },
	{ "POST",   A "/buildings",                       admin_building_create,         "estate.edit",    R_JSON },
	{ "GET",    A "/buildings/{id}",                  admin_building_get,            "estate.read",    0 },
	{ "PUT",    A "/buildings/{id}",                  admin_building_update,         "estate.edit",    R_JSON },
	{ "DELETE", A "/buildings/{id}",                  admin_building_delete,         "estate.edit",    0 },

	/* console (issue 6): dashboard figures; Excel exports with the filters and
	 * the permission of the lists they mirror (cgi/admin_export.c) */
	{ "GET",    A "/dashboard",                       admin_dashboard,               "estate.read",    0 },
	{ "GET",    A "/houses.xlsx",                     admin_house_export,            "estate.read",    0 },
	{ "GET",    A "/bills.xlsx",                      admin_bill_export,             "estate.read",    0 },
	{ "GET",    A "/meters.xlsx",                     admin_meter_export,            "estate.read",    0 },
	/* reports (issue 8 part 4): JSON and .xlsx with the same filters (cgi/admin_report.c) */
	{ "GET",    A "/reports/usage",                      admin_report_usage,            "report.read",    0 },
	{ "GET",    A "/reports/usage.xlsx",                 admin_report_usage_xlsx,       "report.read",    0 },
	{ "GET",    A "/reports/billing",                    admin_report_billing,          "report.read",    0 },
	{ "GET",    A "/reports/billing.xlsx",               admin_report_billing_xlsx,     "report.read",    0 },
	{ "GET",    A "/reports/arrears-ageing",             admin_report_ageing,           "report.read",    0 },
	{ "GET",    A "/reports/arrears-ageing.xlsx",        admin_report_ageing_xlsx,      "report.read",    0 },
	{ "GET",    A "/reports/payments",                   admin_report_payments,         "report.read",    0 },
	{ "GET",    A "/reports/payments.xlsx",              admin_report_payments_xlsx,    "report.read",    0 },
	{ "GET",    A "/reports/late-fees",                  admin_report_latefee,          "report.read",    0 },
	{ "GET",    A "/reports/late-fees.xlsx",             admin_report_latefee_xlsx,     "report.read",    0 },
	{ "GET",    A "/reports/line-loss",                  admin_report_lineloss,         "report.read",    0 },
	{ "GET",    A "/reports/line-loss.xlsx",             admin_report_lineloss_xlsx,    "report.read",    0 },
	{ "GET",    A "/reports/top-consumers",              admin_report_top,              "report.read",    0 },
	{ "GET",    A "/reports/top-consumers.xlsx",         admin_report_top_xlsx,         "report.read",    0 },
	{ "GET",    A "/reports/meters-offline",             admin_report_offline,          "report.read",    0 },
	{ "GET",    A "/reports/meters-offline.xlsx",        admin_report_offline_xlsx,     "report.read",    0 },

	{ "GET",    A "/houses",                          admin_house_list,              "estate.read",    0 },
	{ "POST",   A "/houses",                          admin_house_create,            "estate.edit",    R_JSON },
	{ "GET",    A "/houses/{id}",                     admin_house_get,               "estate.read",    0 },
	{ "PUT",    A "/houses/{id}",                     admin_house_update,            "estate.edit",    R_JSON },
	{ "DELETE", A "/houses/{id}",                     admin_house_delete,            "estate.edit",    0 },
	{ "POST",   A "/houses/{id}/residents",           admin_house_resident_add,      "resident.edit",  R_JSON },
	{ "POST",   A "/house-residents/{id}/move-out",   admin_house_resident_moveout,  "resident.edit",  R_JSON },

	{ "GET",    A "/residents",                       admin_resident_list,           "estate.read",    0 },
	{ "POST",   A "/residents",                       admin_resident_create,         "resident.edit",  R_JSON },
	{ "GET",    A "/residents/{id}",                  admin_resident_get,            "estate.read",    0 },
	{ "PUT",    A "/residents/{id}",                  admin_resident_update,         "resident.edit",  R_JSON },
	{ "DELETE", A "/residents/{id}",                  admin_resident_delete,         "resident.edit",  0 },

	{ "GET",    A "/meters",                          admin_meter_list,              "estate.read",    0 },
	{ "POST",   A "/meters",                          admin_meter_create,            "meter.edit",     R_JSON },
	{ "GET",    A "/meters/{id}",                     admin_meter_get,               "estate.read",    0 },
	{ "PUT",    A "/meters/{id}",                     admin_meter_update,            "meter.edit",     R_JSON },
	{ "POST",   A "/meters/{id}/remove",              admin_meter_remove,            "meter.edit",     R_JSON },
	{ "POST",   A "/meters/{id}/replace",             admin_meter_replace,           "meter.edit",     R_JSON },

	{ "GET",    A "/tariffs",                         admin_tariff_list,             "estate.read",    0 },
	{ "POST",   A "/tariffs",                         admin_tariff_create,           "tariff.edit",    R_JSON },
	{ "POST",   A "/tariffs/preview",                 admin_tariff_preview,          "estate.read",    R_JSON },
	{ "GET",    A "/tariffs/{id}",                    admin_tariff_get,              "estate.read",    0 },
	{ "POST",   A "/tariffs/{id}/versions",           admin_tariff_version_create,   "tariff.edit",    R_JSON },
	{ "POST",   A "/tariff-assignments",              admin_tariff_assign,           "tariff.edit",    R_JSON },

	{ "POST",   A "/billing/runs",                    admin_billing_run_start,       "billing.run",    R_JSON },
	{ "GET",    A "/billing/runs/{id}",               admin_billing_run_get,         "estate.read",    0 },
	{ "GET",    A "/bills",                           admin_bill_list,               "estate.read",    0 },
	{ "GET",    A "/bills/{id}",                      admin_bill_get,                "estate.read",    0 },
	{ "POST",   A "/bills/{id}/void",                 admin_bill_void,               "billing.run",    R_JSON },

	{ "GET",    A "/staff",                           admin_staff_list,              "staff.admin",    0 },
	{ "POST",   A "/staff",                           admin_staff_create,            "staff.admin",    R_JSON },
	{ "PUT",    A "/staff/{id}",                      admin_staff_update,            "staff.admin",    R_JSON },
	{ "GET",    A "/audit",                           admin_audit_list,              "audit.read",     0 },

	/* residents (mini-program): Bearer sessions, no CSRF; R_OWN_HOUSE: {id} is a bound house */
	{ "POST",   "/api/v1/auth/login",                 api_resident_login,            PERM_PUBLIC,      R_JSON },
	{ "POST",   "/api/v1/auth/logout",                api_resident_logout,           PERM_RESIDENT,    0 },
	{ "GET",    "/api/v1/me",                         api_resident_me,               PERM_RESIDENT,    0 },
	{ "POST",   "/api/v1/bindings",                   api_binding_create,            PERM_RESIDENT,    R_JSON },
	{ "DELETE", "/api/v1/bindings/{id}",              api_binding_delete,            PERM_RESIDENT,    R_OWN_HOUSE },
	{ "GET",    "/api/v1/houses",                     api_resident_houses,           PERM_RESIDENT,    0 },
	{ "GET",    "/api/v1/houses/{id}/bills",          api_resident_house_bills,      PERM_RESIDENT,    R_OWN_HOUSE },
	{ "GET",    "/api/v1/bills/{id}",                 api_resident_bill_get,         PERM_RESIDENT,    0 },
	{ "POST",   "/api/v1/orders",                     api_order_create,              PERM_RESIDENT,    R_JSON },
	{ "GET",    "/api/v1/orders/{id}",                api_order_get,                 PERM_RESIDENT,    0 },
	{ "POST",   "/wxpay/notify",                      api_wxpay_notify,              PERM_PUBLIC,      0 },
	{ "POST",   A "/houses/{id}/binding-code",        admin_house_binding_code,      "resident.edit",  0 },

	/* resident area: meters, usage, money history, notices, tickets (docs/resident-api.md) */
	{ "GET",    "/api/v1/houses/{id}/meters",         api_resident_house_meters,     PERM_RESIDENT,    R_OWN_HOUSE },
	{ "GET",    "/api/v1/houses/{id}/usage",          api_resident_house_usage,      PERM_RESIDENT,    R_OWN_HOUSE },
	{ "GET",    "/api/v1/houses/{id}/payments",       api_resident_house_payments,   PERM_RESIDENT,    R_OWN_HOUSE },
	{ "GET",    "/api/v1/houses/{id}/ledger",         api_resident_house_ledger,     PERM_RESIDENT,    R_OWN_HOUSE },
	{ "GET",    "/api/v1/meters/{id}/readings",       api_resident_meter_readings,   PERM_RESIDENT,    0 },
	{ "GET",    "/api/v1/payments/{id}/receipt",      api_resident_payment_receipt,  PERM_RESIDENT,    0 },
	{ "GET",    "/api/v1/notices",                    api_resident_notices,          PERM_RESIDENT,    0 },
	{ "GET",    "/api/v1/notices/{id}",               api_resident_notice_get,       PERM_RESIDENT,    0 },
	{ "POST",   "/api/v1/tickets",                    api_resident_ticket_create,    PERM_RESIDENT,    R_JSON },
	{ "GET",    "/api/v1/tickets",                    api_resident_tickets,          PERM_RESIDENT,    0 },
	{ "GET",    "/api/v1/tickets/{id}",               api_resident_ticket_get,       PERM_RESIDENT,    0 },
	{ "GET",    A "/notices",                         admin_notice_list,             "estate.read",    0 },
	{ "POST",   A "/notices",                         admin_notice_create,           "notice.edit",    R_JSON },
	{ "GET",    A "/notices/{id}",                    admin_notice_get,              "estate.read",    0 },
	{ "PUT",    A "/notices/{id}",                    admin_notice_update,           "notice.edit",    R_JSON },
	{ "POST",   A "/notices/{id}/publish",            admin_notice_publish,          "notice.edit",    0 },
	{ "POST",   A "/notices/{id}/withdraw",           admin_notice_withdraw,         "notice.edit",    0 },
	{ "GET",    A "/tickets",                         admin_ticket_list,             "ticket.handle",  0 },
	{ "GET",    A "/tickets/{id}",                    admin_ticket_get,              "ticket.handle",  0 },
	{ "PUT",    A "/tickets/{id}",                    admin_ticket_update,           "ticket.handle",  R_JSON },

	/* area dunning: late-fee waiver, alerts, forecasts (admin_dunning.c) */
	{ "POST",   A "/bills/{id}/waive-late-fee",       admin_bill_waive_late_fee,     "latefee.waive",  R_JSON },
	{ "GET",    A "/alerts",                          admin_alert_list,              "alert.handle",   0 },
	{ "GET",    A "/alerts/summary",                  admin_alert_summary,           "alert.handle",   0 },
	{ "POST",   A "/alerts/{id}/ack",                 admin_alert_ack,               "alert.handle",   R_JSON },
	{ "POST",   A "/alerts/{id}/close",               admin_alert_close,             "alert.handle",   R_JSON },
	{ "GET",    A "/forecast",                        admin_forecast,                "report.read",    0 },
	{ "GET",    A "/bills/{id}/dunning",              admin_bill_dunning,            "estate.read",    0 },
	{ "GET",    A "/alert-rules",                     admin_alert_rule_list,         "alert.handle",   0 },
	{ "PUT",    A "/alert-rules",                     admin_alert_rule_put,          "alert.handle",   R_JSON },
	{ "GET",    A "/communities/{id}/dunning-policy", admin_dunning_policy_get,      "estate.read",    0 },
	{ "PUT",    A "/communities/{id}/dunning-policy", admin_dunning_policy_put,      "billing.run",    R_JSON },
	{ "GET",    "/api/v1/houses/{id}/forecast",       api_house_forecast,            PERM_RESIDENT,    R_OWN_HOUSE },

	/* payops: payments, refunds, staff-recorded payments, balance payments, reconciliation */
	{ "GET",    A "/payments",                        admin_payment_list,            "payment.read",   0 },
	{ "POST",   A "/payments/{id}/refund",            admin_payment_refund,          "refund",         R_JSON },
	{ "GET",    A "/refunds",                         admin_refund_list,             "payment.read",   0 },
	{ "POST",   A "/houses/{id}/payments",            admin_house_payment,           "payment.record", R_JSON },
	{ "GET",    A "/reconciliations",                 admin_reconciliation_get,      "payment.read",   0 },
	/* console2 area: a payment's receipt for the counter (api_account.c) */
	{ "GET",    A "/payments/{id}/receipt",           admin_payment_receipt,         "payment.read",   0 },
	{ "POST",   "/api/v1/houses/{id}/pay-from-balance", api_pay_from_balance,        PERM_RESIDENT,    R_OWN_HOUSE },

	/* collector area: remote trip/close with four eyes (admin_meter_command.c) */
	{ "POST",   A "/meters/{id}/commands",            admin_meter_command_create,    "meter.command",  R_JSON },
	{ "GET",    A "/meter-commands",                  admin_meter_command_list,      "meter.command",  0 },
	{ "POST",   A "/meter-commands/{id}/approve",     admin_meter_command_approve,   "meter.command",  0 },
	{ "POST",   A "/meter-commands/{id}/reject",      admin_meter_command_reject,    "meter.command",  0 },

	/* readings area (admin_reading*.c, api_reader.c; docs/readings.md): {read_at} is UTC ms */
	{ "GET",    A "/readings/latest",                 admin_reading_latest,          "reading.read",   0 },
	{ "GET",    A "/readings/review",                 admin_reading_review_list,     "reading.review", 0 },
	{ "GET",    A "/readings/import-template.csv",    admin_reading_import_template, "reading.entry",  0 },
	{ "POST",   A "/readings/import",                 admin_reading_import,          "reading.entry",  0 },
	{ "POST",   A "/readings/{meter_id}/{read_at}/approve", admin_reading_approve,   "reading.review", 0 },
	{ "POST",   A "/readings/{meter_id}/{read_at}/correct", admin_reading_correct,   "reading.review", R_JSON },
	{ "POST",   A "/readings/{meter_id}/{read_at}/reject",  admin_reading_reject,    "reading.review", R_JSON },
	{ "GET",    A "/meters/{id}/readings",            admin_meter_readings,          "reading.read",   0 },
	{ "POST",   A "/meters/{id}/readings",            admin_reading_create,          "reading.entry",  R_JSON },
	{ "GET",    A "/meters/{id}/usage",               admin_meter_usage,             "reading.read",   0 },
	{ "GET",    A "/reader-assignments",              admin_reader_assignment_list,  "staff.admin",    0 },
	{ "POST",   A "/reader-assignments",              admin_reader_assignment_create, "staff.admin",   R_JSON },
	{ "DELETE", A "/reader-assignments/{id}",         admin_reader_assignment_delete, "staff.admin",   0 },
	/* reader mode of the mini-program: staff session as Bearer token, no CSRF */
	{ "POST",   "/api/v1/reader/login",               api_reader_login,              PERM_PUBLIC,      R_JSON },
	{ "POST",   "/api/v1/reader/logout",              api_reader_logout,             "reading.entry",  R_BEARER },
	{ "GET",    "/api/v1/reader/route",               api_reader_route,              "reading.entry",  R_BEARER },
	{ "POST",   "/api/v1/reader/readings",            api_reader_readings,           "reading.entry",  R_JSON | R_BEARER },
	{ "POST",   "/api/v1/reader/photos",              api_reader_photo,              "reading.entry",  R_BEARER | R_UPLOAD },
};

const size_t xq_nroutes = sizeof(xq_routes) / sizeof(xq_routes[0]);
