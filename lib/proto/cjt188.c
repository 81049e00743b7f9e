/*
 * cjt188.c - CJ/T 188-2004 water meter frames: the driver proto_cjt188,
 * request builders (read current data, read address, valve control), reply
 * encoders for the simulator, and the decoder of cumulative flow into
 * litres. Heat meter data (T = 2x) is framed but not decoded: its decimal
 * positions are unverified (doc 5.3). No I/O here.
 */
#include "cjt188.h"
#include "proto_impl.h"

#include <string.h>

#define START        0x68
#define END          0x16
#define CURRENT_BODY 19 /* 0x901F water reply after DI and SER (L = 0x16) */

static const uint8_t addr_wild[CJT188_ADDR_LEN] = {0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA};

/* Meter types 10-19 water, 20-29 heat, 30-39 gas, 40-49 other, AA wildcard (5.1). */
static int type_known(uint8_t t)
{
	return (t >= 0x10 && t <= 0x19) || (t >= 0x20 && t <= 0x29) || (t >= 0x30 && t <= 0x39) ||
	       (t >= 0x40 && t <= 0x49) || t == METER_ADDR_WILD;
}

/* Water and gas meters share the 0x901F layout; heat meters do not. */
static int type_volume(uint8_t t)
{
	return (t >= 0x10 && t <= 0x19) || (t >= 0x30 && t <= 0x39);
}

/*
 * Framing
 */

int cjt188_encode(uint8_t *buf, size_t cap, size_t *len, size_t preamble, uint8_t type,
                  const uint8_t addr[CJT188_ADDR_LEN], uint8_t control, const uint8_t *data,
                  size_t n)
{
	size_t k = preamble;
	uint8_t cs = 0;

	*len = 0;
	/* Never emit a frame our own parser would refuse. */
	if (!addr || !type_known(type) || n < 3 || n > CJT188_DATA_MAX || preamble > 16 || !data)
		return XQ_EINVAL;
	if (cap < preamble + 13 + n)
		return meter_short_buf(len);
	memset(buf, 0xFE, preamble);
	buf[k++] = START;
	buf[k++] = type;
	memcpy(buf + k, addr, CJT188_ADDR_LEN);
	k += CJT188_ADDR_LEN;
	buf[k++] = control;
	buf[k++] = (uint8_t)n;
	memcpy(buf + k, data, n);
	k += n;
	for (size_t i = preamble; i < k; i++)
		cs = (uint8_t)(cs + buf[i]);
	buf[k++] = cs;
	buf[k++] = END;
	*len = k;
	return XQ_OK;
}

int cjt188_encode_di(uint8_t *buf, size_t cap, size_t *len, size_t preamble, uint8_t type,
                     const uint8_t addr[CJT188_ADDR_LEN], uint8_t control, uint16_t di,
                     int di_high_first, uint8_t ser, const uint8_t *body, size_t n)
{
	uint8_t d[CJT188_DATA_MAX];

	*len = 0;
	if (n > CJT188_DATA_MAX - 3 || (n && !body))
		return XQ_EINVAL;
	d[0] = di_high_first ? (uint8_t)(di >> 8) : (uint8_t)di;
	d[1] = di_high_first ? (uint8_t)di : (uint8_t)(di >> 8);
	d[2] = ser;
	if (n)
		memcpy(d + 3, body, n);
	return cjt188_encode(buf, cap, len, preamble, type, addr, control, d, n + 3);
}

/*
 * 68, a known meter type, L in 3..100, then CS and 16. There is only one
 * start byte, so the type check is what keeps garbage from looking like a
 * frame start.
 */
static enum scan_verdict cjt188_cand(const uint8_t *p, size_t avail, enum meter_dir dir,
                                     struct scan_cand *c)
{
	size_t flen;
	uint8_t cs = 0;

	if (p[0] != START)
		return SCAN_NONE;
	c->len = 16; /* the shortest frame: L = 3 */
	if (avail < 2)
		return SCAN_SHORT;
	if (!type_known(p[1]))
		return SCAN_NONE;
	if (avail < 11)
		return SCAN_SHORT;
	if (p[10] > CJT188_DATA_MAX) {
		c->why = "length field over 100";
		return SCAN_BAD;
	}
	if (p[10] < 3) {
		c->why = "length field under 3";
		return SCAN_BAD;
	}
	flen = 13 + (size_t)p[10];
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
	c->dir = (p[9] & CJT188_C_REPLY) ? METER_DIR_REPLY : METER_DIR_REQUEST;
	if (dir != METER_DIR_ANY && dir != c->dir)
		return SCAN_SKIP; /* our echo, or another meter's reply on the bus */
	return SCAN_OK;
}

