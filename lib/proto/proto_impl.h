/*
 * proto_impl.h - what the drivers in lib/proto/ share and nobody else needs:
 * the frame-hunting loop behind every parse(), and small byte helpers.
 * Not part of the driver interface; include meter_proto.h instead.
 */
#ifndef XQ_PROTO_IMPL_H
#define XQ_PROTO_IMPL_H

#include "meter_proto.h"

/* What a driver says about a possible frame start. */
enum scan_verdict {
	SCAN_NONE = 0, /* not a frame start: garbage, wake-up FE */
	SCAN_SHORT,    /* could be a frame; c->len is the least total length known so far */
	SCAN_OK,       /* a whole valid frame of c->len bytes, direction c->dir */
	SCAN_BAD,      /* a delimited frame that is wrong; c->why says how */
	SCAN_SKIP,     /* a whole valid frame of c->len bytes not meant for us (echo) */
};

struct scan_cand {
	size_t len;
	enum meter_dir dir;
	const char *why;
};

/*
 * Judges the bytes p[0, avail) as a frame starting at p[0]. Must not read
 * p[avail] or beyond, and must only say SCAN_OK/SKIP with len <= avail and
 * SCAN_SHORT with avail < len <= METER_FRAME_MAX.
 */
typedef enum scan_verdict (*scan_fn)(const uint8_t *p, size_t avail, enum meter_dir dir,
                                     struct scan_cand *c);

/*
 * The receive loop every driver's parse() runs: tries each offset of buf
 * with fn and applies the rules at the top of meter_proto.h. Zeroes *f and
 * sets skip/need/why, or start/len/consumed/dir on XQ_OK; the driver then
 * fills the frame fields from buf + f->start.
 */
int meter_scan(const uint8_t *buf, size_t len, enum meter_dir dir, scan_fn fn,
               struct meter_frame *f);

/* Sets *len = 0 and returns XQ_ETOOBIG: the one way builders report a short buffer. */
int meter_short_buf(size_t *len);

/* Fills out with the reason for an XQ_EPROTO decode and returns XQ_EPROTO. */
int meter_bad(struct meter_values *out, const char *why);

/* Wake-up bytes to send: 0 with MREQ_NO_PREAMBLE, else req->preamble or dflt (max 16). */
size_t meter_preamble(const struct meter_req *req, size_t dflt);

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* One BCD byte -> 0..99, or -1 if a nibble is not a digit. */
static inline int bcd_byte(uint8_t b)
{
	if ((b & 0x0F) > 9 || (b >> 4) > 9)
		return -1;
	return (b >> 4) * 10 + (b & 0x0F);
}

/* 0..99 -> one BCD byte. */
static inline uint8_t bcd_make(int v)
{
	return (uint8_t)((v / 10) << 4 | (v % 10));
}

#endif
