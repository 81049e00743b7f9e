/*
 * fuzz_modbus.c - libFuzzer target for the Modbus RTU and TCP parsers,
 * register decoding for every built-in map, and simulator replies. See
 * fuzz_proto.h for how to build and what is checked.
 */
#include "proto/modbus.h"
#include "fuzz_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_frame(const struct meter_proto *p, const struct meter_frame *f)
{
	struct meter_values st = {.have = MV_HAVE_WH, .total_wh = 987500};

	for (size_t i = 0; i < modbus_nmaps; i++) {
		struct meter_req req = {.addr = f->addr,
		                        .item = METER_READ_TOTAL,
		                        .map = &modbus_maps[i],
		                        .tid = f->tid};

		fuzz_decode(p, &req, f);
		if (f->dir == METER_DIR_REQUEST) {
			fuzz_answer(p, &req, f, &st);
			st.err = MODBUS_EX_BUSY;
			fuzz_answer(p, &req, f, &st);
			st.err = 0;
		}
	}
	/* every register layout over whatever bytes the frame carries */
	if (f->data_len >= 5) {
		static const struct modbus_reg regs[] = {
		    {0, MODBUS_F32, MODBUS_ABCD, 1000, 1},    {0, MODBUS_F32, MODBUS_CDAB, 1, 1000},
		    {0, MODBUS_U32, MODBUS_ABCD, 10, 1},      {0, MODBUS_I32, MODBUS_CDAB, 1, 7},
		    {0, MODBUS_U16, MODBUS_ABCD, 1000000, 1},
		};
		for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
			int64_t wh = -1;
			uint8_t back[4];
			int rc = modbus_reg_to_wh(&regs[i], f->data + 1, &wh);

			FUZZ_ASSERT(rc == XQ_OK || rc == XQ_EPROTO);
			if (rc == XQ_OK) {
				FUZZ_ASSERT(wh >= 0 && wh <= MODBUS_WH_MAX);
				rc = modbus_wh_to_reg(&regs[i], wh, back);
				FUZZ_ASSERT(rc == XQ_OK || rc == XQ_EOVERFLOW);
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the first byte picks the transport, the rest is the byte stream */
	if (size == 0)
		return 0;
	fuzz_run(data[0] & 1 ? &proto_modbus_tcp : &proto_modbus_rtu, data + 1, size - 1, on_frame);
	return 0;
}