int cjt188_parse(const uint8_t *buf, size_t len, enum meter_dir dir, struct meter_frame *f)
{
	const uint8_t *p;
	int rc = meter_scan(buf, len, dir, cjt188_cand, f);

	if (rc != XQ_OK)
		return rc;
	p = buf + f->start;
	f->addr.len = CJT188_ADDR_LEN;
	f->addr.type = p[1];
	memcpy(f->addr.b, p + 2, CJT188_ADDR_LEN);
	f->control = p[9];
	f->data_len = p[10];
	memcpy(f->data, p + 11, f->data_len);
	return XQ_OK;
}

static int di_known(uint16_t di)
{
	return di == CJT188_DI_CURRENT || (di >= 0xD120 && di <= 0xD12B) ||
	       (di >= 0x8102 && di <= 0x810A) || (di >= 0xA010 && di <= 0xA019);
}

int cjt188_frame_di(const struct meter_frame *f, uint16_t *di, int *high_first)
{
	uint16_t lo_first, hi_first;

	if (f->data_len < 3)
		return XQ_EPROTO;
	lo_first = (uint16_t)(f->data[0] | f->data[1] << 8);
	hi_first = (uint16_t)(f->data[0] << 8 | f->data[1]);
	/* No known DI is another known DI byte-swapped, so at most one matches. */
	*di = lo_first;
	*high_first = 0;
	if (di_known(lo_first))
		return XQ_OK;
	if (di_known(hi_first)) {
		*di = hi_first;
		*high_first = 1;
		return XQ_OK;
	}
	return XQ_ENOTFOUND;
}

/*
 * Requests
 */

int cjt188_build_read(uint8_t *buf, size_t cap, size_t *len, size_t preamble, uint8_t type,
                      const uint8_t addr[CJT188_ADDR_LEN], uint16_t di, uint8_t ser,
                      int di_high_first)
{
	return cjt188_encode_di(buf, cap, len, preamble, type, addr, CJT188_F_READ, di,
	                        di_high_first, ser, NULL, 0);
}

int cjt188_build_read_addr(uint8_t *buf, size_t cap, size_t *len, size_t preamble, uint8_t type,
                           uint8_t ser, int di_high_first)
{
	return cjt188_encode_di(buf, cap, len, preamble, type, addr_wild, CJT188_F_READ_ADDR,
	                        CJT188_DI_READ_ADDR, di_high_first, ser, NULL, 0);
}

int cjt188_build_valve(uint8_t *buf, size_t cap, size_t *len, size_t preamble, uint8_t type,
                       const uint8_t addr[CJT188_ADDR_LEN], uint8_t ser, int open,
                       int di_high_first)
{
	uint8_t v = open ? CJT188_VALVE_OPEN : CJT188_VALVE_CLOSE;

	return cjt188_encode_di(buf, cap, len, preamble, type, addr, CJT188_F_WRITE,
	                        CJT188_DI_VALVE, di_high_first, ser, &v, 1);
}

/*
 * Values
 */

/* clang-format off */
static const struct {
	uint8_t code;
	const char *name;
} units[] = {
	{ 0x01, "J" },      { 0x02, "Wh" },     { 0x05, "kWh" },   { 0x08, "MWh" },
	{ 0x0A, "MWh*100" }, { 0x0B, "kJ" },    { 0x0E, "MJ" },    { 0x11, "GJ" },
	{ 0x13, "GJ*100" }, { 0x14, "W" },      { 0x17, "kW" },    { 0x1A, "MW" },
	{ 0x29, "L" },      { 0x2C, "m3" },     { 0x32, "L/h" },   { 0x35, "m3/h" },
};
/* clang-format on */

const char *cjt188_unit_name(uint8_t unit)
{
	for (size_t i = 0; i < XQ_ARRAY_LEN(units); i++)
		if (units[i].code == unit)
			return units[i].name;
	return NULL;
}

/*
 * XXXXXX.XX in unit -> litres. 0.01 m³ is exactly 10 L. A litre register
 * keeps 0.01 L that the house unit cannot hold: round down, so a cumulative
 * reading never runs ahead of the meter and deltas of floors never drift.
 */
