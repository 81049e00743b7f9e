/*
 * fuzz_proto.h - what the three protocol fuzzers share: run one driver's
 * parse() over the input as the collector and the simulator would (every
 * direction, then as a stream, dropping skip/consumed), check the promises
 * of meter_proto.h, decode every frame against requests aimed at its own
 * address so the value decoders run, and feed requests to the simulator and
 * its replies back to the parser. Any broken promise aborts the run.
 *
 * Build (clang only; the codecs need nothing but libc):
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined -Ilib \
 *	    tests/fuzz/fuzz_dlt645.c lib/proto/meter_proto.c lib/proto/dlt645.c \
 *	    lib/proto/modbus.c lib/proto/cjt188.c -o fuzz_dlt645
 *	./fuzz_dlt645 -max_total_time=30 corpus/
 */
#ifndef XQ_FUZZ_PROTO_H
#define XQ_FUZZ_PROTO_H

#include "proto/meter_proto.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(e)                                                                             \
	do {                                                                                       \
		if (!(e))                                                                          \
			abort();                                                                   \
	} while (0)

static void fuzz_check_promises(int rc, const struct meter_frame *f, size_t len)
{
	switch (rc) {
	case XQ_OK:
		FUZZ_ASSERT(f->len > 0 && f->start + f->len == f->consumed && f->consumed <= len);
		FUZZ_ASSERT(f->len <= METER_FRAME_MAX && f->data_len <= METER_DATA_MAX);
		FUZZ_ASSERT(f->dir == METER_DIR_REQUEST || f->dir == METER_DIR_REPLY);
		break;
	case XQ_EAGAIN:
		FUZZ_ASSERT(f->skip <= len && f->need >= 1 && len - f->skip < METER_FRAME_MAX);
		break;
	case XQ_EPROTO:
		FUZZ_ASSERT(f->skip >= 1 && f->skip <= len && f->why != NULL);
		break;
	default:
		abort();
	}
}

/* decode() must return OK or EPROTO, with a reason on EPROTO and an error text on err. */
static void fuzz_decode(const struct meter_proto *p, const struct meter_req *req,
                        const struct meter_frame *f)
{
	struct meter_values v;
	int rc = p->decode(req, f, &v);

	FUZZ_ASSERT(rc == XQ_OK || rc == XQ_EPROTO);
	if (rc == XQ_EPROTO)
		FUZZ_ASSERT(v.err_en != NULL);
	if (rc == XQ_OK && v.err)
		FUZZ_ASSERT(v.err_en && v.err_zh && v.err_class);
	if (rc == XQ_OK && (v.have & MV_HAVE_WH))
		FUZZ_ASSERT(v.total_wh > -1000000000000000LL && v.total_wh < 1000000000000000LL);
	if (rc == XQ_OK && (v.have & MV_HAVE_L))
		FUZZ_ASSERT(v.total_l >= 0 && v.settle_l >= 0);
}

/*
 * A simulated meter answers request f; whatever it says must be one whole
 * reply frame to our own parser.
 */
static void fuzz_answer(const struct meter_proto *p, const struct meter_req *self,
                        const struct meter_frame *f, const struct meter_values *st)
{
	uint8_t reply[METER_FRAME_MAX + 32];
	struct meter_frame g;
	size_t m = 0;
	int rc = p->build_reply(self, f, st, reply, sizeof(reply), &m);

	if (rc != XQ_OK || m == 0)
		return;
	FUZZ_ASSERT(m <= sizeof(reply));
	rc = p->parse(reply, m, METER_DIR_REPLY, &g);
	FUZZ_ASSERT(rc == XQ_OK && g.consumed == m);
}

/* The driver-specific part: requests to try against a parsed frame. */
typedef void (*fuzz_frame_fn)(const struct meter_proto *p, const struct meter_frame *f);

static void fuzz_run(const struct meter_proto *p, const uint8_t *data, size_t size,
                     fuzz_frame_fn on_frame)
{
	static const enum meter_dir dirs[3] = {METER_DIR_ANY, METER_DIR_REQUEST, METER_DIR_REPLY};
	struct meter_frame f;

	if (size > 4096)
		return;
	for (int d = 0; d < 3; d++) {
		size_t off = 0;
		int rounds = 0;

		/* the collector's loop over one buffer */
		while (off < size && rounds++ < 4096) {
			int rc = p->parse(data + off, size - off, dirs[d], &f);

			fuzz_check_promises(rc, &f, size - off);
			if (rc == XQ_OK) {
				if (dirs[d] != METER_DIR_ANY)
					FUZZ_ASSERT(f.dir == dirs[d]);
				on_frame(p, &f);
				off += f.consumed;
			} else if (f.skip == 0) {
				break;
			} else {
				off += f.skip;
			}
		}
	}
}

#endif
