/*
 * modbus.c - Modbus RTU and Modbus TCP framing for energy meters, the
 * register maps of the meter models we know, the conversion of register
 * contents to integer Wh, and reply encoders for the simulator. The two
 * drivers proto_modbus_rtu and proto_modbus_tcp share everything but the
 * frame. Serial timing (3.5-character gaps) is the link's business; here a
 * frame is delimited by its shape and CRC alone, so bytes may arrive in any
 * pieces.
 */
#include "modbus.h"
#include "proto_impl.h"

#include <string.h>

#define SCALE_MAX 1000000u

/* Register maps (doc 4.3-4.6). Add a model by adding a row. */
/* clang-format off */
const struct modbus_map modbus_maps[] = {
	/* name, function, total: { address, type, word order, Wh = value x mul / div } */
	/* Eastron: input register 30073, import energy, float kWh */
	{ "eastron-sdm120", 0x04, { 0x0048, MODBUS_F32, MODBUS_ABCD, 1000, 1 } },
	{ "eastron-sdm630", 0x04, { 0x0048, MODBUS_F32, MODBUS_ABCD, 1000, 1 } },
	/* Chint: ImpEp, float kWh. DTSU666 floats are reported scaled for U/I/P;
	 * its energy scale is unconfirmed (verify against the display). */
	{ "chint-ddsu666",  0x03, { 0x4000, MODBUS_F32, MODBUS_ABCD, 1000, 1 } },
	{ "chint-dtsu666",  0x03, { 0x401E, MODBUS_F32, MODBUS_ABCD, 1000, 1 } },
	/* Acrel ADW300: holding register 62, forward energy, int32 x 0.01 kWh */
	{ "acrel-adw300",   0x03, { 62,     MODBUS_I32, MODBUS_ABCD, 10,   1 } },
};
/* clang-format on */
const size_t modbus_nmaps = XQ_ARRAY_LEN(modbus_maps);

const struct modbus_map *modbus_map_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < modbus_nmaps; i++)
		if (strcmp(modbus_maps[i].name, name) == 0)
			return &modbus_maps[i];
	return NULL;
}

unsigned modbus_reg_words(const struct modbus_reg *r)
{
	switch (r->type) {
	case MODBUS_U16:
		return 1;
	case MODBUS_U32:
	case MODBUS_I32:
	case MODBUS_F32:
		return 2;
	}
	return 0;
}

static int reg_valid(const struct modbus_reg *r)
{
	return modbus_reg_words(r) && r->order <= MODBUS_CDAB && r->wh_mul >= 1 &&
	       r->wh_mul <= SCALE_MAX && r->wh_div >= 1 && r->wh_div <= SCALE_MAX;
}

uint16_t modbus_crc16(const uint8_t *p, size_t n)
{
	uint16_t crc = 0xFFFF;

	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
	}
	return crc;
}

/*
 * Encoders. Every frame passes through one of the two finishers.
 */

/* RTU: pdu[0, n) after the unit byte, then the CRC low byte first. */
static int rtu_finish(uint8_t *buf, size_t cap, size_t *len, uint8_t unit, const uint8_t *pdu,
                      size_t n)
{
	uint16_t crc;

	*len = 0;
	if (cap < n + 3)
		return meter_short_buf(len);
	buf[0] = unit;
	memcpy(buf + 1, pdu, n);
	crc = modbus_crc16(buf, n + 1);
	buf[n + 1] = (uint8_t)crc;
	buf[n + 2] = (uint8_t)(crc >> 8);
	*len = n + 3;
	return XQ_OK;
}

/* TCP: MBAP header (length = unit + PDU) then the PDU, no CRC. */
static int tcp_finish(uint8_t *buf, size_t cap, size_t *len, uint16_t tid, uint8_t unit,
                      const uint8_t *pdu, size_t n)
{
	*len = 0;
	if (cap < MODBUS_TCP_HDR + n)
		return meter_short_buf(len);
	put_be16(buf, tid);
	put_be16(buf + 2, 0);
	put_be16(buf + 4, (uint16_t)(n + 1));
	buf[6] = unit;
	memcpy(buf + MODBUS_TCP_HDR, pdu, n);
	*len = MODBUS_TCP_HDR + n;
	return XQ_OK;
}

static int read_pdu(uint8_t pdu[5], uint8_t fc, uint16_t addr, uint16_t count)
{
	if ((fc != MODBUS_FC_READ_HOLDING && fc != MODBUS_FC_READ_INPUT) || count == 0 ||
	    count > MODBUS_READ_MAX || (uint32_t)addr + count > 0x10000u)
		return XQ_EINVAL;
	pdu[0] = fc;
	put_be16(pdu + 1, addr);
	put_be16(pdu + 3, count);
	return XQ_OK;
}