static int flow_to_l(uint64_t hundredths, uint8_t unit, int64_t *l)
{
	switch (unit) {
	case CJT188_UNIT_M3:
		*l = (int64_t)hundredths * 10;
		return XQ_OK;
	case CJT188_UNIT_L:
		*l = (int64_t)(hundredths / 100);
		return XQ_OK;
	}
	return XQ_EPROTO;
}

int cjt188_litres_to_flow(int64_t l, uint8_t unit, uint32_t *flow)
{
	int64_t v;

	if (l < 0)
		return XQ_EINVAL;
	if (unit == CJT188_UNIT_M3)
		v = l / 10;
	else if (unit == CJT188_UNIT_L)
		v = l > 99999999 ? 100000000 : l * 100;
	else
		return XQ_EINVAL;
	if (v > 99999999)
		return XQ_EOVERFLOW;
	*flow = (uint32_t)v;
	return XQ_OK;
}

void cjt188_decode_st(uint8_t st0, uint8_t st1, struct meter_values *out)
{
	out->status_raw = (uint32_t)(st0 | st1 << 8);
	out->status &= ~(unsigned)(MV_ST_VALVE_CLOSED | MV_ST_VALVE_ABNORMAL | MV_ST_BATTERY_LOW);
	switch (st0 & 0x03) {
	case 0x00:
		break; /* open */
	case 0x01:
		out->status |= MV_ST_VALVE_CLOSED;
		break;
	default: /* 11 abnormal; 10 undefined, treated alike; valveless meters say so too */
		out->status |= MV_ST_VALVE_ABNORMAL;
		break;
	}
	if (st0 & 0x04)
		out->status |= MV_ST_BATTERY_LOW;
	out->have |= MV_HAVE_STATUS;
}

/* ss mm hh DD MM YY(low) YY(high); all zeros = no clock. */
static int get_clock(const uint8_t *d, struct meter_time *t, int *have)
{
	int v[7];

	*have = 0;
	for (int i = 0; i < 7; i++)
		if (d[i])
			*have = 1;
	if (!*have)
		return XQ_OK;
	for (int i = 0; i < 7; i++)
		if ((v[i] = bcd_byte(d[i])) < 0)
			return XQ_EPROTO;
	t->sec = v[0];
	t->min = v[1];
	t->hour = v[2];
	t->day = v[3];
	t->mon = v[4];
	t->year = v[6] * 100 + v[5];
	return meter_time_valid(t) ? XQ_OK : XQ_EPROTO;
}

static void put_clock(uint8_t *d, const struct meter_time *t)
{
	d[0] = bcd_make(t->sec);
	d[1] = bcd_make(t->min);
	d[2] = bcd_make(t->hour);
	d[3] = bcd_make(t->day);
	d[4] = bcd_make(t->mon);
	d[5] = bcd_make(t->year % 100);
	d[6] = bcd_make(t->year / 100);
}

int cjt188_decode_current(const uint8_t *body, size_t n, struct meter_values *out)
{
	uint64_t flow, settle;
	int have_clock;

	if (n != CURRENT_BODY)
		return meter_bad(out, "current data is not 19 bytes");
	if (meter_bcd_get(body, 4, &flow) != XQ_OK || meter_bcd_get(body + 5, 4, &settle) != XQ_OK)
		return meter_bad(out, "bad BCD in flow");
	if (flow_to_l(flow, body[4], &out->total_l) != XQ_OK ||
	    flow_to_l(settle, body[9], &out->settle_l) != XQ_OK)
		return meter_bad(out, "flow unit is not litres or cubic metres");
	if (get_clock(body + 10, &out->clock, &have_clock) != XQ_OK)
		return meter_bad(out, "bad BCD or impossible date in meter clock");
	out->raw = (int64_t)flow;
	out->unit = body[4];
	out->have |= MV_HAVE_L | MV_HAVE_SETTLE | (have_clock ? MV_HAVE_CLOCK : 0);
	cjt188_decode_st(body[17], body[18], out);
	return XQ_OK;
}

/*
 * Replies: what every one has in common. A reply, from the meter we asked
 * (AA bytes and type AA match anything), to our function. Abnormal replies
 * carry SER ST0 ST1 and no DI (our reading of the standard; (verify)).
 */
