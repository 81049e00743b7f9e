/*
 * dlt645.c - DL/T 645-2007 and DL/T 645-1997 electricity meter frames: the
 * two drivers proto_dlt645 and proto_dlt645_97, request builders, reply
 * encoders for the simulator, and value decoders that check every BCD digit.
 * The dialects share the frame, the +0x33 scrambling and the checksum; 1997
 * differs in function codes, 2-byte DIs and the ERR bit meanings.
 * No I/O here: links and timing belong to the collector.
 */
#include "dlt645.h"
#include "proto_impl.h"

#include <string.h>

#define START    0x68
#define END      0x16
#define SCRAMBLE 0x33

static const uint8_t addr_bcast[DLT645_ADDR_LEN] = {0x99, 0x99, 0x99, 0x99, 0x99, 0x99};
static const uint8_t addr_wild[DLT645_ADDR_LEN] = {0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA};

/*
 * Framing
 */

int dlt645_encode(uint8_t *buf, size_t cap, size_t *len, size_t preamble,
                  const uint8_t addr[DLT645_ADDR_LEN], uint8_t control, const uint8_t *plain,
                  size_t n)
{
	size_t k = preamble;
	uint8_t cs = 0;

	*len = 0;
	/* Never emit a frame our own parser would refuse. */
	if (!addr || n > DLT645_DATA_MAX || preamble > 16 || (n && !plain))
		return XQ_EINVAL;
	if (cap < preamble + 12 + n)
		return meter_short_buf(len);
	memset(buf, 0xFE, preamble);
	buf[k++] = START;
	memcpy(buf + k, addr, DLT645_ADDR_LEN);
	k += DLT645_ADDR_LEN;
	buf[k++] = START;
	buf[k++] = control;
	buf[k++] = (uint8_t)n;
	for (size_t i = 0; i < n; i++)
		buf[k++] = (uint8_t)(plain[i] + SCRAMBLE);
	for (size_t i = preamble; i < k; i++)
		cs = (uint8_t)(cs + buf[i]);
	buf[k++] = cs;
	buf[k++] = END;
	*len = k;
	return XQ_OK;
}

/* Receiver algorithm of doc 2.11: 68 .. 68 six bytes apart, then L, CS, 16. */
static enum scan_verdict dlt645_cand(const uint8_t *p, size_t avail, enum meter_dir dir,
                                     struct scan_cand *c)
{
	size_t flen;
	uint8_t cs = 0;

	if (p[0] != START)
		return SCAN_NONE;
	c->len = 12;
	if (avail < 8)
		return SCAN_SHORT;
	if (p[7] != START)
		return SCAN_NONE;
	if (avail < 10)
		return SCAN_SHORT;
	if (p[9] > DLT645_DATA_MAX) {
		c->why = "length field over 200";
		return SCAN_BAD;
	}
	flen = 12 + (size_t)p[9];
	c->len = flen;
	if (avail < flen)
		return SCAN_SHORT;
	for (size_t i = 0; i < flen - 2; i++)
		cs = (uint8_t)(cs + p[i]);
	if (cs != p[flen - 2]) {
		c->why = "bad checksum";
		return SCAN_BAD;
	}
	if (p[flen - 1] != END) {
		c->why = "no end byte 0x16";
		return SCAN_BAD;
	}
	c->dir = (p[8] & DLT645_C_REPLY) ? METER_DIR_REPLY : METER_DIR_REQUEST;
	/* A master hears its own request echoed by half-duplex converters;
	 * a meter hears the other meters' replies. Neither is for us. */
	if (dir != METER_DIR_ANY && dir != c->dir)
		return SCAN_SKIP;
	return SCAN_OK;
}

int dlt645_parse(const uint8_t *buf, size_t len, enum meter_dir dir, struct meter_frame *f)
{
	const uint8_t *p;
	int rc = meter_scan(buf, len, dir, dlt645_cand, f);

	if (rc != XQ_OK)
		return rc;
	p = buf + f->start;
	f->addr.len = DLT645_ADDR_LEN;
	memcpy(f->addr.b, p + 1, DLT645_ADDR_LEN);
	f->control = p[8];
	f->data_len = p[9];
	for (size_t i = 0; i < f->data_len; i++)
		f->data[i] = (uint8_t)(p[10 + i] - SCRAMBLE);
	return XQ_OK;
}

int dlt645_frame_di(const struct meter_frame *f, uint32_t *di)
{
	if (f->data_len < 4)
		return XQ_EPROTO;
	*di = (uint32_t)f->data[0] | (uint32_t)f->data[1] << 8 | (uint32_t)f->data[2] << 16 |
	      (uint32_t)f->data[3] << 24;
	return XQ_OK;
}

int dlt645_97_frame_di(const struct meter_frame *f, uint16_t *di)
{
	if (f->data_len < 2)
		return XQ_EPROTO;
	*di = (uint16_t)(f->data[0] | f->data[1] << 8);
	return XQ_OK;
}

/*
 * Request builders
 */

static void put_di(uint8_t *p, uint32_t di)
{
	p[0] = (uint8_t)di;
	p[1] = (uint8_t)(di >> 8);
	p[2] = (uint8_t)(di >> 16);
	p[3] = (uint8_t)(di >> 24);
}

