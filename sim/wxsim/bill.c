/*
 * bill.c - the daily trade bill (§12) from the sim's own ledger: apply with
 * GET /v3/bill/tradebill (signed answer with SHA-1 and a download_url valid
 * 5 minutes), then GET /v3/billdownload/file (signed request, unsigned raw
 * answer, gzip on request). The file copies the layout of WeChat's sample
 * (/work/shared/vectors/wechat/bill.ALL.csv): UTF-8 BOM, CRLF, plain header
 * lines, every detail/summary field prefixed with a backtick, amounts in yuan
 * with 2 decimals, fee with 5, times in Beijing time. Payments appear on the
 * day they succeeded, refunds on the day they were requested.
 */
#include "wxsim.h"
#include "log.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define DAY_MS (24 * 3600 * 1000LL)
#define BILL_URL_TTL_MS (5 * 60 * 1000LL) /* §12.1: 5 minutes (older pages: 30 s, §20.5) */
#define BILL_MAX_AGE_DAYS 90		  /* "within the last 3 months" */
#define BILL_READY_HOUR 10		  /* yesterday's bill exists from 10:00 Beijing */
#define FEE_RATE_PERMILLE 6		  /* 0.60 % */

DB_QUERY(q_bill_lines) = {
	"wxsim_bill_lines",
	"SELECT success_ms AS t, appid, mchid, transaction_id, out_trade_no, openid, 'SUCCESS',"
	" amount_total_fen, '', '', 0, '', description, attach, 0, device_id, success_ms"
	" FROM sim_order WHERE mchid = ? AND success_ms >= ? AND success_ms < ?"
	" UNION ALL"
	" SELECT r.created_ms, o.appid, o.mchid, o.transaction_id, o.out_trade_no, o.openid,"
	" 'REFUND', o.amount_total_fen, r.refund_id, r.out_refund_no, r.refund_fen, r.status,"
	" o.description, o.attach, r.success_ms, o.device_id, o.success_ms"
	" FROM sim_refund r JOIN sim_order o ON o.id = r.order_id"
	" WHERE r.mchid = ? AND r.created_ms >= ? AND r.created_ms < ?"
	" ORDER BY 1",
	"sllsll", "lsssssslsslssslsl",
};

DB_QUERY(q_bill_add) = {
	"wxsim_bill_add",
	"INSERT INTO sim_bill (token, mchid, bill_date, bill_type, tar_type, content, sha1,"
	" created_ms, expires_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
	"sssssssll", NULL,
};

DB_QUERY(q_bill_get) = {
	"wxsim_bill_get",
	"SELECT mchid, tar_type, content, expires_ms FROM sim_bill WHERE token = ?",
	"s", "sssl",
};

/* The 29 columns of the REFUND bill; ALL and SUCCESS are subsets (§12.3). */
enum col {
	C_TIME, C_APPID, C_MCHID, C_SUBMCH, C_DEVICE, C_TID, C_OTN, C_OPENID, C_TYPE, C_STATE,
	C_BANK, C_CURRENCY, C_SETTLE, C_COUPON, C_REFUND_APPLY_TIME, C_REFUND_SUCCESS_TIME,
	C_REFUND_ID, C_ORN, C_REFUND, C_RECHARGE_REFUND, C_REFUND_TYPE, C_REFUND_STATE, C_GOODS,
	C_ATTACH, C_FEE, C_RATE, C_ORDER_AMOUNT, C_REFUND_APPLIED, C_RATE_NOTE, NCOLS
};

static const char *const col_names[NCOLS] = {
	"交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号",
	"用户标识", "交易类型", "交易状态", "付款银行", "货币种类", "应结订单金额", "代金券金额",
	"退款申请时间", "退款成功时间", "微信退款单号", "商户退款单号", "退款金额", "充值券退款金额",
	"退款类型", "退款状态", "商品名称", "商户数据包", "手续费", "费率", "订单金额",
	"申请退款金额", "费率备注",
};

static const int cols_all[] = { C_TIME, C_APPID, C_MCHID, C_SUBMCH, C_DEVICE, C_TID, C_OTN,
				C_OPENID, C_TYPE, C_STATE, C_BANK, C_CURRENCY, C_SETTLE, C_COUPON,
				C_REFUND_ID, C_ORN, C_REFUND, C_RECHARGE_REFUND, C_REFUND_TYPE,
				C_REFUND_STATE, C_GOODS, C_ATTACH, C_FEE, C_RATE, C_ORDER_AMOUNT,
				C_REFUND_APPLIED, C_RATE_NOTE, -1 };