int modbus_rtu_build_read(uint8_t *buf, size_t cap, size_t *len, uint8_t unit, uint8_t fc,
                          uint16_t addr, uint16_t count)
{
	uint8_t pdu[5];

	*len = 0;
	/* A read cannot be broadcast: nobody would answer unit 0. */
	if (unit == 0 || unit > MODBUS_UNIT_MAX || read_pdu(pdu, fc, addr, count) != XQ_OK)
		return XQ_EINVAL;
	return rtu_finish(buf, cap, len, unit, pdu, sizeof(pdu));
}

int modbus_tcp_build_read(uint8_t *buf, size_t cap, size_t *len, uint16_t tid, uint8_t unit,
                          uint8_t fc, uint16_t addr, uint16_t count)
{
	uint8_t pdu[5];

	*len = 0;
	if (read_pdu(pdu, fc, addr, count) != XQ_OK)
		return XQ_EINVAL;
	return tcp_finish(buf, cap, len, tid, unit, pdu, sizeof(pdu));
}

static int reply_pdu(uint8_t *pdu, uint8_t fc, const uint8_t *regs, size_t n)
{
	if ((fc != MODBUS_FC_READ_HOLDING && fc != MODBUS_FC_READ_INPUT) || n == 0 || n % 2 ||
	    n > 2 * MODBUS_READ_MAX || !regs)
		return XQ_EINVAL;
	pdu[0] = fc;
	pdu[1] = (uint8_t)n;
	memcpy(pdu + 2, regs, n);
	return XQ_OK;
}

int modbus_rtu_reply_read(uint8_t *buf, size_t cap, size_t *len, uint8_t unit, uint8_t fc,
                          const uint8_t *regs, size_t n)
{
	uint8_t pdu[2 + 2 * MODBUS_READ_MAX];

	*len = 0;
	if (unit == 0 || unit > MODBUS_UNIT_MAX || reply_pdu(pdu, fc, regs, n) != XQ_OK)
		return XQ_EINVAL;
	return rtu_finish(buf, cap, len, unit, pdu, n + 2);
}

int modbus_tcp_reply_read(uint8_t *buf, size_t cap, size_t *len, uint16_t tid, uint8_t unit,
                          uint8_t fc, const uint8_t *regs, size_t n)
{
	uint8_t pdu[2 + 2 * MODBUS_READ_MAX];

	*len = 0;
	if (reply_pdu(pdu, fc, regs, n) != XQ_OK)
		return XQ_EINVAL;
	return tcp_finish(buf, cap, len, tid, unit, pdu, n + 2);
}

int modbus_rtu_reply_exc(uint8_t *buf, size_t cap, size_t *len, uint8_t unit, uint8_t fc,
                         uint8_t code)
{
	uint8_t pdu[2] = {(uint8_t)(fc | MODBUS_FC_EXCEPTION), code};

	*len = 0;
	if (unit == 0 || unit > MODBUS_UNIT_MAX || code == 0)
		return XQ_EINVAL;
	return rtu_finish(buf, cap, len, unit, pdu, sizeof(pdu));
}

int modbus_tcp_reply_exc(uint8_t *buf, size_t cap, size_t *len, uint16_t tid, uint8_t unit,
                         uint8_t fc, uint8_t code)
{
	uint8_t pdu[2] = {(uint8_t)(fc | MODBUS_FC_EXCEPTION), code};

	*len = 0;
	if (code == 0)
		return XQ_EINVAL;
	return tcp_finish(buf, cap, len, tid, unit, pdu, sizeof(pdu));
}

/*
 * Framing
 */

static int fc_known(uint8_t fc)
{
	return fc == MODBUS_FC_READ_HOLDING || fc == MODBUS_FC_READ_INPUT ||
	       fc == MODBUS_FC_WRITE_SINGLE || fc == MODBUS_FC_DIAGNOSTICS ||
	       fc == MODBUS_FC_WRITE_MULTIPLE;
}

/*
 * The length an RTU frame at p must have if it is a reply (reply = 1) or a
 * request: SCAN_NONE when the bytes cannot start one, SCAN_SHORT when more
 * are needed to know or to have it all, SCAN_OK when p[0, *flen) is there.
 */
static enum scan_verdict rtu_shape(const uint8_t *p, size_t avail, int reply, size_t *flen)
{
	uint8_t fc;

