/*
 * test_modbus.c - lib/proto/modbus.c. Every Modbus frame of
 * /work/shared/vectors/meters/published-frames.json is below as a byte array
 * named after its vector id (the three printed Eastron frames with wrong CRCs
 * must be rejected), then the worked example of docs/meter-protocols.md 4.2,
 * RTU and TCP framing under garbage, echo, byte-by-byte delivery and bad
 * lengths, the exact float32 -> Wh conversion against a floating-point
 * oracle, the register maps, and simulator round trips for every map.
 */
#include "proto/modbus.h"
#include "test.h"
#include "proto_test.h"

#include <string.h>

/* The published frames, as published. */
/* mb-p01 (master->meter, expect valid) */
static const uint8_t v_mb_p01[] = {0x01, 0x04, 0x00, 0x00, 0x00, 0x02, 0x71, 0xCB};
/* mb-p02 (meter->master, expect valid) */
static const uint8_t v_mb_p02[] = {0x01, 0x04, 0x04, 0x43, 0x66, 0x33, 0x34, 0x1B, 0x38};
/* mb-p03 (master->meter, expect bad_checksum) */
static const uint8_t v_mb_p03[] = {0x01, 0x03, 0x00, 0x00, 0x00, 0x14, 0xC4, 0x0B};
/* mb-p03b (master->meter, expect valid) */
static const uint8_t v_mb_p03b[] = {0x01, 0x03, 0x00, 0x00, 0x00, 0x02, 0xC4, 0x0B};
/* mb-p04 (meter->master, expect valid) */
static const uint8_t v_mb_p04[] = {0x01, 0x03, 0x04, 0x3F, 0x80, 0x00, 0x00, 0xF7, 0xCF};
/* mb-p05 (master->meter, expect bad_checksum) */
static const uint8_t v_mb_p05[] = {0x01, 0x10, 0x00, 0x14, 0x00, 0x02, 0x04,
                                   0x42, 0x70, 0x00, 0x00, 0x67, 0xD5};
/* mb-p05b (master->meter, expect valid) */
static const uint8_t v_mb_p05b[] = {0x01, 0x10, 0x00, 0x02, 0x00, 0x02, 0x04,
                                    0x42, 0x70, 0x00, 0x00, 0x67, 0xD5};
/* mb-p06 (meter->master, expect bad_checksum) */
static const uint8_t v_mb_p06[] = {0x01, 0x10, 0x00, 0x14, 0x00, 0x02, 0xE0, 0x08};
/* mb-p06b (meter->master, expect valid) */
static const uint8_t v_mb_p06b[] = {0x01, 0x10, 0x00, 0x02, 0x00, 0x02, 0xE0, 0x08};
/* mb-p07 (master->meter, expect valid) */
static const uint8_t v_mb_p07[] = {0x01, 0x08, 0x00, 0x00, 0xAA, 0x55, 0x5E, 0x94};

enum kind {
	K_READ_REQ,    /* 03/04 read request: parse, rebuild byte-exact */
	K_READ_REPLY,  /* 03/04 reply with one float32: value x 1000, rebuild */
	K_WRITE_REQ,   /* 10 write of one float32 */
	K_WRITE_REPLY, /* 10 reply: address and count */
	K_DIAG,        /* 08 diagnostics echo request */
	K_BAD_CRC,     /* must be rejected: bad CRC */
};

struct vec {
	const char *id;
	const uint8_t *b;
	size_t n;
	enum kind kind;
	enum meter_dir dir;
	uint8_t unit, fc;
	uint16_t reg, count;
	int64_t milli; /* float value x 1000, rounded */
};

