/*
 * meter_proto.h - the meter protocol driver interface: one struct meter_proto
 * per wire protocol (DL/T 645-2007, DL/T 645-1997, Modbus RTU, Modbus TCP,
 * CJ/T 188-2004), found by name with proto_find(). Drivers are pure codecs:
 * bytes in, bytes out. They do no I/O, read no clock, never allocate and never
 * log; transports live behind struct link in collector/, and the simulator
 * answers with the same codecs. Protocol facts: docs/meter-protocols.md.
 *
 * Units (house style): electricity in Wh (*_wh), water in litres (*_l).
 *
 * Receiving. The caller keeps one receive buffer per link (METER_FRAME_MAX
 * bytes is always enough) and calls parse() after every read:
 *
 *	rc = p->parse(buf, len, METER_DIR_REPLY, &f);
 *	XQ_OK      a whole, checksummed frame sits at buf[f.start, f.consumed);
 *	           call p->decode(), then drop f.consumed bytes
 *	XQ_EAGAIN  no whole frame yet: drop f.skip bytes (garbage, wake-up FE,
 *	           our own echoed request), keep the rest, read >= f.need more
 *	XQ_EPROTO  a delimited frame is bad (f.why says how): log it, drop f.skip
 *	           bytes (always >= 1) and call parse() again at once; a good
 *	           frame may follow in the same buffer
 *
 * parse() hunts for a frame start anywhere in the buffer, never trusts a
 * length byte beyond the protocol's bound, checks checksum/CRC and end byte,
 * and never reads outside buf[0, len). A frame that cannot complete does not
 * hide a complete one behind it: if a later start forms a whole valid frame,
 * that frame is returned. After XQ_EAGAIN, len - f.skip < METER_FRAME_MAX, so
 * a buffer of METER_FRAME_MAX bytes never fills up with an undecided frame.
 *
 * Decoding. decode() checks that the frame answers the request (address or
 * wildcard, function, DI / register, sequence or transaction id) and fills
 * struct meter_values. An abnormal reply (DL/T 645 0xD1, Modbus exception,
 * CJ/T 188 0xC1) is XQ_OK with values.err != 0: the meter heard us and said
 * no, so do not retry it and do not count it as a timeout.
 */
#ifndef XQ_METER_PROTO_H
#define XQ_METER_PROTO_H

#include "xq.h"

#include <stddef.h>
#include <stdint.h>

/* Largest frame any driver accepts (Modbus TCP: 6 + 254), wake-up FE excluded. */
#define METER_FRAME_MAX 260
/* Largest data field a parsed frame carries (Modbus TCP PDU after the function code). */
#define METER_DATA_MAX 256
/* Longest address: CJ/T 188 has 7 bytes; DL/T 645 6; Modbus 1 (the unit id). */
#define METER_ADDR_MAX 7
/* Time-of-use tariffs we bill: 1 尖 sharp, 2 峰 peak, 3 平 flat, 4 谷 valley. */
#define METER_RATES 4
/* Buffer for meter_addr text: "10:" + 14 digits + NUL, with room to spare. */
#define METER_ADDR_STR 24

/* An address byte that matches any value (DL/T 645 and CJ/T 188 wildcards). */
#define METER_ADDR_WILD 0xAA

enum meter_kind {
	METER_ELECTRIC = 1, /* totals are energy, struct meter_values total_wh / rate_wh */
	METER_WATER,        /* totals are volume, struct meter_values total_l / settle_l */
};

enum meter_dir {
	METER_DIR_ANY = 0, /* take frames in both directions (tools, tests, fuzzers) */
	METER_DIR_REQUEST, /* we are a meter: skip other meters' replies on the bus */
	METER_DIR_REPLY,   /* we are the collector: skip our own request echoed back */
};

/*
 * A meter address in wire order. DL/T 645: 6 bytes BCD, least significant
 * first ("220123456789" is 89 67 45 23 01 22). CJ/T 188: 7 bytes the same way
 * plus the meter type T. Modbus: b[0] is the unit id (1..247).
 */
struct meter_addr {
	uint8_t b[METER_ADDR_MAX];
	uint8_t len;  /* bytes used in b */
	uint8_t type; /* CJ/T 188 meter type T (0x10 cold water ...); 0 elsewhere */
};

/* A meter's clock or a command deadline, as local time (CST, no DST). */
struct meter_time {
	int year; /* 2000..2099 */
	int mon;  /* 1..12 */
	int day;  /* 1..31, checked against the month */
	int hour; /* 0..23 */
	int min;  /* 0..59 */
	int sec;  /* 0..59 */
};

struct modbus_map; /* modbus.h: a meter model's register map */

/* What a read request asks for. */
enum meter_item {
	/* The billing register: forward active energy, or water cumulative
	 * flow; req.tariff picks the total, one rate, or all of them. */
	METER_READ_TOTAL = 1,
	METER_READ_COMBINED, /* DL/T 645-2007 combined active energy (signed); not for billing */
	METER_READ_ADDRESS,  /* the meter's own address; only with one meter on the bus */
	METER_READ_STATUS,   /* DL/T 645-2007 run status word 3 (relay state) */
};

