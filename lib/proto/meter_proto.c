/*
 * meter_proto.c - the table of meter protocol drivers, the frame-hunting loop
 * every driver's parse() shares, and the BCD, address and time helpers the
 * drivers have in common. The protocols themselves live in dlt645.c,
 * modbus.c and cjt188.c.
 */
#include "meter_proto.h"
#include "cjt188.h"
#include "dlt645.h"
#include "modbus.h"
#include "proto_impl.h"

#include <string.h>

/* Every driver. Adding a protocol: write foo.c ending in proto_foo, add it here. */
/* clang-format off */
static const struct meter_proto *const protos[] = {
	&proto_dlt645,     /* DL/T 645-2007 electricity meters */
	&proto_dlt645_97,  /* DL/T 645-1997, older electricity meters */
	&proto_modbus_rtu, /* Modbus RTU, also RTU-over-TCP through transparent gateways */
	&proto_modbus_tcp, /* Modbus TCP (MBAP header, no CRC) */
	&proto_cjt188,     /* CJ/T 188-2004 water meters */
};
/* clang-format on */

const struct meter_proto *proto_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < XQ_ARRAY_LEN(protos); i++)
		if (strcmp(protos[i]->name, name) == 0)
			return protos[i];
	return NULL;
}

const struct meter_proto *const *proto_all(size_t *n)
{
	*n = XQ_ARRAY_LEN(protos);
	return protos;
}

int meter_scan(const uint8_t *buf, size_t len, enum meter_dir dir, scan_fn fn,
               struct meter_frame *f)
{
	size_t first_short = SIZE_MAX, need = 1;

	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < len; i++) {
		struct scan_cand c = {0, METER_DIR_ANY, NULL};

		switch (fn(buf + i, len - i, dir, &c)) {
		case SCAN_NONE:
			break;
		case SCAN_SHORT:
			/* Keep waiting for the first one, but keep looking: a stray
			 * start byte with a long length must not hide a whole
			 * frame that follows it. */
			if (first_short == SIZE_MAX) {
				first_short = i;
				need = c.len > len - i ? c.len - (len - i) : 1;
			}
			break;
		case SCAN_SKIP:
			if (c.len > 1)
				i += c.len - 1;
			break;
		case SCAN_OK:
			f->skip = i;
			f->start = i;
			f->len = c.len;
			f->consumed = i + c.len;
			f->dir = c.dir;
			return XQ_OK;
		case SCAN_BAD:
			/* Behind an undecided frame a bad one proves nothing yet;
			 * in front of everything it is reported and stepped over
			 * by one byte, so a frame starting inside it is found. */
			if (first_short == SIZE_MAX) {
				f->skip = i + 1;
				f->why = c.why;
				return XQ_EPROTO;
			}
			break;
		}
	}
	f->skip = first_short == SIZE_MAX ? len : first_short;
	f->need = need;
	return XQ_EAGAIN;
}

int meter_short_buf(size_t *len)
{
	*len = 0;
	return XQ_ETOOBIG;
}

int meter_bad(struct meter_values *out, const char *why)
{
	out->err_en = why;
	out->err_zh = "电表应答格式错误";
	return XQ_EPROTO;
}

size_t meter_preamble(const struct meter_req *req, size_t dflt)
{
	if (req->flags & MREQ_NO_PREAMBLE)
		return 0;
	if (req->preamble)
		return req->preamble > 16 ? 16 : req->preamble;
	return dflt;
}

int meter_bcd_get(const uint8_t *le, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n > 9)
		return XQ_EINVAL;
	for (size_t i = n; i-- > 0;) {
		int d = bcd_byte(le[i]);
		if (d < 0)
			return XQ_EPROTO;
		v = v * 100 + (uint64_t)d;
	}
	*out = v;
	return XQ_OK;
}

int meter_bcd_put(uint64_t v, uint8_t *le, size_t n)
{
	uint64_t x = v;

	for (size_t i = 0; i < n; i++) {
		le[i] = bcd_make((int)(x % 100));
		x /= 100;
	}
	return x ? XQ_EOVERFLOW : XQ_OK;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int meter_addr_parse_bcd(const char *text, size_t nbytes, struct meter_addr *out)
{
	char digits[2 * METER_ADDR_MAX];
	size_t n, ndig = 2 * nbytes;
	int wild = 0;

	if (!text || nbytes == 0 || nbytes > METER_ADDR_MAX)
		return XQ_EINVAL;
	n = strnlen(text, ndig + 1);
	if (n == 0 || n > ndig)
		return XQ_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (text[i] == 'A' || text[i] == 'a')
			wild = 1;
		else if (text[i] < '0' || text[i] > '9')
			return XQ_EINVAL;
	}
	/* Wildcards only make sense as whole bytes at fixed positions, so a
	 * wildcard address must be written out in full. */
	if (wild && n != ndig)
		return XQ_EINVAL;
	memset(digits, '0', ndig - n);
	memcpy(digits + (ndig - n), text, n);

	memset(out, 0, sizeof(*out));
	out->len = (uint8_t)nbytes;
	for (size_t i = 0; i < nbytes; i++) {
		const char *pair = digits + 2 * (nbytes - 1 - i);
		int hi = hexval(pair[0]), lo = hexval(pair[1]);

		if ((hi == 0xA) != (lo == 0xA))
			return XQ_EINVAL; /* "A5" is neither a digit pair nor a wildcard */
		out->b[i] = (uint8_t)(hi << 4 | lo);
	}
	return XQ_OK;
}

int meter_addr_format_bcd(const struct meter_addr *a, char *buf, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t k = 0;

	if (a->len > METER_ADDR_MAX || n < 2u * a->len + 1) {
		if (n)
			buf[0] = '\0';
		return XQ_ETOOBIG;
	}
	for (size_t i = a->len; i-- > 0;) {
		buf[k++] = hex[a->b[i] >> 4];
		buf[k++] = hex[a->b[i] & 0x0F];
	}
	buf[k] = '\0';
	return XQ_OK;
}

int meter_addr_valid_bcd(const struct meter_addr *a)
{
	for (size_t i = 0; i < a->len; i++)
		if (a->b[i] != METER_ADDR_WILD && bcd_byte(a->b[i]) < 0)
			return 0;
	return 1;
}

int meter_addr_match(const struct meter_addr *pattern, const struct meter_addr *a)
{
	if (pattern->len != a->len || pattern->len > METER_ADDR_MAX)
		return 0;
	if (pattern->type != METER_ADDR_WILD && pattern->type != a->type)
		return 0;
	for (size_t i = 0; i < pattern->len; i++)
		if (pattern->b[i] != METER_ADDR_WILD && pattern->b[i] != a->b[i])
			return 0;
	return 1;
}

int meter_time_valid(const struct meter_time *t)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int dim;

	if (t->year < 2000 || t->year > 2099 || t->mon < 1 || t->mon > 12)
		return 0;
	dim = mdays[t->mon - 1];
	/* 2000..2099: every fourth year is a leap year, 2000 included. */
	if (t->mon == 2 && t->year % 4 == 0)
		dim = 29;
	return t->day >= 1 && t->day <= dim && t->hour >= 0 && t->hour <= 23 && t->min >= 0 &&
	       t->min <= 59 && t->sec >= 0 && t->sec <= 59;
}
