/*
 * dlt645.h - DL/T 645-2007 (and the 1997 dialect) electricity meter frames:
 *
 *	[FE x 0..4] 68 A0..A5 68 C L D0..D(L-1) CS 16
 *
 * Address 6 bytes BCD, least significant first; data bytes travel as
 * plain + 0x33; CS = sum of 68 .. last data byte mod 256. Builders for the
 * collector (read, read address, broadcast time, remote trip/close), reply
 * encoders for the simulator, and decoders that check BCD digit by digit.
 * Facts and examples: docs/meter-protocols.md sections 2 and 3.
 *
 * Builders write into (buf, cap, *len) and return XQ_OK, XQ_EINVAL (bad
 * argument) or XQ_ETOOBIG (cap short; DLT645_FRAME_MAX always suffices).
 * `preamble` is the number of FE wake-up bytes to put first (0..16); masters
 * customarily send DLT645_PREAMBLE, meters 0.
 */
#ifndef XQ_DLT645_H
#define XQ_DLT645_H

#include "meter_proto.h"

#define DLT645_ADDR_LEN  6
#define DLT645_DATA_MAX  200 /* L bound for reads; longer length bytes are rejected */
#define DLT645_PREAMBLE  4   /* FE bytes a master sends */
#define DLT645_FRAME_MAX (16 + 12 + DLT645_DATA_MAX)

/* Control code C (2.3): direction, abnormal, follow-up bits and the function. */
#define DLT645_C_REPLY    0x80
#define DLT645_C_ABNORMAL 0x40
#define DLT645_C_MORE     0x20
#define DLT645_C_FUNC     0x1F

/* 2007 function codes */
#define DLT645_F_BCAST_TIME 0x08 /* no reply */
#define DLT645_F_READ       0x11 /* reply 0x91, 0xB1 with follow-up, error 0xD1 */
#define DLT645_F_READ_MORE  0x12
#define DLT645_F_READ_ADDR  0x13 /* reply 0x93, no error reply */
#define DLT645_F_WRITE      0x14
#define DLT645_F_CONTROL    0x1C /* reply 0x9C, error 0xDC */

/* 1997 function codes (3) */
#define DLT645_97_F_READ 0x01 /* reply 0x81, 0xA1 follow-up, error 0xC1 */

/* Data identifiers, written DI3 DI2 DI1 DI0 and sent DI0 first. */
#define DLT645_DI(di3, di2, di1, di0)                                                              \
	((uint32_t)(di3) << 24 | (uint32_t)(di2) << 16 | (uint32_t)(di1) << 8 | (uint32_t)(di0))
/* Energy: TT quantity, RR tariff (0 total, 1..4, 0xFF block), PP period (0 current). */
#define DLT645_DI_ENERGY(tt, rr, pp) DLT645_DI(0x00, tt, rr, pp)
#define DLT645_TT_COMBINED           0x00 /* combined active, signed */
#define DLT645_TT_FORWARD            0x01 /* forward (import) active: bill with this */
#define DLT645_TT_REVERSE            0x02 /* reverse (export) active */
#define DLT645_RR_BLOCK              0xFF
#define DLT645_DI_COMBINED_TOTAL     0x00000000u
#define DLT645_DI_FORWARD_TOTAL      0x00010000u
#define DLT645_DI_FORWARD_BLOCK      0x0001FF00u
#define DLT645_DI_DATE               0x04000101u /* YYMMDDWW, sent WW DD MM YY */
#define DLT645_DI_TIME               0x04000102u /* hhmmss, sent ss mm hh */
#define DLT645_DI_COMM_ADDR          0x04000401u /* 6 bytes BCD */
#define DLT645_DI_METER_NO           0x04000402u /* 6 bytes BCD */
#define DLT645_DI_STATUS1            0x04000501u
#define DLT645_DI_STATUS3            0x04000503u                    /* bit4: relay open */
#define DLT645_DI_DAILY_TIME(n)      DLT645_DI(0x05, 0x06, 0x00, n) /* n = 1..62 days back */
#define DLT645_DI_DAILY_FORWARD(n)   DLT645_DI(0x05, 0x06, 0x01, n) /* total + tariffs */

/* 1997 identifiers (2 bytes) */
#define DLT645_97_DI_FORWARD_TOTAL 0x9010u /* + 1..4 for the rates */
#define DLT645_97_DI_FORWARD_BLOCK 0x901Fu
#define DLT645_97_DI_METER_NO      0xC032u