static int reply_common(const struct meter_addr *pattern, uint8_t func, uint8_t ser,
                        const struct meter_frame *f, struct meter_values *out)
{
	memset(out, 0, sizeof(*out));
	if (f->dir != METER_DIR_REPLY)
		return meter_bad(out, "not a reply");
	if (f->addr.len != CJT188_ADDR_LEN || !meter_addr_valid_bcd(&f->addr))
		return meter_bad(out, "bad BCD in address");
	if (!meter_addr_match(pattern, &f->addr))
		return meter_bad(out, "reply from another meter");
	out->addr = f->addr;
	out->have |= MV_HAVE_ADDR;
	if ((f->control & CJT188_C_FUNC) != func)
		return meter_bad(out, "reply to another function");
	if (f->control & CJT188_C_ABNORMAL) {
		if (f->data_len != 3)
			return meter_bad(out, "abnormal reply is not SER ST0 ST1");
		if (f->data[0] != ser)
			return meter_bad(out, "reply with another sequence number");
		cjt188_decode_st(f->data[1], f->data[2], out);
		out->err = CJT188_ERR_ABNORMAL;
		out->err_class = MV_ERR_OTHER;
		out->err_en = "meter sent an abnormal reply (see status)";
		out->err_zh = "水表返回异常应答（见状态字）";
	}
	return XQ_OK;
}

/* DI and SER of a normal reply must echo the request's. */
static int check_di_ser(const struct meter_frame *f, uint16_t want, uint8_t ser,
                        struct meter_values *out)
{
	uint16_t di;
	int hf;

	if (cjt188_frame_di(f, &di, &hf) != XQ_OK || di != want)
		return meter_bad(out, "reply for another DI");
	if (f->data[2] != ser)
		return meter_bad(out, "reply with another sequence number");
	out->di_high_first = hf;
	return XQ_OK;
}

int cjt188_check_valve(const struct meter_addr *addr, uint8_t ser, const struct meter_frame *f,
                       struct meter_values *out)
{
	int rc = reply_common(addr, CJT188_F_WRITE, ser, f, out);

	if (rc != XQ_OK || out->err)
		return rc;
	if ((rc = check_di_ser(f, CJT188_DI_VALVE, ser, out)) != XQ_OK)
		return rc;
	if (f->data_len != 5)
		return meter_bad(out, "valve reply is not DI SER ST0 ST1");
	cjt188_decode_st(f->data[3], f->data[4], out);
	return XQ_OK;
}

int cjt188_decode_valve(const struct meter_frame *f, int *open)
{
	uint16_t di;
	int hf;

	if (f->dir != METER_DIR_REQUEST || (f->control & CJT188_C_FUNC) != CJT188_F_WRITE ||
	    cjt188_frame_di(f, &di, &hf) != XQ_OK || di != CJT188_DI_VALVE || f->data_len != 4)
		return XQ_EPROTO;
	if (f->data[3] != CJT188_VALVE_OPEN && f->data[3] != CJT188_VALVE_CLOSE)
		return XQ_EPROTO;
	*open = f->data[3] == CJT188_VALVE_OPEN;
	return XQ_OK;
}

/*
 * Reply encoders
 */

int cjt188_reply_current(uint8_t *buf, size_t cap, size_t *len, size_t preamble, uint8_t type,
                         const uint8_t addr[CJT188_ADDR_LEN], uint8_t ser, int di_high_first,
                         const struct cjt188_current *cur)
{
	uint8_t b[CURRENT_BODY];

	*len = 0;
	if (!cur || cur->flow > 99999999 || cur->settle > 99999999 ||
	    (cur->have_clock && !meter_time_valid(&cur->clock)))
		return XQ_EINVAL;
	meter_bcd_put(cur->flow, b, 4);
	b[4] = cur->unit;
	meter_bcd_put(cur->settle, b + 5, 4);
	b[9] = cur->settle_unit;
	if (cur->have_clock)
		put_clock(b + 10, &cur->clock);
	else
		memset(b + 10, 0, 7);
	b[17] = cur->st[0];
	b[18] = cur->st[1];
	return cjt188_encode_di(buf, cap, len, preamble, type, addr, CJT188_C_REPLY | CJT188_F_READ,
	                        CJT188_DI_CURRENT, di_high_first, ser, b, sizeof(b));
}

int cjt188_reply_addr(uint8_t *buf, size_t cap, size_t *len, size_t preamble, uint8_t type,
                      const uint8_t addr[CJT188_ADDR_LEN], uint8_t ser, int di_high_first)
{
	return cjt188_encode_di(buf, cap, len, preamble, type, addr,
	                        CJT188_C_REPLY | CJT188_F_READ_ADDR, CJT188_DI_READ_ADDR,
	                        di_high_first, ser, NULL, 0);
}

