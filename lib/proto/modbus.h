/*
 * modbus.h - Modbus energy meters, framed by hand so that a partial frame is
 * just "need more bytes" (no libmodbus blocking reads):
 *
 *	RTU: unit fc data CRC16(lo, hi)        (also RTU-over-TCP via gateways)
 *	TCP: tid(2) 0000 len(2) unit fc data   (MBAP header, no CRC)
 *
 * Meter models are data: a struct modbus_map names the function code and the
 * energy register(s), their type, word order and scale to Wh. Register values
 * become integer Wh here and nowhere else; float32 registers are converted by
 * modbus_f32_to_wh() from their IEEE-754 bits, exactly, in integer arithmetic.
 * Facts: docs/meter-protocols.md section 4.
 *
 * Builders write into (buf, cap, *len) and return XQ_OK, XQ_EINVAL (bad
 * argument) or XQ_ETOOBIG (cap short; METER_FRAME_MAX always suffices).
 */
#ifndef XQ_MODBUS_H
#define XQ_MODBUS_H

#include "meter_proto.h"

#define MODBUS_FC_READ_HOLDING   0x03
#define MODBUS_FC_READ_INPUT     0x04
#define MODBUS_FC_WRITE_SINGLE   0x06
#define MODBUS_FC_DIAGNOSTICS    0x08
#define MODBUS_FC_WRITE_MULTIPLE 0x10
#define MODBUS_FC_EXCEPTION      0x80 /* or-ed into the function of an exception reply */

#define MODBUS_READ_MAX  125 /* registers per read */
#define MODBUS_WRITE_MAX 123 /* registers per 0x10 write */
#define MODBUS_UNIT_MAX  247 /* 0 is broadcast (writes only) */
#define MODBUS_TCP_HDR   7   /* MBAP: tid, protocol, length, unit */

/* Exception codes (4.1). */
#define MODBUS_EX_ILLEGAL_FUNCTION 0x01
#define MODBUS_EX_ILLEGAL_ADDRESS  0x02
#define MODBUS_EX_ILLEGAL_VALUE    0x03
#define MODBUS_EX_DEVICE_FAILURE   0x04
#define MODBUS_EX_ACKNOWLEDGE      0x05
#define MODBUS_EX_BUSY             0x06
#define MODBUS_EX_GATEWAY_PATH     0x0A
#define MODBUS_EX_GATEWAY_TARGET   0x0B

enum modbus_type {
	MODBUS_NONE = 0, /* register absent from this map */
	MODBUS_U16,      /* one register */
	MODBUS_U32,      /* two registers */
	MODBUS_I32,      /* two registers, two's complement (negative energy is refused) */
	MODBUS_F32,      /* two registers, IEEE-754 binary32 */
};

enum modbus_order {
	MODBUS_ABCD = 0, /* high word first: Eastron, Chint, Acrel */
	MODBUS_CDAB,     /* low word first */
};

/*
 * One energy register. Wh = value x wh_mul / wh_div, rounded half away
 * from zero for floats, exact or rounded down for integers:
 * float kWh -> 1000 / 1; int32 x 0.01 kWh -> 10 / 1; uint32 Wh -> 1 / 1.
 * wh_mul and wh_div are 1..1000000.
 */
struct modbus_reg {
	uint16_t addr;   /* protocol address: manual number 30001 / 40001 is 0 */
	uint8_t type;    /* enum modbus_type */
	uint8_t order;   /* enum modbus_order, for 32-bit types */
	uint32_t wh_mul; /* scale to Wh, numerator */
	uint32_t wh_div; /* scale to Wh, denominator */
};

/* A meter model's register map. */
struct modbus_map {
	const char *name;                    /* "eastron-sdm120", "acrel-adw300" ... */
	uint8_t fc;                          /* 0x03 holding or 0x04 input registers */
	struct modbus_reg total;             /* forward (import) active energy */
	struct modbus_reg rate[METER_RATES]; /* sharp, peak, flat, valley if the meter has TOU */
};