/* ERR byte of an abnormal reply (2.8), 2007 meaning; 1997 differs, see dlt645_err_text(). */
#define DLT645_ERR_OTHER    0x01
#define DLT645_ERR_NO_DATA  0x02 /* DI not supported: remember and stop asking */
#define DLT645_ERR_PASSWORD 0x04 /* password wrong / not authorised */
#define DLT645_ERR_BAUD     0x08
#define DLT645_ERR_ZONES    0x10
#define DLT645_ERR_PERIODS  0x20
#define DLT645_ERR_TARIFFS  0x40

/* Remote control N1 (2.7). */
enum dlt645_ctl_cmd {
	DLT645_CTL_TRIP = 0x1A,        /* 拉闸: disconnect */
	DLT645_CTL_CLOSE_ALLOW = 0x1B, /* 合闸允许: resident presses the button */
	DLT645_CTL_CLOSE_NOW = 0x1C,   /* 直接合闸 (later amendment) */
	DLT645_CTL_ALARM = 0x2A,
	DLT645_CTL_ALARM_OFF = 0x2B,
	DLT645_CTL_PROTECT_ON = 0x3A, /* 保电: relay kept closed, trips ignored */
	DLT645_CTL_PROTECT_OFF = 0x3B,
};

/*
 * Remote control 0x1C payload, plaintext form (16 bytes before +0x33):
 * PA, P0..P2, C0..C3, N1, N2 = 00, deadline ss mm hh DD MM YY.
 * Assumptions (the doc leaves them to vendors): the password is 6 BCD digits
 * sent least significant pair first; the operator code is 4 opaque bytes
 * kept in wire order (C0 first); PA 0x98/0x99 (ESAM-encrypted content) is
 * refused because plaintext cannot produce it.
 */
struct dlt645_control {
	uint8_t pa;                 /* password level, e.g. 0x02 or 0x04 */
	uint32_t password;          /* 0..999999 */
	uint8_t op[4];              /* operator code C0..C3 as on the wire */
	uint8_t cmd;                /* enum dlt645_ctl_cmd */
	struct meter_time deadline; /* the meter refuses the command after this */
};

/* How a DI's value is written (for the items in the table in dlt645.c). */
enum dlt645_fmt {
	DLT645_FMT_BCD = 1, /* unsigned BCD, `decimals` implied digits */
	DLT645_FMT_SBCD,    /* BCD with the sign in the top bit */
	DLT645_FMT_ASCII,   /* text, sent last character first */
	DLT645_FMT_BITS,    /* binary bit field, little-endian */
	DLT645_FMT_TIME,    /* ss mm hh */
	DLT645_FMT_DATE,    /* WW DD MM YY */
};

struct dlt645_item {
	uint32_t di;
	uint8_t len;      /* value bytes */
	uint8_t fmt;      /* enum dlt645_fmt */
	uint8_t decimals; /* implied decimal digits */
	const char *name; /* English, for logs */
	const char *unit;
};

/* Low level: any frame. plain[0, n) is scrambled on the way out. n <= 255. */
int dlt645_encode(uint8_t *buf, size_t cap, size_t *len /* OUT */, size_t preamble,
                  const uint8_t addr[DLT645_ADDR_LEN], uint8_t control, const uint8_t *plain,
                  size_t n);

/* Read one DI (0x11, L = 4). */
int dlt645_build_read(uint8_t *buf, size_t cap, size_t *len /* OUT */, size_t preamble,
                      const uint8_t addr[DLT645_ADDR_LEN], uint32_t di);
/* 1997 read of a 2-byte DI (0x01, L = 2). */
int dlt645_97_build_read(uint8_t *buf, size_t cap, size_t *len /* OUT */, size_t preamble,
                         const uint8_t addr[DLT645_ADDR_LEN], uint16_t di);
/* Read communication address (0x13, address AA x 6): one meter on the bus. */
int dlt645_build_read_addr(uint8_t *buf, size_t cap, size_t *len /* OUT */, size_t preamble);
/*
 * Time sync (0x08) to addr, or to 99 x 6 (broadcast) when addr is NULL.
 * No meter answers. XQ_EINVAL unless meter_time_valid(t). The caller picks
 * the instant (not within 5 minutes of midnight or the hour, doc 6.7).
 */
int dlt645_build_time(uint8_t *buf, size_t cap, size_t *len /* OUT */, size_t preamble,
                      const uint8_t addr[DLT645_ADDR_LEN], const struct meter_time *t);
/* Remote trip / close / alarm / power-protect (0x1C). XQ_EINVAL on a bad field. */
int dlt645_build_control(uint8_t *buf, size_t cap, size_t *len /* OUT */, size_t preamble,
                         const uint8_t addr[DLT645_ADDR_LEN], const struct dlt645_control *c);

/* Find one frame (meter_proto.h rules). Checks 68..68, L <= 200, CS, 16. */
int dlt645_parse(const uint8_t *buf, size_t len, enum meter_dir dir,
                 struct meter_frame *f /* OUT */);