static const int cols_success[] = { C_TIME, C_APPID, C_MCHID, C_SUBMCH, C_DEVICE, C_TID, C_OTN,
				    C_OPENID, C_TYPE, C_STATE, C_BANK, C_CURRENCY, C_SETTLE,
				    C_COUPON, C_GOODS, C_ATTACH, C_FEE, C_RATE, C_ORDER_AMOUNT,
				    C_RATE_NOTE, -1 };
static const int cols_refund[] = { C_TIME, C_APPID, C_MCHID, C_SUBMCH, C_DEVICE, C_TID, C_OTN,
				   C_OPENID, C_TYPE, C_STATE, C_BANK, C_CURRENCY, C_SETTLE,
				   C_COUPON, C_REFUND_APPLY_TIME, C_REFUND_SUCCESS_TIME, C_REFUND_ID,
				   C_ORN, C_REFUND, C_RECHARGE_REFUND, C_REFUND_TYPE, C_REFUND_STATE,
				   C_GOODS, C_ATTACH, C_FEE, C_RATE, C_ORDER_AMOUNT, C_REFUND_APPLIED,
				   C_RATE_NOTE, -1 };

/* Appends a field value: one line per record, so no CR/LF; ',' would split the field. */
static void put_text(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\r' || *s == '\n')
			buf_puts(b, " ");
		else if (*s == ',')
			buf_puts(b, "\xef\xbc\x8c"); /* full-width comma */
		else
			buf_append(b, s, 1);
	}
}

/* Fee on a payment, fen, rounded half up (0.60 %). */
static int64_t fee_fen(int64_t total_fen)
{
	return (total_fen * FEE_RATE_PERMILLE + 500) / 1000;
}

struct sums {
	int64_t n, settle, refund, fee, order, refund_applied;
};

/* Renders the whole bill file into out. Returns the number of detail lines. */
static int64_t render(const struct db_res *r, const char *type, struct buf *out)
{
	const int *cols = !strcmp(type, "SUCCESS") ? cols_success
			  : !strcmp(type, "REFUND") ? cols_refund : cols_all;
	struct sums s = { 0 };
	char v[NCOLS][64];
	char yuan[24];

	buf_puts(out, "\xef\xbb\xbf"); /* BOM */
	for (int i = 0; cols[i] >= 0; i++) {
		if (i)
			buf_puts(out, ",");
		buf_puts(out, col_names[cols[i]]);
	}
	buf_puts(out, "\r\n");
	for (size_t row = 0; row < r->nrows; row++) {
		int refund = !strcmp(db_str(r, row, 6), "REFUND");
		int64_t total = db_i64(r, row, 7), ramount = db_i64(r, row, 10);
		int64_t fee = refund ? 0 : fee_fen(total);
		const char *goods = db_str(r, row, 12), *attach = db_str(r, row, 13);

		if ((!strcmp(type, "SUCCESS") && refund) || (!strcmp(type, "REFUND") && !refund))
			continue;
		memset(v, 0, sizeof(v));
		sim_bill_time((!strcmp(type, "REFUND") ? db_i64(r, row, 16) : db_i64(r, row, 0)) / 1000,
			      v[C_TIME]);
		xq_snprintf(v[C_APPID], 64, "%.63s", db_str(r, row, 1));
		xq_snprintf(v[C_MCHID], 64, "%.63s", db_str(r, row, 2));
		xq_snprintf(v[C_SUBMCH], 64, "0");
		xq_snprintf(v[C_DEVICE], 64, "%.63s", db_str(r, row, 15) ? db_str(r, row, 15) : "");
		xq_snprintf(v[C_TID], 64, "%.63s", db_str(r, row, 3));
		xq_snprintf(v[C_OTN], 64, "%.63s", db_str(r, row, 4));
		xq_snprintf(v[C_OPENID], 64, "%.63s", db_str(r, row, 5));
		xq_snprintf(v[C_TYPE], 64, "JSAPI");
		xq_snprintf(v[C_STATE], 64, "%s", refund ? "REFUND" : "SUCCESS");
		xq_snprintf(v[C_BANK], 64, "OTHERS");
		xq_snprintf(v[C_CURRENCY], 64, "CNY");
		sim_yuan(refund ? 0 : total, v[C_SETTLE], 64);
		xq_snprintf(v[C_COUPON], 64, "0.00");
		if (refund) {
			sim_bill_time(db_i64(r, row, 0) / 1000, v[C_REFUND_APPLY_TIME]);
			if (!strcmp(db_str(r, row, 11), "SUCCESS"))
				sim_bill_time(db_i64(r, row, 14) / 1000, v[C_REFUND_SUCCESS_TIME]);
			xq_snprintf(v[C_REFUND_ID], 64, "%.63s", db_str(r, row, 8));
			xq_snprintf(v[C_ORN], 64, "%.63s", db_str(r, row, 9));
			xq_snprintf(v[C_REFUND_TYPE], 64, "ORIGINAL");
			xq_snprintf(v[C_REFUND_STATE], 64, "%.63s", db_str(r, row, 11));
		} else {
			xq_snprintf(v[C_REFUND_ID], 64, "0");
			xq_snprintf(v[C_ORN], 64, "0");
		}
		sim_yuan(refund ? ramount : 0, v[C_REFUND], 64);
		xq_snprintf(v[C_RECHARGE_REFUND], 64, "0.00");
		xq_snprintf(v[C_FEE], 64, "%lld.%02lld000", (long long)(fee / 100), (long long)(fee % 100));
		xq_snprintf(v[C_RATE], 64, "%d.%02d%%", FEE_RATE_PERMILLE / 10, (FEE_RATE_PERMILLE % 10) * 10);
		sim_yuan(refund ? 0 : total, v[C_ORDER_AMOUNT], 64);
		sim_yuan(refund ? ramount : 0, v[C_REFUND_APPLIED], 64);
		s.n++;
		s.settle += refund ? 0 : total;
		s.refund += refund ? ramount : 0;
		s.fee += fee;
		s.order += refund ? 0 : total;
		s.refund_applied += refund ? ramount : 0;
		for (int i = 0; cols[i] >= 0; i++) {
			buf_puts(out, i ? ",`" : "`");
			if (cols[i] == C_GOODS)
				put_text(out, goods);
			else if (cols[i] == C_ATTACH)
				put_text(out, attach);
			else
				buf_puts(out, v[cols[i]]);
		}
		buf_puts(out, "\r\n");
	}
	if (!strcmp(type, "SUCCESS")) {
		buf_puts(out, "总交易单数,应结订单总金额,手续费总金额,订单总金额\r\n");
		buf_printf(out, "`%lld", (long long)s.n);
		sim_yuan(s.settle, yuan, sizeof(yuan));
		buf_printf(out, ",`%s", yuan);
		sim_yuan(s.fee, yuan, sizeof(yuan));
		buf_printf(out, ",`%s", yuan);
		sim_yuan(s.order, yuan, sizeof(yuan));
		buf_printf(out, ",`%s\r\n", yuan);
	} else {
		int64_t vals[6] = { s.settle, s.refund, 0, s.fee, s.order, s.refund_applied };
		buf_puts(out, "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,"
			      "订单总金额,申请退款总金额\r\n");
		buf_printf(out, "`%lld", (long long)s.n);
		for (int i = 0; i < 6; i++) {
			sim_yuan(vals[i], yuan, sizeof(yuan));
			buf_printf(out, ",`%s", yuan);
		}
		buf_puts(out, "\r\n");
	}
	return s.n;
}