int cjt188_reply_valve(uint8_t *buf, size_t cap, size_t *len, size_t preamble, uint8_t type,
                       const uint8_t addr[CJT188_ADDR_LEN], uint8_t ser, int di_high_first,
                       uint8_t st0, uint8_t st1)
{
	uint8_t st[2] = {st0, st1};

	return cjt188_encode_di(buf, cap, len, preamble, type, addr,
	                        CJT188_C_REPLY | CJT188_F_WRITE, CJT188_DI_VALVE, di_high_first,
	                        ser, st, sizeof(st));
}

int cjt188_reply_error(uint8_t *buf, size_t cap, size_t *len, size_t preamble, uint8_t type,
                       const uint8_t addr[CJT188_ADDR_LEN], uint8_t func, uint8_t ser, uint8_t st0,
                       uint8_t st1)
{
	uint8_t d[3] = {ser, st0, st1};

	return cjt188_encode(buf, cap, len, preamble, type, addr,
	                     CJT188_C_REPLY | CJT188_C_ABNORMAL | (func & CJT188_C_FUNC), d,
	                     sizeof(d));
}

/*
 * The driver
 */

/* "14 digits" or "TT:14 digits" with TT the hex meter type (default 10, cold water). */
static int cj_addr_parse(const char *text, struct meter_addr *out)
{
	uint8_t type = CJT188_T_COLD_WATER;
	int rc;

	if (!text)
		return XQ_EINVAL;
	if (strnlen(text, 4) >= 3 && text[2] == ':') {
		unsigned v = 0;

		for (int i = 0; i < 2; i++) {
			char ch = text[i];
			int d = ch >= '0' && ch <= '9'   ? ch - '0'
			        : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
			        : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
			                                 : -1;
			if (d < 0)
				return XQ_EINVAL;
			v = v << 4 | (unsigned)d;
		}
		if (!type_known((uint8_t)v))
			return XQ_EINVAL;
		type = (uint8_t)v;
		text += 3;
	}
	if ((rc = meter_addr_parse_bcd(text, CJT188_ADDR_LEN, out)) != XQ_OK)
		return rc;
	out->type = type;
	return XQ_OK;
}

static int cj_addr_format(const struct meter_addr *a, char *buf, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	if (n < 4) {
		if (n)
			buf[0] = '\0';
		return XQ_ETOOBIG;
	}
	buf[0] = hex[a->type >> 4];
	buf[1] = hex[a->type & 0x0F];
	buf[2] = ':';
	return meter_addr_format_bcd(a, buf + 3, n - 3);
}

static int cj_build_read(const struct meter_req *req, uint8_t *buf, size_t cap, size_t *len)
{
	size_t pre = meter_preamble(req, CJT188_PREAMBLE);
	int hf = (req->flags & MREQ_DI_HIGH_FIRST) != 0;

	*len = 0;
	if (req->item == METER_READ_ADDRESS)
		return cjt188_build_read_addr(buf, cap, len, pre,
		                              req->addr.type ? req->addr.type : METER_ADDR_WILD,
		                              req->seq, hf);
	/* Water meters have no tariffs and no settlement-period registers here. */
	if (req->item != METER_READ_TOTAL || req->tariff != 0 || req->period != 0 ||
	    req->addr.len != CJT188_ADDR_LEN)
		return XQ_EINVAL;
	return cjt188_build_read(buf, cap, len, pre, req->addr.type, req->addr.b, CJT188_DI_CURRENT,
	                         req->seq, hf);
}

static int cj_decode(const struct meter_req *req, const struct meter_frame *f,
                     struct meter_values *out)
{
	struct meter_addr pat = {.len = CJT188_ADDR_LEN, .type = METER_ADDR_WILD};
	uint8_t func;
	uint16_t di;
	int rc;

