/*
 * test_cjt188.c - lib/proto/cjt188.c. Every CJ/T 188 frame of
 * /work/shared/vectors/meters/published-frames.json is below as a byte array
 * named after its vector id (the widely copied reply with checksum 08 must be
 * rejected), then the examples of docs/meter-protocols.md 5.3-5.4, DI byte
 * order in both directions, simulator round trips (flow, address, valve), and
 * hostile input: garbage, byte-by-byte delivery, truncation, bad L, bad CS,
 * bad BCD, wrong units, wrong SER/DI, heat-meter layouts.
 */
#include "proto/cjt188.h"
#include "test.h"
#include "proto_test.h"

#include <string.h>

/* The published frames, as published. */
/* cj188-p01 (master->meter, expect valid) */
static const uint8_t v_cj188_p01[] = {0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x10, 0x44, 0x33, 0x22, 0x11,
                                      0x00, 0x33, 0x78, 0x01, 0x03, 0x1F, 0x90, 0x00, 0x80, 0x16};
/* cj188-p02 (meter->master, expect bad_checksum) */
static const uint8_t v_cj188_p02[] = {0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x10, 0x44, 0x33, 0x22, 0x11,
                                      0x00, 0x33, 0x78, 0x81, 0x16, 0x1F, 0x90, 0x00, 0x00, 0x77,
                                      0x66, 0x55, 0x2C, 0x00, 0x77, 0x66, 0x55, 0x2C, 0x31, 0x01,
                                      0x22, 0x11, 0x05, 0x15, 0x20, 0x21, 0x84, 0x08, 0x16};
/* cj188-p03 (meter->master, expect valid) */
static const uint8_t v_cj188_p03[] = {0x68, 0x10, 0x44, 0x33, 0x22, 0x11, 0x00, 0x33, 0x78,
                                      0x81, 0x16, 0x1F, 0x90, 0x00, 0x00, 0x77, 0x66, 0x55,
                                      0x2C, 0x00, 0x77, 0x66, 0x55, 0x2C, 0x31, 0x01, 0x22,
                                      0x11, 0x05, 0x15, 0x20, 0x21, 0x84, 0x13, 0x16};
/* cj188-p04 (master->meter, expect valid) */
static const uint8_t v_cj188_p04[] = {0x68, 0x20, 0x44, 0x33, 0x22, 0x11, 0x00, 0x33,
                                      0x78, 0x01, 0x03, 0x1F, 0x90, 0x01, 0x91, 0x16};
/* cj188-p05 (master->meter, expect valid) */
static const uint8_t v_cj188_p05[] = {0x68, 0x10, 0x01, 0x00, 0x00, 0x05, 0x08, 0x00,
                                      0x00, 0x01, 0x03, 0x1F, 0x90, 0x00, 0x39, 0x16};
/* cj188-p06 (meter->master, expect valid) */
static const uint8_t v_cj188_p06[] = {0xFE, 0xFE, 0xFE, 0x68, 0x10, 0x01, 0x00, 0x00, 0x05, 0x08,
                                      0x00, 0x00, 0x81, 0x16, 0x90, 0x1F, 0x00, 0x00, 0x23, 0x01,
                                      0x00, 0x2C, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00,
                                      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x48, 0x16};
/* cj188-p07 (meter->master, expect valid) */
static const uint8_t v_cj188_p07[] = {0xFE, 0xFE, 0xFE, 0x68, 0x10, 0x18, 0x02, 0x12, 0x20, 0x20,
                                      0x00, 0x00, 0x81, 0x16, 0x90, 0x1F, 0x00, 0x00, 0x02, 0x00,
                                      0x00, 0x2C, 0x00, 0x02, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00,
                                      0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0x85, 0x16};
/* cj188-p08 (meter->master, expect valid) */
static const uint8_t v_cj188_p08[] = {0x68, 0x10, 0x01, 0x00, 0x00, 0x05, 0x08, 0x00,
                                      0x00, 0x83, 0x03, 0x81, 0x0A, 0x00, 0x97, 0x16};
/* cj188-p09 (master->meter, expect valid) */
static const uint8_t v_cj188_p09[] = {0x68, 0x10, 0x02, 0x00, 0x00, 0x05, 0x08, 0x00,
                                      0x00, 0x15, 0x0A, 0xA0, 0x18, 0x00, 0x01, 0x00,
                                      0x00, 0x05, 0x08, 0x00, 0x00, 0x6C, 0x16};
/* cj188-p10 (meter->master, expect valid) */
static const uint8_t v_cj188_p10[] = {0x68, 0x10, 0x69, 0x00, 0x01, 0x07, 0x17, 0x20, 0x00,
                                      0x81, 0x16, 0x1F, 0x90, 0x02, 0x00, 0x00, 0x00, 0x00,
                                      0x2C, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x59, 0x54, 0x16,
                                      0x19, 0x08, 0x17, 0x20, 0x13, 0x01, 0xEF, 0x16};
/* cj188-p11 (meter->master, expect valid) */
static const uint8_t v_cj188_p11[] = {0xFE, 0xFE, 0x68, 0x10, 0x26, 0x13, 0x06, 0x07, 0x00, 0x33,
                                      0x78, 0x81, 0x16, 0x1F, 0x90, 0x04, 0x00, 0x68, 0x00, 0x00,
                                      0x2C, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00,
                                      0x00, 0x00, 0x00, 0x00, 0x00, 0x73, 0x16};