int dlt645_build_read(uint8_t *buf, size_t cap, size_t *len, size_t preamble,
                      const uint8_t addr[DLT645_ADDR_LEN], uint32_t di)
{
	uint8_t d[4];

	put_di(d, di);
	return dlt645_encode(buf, cap, len, preamble, addr, DLT645_F_READ, d, sizeof(d));
}

int dlt645_97_build_read(uint8_t *buf, size_t cap, size_t *len, size_t preamble,
                         const uint8_t addr[DLT645_ADDR_LEN], uint16_t di)
{
	uint8_t d[2] = {(uint8_t)di, (uint8_t)(di >> 8)};

	return dlt645_encode(buf, cap, len, preamble, addr, DLT645_97_F_READ, d, sizeof(d));
}

int dlt645_build_read_addr(uint8_t *buf, size_t cap, size_t *len, size_t preamble)
{
	return dlt645_encode(buf, cap, len, preamble, addr_wild, DLT645_F_READ_ADDR, NULL, 0);
}

static void put_time6(uint8_t *d, const struct meter_time *t)
{
	d[0] = bcd_make(t->sec);
	d[1] = bcd_make(t->min);
	d[2] = bcd_make(t->hour);
	d[3] = bcd_make(t->day);
	d[4] = bcd_make(t->mon);
	d[5] = bcd_make(t->year - 2000);
}

/* ss mm hh DD MM YY -> t; XQ_EPROTO on bad BCD or an impossible date. */
static int get_time6(const uint8_t *d, struct meter_time *t)
{
	int v[6];

	for (int i = 0; i < 6; i++)
		if ((v[i] = bcd_byte(d[i])) < 0)
			return XQ_EPROTO;
	t->sec = v[0];
	t->min = v[1];
	t->hour = v[2];
	t->day = v[3];
	t->mon = v[4];
	t->year = 2000 + v[5];
	return meter_time_valid(t) ? XQ_OK : XQ_EPROTO;
}

int dlt645_build_time(uint8_t *buf, size_t cap, size_t *len, size_t preamble,
                      const uint8_t addr[DLT645_ADDR_LEN], const struct meter_time *t)
{
	uint8_t d[6];

	*len = 0;
	if (!t || !meter_time_valid(t))
		return XQ_EINVAL;
	put_time6(d, t);
	return dlt645_encode(buf, cap, len, preamble, addr ? addr : addr_bcast, DLT645_F_BCAST_TIME,
	                     d, sizeof(d));
}

static int ctl_cmd_known(uint8_t cmd)
{
	switch (cmd) {
	case DLT645_CTL_TRIP:
	case DLT645_CTL_CLOSE_ALLOW:
	case DLT645_CTL_CLOSE_NOW:
	case DLT645_CTL_ALARM:
	case DLT645_CTL_ALARM_OFF:
	case DLT645_CTL_PROTECT_ON:
	case DLT645_CTL_PROTECT_OFF:
		return 1;
	}
	return 0;
}

int dlt645_build_control(uint8_t *buf, size_t cap, size_t *len, size_t preamble,
                         const uint8_t addr[DLT645_ADDR_LEN], const struct dlt645_control *c)
{
	uint8_t d[16];

	*len = 0;
	/* PA 98/99 means ESAM-encrypted content, which plaintext cannot give. */
	if (!c || !addr || c->pa == 0x98 || c->pa == 0x99 || c->password > 999999 ||
	    !ctl_cmd_known(c->cmd) || !meter_time_valid(&c->deadline))
		return XQ_EINVAL;
	/* A relay command to every meter at once is never what anyone means. */
	if (memcmp(addr, addr_bcast, DLT645_ADDR_LEN) == 0 ||
	    memcmp(addr, addr_wild, DLT645_ADDR_LEN) == 0)
		return XQ_EINVAL;
	d[0] = c->pa;
	meter_bcd_put(c->password, d + 1, 3);
	memcpy(d + 4, c->op, 4);
	d[8] = c->cmd;
	d[9] = 0x00; /* N2 reserved */
	put_time6(d + 10, &c->deadline);
	return dlt645_encode(buf, cap, len, preamble, addr, DLT645_F_CONTROL, d, sizeof(d));
}

/*
 * Values
 */

int dlt645_decode_number(const uint8_t *val, size_t n, int is_signed, int64_t *out)
{
	uint8_t tmp[8];
	uint64_t v;
	int neg = 0;

	if (!val || n == 0 || n > sizeof(tmp))
		return XQ_EINVAL;
	memcpy(tmp, val, n);
	if (is_signed && (tmp[n - 1] & 0x80)) {
		neg = 1;
		tmp[n - 1] &= 0x7F;
	}
	if (meter_bcd_get(tmp, n, &v) != XQ_OK)
		return XQ_EPROTO;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return XQ_OK;
}

int dlt645_decode_ascii(const uint8_t *val, size_t n, char *out, size_t cap)
{
	size_t k = 0;
	int ended = 0;

	if (cap == 0)
		return XQ_ETOOBIG;
	out[0] = '\0';
	/* Sent last character first with 00 padding at the high end: walk
	 * the wire bytes backwards and stop at the padding. */
	for (size_t i = n; i-- > 0;) {
		uint8_t ch = val[i];

		if (ch == 0) {
			ended = 1;
			continue;
		}
		if (ended || ch < 0x20 || ch > 0x7E)
			return XQ_EPROTO; /* text after padding, or not text */
		if (k + 1 >= cap)
			return XQ_ETOOBIG;
		out[k++] = (char)ch;
	}
	out[k] = '\0';
	return XQ_OK;
}