static void sha1_hex(const char *data, size_t n, char out[41])
{
	unsigned char md[20];
	unsigned int mdlen = 0;
	EVP_Digest(data, n, md, &mdlen, EVP_sha1(), NULL);
	xq_hex(md, sizeof(md), out);
}

int bill_tradebill(struct req *rq)
{
	const char *date = req_query(rq, "bill_date"), *type = req_query(rq, "bill_type");
	const char *tar = req_query(rq, "tar_type"), *host = req_env(rq, "HTTP_HOST");
	const char *scheme = req_env(rq, "REQUEST_SCHEME"), *port = req_env(rq, "SERVER_PORT");
	int64_t day, now = xq_now_ms(), today, n;
	struct db_res r;
	struct buf file, url;
	char sha[41], token[33], today_s[11];
	cJSON *o;
	int st, rc;

	if ((st = pay_auth(rq, NULL)))
		return st;
	if (!date)
		return pay_param_error(rq, "bill_date", "缺少参数bill_date", "query");
	if (sim_parse_bj_date(date, &day))
		return pay_param_error(rq, "bill_date", "bill_date格式为YYYY-MM-DD", "query");
	if (!type)
		type = "ALL";
	if (strcmp(type, "ALL") && strcmp(type, "SUCCESS") && strcmp(type, "REFUND"))
		return pay_param_error(rq, "bill_type", "bill_type须为ALL、SUCCESS或REFUND", "query");
	if (tar && strcmp(tar, "GZIP") != 0)
		return pay_param_error(rq, "tar_type", "tar_type只能为GZIP", "query");
	sim_bj_date(now / 1000, today_s);
	sim_parse_bj_date(today_s, &today);
	if (day >= today)
		return pay_param_error(rq, "bill_date", "只能下载今天以前的账单", "query");
	if (day < today - BILL_MAX_AGE_DAYS * 86400)
		return pay_param_error(rq, "bill_date", "只能下载三个月以内的账单", "query");
	/* yesterday's bill is generated from 09:00 and ready after 10:00 Beijing time */
	if (day == today - 86400 && now / 1000 < today + BILL_READY_HOUR * 3600)
		return pay_fail(rq, 400, "STATEMENT_CREATING", "账单生成中", NULL, 0);
	if (db_run(rq->db, &q_bill_lines, &r, wxsim.cfg.wx_mchid, day * 1000, day * 1000 + DAY_MS,
		   wxsim.cfg.wx_mchid, day * 1000, day * 1000 + DAY_MS))
		return pay_fail(rq, 500, "SYSTEM_ERROR", "系统错误", NULL, 0);
	buf_init(&file, 64u << 20);
	n = render(&r, type, &file);
	db_res_release(&r);
	if (n == 0) {
		buf_release(&file);
		return pay_fail(rq, 400, "NO_STATEMENT_EXIST", "请求的账单文件不存在", NULL, 0);
	}
	sha1_hex(file.data, file.len, sha);
	sim_random_str(token, 32, SIM_ALNUM);
	rc = db_run(rq->db, &q_bill_add, NULL, token, wxsim.cfg.wx_mchid, date, type,
		    tar ? "GZIP" : "", file.data, sha, now, now + BILL_URL_TTL_MS);
	buf_release(&file);
	if (rc)
		return pay_fail(rq, 500, "SYSTEM_ERROR", "系统错误", NULL, 0);
	/* the download_url names this host as the client reached it */
	buf_init(&url, 4096);
	if (!scheme || !*scheme)
		scheme = "http";
	buf_printf(&url, "%s://%s", scheme, host && *host ? host : "127.0.0.1");
	/* Debian's fastcgi_params passes $host, which drops the port: add it back */
	if (host && !strchr(host, ':') && port && *port &&
	    strcmp(port, !strcmp(scheme, "https") ? "443" : "80") != 0)
		buf_printf(&url, ":%s", port);
	buf_printf(&url, "/v3/billdownload/file?token=%s", token);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "hash_type", "SHA1");
	cJSON_AddStringToObject(o, "hash_value", sha);
	cJSON_AddStringToObject(o, "download_url", url.data);
	buf_release(&url);
	log_info("wxsim: %s bill of %s: %lld lines", type, date, (long long)n);
	return pay_ok(rq, 200, o);
}