/* cj188-p12 (master->meter, expect valid) */
static const uint8_t v_cj188_p12[] = {0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x10, 0x26, 0x13, 0x06, 0x07,
                                      0x00, 0x33, 0x78, 0x01, 0x03, 0x1F, 0x90, 0x04, 0x20, 0x16};
/* cj188-p13 (meter->master, expect valid) */
static const uint8_t v_cj188_p13[] = {0x68, 0x10, 0x50, 0x54, 0x77, 0x11, 0x18, 0x00, 0x00,
                                      0x81, 0x16, 0x1F, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00,
                                      0x2C, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00,
                                      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x5A, 0x16};
/* cj188-p14 (master->meter, expect valid) */
static const uint8_t v_cj188_p14[] = {0x68, 0x10, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA,
                                      0xAA, 0x01, 0x03, 0x1F, 0x90, 0x01, 0xD2, 0x16};
/* cj188-p15 (master->meter, expect valid) */
static const uint8_t v_cj188_p15[] = {0x68, 0x20, 0x48, 0x00, 0x69, 0x03, 0x00, 0x55,
                                      0x55, 0x01, 0x03, 0x1F, 0x90, 0x00, 0x99, 0x16};
/* cj188-p16 (master->meter, expect valid) */
static const uint8_t v_cj188_p16[] = {0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x20, 0xAA, 0xAA, 0xAA, 0xAA,
                                      0xAA, 0x11, 0x11, 0x01, 0x03, 0x1F, 0x90, 0x00, 0xAF, 0x16};
/* cj188-p17 (master->meter, expect valid) */
static const uint8_t v_cj188_p17[] = {0xFE, 0xFE, 0x68, 0x20, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA,
                                      0xAA, 0xAA, 0x01, 0x03, 0x1F, 0x90, 0x00, 0xE1, 0x16};
/* cj188-p18 (master->meter, expect valid) */
static const uint8_t v_cj188_p18[] = {0x68, 0x19, 0x04, 0x80, 0x59, 0x09, 0x14, 0x00,
                                      0x00, 0x01, 0x03, 0x1F, 0x90, 0x01, 0x2F, 0x16};

enum kind {
	K_READ,    /* 0x01 read request: parse, rebuild byte-exact */
	K_CURRENT, /* 0x81 0x901F reply: litres, clock, status; rebuild */
	K_ADDR,    /* 0x83 read-address reply */
	K_WADDR,   /* 0x15 write-address request */
	K_BAD_CS,  /* must be rejected: bad checksum */
};

struct vec {
	const char *id;
	const uint8_t *b;
	size_t n;
	enum kind kind;
	size_t fe;
	uint8_t type;
	const char *addr; /* 14 digits as printed */
	uint8_t control;
	uint16_t di;
	int high_first; /* DI sent high byte first (vendor quirk) */
	uint8_t ser;
	int64_t l; /* cumulative flow, litres */
	int64_t settle_l;
	const char *text; /* K_CURRENT: the clock (NULL: none sent); K_WADDR: the new address */
	uint16_t st;      /* ST0 | ST1 << 8 */
	unsigned status;  /* MV_ST_* */
};

/* clang-format off */
#define V(name, ...) { #name, v_##name, sizeof(v_##name), __VA_ARGS__ }
/* clang-format on */
#define CLOSED   MV_ST_VALVE_CLOSED
#define ABNORMAL MV_ST_VALVE_ABNORMAL

/* Written from each vector's "meaning": m³ x 1000 = litres. */
/* clang-format off */
static const struct vec vectors[] = {
	/* id, kind, FE bytes, T, address, C, DI, DI high first, SER,
	 * litres, settlement litres, text, ST1 ST0, status bits */
	V(cj188_p01, K_READ,    4, 0x10, "78330011223344", 0x01, 0x901F, 0, 0, 0, 0, NULL, 0, 0),
	V(cj188_p02, K_BAD_CS,  4, 0x10, "78330011223344", 0x81, 0x901F, 0, 0, 0, 0, NULL, 0, 0),
	V(cj188_p03, K_CURRENT, 0, 0x10, "78330011223344", 0x81, 0x901F, 0, 0, 556677000, 556677000,
	  "2015-05-11 22:01:31", 0x8421, CLOSED),
	V(cj188_p04, K_READ,    0, 0x20, "78330011223344", 0x01, 0x901F, 0, 1, 0, 0, NULL, 0, 0),
	V(cj188_p05, K_READ,    0, 0x10, "00000805000001", 0x01, 0x901F, 0, 0, 0, 0, NULL, 0, 0),
	V(cj188_p06, K_CURRENT, 3, 0x10, "00000805000001", 0x81, 0x901F, 1, 0, 123000, 0,
	  NULL, 0x0000, 0),
	V(cj188_p07, K_CURRENT, 3, 0x10, "00002020120218", 0x81, 0x901F, 1, 0, 2000, 2000,
	  NULL, 0xFF00, 0),
	V(cj188_p08, K_ADDR,    0, 0x10, "00000805000001", 0x83, 0x810A, 1, 0, 0, 0, NULL, 0, 0),
	V(cj188_p09, K_WADDR,   0, 0x10, "00000805000002", 0x15, 0xA018, 1, 0, 0, 0,
	  "00000805000001", 0, 0),
	V(cj188_p10, K_CURRENT, 0, 0x10, "00201707010069", 0x81, 0x901F, 0, 2, 0, 0,
	  "2017-08-19 16:54:59", 0x0113, ABNORMAL),
	V(cj188_p11, K_CURRENT, 2, 0x10, "78330007061326", 0x81, 0x901F, 0, 4, 68000, 0,
	  NULL, 0, 0),
	V(cj188_p12, K_READ,    4, 0x10, "78330007061326", 0x01, 0x901F, 0, 4, 0, 0, NULL, 0, 0),
	V(cj188_p13, K_CURRENT, 0, 0x10, "00001811775450", 0x81, 0x901F, 0, 0, 0, 0, NULL, 0, 0),
	V(cj188_p14, K_READ,    0, 0x10, "AAAAAAAAAAAAAA", 0x01, 0x901F, 0, 1, 0, 0, NULL, 0, 0),
	V(cj188_p15, K_READ,    0, 0x20, "55550003690048", 0x01, 0x901F, 0, 0, 0, 0, NULL, 0, 0),
	V(cj188_p16, K_READ,    4, 0x20, "1111AAAAAAAAAA", 0x01, 0x901F, 0, 0, 0, 0, NULL, 0, 0),
	V(cj188_p17, K_READ,    2, 0x20, "AAAAAAAAAAAAAA", 0x01, 0x901F, 0, 0, 0, 0, NULL, 0, 0),
	V(cj188_p18, K_READ,    0, 0x19, "00001409598004", 0x01, 0x901F, 0, 1, 0, 0, NULL, 0, 0),
};
/* clang-format on */