/* Known non-energy items (doc 2.4). Energy DIs follow a rule, not a list. */
/* clang-format off */
static const struct dlt645_item items[] = {
	/* DI, value bytes, format, implied decimals, name, unit */
	{ 0x02010100u, 2, DLT645_FMT_BCD, 1, "voltage A", "V" },
	{ 0x02010200u, 2, DLT645_FMT_BCD, 1, "voltage B", "V" },
	{ 0x02010300u, 2, DLT645_FMT_BCD, 1, "voltage C", "V" },
	{ 0x02020100u, 3, DLT645_FMT_SBCD, 3, "current A", "A" },
	{ 0x02020200u, 3, DLT645_FMT_SBCD, 3, "current B", "A" },
	{ 0x02020300u, 3, DLT645_FMT_SBCD, 3, "current C", "A" },
	{ 0x02030000u, 3, DLT645_FMT_SBCD, 4, "active power", "kW" },
	{ 0x02030100u, 3, DLT645_FMT_SBCD, 4, "active power A", "kW" },
	{ 0x02030200u, 3, DLT645_FMT_SBCD, 4, "active power B", "kW" },
	{ 0x02030300u, 3, DLT645_FMT_SBCD, 4, "active power C", "kW" },
	{ 0x02040000u, 3, DLT645_FMT_SBCD, 4, "reactive power", "kvar" },
	{ 0x02050000u, 3, DLT645_FMT_SBCD, 4, "apparent power", "kVA" },
	{ 0x02060000u, 2, DLT645_FMT_SBCD, 3, "power factor", "" },
	{ 0x02800001u, 3, DLT645_FMT_BCD, 3, "neutral current", "A" },
	{ 0x02800002u, 2, DLT645_FMT_BCD, 2, "grid frequency", "Hz" },
	{ 0x02800003u, 3, DLT645_FMT_BCD, 4, "one-minute average power", "kW" },
	{ 0x02800004u, 3, DLT645_FMT_BCD, 4, "active demand", "kW" },
	{ 0x02800007u, 2, DLT645_FMT_SBCD, 1, "meter temperature", "C" },
	{ 0x02800008u, 2, DLT645_FMT_BCD, 2, "clock battery voltage", "V" },
	{ 0x04000101u, 4, DLT645_FMT_DATE, 0, "date and weekday", "" },
	{ 0x04000102u, 3, DLT645_FMT_TIME, 0, "time", "" },
	{ 0x04000103u, 1, DLT645_FMT_BCD, 0, "demand period", "min" },
	{ 0x04000204u, 1, DLT645_FMT_BCD, 0, "number of tariffs", "" },
	{ 0x04000401u, 6, DLT645_FMT_BCD, 0, "communication address", "" },
	{ 0x04000402u, 6, DLT645_FMT_BCD, 0, "meter number", "" },
	{ 0x04000403u, 32, DLT645_FMT_ASCII, 0, "asset number", "" },
	{ 0x04000404u, 6, DLT645_FMT_ASCII, 0, "rated voltage", "" },
	{ 0x04000405u, 6, DLT645_FMT_ASCII, 0, "rated current", "" },
	{ 0x04000406u, 6, DLT645_FMT_ASCII, 0, "maximum current", "" },
	{ 0x04000407u, 4, DLT645_FMT_ASCII, 0, "active accuracy class", "" },
	{ 0x04000409u, 3, DLT645_FMT_BCD, 0, "active constant", "imp/kWh" },
	{ 0x0400040Bu, 10, DLT645_FMT_ASCII, 0, "meter model", "" },
	{ 0x0400040Cu, 10, DLT645_FMT_ASCII, 0, "production date", "" },
	{ 0x0400040Du, 16, DLT645_FMT_ASCII, 0, "protocol version", "" },
	{ 0x04000501u, 2, DLT645_FMT_BITS, 0, "run status word 1", "" },
	{ 0x04000503u, 2, DLT645_FMT_BITS, 0, "run status word 3", "" },
	{ 0x04000601u, 1, DLT645_FMT_BITS, 0, "active combination word", "" },
	{ 0x04000703u, 1, DLT645_FMT_BITS, 0, "port 1 baud feature byte", "" },
	{ 0x04000B01u, 2, DLT645_FMT_BCD, 0, "first settlement day (DDhh)", "" },
};
/* clang-format on */

const struct dlt645_item *dlt645_item_find(uint32_t di)
{
	for (size_t i = 0; i < XQ_ARRAY_LEN(items); i++)
		if (items[i].di == di)
			return &items[i];
	return NULL;
}

/*
 * n value bytes -> out. A block (total, then tariff 1..k) or one value that
 * belongs to tariff rr (0 = total). 0.01 kWh is exactly 10 Wh.
 */
static int decode_energy_vals(const uint8_t *val, size_t n, int block, int rr, int is_signed,
                              struct meter_values *out)
{
	size_t count = n / 4;