/* req.tariff: 0 = total, 1..4 = one rate, METER_TARIFF_ALL = total and every rate. */
#define METER_TARIFF_ALL 0xFF

/* req.flags */
#define MREQ_NO_PREAMBLE   0x01 /* send no FE wake-up bytes (some gateways add their own) */
#define MREQ_DI_HIGH_FIRST 0x02 /* CJ/T 188 vendor quirk: DI high byte first on the wire */

/*
 * One read request, and also (for build_reply) one simulated meter's identity.
 * Zero-initialise it and set what applies to the protocol.
 */
struct meter_req {
	struct meter_addr addr;       /* who; AA bytes are wildcards (645, 188) */
	enum meter_item item;         /* what */
	uint8_t tariff;               /* METER_READ_TOTAL/COMBINED: 0, 1..4, METER_TARIFF_ALL */
	uint8_t period;               /* DL/T 645: 0 current, 1..12 previous settlement periods */
	uint8_t seq;                  /* CJ/T 188 SER, echoed by the meter */
	uint16_t tid;                 /* Modbus TCP transaction id, echoed by the meter */
	uint8_t preamble;             /* FE bytes to send; 0 = protocol default (645: 4, 188: 2) */
	unsigned flags;               /* MREQ_* */
	const struct modbus_map *map; /* Modbus: the meter model's register map (modbus.h) */
};

/* values.have */
#define MV_HAVE_WH     0x01 /* total_wh */
#define MV_HAVE_L      0x02 /* total_l */
#define MV_HAVE_SETTLE 0x04 /* settle_l */
#define MV_HAVE_CLOCK  0x08 /* clock */
#define MV_HAVE_STATUS 0x10 /* status, status_raw */
#define MV_HAVE_ADDR   0x20 /* addr */

/* values.status: protocol-neutral status bits */
#define MV_ST_VALVE_CLOSED   0x01 /* CJ/T 188 ST0 bits0-1 = 01 */
#define MV_ST_VALVE_ABNORMAL 0x02 /* CJ/T 188 ST0 bits0-1 = 11 or 10; valveless meters too */
#define MV_ST_BATTERY_LOW    0x04 /* CJ/T 188 ST0 bit2 */
#define MV_ST_RELAY_OPEN     0x08 /* DL/T 645 status word 3 bit4: supply cut */

/* values.err_class: what the collector should do about an abnormal reply */
#define MV_ERR_UNSUPPORTED 1 /* item not supported by this meter: remember, stop asking */
#define MV_ERR_AUTH        2 /* password / authority: fix configuration, do not retry */
#define MV_ERR_RETRY       3 /* busy, or a gateway could not reach the meter: retry later */
#define MV_ERR_OTHER       4 /* anything else the meter refused */

/* What a reply said. decode() zeroes it first; trust a field only if its have bit is set. */
struct meter_values {
	unsigned have;                /* MV_HAVE_* */
	int64_t total_wh;             /* active energy, Wh (combined energy may be < 0) */
	int64_t rate_wh[METER_RATES]; /* [0] sharp 尖, [1] peak 峰, [2] flat 平, [3] valley 谷 */
	unsigned have_rates;          /* bit i set: rate_wh[i] holds tariff i + 1 */
	int nrates;                   /* tariffs in a block reply (may exceed METER_RATES) */
	int64_t total_l;              /* water: cumulative flow now, litres (rounded down) */
	int64_t settle_l;             /* water: cumulative flow at the last settlement date */
	/* The total as sent, in its own resolution: hundredths for 645 and 188,
	 * the register contents for Modbus (a float register's IEEE-754 bits). */
	int64_t raw;
	uint8_t unit;            /* CJ/T 188 unit code of the current flow (0x29 L, 0x2C m³) */
	unsigned status;         /* MV_ST_* */
	uint32_t status_raw;     /* as sent: 188 ST0 | ST1 << 8; 645 status word 3 */
	struct meter_time clock; /* meter clock (MV_HAVE_CLOCK) */
	struct meter_addr addr;  /* the address the meter answered with */
	int more;                /* DL/T 645: follow-up frames exist (C = 0xB1) */
	int di_high_first;       /* CJ/T 188: the meter sent its DI high byte first */
	int err;                 /* abnormal reply: the protocol's raw code, else 0 */
	int err_class;           /* MV_ERR_* when err != 0 */
	const char *err_en;      /* static English text for the log when err != 0 */
	const char *err_zh;      /* static Chinese text for operators when err != 0 */
};

/*
 * One parsed frame, in the caller's storage (about 300 bytes). parse() fills
 * the first group on every return and the second only on XQ_OK.
 */
struct meter_frame {
	size_t skip;     /* leading bytes the caller may drop now */
	size_t need;     /* XQ_EAGAIN: no decision before this many more bytes (>= 1) */
	const char *why; /* XQ_EPROTO: static English reason, e.g. "bad checksum" */