/* gzip (RFC 1952) of in, into out. */
static int gzip_buf(const char *in, size_t n, struct buf *out)
{
	z_stream z;
	unsigned char chunk[16384];
	int zrc;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return XQ_ERROR;
	z.next_in = (unsigned char *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		zrc = deflate(&z, Z_FINISH);
		if (zrc == Z_STREAM_ERROR || buf_append(out, chunk, sizeof(chunk) - z.avail_out)) {
			deflateEnd(&z);
			return XQ_ERROR;
		}
	} while (zrc != Z_STREAM_END);
	deflateEnd(&z);
	return XQ_OK;
}

int bill_download(struct req *rq)
{
	const char *token = req_query(rq, "token");
	struct db_res r;
	struct buf gz;
	int st;

	if ((st = pay_auth(rq, NULL)))
		return st;
	if (!token || !*token)
		return pay_param_error(rq, "token", "缺少参数token", "query");
	if (db_run(rq->db, &q_bill_get, &r, token))
		return pay_fail(rq, 500, "SYSTEM_ERROR", "系统错误", NULL, 0);
	if (!r.nrows || db_i64(&r, 0, 3) <= xq_now_ms() ||
	    strcmp(db_str(&r, 0, 0), wxsim.cfg.wx_mchid) != 0) {
		db_res_release(&r);
		return pay_fail(rq, 400, "INVALID_REQUEST", "下载链接已失效，请重新申请账单", NULL, 0);
	}
	/* the file itself is not signed (§12.2): check it by hash_value instead */
	sim_request_id(rq, 0);
	if (!strcmp(db_str(&r, 0, 1), "GZIP")) {
		buf_init(&gz, 64u << 20);
		if (gzip_buf(db_str(&r, 0, 2), strlen(db_str(&r, 0, 2)), &gz)) {
			buf_release(&gz);
			db_res_release(&r);
			return pay_fail(rq, 500, "SYSTEM_ERROR", "系统错误", NULL, 0);
		}
		sim_send_raw(rq, 200, "application/octet-stream", gz.data, gz.len);
		buf_release(&gz);
	} else {
		sim_send_raw(rq, 200, "text/plain", db_str(&r, 0, 2), strlen(db_str(&r, 0, 2)));
	}
	db_res_release(&r);
	return 200;
}