	if (block ? (n < 4 || n % 4) : n != 4)
		return meter_bad(out, "energy value length is not 4 or 4 x (1 + k)");
	for (size_t i = 0; i < count; i++) {
		int64_t h;
		int slot = block ? (int)i : rr; /* 0 total, 1.. tariffs */

		if (dlt645_decode_number(val + 4 * i, 4, is_signed, &h) != XQ_OK)
			return meter_bad(out, "bad BCD in energy value");
		if (slot == 0) {
			out->total_wh = h * 10;
			out->raw = h;
			out->have |= MV_HAVE_WH;
		} else if (slot <= METER_RATES) {
			out->rate_wh[slot - 1] = h * 10;
			out->have_rates |= 1u << (slot - 1);
		} else if (!block) {
			out->raw = h; /* a tariff beyond the four we bill */
		}
	}
	if (block)
		out->nrates = (int)count - 1;
	return XQ_OK;
}

int dlt645_decode_energy(uint32_t di, const uint8_t *val, size_t n, struct meter_values *out)
{
	unsigned di3 = di >> 24, tt = (di >> 16) & 0xFF, rr = (di >> 8) & 0xFF;

	if (di3 == 0x00) {
		/* combined active and combined reactive 1/2 are signed (2.4) */
		int is_signed = tt == 0x00 || tt == 0x03 || tt == 0x04;
		return decode_energy_vals(val, n, rr == DLT645_RR_BLOCK, (int)rr, is_signed, out);
	}
	if ((di & 0xFFFF0000u) == 0x05060000u && (rr == 0x01 || rr == 0x02))
		return decode_energy_vals(val, n, 1, 0, 0, out); /* daily freeze block */
	return meter_bad(out, "not an energy data identifier");
}

int dlt645_encode_energy(int64_t wh, int is_signed, uint8_t out[4])
{
	int64_t h = wh / 10; /* truncates toward zero: the wire holds 0.01 kWh */
	uint64_t mag;

	if (h < 0 && !is_signed)
		return XQ_EINVAL;
	mag = h < 0 ? (uint64_t)(-h) : (uint64_t)h;
	if (mag > (is_signed ? 79999999u : 99999999u))
		return XQ_EOVERFLOW;
	meter_bcd_put(mag, out, 4);
	if (h < 0)
		out[3] |= 0x80;
	return XQ_OK;
}

/*
 * Abnormal replies
 */

struct err_bit {
	const char *en, *zh;
};

/* clang-format off */
static const struct err_bit err07[8] = {
	{ "other error", "其他错误" },
	{ "no requested data (item not supported by this meter)", "无请求数据（电表不支持该数据项）" },
	{ "password wrong or not authorised", "密码错误或未授权" },
	{ "baud rate cannot be changed", "通信速率不能更改" },
	{ "too many yearly time zones", "年时区数超" },
	{ "too many daily time periods", "日时段数超" },
	{ "too many tariffs", "费率数超" },
	{ "reserved error bit 7", "保留错误位" },
};
/* clang-format on */

/* clang-format off */
static const struct err_bit err97[8] = {
	{ "illegal data", "非法数据" },
	{ "data identifier error (item not supported by this meter)", "数据标识错（电表不支持该数据项）" },
	{ "password error", "密码错" },
	{ "reserved error bit 3", "保留错误位" },
	{ "too many yearly time zones", "年时区数超" },
	{ "too many daily time periods", "日时段数超" },
	{ "too many tariffs", "费率数超" },
	{ "reserved error bit 7", "保留错误位" },
};
/* clang-format on */

/* Bits in the order an operator should hear about them: "unsupported" and
 * "password" decide what the collector does next; "other" says least. */
static const int err_order[8] = {1, 2, 3, 4, 5, 6, 0, 7};

const char *dlt645_err_text(uint8_t err, int v97, int zh)
{
	const struct err_bit *t = v97 ? err97 : err07;

	for (int i = 0; i < 8; i++)
		if (err & (1u << err_order[i]))
			return zh ? t[err_order[i]].zh : t[err_order[i]].en;
	/* ERR 00 says nothing; report it as the catch-all bit. */
	return zh ? t[0].zh : t[0].en;
}

static void append(char *buf, size_t n, size_t *k, const char *s)
{
	size_t l = strlen(s);

	if (*k + 1 >= n)
		return;
	if (l > n - 1 - *k)
		l = n - 1 - *k;
	memcpy(buf + *k, s, l);
	*k += l;
	buf[*k] = '\0';
}

int dlt645_err_describe(uint8_t err, int v97, int zh, char *buf, size_t n)
{
	const struct err_bit *t = v97 ? err97 : err07;
	size_t k = 0;

	if (n == 0)
		return XQ_ETOOBIG;
	buf[0] = '\0';
	if (err == 0) {
		append(buf, n, &k, zh ? t[0].zh : t[0].en);
		return XQ_OK;
	}
	for (int i = 0; i < 8; i++) {
		if (!(err & (1u << err_order[i])))
			continue;
		if (k)
			append(buf, n, &k, "; ");
		append(buf, n, &k, zh ? t[err_order[i]].zh : t[err_order[i]].en);
	}
	return XQ_OK;
}

