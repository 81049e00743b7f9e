/*
 * routes.c - THE list of what xq-wxsim serves: WeChat's own paths, byte for
 * byte as production (the base URLs are the only difference), then the
 * sandbox hooks under /sim/. Every row is PERM_PUBLIC because the router's
 * permissions are for Xiaoqu staff sessions; WeChat's authentication happens
 * in the handlers (pay_auth for /v3/, appid+secret or access_token for the
 * mini-program APIs). No R_JSON either: WeChat answers a wrong Content-Type
 * in its own error format, not ours. See wxsim.h for how to add a row.
 */
#include "wxsim.h"

struct route wxsim_routes[] = {
	/* method   path                                                  handler                 who          flags */
	/* api.weixin.qq.com: mini-program login, tokens, messages (§14-§17) */
	{ "GET",    "/sns/jscode2session",                                mp_jscode2session,      PERM_PUBLIC, 0 },
	{ "GET",    "/cgi-bin/token",                                     mp_token,               PERM_PUBLIC, 0 },
	{ "POST",   "/cgi-bin/stable_token",                              mp_stable_token,        PERM_PUBLIC, 0 },
	{ "POST",   "/cgi-bin/message/subscribe/send",                    mp_subscribe_send,      PERM_PUBLIC, 0 },
	{ "POST",   "/wxa/business/getuserphonenumber",                   mp_phone_number,        PERM_PUBLIC, 0 },

	/* api.mch.weixin.qq.com: Pay API v3 (§6, §9-§12, §4.2) */
	{ "POST",   "/v3/pay/transactions/jsapi",                         pay_jsapi,              PERM_PUBLIC, 0 },
	{ "GET",    "/v3/pay/transactions/out-trade-no/{out_trade_no}",   pay_query_out_trade_no, PERM_PUBLIC, 0 },
	{ "POST",   "/v3/pay/transactions/out-trade-no/{out_trade_no}/close", pay_close,          PERM_PUBLIC, 0 },
	{ "GET",    "/v3/pay/transactions/id/{transaction_id}",           pay_query_id,           PERM_PUBLIC, 0 },
	{ "POST",   "/v3/refund/domestic/refunds",                        refund_create,          PERM_PUBLIC, 0 },
	{ "GET",    "/v3/refund/domestic/refunds/{out_refund_no}",        refund_query,           PERM_PUBLIC, 0 },
	{ "GET",    "/v3/bill/tradebill",                                 bill_tradebill,         PERM_PUBLIC, 0 },
	{ "GET",    "/v3/billdownload/file",                              bill_download,          PERM_PUBLIC, 0 },
	{ "GET",    "/v3/certificates",                                   pay_certificates,       PERM_PUBLIC, 0 },

	/* the sandbox's own hooks: the resident and the back office */
	{ "GET",    "/sim/healthz",                                       sim_healthz,            PERM_PUBLIC, 0 },
	{ "POST",   "/sim/login-code",                                    sim_login_code,         PERM_PUBLIC, 0 },
	{ "POST",   "/sim/phone-code",                                    sim_phone_code,         PERM_PUBLIC, 0 },
	{ "POST",   "/sim/subscribe/accept",                              sim_subscribe_accept,   PERM_PUBLIC, 0 },
	{ "GET",    "/sim/templates",                                     sim_templates,          PERM_PUBLIC, 0 },
	{ "POST",   "/sim/templates",                                     sim_template_add,       PERM_PUBLIC, 0 },
	{ "GET",    "/sim/messages",                                      sim_messages,           PERM_PUBLIC, 0 },
	{ "POST",   "/sim/pay",                                           sim_pay,                PERM_PUBLIC, 0 },
	{ "POST",   "/sim/notify/replay",                                 sim_notify_replay,      PERM_PUBLIC, 0 },
	{ "POST",   "/sim/notify/deliver",                                sim_notify_deliver,     PERM_PUBLIC, 0 },
	{ "GET",    "/sim/notifications",                                 sim_notifications,      PERM_PUBLIC, 0 },
	{ "POST",   "/sim/refund/complete",                               sim_refund_complete,    PERM_PUBLIC, 0 },
	{ "GET",    "/sim/faults",                                        sim_faults_list,        PERM_PUBLIC, 0 },
	{ "POST",   "/sim/faults",                                        sim_faults_add,         PERM_PUBLIC, 0 },
	{ "DELETE", "/sim/faults",                                        sim_faults_clear,       PERM_PUBLIC, 0 },
	{ "POST",   "/sim/backdate",                                      sim_backdate,           PERM_PUBLIC, 0 },
};

const size_t wxsim_nroutes = sizeof(wxsim_routes) / sizeof(wxsim_routes[0]);