static struct meter_addr addr_of(uint8_t type, const char *digits)
{
	struct meter_addr a;

	CHECK_EQ_I64(meter_addr_parse_bcd(digits, CJT188_ADDR_LEN, &a), XQ_OK);
	a.type = type;
	return a;
}

#define CHECK_SAME(v, out, len)                                                                    \
	do {                                                                                       \
		CHECK_EQ_I64((len), (v)->n);                                                       \
		if ((len) == (v)->n && memcmp((out), (v)->b, (v)->n) != 0)                         \
			CHECK(!"rebuilt frame differs from the published one");                    \
	} while (0)

static void check_vector(const struct vec *v)
{
	struct meter_addr a = addr_of(v->type, v->addr);
	struct meter_req req = {.addr = a, .item = METER_READ_TOTAL, .seq = v->ser};
	struct meter_frame f;
	struct meter_values mv;
	uint8_t out[CJT188_FRAME_MAX];
	char s[32];
	size_t len = 0;
	uint16_t di = 0;
	int hf = -1, rc;

	test_name_ = v->id;
	rc = cjt188_parse(v->b, v->n, METER_DIR_ANY, &f);
	if (v->kind == K_BAD_CS) {
		CHECK_EQ_I64(rc, XQ_EPROTO);
		CHECK_STR(f.why, "bad checksum");
		CHECK_EQ_I64(f.skip, v->fe + 1);
		CHECK(cjt188_parse(v->b + f.skip, v->n - f.skip, METER_DIR_ANY, &f) != XQ_OK);
		return;
	}
	CHECK_EQ_I64(rc, XQ_OK);
	if (rc != XQ_OK)
		return;
	CHECK_EQ_I64(f.start, v->fe);
	CHECK_EQ_I64(f.consumed, v->n);
	CHECK_EQ_I64(f.control, v->control);
	CHECK_EQ_I64(f.addr.type, v->type);
	CHECK_STR((meter_addr_format_bcd(&f.addr, s, sizeof(s)), s), v->addr);
	CHECK_EQ_I64(f.dir, (v->control & 0x80) ? METER_DIR_REPLY : METER_DIR_REQUEST);
	CHECK_EQ_I64(cjt188_frame_di(&f, &di, &hf), XQ_OK);
	CHECK_EQ_I64(di, v->di);
	CHECK_EQ_I64(hf, v->high_first);
	CHECK_EQ_I64(f.data[2], v->ser);
	/* from the other side of the bus it is skipped whole */
	CHECK_EQ_I64(cjt188_parse(v->b, v->n,
	                          f.dir == METER_DIR_REPLY ? METER_DIR_REQUEST : METER_DIR_REPLY,
	                          &f),
	             XQ_EAGAIN);
	CHECK_EQ_I64(f.skip, v->n);
	CHECK_EQ_I64(cjt188_parse(v->b, v->n, METER_DIR_ANY, &f), XQ_OK);

	switch (v->kind) {
	case K_READ:
		CHECK_EQ_I64(f.data_len, 3);
		CHECK_EQ_I64(cjt188_build_read(out, sizeof(out), &len, v->fe, v->type, a.b, v->di,
		                               v->ser, v->high_first),
		             XQ_OK);
		CHECK_SAME(v, out, len);
		break;
	case K_CURRENT: {
		struct cjt188_current cur = {.unit = CJT188_UNIT_M3, .settle_unit = CJT188_UNIT_M3};

		CHECK_EQ_I64(proto_cjt188.decode(&req, &f, &mv), XQ_OK);
		CHECK_EQ_I64(mv.err, 0);
		CHECK_EQ_I64(mv.have & (MV_HAVE_L | MV_HAVE_SETTLE | MV_HAVE_STATUS),
		             MV_HAVE_L | MV_HAVE_SETTLE | MV_HAVE_STATUS);
		CHECK_EQ_I64(mv.total_l, v->l);
		CHECK_EQ_I64(mv.settle_l, v->settle_l);
		CHECK_EQ_I64(mv.unit, CJT188_UNIT_M3);
		CHECK_EQ_I64(mv.raw, v->l / 10);
		CHECK_EQ_I64(mv.status_raw, v->st);
		CHECK_EQ_I64(mv.status, v->status);
		CHECK_EQ_I64(mv.di_high_first, v->high_first);
		if (v->text) {
			CHECK(mv.have & MV_HAVE_CLOCK);
			CHECK_STR(time_str(&mv.clock, s, sizeof(s)), v->text);
		} else {
			CHECK(!(mv.have & MV_HAVE_CLOCK));
		}
		/* and the simulator's encoder gives the same bytes back */
		cur.flow = (uint32_t)(v->l / 10);
		cur.settle = (uint32_t)(v->settle_l / 10);
		cur.clock = mv.clock;
		cur.have_clock = v->text != NULL;
		cur.st[0] = (uint8_t)v->st;
		cur.st[1] = (uint8_t)(v->st >> 8);
		CHECK_EQ_I64(cjt188_reply_current(out, sizeof(out), &len, v->fe, v->type, a.b,
		                                  v->ser, v->high_first, &cur),
		             XQ_OK);
		CHECK_SAME(v, out, len);
		break;
	}
	case K_ADDR:
		req.item = METER_READ_ADDRESS;
		memset(&req.addr, 0, sizeof(req.addr));
		CHECK_EQ_I64(proto_cjt188.decode(&req, &f, &mv), XQ_OK);
		CHECK(mv.have & MV_HAVE_ADDR);
		CHECK_EQ_I64(proto_cjt188.addr_format(&mv.addr, s, sizeof(s)), XQ_OK);
		CHECK_STR(s, "10:00000805000001");
		CHECK_EQ_I64(mv.di_high_first, 1);
		CHECK_EQ_I64(
		    cjt188_reply_addr(out, sizeof(out), &len, v->fe, v->type, a.b, v->ser, 1),
		    XQ_OK);
		CHECK_SAME(v, out, len);
		break;
	case K_WADDR: {
		struct meter_addr na = {.len = CJT188_ADDR_LEN};

		CHECK_EQ_I64(f.data_len, 10);
		memcpy(na.b, f.data + 3, CJT188_ADDR_LEN);
		CHECK_STR((meter_addr_format_bcd(&na, s, sizeof(s)), s), v->text);
		CHECK_EQ_I64(cjt188_encode_di(out, sizeof(out), &len, v->fe, v->type, a.b, 0x15,
		                              v->di, 1, v->ser, na.b, CJT188_ADDR_LEN),
		             XQ_OK);
		CHECK_SAME(v, out, len);
		break;
	}
	case K_BAD_CS:
		break;
	}
}