	/* Unit 0 is a broadcast, which nobody answers; 248..255 are reserved. */
	if (p[0] > MODBUS_UNIT_MAX || (reply && p[0] == 0))
		return SCAN_NONE;
	*flen = reply ? 5 : 8;
	if (avail < 2)
		return SCAN_SHORT;
	fc = p[1];
	if (reply && (fc & MODBUS_FC_EXCEPTION)) {
		if (!fc_known(fc & 0x7F) || (avail >= 3 && p[2] == 0))
			return SCAN_NONE;
		*flen = 5;
	} else if (!fc_known(fc)) {
		return SCAN_NONE;
	} else if (reply && (fc == MODBUS_FC_READ_HOLDING || fc == MODBUS_FC_READ_INPUT)) {
		if (avail < 3)
			return SCAN_SHORT;
		if (p[2] == 0 || p[2] % 2 || p[2] > 2 * MODBUS_READ_MAX)
			return SCAN_NONE;
		*flen = 5 + (size_t)p[2];
	} else if (!reply && fc == MODBUS_FC_WRITE_MULTIPLE) {
		uint16_t count;

		*flen = 9;
		if (avail < 7)
			return SCAN_SHORT;
		count = get_be16(p + 4);
		if (count == 0 || count > MODBUS_WRITE_MAX || p[6] != 2 * count)
			return SCAN_NONE;
		*flen = 9 + (size_t)p[6];
	} else {
		*flen = 8; /* 03/04 requests; 06, 08 both ways; 10 reply */
	}
	return avail < *flen ? SCAN_SHORT : SCAN_OK;
}

static enum scan_verdict rtu_try(const uint8_t *p, size_t avail, int reply, struct scan_cand *c)
{
	size_t flen = 0;
	enum scan_verdict v = rtu_shape(p, avail, reply, &flen);
	uint16_t crc;

	c->len = flen;
	if (v != SCAN_OK)
		return v;
	crc = modbus_crc16(p, flen - 2);
	if (p[flen - 2] != (uint8_t)crc || p[flen - 1] != (uint8_t)(crc >> 8)) {
		c->why = "bad CRC";
		return SCAN_BAD;
	}
	c->dir = reply ? METER_DIR_REPLY : METER_DIR_REQUEST;
	return SCAN_OK;
}

static enum scan_verdict rtu_cand(const uint8_t *p, size_t avail, enum meter_dir dir,
                                  struct scan_cand *c)
{
	struct scan_cand a = {0}, b = {0};
	enum scan_verdict va, vb;

	if (dir == METER_DIR_REQUEST)
		return rtu_try(p, avail, 0, c);
	va = rtu_try(p, avail, 1, &a);
	if (va == SCAN_OK) {
		*c = a;
		return SCAN_OK;
	}
	vb = rtu_try(p, avail, 0, &b);
	if (vb == SCAN_OK && dir == METER_DIR_ANY) {
		*c = b;
		return SCAN_OK;
	}
	/* Our own read request, echoed by a half-duplex converter: a whole
	 * CRC-valid 03/04 request is far stronger evidence than a reply shape
	 * still waiting for bytes. */
	if (vb == SCAN_OK && (p[1] == MODBUS_FC_READ_HOLDING || p[1] == MODBUS_FC_READ_INPUT)) {
		*c = b;
		return SCAN_SKIP;
	}
	if (dir == METER_DIR_REPLY) {
		*c = a;
		return va;
	}
	if (va == SCAN_SHORT || vb == SCAN_SHORT) {
		*c = (va == SCAN_SHORT && (vb != SCAN_SHORT || a.len <= b.len)) ? a : b;
		return SCAN_SHORT;
	}
	if (va == SCAN_BAD || vb == SCAN_BAD) {
		*c = va == SCAN_BAD ? a : b;
		return SCAN_BAD;
	}
	return SCAN_NONE;
}

int modbus_rtu_parse(const uint8_t *buf, size_t len, enum meter_dir dir, struct meter_frame *f)
{
	const uint8_t *p;
	int rc = meter_scan(buf, len, dir, rtu_cand, f);

	if (rc != XQ_OK)
		return rc;
	p = buf + f->start;
	f->addr.len = 1;
	f->addr.b[0] = p[0];
	f->control = p[1];
	f->data_len = f->len - 4;
	memcpy(f->data, p + 2, f->data_len);
	return XQ_OK;
}