	size_t start;           /* offset of the frame's first byte (after FE, garbage) */
	size_t len;             /* frame length from start */
	size_t consumed;        /* start + len: drop this many bytes when done */
	enum meter_dir dir;     /* METER_DIR_REQUEST or METER_DIR_REPLY */
	struct meter_addr addr; /* 645/188 address (+ T), Modbus unit id */
	uint8_t control;        /* 645/188 control code C; Modbus function (0x80: exception) */
	uint16_t tid;           /* Modbus TCP transaction id */
	/* DL/T 645: the data field minus 0x33; CJ/T 188: DI0 to the last data
	 * byte; Modbus: the PDU after the function code. */
	uint8_t data[METER_DATA_MAX];
	size_t data_len;
};

/*
 * A protocol driver. Every slot is set; a slot that does not apply to a
 * protocol returns XQ_EINVAL. Buffers are (buf, cap, *len): on success *len
 * is the frame length; on failure *len is 0 and buf holds nothing useful.
 */
struct meter_proto {
	/* Name for configuration and logs: "dlt645", "dlt645-1997", "modbus-rtu", "modbus-tcp",
	 * "cjt188". */
	const char *name;

	/* What totals measure: METER_ELECTRIC (Wh) or METER_WATER (litres). */
	enum meter_kind kind;

	/*
	 * Printed address -> wire address. 645: 12 digits (fewer are zero-padded),
	 * a byte pair may be "AA"; 188: optional "TT:" hex type then 14 digits
	 * (T defaults to 0x10 cold water); Modbus: unit id "0".."247".
	 * XQ_EINVAL on anything else.
	 */
	int (*addr_parse)(const char *text, struct meter_addr *out /* OUT */);

	/* Wire address -> printed form, NUL-terminated; XQ_ETOOBIG if n is short. */
	int (*addr_format)(const struct meter_addr *a, char *buf, size_t n);

	/*
	 * Encode the read request req describes, wake-up preamble included.
	 * XQ_EINVAL if the protocol or map cannot ask for that item,
	 * XQ_ETOOBIG if cap is short (METER_FRAME_MAX + 16 always suffices).
	 */
	int (*build_read)(const struct meter_req *req, uint8_t *buf, size_t cap,
	                  size_t *len /* OUT */);

	/* Find one frame in buf (see the top of this file). Never reads past len. */
	int (*parse)(const uint8_t *buf, size_t len, enum meter_dir dir,
	             struct meter_frame *f /* OUT */);

	/*
	 * Check that reply f answers req and decode it into out (zeroed first).
	 * XQ_OK (out->err says whether the meter refused), or XQ_EPROTO when the
	 * frame is for another meter/request, malformed, or holds bad BCD; then
	 * out->err_en carries the reason.
	 */
	int (*decode)(const struct meter_req *req, const struct meter_frame *f,
	              struct meter_values *out /* OUT */);

	/*
	 * Simulator side: answer request frame f as the meter self (its address,
	 * map, flags, preamble) whose registers are state. *len == 0 with XQ_OK
	 * means stay silent (broadcast, or addressed to another meter). Unknown
	 * items get the protocol's error reply, as a real meter would. state->err
	 * forces that error reply. XQ_EOVERFLOW if a value does not fit the wire
	 * format, XQ_ETOOBIG if cap is short.
	 */
	int (*build_reply)(const struct meter_req *self, const struct meter_frame *f,
	                   const struct meter_values *state, uint8_t *buf, size_t cap,
	                   size_t *len /* OUT */);
};

/* The driver called name, or NULL. The table lives in meter_proto.c. */
const struct meter_proto *proto_find(const char *name);

/* Every driver, for listing and tests; *n is set to the count. */
const struct meter_proto *const *proto_all(size_t *n /* OUT */);

/*
 * Helpers shared by the drivers, the simulator and tests.
 */

/* Little-endian BCD bytes -> integer. XQ_EPROTO on a nibble > 9; n <= 9. */
int meter_bcd_get(const uint8_t *le, size_t n, uint64_t *out /* OUT */);
/* Integer -> n little-endian BCD bytes. XQ_EOVERFLOW if v needs more than 2n digits. */
int meter_bcd_put(uint64_t v, uint8_t *le /* OUT */, size_t n);

/*
 * Printed BCD address (most significant digit first) -> nbytes wire bytes.
 * Digits only (left-padded with zeros), or exactly 2 * nbytes characters in
 * which a pair may be "AA"/"aa" (wildcard). XQ_EINVAL otherwise.
 */
int meter_addr_parse_bcd(const char *text, size_t nbytes, struct meter_addr *out /* OUT */);
/* Wire BCD address -> printed digits ("AA" for wildcard bytes). XQ_ETOOBIG if n is short. */
int meter_addr_format_bcd(const struct meter_addr *a, char *buf, size_t n);
/* 1 if every byte of a is BCD or the wildcard 0xAA, else 0. */
int meter_addr_valid_bcd(const struct meter_addr *a);
/*
 * 1 if a matches pattern: same length, and every byte equal or 0xAA in the
 * pattern. The CJ/T 188 type matches if equal or 0xAA in the pattern.
 */
int meter_addr_match(const struct meter_addr *pattern, const struct meter_addr *a);

/* 1 if t is a real date and time in 2000..2099, else 0. */
int meter_time_valid(const struct meter_time *t);

#endif
