/*
 * api_wxnotify.c - POST /wxpay/notify, WeChat Pay's payment callback (§8).
 * Order of work: store the raw headers and body in wx_notify_inbox and
 * commit; then payops_notify_process() (lib/payops.c, shared with xqctl
 * pay-retry): verify (signature, timestamp window, serial); decrypt; check
 * appid/mchid/currency; settle payments through pay_settle() and refunds
 * (REFUND.*) through pay_refund_settle(), which mark the inbox row in the
 * same transaction. Answers 200 when the payment is credited or was already,
 * 4xx/5xx with {"code":"FAIL"} otherwise so that WeChat sends it again. A
 * failure while settling leaves the inbox row unprocessed (processed_at NULL)
 * for WeChat's retry and for xqctl pay-retry.
 */
#include "api.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "payops.h"
#include "wxclient.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

DB_QUERY(q_inbox_insert) = {
	"notify_inbox_insert",
	"INSERT INTO wx_notify_inbox (notify_id, event_type, headers, body, remote_ip)"
	" VALUES (?, ?, ?, ?, ?)",
	"sssss",
	NULL,
};

static int answer(struct req *rq, int status, int ok)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "code", ok ? "SUCCESS" : "FAIL");
	cJSON_AddStringToObject(o, "message", ok ? "成功" : "失败");
	return resp_json(rq, status, o);
}

static void add_hdr(cJSON *o, struct req *rq, const char *name)
{
	const char *v = req_header(rq, name);
	if (v)
		cJSON_AddStringToObject(o, name, v);
}

int api_wxpay_notify(struct req *rq)
{
	struct wxpay_sig_headers sh;
	cJSON *hdrs, *body_json;
	char notify_id[65] = "", event_type[33] = "";
	char *hdr_text;
	int64_t inbox_id;
	int rc, status;

	/* 1. store first, believe later (headers as JSON, body raw) */
	hdrs = cJSON_CreateObject();
	add_hdr(hdrs, rq, "Wechatpay-Timestamp");
	add_hdr(hdrs, rq, "Wechatpay-Nonce");
	add_hdr(hdrs, rq, "Wechatpay-Signature");
	add_hdr(hdrs, rq, "Wechatpay-Serial");
	add_hdr(hdrs, rq, "Wechatpay-Signature-Type");
	add_hdr(hdrs, rq, "Content-Type");
	add_hdr(hdrs, rq, "User-Agent");
	hdr_text = cJSON_PrintUnformatted(hdrs);
	cJSON_Delete(hdrs);
	body_json = cJSON_ParseWithLength(rq->body.data, rq->body.len);
	if (cJSON_IsObject(body_json)) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(body_json, "id");
		const cJSON *ev = cJSON_GetObjectItemCaseSensitive(body_json, "event_type");
		if (cJSON_IsString(id) && strlen(id->valuestring) < sizeof(notify_id))
			xq_snprintf(notify_id, sizeof(notify_id), "%s", id->valuestring);
		if (cJSON_IsString(ev) && strlen(ev->valuestring) < sizeof(event_type))
			xq_snprintf(event_type, sizeof(event_type), "%s", ev->valuestring);
	}
	cJSON_Delete(body_json);
	rc = db_run(rq->db, &q_inbox_insert, NULL, notify_id, event_type, hdr_text,
		    rq->body.data ? rq->body.data : "", rq->remote_addr ? rq->remote_addr : "");
	cJSON_free(hdr_text);
	if (rc) {
		xq_error(rc, "notify '%s': cannot store in inbox", notify_id);
		return answer(rq, 500, 0);
	}
	inbox_id = db_insert_id(rq->db);

	/* 2-4. verify, decrypt, check, settle: the same core as xqctl pay-retry */
	sh.timestamp = req_header(rq, "Wechatpay-Timestamp");
	sh.nonce = req_header(rq, "Wechatpay-Nonce");
	sh.signature = req_header(rq, "Wechatpay-Signature");
	sh.serial = req_header(rq, "Wechatpay-Serial");
	sh.signature_type = req_header(rq, "Wechatpay-Signature-Type");
	status = payops_notify_process(rq->db, rq->cfg, inbox_id, event_type, &sh,
				       rq->body.data ? rq->body.data : "", rq->body.len,
				       xq_now_ms() / 1000);
	return answer(rq, status, status == 200);
}