/* Does a TCP PDU of pdu_len bytes (function included) fit the function's shape? */
static int tcp_pdu_ok(const uint8_t *pdu, size_t pdu_len, int reply)
{
	uint8_t fc = pdu[0];

	if (reply && (fc & MODBUS_FC_EXCEPTION))
		return fc_known(fc & 0x7F) && pdu_len == 2 && pdu[1] != 0;
	if (!fc_known(fc))
		return 0;
	if (reply && (fc == MODBUS_FC_READ_HOLDING || fc == MODBUS_FC_READ_INPUT))
		return pdu_len >= 2 && pdu[1] != 0 && pdu[1] % 2 == 0 &&
		       pdu[1] <= 2 * MODBUS_READ_MAX && pdu_len == 2 + (size_t)pdu[1];
	if (!reply && fc == MODBUS_FC_WRITE_MULTIPLE) {
		uint16_t count;

		if (pdu_len < 6)
			return 0;
		count = get_be16(pdu + 3);
		return count >= 1 && count <= MODBUS_WRITE_MAX && pdu[5] == 2 * count &&
		       pdu_len == 6 + (size_t)pdu[5];
	}
	return pdu_len == 5;
}

static enum scan_verdict tcp_cand(const uint8_t *p, size_t avail, enum meter_dir dir,
                                  struct scan_cand *c)
{
	size_t mlen, flen;
	int as_reply, as_request;

	c->len = MODBUS_TCP_HDR + 1;
	if (avail < 4)
		return SCAN_SHORT;
	if (p[2] != 0 || p[3] != 0)
		return SCAN_NONE; /* protocol identifier is always 0000 */
	if (avail < 6)
		return SCAN_SHORT;
	mlen = get_be16(p + 4);
	if (mlen < 2 || mlen > METER_FRAME_MAX - 6) {
		c->why = "MBAP length out of range";
		return SCAN_BAD;
	}
	flen = 6 + mlen;
	c->len = flen;
	if (avail < flen)
		return SCAN_SHORT;
	as_reply = dir != METER_DIR_REQUEST && tcp_pdu_ok(p + 7, mlen - 1, 1);
	as_request = dir != METER_DIR_REPLY && tcp_pdu_ok(p + 7, mlen - 1, 0);
	if (!as_reply && !as_request) {
		c->why = "MBAP length disagrees with the PDU";
		return SCAN_BAD;
	}
	c->dir = as_reply ? METER_DIR_REPLY : METER_DIR_REQUEST;
	return SCAN_OK;
}

int modbus_tcp_parse(const uint8_t *buf, size_t len, enum meter_dir dir, struct meter_frame *f)
{
	const uint8_t *p;
	int rc = meter_scan(buf, len, dir, tcp_cand, f);

	if (rc != XQ_OK)
		return rc;
	p = buf + f->start;
	f->tid = get_be16(p);
	f->addr.len = 1;
	f->addr.b[0] = p[6];
	f->control = p[7];
	f->data_len = f->len - (MODBUS_TCP_HDR + 1);
	memcpy(f->data, p + MODBUS_TCP_HDR + 1, f->data_len);
	return XQ_OK;
}

/*
 * Register values -> Wh
 */

static unsigned bitlen(unsigned __int128 v)
{
	unsigned n = 0;

	while (v) {
		n++;
		v >>= 1;
	}
	return n;
}

/*
 * THE float conversion. Eastron and Chint meters hold energy as IEEE-754
 * binary32 kWh; billing wants integer Wh. The float is an exact binary
 * fraction man x 2^e, so Wh = man x mul x 2^e / div is an exact rational
 * that 128-bit integers hold, and rounding it once gives the true nearest
 * Wh: no `float`/`double` arithmetic, no FPU rounding mode, no double
 * rounding, the same answer on every machine. Rounding is to nearest with
 * halves away from zero (the house rule of money_round_fen()); energy is
 * never negative here, so that is half up. NaN, infinity, negative values
 * and results above MODBUS_WH_MAX are XQ_EPROTO: a meter sending them is
 * broken, and a 0 would bill wrongly. float32 carries 24 bits, so above
 * about 16 777 kWh a register steps by more than 1 Wh (doc 4.2).
 */
