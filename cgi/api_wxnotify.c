/*
 * api_wxnotify.c - POST /wxpay/notify, WeChat Pay's payment callback (§8).
 * Order of work: store the raw headers and body in wx_notify_inbox and
 * commit; verify (signature, timestamp window, serial); decrypt; check
 * appid/mchid/currency; settle through pay_settle() (api_pay.c), which
 * also marks the inbox row in the same transaction. Answers 200 when the
 * payment is credited or was already, 4xx/5xx with {"code":"FAIL"} otherwise
 * so that WeChat sends it again. A failure while settling leaves the inbox
 * row unprocessed (processed_at NULL) for a retry job.
 */
#include "api.h"
#include "config.h"
#include "db.h"
#include "log.h"
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

DB_QUERY(q_inbox_result) = {
	"notify_inbox_result",
	"UPDATE wx_notify_inbox SET processed_at = NOW(3), result = ?, out_trade_no = ?, error = ?"
	" WHERE id = ?",
	"sssl",
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

/* Marks the inbox row done with a result that needs no retry from us. */
static void inbox_done(struct req *rq, int64_t id, const char *result, const char *otn,
		       const char *err)
{
	if (db_run(rq->db, &q_inbox_result, NULL, result, otn && *otn ? otn : NULL, err, id))
		log_error("notify inbox %lld: cannot record result '%s'", (long long)id, result);
}

int api_wxpay_notify(struct req *rq)
{
	const struct wx_keys *k;
	struct wxpay_sig_headers sh;
	struct pay_txn t;
	struct buf pt;
	cJSON *hdrs, *body_json;
	char notify_id[65] = "", event_type[33] = "";
	char *hdr_text;
	int64_t inbox_id;
	int rc, credited = 0;

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

	/* 2. verify: headers, +-300 s, serial, signature over the raw body */
	if ((rc = wxclient_keys(rq->cfg, &k))) {
		log_error("notify inbox %lld: no keys to verify with", (long long)inbox_id);
		return answer(rq, 500, 0); /* left unprocessed: our problem, not WeChat's */
	}
	sh.timestamp = req_header(rq, "Wechatpay-Timestamp");
	sh.nonce = req_header(rq, "Wechatpay-Nonce");
	sh.signature = req_header(rq, "Wechatpay-Signature");
	sh.serial = req_header(rq, "Wechatpay-Serial");
	sh.signature_type = req_header(rq, "Wechatpay-Signature-Type");
	rc = wxpay_verify_response(&k->keyset, &sh, rq->body.data ? rq->body.data : "", rq->body.len,
				   xq_now_ms() / 1000);
	if (rc) {
		log_warn("notify inbox %lld ('%s'): verification failed: %s", (long long)inbox_id,
			 notify_id, xq_strerror(rc));
		inbox_done(rq, inbox_id, "bad_signature", NULL, xq_strerror(rc));
		return answer(rq, 401, 0);
	}

	/* 3. decrypt (GCM tag checked) and read the transaction */
	buf_init(&pt, 1024 * 1024);
	rc = wxpay_notify_decrypt((const unsigned char *)rq->cfg->wx_apiv3_key,
				  rq->cfg->wx_apiv3_key ? strlen(rq->cfg->wx_apiv3_key) : 0,
				  rq->body.data, rq->body.len, &pt);
	if (!rc)
		rc = pay_txn_parse(pt.data, pt.len, &t);
	OPENSSL_cleanse(pt.data, pt.len);
	buf_release(&pt);
	if (rc) {
		log_warn("notify inbox %lld: cannot decrypt or read: %s", (long long)inbox_id,
			 xq_strerror(rc));
		inbox_done(rq, inbox_id, "bad_signature", NULL, xq_strerror(rc));
		return answer(rq, 400, 0);
	}
	if (strcmp(event_type, "TRANSACTION.SUCCESS") || strcmp(t.trade_state, "SUCCESS")) {
		/* refunds and other events are not ours to settle here (yet) */
		log_info("notify inbox %lld: event '%s' state '%s' ignored", (long long)inbox_id,
			 event_type, t.trade_state);
		inbox_done(rq, inbox_id, "ignored", t.out_trade_no, "");
		return answer(rq, 200, 1);
	}
	if ((rc = pay_txn_check(rq->cfg, &t))) {
		inbox_done(rq, inbox_id, "error", t.out_trade_no, "appid/mchid/currency mismatch");
		return answer(rq, 400, 0);
	}

	/* 4. credit once, and mark the inbox row in the same transaction */
	rc = pay_settle(rq->db, &t, inbox_id, &credited);
	if (rc == XQ_EPROTO || rc == XQ_ENOTFOUND) {
		inbox_done(rq, inbox_id, "error", t.out_trade_no,
			   rc == XQ_EPROTO ? "amount mismatch" : "unknown out_trade_no");
		return answer(rq, 400, 0);
	}
	if (rc) {
		log_error("notify inbox %lld ('%s'): settle failed: %s; left for retry",
			  (long long)inbox_id, t.out_trade_no, xq_strerror(rc));
		return answer(rq, 500, 0);
	}
	return answer(rq, 200, 1);
}