	if (req->item == METER_READ_ADDRESS) {
		memcpy(pat.b, addr_wild, CJT188_ADDR_LEN);
		if (req->addr.type)
			pat.type = req->addr.type;
		func = CJT188_F_READ_ADDR;
		di = CJT188_DI_READ_ADDR;
	} else if (req->item == METER_READ_TOTAL && req->tariff == 0 && req->period == 0 &&
	           req->addr.len == CJT188_ADDR_LEN) {
		pat = req->addr;
		func = CJT188_F_READ;
		di = CJT188_DI_CURRENT;
	} else {
		memset(out, 0, sizeof(*out));
		return meter_bad(out, "request cannot be answered by this driver");
	}
	rc = reply_common(&pat, func, req->seq, f, out);
	if (rc != XQ_OK || out->err)
		return rc;
	if ((rc = check_di_ser(f, di, req->seq, out)) != XQ_OK)
		return rc;
	if (func == CJT188_F_READ_ADDR) {
		if (f->data_len != 3)
			return meter_bad(out, "address reply with a data field");
		return XQ_OK; /* the answer is the frame address, already in out->addr */
	}
	if (!type_volume(f->addr.type))
		return meter_bad(out, "heat meter data layout not supported");
	return cjt188_decode_current(f->data + 3, f->data_len - 3, out);
}

static int cj_build_reply(const struct meter_req *self, const struct meter_frame *f,
                          const struct meter_values *st, uint8_t *buf, size_t cap, size_t *len)
{
	size_t pre = meter_preamble(self, 0);
	int hf = (self->flags & MREQ_DI_HIGH_FIRST) != 0, rhf, rc;
	uint8_t func = f->control & CJT188_C_FUNC, type = self->addr.type, ser;
	uint8_t st0 = (uint8_t)st->status_raw, st1 = (uint8_t)(st->status_raw >> 8);
	const uint8_t *me = self->addr.b;
	struct cjt188_current cur;
	uint16_t di;
	int open;

	*len = 0;
	if (f->dir != METER_DIR_REQUEST || self->addr.len != CJT188_ADDR_LEN || !type_known(type))
		return XQ_EINVAL;
	/* Not for us, or too short to carry a SER to answer with: stay silent. */
	if (!meter_addr_match(&f->addr, &self->addr) || f->data_len < 3)
		return XQ_OK;
	ser = f->data[2];
	if (st->err)
		return cjt188_reply_error(buf, cap, len, pre, type, me, func, ser, st0, st1);
	rc = cjt188_frame_di(f, &di, &rhf);
	if (rc == XQ_OK && func == CJT188_F_READ && di == CJT188_DI_CURRENT && type_volume(type) &&
	    (st->have & MV_HAVE_L)) {
		memset(&cur, 0, sizeof(cur));
		cur.unit = cur.settle_unit =
		    st->unit == CJT188_UNIT_L ? CJT188_UNIT_L : CJT188_UNIT_M3;
		if ((rc = cjt188_litres_to_flow(st->total_l, cur.unit, &cur.flow)) != XQ_OK ||
		    ((st->have & MV_HAVE_SETTLE) &&
		     (rc = cjt188_litres_to_flow(st->settle_l, cur.unit, &cur.settle)) != XQ_OK))
			return rc;
		if (st->have & MV_HAVE_CLOCK) {
			cur.clock = st->clock;
			cur.have_clock = 1;
		}
		cur.st[0] = st0;
		cur.st[1] = st1;
		return cjt188_reply_current(buf, cap, len, pre, type, me, ser, hf, &cur);
	}
	if (rc == XQ_OK && func == CJT188_F_READ_ADDR && di == CJT188_DI_READ_ADDR)
		return cjt188_reply_addr(buf, cap, len, pre, type, me, ser, hf);
	if (rc == XQ_OK && cjt188_decode_valve(f, &open) == XQ_OK) {
		st0 = (uint8_t)((st0 & ~0x03) | (open ? 0x00 : 0x01));
		return cjt188_reply_valve(buf, cap, len, pre, type, me, ser, hf, st0, st1);
	}
	return cjt188_reply_error(buf, cap, len, pre, type, me, func, ser, st0, st1);
}

/* clang-format off */
const struct meter_proto proto_cjt188 = {
	.name = "cjt188",                  /* CJ/T 188-2004 */
	.kind = METER_WATER,               /* totals in litres */
	.addr_parse = cj_addr_parse,       /* "10:12345678901234" or 14 digits (T = 10) */
	.addr_format = cj_addr_format,     /* "TT:" + 14 digits */
	.build_read = cj_build_read,       /* 0x01 DI 901F, 0x03 DI 810A */
	.parse = cjt188_parse,             /* FE*, 68 T A C L DI SER data CS 16 */
	.decode = cj_decode,               /* flow -> litres, clock, valve/battery status */
	.build_reply = cj_build_reply,     /* simulator: 901F, 810A, A017 valve */
};
/* clang-format on */