/* clang-format off */
#define V(name, kind, dir, unit, fc, reg, count, milli) \
	{ #name, v_##name, sizeof(v_##name), kind, dir, unit, fc, reg, count, milli }
/* clang-format on */
#define RQ METER_DIR_REQUEST
#define RP METER_DIR_REPLY

/* Written from each vector's "meaning". */
/* clang-format off */
static const struct vec vectors[] = {
	V(mb_p01, K_READ_REQ, RQ, 1, 0x04, 0x0000, 2, 0),
	V(mb_p02, K_READ_REPLY, RP, 1, 0x04, 0, 2, 230200), /* 230.2000122 V */
	V(mb_p03, K_BAD_CRC, RQ, 1, 0x03, 0, 0, 0),         /* count 0x14 under a CRC for 0x02 */
	V(mb_p03b, K_READ_REQ, RQ, 1, 0x03, 0x0000, 2, 0),
	V(mb_p04, K_READ_REPLY, RP, 1, 0x03, 0, 2, 1000),   /* 1.0 */
	V(mb_p05, K_BAD_CRC, RQ, 1, 0x10, 0, 0, 0),         /* address 0x14 under a CRC for 0x02 */
	V(mb_p05b, K_WRITE_REQ, RQ, 1, 0x10, 0x0002, 2, 60000), /* 60.0 */
	V(mb_p06, K_BAD_CRC, RP, 1, 0x10, 0, 0, 0),
	V(mb_p06b, K_WRITE_REPLY, RP, 1, 0x10, 0x0002, 2, 0),
	V(mb_p07, K_DIAG, RQ, 1, 0x08, 0x0000, 0xAA55, 0), /* sub-function 0000, data AA55 */
};
/* clang-format on */

static unsigned be16(const uint8_t *p)
{
	return (unsigned)(p[0] << 8 | p[1]);
}

/* Float register x 1000 as integer: a voltage in mV, or kWh in Wh. */
static const struct modbus_reg milli = {0, MODBUS_F32, MODBUS_ABCD, 1000, 1};

#define CHECK_SAME(v, out, len)                                                                    \
	do {                                                                                       \
		CHECK_EQ_I64((len), (v)->n);                                                       \
		if ((len) == (v)->n && memcmp((out), (v)->b, (v)->n) != 0)                         \
			CHECK(!"rebuilt frame differs from the published one");                    \
	} while (0)

static void check_vector(const struct vec *v)
{
	struct meter_frame f;
	uint8_t out[METER_FRAME_MAX];
	size_t len = 0;
	int64_t x = -1;
	int rc;

	test_name_ = v->id;
	rc = modbus_rtu_parse(v->b, v->n, v->dir, &f);
	if (v->kind == K_BAD_CRC) {
		CHECK_EQ_I64(rc, XQ_EPROTO);
		CHECK_STR(f.why, "bad CRC");
		CHECK_EQ_I64(f.skip, 1);
		/* nothing after the first byte passes for a frame either */
		CHECK(modbus_rtu_parse(v->b + 1, v->n - 1, v->dir, &f) != XQ_OK);
		CHECK(modbus_rtu_parse(v->b, v->n, METER_DIR_ANY, &f) != XQ_OK);
		return;
	}
	CHECK_EQ_I64(rc, XQ_OK);
	if (rc != XQ_OK)
		return;
	CHECK_EQ_I64(f.start, 0);
	CHECK_EQ_I64(f.consumed, v->n);
	CHECK_EQ_I64(f.dir, v->dir);
	CHECK_EQ_I64(f.addr.b[0], v->unit);
	CHECK_EQ_I64(f.control, v->fc);
	/* Direction-free parsing finds it too. A diagnostics echo (08) looks
	 * the same both ways; METER_DIR_ANY calls it a reply. */
	CHECK_EQ_I64(modbus_rtu_parse(v->b, v->n, METER_DIR_ANY, &f), XQ_OK);
	CHECK_EQ_I64(f.dir, v->kind == K_DIAG ? METER_DIR_REPLY : v->dir);
	CHECK_EQ_I64(modbus_rtu_parse(v->b, v->n, v->dir, &f), XQ_OK);

	switch (v->kind) {
	case K_READ_REQ:
		CHECK_EQ_I64(f.data_len, 4);
		CHECK_EQ_I64(be16(f.data), v->reg);
		CHECK_EQ_I64(be16(f.data + 2), v->count);
		CHECK_EQ_I64(
		    modbus_rtu_build_read(out, sizeof(out), &len, v->unit, v->fc, v->reg, v->count),
		    XQ_OK);
		CHECK_SAME(v, out, len);
		break;
	case K_READ_REPLY:
		CHECK_EQ_I64(f.data_len, 5);
		CHECK_EQ_I64(f.data[0], 4);
		CHECK_EQ_I64(modbus_reg_to_wh(&milli, f.data + 1, &x), XQ_OK);
		CHECK_EQ_I64(x, v->milli);
		CHECK_EQ_I64(
		    modbus_rtu_reply_read(out, sizeof(out), &len, v->unit, v->fc, f.data + 1, 4),
		    XQ_OK);
		CHECK_SAME(v, out, len);
		break;
	case K_WRITE_REQ:
		CHECK_EQ_I64(f.data_len, 9);
		CHECK_EQ_I64(be16(f.data), v->reg);
		CHECK_EQ_I64(be16(f.data + 2), v->count);
		CHECK_EQ_I64(f.data[4], 4);
		CHECK_EQ_I64(modbus_reg_to_wh(&milli, f.data + 5, &x), XQ_OK);
		CHECK_EQ_I64(x, v->milli);
		break;
	case K_WRITE_REPLY:
		CHECK_EQ_I64(f.data_len, 4);
		CHECK_EQ_I64(be16(f.data), v->reg);
		CHECK_EQ_I64(be16(f.data + 2), v->count);
		break;
	case K_DIAG:
		CHECK_EQ_I64(f.data_len, 4);
		CHECK_EQ_I64(be16(f.data), v->reg);
		CHECK_EQ_I64(be16(f.data + 2), v->count);
		break;
	case K_BAD_CRC:
		break;
	}
}

TEST(published_vectors)
{
	int bad = 0;

	for (size_t i = 0; i < XQ_ARRAY_LEN(vectors); i++) {
		check_vector(&vectors[i]);
		bad += vectors[i].kind == K_BAD_CRC;
	}
	test_name_ = "published_vectors";
	CHECK_EQ_I64(XQ_ARRAY_LEN(vectors), 10);
	CHECK_EQ_I64(bad, 3);
}

static struct meter_req sdm120_req(uint8_t unit)
{
	struct meter_req req = {.item = METER_READ_TOTAL, .map = modbus_map_find("eastron-sdm120")};

	CHECK(req.map != NULL);
	req.addr.len = 1;
	req.addr.b[0] = unit;
	return req;
}

/* docs/meter-protocols.md 4.1 and 4.2 (unit 2, SDM120 map). */
TEST(doc_worked_example)
{
	const struct meter_proto *p = proto_find("modbus-rtu");
	struct meter_req req = sdm120_req(2);
	uint8_t want[32], out[METER_FRAME_MAX];
	struct meter_frame f;
	struct meter_values v;
	size_t n, len;

	CHECK(p == &proto_modbus_rtu);
	n = unhex("01 04 00 00 00 02", want, sizeof(want));
	CHECK_EQ_I64(modbus_crc16(want, n), 0xCB71); /* sent 71 CB */

	n = unhex("02 04 00 48 00 02 F1 EE", want, sizeof(want));
	CHECK_EQ_I64(p->build_read(&req, out, sizeof(out), &len), XQ_OK);
	CHECK(len == n && memcmp(out, want, n) == 0);

	n = unhex("02 04 04 44 76 E0 00 74 6E", want, sizeof(want));
	CHECK_EQ_I64(p->parse(want, n, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(p->decode(&req, &f, &v), XQ_OK);
	CHECK(v.have & MV_HAVE_WH);
	CHECK_EQ_I64(v.total_wh, 987500);
	CHECK_EQ_I64(v.raw, 0x4476E000);

	n = unhex("02 84 02 32 C1", want, sizeof(want));
	CHECK_EQ_I64(p->parse(want, n, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(p->decode(&req, &f, &v), XQ_OK);
	CHECK_EQ_I64(v.err, MODBUS_EX_ILLEGAL_ADDRESS);
	CHECK_EQ_I64(v.err_class, MV_ERR_UNSUPPORTED);
	CHECK_STR(v.err_en, "illegal data address");
	CHECK_STR(v.err_zh, "非法数据地址");
	CHECK(!(v.have & MV_HAVE_WH));
}

TEST(maps)
{
	CHECK(modbus_map_find("chint-ddsu666") != NULL);
	CHECK(modbus_map_find("acrel-adw300") != NULL);
	CHECK(modbus_map_find("sdm120") == NULL);
	CHECK(modbus_map_find(NULL) == NULL);
	for (size_t i = 0; i < modbus_nmaps; i++) {
		const struct modbus_map *m = &modbus_maps[i];

		CHECK(modbus_map_find(m->name) == m);
		CHECK(m->fc == MODBUS_FC_READ_HOLDING || m->fc == MODBUS_FC_READ_INPUT);
		CHECK_EQ_I64(modbus_reg_words(&m->total), 2);
	}
	CHECK_EQ_I64(modbus_map_find("eastron-sdm120")->total.addr, 30073 - 30001);
	CHECK_EQ_I64(modbus_map_find("acrel-adw300")->total.addr, 62);
}

/* A double is exact for float x 1000 (24 + 10 bits); the oracle rounds half up. */
static int64_t oracle_wh(uint32_t bits, uint32_t mul)
{
	float fl;
	double d;

	memcpy(&fl, &bits, sizeof(fl));
	d = (double)fl * mul;
	return (int64_t)(d + 0.5);
}

TEST(float_to_wh_exact)
{
	int64_t wh;
	int mismatches = 0;

	/* halves round away from zero (house rule), never to even */
	CHECK_EQ_I64(modbus_f32_to_wh(0x3F000000u, 1, 1, &wh), XQ_OK); /* 0.5 */
	CHECK_EQ_I64(wh, 1);
	CHECK_EQ_I64(modbus_f32_to_wh(0x40200000u, 1, 1, &wh), XQ_OK); /* 2.5 */
	CHECK_EQ_I64(wh, 3);
	CHECK_EQ_I64(modbus_f32_to_wh(0x3FC00000u, 1, 1, &wh), XQ_OK); /* 1.5 */
	CHECK_EQ_I64(wh, 2);
	CHECK_EQ_I64(modbus_f32_to_wh(0x3E800000u, 2, 1, &wh), XQ_OK); /* 0.25 x 2 */
	CHECK_EQ_I64(wh, 1);
	CHECK_EQ_I64(modbus_f32_to_wh(0x3E800000u, 1, 1, &wh), XQ_OK); /* 0.25 */
	CHECK_EQ_I64(wh, 0);
	CHECK_EQ_I64(modbus_f32_to_wh(0x41200000u, 1000, 3, &wh), XQ_OK); /* 10 x 1000 / 3 */
	CHECK_EQ_I64(wh, 3333);
	/* zeros, the smallest subnormal, and what a meter must never send */
	CHECK_EQ_I64(modbus_f32_to_wh(0x00000000u, 1000, 1, &wh), XQ_OK);
	CHECK_EQ_I64(wh, 0);
	CHECK_EQ_I64(modbus_f32_to_wh(0x80000000u, 1000, 1, &wh), XQ_OK); /* -0 */
	CHECK_EQ_I64(wh, 0);
	CHECK_EQ_I64(modbus_f32_to_wh(0x00000001u, 1000, 1, &wh), XQ_OK);
	CHECK_EQ_I64(wh, 0);
	CHECK_EQ_I64(modbus_f32_to_wh(0x7F800000u, 1000, 1, &wh), XQ_EPROTO); /* +inf */
	CHECK_EQ_I64(modbus_f32_to_wh(0x7FC00000u, 1000, 1, &wh), XQ_EPROTO); /* NaN */
	CHECK_EQ_I64(modbus_f32_to_wh(0xBF800000u, 1000, 1, &wh), XQ_EPROTO); /* -1 */
	CHECK_EQ_I64(modbus_f32_to_wh(0x7F7FFFFFu, 1000, 1, &wh), XQ_EPROTO); /* FLT_MAX */
	CHECK_EQ_I64(modbus_f32_to_wh(0x3F800000u, 0, 1, &wh), XQ_EINVAL);
	CHECK_EQ_I64(modbus_f32_to_wh(0x3F800000u, 1, 2000000, &wh), XQ_EINVAL);
	/* the range edge: the float just under 1e12 kWh passes, the next one up does not */
	CHECK_EQ_I64(modbus_f32_to_wh(0x5368D4A5u, 1000, 1, &wh), XQ_OK); /* 999999995904 */
	CHECK_EQ_I64(wh, 999999995904000LL);
	CHECK_EQ_I64(modbus_f32_to_wh(0x5368D4A6u, 1000, 1, &wh), XQ_EPROTO);

	/* every finite positive float in range, sampled, against the oracle */
	for (int i = 0; i < 200000; i++) {
		uint32_t bits = (uint32_t)prng() & 0x7FFFFFFFu;
		int64_t want = 0;

		if ((bits >> 23) == 0xFF || bits > 0x5368D4A5u)
			continue;
		want = oracle_wh(bits, 1000);
		if (modbus_f32_to_wh(bits, 1000, 1, &wh) != XQ_OK || wh != want)
			mismatches++;
		if (modbus_f32_to_wh(bits, 10, 1, &wh) != XQ_OK || wh != oracle_wh(bits, 10))
			mismatches++;
	}
	CHECK_EQ_I64(mismatches, 0);
}

TEST(wh_to_float_nearest)
{
	int bad = 0;

	for (int i = 0; i < 200000; i++) {
		int64_t wh = (int64_t)(prng() % (i & 1 ? 8388609u : 1000000000000u));
		uint32_t bits, up, down;
		float fl, fu, fd;
		double e, eu, ed;
		int64_t back;

		if (modbus_wh_to_f32(wh, 1000, 1, &bits) != XQ_OK) {
			bad++;
			continue;
		}
		/* nearest: neither neighbour is closer to wh / 1000 (all exact in double) */
		up = bits + 1;
		down = bits ? bits - 1 : 0;
		memcpy(&fl, &bits, 4);
		memcpy(&fu, &up, 4);
		memcpy(&fd, &down, 4);
		e = (double)fl * 1000 - (double)wh;
		eu = (double)fu * 1000 - (double)wh;
		ed = (double)fd * 1000 - (double)wh;
		e = e < 0 ? -e : e;
		eu = eu < 0 ? -eu : eu;
		ed = ed < 0 ? -ed : ed;
		if (eu < e || (bits && ed < e) || (eu == e && (bits & 1)) ||
		    (bits && ed == e && (bits & 1)))
			bad++;
		/* up to 8388.608 kWh a float resolves Wh: the round trip is exact */
		if (wh <= 8388608 &&
		    (modbus_f32_to_wh(bits, 1000, 1, &back) != XQ_OK || back != wh))
			bad++;
	}
	CHECK_EQ_I64(bad, 0);
	{
		uint32_t bits = 1;

		CHECK_EQ_I64(modbus_wh_to_f32(0, 1000, 1, &bits), XQ_OK);
		CHECK_EQ_I64(bits, 0);
		CHECK_EQ_I64(modbus_wh_to_f32(987500, 1000, 1, &bits), XQ_OK);
		CHECK_EQ_I64(bits, 0x4476E000u); /* the doc's 987.5 kWh */
		CHECK_EQ_I64(modbus_wh_to_f32(-1, 1000, 1, &bits), XQ_EINVAL);
		CHECK_EQ_I64(modbus_wh_to_f32(MODBUS_WH_MAX + 1, 1000, 1, &bits), XQ_EOVERFLOW);
	}
}

TEST(integer_registers)
{
	struct modbus_reg r = {62, MODBUS_I32, MODBUS_ABCD, 10, 1};
	uint8_t w[4];
	int64_t wh;

	/* Acrel ADW300: int32 x 0.01 kWh, high word first */
	memcpy(w, "\x00\x01\x86\xA0", 4); /* 100000 -> 1000.00 kWh */
	CHECK_EQ_I64(modbus_reg_to_wh(&r, w, &wh), XQ_OK);
	CHECK_EQ_I64(wh, 1000000);
	r.order = MODBUS_CDAB;
	memcpy(w, "\x86\xA0\x00\x01", 4);
	CHECK_EQ_I64(modbus_reg_to_wh(&r, w, &wh), XQ_OK);
	CHECK_EQ_I64(wh, 1000000);
	memcpy(w, "\xFF\xFF\xFF\xFF", 4); /* -1: not an energy reading */
	CHECK_EQ_I64(modbus_reg_to_wh(&r, w, &wh), XQ_EPROTO);
	r.type = MODBUS_U32;
	CHECK_EQ_I64(modbus_reg_to_wh(&r, w, &wh), XQ_OK);
	CHECK_EQ_I64(wh, 42949672950LL);
	r.type = MODBUS_U16;
	r.wh_mul = 100; /* 0.1 kWh steps */
	CHECK_EQ_I64(modbus_reg_to_wh(&r, w, &wh), XQ_OK);
	CHECK_EQ_I64(wh, 6553500);
	r.wh_mul = 1;
	r.wh_div = 10; /* 0.1 Wh steps: rounded down */
	memcpy(w, "\x00\x19", 2);
	CHECK_EQ_I64(modbus_reg_to_wh(&r, w, &wh), XQ_OK);
	CHECK_EQ_I64(wh, 2);
	r.type = MODBUS_NONE;
	CHECK_EQ_I64(modbus_reg_to_wh(&r, w, &wh), XQ_EINVAL);
	/* and back */
	r = (struct modbus_reg){62, MODBUS_I32, MODBUS_CDAB, 10, 1};
	CHECK_EQ_I64(modbus_wh_to_reg(&r, 1000000, w), XQ_OK);
	CHECK(memcmp(w, "\x86\xA0\x00\x01", 4) == 0);
	CHECK_EQ_I64(modbus_wh_to_reg(&r, (int64_t)INT32_MAX * 10 + 10, w), XQ_EOVERFLOW);
}

/* Collector request -> simulator reply -> collector decode, RTU or TCP. */
static int round_trip(const struct meter_proto *p, const struct meter_req *req,
                      const struct meter_req *self, const struct meter_values *st,
                      struct meter_values *got, size_t *reply_len)
{
	uint8_t wire[METER_FRAME_MAX], reply[METER_FRAME_MAX];
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

TEST(round_trip_every_map)
{
	const struct meter_proto *ps[2] = {&proto_modbus_rtu, &proto_modbus_tcp};

	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < modbus_nmaps; i++) {
			struct meter_req req = {.item = METER_READ_TOTAL, .map = &modbus_maps[i]};
			struct meter_values st = {.have = MV_HAVE_WH}, v;
			static const int64_t whs[] = {0, 10, 987500, 1234560, 8388600};
			size_t m;

			req.addr.len = 1;
			req.addr.b[0] = 7;
			req.tid = (uint16_t)(0xBEE0 + i);
			for (size_t j = 0; j < XQ_ARRAY_LEN(whs); j++) {
				st.total_wh = whs[j];
				CHECK_EQ_I64(round_trip(ps[k], &req, &req, &st, &v, &m), XQ_OK);
				CHECK_EQ_I64(v.total_wh, whs[j]);
				CHECK(v.have & MV_HAVE_WH);
			}
			/* At 123 MWh a float steps by 7.8 Wh, an 0.01 kWh counter by 10 */
			st.total_wh = 123456789;
			CHECK_EQ_I64(round_trip(ps[k], &req, &req, &st, &v, &m), XQ_OK);
			if (modbus_maps[i].total.type == MODBUS_F32)
				CHECK(v.total_wh - st.total_wh <= 4 &&
				      st.total_wh - v.total_wh <= 4);
			else
				CHECK_EQ_I64(v.total_wh, 123456780);
			/* busy meter */
			st.err = MODBUS_EX_BUSY;
			CHECK_EQ_I64(round_trip(ps[k], &req, &req, &st, &v, &m), XQ_OK);
			CHECK_EQ_I64(v.err, MODBUS_EX_BUSY);
			CHECK_EQ_I64(v.err_class, MV_ERR_RETRY);
			st.err = 0;
			/* another unit: silence */
			{
				struct meter_req other = req;

				other.addr.b[0] = 8;
				CHECK_EQ_I64(round_trip(ps[k], &req, &other, &st, &v, &m), XQ_OK);
				CHECK_EQ_I64(m, 0);
			}
		}
	}
}

TEST(simulator_exceptions)
{
	struct meter_req self = sdm120_req(1);
	struct meter_values st = {.have = MV_HAVE_WH, .total_wh = 5000}, v;
	uint8_t wire[32], reply[32];
	struct meter_frame f;
	size_t n, m;

	/* a read that starts mid-float: 02, as Eastron does */
	CHECK_EQ_I64(modbus_rtu_build_read(wire, sizeof(wire), &n, 1, 0x04, 0x0049, 2), XQ_OK);
	CHECK_EQ_I64(modbus_rtu_parse(wire, n, METER_DIR_REQUEST, &f), XQ_OK);
	CHECK_EQ_I64(proto_modbus_rtu.build_reply(&self, &f, &st, reply, sizeof(reply), &m), XQ_OK);
	CHECK_EQ_I64(modbus_rtu_parse(reply, m, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(f.control, 0x84);
	CHECK_EQ_I64(f.data[0], MODBUS_EX_ILLEGAL_ADDRESS);
	/* holding registers on an input-register meter: 01 */
	CHECK_EQ_I64(modbus_rtu_build_read(wire, sizeof(wire), &n, 1, 0x03, 0x0048, 2), XQ_OK);
	CHECK_EQ_I64(modbus_rtu_parse(wire, n, METER_DIR_REQUEST, &f), XQ_OK);
	CHECK_EQ_I64(proto_modbus_rtu.build_reply(&self, &f, &st, reply, sizeof(reply), &m), XQ_OK);
	CHECK_EQ_I64(modbus_rtu_parse(reply, m, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(f.control, 0x83);
	CHECK_EQ_I64(f.data[0], MODBUS_EX_ILLEGAL_FUNCTION);
	/* the collector decoding that as an answer to its 0x04 read: wrong function */
	CHECK_EQ_I64(proto_modbus_rtu.decode(&self, &f, &v), XQ_EPROTO);
	CHECK_STR(v.err_en, "reply to another function");
	/* gateway: target did not answer */
	CHECK_EQ_I64(modbus_rtu_reply_exc(reply, sizeof(reply), &m, 1, 0x04, 0x0B), XQ_OK);
	CHECK_EQ_I64(modbus_rtu_parse(reply, m, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(proto_modbus_rtu.decode(&self, &f, &v), XQ_OK);
	CHECK_EQ_I64(v.err_class, MV_ERR_RETRY);
	CHECK_STR(v.err_zh, "网关目标设备无响应");
	CHECK_STR(modbus_exc_text(0x42, 0), "unknown exception code");
	/* broadcast read: nobody answers */
	wire[0] = 0;
	{
		uint16_t crc = modbus_crc16(wire, 6);

		wire[6] = (uint8_t)crc;
		wire[7] = (uint8_t)(crc >> 8);
	}
	CHECK_EQ_I64(modbus_rtu_parse(wire, 8, METER_DIR_REQUEST, &f), XQ_OK);
	CHECK_EQ_I64(proto_modbus_rtu.build_reply(&self, &f, &st, reply, sizeof(reply), &m), XQ_OK);
	CHECK_EQ_I64(m, 0);
}

TEST(rtu_hostile)
{
	uint8_t buf[128], rx[2 * METER_FRAME_MAX];
	struct meter_req req = sdm120_req(2);
	struct meter_frame f;
	struct meter_values v;
	size_t n, rn, off = 0;
	int agains, nbad;

	rn = unhex("02 04 04 44 76 E0 00 74 6E", buf + 64, 32);
	/* garbage first: reserved unit ids, a broadcast unit, noise */
	n = unhex("FF FE 00 F8 13", buf, 64);
	memmove(buf + n, buf + 64, rn);
	n += rn;
	CHECK_EQ_I64(modbus_rtu_parse(buf, n, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(f.start, 5);
	CHECK_EQ_I64(proto_modbus_rtu.decode(&req, &f, &v), XQ_OK);
	CHECK_EQ_I64(v.total_wh, 987500);
	/* byte by byte */
	CHECK_EQ_I64(
	    feed_bytewise(&proto_modbus_rtu, buf, n, METER_DIR_REPLY, rx, sizeof(rx), &f, &agains),
	    XQ_OK);
	CHECK_EQ_I64(agains, (int)n - 1);
	/* truncated: never a frame */
	for (size_t k = 0; k < rn; k++)
		CHECK_EQ_I64(modbus_rtu_parse(buf + 5, k, METER_DIR_REPLY, &f), XQ_EAGAIN);
	/* our request echoed back, then the reply: the echo is stepped over */
	CHECK_EQ_I64(proto_modbus_rtu.build_read(&req, buf, sizeof(buf), &n), XQ_OK);
	n += unhex("02 04 04 44 76 E0 00 74 6E", buf + n, sizeof(buf) - n);
	CHECK_EQ_I64(modbus_rtu_parse(buf, n, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(f.start, 8);
	CHECK_EQ_I64(
	    feed_bytewise(&proto_modbus_rtu, buf, n, METER_DIR_REPLY, rx, sizeof(rx), &f, &agains),
	    XQ_OK);
	/* a byte count no read can have (0xFC > 250) starts no frame */
	n = unhex("02 04 FC 44 76 E0 00", buf, sizeof(buf));
	CHECK_EQ_I64(modbus_rtu_parse(buf, n, METER_DIR_REPLY, &f), XQ_EAGAIN);
	CHECK(f.skip >= 1);
	/* a stray "unit 02 fc 03 count 250" must not hide the reply behind it */
	n = unhex("02 03 FA", buf, sizeof(buf));
	n += unhex("02 04 04 44 76 E0 00 74 6E", buf + n, sizeof(buf) - n);
	CHECK_EQ_I64(modbus_rtu_parse(buf, n, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(f.start, 3);
	/* bad CRC, then a good copy: one EPROTO, then the frame */
	n = unhex("02 04 04 44 76 E0 00 74 6F 02 04 04 44 76 E0 00 74 6E", buf, sizeof(buf));
	CHECK_EQ_I64(parse_loop(&proto_modbus_rtu, buf, n, METER_DIR_REPLY, &f, &off, &nbad),
	             XQ_OK);
	CHECK_EQ_I64(nbad, 1);
	CHECK_EQ_I64(off + f.start, 9);
	/* a reply with the wrong register count for the request */
	n = unhex("02 04 02 44 76", buf, sizeof(buf));
	{
		uint16_t crc = modbus_crc16(buf, n);

		buf[n++] = (uint8_t)crc;
		buf[n++] = (uint8_t)(crc >> 8);
	}
	CHECK_EQ_I64(modbus_rtu_parse(buf, n, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(proto_modbus_rtu.decode(&req, &f, &v), XQ_EPROTO);
	CHECK_STR(v.err_en, "reply with another register count");
	/* from another unit */
	req.addr.b[0] = 3;
	n = unhex("02 04 04 44 76 E0 00 74 6E", buf, sizeof(buf));
	CHECK_EQ_I64(modbus_rtu_parse(buf, n, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(proto_modbus_rtu.decode(&req, &f, &v), XQ_EPROTO);
	CHECK_STR(v.err_en, "reply from another unit");
	/* a NaN register is refused, not billed as 0 */
	req.addr.b[0] = 2;
	n = unhex("02 04 04 7F C0 00 00", buf, sizeof(buf));
	{
		uint16_t crc = modbus_crc16(buf, n);

		buf[n++] = (uint8_t)crc;
		buf[n++] = (uint8_t)(crc >> 8);
	}
	CHECK_EQ_I64(modbus_rtu_parse(buf, n, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(proto_modbus_rtu.decode(&req, &f, &v), XQ_EPROTO);
	CHECK(!(v.have & MV_HAVE_WH));
}

TEST(tcp_framing)
{
	const struct meter_proto *p = proto_find("modbus-tcp");
	struct meter_req req = sdm120_req(1);
	uint8_t want[64], buf[2 * METER_FRAME_MAX], rx[2 * METER_FRAME_MAX];
	struct meter_frame f;
	struct meter_values v;
	size_t n, len, m;
	int agains;

	CHECK(p == &proto_modbus_tcp);
	req.tid = 0x1234;
	n = unhex("12 34 00 00 00 06 01 04 00 48 00 02", want, sizeof(want));
	CHECK_EQ_I64(p->build_read(&req, buf, sizeof(buf), &len), XQ_OK);
	CHECK(len == n && memcmp(buf, want, n) == 0);

	n = unhex("12 34 00 00 00 07 01 04 04 44 76 E0 00", want, sizeof(want));
	CHECK_EQ_I64(p->parse(want, n, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(f.tid, 0x1234);
	CHECK_EQ_I64(p->decode(&req, &f, &v), XQ_OK);
	CHECK_EQ_I64(v.total_wh, 987500);
	/* a stale transaction */
	req.tid = 0x1233;
	CHECK_EQ_I64(p->decode(&req, &f, &v), XQ_EPROTO);
	CHECK_STR(v.err_en, "reply to another transaction");
	req.tid = 0x1234;
	/* split delivery */
	CHECK_EQ_I64(feed_bytewise(p, want, n, METER_DIR_REPLY, rx, sizeof(rx), &f, &agains),
	             XQ_OK);
	CHECK_EQ_I64(agains, (int)n - 1);
	/* two replies glued in one read */
	memcpy(buf, want, n);
	memcpy(buf + n, want, n);
	buf[n + 1] = 0x35;
	CHECK_EQ_I64(p->parse(buf, 2 * n, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(f.consumed, n);
	CHECK_EQ_I64(p->parse(buf + n, n, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(f.tid, 0x1235);
	/* oversize MBAP length: rejected at once */
	m = unhex("12 34 00 00 FF FF 01 04", buf, sizeof(buf));
	CHECK_EQ_I64(p->parse(buf, m, METER_DIR_REPLY, &f), XQ_EPROTO);
	CHECK_STR(f.why, "MBAP length out of range");
	m = unhex("12 34 00 00 00 FF 01 04", buf, sizeof(buf)); /* 255 > 254 */
	CHECK_EQ_I64(p->parse(buf, m, METER_DIR_REPLY, &f), XQ_EPROTO);
	m = unhex("12 34 00 00 00 01 01", buf, sizeof(buf));
	CHECK_EQ_I64(p->parse(buf, m, METER_DIR_REPLY, &f), XQ_EPROTO);
	/* MBAP length that disagrees with the byte count */
	m = unhex("12 34 00 00 00 08 01 04 04 44 76 E0 00 00", buf, sizeof(buf));
	CHECK_EQ_I64(p->parse(buf, m, METER_DIR_REPLY, &f), XQ_EPROTO);
	CHECK_STR(f.why, "MBAP length disagrees with the PDU");
	/* exception over TCP */
	CHECK_EQ_I64(modbus_tcp_reply_exc(buf, sizeof(buf), &m, 0x1234, 1, 0x04, 0x02), XQ_OK);
	CHECK_EQ_I64(p->parse(buf, m, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(p->decode(&req, &f, &v), XQ_OK);
	CHECK_EQ_I64(v.err, 2);
	/* unit byte 255 is fine on TCP, and a valid RTU unit id only up to 247 */
	CHECK_EQ_I64(p->addr_parse("255", &req.addr), XQ_OK);
	CHECK_EQ_I64(req.addr.b[0], 255);
	CHECK_EQ_I64(proto_modbus_rtu.addr_parse("248", &req.addr), XQ_EINVAL);
	CHECK_EQ_I64(proto_modbus_rtu.addr_parse("0247", &req.addr), XQ_EINVAL);
	CHECK_EQ_I64(proto_modbus_rtu.addr_parse("12a", &req.addr), XQ_EINVAL);
	CHECK_EQ_I64(proto_modbus_rtu.addr_parse("247", &req.addr), XQ_OK);
	{
		char s[4];

		CHECK_EQ_I64(proto_modbus_rtu.addr_format(&req.addr, s, sizeof(s)), XQ_OK);
		CHECK_STR(s, "247");
		CHECK_EQ_I64(proto_modbus_rtu.addr_format(&req.addr, s, 3), XQ_ETOOBIG);
	}
}

TEST(builder_arguments)
{
	struct meter_req req = sdm120_req(1);
	uint8_t buf[METER_FRAME_MAX];
	size_t n = 9;

	CHECK_EQ_I64(modbus_rtu_build_read(buf, sizeof(buf), &n, 0, 0x04, 0, 2), XQ_EINVAL);
	CHECK_EQ_I64(modbus_rtu_build_read(buf, sizeof(buf), &n, 248, 0x04, 0, 2), XQ_EINVAL);
	CHECK_EQ_I64(modbus_rtu_build_read(buf, sizeof(buf), &n, 1, 0x06, 0, 2), XQ_EINVAL);
	CHECK_EQ_I64(modbus_rtu_build_read(buf, sizeof(buf), &n, 1, 0x04, 0, 0), XQ_EINVAL);
	CHECK_EQ_I64(modbus_rtu_build_read(buf, sizeof(buf), &n, 1, 0x04, 0, 126), XQ_EINVAL);
	CHECK_EQ_I64(modbus_rtu_build_read(buf, sizeof(buf), &n, 1, 0x04, 0xFFFF, 2), XQ_EINVAL);
	CHECK_EQ_I64(modbus_rtu_build_read(buf, 7, &n, 1, 0x04, 0, 2), XQ_ETOOBIG);
	CHECK_EQ_I64(n, 0);
	CHECK_EQ_I64(modbus_rtu_build_read(buf, 8, &n, 1, 0x04, 0, 125), XQ_OK);
	req.tariff = 1; /* SDM120 has no tariff registers */
	CHECK_EQ_I64(proto_modbus_rtu.build_read(&req, buf, sizeof(buf), &n), XQ_EINVAL);
	req.tariff = METER_TARIFF_ALL;
	CHECK_EQ_I64(proto_modbus_rtu.build_read(&req, buf, sizeof(buf), &n), XQ_EINVAL);
	req.tariff = 0;
	req.item = METER_READ_ADDRESS;
	CHECK_EQ_I64(proto_modbus_rtu.build_read(&req, buf, sizeof(buf), &n), XQ_EINVAL);
	req.item = METER_READ_TOTAL;
	req.map = NULL;
	CHECK_EQ_I64(proto_modbus_tcp.build_read(&req, buf, sizeof(buf), &n), XQ_EINVAL);
	CHECK_EQ_I64(modbus_rtu_reply_read(buf, sizeof(buf), &n, 1, 0x04, buf, 3), XQ_EINVAL);
	CHECK_EQ_I64(modbus_rtu_reply_read(buf, sizeof(buf), &n, 1, 0x04, buf, 252), XQ_EINVAL);
	CHECK_EQ_I64(modbus_rtu_reply_read(buf, sizeof(buf), &n, 1, 0x04, buf, 250), XQ_OK);
	CHECK_EQ_I64(n, 255);
	CHECK_EQ_I64(modbus_rtu_parse(buf, n, METER_DIR_REPLY, &(struct meter_frame){0}), XQ_OK);
}

TEST(hostile_input)
{
	struct meter_req req = sdm120_req(2);
	uint8_t frame[16];
	size_t n = unhex("02 04 04 44 76 E0 00 74 6E", frame, sizeof(frame));

	mutate_all_bytes(&proto_modbus_rtu, frame, n);
	random_rounds(&proto_modbus_rtu, &req, 20000, frame, n);
	n = unhex("00 07 00 00 00 07 02 04 04 44 76 E0 00", frame, sizeof(frame));
	req.tid = 7;
	mutate_all_bytes(&proto_modbus_tcp, frame, n);
	random_rounds(&proto_modbus_tcp, &req, 20000, frame, n);
}

int main(void)
{
	RUN(published_vectors);
	RUN(doc_worked_example);
	RUN(maps);
	RUN(float_to_wh_exact);
	RUN(wh_to_float_nearest);
	RUN(integer_registers);
	RUN(round_trip_every_map);
	RUN(simulator_exceptions);
	RUN(rtu_hostile);
	RUN(tcp_framing);
	RUN(builder_arguments);
	RUN(hostile_input);
	return test_report();
}