static void set_err(struct meter_values *out, uint8_t err, int v97)
{
	/* out->err must be non-zero for an abnormal reply; ERR 00 would
	 * read as success, so it is recorded as the catch-all bit. */
	out->err = err ? err : DLT645_ERR_OTHER;
	if (err & DLT645_ERR_NO_DATA)
		out->err_class = MV_ERR_UNSUPPORTED;
	else if (err & DLT645_ERR_PASSWORD)
		out->err_class = MV_ERR_AUTH;
	else
		out->err_class = MV_ERR_OTHER;
	out->err_en = dlt645_err_text(err, v97, 0);
	out->err_zh = dlt645_err_text(err, v97, 1);
}

/*
 * Checks every reply has in common (doc 2.11 step 6): a reply, from the
 * meter we asked (wildcards match anything), to the function we sent.
 * Abnormal replies are decoded here and end the caller's work.
 */
static int reply_common(const uint8_t pattern[DLT645_ADDR_LEN], uint8_t func,
                        const struct meter_frame *f, int v97, struct meter_values *out)
{
	struct meter_addr pat = {.len = DLT645_ADDR_LEN};

	memset(out, 0, sizeof(*out));
	memcpy(pat.b, pattern, DLT645_ADDR_LEN);
	if (f->dir != METER_DIR_REPLY)
		return meter_bad(out, "not a reply");
	if (memcmp(pattern, addr_bcast, DLT645_ADDR_LEN) == 0)
		return meter_bad(out, "reply to a broadcast: meters never answer one");
	if (f->addr.len != DLT645_ADDR_LEN || !meter_addr_valid_bcd(&f->addr))
		return meter_bad(out, "bad BCD in address");
	if (!meter_addr_match(&pat, &f->addr))
		return meter_bad(out, "reply from another meter");
	out->addr = f->addr;
	out->have |= MV_HAVE_ADDR;
	if ((f->control & DLT645_C_FUNC) != func)
		return meter_bad(out, "reply to another function");
	if (f->control & DLT645_C_ABNORMAL) {
		if (f->data_len != 1)
			return meter_bad(out, "abnormal reply without exactly one ERR byte");
		set_err(out, f->data[0], v97);
		return XQ_OK;
	}
	if (f->control & DLT645_C_MORE)
		out->more = 1;
	return XQ_OK;
}

int dlt645_check_ack(const uint8_t addr[DLT645_ADDR_LEN], uint8_t func, const struct meter_frame *f,
                     struct meter_values *out)
{
	int rc = reply_common(addr, func, f, 0, out);

	if (rc != XQ_OK || out->err)
		return rc;
	if (f->data_len != 0)
		return meter_bad(out, "acknowledgement with a data field");
	return XQ_OK;
}

int dlt645_decode_time(const struct meter_frame *f, struct meter_time *t)
{
	if (f->dir != METER_DIR_REQUEST || (f->control & DLT645_C_FUNC) != DLT645_F_BCAST_TIME ||
	    f->data_len != 6)
		return XQ_EPROTO;
	return get_time6(f->data, t);
}

int dlt645_decode_control(const struct meter_frame *f, struct dlt645_control *c)
{
	uint64_t pw = 0;

	if (f->dir != METER_DIR_REQUEST || (f->control & DLT645_C_FUNC) != DLT645_F_CONTROL ||
	    f->data_len != 16)
		return XQ_EPROTO;
	memset(c, 0, sizeof(*c));
	c->pa = f->data[0];
	/* PA 98/99 carries ESAM-encrypted content: nothing here can read it. */
	if (c->pa == 0x98 || c->pa == 0x99 || meter_bcd_get(f->data + 1, 3, &pw) != XQ_OK)
		return XQ_EPROTO;
	c->password = (uint32_t)pw;
	memcpy(c->op, f->data + 4, 4);
	c->cmd = f->data[8];
	if (!ctl_cmd_known(c->cmd))
		return XQ_EPROTO;
	return get_time6(f->data + 10, &c->deadline);
}

/*
 * Reply encoders
 */

int dlt645_reply_read(uint8_t *buf, size_t cap, size_t *len, size_t preamble,
                      const uint8_t addr[DLT645_ADDR_LEN], uint32_t di, const uint8_t *val,
                      size_t n, int more)
{
	uint8_t d[DLT645_DATA_MAX];

	*len = 0;
	if (n > DLT645_DATA_MAX - 4 || (n && !val))
		return XQ_EINVAL;
	put_di(d, di);
	if (n)
		memcpy(d + 4, val, n);
	return dlt645_encode(buf, cap, len, preamble, addr,
	                     DLT645_C_REPLY | (more ? DLT645_C_MORE : 0) | DLT645_F_READ, d, 4 + n);
}

int dlt645_97_reply_read(uint8_t *buf, size_t cap, size_t *len, size_t preamble,
                         const uint8_t addr[DLT645_ADDR_LEN], uint16_t di, const uint8_t *val,
                         size_t n)
{
	uint8_t d[DLT645_DATA_MAX];

	*len = 0;
	if (n > DLT645_DATA_MAX - 2 || (n && !val))
		return XQ_EINVAL;
	d[0] = (uint8_t)di;
	d[1] = (uint8_t)(di >> 8);
	if (n)
		memcpy(d + 2, val, n);
	return dlt645_encode(buf, cap, len, preamble, addr, DLT645_C_REPLY | DLT645_97_F_READ, d,
	                     2 + n);
}