/* The DI of a parsed 2007 read request or normal read reply (data_len >= 4). */
int dlt645_frame_di(const struct meter_frame *f, uint32_t *di /* OUT */);
/* The DI of a parsed 1997 read request or reply (data_len >= 2). */
int dlt645_97_frame_di(const struct meter_frame *f, uint16_t *di /* OUT */);

/*
 * Decode the value bytes of an energy DI (any DI3 = 00 quantity, or a daily
 * freeze block 0x0506 01/02 NN): 4 bytes per value, XXXXXX.XX kWh (kvarh for
 * reactive quantities) -> total_wh, and for blocks rate_wh / have_rates /
 * nrates. Signed quantities (combined) carry the sign in the top bit.
 * XQ_EPROTO on bad BCD or a length that is not 4 (single) or 4 x (1 + k).
 */
int dlt645_decode_energy(uint32_t di, const uint8_t *val, size_t n,
                         struct meter_values *out /* IN/OUT */);
/* Plain value bytes (LE BCD) -> integer in the item's own resolution. XQ_EPROTO on bad BCD. */
int dlt645_decode_number(const uint8_t *val, size_t n, int is_signed, int64_t *out /* OUT */);
/* ASCII item (sent reversed, 00-padded) -> C string. XQ_EPROTO on a non-printable byte. */
int dlt645_decode_ascii(const uint8_t *val, size_t n, char *out, size_t cap);
/* The known item for di, or NULL (energy DIs: use dlt645_decode_energy). */
const struct dlt645_item *dlt645_item_find(uint32_t di);

/* Decoders for request frames, used by the simulator. XQ_EPROTO if malformed. */
int dlt645_decode_time(const struct meter_frame *f, struct meter_time *t /* OUT */);
int dlt645_decode_control(const struct meter_frame *f, struct dlt645_control *c /* OUT */);

/*
 * Check a reply to a command without data (0x1C control -> 0x9C; 0x14 write
 * -> 0x94) from meter addr: XQ_OK with out->err == 0 on success, out->err set
 * for an abnormal reply; XQ_EPROTO if f does not answer that command.
 */
int dlt645_check_ack(const uint8_t addr[DLT645_ADDR_LEN], uint8_t func, const struct meter_frame *f,
                     struct meter_values *out /* OUT */);

/*
 * Text for the most telling bit of an abnormal reply's ERR byte: English
 * (zh = 0) or Chinese (zh = 1), for 2007 (v97 = 0) or 1997 meters. Never NULL.
 */
const char *dlt645_err_text(uint8_t err, int v97, int zh);
/* Every set ERR bit, "; "-separated, NUL-terminated and truncated to n. Returns XQ_OK. */
int dlt645_err_describe(uint8_t err, int v97, int zh, char *buf, size_t n);

/* Reply encoders for the simulator (meters send preamble 0 unless configured). */
int dlt645_reply_read(uint8_t *buf, size_t cap, size_t *len /* OUT */, size_t preamble,
                      const uint8_t addr[DLT645_ADDR_LEN], uint32_t di, const uint8_t *val,
                      size_t n, int more);
int dlt645_97_reply_read(uint8_t *buf, size_t cap, size_t *len /* OUT */, size_t preamble,
                         const uint8_t addr[DLT645_ADDR_LEN], uint16_t di, const uint8_t *val,
                         size_t n);
/* Abnormal reply to function func (2007 or 1997 code) with ERR err. */
int dlt645_reply_error(uint8_t *buf, size_t cap, size_t *len /* OUT */, size_t preamble,
                       const uint8_t addr[DLT645_ADDR_LEN], uint8_t func, uint8_t err);
/* Reply to read address: 0x93 with the address in frame and data. */
int dlt645_reply_addr(uint8_t *buf, size_t cap, size_t *len /* OUT */, size_t preamble,
                      const uint8_t addr[DLT645_ADDR_LEN]);
/* Normal reply without data (0x9C, 0x94 ...): C = 0x80 | func, L = 0. */
int dlt645_reply_ack(uint8_t *buf, size_t cap, size_t *len /* OUT */, size_t preamble,
                     const uint8_t addr[DLT645_ADDR_LEN], uint8_t func);
/*
 * Energy in Wh -> 4 plain value bytes XXXXXX.XX kWh (Wh / 10, truncated
 * toward zero; the wire cannot say more). Negative only if is_signed.
 * XQ_EOVERFLOW beyond 999999.99 kWh (799999.99 signed), XQ_EINVAL if negative
 * and unsigned.
 */
int dlt645_encode_energy(int64_t wh, int is_signed, uint8_t out[4]);

extern const struct meter_proto proto_dlt645;
extern const struct meter_proto proto_dlt645_97;

#endif
