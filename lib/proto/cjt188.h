/*
 * cjt188.h - CJ/T 188-2004 water (and gas) meter frames:
 *
 *	[FE x 2..4] 68 T A0..A6 C L DI0 DI1 SER data CS 16
 *
 * T meter type, address 7 bytes BCD least significant first, L counts DI,
 * SER and data, CS = sum of 68 .. last data byte mod 256, no scrambling.
 * Builders for the collector (read current data 0x901F, read address 0x810A,
 * valve control 0xA017), reply encoders for the simulator, and a decoder of
 * the water/gas 0x901F reply into litres. Some vendors send DIs high byte
 * first; decoders accept both orders for known DIs and report which one.
 * Facts and examples: docs/meter-protocols.md section 5.
 *
 * Builders write into (buf, cap, *len) and return XQ_OK, XQ_EINVAL (bad
 * argument) or XQ_ETOOBIG (cap short; CJT188_FRAME_MAX always suffices).
 */
#ifndef XQ_CJT188_H
#define XQ_CJT188_H

#include "meter_proto.h"

#define CJT188_ADDR_LEN  7
#define CJT188_DATA_MAX  100 /* L bound (heat meter replies are 46); longer is rejected */
#define CJT188_PREAMBLE  2   /* FE bytes a master sends; battery meters may want more */
#define CJT188_FRAME_MAX (16 + 13 + CJT188_DATA_MAX)

/* Meter types T (5.1); 0xAA is the wildcard type. */
#define CJT188_T_COLD_WATER      0x10
#define CJT188_T_HOT_WATER       0x11
#define CJT188_T_DRINKING_WATER  0x12
#define CJT188_T_RECLAIMED_WATER 0x13
#define CJT188_T_HEAT            0x20
#define CJT188_T_COOLING         0x21
#define CJT188_T_GAS             0x30
#define CJT188_T_ELECTRIC        0x40

/* Control code (5.2) */
#define CJT188_C_REPLY      0x80
#define CJT188_C_ABNORMAL   0x40
#define CJT188_C_FUNC       0x3F
#define CJT188_F_READ       0x01
#define CJT188_F_READ_ADDR  0x03
#define CJT188_F_WRITE      0x04
#define CJT188_F_WRITE_ADDR 0x15
#define CJT188_F_SYNC       0x16

/* Data identifiers */
#define CJT188_DI_CURRENT    0x901Fu /* current cumulative flow, settlement flow, clock, ST */
#define CJT188_DI_READ_ADDR  0x810Au
#define CJT188_DI_VALVE      0xA017u /* data V: 0x55 open, 0x99 close */
#define CJT188_DI_WRITE_ADDR 0xA018u

#define CJT188_VALVE_OPEN  0x55
#define CJT188_VALVE_CLOSE 0x99

/* Unit codes used for volume (the full table: cjt188_unit_name()). */
#define CJT188_UNIT_L  0x29
#define CJT188_UNIT_M3 0x2C

/* values.err for an abnormal reply (C = 0xC0 | function): the standard has no ERR byte. */
#define CJT188_ERR_ABNORMAL 1

/* The 0x901F water/gas reply body (after DI and SER), 19 bytes (5.3). */
struct cjt188_current {
	uint32_t flow;   /* current cumulative flow, hundredths of unit (XXXXXX.XX) */
	uint8_t unit;    /* unit code of flow */
	uint32_t settle; /* flow at the last settlement date, hundredths of settle_unit */
	uint8_t settle_unit;
	struct meter_time clock;
	int have_clock; /* 0: the meter sent all zeros ("no clock") */
	uint8_t st[2];  /* ST0, ST1 */
};

/*
 * Low level: any frame, data = the whole data field (L = n <= 100).
 * type and addr as on the wire.
 */
int cjt188_encode(uint8_t *buf, size_t cap, size_t *len /* OUT */, size_t preamble, uint8_t type,
                  const uint8_t addr[CJT188_ADDR_LEN], uint8_t control, const uint8_t *data,
                  size_t n);
/* A frame whose data field is DI, SER, body[0, n). */
int cjt188_encode_di(uint8_t *buf, size_t cap, size_t *len /* OUT */, size_t preamble, uint8_t type,
                     const uint8_t addr[CJT188_ADDR_LEN], uint8_t control, uint16_t di,
                     int di_high_first, uint8_t ser, const uint8_t *body, size_t n);