int modbus_f32_to_wh(uint32_t bits, uint32_t mul, uint32_t div, int64_t *wh)
{
	unsigned exp = (bits >> 23) & 0xFF;
	uint64_t man = bits & 0x7FFFFF;
	unsigned __int128 num, den, q, r;
	int e;

	if (mul == 0 || div == 0 || mul > SCALE_MAX || div > SCALE_MAX)
		return XQ_EINVAL;
	if (exp == 0xFF)
		return XQ_EPROTO; /* infinity or NaN */
	if (exp == 0 && man == 0) {
		*wh = 0; /* +0 and -0 */
		return XQ_OK;
	}
	if (bits >> 31)
		return XQ_EPROTO; /* negative energy */
	if (exp == 0) {
		e = -149; /* subnormal: no hidden bit */
	} else {
		man |= 1u << 23;
		e = (int)exp - 150;
	}
	num = (unsigned __int128)man * mul; /* < 2^44 */
	den = div;
	if (e >= 0) {
		if (e > 64) /* >= 2^87 x mul / div: far beyond MODBUS_WH_MAX */
			return XQ_EPROTO;
		num <<= e;
	} else {
		if (-e > 100) { /* < 2^44 / 2^100: rounds to 0 */
			*wh = 0;
			return XQ_OK;
		}
		den <<= -e;
	}
	q = num / den;
	r = num % den;
	if (2 * r >= den)
		q++;
	if (q > (unsigned __int128)MODBUS_WH_MAX)
		return XQ_EPROTO;
	*wh = (int64_t)q;
	return XQ_OK;
}

/*
 * The inverse, for the simulator: the float32 nearest to wh x div / mul
 * (ties to even, as an FPU would round), found with integers as above.
 */
int modbus_wh_to_f32(int64_t wh, uint32_t mul, uint32_t div, uint32_t *bits)
{
	unsigned __int128 p, q, num, den, r;
	int s, biased;

	if (mul == 0 || div == 0 || mul > SCALE_MAX || div > SCALE_MAX || wh < 0)
		return XQ_EINVAL;
	if (wh > MODBUS_WH_MAX)
		return XQ_EOVERFLOW;
	if (wh == 0) {
		*bits = 0;
		return XQ_OK;
	}
	p = (unsigned __int128)wh * div; /* < 2^70 */
	/* Find s with 2^23 <= p x 2^s / mul < 2^24: the 24-bit significand. */
	s = 24 - ((int)bitlen(p) - (int)bitlen(mul));
	for (;;) {
		if (s >= 0) {
			num = p << s;
			den = mul;
		} else {
			num = p;
			den = (unsigned __int128)mul << -s;
		}
		q = num / den;
		if (q >= (1u << 24))
			s--;
		else if (q < (1u << 23))
			s++;
		else
			break;
	}
	r = num % den;
	if (2 * r > den || (2 * r == den && (q & 1)))
		q++;
	if (q == (1u << 24)) {
		q >>= 1;
		s--;
	}
	biased = 127 + 23 - s;
	if (biased >= 255)
		return XQ_EOVERFLOW;
	if (biased <= 0)
		return XQ_EINVAL; /* below 2^-126: not an energy reading */
	*bits = (uint32_t)biased << 23 | ((uint32_t)q & 0x7FFFFF);
	return XQ_OK;
}

/* The 32-bit register value, words put in order. */
static uint32_t get_u32(const uint8_t *regs, uint8_t order)
{
	uint32_t w0 = get_be16(regs), w1 = get_be16(regs + 2);

	return order == MODBUS_CDAB ? w1 << 16 | w0 : w0 << 16 | w1;
}

static void put_u32(uint8_t *regs, uint32_t v, uint8_t order)
{
	uint16_t hi = (uint16_t)(v >> 16), lo = (uint16_t)v;

	put_be16(regs, order == MODBUS_CDAB ? lo : hi);
	put_be16(regs + 2, order == MODBUS_CDAB ? hi : lo);
}

int modbus_reg_to_wh(const struct modbus_reg *r, const uint8_t *regs, int64_t *wh)
{
	int64_t v;

	if (!reg_valid(r))
		return XQ_EINVAL;
	switch (r->type) {
	case MODBUS_F32:
		return modbus_f32_to_wh(get_u32(regs, r->order), r->wh_mul, r->wh_div, wh);
	case MODBUS_U16:
		v = get_be16(regs);
		break;
	case MODBUS_U32:
		v = get_u32(regs, r->order);
		break;
	default: /* MODBUS_I32 */
		v = (int32_t)get_u32(regs, r->order);
		if (v < 0)
			return XQ_EPROTO; /* a forward energy register never goes negative */
		break;
	}
	/* Integer counters: exact when div divides, else rounded down so that a
	 * cumulative reading never runs ahead of the meter. */
	v = v * (int64_t)r->wh_mul / (int64_t)r->wh_div;
	if (v > MODBUS_WH_MAX)
		return XQ_EPROTO;
	*wh = v;
	return XQ_OK;
}

