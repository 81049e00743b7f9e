/*
 * test_reconcile.c - the trade bill parser on WeChat's published sample
 * (tests/data/tradebill/bill.ALL.csv, from wechatpay-php's fixtures: BOM,
 * CRLF, backticked fields, a summary whose count reads "45.0") and on
 * broken files. The expected figures were summed independently from the
 * file (Python Decimal) and match the fixture's own summary line.
 */
#include "reconcile.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *dir = "tests/data/tradebill";

static char *slurp(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	char *d;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	d = malloc((size_t)n + 1);
	if (fread(d, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	fclose(f);
	d[n] = '\0';
	*len = (size_t)n;
	return d;
}

TEST(real_sample)
{
	struct recon_bill b;
	char err[128];
	size_t len = 0, refunds = 0;
	int64_t order = 0, refund = 0, settle = 0;
	char *d = slurp("bill.ALL.csv", &len);

	CHECK(d != NULL);
	if (!d)
		return;
	CHECK_EQ_I64(recon_parse(d, len, &b, err, sizeof(err)), XQ_OK);
	CHECK_EQ_I64(b.n, 45);
	CHECK(b.has_summary);
	CHECK_EQ_I64(b.sum_count, 45);
	CHECK_EQ_I64(b.sum_settle_fen, 47);
	CHECK_EQ_I64(b.sum_refund_fen, 14);
	CHECK_EQ_I64(b.sum_order_fen, 47);
	for (size_t i = 0; i < b.n; i++) {
		refunds += (size_t)b.v[i].is_refund;
		order += b.v[i].order_fen;
		refund += b.v[i].refund_fen;
		settle += b.v[i].settle_fen;
	}
	CHECK_EQ_I64(refunds, 14);
	CHECK_EQ_I64(order, 47);
	CHECK_EQ_I64(refund, 14);
	CHECK_EQ_I64(settle, 47);
	/* the first line is a refund, the third a payment of 0.03 yuan */
	CHECK(b.v[0].is_refund);
	CHECK_STR(b.v[0].trade_time, "2019-02-19 05:01:46");
	CHECK_STR(b.v[0].out_trade_no, "autotest_20190216081946_82335");
	CHECK_STR(b.v[0].out_refund_no, "REF4200000263201902167700963919");
	CHECK_STR(b.v[0].refund_id, "50000709672019011908420787722");
	CHECK_STR(b.v[0].refund_status, "SUCCESS");
	CHECK_EQ_I64(b.v[0].refund_fen, 1);
	CHECK_EQ_I64(b.v[0].order_fen, 0);
	CHECK(!b.v[2].is_refund);
	CHECK_STR(b.v[2].out_trade_no, "autotest_20190219015232_89201");
	CHECK_STR(b.v[2].transaction_id, "4200000263201902167700134902");
	CHECK_STR(b.v[2].trade_state, "SUCCESS");
	CHECK_EQ_I64(b.v[2].order_fen, 3);
	CHECK_EQ_I64(b.v[2].settle_fen, 3);
	recon_bill_release(&b);
	free(d);
}

static int parse_text(const char *s)
{
	struct recon_bill b;
	char err[128];
	int rc = recon_parse(s, strlen(s), &b, err, sizeof(err));
	if (!rc)
		recon_bill_release(&b);
	return rc;
}

#define HDR "交易时间,微信订单号,商户订单号,交易状态,应结订单金额,订单金额\r\n"
#define SUM "总交易单数,应结订单总金额,订单总金额\r\n"

TEST(broken_files)
{
	struct recon_bill b;
	char err[128];
	const char *ok = HDR "`2026-01-02 10:00:00,`4200,`XQ1,`SUCCESS,`1.50,`1.50\r\n" SUM "`1,`1.50,`1.50\r\n";

	CHECK_EQ_I64(recon_parse(ok, strlen(ok), &b, err, sizeof(err)), XQ_OK);
	CHECK_EQ_I64(b.n, 1);
	CHECK_EQ_I64(b.v[0].order_fen, 150);
	CHECK_EQ_I64(b.sum_count, 1);
	recon_bill_release(&b);
	/* no header, a missing backtick, a field too few, three decimals, junk amount */
	CHECK_EQ_I64(parse_text(""), XQ_EINVAL);
	CHECK_EQ_I64(parse_text("a,b,c\r\n"), XQ_EINVAL);
	CHECK_EQ_I64(parse_text(HDR "`2026-01-02 10:00:00,4200,`XQ1,`SUCCESS,`1.50,`1.50\r\n"), XQ_EINVAL);
	CHECK_EQ_I64(parse_text(HDR "`2026-01-02 10:00:00,`4200,`XQ1,`SUCCESS,`1.50\r\n"), XQ_EINVAL);
	CHECK_EQ_I64(parse_text(HDR "`2026-01-02 10:00:00,`4200,`XQ1,`SUCCESS,`1.505,`1.50\r\n"), XQ_EINVAL);
	CHECK_EQ_I64(parse_text(HDR "`2026-01-02 10:00:00,`4200,`XQ1,`SUCCESS,`1e3,`1.50\r\n"), XQ_EINVAL);
	/* a count with a fraction is not a count */
	CHECK_EQ_I64(parse_text(HDR SUM "`1.5,`0.00,`0.00\r\n"), XQ_EINVAL);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		dir = argv[1];
	RUN(real_sample);
	RUN(broken_files);
	return test_report();
}