/* Read one DI (C = 0x01, L = 3), e.g. CJT188_DI_CURRENT. */
int cjt188_build_read(uint8_t *buf, size_t cap, size_t *len /* OUT */, size_t preamble,
                      uint8_t type, const uint8_t addr[CJT188_ADDR_LEN], uint16_t di, uint8_t ser,
                      int di_high_first);
/* Read address (C = 0x03, address AA x 7), type T or 0xAA: one meter on the bus. */
int cjt188_build_read_addr(uint8_t *buf, size_t cap, size_t *len /* OUT */, size_t preamble,
                           uint8_t type, uint8_t ser, int di_high_first);
/* Valve control (C = 0x04, DI 0xA017): open != 0 sends 0x55, else 0x99. */
int cjt188_build_valve(uint8_t *buf, size_t cap, size_t *len /* OUT */, size_t preamble,
                       uint8_t type, const uint8_t addr[CJT188_ADDR_LEN], uint8_t ser, int open,
                       int di_high_first);

/* Find one frame (meter_proto.h rules). Checks 68, known T, 3 <= L <= 100, CS, 16. */
int cjt188_parse(const uint8_t *buf, size_t len, enum meter_dir dir,
                 struct meter_frame *f /* OUT */);

/*
 * The DI of a frame with DI and SER (data_len >= 3). A known DI is found in
 * either byte order (*high_first says which); XQ_ENOTFOUND for an unknown DI
 * (*di then holds it read low byte first), XQ_EPROTO if there is no DI.
 */
int cjt188_frame_di(const struct meter_frame *f, uint16_t *di /* OUT */, int *high_first /* OUT */);

/*
 * The 19-byte 0x901F body -> out: total_l, settle_l (litres, rounded down),
 * raw, unit, clock, status. XQ_EPROTO on bad BCD, a unit that is not a
 * volume, or an impossible clock.
 */
int cjt188_decode_current(const uint8_t *body, size_t n, struct meter_values *out /* IN/OUT */);
/* ST0 ST1 -> out->status / status_raw (valve, battery). */
void cjt188_decode_st(uint8_t st0, uint8_t st1, struct meter_values *out /* IN/OUT */);

/*
 * Check a valve reply (C = 0x84, DI 0xA017, SER, ST0 ST1) from the meter at
 * type/addr to request number ser: XQ_OK with the new status, or out->err
 * for an abnormal reply; XQ_EPROTO if f is not that reply.
 */
int cjt188_check_valve(const struct meter_addr *addr, uint8_t ser, const struct meter_frame *f,
                       struct meter_values *out /* OUT */);
/* Simulator side: the V byte of a valve request; XQ_EPROTO if f is not one. */
int cjt188_decode_valve(const struct meter_frame *f, int *open /* OUT */);

/* Reply encoders for the simulator. */
int cjt188_reply_current(uint8_t *buf, size_t cap, size_t *len /* OUT */, size_t preamble,
                         uint8_t type, const uint8_t addr[CJT188_ADDR_LEN], uint8_t ser,
                         int di_high_first, const struct cjt188_current *cur);
int cjt188_reply_addr(uint8_t *buf, size_t cap, size_t *len /* OUT */, size_t preamble,
                      uint8_t type, const uint8_t addr[CJT188_ADDR_LEN], uint8_t ser,
                      int di_high_first);
int cjt188_reply_valve(uint8_t *buf, size_t cap, size_t *len /* OUT */, size_t preamble,
                       uint8_t type, const uint8_t addr[CJT188_ADDR_LEN], uint8_t ser,
                       int di_high_first, uint8_t st0, uint8_t st1);
/* Abnormal reply C = 0xC0 | func, data SER ST0 ST1 (layout (verify)). */
int cjt188_reply_error(uint8_t *buf, size_t cap, size_t *len /* OUT */, size_t preamble,
                       uint8_t type, const uint8_t addr[CJT188_ADDR_LEN], uint8_t func, uint8_t ser,
                       uint8_t st0, uint8_t st1);

/* Litres -> hundredths of unit (0x29 L or 0x2C m³, m³ rounded down). XQ_EOVERFLOW past 8 digits. */
int cjt188_litres_to_flow(int64_t l, uint8_t unit, uint32_t *flow /* OUT */);
/* "m3", "L", "kWh" ... for a unit code, or NULL if unknown. */
const char *cjt188_unit_name(uint8_t unit);

extern const struct meter_proto proto_cjt188;

#endif
