/*
 * fuzz_cjt188.c - libFuzzer target for the CJ/T 188 parser, the 0x901F and
 * valve decoders, and simulator replies. See fuzz_proto.h for how to build
 * and what is checked.
 */
#include "proto/cjt188.h"
#include "fuzz_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_frame(const struct meter_proto *p, const struct meter_frame *f)
{
	struct meter_req req = {.addr = f->addr, .item = METER_READ_TOTAL};
	struct meter_values st = {.have = MV_HAVE_L | MV_HAVE_SETTLE,
	                          .total_l = 123450,
	                          .settle_l = 110000,
	                          .status_raw = 0x0104};
	struct meter_values v;
	int open;

	/* the SER in the frame, so that decodes get past the SER check */
	req.seq = f->data_len >= 3 ? f->data[2] : 0;
	fuzz_decode(p, &req, f);
	req.item = METER_READ_ADDRESS;
	fuzz_decode(p, &req, f);
	(void)cjt188_check_valve(&f->addr, req.seq, f, &v);
	(void)cjt188_decode_valve(f, &open);
	if (f->data_len >= 3)
		(void)cjt188_decode_current(f->data + 3, f->data_len - 3,
		                            &(struct meter_values){0});
	if (f->dir == METER_DIR_REQUEST && f->addr.type != METER_ADDR_WILD) {
		struct meter_req self = {.addr = f->addr};

		fuzz_answer(p, &self, f, &st);
		self.flags = MREQ_DI_HIGH_FIRST;
		st.unit = CJT188_UNIT_L;
		st.total_l = 999;
		fuzz_answer(p, &self, f, &st);
		st.err = 1;
		fuzz_answer(p, &self, f, &st);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_run(&proto_cjt188, data, size, on_frame);
	return 0;
}
