/*
 * fuzz_dlt645.c - libFuzzer target for the DL/T 645 parser, decoders and
 * simulator replies (2007 and 1997 drivers). See fuzz_proto.h for how to
 * build and what is checked.
 */
#include "proto/dlt645.h"
#include "fuzz_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_frame(const struct meter_proto *p, const struct meter_frame *f)
{
	static const enum meter_item items[] = {METER_READ_TOTAL, METER_READ_COMBINED,
	                                        METER_READ_STATUS, METER_READ_ADDRESS};
	static const uint8_t tariffs[] = {0, 1, 4, METER_TARIFF_ALL};
	const struct meter_proto *both[2] = {&proto_dlt645, &proto_dlt645_97};
	struct meter_req req = {.addr = f->addr};
	struct meter_values st = {.have = MV_HAVE_WH | MV_HAVE_STATUS,
	                          .total_wh = 4321090,
	                          .rate_wh = {1, 20, 300, 4000},
	                          .have_rates = 0x0F};
	struct dlt645_control c;
	struct meter_time t;
	uint32_t di;
	uint16_t di16;

	(void)p;
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
			for (size_t j = 0; j < sizeof(tariffs); j++) {
				req.item = items[i];
				req.tariff = tariffs[j];
				/* the period in the frame's DI, so that decodes get past the DI
				 * check */
				req.period = f->data_len >= 1 ? (uint8_t)(f->data[0] % 13) : 0;
				fuzz_decode(both[k], &req, f);
			}
		}
		if (f->dir == METER_DIR_REQUEST) {
			struct meter_req self = {.addr = f->addr};

			fuzz_answer(both[k], &self, f, &st);
			st.err = DLT645_ERR_NO_DATA;
			fuzz_answer(both[k], &self, f, &st);
			st.err = 0;
		}
	}
	(void)dlt645_frame_di(f, &di);
	(void)dlt645_97_frame_di(f, &di16);
	(void)dlt645_decode_time(f, &t);
	(void)dlt645_decode_control(f, &c);
	(void)dlt645_check_ack(f->addr.b, DLT645_F_CONTROL, f, &(struct meter_values){0});
	if (f->data_len >= 4) {
		struct meter_values v = {0};
		char s[256];

		(void)dlt645_decode_energy(di, f->data + 4, f->data_len - 4, &v);
		(void)dlt645_decode_ascii(f->data + 4, f->data_len - 4, s, sizeof(s));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_run(&proto_dlt645, data, size, on_frame);
	return 0;
}