int modbus_wh_to_reg(const struct modbus_reg *r, int64_t wh, uint8_t *regs)
{
	uint32_t bits;
	int64_t v;
	int rc;

	if (!reg_valid(r) || wh < 0)
		return XQ_EINVAL;
	if (wh > MODBUS_WH_MAX)
		return XQ_EOVERFLOW;
	if (r->type == MODBUS_F32) {
		if ((rc = modbus_wh_to_f32(wh, r->wh_mul, r->wh_div, &bits)) != XQ_OK)
			return rc;
		put_u32(regs, bits, r->order);
		return XQ_OK;
	}
	v = (int64_t)((unsigned __int128)wh * r->wh_div / r->wh_mul);
	if (r->type == MODBUS_U16) {
		if (v > 0xFFFF)
			return XQ_EOVERFLOW;
		put_be16(regs, (uint16_t)v);
		return XQ_OK;
	}
	if (v > (r->type == MODBUS_I32 ? INT32_MAX : (int64_t)UINT32_MAX))
		return XQ_EOVERFLOW;
	put_u32(regs, (uint32_t)v, r->order);
	return XQ_OK;
}

/*
 * Exceptions
 */

struct exc {
	uint8_t code;
	int cls;
	const char *en, *zh;
};

/* clang-format off */
static const struct exc excs[] = {
	{ 0x01, MV_ERR_UNSUPPORTED, "illegal function", "非法功能码" },
	{ 0x02, MV_ERR_UNSUPPORTED, "illegal data address", "非法数据地址" },
	{ 0x03, MV_ERR_OTHER, "illegal data value", "非法数据值" },
	{ 0x04, MV_ERR_OTHER, "slave device failure", "从站设备故障" },
	{ 0x05, MV_ERR_RETRY, "acknowledge: accepted, still processing", "已受理，正在处理" },
	{ 0x06, MV_ERR_RETRY, "slave device busy", "从站设备忙" },
	{ 0x08, MV_ERR_OTHER, "memory parity error", "存储奇偶校验错误" },
	{ 0x0A, MV_ERR_RETRY, "gateway path unavailable", "网关路径不可用" },
	{ 0x0B, MV_ERR_RETRY, "gateway target device failed to respond", "网关目标设备无响应" },
};
/* clang-format on */

static const struct exc exc_unknown = {0, MV_ERR_OTHER, "unknown exception code", "未知异常码"};

static const struct exc *exc_find(uint8_t code)
{
	for (size_t i = 0; i < XQ_ARRAY_LEN(excs); i++)
		if (excs[i].code == code)
			return &excs[i];
	return &exc_unknown;
}

const char *modbus_exc_text(uint8_t code, int zh)
{
	const struct exc *x = exc_find(code);

	return zh ? x->zh : x->en;
}

/*
 * The drivers
 */

static int addr_parse_unit(const char *text, unsigned max, struct meter_addr *out)
{
	unsigned v = 0;
	size_t i;

	if (!text || !text[0])
		return XQ_EINVAL;
	for (i = 0; text[i]; i++) {
		if (text[i] < '0' || text[i] > '9' || i >= 3)
			return XQ_EINVAL;
		v = v * 10 + (unsigned)(text[i] - '0');
	}
	if (v > max)
		return XQ_EINVAL;
	memset(out, 0, sizeof(*out));
	out->len = 1;
	out->b[0] = (uint8_t)v;
	return XQ_OK;
}

static int rtu_addr_parse(const char *text, struct meter_addr *out)
{
	return addr_parse_unit(text, MODBUS_UNIT_MAX, out);
}

/* Behind Modbus TCP the unit byte is often 255 or 0 for a device that is
 * not a gateway, so every byte value is allowed. */
static int tcp_addr_parse(const char *text, struct meter_addr *out)
{
	return addr_parse_unit(text, 255, out);
}