int dlt645_reply_error(uint8_t *buf, size_t cap, size_t *len, size_t preamble,
                       const uint8_t addr[DLT645_ADDR_LEN], uint8_t func, uint8_t err)
{
	return dlt645_encode(buf, cap, len, preamble, addr,
	                     DLT645_C_REPLY | DLT645_C_ABNORMAL | (func & DLT645_C_FUNC), &err, 1);
}

int dlt645_reply_addr(uint8_t *buf, size_t cap, size_t *len, size_t preamble,
                      const uint8_t addr[DLT645_ADDR_LEN])
{
	return dlt645_encode(buf, cap, len, preamble, addr, DLT645_C_REPLY | DLT645_F_READ_ADDR,
	                     addr, DLT645_ADDR_LEN);
}

int dlt645_reply_ack(uint8_t *buf, size_t cap, size_t *len, size_t preamble,
                     const uint8_t addr[DLT645_ADDR_LEN], uint8_t func)
{
	return dlt645_encode(buf, cap, len, preamble, addr, DLT645_C_REPLY | (func & DLT645_C_FUNC),
	                     NULL, 0);
}

/*
 * The drivers
 */

static int dlt_addr_parse(const char *text, struct meter_addr *out)
{
	return meter_addr_parse_bcd(text, DLT645_ADDR_LEN, out);
}

static int dlt_addr_format(const struct meter_addr *a, char *buf, size_t n)
{
	return meter_addr_format_bcd(a, buf, n);
}

/* The DI a 2007 request for req asks for. */
static int v07_req_di(const struct meter_req *req, uint32_t *di)
{
	switch (req->item) {
	case METER_READ_TOTAL:
	case METER_READ_COMBINED:
		if ((req->tariff > METER_RATES && req->tariff != METER_TARIFF_ALL) ||
		    req->period > 12)
			return XQ_EINVAL;
		*di = DLT645_DI_ENERGY(req->item == METER_READ_TOTAL ? DLT645_TT_FORWARD
		                                                     : DLT645_TT_COMBINED,
		                       req->tariff, req->period);
		return XQ_OK;
	case METER_READ_STATUS:
		*di = DLT645_DI_STATUS3;
		return XQ_OK;
	default:
		return XQ_EINVAL;
	}
}

/* The DI a 1997 request for req asks for (3: 9010 now, 9410 / 9810 months back). */
static int v97_req_di(const struct meter_req *req, uint16_t *di)
{
	static const uint16_t base[3] = {0x9010, 0x9410, 0x9810};

	switch (req->item) {
	case METER_READ_TOTAL:
		if ((req->tariff > METER_RATES && req->tariff != METER_TARIFF_ALL) ||
		    req->period > 2)
			return XQ_EINVAL;
		*di = (uint16_t)(base[req->period] +
		                 (req->tariff == METER_TARIFF_ALL ? 0x0F : req->tariff));
		return XQ_OK;
	case METER_READ_ADDRESS:
		*di = DLT645_97_DI_METER_NO;
		return XQ_OK;
	default:
		return XQ_EINVAL;
	}
}

static int addressable(const struct meter_req *req)
{
	return req->addr.len == DLT645_ADDR_LEN &&
	       memcmp(req->addr.b, addr_bcast, DLT645_ADDR_LEN) != 0;
}

static int v07_build_read(const struct meter_req *req, uint8_t *buf, size_t cap, size_t *len)
{
	size_t pre = meter_preamble(req, DLT645_PREAMBLE);
	uint32_t di;

	*len = 0;
	if (req->item == METER_READ_ADDRESS)
		return dlt645_build_read_addr(buf, cap, len, pre);
	if (!addressable(req) || v07_req_di(req, &di) != XQ_OK)
		return XQ_EINVAL;
	return dlt645_build_read(buf, cap, len, pre, req->addr.b, di);
}

static int v07_decode(const struct meter_req *req, const struct meter_frame *f,
                      struct meter_values *out)
{
	uint32_t want, di;
	int rc;

	if (req->item == METER_READ_ADDRESS) {
		struct meter_addr a = {.len = DLT645_ADDR_LEN};

		rc = reply_common(addr_wild, DLT645_F_READ_ADDR, f, 0, out);
		if (rc != XQ_OK || out->err)
			return rc;
		if (f->data_len != DLT645_ADDR_LEN)
			return meter_bad(out, "address reply without 6 address bytes");
		memcpy(a.b, f->data, DLT645_ADDR_LEN);
		if (!meter_addr_valid_bcd(&a))
			return meter_bad(out, "bad BCD in address");
		if (memcmp(a.b, f->addr.b, DLT645_ADDR_LEN) != 0)
			return meter_bad(out, "address in data differs from frame address");
		return XQ_OK;
	}
	memset(out, 0, sizeof(*out));
	if (req->addr.len != DLT645_ADDR_LEN || v07_req_di(req, &want) != XQ_OK)
		return meter_bad(out, "request cannot be answered by this driver");
	rc = reply_common(req->addr.b, DLT645_F_READ, f, 0, out);
	if (rc != XQ_OK || out->err)
		return rc;
	if (dlt645_frame_di(f, &di) != XQ_OK)
		return meter_bad(out, "read reply without a DI");
	if (di != want)
		return meter_bad(out, "reply for another DI");
	if (req->item == METER_READ_STATUS) {
		if (f->data_len != 6)
			return meter_bad(out, "status word is not 2 bytes");
		out->status_raw = (uint32_t)(f->data[4] | f->data[5] << 8);
		out->status = (out->status_raw & 0x10) ? MV_ST_RELAY_OPEN : 0;
		out->have |= MV_HAVE_STATUS;
		return XQ_OK;
	}
	return dlt645_decode_energy(di, f->data + 4, f->data_len - 4, out);
}

