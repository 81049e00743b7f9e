/*
 * proto_test.h - helpers the protocol codec tests share: hex text to bytes
 * (for frames written out in docs/meter-protocols.md), a receive loop that
 * behaves like the collector's (drop f.skip, keep the rest), byte-by-byte
 * delivery, the invariants every parse() result must keep, and a small
 * deterministic PRNG for hostile-input rounds. Include after test.h.
 */
#ifndef XQ_PROTO_TEST_H
#define XQ_PROTO_TEST_H

#include "proto/meter_proto.h"

#include <stdint.h>
#include <string.h>

/* "FE 68 01" -> bytes; returns the count. Asserts on bad text via CHECK. */
static inline size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v;

		if (*s == ' ')
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else {
			CHECK(!"bad hex in test");
			return 0;
		}
		if (hi < 0) {
			hi = v;
		} else {
			if (n == cap) {
				CHECK(!"hex longer than buffer");
				return n;
			}
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	CHECK(hi < 0);
	return n;
}

/*
 * What parse() promises on every return (meter_proto.h). Returns 1 if all
 * hold, so hostile-input loops can stop at the first broken promise.
 */
static inline int parse_promises_kept(int rc, const struct meter_frame *f, size_t len)
{
	switch (rc) {
	case XQ_OK:
		return f->len > 0 && f->start + f->len == f->consumed && f->consumed <= len &&
		       f->len <= METER_FRAME_MAX && f->data_len <= METER_DATA_MAX &&
		       (f->dir == METER_DIR_REQUEST || f->dir == METER_DIR_REPLY);
	case XQ_EAGAIN:
		return f->skip <= len && f->need >= 1 && len - f->skip < METER_FRAME_MAX;
	case XQ_EPROTO:
		return f->skip >= 1 && f->skip <= len && f->why != NULL;
	}
	return 0;
}

/*
 * The collector's loop over one buffer: parse, drop skip on EAGAIN/EPROTO,
 * until XQ_OK or no frame. *off is where the returned frame's buffer
 * started (so buf + *off + f->start is the frame); *nbad counts EPROTOs.
 */
static inline int parse_loop(const struct meter_proto *p, const uint8_t *buf, size_t len,
                             enum meter_dir dir, struct meter_frame *f, size_t *off, int *nbad)
{
	size_t o = 0;
	int rc;

	*nbad = 0;
	for (;;) {
		rc = p->parse(buf + o, len - o, dir, f);
		CHECK(parse_promises_kept(rc, f, len - o));
		if (rc == XQ_OK) {
			*off = o;
			return rc;
		}
		if (rc == XQ_EPROTO)
			(*nbad)++;
		if (f->skip == 0 || o + f->skip >= len)
			return rc == XQ_EPROTO ? XQ_EAGAIN : rc;
		o += f->skip;
	}
}

/*
 * Deliver src one byte at a time into a receive buffer, as a slow serial
 * line would, dropping f.skip after each XQ_EAGAIN. Returns the rc of the
 * last parse; *agains counts the XQ_EAGAINs seen, and the frame (if any) is
 * in *f relative to rx, which the caller provides (METER_FRAME_MAX * 2).
 */
static inline int feed_bytewise(const struct meter_proto *p, const uint8_t *src, size_t n,
                                enum meter_dir dir, uint8_t *rx, size_t rxcap,
                                struct meter_frame *f, int *agains)
{
	size_t have = 0;
	int rc = XQ_EAGAIN;

	*agains = 0;
	for (size_t i = 0; i < n; i++) {
		if (have == rxcap) {
			CHECK(!"receive buffer filled up");
			return XQ_ERROR;
		}
		rx[have++] = src[i];
		rc = p->parse(rx, have, dir, f);
		CHECK(parse_promises_kept(rc, f, have));
		if (rc == XQ_OK)
			return i + 1 == n ? XQ_OK : XQ_ERROR; /* whole before the last byte? */
		if (rc == XQ_EAGAIN)
			(*agains)++;
		memmove(rx, rx + f->skip, have - f->skip);
		have -= f->skip;
	}
	return rc;
}

/* xorshift64*: deterministic, good enough to shake parsers. */
static uint64_t prng_state = 0x9E3779B97F4A7C15u;

static inline uint64_t prng(void)
{
	prng_state ^= prng_state >> 12;
	prng_state ^= prng_state << 25;
	prng_state ^= prng_state >> 27;
	return prng_state * 2685821657736338717u;
}

/* "YYYY-MM-DD hh:mm:ss" for comparing times with CHECK_STR. */
static inline const char *time_str(const struct meter_time *t, char *buf, size_t n)
{
	int v[6] = {t->year, t->mon, t->day, t->hour, t->min, t->sec};
	const char *sep = "-- ::";
	size_t k = 0;

	for (int i = 0; i < 6; i++) {
		int digits = i == 0 ? 4 : 2, x = v[i];
		char tmp[4];

		for (int j = digits - 1; j >= 0; j--) {
			tmp[j] = (char)('0' + x % 10);
			x /= 10;
		}
		if (k + (size_t)digits + 2 > n)
			break;
		memcpy(buf + k, tmp, (size_t)digits);
		k += (size_t)digits;
		if (i < 5)
			buf[k++] = sep[i];
	}
	buf[k] = '\0';
	return buf;
}

/* Every offset of a valid frame's bytes, each byte flipped to every value:
 * parse must keep its promises and never accept a different frame length. */
static inline void mutate_all_bytes(const struct meter_proto *p, const uint8_t *frame, size_t n)
{
	uint8_t buf[METER_FRAME_MAX + 32];
	struct meter_frame f;

	if (n > sizeof(buf))
		return;
	for (size_t i = 0; i < n; i++) {
		for (int v = 0; v < 256; v++) {
			int rc;

			memcpy(buf, frame, n);
			buf[i] = (uint8_t)v;
			rc = p->parse(buf, n, METER_DIR_ANY, &f);
			if (!parse_promises_kept(rc, &f, n)) {
				CHECK(!"parse broke its promises on a mutated frame");
				return;
			}
		}
	}
	CHECK(1);
}

/* Random buffers, random lengths: parse and decode must stay in bounds (ASan
 * watches) and keep parse's promises. */
static inline void random_rounds(const struct meter_proto *p, const struct meter_req *req,
                                 int rounds, const uint8_t *seed_frame, size_t seed_n)
{
	uint8_t buf[2 * METER_FRAME_MAX];
	struct meter_frame f;
	struct meter_values v;
	int broken = 0;

	for (int r = 0; r < rounds && !broken; r++) {
		size_t n = (size_t)(prng() % sizeof(buf));
		int rc;

		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)prng();
		/* half the rounds: a real frame with a few bytes changed, so the
		 * checksum sometimes still holds and decode gets exercised */
		if ((r & 1) && seed_n <= n) {
			size_t at = (size_t)(prng() % (n - seed_n + 1));

			memcpy(buf + at, seed_frame, seed_n);
			for (int k = (int)(prng() % 3); k > 0; k--)
				buf[at + prng() % seed_n] = (uint8_t)prng();
		}
		rc = p->parse(buf, n, METER_DIR_ANY, &f);
		if (!parse_promises_kept(rc, &f, n))
			broken = 1;
		if (rc == XQ_OK)
			(void)p->decode(req, &f, &v);
	}
	CHECK(!broken);
}

#endif