static int mb_addr_format(const struct meter_addr *a, char *buf, size_t n)
{
	unsigned v = a->b[0];
	char tmp[4];
	size_t k = 0;

	if (a->len != 1)
		return XQ_EINVAL;
	do {
		tmp[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (n < k + 1) {
		if (n)
			buf[0] = '\0';
		return XQ_ETOOBIG;
	}
	for (size_t i = 0; i < k; i++)
		buf[i] = tmp[k - 1 - i];
	buf[k] = '\0';
	return XQ_OK;
}

/* The register req asks for, and its slot (0 total, 1..4 rate). */
static int pick_reg(const struct meter_req *req, const struct modbus_reg **r, int *slot)
{
	const struct modbus_map *m = req->map;

	if (!m || req->addr.len != 1 || req->item != METER_READ_TOTAL)
		return XQ_EINVAL;
	if (m->fc != MODBUS_FC_READ_HOLDING && m->fc != MODBUS_FC_READ_INPUT)
		return XQ_EINVAL;
	if (req->tariff == 0) {
		*r = &m->total;
	} else if (req->tariff <= METER_RATES) {
		*r = &m->rate[req->tariff - 1];
	} else {
		return XQ_EINVAL; /* no block reads: rate registers need not be adjacent */
	}
	*slot = req->tariff;
	return reg_valid(*r) ? XQ_OK : XQ_EINVAL;
}

static int mb_build_read(const struct meter_req *req, uint8_t *buf, size_t cap, size_t *len,
                         int tcp)
{
	const struct modbus_reg *r;
	int slot;

	*len = 0;
	if (pick_reg(req, &r, &slot) != XQ_OK)
		return XQ_EINVAL;
	if (tcp)
		return modbus_tcp_build_read(buf, cap, len, req->tid, req->addr.b[0], req->map->fc,
		                             r->addr, (uint16_t)modbus_reg_words(r));
	return modbus_rtu_build_read(buf, cap, len, req->addr.b[0], req->map->fc, r->addr,
	                             (uint16_t)modbus_reg_words(r));
}

static int rtu_build_read(const struct meter_req *req, uint8_t *buf, size_t cap, size_t *len)
{
	return mb_build_read(req, buf, cap, len, 0);
}

static int tcp_build_read(const struct meter_req *req, uint8_t *buf, size_t cap, size_t *len)
{
	return mb_build_read(req, buf, cap, len, 1);
}

static int mb_decode(const struct meter_req *req, const struct meter_frame *f,
                     struct meter_values *out, int tcp)
{
	const struct modbus_reg *r;
	unsigned words;
	int64_t wh;
	int slot;

	memset(out, 0, sizeof(*out));
	if (pick_reg(req, &r, &slot) != XQ_OK)
		return meter_bad(out, "request cannot be answered by this map");
	if (f->dir != METER_DIR_REPLY)
		return meter_bad(out, "not a reply");
	if (tcp && f->tid != req->tid)
		return meter_bad(out, "reply to another transaction");
	if (f->addr.len != 1 || f->addr.b[0] != req->addr.b[0])
		return meter_bad(out, "reply from another unit");
	out->addr = f->addr;
	out->have |= MV_HAVE_ADDR;
	if ((f->control & 0x7F) != req->map->fc)
		return meter_bad(out, "reply to another function");
	if (f->control & MODBUS_FC_EXCEPTION) {
		const struct exc *x;

		if (f->data_len != 1 || f->data[0] == 0)
			return meter_bad(out, "exception reply without a code");
		x = exc_find(f->data[0]);
		out->err = f->data[0];
		out->err_class = x->cls;
		out->err_en = x->en;
		out->err_zh = x->zh;
		return XQ_OK;
	}
	words = modbus_reg_words(r);
	if (f->data_len != 1 + 2 * words || f->data[0] != 2 * words)
		return meter_bad(out, "reply with another register count");
	if (modbus_reg_to_wh(r, f->data + 1, &wh) != XQ_OK)
		return meter_bad(out, "energy register is NaN, negative or out of range");
	/* raw: the register contents as an integer (a float's IEEE bits). */
	out->raw = words == 1 ? get_be16(f->data + 1) : get_u32(f->data + 1, r->order);
	if (slot == 0) {
		out->total_wh = wh;
		out->have |= MV_HAVE_WH;
	} else {
		out->rate_wh[slot - 1] = wh;
		out->have_rates |= 1u << (slot - 1);
	}
	return XQ_OK;
}

static int rtu_decode(const struct meter_req *req, const struct meter_frame *f,
                      struct meter_values *out)
{
	return mb_decode(req, f, out, 0);
}

static int tcp_decode(const struct meter_req *req, const struct meter_frame *f,
                      struct meter_values *out)
{
	return mb_decode(req, f, out, 1);
}

static int mb_exc(uint8_t *buf, size_t cap, size_t *len, int tcp, uint16_t tid, uint8_t unit,
                  uint8_t fc, uint8_t code)
{
	if (tcp)
		return modbus_tcp_reply_exc(buf, cap, len, tid, unit, fc, code);
	return modbus_rtu_reply_exc(buf, cap, len, unit, fc, code);
}

static int mb_build_reply(const struct meter_req *self, const struct meter_frame *f,
                          const struct meter_values *st, uint8_t *buf, size_t cap, size_t *len,
                          int tcp)
{
	const struct modbus_map *m = self->map;
	const struct modbus_reg *r = NULL;
	uint8_t unit = f->addr.b[0], fc = f->control, regs[4];
	uint16_t addr, count;
	int64_t wh;
	int slot = 0, rc;

	*len = 0;
	if (f->dir != METER_DIR_REQUEST || self->addr.len != 1 || !m)
		return XQ_EINVAL;
	if ((!tcp && unit == 0) || unit != self->addr.b[0])
		return XQ_OK; /* broadcast, or another unit on the bus */
	if (st->err)
		return mb_exc(buf, cap, len, tcp, f->tid, unit, fc, (uint8_t)st->err);
	if ((fc != MODBUS_FC_READ_HOLDING && fc != MODBUS_FC_READ_INPUT) || fc != m->fc ||
	    f->data_len != 4)
		return mb_exc(buf, cap, len, tcp, f->tid, unit, fc, MODBUS_EX_ILLEGAL_FUNCTION);
	addr = get_be16(f->data);
	count = get_be16(f->data + 2);
	if (count == 0 || count > MODBUS_READ_MAX)
		return mb_exc(buf, cap, len, tcp, f->tid, unit, fc, MODBUS_EX_ILLEGAL_VALUE);
	/* Like Eastron meters: a read must cover exactly one known value. */
	for (int i = 0; i <= METER_RATES && !r; i++) {
		const struct modbus_reg *c = i == 0 ? &m->total : &m->rate[i - 1];

		if (reg_valid(c) && c->addr == addr && modbus_reg_words(c) == count) {
			r = c;
			slot = i;
		}
	}
	if (!r)
		return mb_exc(buf, cap, len, tcp, f->tid, unit, fc, MODBUS_EX_ILLEGAL_ADDRESS);
	if (slot == 0 ? !(st->have & MV_HAVE_WH) : !(st->have_rates & (1u << (slot - 1))))
		return mb_exc(buf, cap, len, tcp, f->tid, unit, fc, MODBUS_EX_DEVICE_FAILURE);
	wh = slot == 0 ? st->total_wh : st->rate_wh[slot - 1];
	if ((rc = modbus_wh_to_reg(r, wh, regs)) != XQ_OK)
		return rc;
	if (tcp)
		return modbus_tcp_reply_read(buf, cap, len, f->tid, unit, fc, regs, 2u * count);
	return modbus_rtu_reply_read(buf, cap, len, unit, fc, regs, 2u * count);
}

static int rtu_build_reply(const struct meter_req *self, const struct meter_frame *f,
                           const struct meter_values *st, uint8_t *buf, size_t cap, size_t *len)
{
	return mb_build_reply(self, f, st, buf, cap, len, 0);
}

static int tcp_build_reply(const struct meter_req *self, const struct meter_frame *f,
                           const struct meter_values *st, uint8_t *buf, size_t cap, size_t *len)
{
	return mb_build_reply(self, f, st, buf, cap, len, 1);
}

/* clang-format off */
const struct meter_proto proto_modbus_rtu = {
	.name = "modbus-rtu",              /* RTU, on RS-485 or RTU-over-TCP gateways */
	.kind = METER_ELECTRIC,            /* totals in Wh */
	.addr_parse = rtu_addr_parse,      /* unit id "1".."247" ("0" parses; reads refuse it) */
	.addr_format = mb_addr_format,     /* decimal unit id */
	.build_read = rtu_build_read,      /* 03/04 read of the map's register, CRC */
	.parse = modbus_rtu_parse,         /* shape + CRC at every offset */
	.decode = rtu_decode,              /* register -> Wh, exceptions decoded */
	.build_reply = rtu_build_reply,    /* simulator: serves the map's registers */
};
/* clang-format on */

/* clang-format off */
const struct meter_proto proto_modbus_tcp = {
	.name = "modbus-tcp",              /* Modbus TCP, port 502, MBAP header */
	.kind = METER_ELECTRIC,            /* totals in Wh */
	.addr_parse = tcp_addr_parse,      /* unit byte "0".."255" */
	.addr_format = mb_addr_format,     /* decimal unit id */
	.build_read = tcp_build_read,      /* 03/04 read, transaction id req.tid */
	.parse = modbus_tcp_parse,         /* MBAP protocol 0, length agrees with PDU */
	.decode = tcp_decode,              /* tid, unit, function checked; register -> Wh */
	.build_reply = tcp_build_reply,    /* simulator: echoes the request's tid */
};
/* clang-format on */