TEST(published_vectors)
{
	int bad = 0;

	for (size_t i = 0; i < XQ_ARRAY_LEN(vectors); i++) {
		check_vector(&vectors[i]);
		bad += vectors[i].kind == K_BAD_CS;
	}
	test_name_ = "published_vectors";
	CHECK_EQ_I64(XQ_ARRAY_LEN(vectors), 18);
	CHECK_EQ_I64(bad, 1);
}

static struct meter_req doc_req(void)
{
	struct meter_req req = {.item = METER_READ_TOTAL, .seq = 1};

	CHECK_EQ_I64(proto_cjt188.addr_parse("10:12345678901234", &req.addr), XQ_OK);
	return req;
}

static size_t doc_reply(uint8_t *b, size_t cap)
{
	return unhex("68 10 34 12 90 78 56 34 12 81 16 1F 90 01 45 23 01 00 2C 00 10 01 00 2C"
	             " 00 15 09 10 03 25 20 00 00 F1 16",
	             b, cap);
}

/* docs/meter-protocols.md 5.3 and 5.4, meter 12345678901234, cold water. */
TEST(doc_examples)
{
	const struct meter_proto *p = proto_find("cjt188");
	struct meter_req req = doc_req();
	uint8_t want[64], out[CJT188_FRAME_MAX];
	struct meter_frame f;
	struct meter_values v;
	size_t n, len;
	char s[32];

	CHECK(p == &proto_cjt188);
	CHECK_EQ_I64(p->kind, METER_WATER);
	n = unhex("FE FE 68 10 34 12 90 78 56 34 12 01 03 1F 90 01 16 16", want, sizeof(want));
	CHECK_EQ_I64(p->build_read(&req, out, sizeof(out), &len), XQ_OK);
	CHECK(len == n && memcmp(out, want, n) == 0);

	n = doc_reply(want, sizeof(want));
	CHECK_EQ_I64(p->parse(want, n, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(p->decode(&req, &f, &v), XQ_OK);
	CHECK_EQ_I64(v.total_l, 123450);  /* 123.45 m³ */
	CHECK_EQ_I64(v.settle_l, 110000); /* 110.00 m³ */
	CHECK_STR(time_str(&v.clock, s, sizeof(s)), "2025-03-10 09:15:00");
	CHECK_EQ_I64(v.status, 0); /* valve open, battery fine */
	CHECK(v.have & MV_HAVE_STATUS);

	n = unhex("FE FE 68 10 34 12 90 78 56 34 12 04 04 17 A0 02 55 78 16", want, sizeof(want));
	CHECK_EQ_I64(cjt188_build_valve(out, sizeof(out), &len, 2, 0x10, req.addr.b, 2, 1, 0),
	             XQ_OK);
	CHECK(len == n && memcmp(out, want, n) == 0);
	{
		int open = 0;

		CHECK_EQ_I64(cjt188_parse(want, n, METER_DIR_REQUEST, &f), XQ_OK);
		CHECK_EQ_I64(cjt188_decode_valve(&f, &open), XQ_OK);
		CHECK_EQ_I64(open, 1);
	}
	/* read address, one meter on the bus (5.5) */
	req.item = METER_READ_ADDRESS;
	memset(&req.addr, 0, sizeof(req.addr));
	n = unhex("FE FE 68 AA AA AA AA AA AA AA AA 03 03 0A 81 01", want, sizeof(want));
	CHECK_EQ_I64(p->build_read(&req, out, sizeof(out), &len), XQ_OK);
	CHECK(len == n + 2 && memcmp(out, want, n) == 0);
}

TEST(addresses)
{
	struct meter_addr a;
	char s[METER_ADDR_STR];

	CHECK_EQ_I64(proto_cjt188.addr_parse("12345678901234", &a), XQ_OK);
	CHECK_EQ_I64(a.type, CJT188_T_COLD_WATER);
	CHECK_EQ_I64(a.b[0], 0x34);
	CHECK_EQ_I64(a.b[6], 0x12);
	CHECK_EQ_I64(proto_cjt188.addr_parse("30:12345678901234", &a), XQ_OK);
	CHECK_EQ_I64(a.type, CJT188_T_GAS);
	CHECK_EQ_I64(proto_cjt188.addr_format(&a, s, sizeof(s)), XQ_OK);
	CHECK_STR(s, "30:12345678901234");
	CHECK_EQ_I64(proto_cjt188.addr_parse("1111AAAAAAAAAA", &a), XQ_OK);
	CHECK_EQ_I64(proto_cjt188.addr_parse("99:12345678901234", &a),
	             XQ_EINVAL); /* no such type */
	CHECK_EQ_I64(proto_cjt188.addr_parse("1G:12345678901234", &a), XQ_EINVAL);
	CHECK_EQ_I64(proto_cjt188.addr_parse("123456789012345", &a), XQ_EINVAL);
	CHECK_EQ_I64(proto_cjt188.addr_parse(NULL, &a), XQ_EINVAL);
	CHECK_EQ_I64(proto_cjt188.addr_format(&a, s, 3), XQ_ETOOBIG);
	CHECK_STR(cjt188_unit_name(0x2C), "m3");
	CHECK(cjt188_unit_name(0x2D) == NULL);
}

/* A cold-water meter at 12345678901234 for the simulator side. */
static void sim_meter(struct meter_req *self, struct meter_values *st)
{
	memset(self, 0, sizeof(*self));
	memset(st, 0, sizeof(*st));
	CHECK_EQ_I64(proto_cjt188.addr_parse("12345678901234", &self->addr), XQ_OK);
	st->have = MV_HAVE_L | MV_HAVE_SETTLE | MV_HAVE_CLOCK;
	st->total_l = 123450;
	st->settle_l = 110000;
	st->clock = (struct meter_time){2025, 3, 10, 9, 15, 0};
	st->status_raw = 0x0004; /* battery low, valve open */
}

static int round_trip(const struct meter_req *req, const struct meter_req *self,
                      const struct meter_values *st, struct meter_values *got, size_t *reply_len)
{
	const struct meter_proto *p = &proto_cjt188;
	uint8_t wire[CJT188_FRAME_MAX], reply[CJT188_FRAME_MAX];
	struct meter_frame f;
	size_t n, m;
	int rc;

	*reply_len = 0;
	if ((rc = p->build_read(req, wire, sizeof(wire), &n)) != XQ_OK)
		return rc;
	if ((rc = p->parse(wire, n, METER_DIR_REQUEST, &f)) != XQ_OK)
		return rc;
	if ((rc = p->build_reply(self, &f, st, reply, sizeof(reply), &m)) != XQ_OK)
		return rc;
	*reply_len = m;
	if (m == 0)
		return XQ_OK;
	if ((rc = p->parse(reply, m, METER_DIR_REPLY, &f)) != XQ_OK)
		return rc;
	return p->decode(req, &f, got);
}

TEST(round_trips)
{
	struct meter_req self, req;
	struct meter_values st, v;
	size_t m;

	sim_meter(&self, &st);
	req = self;
	req.item = METER_READ_TOTAL;
	req.seq = 9;
	CHECK_EQ_I64(round_trip(&req, &self, &st, &v, &m), XQ_OK);
	CHECK_EQ_I64(v.total_l, 123450);
	CHECK_EQ_I64(v.settle_l, 110000);
	CHECK_EQ_I64(v.status, MV_ST_BATTERY_LOW);
	CHECK_EQ_I64(v.clock.min, 15);
	CHECK_EQ_I64(v.unit, CJT188_UNIT_M3);
	/* m³ registers hold 10 L steps: 123456 L reads back as 123450 */
	st.total_l = 123456;
	CHECK_EQ_I64(round_trip(&req, &self, &st, &v, &m), XQ_OK);
	CHECK_EQ_I64(v.total_l, 123450);
	/* a litre register keeps every litre */
	st.unit = CJT188_UNIT_L;
	CHECK_EQ_I64(round_trip(&req, &self, &st, &v, &m), XQ_OK);
	CHECK_EQ_I64(v.total_l, 123456);
	CHECK_EQ_I64(v.unit, CJT188_UNIT_L);
	CHECK_EQ_I64(v.raw, 12345600);
	st.total_l = 1000000; /* 1 000 000.00 L does not fit XXXXXX.XX */
	CHECK_EQ_I64(round_trip(&req, &self, &st, &v, &m), XQ_EOVERFLOW);
	st.unit = 0;
	st.total_l = 999999990; /* 999999.99 m³: the rollover edge */
	CHECK_EQ_I64(round_trip(&req, &self, &st, &v, &m), XQ_OK);
	CHECK_EQ_I64(v.total_l, 999999990);
	st.total_l = 123450;
	/* a vendor that sends DIs high byte first, and a collector told so */
	self.flags = MREQ_DI_HIGH_FIRST;
	CHECK_EQ_I64(round_trip(&req, &self, &st, &v, &m), XQ_OK);
	CHECK_EQ_I64(v.di_high_first, 1);
	req.flags = MREQ_DI_HIGH_FIRST;
	CHECK_EQ_I64(round_trip(&req, &self, &st, &v, &m), XQ_OK);
	CHECK_EQ_I64(v.total_l, 123450);
	self.flags = req.flags = 0;
	/* no clock: zeros on the wire, no clock decoded */
	st.have &= ~(unsigned)MV_HAVE_CLOCK;
	CHECK_EQ_I64(round_trip(&req, &self, &st, &v, &m), XQ_OK);
	CHECK(!(v.have & MV_HAVE_CLOCK));
	/* read address through the wildcard */
	req.item = METER_READ_ADDRESS;
	CHECK_EQ_I64(round_trip(&req, &self, &st, &v, &m), XQ_OK);
	CHECK(meter_addr_match(&self.addr, &v.addr));
	/* wildcard type and address reach the meter too */
	req.item = METER_READ_TOTAL;
	CHECK_EQ_I64(proto_cjt188.addr_parse("AA:AAAAAAAAAAAAAA", &req.addr), XQ_OK);
	CHECK_EQ_I64(round_trip(&req, &self, &st, &v, &m), XQ_OK);
	CHECK_EQ_I64(v.total_l, 123450);
	/* another meter: silence */
	CHECK_EQ_I64(proto_cjt188.addr_parse("12345678901235", &req.addr), XQ_OK);
	CHECK_EQ_I64(round_trip(&req, &self, &st, &v, &m), XQ_OK);
	CHECK_EQ_I64(m, 0);
	/* forced abnormal reply: SER ST0 ST1 */
	req.addr = self.addr;
	st.err = 1;
	st.status_raw = 0x0003;
	CHECK_EQ_I64(round_trip(&req, &self, &st, &v, &m), XQ_OK);
	CHECK_EQ_I64(v.err, CJT188_ERR_ABNORMAL);
	CHECK_EQ_I64(v.status, MV_ST_VALVE_ABNORMAL);
	CHECK_STR(v.err_zh, "水表返回异常应答（见状态字）");
	CHECK(!(v.have & MV_HAVE_L));
	/* water meters have no tariffs */
	req.tariff = 1;
	{
		uint8_t buf[64];

		CHECK_EQ_I64(proto_cjt188.build_read(&req, buf, sizeof(buf), &m), XQ_EINVAL);
	}
}

TEST(valve)
{
	struct meter_req self;
	struct meter_values st, v;
	uint8_t wire[64], reply[64];
	struct meter_frame f;
	size_t n, m;

	sim_meter(&self, &st);
	for (int open = 0; open <= 1; open++) {
		CHECK_EQ_I64(
		    cjt188_build_valve(wire, sizeof(wire), &n, 2, 0x10, self.addr.b, 5, open, 0),
		    XQ_OK);
		CHECK_EQ_I64(cjt188_parse(wire, n, METER_DIR_REQUEST, &f), XQ_OK);
		CHECK_EQ_I64(proto_cjt188.build_reply(&self, &f, &st, reply, sizeof(reply), &m),
		             XQ_OK);
		CHECK_EQ_I64(cjt188_parse(reply, m, METER_DIR_REPLY, &f), XQ_OK);
		CHECK_EQ_I64(f.control, 0x84);
		CHECK_EQ_I64(cjt188_check_valve(&self.addr, 5, &f, &v), XQ_OK);
		CHECK_EQ_I64(v.err, 0);
		CHECK_EQ_I64(v.status, (open ? 0u : MV_ST_VALVE_CLOSED) | MV_ST_BATTERY_LOW);
		/* a reply to another request number is not ours */
		CHECK_EQ_I64(cjt188_check_valve(&self.addr, 6, &f, &v), XQ_EPROTO);
	}
	/* V other than 55/99: the simulator answers abnormal */
	CHECK_EQ_I64(cjt188_build_valve(wire, sizeof(wire), &n, 0, 0x10, self.addr.b, 5, 1, 0),
	             XQ_OK);
	wire[14] = 0x77;
	wire[15] = (uint8_t)(wire[15] + 0x77 - 0x55);
	CHECK_EQ_I64(cjt188_parse(wire, n, METER_DIR_REQUEST, &f), XQ_OK);
	CHECK_EQ_I64(proto_cjt188.build_reply(&self, &f, &st, reply, sizeof(reply), &m), XQ_OK);
	CHECK_EQ_I64(cjt188_parse(reply, m, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(f.control, 0xC4);
	CHECK_EQ_I64(cjt188_check_valve(&self.addr, 5, &f, &v), XQ_OK);
	CHECK_EQ_I64(v.err, CJT188_ERR_ABNORMAL);
}

TEST(garbage_split_truncated)
{
	uint8_t buf[128], rx[2 * METER_FRAME_MAX];
	struct meter_req req = doc_req();
	struct meter_frame f;
	struct meter_values v;
	size_t n, rn, off = 0;
	int agains, nbad;

	/* M-Bus collector chatter, a lone 68 with an unknown type, then FE FE */
	memcpy(buf, "+OK\r\n", 5);
	n = 5 + unhex("68 05 00 FE FE", buf + 5, sizeof(buf) - 5);
	rn = doc_reply(buf + n, sizeof(buf) - n);
	n += rn;
	CHECK_EQ_I64(cjt188_parse(buf, n, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(f.start, n - rn);
	CHECK_EQ_I64(proto_cjt188.decode(&req, &f, &v), XQ_OK);
	CHECK_EQ_I64(v.total_l, 123450);
	CHECK_EQ_I64(
	    feed_bytewise(&proto_cjt188, buf, n, METER_DIR_REPLY, rx, sizeof(rx), &f, &agains),
	    XQ_OK);
	CHECK_EQ_I64(agains, (int)n - 1);
	for (size_t k = 0; k < rn; k++)
		CHECK_EQ_I64(cjt188_parse(buf + n - rn, k, METER_DIR_REPLY, &f), XQ_EAGAIN);
	/* a stray 68 10 header claiming L = 100 does not hide the reply behind it */
	n = unhex("68 10 00 00 00 00 00 00 00 81 64", buf, sizeof(buf));
	n += doc_reply(buf + n, sizeof(buf) - n);
	CHECK_EQ_I64(cjt188_parse(buf, n, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(f.start, 11);
	/* the widely copied bad reply (cj188-p02) then a good one */
	memcpy(buf, v_cj188_p02, sizeof(v_cj188_p02));
	memcpy(buf + sizeof(v_cj188_p02), v_cj188_p03, sizeof(v_cj188_p03));
	CHECK_EQ_I64(parse_loop(&proto_cjt188, buf, sizeof(v_cj188_p02) + sizeof(v_cj188_p03),
	                        METER_DIR_REPLY, &f, &off, &nbad),
	             XQ_OK);
	CHECK_EQ_I64(nbad, 1);
	CHECK_EQ_I64(off + f.start, sizeof(v_cj188_p02));
	/* our request echoed, then the reply */
	CHECK_EQ_I64(proto_cjt188.build_read(&req, buf, sizeof(buf), &n), XQ_OK);
	n += doc_reply(buf + n, sizeof(buf) - n);
	CHECK_EQ_I64(cjt188_parse(buf, n, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(proto_cjt188.decode(&req, &f, &v), XQ_OK);
}

TEST(bad_lengths_and_checksums)
{
	uint8_t buf[128];
	struct meter_frame f;
	size_t n;

	n = unhex("68 10 34 12 90 78 56 34 12 81 65", buf, sizeof(buf)); /* L = 101 */
	CHECK_EQ_I64(cjt188_parse(buf, n, METER_DIR_REPLY, &f), XQ_EPROTO);
	CHECK_STR(f.why, "length field over 100");
	CHECK_EQ_I64(f.skip, 1);
	n = unhex("68 10 34 12 90 78 56 34 12 81 FF", buf, sizeof(buf));
	CHECK_EQ_I64(cjt188_parse(buf, n, METER_DIR_REPLY, &f), XQ_EPROTO);
	n = unhex("68 10 34 12 90 78 56 34 12 81 02", buf, sizeof(buf)); /* L = 2 */
	CHECK_EQ_I64(cjt188_parse(buf, n, METER_DIR_REPLY, &f), XQ_EPROTO);
	CHECK_STR(f.why, "length field under 3");
	n = doc_reply(buf, sizeof(buf));
	buf[n - 2] ^= 0x40;
	CHECK_EQ_I64(cjt188_parse(buf, n, METER_DIR_REPLY, &f), XQ_EPROTO);
	CHECK_STR(f.why, "bad checksum");
	buf[n - 2] ^= 0x40;
	buf[n - 1] = 0x00;
	CHECK_EQ_I64(cjt188_parse(buf, n, METER_DIR_REPLY, &f), XQ_EPROTO);
	CHECK_STR(f.why, "no end byte 0x16");
	/* L = 100 exactly is accepted */
	{
		uint8_t d[100] = {0x1F, 0x90, 0x01}, a[7] = {0};

		CHECK_EQ_I64(cjt188_encode(buf, sizeof(buf), &n, 0, 0x20, a, 0x81, d, 100), XQ_OK);
		CHECK_EQ_I64(cjt188_parse(buf, n, METER_DIR_REPLY, &f), XQ_OK);
		CHECK_EQ_I64(cjt188_encode(buf, sizeof(buf), &n, 0, 0x20, a, 0x81, d, 101),
		             XQ_EINVAL);
		CHECK_EQ_I64(cjt188_encode(buf, 112, &n, 0, 0x20, a, 0x81, d, 100), XQ_ETOOBIG);
		CHECK_EQ_I64(n, 0);
	}
}

/* Reply built from a body the test controls, with a correct checksum. */
static void reply_with(uint8_t type, const uint8_t *body, size_t n, uint8_t ser,
                       struct meter_frame *f)
{
	uint8_t buf[128];
	const uint8_t addr[7] = {0x34, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12};
	size_t len;

	CHECK_EQ_I64(
	    cjt188_encode_di(buf, sizeof(buf), &len, 0, type, addr, 0x81, 0x901F, 0, ser, body, n),
	    XQ_OK);
	CHECK_EQ_I64(cjt188_parse(buf, len, METER_DIR_REPLY, f), XQ_OK);
}

TEST(bad_content)
{
	uint8_t good[19], b[19];
	struct meter_req req = doc_req();
	struct meter_frame f;
	struct meter_values v;

	{
		uint8_t all[64];

		CHECK_EQ_I64(doc_reply(all, sizeof(all)), 35);
		memcpy(good, all + 14, 19);
	}
	/* baseline */
	reply_with(0x10, good, 19, 1, &f);
	CHECK_EQ_I64(proto_cjt188.decode(&req, &f, &v), XQ_OK);
	/* bad BCD in the flow, with a right checksum */
	memcpy(b, good, 19);
	b[1] = 0x2A;
	reply_with(0x10, b, 19, 1, &f);
	CHECK_EQ_I64(proto_cjt188.decode(&req, &f, &v), XQ_EPROTO);
	CHECK_STR(v.err_en, "bad BCD in flow");
	CHECK(!(v.have & MV_HAVE_L));
	/* ... in the settlement flow */
	memcpy(b, good, 19);
	b[8] = 0xF0;
	reply_with(0x10, b, 19, 1, &f);
	CHECK_EQ_I64(proto_cjt188.decode(&req, &f, &v), XQ_EPROTO);
	/* a flow in kWh is not water */
	memcpy(b, good, 19);
	b[4] = 0x05;
	reply_with(0x10, b, 19, 1, &f);
	CHECK_EQ_I64(proto_cjt188.decode(&req, &f, &v), XQ_EPROTO);
	CHECK_STR(v.err_en, "flow unit is not litres or cubic metres");
	/* clock: bad BCD, and a 31st of February */
	memcpy(b, good, 19);
	b[12] = 0x3A;
	reply_with(0x10, b, 19, 1, &f);
	CHECK_EQ_I64(proto_cjt188.decode(&req, &f, &v), XQ_EPROTO);
	CHECK_STR(v.err_en, "bad BCD or impossible date in meter clock");
	memcpy(b, good, 19);
	b[13] = 0x31;
	b[14] = 0x02;
	reply_with(0x10, b, 19, 1, &f);
	CHECK_EQ_I64(proto_cjt188.decode(&req, &f, &v), XQ_EPROTO);
	/* short body */
	reply_with(0x10, good, 18, 1, &f);
	CHECK_EQ_I64(proto_cjt188.decode(&req, &f, &v), XQ_EPROTO);
	CHECK_STR(v.err_en, "current data is not 19 bytes");
	/* another SER: a late reply to an earlier request */
	reply_with(0x10, good, 19, 2, &f);
	CHECK_EQ_I64(proto_cjt188.decode(&req, &f, &v), XQ_EPROTO);
	CHECK_STR(v.err_en, "reply with another sequence number");
	/* another meter type at the same address */
	reply_with(0x11, good, 19, 1, &f);
	CHECK_EQ_I64(proto_cjt188.decode(&req, &f, &v), XQ_EPROTO);
	CHECK_STR(v.err_en, "reply from another meter");
	/* a heat meter: framed, but its layout is not decoded */
	req.addr.type = 0x20;
	reply_with(0x20, good, 19, 1, &f);
	CHECK_EQ_I64(proto_cjt188.decode(&req, &f, &v), XQ_EPROTO);
	CHECK_STR(v.err_en, "heat meter data layout not supported");
	/* a reply for another DI */
	req.addr.type = 0x10;
	{
		uint8_t buf[64];
		size_t len;

		CHECK_EQ_I64(cjt188_encode_di(buf, sizeof(buf), &len, 0, 0x10, req.addr.b, 0x81,
		                              0xD120, 0, 1, good, 5),
		             XQ_OK);
		CHECK_EQ_I64(cjt188_parse(buf, len, METER_DIR_REPLY, &f), XQ_OK);
		CHECK_EQ_I64(proto_cjt188.decode(&req, &f, &v), XQ_EPROTO);
		CHECK_STR(v.err_en, "reply for another DI");
		/* an unknown DI in either order */
		CHECK_EQ_I64(cjt188_encode_di(buf, sizeof(buf), &len, 0, 0x10, req.addr.b, 0x81,
		                              0x1234, 0, 1, good, 5),
		             XQ_OK);
		CHECK_EQ_I64(cjt188_parse(buf, len, METER_DIR_REPLY, &f), XQ_OK);
		{
			uint16_t di;
			int hf;

			CHECK_EQ_I64(cjt188_frame_di(&f, &di, &hf), XQ_ENOTFOUND);
			CHECK_EQ_I64(di, 0x1234);
		}
		/* an abnormal reply that is not SER ST0 ST1 */
		CHECK_EQ_I64(
		    cjt188_encode(buf, sizeof(buf), &len, 0, 0x10, req.addr.b, 0xC1, good, 4),
		    XQ_OK);
		CHECK_EQ_I64(cjt188_parse(buf, len, METER_DIR_REPLY, &f), XQ_OK);
		CHECK_EQ_I64(proto_cjt188.decode(&req, &f, &v), XQ_EPROTO);
	}
}

TEST(hostile_input)
{
	uint8_t frame[64];
	struct meter_req req = doc_req();
	size_t n = doc_reply(frame, sizeof(frame));

	mutate_all_bytes(&proto_cjt188, frame, n);
	random_rounds(&proto_cjt188, &req, 20000, frame, n);
	req.item = METER_READ_ADDRESS;
	random_rounds(&proto_cjt188, &req, 5000, frame, n);
}

int main(void)
{
	RUN(published_vectors);
	RUN(doc_examples);
	RUN(addresses);
	RUN(round_trips);
	RUN(valve);
	RUN(garbage_split_truncated);
	RUN(bad_lengths_and_checksums);
	RUN(bad_content);
	RUN(hostile_input);
	return test_report();
}