/* The built-in maps (modbus.c), and lookup by name (NULL if unknown). */
extern const struct modbus_map modbus_maps[];
extern const size_t modbus_nmaps;
const struct modbus_map *modbus_map_find(const char *name);

/* Registers a modbus_reg spans: 1 for U16, 2 for 32-bit types, 0 if absent. */
unsigned modbus_reg_words(const struct modbus_reg *r);

/* CRC-16/MODBUS (init 0xFFFF, poly 0xA001 reflected); sent low byte first. */
uint16_t modbus_crc16(const uint8_t *p, size_t n);

/* Read request (fc 0x03/0x04, count 1..125). unit 1..247. */
int modbus_rtu_build_read(uint8_t *buf, size_t cap, size_t *len /* OUT */, uint8_t unit, uint8_t fc,
                          uint16_t addr, uint16_t count);
int modbus_tcp_build_read(uint8_t *buf, size_t cap, size_t *len /* OUT */, uint16_t tid,
                          uint8_t unit, uint8_t fc, uint16_t addr, uint16_t count);

/*
 * Find one frame (meter_proto.h rules). RTU has no start byte: every offset
 * is tried against the shapes of the functions above (03, 04, 06, 08, 10 and
 * exceptions) and the CRC decides. METER_DIR_REPLY also steps over our own
 * 03/04 request echoed back. 06 and 08 frames look the same both ways, so
 * METER_DIR_ANY calls them replies. TCP checks protocol id 0 and that the
 * MBAP length agrees with the PDU.
 */
int modbus_rtu_parse(const uint8_t *buf, size_t len, enum meter_dir dir,
                     struct meter_frame *f /* OUT */);
int modbus_tcp_parse(const uint8_t *buf, size_t len, enum meter_dir dir,
                     struct meter_frame *f /* OUT */);

/*
 * Register bytes (big-endian words, as on the wire) of r -> Wh in *wh.
 * XQ_EPROTO for NaN, infinity, negative energy or more than MODBUS_WH_MAX.
 */
#define MODBUS_WH_MAX 1000000000000000LL /* 10^12 kWh: beyond any meter */
int modbus_reg_to_wh(const struct modbus_reg *r, const uint8_t *regs, int64_t *wh /* OUT */);
/* Wh -> register bytes of r (simulator). XQ_EOVERFLOW if it does not fit r. */
int modbus_wh_to_reg(const struct modbus_reg *r, int64_t wh, uint8_t *regs /* OUT */);

/*
 * float32 bits (ABCD) x mul / div -> Wh, rounded to nearest, halves away
 * from zero, computed exactly from the bits (see modbus.c for why).
 */
int modbus_f32_to_wh(uint32_t bits, uint32_t mul, uint32_t div, int64_t *wh /* OUT */);
/* Wh x div / mul -> the nearest float32 (ties to even), as bits. */
int modbus_wh_to_f32(int64_t wh, uint32_t mul, uint32_t div, uint32_t *bits /* OUT */);

/* Exception code -> static text, English (zh = 0) or Chinese. Never NULL. */
const char *modbus_exc_text(uint8_t code, int zh);

/* Reply encoders (simulator). n register bytes, even, <= 250. */
int modbus_rtu_reply_read(uint8_t *buf, size_t cap, size_t *len /* OUT */, uint8_t unit, uint8_t fc,
                          const uint8_t *regs, size_t n);
int modbus_rtu_reply_exc(uint8_t *buf, size_t cap, size_t *len /* OUT */, uint8_t unit, uint8_t fc,
                         uint8_t code);
int modbus_tcp_reply_read(uint8_t *buf, size_t cap, size_t *len /* OUT */, uint16_t tid,
                          uint8_t unit, uint8_t fc, const uint8_t *regs, size_t n);
int modbus_tcp_reply_exc(uint8_t *buf, size_t cap, size_t *len /* OUT */, uint16_t tid,
                         uint8_t unit, uint8_t fc, uint8_t code);

extern const struct meter_proto proto_modbus_rtu;
extern const struct meter_proto proto_modbus_tcp;

#endif