/* The four values of a block, or one, from the simulated meter's registers. */
static int sim_energy(const struct meter_values *st, int rr, int is_signed, uint8_t *val, size_t *n)
{
	int rc;

	*n = 0;
	if (rr == 0 || rr == DLT645_RR_BLOCK) {
		if (!(st->have & MV_HAVE_WH))
			return XQ_ENOTFOUND;
		if ((rc = dlt645_encode_energy(st->total_wh, is_signed, val)) != XQ_OK)
			return rc;
		*n = 4;
		if (rr == 0)
			return XQ_OK;
		if ((st->have_rates & 0x0F) != 0x0F)
			return XQ_ENOTFOUND;
		for (int i = 0; i < METER_RATES; i++)
			if ((rc = dlt645_encode_energy(st->rate_wh[i], is_signed,
			                               val + 4 + 4 * i)) != XQ_OK)
				return rc;
		*n = 20;
		return XQ_OK;
	}
	if (rr < 1 || rr > METER_RATES || !(st->have_rates & (1u << (rr - 1))))
		return XQ_ENOTFOUND;
	if ((rc = dlt645_encode_energy(st->rate_wh[rr - 1], is_signed, val)) != XQ_OK)
		return rc;
	*n = 4;
	return XQ_OK;
}

/* Is f for the simulated meter self? Broadcasts and other addresses are not. */
static int sim_for_me(const struct meter_req *self, const struct meter_frame *f)
{
	return memcmp(f->addr.b, addr_bcast, DLT645_ADDR_LEN) != 0 &&
	       meter_addr_match(&f->addr, &self->addr);
}

static int v07_build_reply(const struct meter_req *self, const struct meter_frame *f,
                           const struct meter_values *st, uint8_t *buf, size_t cap, size_t *len)
{
	size_t pre = meter_preamble(self, 0), n;
	const uint8_t *me = self->addr.b;
	uint8_t func = f->control & DLT645_C_FUNC, val[20];
	unsigned tt, rr, pp;
	uint32_t di;
	int rc;

	*len = 0;
	if (f->dir != METER_DIR_REQUEST || self->addr.len != DLT645_ADDR_LEN)
		return XQ_EINVAL;
	if (!sim_for_me(self, f))
		return XQ_OK;
	switch (func) {
	case DLT645_F_BCAST_TIME:
		return XQ_OK; /* time sync is never answered, even when addressed */
	case DLT645_F_READ_ADDR:
		return dlt645_reply_addr(buf, cap, len, pre, me);
	case DLT645_F_CONTROL:
		if (st->err)
			return dlt645_reply_error(buf, cap, len, pre, me, func, (uint8_t)st->err);
		return dlt645_reply_ack(buf, cap, len, pre, me, func);
	case DLT645_F_READ:
		break;
	default:
		return dlt645_reply_error(buf, cap, len, pre, me, func, DLT645_ERR_OTHER);
	}
	if (dlt645_frame_di(f, &di) != XQ_OK)
		return dlt645_reply_error(buf, cap, len, pre, me, func, DLT645_ERR_OTHER);
	if (st->err)
		return dlt645_reply_error(buf, cap, len, pre, me, func, (uint8_t)st->err);
	tt = (di >> 16) & 0xFF;
	rr = (di >> 8) & 0xFF;
	pp = di & 0xFF;
	if ((di >> 24) == 0 && (tt == DLT645_TT_FORWARD || tt == DLT645_TT_COMBINED) && pp == 0) {
		rc = sim_energy(st, (int)rr, tt == DLT645_TT_COMBINED, val, &n);
		if (rc == XQ_ENOTFOUND)
			return dlt645_reply_error(buf, cap, len, pre, me, func, DLT645_ERR_NO_DATA);
		if (rc != XQ_OK)
			return rc;
		return dlt645_reply_read(buf, cap, len, pre, me, di, val, n, 0);
	}
	if (di == DLT645_DI_STATUS3 && (st->have & MV_HAVE_STATUS)) {
		val[0] = (uint8_t)st->status_raw;
		val[1] = (uint8_t)(st->status_raw >> 8);
		return dlt645_reply_read(buf, cap, len, pre, me, di, val, 2, 0);
	}
	if (di == DLT645_DI_COMM_ADDR || di == DLT645_DI_METER_NO)
		return dlt645_reply_read(buf, cap, len, pre, me, di, me, DLT645_ADDR_LEN, 0);
	return dlt645_reply_error(buf, cap, len, pre, me, func, DLT645_ERR_NO_DATA);
}

static int v97_build_read(const struct meter_req *req, uint8_t *buf, size_t cap, size_t *len)
{
	size_t pre = meter_preamble(req, DLT645_PREAMBLE);
	uint16_t di;

	*len = 0;
	if (v97_req_di(req, &di) != XQ_OK)
		return XQ_EINVAL;
	/* 1997 has no read-address function: a wildcard read of the meter
	 * number on a one-meter bus makes the meter answer with its address. */
	if (req->item == METER_READ_ADDRESS)
		return dlt645_97_build_read(buf, cap, len, pre, addr_wild, di);
	if (!addressable(req))
		return XQ_EINVAL;
	return dlt645_97_build_read(buf, cap, len, pre, req->addr.b, di);
}

static int v97_decode(const struct meter_req *req, const struct meter_frame *f,
                      struct meter_values *out)
{
	uint16_t want, di;
	int rc;

	memset(out, 0, sizeof(*out));
	if (v97_req_di(req, &want) != XQ_OK ||
	    (req->item != METER_READ_ADDRESS && req->addr.len != DLT645_ADDR_LEN))
		return meter_bad(out, "request cannot be answered by this driver");
	rc = reply_common(req->item == METER_READ_ADDRESS ? addr_wild : req->addr.b,
	                  DLT645_97_F_READ, f, 1, out);
	if (rc != XQ_OK || out->err)
		return rc;
	if (dlt645_97_frame_di(f, &di) != XQ_OK)
		return meter_bad(out, "read reply without a DI");
	if (di != want)
		return meter_bad(out, "reply for another DI");
	if (req->item == METER_READ_ADDRESS) {
		uint64_t no;

		if (f->data_len != 2 + 6 || meter_bcd_get(f->data + 2, 6, &no) != XQ_OK)
			return meter_bad(out, "bad meter number");
		out->raw = (int64_t)no; /* the answer is the frame address, already set */
		return XQ_OK;
	}
	return decode_energy_vals(f->data + 2, f->data_len - 2, (di & 0x0F) == 0x0F,
	                          (int)(di & 0x0F), 0, out);
}

static int v97_build_reply(const struct meter_req *self, const struct meter_frame *f,
                           const struct meter_values *st, uint8_t *buf, size_t cap, size_t *len)
{
	size_t pre = meter_preamble(self, 0), n;
	const uint8_t *me = self->addr.b;
	uint8_t func = f->control & DLT645_C_FUNC, val[20];
	uint16_t di;
	int rc;

	*len = 0;
	if (f->dir != METER_DIR_REQUEST || self->addr.len != DLT645_ADDR_LEN)
		return XQ_EINVAL;
	if (!sim_for_me(self, f) || func == DLT645_F_BCAST_TIME)
		return XQ_OK;
	if (func != DLT645_97_F_READ || dlt645_97_frame_di(f, &di) != XQ_OK)
		return dlt645_reply_error(buf, cap, len, pre, me, func, 0x01);
	if (st->err)
		return dlt645_reply_error(buf, cap, len, pre, me, func, (uint8_t)st->err);
	if (di == DLT645_97_DI_METER_NO)
		return dlt645_97_reply_read(buf, cap, len, pre, me, di, me, DLT645_ADDR_LEN);
	if ((di & 0xFFF0) == 0x9010 && ((di & 0x0F) <= METER_RATES || (di & 0x0F) == 0x0F)) {
		rc = sim_energy(st, (di & 0x0F) == 0x0F ? DLT645_RR_BLOCK : (int)(di & 0x0F), 0,
		                val, &n);
		if (rc == XQ_OK)
			return dlt645_97_reply_read(buf, cap, len, pre, me, di, val, n);
		if (rc != XQ_ENOTFOUND)
			return rc;
	}
	return dlt645_reply_error(buf, cap, len, pre, me, func, DLT645_ERR_NO_DATA);
}

/* clang-format off */
const struct meter_proto proto_dlt645 = {
	.name = "dlt645",                  /* DL/T 645-2007 */
	.kind = METER_ELECTRIC,            /* totals in Wh */
	.addr_parse = dlt_addr_parse,      /* "220123456789", "AAAAAAAA5518" */
	.addr_format = dlt_addr_format,    /* 12 digits, AA for wildcards */
	.build_read = v07_build_read,      /* 0x11 energy / status, 0x13 address */
	.parse = dlt645_parse,             /* FE*, 68 A 68 C L data CS 16 */
	.decode = v07_decode,              /* 0x91/0xB1 values, 0x93 address, 0xD1 ERR */
	.build_reply = v07_build_reply,    /* simulator: energy, status, address, ack */
};
/* clang-format on */

/* clang-format off */
const struct meter_proto proto_dlt645_97 = {
	.name = "dlt645-1997",             /* DL/T 645-1997 */
	.kind = METER_ELECTRIC,            /* totals in Wh */
	.addr_parse = dlt_addr_parse,      /* same address form as 2007 */
	.addr_format = dlt_addr_format,    /* same address form as 2007 */
	.build_read = v97_build_read,      /* 0x01 with 9010.. / C032 */
	.parse = dlt645_parse,             /* the frame is the same as 2007 */
	.decode = v97_decode,              /* 0x81/0xA1 values, 0xC1 ERR (1997 bits) */
	.build_reply = v97_build_reply,    /* simulator: 9010..9014, 901F, C032 */
};
/* clang-format on */
