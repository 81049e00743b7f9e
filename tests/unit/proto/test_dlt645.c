/*
 * test_dlt645.c - lib/proto/dlt645.c. Every DL/T 645 frame of
 * /work/shared/vectors/meters/published-frames.json is below as a byte array
 * named after its vector id, with its expected meaning in vectors[] (broken
 * ones must be rejected for the stated reason); then the worked examples of
 * docs/meter-protocols.md 2.10, byte-exact rebuilds of published frames,
 * simulator round trips, and hostile input: garbage before a frame,
 * byte-by-byte delivery, truncation, oversize L, bad CS, bad BCD, echoes.
 */
#include "proto/dlt645.h"
#include "test.h"
#include "proto_test.h"

#include <string.h>

/*
 * The published frames, as published (preamble included). Direction as
 * the vector file states it; dlt07-p18 says master->meter but is a 0x91
 * reply, and is tested as one.
 */
/* dlt07-p01 (master->meter, expect valid) */
static const uint8_t v_dlt07_p01[] = {0x68, 0x61, 0x01, 0x00, 0x00, 0x00, 0x00, 0x68,
                                      0x11, 0x04, 0x33, 0x33, 0x34, 0x33, 0x14, 0x16};
/* dlt07-p02 (meter->master, expect valid) */
static const uint8_t v_dlt07_p02[] = {0x68, 0x61, 0x01, 0x00, 0x00, 0x00, 0x00, 0x68, 0x91, 0x08,
                                      0x33, 0x33, 0x34, 0x33, 0x59, 0x33, 0x33, 0x33, 0x8A, 0x16};
/* dlt07-p03 (master->meter, expect valid) */
static const uint8_t v_dlt07_p03[] = {0x68, 0x61, 0x01, 0x00, 0x00, 0x00, 0x00, 0x68,
                                      0x11, 0x04, 0x33, 0x33, 0x35, 0x33, 0x15, 0x16};
/* dlt07-p04 (meter->master, expect valid) */
static const uint8_t v_dlt07_p04[] = {0x68, 0x61, 0x01, 0x00, 0x00, 0x00, 0x00, 0x68, 0x91, 0x08,
                                      0x33, 0x33, 0x35, 0x33, 0x59, 0x34, 0x33, 0x33, 0x8C, 0x16};
/* dlt07-p05 (meter->master, expect valid) */
static const uint8_t v_dlt07_p05[] = {0x68, 0x61, 0x01, 0x00, 0x00, 0x00, 0x00, 0x68, 0x91, 0x08,
                                      0x33, 0x33, 0x36, 0x33, 0x59, 0x33, 0x34, 0x33, 0x8D, 0x16};
/* dlt07-p06 (meter->master, expect valid) */
static const uint8_t v_dlt07_p06[] = {0x68, 0x61, 0x01, 0x00, 0x00, 0x00, 0x00, 0x68, 0x91, 0x08,
                                      0x33, 0x33, 0x37, 0x33, 0x56, 0x33, 0x34, 0x33, 0x8B, 0x16};
/* dlt07-p07 (master->meter, expect valid) */
static const uint8_t v_dlt07_p07[] = {0x68, 0x61, 0x01, 0x00, 0x00, 0x00, 0x00, 0x68,
                                      0x11, 0x04, 0x33, 0x34, 0x34, 0x35, 0x17, 0x16};
/* dlt07-p08 (meter->master, expect valid) */
static const uint8_t v_dlt07_p08[] = {0x68, 0x61, 0x01, 0x00, 0x00, 0x00, 0x00, 0x68, 0x91,
                                      0x06, 0x33, 0x34, 0x34, 0x35, 0x34, 0x43, 0x10, 0x16};
/* dlt07-p09 (meter->master, expect valid) */
static const uint8_t v_dlt07_p09[] = {0x68, 0x61, 0x01, 0x00, 0x00, 0x00, 0x00, 0x68, 0x91, 0x07,
                                      0x33, 0x34, 0x35, 0x35, 0xCC, 0x7C, 0x33, 0x16, 0x16};
/* dlt07-p10 (meter->master, expect valid) */
static const uint8_t v_dlt07_p10[] = {0x68, 0x61, 0x01, 0x00, 0x00, 0x00, 0x00, 0x68, 0x91, 0x07,
                                      0x33, 0x33, 0x36, 0x35, 0x45, 0x58, 0x33, 0x6B, 0x16};
/* dlt07-p11 (meter->master, expect valid) */
static const uint8_t v_dlt07_p11[] = {0x68, 0x61, 0x01, 0x00, 0x00, 0x00, 0x00, 0x68, 0x91, 0x07,
                                      0x33, 0x33, 0x37, 0x35, 0x64, 0x76, 0x33, 0xA9, 0x16};
/* dlt07-p12 (meter->master, expect valid) */
static const uint8_t v_dlt07_p12[] = {0x68, 0x61, 0x01, 0x00, 0x00, 0x00, 0x00, 0x68, 0x91, 0x07,
                                      0x33, 0x33, 0x38, 0x35, 0x39, 0x83, 0x33, 0x8C, 0x16};
/* dlt07-p13 (meter->master, expect valid) */
static const uint8_t v_dlt07_p13[] = {0x68, 0x61, 0x01, 0x00, 0x00, 0x00, 0x00, 0x68, 0x91,
                                      0x06, 0x33, 0x33, 0x39, 0x35, 0x34, 0x38, 0x09, 0x16};
/* dlt07-p14 (master->meter, expect valid) */
static const uint8_t v_dlt07_p14[] = {0x68, 0x25, 0x04, 0x03, 0x02, 0x01, 0x00, 0x68,
                                      0x11, 0x04, 0x33, 0x33, 0x34, 0x33, 0xE1, 0x16};
/* dlt07-p15 (meter->master, expect valid) */
static const uint8_t v_dlt07_p15[] = {0x68, 0x25, 0x04, 0x03, 0x02, 0x01, 0x00, 0x68, 0x91, 0x08,
                                      0x33, 0x33, 0x34, 0x33, 0x75, 0x39, 0x45, 0x33, 0x8B, 0x16};
/* dlt07-p16 (master->meter, expect valid) */
static const uint8_t v_dlt07_p16[] = {0x68, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0x68,
                                      0x11, 0x04, 0x33, 0x33, 0x34, 0x33, 0xAE, 0x16};
/* dlt07-p17 (master->meter, expect valid) */
static const uint8_t v_dlt07_p17[] = {0xFE, 0xFE, 0xFE, 0x68, 0xAA, 0xAA, 0xAA, 0xAA,
                                      0xAA, 0xAA, 0x68, 0x13, 0x00, 0xDF, 0x16};
/* dlt07-p18 (meter->master, expect valid) */
static const uint8_t v_dlt07_p18[] = {0xFE, 0xFE, 0x68, 0x72, 0x00, 0x32, 0x09, 0x17,
                                      0x20, 0x68, 0x91, 0x08, 0x33, 0x33, 0x34, 0x33,
                                      0xB9, 0x34, 0x33, 0x33, 0x6D, 0x16};
/* dlt07-p19 (master->meter, expect valid) */
static const uint8_t v_dlt07_p19[] = {0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x00, 0x00, 0x00, 0x00, 0x00,
                                      0x00, 0x68, 0x11, 0x04, 0x33, 0x33, 0x33, 0x33, 0xB1, 0x16};
/* dlt07-p20 (meter->master, expect valid) */
static const uint8_t v_dlt07_p20[] = {0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x00, 0x00, 0x00,
                                      0x00, 0x00, 0x00, 0x68, 0x91, 0x06, 0x33, 0x34,
                                      0x34, 0x35, 0x4C, 0x56, 0xD9, 0x16};
/* dlt07-p21 (meter->master, expect valid) */
static const uint8_t v_dlt07_p21[] = {0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x60, 0x07, 0x92,
                                      0x04, 0x00, 0x91, 0x68, 0x91, 0x08, 0x33, 0x33,
                                      0x33, 0x33, 0x97, 0x35, 0xA8, 0x33, 0x6A, 0x16};
/* dlt07-p22 (meter->master, expect valid) */
static const uint8_t v_dlt07_p22[] = {0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x60, 0x07, 0x92, 0x04,
                                      0x00, 0x91, 0x68, 0xD1, 0x01, 0x37, 0x67, 0x16};
/* dlt07-p23 (master->meter, expect valid) */
static const uint8_t v_dlt07_p23[] = {0x68, 0x91, 0x40, 0x02, 0x01, 0x18, 0x07, 0x68,
                                      0x11, 0x04, 0x33, 0x33, 0x34, 0x33, 0xA5, 0x16};
/* dlt07-p24 (meter->master, expect valid) */
static const uint8_t v_dlt07_p24[] = {0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x91, 0x40, 0x02,
                                      0x01, 0x18, 0x07, 0x68, 0x91, 0x08, 0x33, 0x33,
                                      0x34, 0x33, 0x33, 0x33, 0x33, 0x33, 0xF5, 0x16};
/* dlt07-p25 (meter->master, expect valid) */
static const uint8_t v_dlt07_p25[] = {0xFE, 0xFE, 0x68, 0x12, 0x90, 0x78, 0x56, 0x34,
                                      0x12, 0x68, 0x91, 0x08, 0x33, 0x33, 0x34, 0x33,
                                      0x89, 0x67, 0x45, 0x33, 0x54, 0x16};
/* dlt07-p26 (meter->master, expect valid) */
static const uint8_t v_dlt07_p26[] = {0x68, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12,
                                      0x68, 0xD1, 0x01, 0x35, 0x8D, 0x16};
/* dlt07-p27 (meter->master, expect valid) */
static const uint8_t v_dlt07_p27[] = {0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x12,
                                      0x90, 0x78, 0x56, 0x34, 0x12, 0x68, 0x93, 0x06, 0x45,
                                      0xC3, 0xAB, 0x89, 0x67, 0x45, 0x07, 0x16};
/* dlt07-p28 (meter->master, expect valid) */
static const uint8_t v_dlt07_p28[] = {0x68, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x68, 0x93,
                                      0x06, 0x34, 0x33, 0x33, 0x33, 0x33, 0x33, 0x9D, 0x16};
/* dlt07-p29 (meter->master, expect valid) */
static const uint8_t v_dlt07_p29[] = {0x68, 0x49, 0x00, 0x30, 0x07, 0x21, 0x20, 0x68, 0x91, 0x08,
                                      0x33, 0x33, 0x34, 0x33, 0x33, 0x33, 0x33, 0x33, 0xC3, 0x16};
/* dlt07-p30 (master->meter, expect valid) */
static const uint8_t v_dlt07_p30[] = {0x68, 0x61, 0x10, 0x01, 0x30, 0x12, 0x15, 0x68,
                                      0x11, 0x04, 0x33, 0x33, 0x34, 0x33, 0x7B, 0x16};
/* dlt07-p31 (meter->master, expect valid) */
static const uint8_t v_dlt07_p31[] = {0x68, 0x61, 0x10, 0x01, 0x30, 0x12, 0x15, 0x68, 0x91, 0x08,
                                      0x33, 0x33, 0x34, 0x33, 0xAB, 0x39, 0x33, 0x33, 0x49, 0x16};
/* dlt07-p32 (meter->master, expect valid) */
static const uint8_t v_dlt07_p32[] = {0x68, 0x32, 0x00, 0x00, 0x00, 0x00, 0x00, 0x68, 0x93,
                                      0x06, 0x65, 0x33, 0x33, 0x33, 0x33, 0x33, 0xFF, 0x16};
/* dlt07-p33 (meter->master, expect valid) */
static const uint8_t v_dlt07_p33[] = {0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x20, 0x64, 0x31,
                                      0x32, 0x03, 0x00, 0x68, 0x93, 0x06, 0x53, 0x97,
                                      0x64, 0x65, 0x36, 0x33, 0x6F, 0x16};
/* dlt07-p34 (meter->master, expect valid) */
static const uint8_t v_dlt07_p34[] = {0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x94, 0x41, 0x03,
                                      0x26, 0x12, 0x18, 0x68, 0x93, 0x06, 0xC7, 0x74,
                                      0x36, 0x59, 0x45, 0x4B, 0xEB, 0x16};
/* dlt07-p35 (meter->master, expect valid) */
static const uint8_t v_dlt07_p35[] = {0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x94, 0x41, 0x03,
                                      0x26, 0x12, 0x18, 0x68, 0x91, 0x08, 0x33, 0x33,
                                      0x34, 0x33, 0x59, 0x33, 0x33, 0x33, 0x50, 0x16};
/* dlt07-p36 (master->meter, expect valid) */
static const uint8_t v_dlt07_p36[] = {0x68, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x68, 0x08,
                                      0x06, 0x84, 0x55, 0x43, 0x38, 0x39, 0x4A, 0x4B, 0x16};
/* dlt07-p37 (master->meter, expect valid) */
static const uint8_t v_dlt07_p37[] = {0x68, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x68, 0x08,
                                      0x06, 0x58, 0x73, 0x43, 0x38, 0x39, 0x4A, 0x0D, 0x16};
/* dlt07-p38 (meter->master, expect valid) */
static const uint8_t v_dlt07_p38[] = {0x68, 0x76, 0x02, 0x02, 0x47, 0x02, 0x02, 0x68, 0x91, 0x08,
                                      0x33, 0x33, 0x34, 0x33, 0x35, 0x33, 0x33, 0x33, 0xC9, 0x16};
/* dlt07-p39 (master->meter, expect valid) */
static const uint8_t v_dlt07_p39[] = {0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x02, 0x00, 0x31, 0x08, 0x22,
                                      0x20, 0x68, 0x11, 0x04, 0x32, 0x55, 0xB3, 0x35, 0xD1, 0x16};
/* dlt07-p40 (meter->master, expect valid) */
static const uint8_t v_dlt07_p40[] = {0x68, 0x02, 0x00, 0x00, 0x00, 0x10, 0x20, 0x68, 0x91,
                                      0x18, 0x33, 0x32, 0x34, 0x33, 0x67, 0x5C, 0x33, 0x33,
                                      0x99, 0x3A, 0x33, 0x33, 0x48, 0x39, 0x33, 0x33, 0xB3,
                                      0x37, 0x33, 0x33, 0xA4, 0x43, 0x33, 0x33, 0x5D, 0x16};
/* dlt07-p41 (meter->master, expect bad_checksum) */
static const uint8_t v_dlt07_p41[] = {0x68, 0x02, 0x00, 0x00, 0x00, 0x10, 0x20, 0x68, 0x91,
                                      0x18, 0x33, 0x32, 0x34, 0x33, 0x67, 0x5C, 0x33, 0x33,
                                      0x99, 0x3A, 0x33, 0x33, 0x48, 0x39, 0x33, 0x33, 0xB3,
                                      0x37, 0x33, 0x33, 0xA4, 0x43, 0x33, 0x33, 0x5B, 0x16};
/* dlt07-p42 (master->meter, expect bad_checksum) */
static const uint8_t v_dlt07_p42[] = {0x68, 0x02, 0x00, 0x00, 0x00, 0x10, 0x20, 0x68,
                                      0x11, 0x04, 0x33, 0x32, 0x34, 0x33, 0xE1, 0x16};
/* dlt07-p43 (meter->master, expect valid) */
static const uint8_t v_dlt07_p43[] = {0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x24, 0x02, 0x00, 0x00, 0x00,
                                      0x00, 0x68, 0x91, 0x18, 0x33, 0x32, 0x34, 0x33, 0xC7, 0x47,
                                      0x35, 0x33, 0x37, 0x86, 0x33, 0x33, 0xA7, 0x86, 0x33, 0x33,
                                      0x36, 0x87, 0x33, 0x33, 0x44, 0x87, 0x33, 0x33, 0xEB, 0x16};
/* dlt07-p44 (meter->master, expect valid) */
static const uint8_t v_dlt07_p44[] = {0x68, 0x00, 0x36, 0x19, 0x00, 0x00, 0x00, 0x68, 0x93,
                                      0x06, 0x33, 0x69, 0x4C, 0x33, 0x33, 0x33, 0x39, 0x16};
/* dlt07-p45 (master->meter, expect valid) */
static const uint8_t v_dlt07_p45[] = {0xFE, 0x68, 0x00, 0x36, 0x19, 0x00, 0x00, 0x00, 0x68,
                                      0x11, 0x04, 0x33, 0x32, 0x34, 0x33, 0x00, 0x16};
/* dlt07-p46 (meter->master, expect valid) */
static const uint8_t v_dlt07_p46[] = {0x68, 0x00, 0x36, 0x19, 0x00, 0x00, 0x00, 0x68, 0x91,
                                      0x18, 0x33, 0x32, 0x34, 0x33, 0x63, 0x69, 0x33, 0x33,
                                      0x89, 0x35, 0x33, 0x33, 0x4C, 0x33, 0x33, 0x33, 0x6B,
                                      0x33, 0x33, 0x33, 0x4A, 0x66, 0x33, 0x33, 0xE9, 0x16};
/* dlt07-p47 (meter->master, expect valid) */
static const uint8_t v_dlt07_p47[] = {0x68, 0x01, 0x00, 0x44, 0x23, 0x52, 0x00, 0x68, 0x91,
                                      0x18, 0x33, 0x32, 0x34, 0x33, 0xBC, 0x36, 0x33, 0x33,
                                      0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0xBC,
                                      0x36, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x13, 0x16};
/* dlt07-p48 (meter->master, expect valid) */
static const uint8_t v_dlt07_p48[] = {0x68, 0x01, 0x00, 0x44, 0x23, 0x52, 0x00, 0x68, 0x91,
                                      0x06, 0x33, 0x36, 0x34, 0x35, 0x95, 0x55, 0xDD, 0x16};
/* dlt07-p49 (meter->master, expect valid) */
static const uint8_t v_dlt07_p49[] = {0x68, 0x77, 0x44, 0x10, 0x03, 0x00, 0x00, 0x68, 0x91,
                                      0x18, 0x33, 0x32, 0x34, 0x33, 0xAC, 0x34, 0x33, 0x33,
                                      0x58, 0x33, 0x33, 0x33, 0x95, 0x33, 0x33, 0x33, 0x99,
                                      0x33, 0x33, 0x33, 0x58, 0x33, 0x33, 0x33, 0x9B, 0x16};
/* dlt07-p50 (meter->master, expect valid) */
static const uint8_t v_dlt07_p50[] = {0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x18, 0x55, 0x60, 0x06,
                                      0x00, 0x00, 0x68, 0xD1, 0x01, 0x35, 0xAA, 0x16};
/* dlt07-p51 (meter->master, expect valid) */
static const uint8_t v_dlt07_p51[] = {0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x18, 0x55, 0x60,
                                      0x06, 0x00, 0x00, 0x68, 0x91, 0x07, 0x35, 0x34,
                                      0x33, 0x37, 0x65, 0x86, 0x4B, 0x44, 0x16};
/* dlt07-p52 (meter->master, expect valid) */
static const uint8_t v_dlt07_p52[] = {0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x18, 0x55, 0x60,
                                      0x06, 0x00, 0x00, 0x68, 0x91, 0x08, 0x34, 0x34,
                                      0x33, 0x37, 0x39, 0x5C, 0x45, 0x4B, 0x33, 0x16};
/* dlt07-p53 (meter->master, expect valid) */
static const uint8_t v_dlt07_p53[] = {0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x18, 0x55, 0x60, 0x06,
                                      0x00, 0x00, 0x68, 0x91, 0x0A, 0x35, 0x37, 0x33, 0x37,
                                      0x4B, 0x88, 0x93, 0x39, 0x33, 0x33, 0x19, 0x16};
/* dlt07-p54 (meter->master, expect valid) */
static const uint8_t v_dlt07_p54[] = {0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x18, 0x55, 0x60, 0x06,
                                      0x00, 0x00, 0x68, 0x91, 0x0A, 0x37, 0x37, 0x33, 0x37,
                                      0x89, 0x63, 0x61, 0x63, 0x65, 0x65, 0x90, 0x16};
/* dlt07-p55 (meter->master, expect valid) */
static const uint8_t v_dlt07_p55[] = {0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x18, 0x55, 0x60,
                                      0x06, 0x00, 0x00, 0x68, 0x91, 0x07, 0x3C, 0x37,
                                      0x33, 0x37, 0x33, 0x45, 0x33, 0xC3, 0x16};
/* dlt07-p56 (meter->master, expect valid) */
static const uint8_t v_dlt07_p56[] = {0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x18, 0x55, 0x60, 0x06,
                                      0x00, 0x00, 0x68, 0x91, 0x0A, 0x38, 0x37, 0x33, 0x37,
                                      0x33, 0x33, 0x74, 0x63, 0x61, 0x68, 0x1D, 0x16};
/* dlt07-p57 (meter->master, expect valid) */
static const uint8_t v_dlt07_p57[] = {0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x18, 0x55, 0x60,
                                      0x06, 0x00, 0x00, 0x68, 0x91, 0x08, 0x3A, 0x37,
                                      0x33, 0x37, 0x33, 0x63, 0x61, 0x65, 0x73, 0x16};
/* dlt07-p58 (meter->master, expect valid) */
static const uint8_t v_dlt07_p58[] = {0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x18, 0x55, 0x60,
                                      0x06, 0x00, 0x00, 0x68, 0x91, 0x08, 0x33, 0x33,
                                      0x34, 0x33, 0xC6, 0x63, 0x35, 0x33, 0x9A, 0x16};
/* dlt07-p59 (meter->master, expect valid) */
static const uint8_t v_dlt07_p59[] = {0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x18, 0x55, 0x60,
                                      0x06, 0x00, 0x00, 0x68, 0x91, 0x08, 0x33, 0x34,
                                      0x34, 0x33, 0x33, 0x33, 0x33, 0x33, 0xD6, 0x16};
/* dlt07-p60 (meter->master, expect valid) */
static const uint8_t v_dlt07_p60[] = {0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x18, 0x55, 0x60,
                                      0x06, 0x00, 0x00, 0x68, 0x91, 0x08, 0x33, 0x35,
                                      0x34, 0x33, 0x33, 0x33, 0x33, 0x33, 0xD7, 0x16};
/* dlt07-p61 (meter->master, expect valid) */
static const uint8_t v_dlt07_p61[] = {0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x18, 0x55, 0x60,
                                      0x06, 0x00, 0x00, 0x68, 0x91, 0x08, 0x33, 0x36,
                                      0x34, 0x33, 0xA9, 0x54, 0x35, 0x33, 0x71, 0x16};
/* dlt07-p62 (meter->master, expect valid) */
static const uint8_t v_dlt07_p62[] = {0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x18, 0x55, 0x60,
                                      0x06, 0x00, 0x00, 0x68, 0x91, 0x08, 0x33, 0x37,
                                      0x34, 0x33, 0x4A, 0x3C, 0x33, 0x33, 0xF9, 0x16};
/* dlt07-p63 (master->meter, expect valid) */
static const uint8_t v_dlt07_p63[] = {0x68, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x68, 0x1C, 0x10,
                                      0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x4D, 0x33,
                                      0x57, 0x74, 0x48, 0x45, 0x38, 0x4B, 0x55, 0x16};
/* dlt07-p64 (meter->master, expect valid) */
static const uint8_t v_dlt07_p64[] = {0x68, 0x11, 0x11, 0x11, 0x11, 0x11,
                                      0x11, 0x68, 0x9C, 0x00, 0xD2, 0x16};
/* dlt07-p65 (master->meter, expect valid) */
static const uint8_t v_dlt07_p65[] = {0x68, 0x07, 0x07, 0x00, 0x00, 0x34, 0x12, 0x68,
                                      0x11, 0x04, 0x34, 0x34, 0x39, 0x38, 0x12, 0x16};
/* dlt07-p66 (meter->master, expect bad_bcd) */
static const uint8_t v_dlt07_p66[] = {0x68, 0x18, 0x06, 0x36, 0x04, 0x00, 0x91, 0x68, 0x91, 0x08,
                                      0x33, 0x33, 0x34, 0x33, 0x33, 0x33, 0x41, 0x33, 0xF9, 0x16};
/* dlt07-p67 (master->meter, expect valid) */
static const uint8_t v_dlt07_p67[] = {0xFE, 0x68, 0x62, 0x33, 0x19, 0x00, 0x00, 0x00, 0x68,
                                      0x11, 0x04, 0x33, 0x32, 0x34, 0x33, 0x5F, 0x16};
/* dlt97-p01 (master->meter, expect valid) */
static const uint8_t v_dlt97_p01[] = {0x68, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00,
                                      0x68, 0x01, 0x02, 0x44, 0xE9, 0x03, 0x16};
/* dlt97-p02 (meter->master, expect valid) */
static const uint8_t v_dlt97_p02[] = {0x68, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x68,
                                      0x81, 0x04, 0x44, 0xE9, 0x33, 0x34, 0xEC, 0x16};
/* dlt97-p03 (master->meter, expect valid) */
static const uint8_t v_dlt97_p03[] = {0x68, 0x54, 0x07, 0x13, 0x00, 0x80, 0x13,
                                      0x68, 0x01, 0x02, 0x43, 0xC3, 0xDA, 0x16};
/* dlt97-p04 (meter->master, expect valid) */
static const uint8_t v_dlt97_p04[] = {0x68, 0x54, 0x07, 0x13, 0x00, 0x80, 0x13, 0x68, 0x81,
                                      0x06, 0x43, 0xC3, 0x34, 0x33, 0x33, 0x33, 0x2B, 0x16};
/* dlt97-p05 (master->meter, expect valid) */
static const uint8_t v_dlt97_p05[] = {0x68, 0x63, 0x01, 0x43, 0x03, 0x00, 0x00,
                                      0x68, 0x01, 0x02, 0x43, 0xC3, 0x83, 0x16};
/* dlt97-p06 (master->meter, expect valid) */
static const uint8_t v_dlt97_p06[] = {0x68, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                      0x68, 0x01, 0x02, 0x44, 0x16, 0x2D, 0x16};
/* dlt97-p07 (meter->master, expect valid) */
static const uint8_t v_dlt97_p07[] = {0x68, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x68,
                                      0x81, 0x03, 0x44, 0x16, 0x33, 0xE1, 0x16};

/* What each vector is, and what it must decode to. */
enum kind {
	K_REQ,     /* 2007 request 0x11 (DI) or 0x13: parse, rebuild byte-exact */
	K_REQ97,   /* 1997 read request 0x01 */
	K_TIME,    /* 0x08 time sync: decode the time, rebuild */
	K_CTL,     /* 0x1C remote control: decode the payload, rebuild */
	K_ACK,     /* 0x9C control acknowledged */
	K_FWD,     /* forward active energy, total or one rate: driver decode, rebuild */
	K_COMB,    /* combined active total (signed) */
	K_ENERGY,  /* other energy quantities via dlt645_decode_energy() */
	K_BLOCK,   /* forward active block: total + sharp/peak/flat/valley */
	K_NUM,     /* table item: BCD number with implied decimals */
	K_ASCII,   /* table item sent reversed */
	K_ERR,     /* 0xD1 abnormal reply: ERR byte */
	K_ADDR,    /* 0x93 read-address reply */
	K_97_FWD,  /* 1997 0x9010 forward active */
	K_97_NUM,  /* 1997 other item */
	K_RAW,     /* vendor item: framing only */
	K_BAD_CS,  /* must be rejected: bad checksum */
	K_BAD_BCD, /* must be rejected: value is not BCD */
};

struct vec {
	const char *id;
	const uint8_t *b;
	size_t n;
	enum kind kind;
	size_t fe;        /* wake-up FE bytes before the frame */
	const char *addr; /* printed address */
	uint8_t control;
	uint32_t di;
	int64_t value;    /* Wh (varh), item number, or ERR byte */
	int dec;          /* K_NUM: implied decimals */
	const char *text; /* time, ASCII value, or the address in a 0x93 reply */
	int64_t rates[4]; /* K_BLOCK: sharp, peak, flat, valley in Wh */
};

/* clang-format off */
#define V(name, kind, fe, addr, c, di, value, dec, text, ...) \
	{ #name, v_##name, sizeof(v_##name), kind, fe, addr, c, di, value, dec, text, __VA_ARGS__ }
/* clang-format on */

/* Written from each vector's "meaning": kWh x 1000 = Wh, items in their own resolution. */
/* clang-format off */
static const struct vec vectors[] = {
	V(dlt07_p01, K_REQ, 0, "000000000161", 0x11, 0x00010000u, 0, 0, NULL, { 0 }),
	V(dlt07_p02, K_FWD, 0, "000000000161", 0x91, 0x00010000u, 260, 0, NULL, { 0 }),
	V(dlt07_p03, K_REQ, 0, "000000000161", 0x11, 0x00020000u, 0, 0, NULL, { 0 }),
	V(dlt07_p04, K_ENERGY, 0, "000000000161", 0x91, 0x00020000u, 1260, 0, NULL, { 0 }),
	V(dlt07_p05, K_ENERGY, 0, "000000000161", 0x91, 0x00030000u, 100260, 0, NULL, { 0 }),
	V(dlt07_p06, K_ENERGY, 0, "000000000161", 0x91, 0x00040000u, 100230, 0, NULL, { 0 }),
	V(dlt07_p07, K_REQ, 0, "000000000161", 0x11, 0x02010100u, 0, 0, NULL, { 0 }),
	V(dlt07_p08, K_NUM, 0, "000000000161", 0x91, 0x02010100u, 1001, 1, NULL, { 0 }),
	V(dlt07_p09, K_NUM, 0, "000000000161", 0x91, 0x02020100u, 4999, 3, NULL, { 0 }),
	V(dlt07_p10, K_NUM, 0, "000000000161", 0x91, 0x02030000u, 2512, 4, NULL, { 0 }),
	V(dlt07_p11, K_NUM, 0, "000000000161", 0x91, 0x02040000u, 4331, 4, NULL, { 0 }),
	V(dlt07_p12, K_NUM, 0, "000000000161", 0x91, 0x02050000u, 5006, 4, NULL, { 0 }),
	V(dlt07_p13, K_NUM, 0, "000000000161", 0x91, 0x02060000u, 501, 3, NULL, { 0 }),
	V(dlt07_p14, K_REQ, 0, "000102030425", 0x11, 0x00010000u, 0, 0, NULL, { 0 }),
	V(dlt07_p15, K_FWD, 0, "000102030425", 0x91, 0x00010000u, 1206420, 0, NULL, { 0 }),
	V(dlt07_p16, K_REQ, 0, "AAAAAAAAAAAA", 0x11, 0x00010000u, 0, 0, NULL, { 0 }),
	V(dlt07_p17, K_REQ, 3, "AAAAAAAAAAAA", 0x13, 0x00000000u, 0, 0, NULL, { 0 }),
	V(dlt07_p18, K_FWD, 2, "201709320072", 0x91, 0x00010000u, 1860, 0, NULL, { 0 }),
	V(dlt07_p19, K_REQ, 4, "000000000000", 0x11, 0x00000000u, 0, 0, NULL, { 0 }),
	V(dlt07_p20, K_NUM, 4, "000000000000", 0x91, 0x02010100u, 2319, 1, NULL, { 0 }),
	V(dlt07_p21, K_COMB, 4, "910004920760", 0x91, 0x00000000u, 7502640, 0, NULL, { 0 }),
	V(dlt07_p22, K_ERR, 4, "910004920760", 0xD1, 0x00000000u, 0x04, 0, NULL, { 0 }),
	V(dlt07_p23, K_REQ, 0, "071801024091", 0x11, 0x00010000u, 0, 0, NULL, { 0 }),
	V(dlt07_p24, K_FWD, 4, "071801024091", 0x91, 0x00010000u, 0, 0, NULL, { 0 }),
	V(dlt07_p25, K_FWD, 2, "123456789012", 0x91, 0x00010000u, 1234560, 0, NULL, { 0 }),
	V(dlt07_p26, K_ERR, 0, "123456789012", 0xD1, 0x00000000u, 0x02, 0, NULL, { 0 }),
	V(dlt07_p27, K_ADDR, 7, "123456789012", 0x93, 0x00000000u, 0, 0, "123456789012", { 0 }),
	V(dlt07_p28, K_ADDR, 0, "000000000001", 0x93, 0x00000000u, 0, 0, "000000000001", { 0 }),
	V(dlt07_p29, K_FWD, 0, "202107300049", 0x91, 0x00010000u, 0, 0, NULL, { 0 }),
	V(dlt07_p30, K_REQ, 0, "151230011061", 0x11, 0x00010000u, 0, 0, NULL, { 0 }),
	V(dlt07_p31, K_FWD, 0, "151230011061", 0x91, 0x00010000u, 6780, 0, NULL, { 0 }),
	V(dlt07_p32, K_ADDR, 0, "000000000032", 0x93, 0x00000000u, 0, 0, "000000000032", { 0 }),
	V(dlt07_p33, K_ADDR, 4, "000332316420", 0x93, 0x00000000u, 0, 0, "000332316420", { 0 }),
	V(dlt07_p34, K_ADDR, 4, "181226034194", 0x93, 0x00000000u, 0, 0, "181226034194", { 0 }),
	V(dlt07_p35, K_FWD, 4, "181226034194", 0x91, 0x00010000u, 260, 0, NULL, { 0 }),
	V(dlt07_p36, K_TIME, 0, "999999999999", 0x08, 0x00000000u, 0, 0, "2017-06-05 10:22:51",
	  { 0 }),
	V(dlt07_p37, K_TIME, 0, "111111111111", 0x08, 0x00000000u, 0, 0, "2017-06-05 10:40:25",
	  { 0 }),
	V(dlt07_p38, K_FWD, 0, "020247020276", 0x91, 0x00010000u, 20, 0, NULL, { 0 }),
	V(dlt07_p39, K_REQ, 4, "202208310002", 0x11, 0x028022FFu, 0, 0, NULL, { 0 }),
	V(dlt07_p40, K_BLOCK, 0, "201000000002", 0x91, 0x0001FF00u, 29340, 0, NULL,
	  { 7660, 6150, 4800, 10710 }),
	V(dlt07_p41, K_BAD_CS, 0, "201000000002", 0x91, 0x0001FF00u, 0, 0, NULL, { 0 }),
	V(dlt07_p42, K_BAD_CS, 0, "201000000002", 0x11, 0x0001FF00u, 0, 0, NULL, { 0 }),
	V(dlt07_p43, K_BLOCK, 4, "000000000224", 0x91, 0x0001FF00u, 214940, 0, NULL,
	  { 53040, 53740, 54030, 54110 }),
	V(dlt07_p44, K_ADDR, 0, "000000193600", 0x93, 0x00000000u, 0, 0, "000000193600", { 0 }),
	V(dlt07_p45, K_REQ, 1, "000000193600", 0x11, 0x0001FF00u, 0, 0, NULL, { 0 }),
	V(dlt07_p46, K_BLOCK, 0, "000000193600", 0x91, 0x0001FF00u, 36300, 0, NULL,
	  { 2560, 190, 380, 33170 }),
	V(dlt07_p47, K_BLOCK, 0, "005223440001", 0x91, 0x0001FF00u, 3890, 0, NULL,
	  { 0, 0, 3890, 0 }),
	V(dlt07_p48, K_NUM, 0, "005223440001", 0x91, 0x02010300u, 2262, 1, NULL, { 0 }),
	V(dlt07_p49, K_BLOCK, 0, "000003104477", 0x91, 0x0001FF00u, 1790, 0, NULL,
	  { 250, 620, 660, 250 }),
	V(dlt07_p50, K_ERR, 4, "000006605518", 0xD1, 0x00000000u, 0x02, 0, NULL, { 0 }),
	V(dlt07_p51, K_NUM, 4, "000006605518", 0x91, 0x04000102u, 185332, 0, NULL, { 0 }),
	V(dlt07_p52, K_NUM, 4, "000006605518", 0x91, 0x04000101u, 18122906, 0, NULL, { 0 }),
	V(dlt07_p53, K_NUM, 4, "000006605518", 0x91, 0x04000402u, 6605518, 0, NULL, { 0 }),
	V(dlt07_p54, K_ASCII, 4, "000006605518", 0x91, 0x04000404u, 0, 0, "220.0V", { 0 }),
	V(dlt07_p55, K_NUM, 4, "000006605518", 0x91, 0x04000409u, 1200, 0, NULL, { 0 }),
	V(dlt07_p56, K_ASCII, 4, "000006605518", 0x91, 0x04000405u, 0, 0, "5.0A", { 0 }),
	V(dlt07_p57, K_ASCII, 4, "000006605518", 0x91, 0x04000407u, 0, 0, "2.0", { 0 }),
	V(dlt07_p58, K_FWD, 4, "000006605518", 0x91, 0x00010000u, 230930, 0, NULL, { 0 }),
	V(dlt07_p59, K_FWD, 4, "000006605518", 0x91, 0x00010100u, 0, 0, NULL, { 0 }),
	V(dlt07_p60, K_FWD, 4, "000006605518", 0x91, 0x00010200u, 0, 0, NULL, { 0 }),
	V(dlt07_p61, K_FWD, 4, "000006605518", 0x91, 0x00010300u, 221760, 0, NULL, { 0 }),
	V(dlt07_p62, K_FWD, 4, "000006605518", 0x91, 0x00010400u, 9170, 0, NULL, { 0 }),
	V(dlt07_p63, K_CTL, 0, "111111111111", 0x1C, 0x00000000u, 0, 0, "2018-05-12 15:41:24",
	  { 0 }),
	V(dlt07_p64, K_ACK, 0, "111111111111", 0x9C, 0x00000000u, 0, 0, NULL, { 0 }),
	V(dlt07_p65, K_REQ, 0, "123400000707", 0x11, 0x05060101u, 0, 0, NULL, { 0 }),
	V(dlt07_p66, K_BAD_BCD, 0, "910004360618", 0x91, 0x00010000u, 0, 0, NULL, { 0 }),
	V(dlt07_p67, K_REQ, 1, "000000193362", 0x11, 0x0001FF00u, 0, 0, NULL, { 0 }),
	V(dlt97_p01, K_REQ97, 0, "000000000003", 0x01, 0x0000B611u, 0, 0, NULL, { 0 }),
	V(dlt97_p02, K_97_NUM, 0, "000000000003", 0x81, 0x0000B611u, 100, 0, NULL, { 0 }),
	V(dlt97_p03, K_REQ97, 0, "138000130754", 0x01, 0x00009010u, 0, 0, NULL, { 0 }),
	V(dlt97_p04, K_97_FWD, 0, "138000130754", 0x81, 0x00009010u, 10, 0, NULL, { 0 }),
	V(dlt97_p05, K_REQ97, 0, "000003430163", 0x01, 0x00009010u, 0, 0, NULL, { 0 }),
	V(dlt97_p06, K_REQ97, 0, "000000000000", 0x01, 0x0000E311u, 0, 0, NULL, { 0 }),
	V(dlt97_p07, K_RAW, 0, "000000000000", 0x81, 0x0000E311u, 0, 0, NULL, { 0 }),
};
/* clang-format on */

static struct meter_addr addr_of(const char *text)
{
	struct meter_addr a;

	CHECK_EQ_I64(proto_dlt645.addr_parse(text, &a), XQ_OK);
	return a;
}

static const char *addr_str(const struct meter_addr *a, char *buf, size_t n)
{
	CHECK_EQ_I64(proto_dlt645.addr_format(a, buf, n), XQ_OK);
	return buf;
}

/* The rebuilt frame must equal the published bytes exactly. */
#define CHECK_SAME(v, out, len)                                                                    \
	do {                                                                                       \
		CHECK_EQ_I64((len), (v)->n);                                                       \
		if ((len) == (v)->n && memcmp((out), (v)->b, (v)->n) != 0)                         \
			CHECK(!"rebuilt frame differs from the published one");                    \
	} while (0)

static void check_vector(const struct vec *v)
{
	const int v97 =
	    v->kind == K_REQ97 || v->kind == K_97_FWD || v->kind == K_97_NUM || v->kind == K_RAW;
	const struct meter_proto *p = v97 ? &proto_dlt645_97 : &proto_dlt645;
	struct meter_addr a = addr_of(v->addr);
	struct meter_req req = {.addr = a, .item = METER_READ_TOTAL};
	struct meter_values mv;
	struct meter_frame f;
	uint8_t out[DLT645_FRAME_MAX], val[20];
	char s[64];
	size_t len = 0;
	int rc;

	test_name_ = v->id;
	rc = dlt645_parse(v->b, v->n, METER_DIR_ANY, &f);
	if (v->kind == K_BAD_CS) {
		/* rejected with the reason, stepping over the start byte only */
		CHECK_EQ_I64(rc, XQ_EPROTO);
		CHECK_STR(f.why, "bad checksum");
		CHECK_EQ_I64(f.skip, v->fe + 1);
		/* and nothing else in the buffer passes for a frame */
		CHECK_EQ_I64(dlt645_parse(v->b + f.skip, v->n - f.skip, METER_DIR_ANY, &f),
		             XQ_EAGAIN);
		return;
	}
	CHECK_EQ_I64(rc, XQ_OK);
	if (rc != XQ_OK)
		return;
	CHECK_EQ_I64(f.start, v->fe);
	CHECK_EQ_I64(f.consumed, v->n);
	CHECK_EQ_I64(f.control, v->control);
	CHECK_STR(addr_str(&f.addr, s, sizeof(s)), v->addr);
	CHECK_EQ_I64(f.dir, (v->control & 0x80) ? METER_DIR_REPLY : METER_DIR_REQUEST);
	/* Heard from the other side it is an echo / someone else's: skipped whole. */
	CHECK_EQ_I64(dlt645_parse(v->b, v->n,
	                          f.dir == METER_DIR_REPLY ? METER_DIR_REQUEST : METER_DIR_REPLY,
	                          &f),
	             XQ_EAGAIN);
	CHECK_EQ_I64(f.skip, v->n);
	CHECK_EQ_I64(
	    dlt645_parse(v->b, v->n, (v->control & 0x80) ? METER_DIR_REPLY : METER_DIR_REQUEST, &f),
	    XQ_OK);
	if (!v97 && f.data_len >= 4 && (v->control & 0x1F) == DLT645_F_READ) {
		uint32_t di = 0;

		CHECK_EQ_I64(dlt645_frame_di(&f, &di), XQ_OK);
		CHECK_EQ_I64(di, v->di);
	}
	if (v97) {
		uint16_t di = 0;

		CHECK_EQ_I64(dlt645_97_frame_di(&f, &di), XQ_OK);
		CHECK_EQ_I64(di, v->di);
	}

	switch (v->kind) {
	case K_REQ:
		if (v->control == DLT645_F_READ_ADDR) {
			CHECK_EQ_I64(f.data_len, 0);
			rc = dlt645_build_read_addr(out, sizeof(out), &len, v->fe);
		} else {
			CHECK_EQ_I64(f.data_len, 4);
			rc = dlt645_build_read(out, sizeof(out), &len, v->fe, a.b, v->di);
		}
		CHECK_EQ_I64(rc, XQ_OK);
		CHECK_SAME(v, out, len);
		break;
	case K_REQ97:
		CHECK_EQ_I64(f.data_len, 2);
		CHECK_EQ_I64(
		    dlt645_97_build_read(out, sizeof(out), &len, v->fe, a.b, (uint16_t)v->di),
		    XQ_OK);
		CHECK_SAME(v, out, len);
		break;
	case K_TIME: {
		struct meter_time t;
		int bcast = strcmp(v->addr, "999999999999") == 0;

		CHECK_EQ_I64(dlt645_decode_time(&f, &t), XQ_OK);
		CHECK_STR(time_str(&t, s, sizeof(s)), v->text);
		CHECK_EQ_I64(
		    dlt645_build_time(out, sizeof(out), &len, v->fe, bcast ? NULL : a.b, &t),
		    XQ_OK);
		CHECK_SAME(v, out, len);
		break;
	}
	case K_CTL: {
		struct dlt645_control c;
		static const uint8_t zero[4];

		CHECK_EQ_I64(dlt645_decode_control(&f, &c), XQ_OK);
		CHECK_EQ_I64(c.pa, 0x00);
		CHECK_EQ_I64(c.password, 0);
		CHECK(memcmp(c.op, zero, 4) == 0);
		CHECK_EQ_I64(c.cmd, DLT645_CTL_TRIP);
		CHECK_STR(time_str(&c.deadline, s, sizeof(s)), v->text);
		CHECK_EQ_I64(dlt645_build_control(out, sizeof(out), &len, v->fe, a.b, &c), XQ_OK);
		CHECK_SAME(v, out, len);
		break;
	}
	case K_ACK:
		CHECK_EQ_I64(dlt645_check_ack(a.b, DLT645_F_CONTROL, &f, &mv), XQ_OK);
		CHECK_EQ_I64(mv.err, 0);
		CHECK_EQ_I64(dlt645_reply_ack(out, sizeof(out), &len, v->fe, a.b, DLT645_F_CONTROL),
		             XQ_OK);
		CHECK_SAME(v, out, len);
		break;
	case K_FWD:
	case K_COMB: {
		int rr = (int)((v->di >> 8) & 0xFF);

		req.item = v->kind == K_FWD ? METER_READ_TOTAL : METER_READ_COMBINED;
		req.tariff = (uint8_t)rr;
		CHECK_EQ_I64(p->decode(&req, &f, &mv), XQ_OK);
		CHECK_EQ_I64(mv.err, 0);
		if (rr == 0) {
			CHECK(mv.have & MV_HAVE_WH);
			CHECK_EQ_I64(mv.total_wh, v->value);
			CHECK_EQ_I64(mv.have_rates, 0);
		} else {
			CHECK(!(mv.have & MV_HAVE_WH));
			CHECK_EQ_I64(mv.have_rates, 1u << (rr - 1));
			CHECK_EQ_I64(mv.rate_wh[rr - 1], v->value);
		}
		CHECK_EQ_I64(dlt645_encode_energy(v->value, v->kind == K_COMB, val), XQ_OK);
		CHECK_EQ_I64(
		    dlt645_reply_read(out, sizeof(out), &len, v->fe, a.b, v->di, val, 4, 0), XQ_OK);
		CHECK_SAME(v, out, len);
		break;
	}
	case K_ENERGY:
		memset(&mv, 0, sizeof(mv));
		CHECK_EQ_I64(dlt645_decode_energy(v->di, f.data + 4, f.data_len - 4, &mv), XQ_OK);
		CHECK_EQ_I64(mv.total_wh, v->value);
		break;
	case K_BLOCK:
		req.tariff = METER_TARIFF_ALL;
		CHECK_EQ_I64(p->decode(&req, &f, &mv), XQ_OK);
		CHECK_EQ_I64(mv.total_wh, v->value);
		CHECK_EQ_I64(mv.have_rates, 0x0F);
		CHECK_EQ_I64(mv.nrates, 4);
		for (int i = 0; i < 4; i++) {
			CHECK_EQ_I64(mv.rate_wh[i], v->rates[i]);
			CHECK_EQ_I64(dlt645_encode_energy(v->rates[i], 0, val + 4 + 4 * i), XQ_OK);
		}
		CHECK_EQ_I64(dlt645_encode_energy(v->value, 0, val), XQ_OK);
		CHECK_EQ_I64(
		    dlt645_reply_read(out, sizeof(out), &len, v->fe, a.b, v->di, val, 20, 0),
		    XQ_OK);
		CHECK_SAME(v, out, len);
		break;
	case K_NUM: {
		const struct dlt645_item *it = dlt645_item_find(v->di);
		int64_t x = -1;

		CHECK(it != NULL);
		if (!it)
			break;
		CHECK_EQ_I64(it->len, f.data_len - 4);
		CHECK_EQ_I64(it->decimals, v->dec);
		CHECK_EQ_I64(
		    dlt645_decode_number(f.data + 4, it->len, it->fmt == DLT645_FMT_SBCD, &x),
		    XQ_OK);
		CHECK_EQ_I64(x, v->value);
		break;
	}
	case K_ASCII: {
		const struct dlt645_item *it = dlt645_item_find(v->di);

		CHECK(it && it->fmt == DLT645_FMT_ASCII && it->len == f.data_len - 4);
		CHECK_EQ_I64(dlt645_decode_ascii(f.data + 4, f.data_len - 4, s, sizeof(s)), XQ_OK);
		CHECK_STR(s, v->text);
		break;
	}
	case K_ERR:
		CHECK_EQ_I64(p->decode(&req, &f, &mv), XQ_OK);
		CHECK_EQ_I64(mv.err, v->value);
		CHECK(!(mv.have & MV_HAVE_WH));
		CHECK_EQ_I64(mv.err_class,
		             v->value == DLT645_ERR_NO_DATA ? MV_ERR_UNSUPPORTED : MV_ERR_AUTH);
		CHECK_STR(mv.err_en, v->value == DLT645_ERR_NO_DATA
		                         ? "no requested data (item not supported by this meter)"
		                         : "password wrong or not authorised");
		CHECK_STR(mv.err_zh, v->value == DLT645_ERR_NO_DATA
		                         ? "无请求数据（电表不支持该数据项）"
		                         : "密码错误或未授权");
		CHECK_EQ_I64(dlt645_reply_error(out, sizeof(out), &len, v->fe, a.b, DLT645_F_READ,
		                                (uint8_t)v->value),
		             XQ_OK);
		CHECK_SAME(v, out, len);
		break;
	case K_ADDR:
		req.item = METER_READ_ADDRESS;
		CHECK_EQ_I64(p->decode(&req, &f, &mv), XQ_OK);
		CHECK(mv.have & MV_HAVE_ADDR);
		CHECK_STR(addr_str(&mv.addr, s, sizeof(s)), v->text);
		CHECK_EQ_I64(dlt645_reply_addr(out, sizeof(out), &len, v->fe, a.b), XQ_OK);
		CHECK_SAME(v, out, len);
		break;
	case K_97_FWD:
		CHECK_EQ_I64(p->decode(&req, &f, &mv), XQ_OK);
		CHECK_EQ_I64(mv.total_wh, v->value);
		CHECK_EQ_I64(dlt645_encode_energy(v->value, 0, val), XQ_OK);
		CHECK_EQ_I64(dlt645_97_reply_read(out, sizeof(out), &len, v->fe, a.b,
		                                  (uint16_t)v->di, val, 4),
		             XQ_OK);
		CHECK_SAME(v, out, len);
		break;
	case K_97_NUM: {
		int64_t x = -1;

		CHECK_EQ_I64(dlt645_decode_number(f.data + 2, f.data_len - 2, 0, &x), XQ_OK);
		CHECK_EQ_I64(x, v->value);
		break;
	}
	case K_RAW:
		CHECK_EQ_I64(f.data_len, 3);
		CHECK_EQ_I64(f.data[2], 0x00);
		break;
	case K_BAD_BCD:
		/* the checksum is right, so it frames; the value must not decode */
		CHECK_EQ_I64(p->decode(&req, &f, &mv), XQ_EPROTO);
		CHECK_STR(mv.err_en, "bad BCD in energy value");
		CHECK(!(mv.have & MV_HAVE_WH));
		break;
	case K_BAD_CS:
		break;
	}
}

TEST(published_vectors)
{
	int seen[K_BAD_BCD + 1] = {0};

	for (size_t i = 0; i < XQ_ARRAY_LEN(vectors); i++) {
		check_vector(&vectors[i]);
		seen[vectors[i].kind]++;
	}
	test_name_ = "published_vectors";
	/* 67 DL/T 645-2007 + 7 DL/T 645-1997 frames in the vector file */
	CHECK_EQ_I64(XQ_ARRAY_LEN(vectors), 74);
	CHECK_EQ_I64(seen[K_BAD_CS], 2);
	CHECK_EQ_I64(seen[K_BAD_BCD], 1);
}

/* docs/meter-protocols.md 2.10, meter 220123456789. */
TEST(doc_worked_examples)
{
	const struct meter_proto *p = proto_find("dlt645");
	struct meter_req req = {.item = METER_READ_TOTAL};
	uint8_t want[64], out[DLT645_FRAME_MAX];
	struct meter_frame f;
	struct meter_values v;
	struct meter_time t = {2025, 3, 15, 8, 30, 0};
	struct dlt645_control c = {
	    .pa = 0x02, .cmd = DLT645_CTL_TRIP, .deadline = {2026, 1, 1, 0, 0, 0}};
	size_t n, len;
	char s[32];

	CHECK(p == &proto_dlt645);
	CHECK_EQ_I64(p->addr_parse("220123456789", &req.addr), XQ_OK);

	/* request through the vtable, default preamble */
	n = unhex("FE FE FE FE 68 89 67 45 23 01 22 68 11 04 33 33 34 33 2D 16", want,
	          sizeof(want));
	CHECK_EQ_I64(p->build_read(&req, out, sizeof(out), &len), XQ_OK);
	CHECK(len == n && memcmp(out, want, n) == 0);

	n = unhex("68 89 67 45 23 01 22 68 91 08 33 33 34 33 3C 54 76 33 EA 16", want,
	          sizeof(want));
	CHECK_EQ_I64(p->parse(want, n, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(p->decode(&req, &f, &v), XQ_OK);
	CHECK_EQ_I64(v.total_wh, 4321090);
	CHECK_EQ_I64(v.raw, 432109);

	n = unhex(
	    "68 89 67 45 23 01 22 68 91 18 33 32 34 33 3C 54 76 33 33 53 34 33 33 33 48 33 33 33"
	    " 44 33 3C 34 49 33 90 16",
	    want, sizeof(want));
	req.tariff = METER_TARIFF_ALL;
	CHECK_EQ_I64(p->build_read(&req, out, sizeof(out), &len), XQ_OK);
	CHECK_EQ_I64(p->parse(want, n, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(p->decode(&req, &f, &v), XQ_OK);
	CHECK_EQ_I64(v.total_wh, 4321090);
	CHECK_EQ_I64(v.rate_wh[0], 120000);
	CHECK_EQ_I64(v.rate_wh[1], 1500000);
	CHECK_EQ_I64(v.rate_wh[2], 1100000);
	CHECK_EQ_I64(v.rate_wh[3], 1601090);
	/* the tariffs add up to the total here, as they should */
	CHECK_EQ_I64(v.rate_wh[0] + v.rate_wh[1] + v.rate_wh[2] + v.rate_wh[3], v.total_wh);

	n = unhex("68 89 67 45 23 01 22 68 D1 01 35 52 16", want, sizeof(want));
	req.tariff = 0;
	CHECK_EQ_I64(p->parse(want, n, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(p->decode(&req, &f, &v), XQ_OK);
	CHECK_EQ_I64(v.err, DLT645_ERR_NO_DATA);
	CHECK_EQ_I64(v.err_class, MV_ERR_UNSUPPORTED);

	/* read address, one meter on the bus */
	n = unhex("FE FE FE FE 68 AA AA AA AA AA AA 68 13 00 DF 16", want, sizeof(want));
	req.item = METER_READ_ADDRESS;
	memset(&req.addr, 0, sizeof(req.addr));
	CHECK_EQ_I64(p->build_read(&req, out, sizeof(out), &len), XQ_OK);
	CHECK(len == n && memcmp(out, want, n) == 0);
	n = unhex("68 89 67 45 23 01 22 68 93 06 BC 9A 78 56 34 55 91 16", want, sizeof(want));
	CHECK_EQ_I64(p->parse(want, n, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(p->decode(&req, &f, &v), XQ_OK);
	CHECK_STR((p->addr_format(&v.addr, s, sizeof(s)), s), "220123456789");

	/* broadcast time */
	n = unhex("FE FE FE FE 68 99 99 99 99 99 99 68 08 06 33 63 3B 48 36 58 1B 16", want,
	          sizeof(want));
	CHECK_EQ_I64(dlt645_build_time(out, sizeof(out), &len, DLT645_PREAMBLE, NULL, &t), XQ_OK);
	CHECK(len == n && memcmp(out, want, n) == 0);

	/* trip */
	n = unhex("FE FE FE FE 68 89 67 45 23 01 22 68 1C 10 35 33 33 33 33 33 33 33 4D 33 33 33 33"
	          " 34 34 59 EB 16",
	          want, sizeof(want));
	CHECK_EQ_I64(p->addr_parse("220123456789", &req.addr), XQ_OK);
	CHECK_EQ_I64(dlt645_build_control(out, sizeof(out), &len, DLT645_PREAMBLE, req.addr.b, &c),
	             XQ_OK);
	CHECK(len == n && memcmp(out, want, n) == 0);
}

TEST(proto_table)
{
	size_t n = 0;
	const struct meter_proto *const *all = proto_all(&n);

	CHECK_EQ_I64(n, 5);
	for (size_t i = 0; i < n; i++) {
		CHECK(proto_find(all[i]->name) == all[i]);
		CHECK(all[i]->addr_parse && all[i]->addr_format && all[i]->build_read &&
		      all[i]->parse && all[i]->decode && all[i]->build_reply);
	}
	CHECK(proto_find("dlt645-1997") == &proto_dlt645_97);
	CHECK(proto_find("DLT645") == NULL);
	CHECK(proto_find("") == NULL);
	CHECK(proto_find(NULL) == NULL);
	CHECK_EQ_I64(proto_dlt645.kind, METER_ELECTRIC);
}

TEST(addresses)
{
	struct meter_addr a;
	char s[16];

	CHECK_EQ_I64(proto_dlt645.addr_parse("161", &a), XQ_OK); /* zero-padded */
	CHECK_STR((meter_addr_format_bcd(&a, s, sizeof(s)), s), "000000000161");
	CHECK_EQ_I64(a.b[0], 0x61);
	CHECK_EQ_I64(a.b[1], 0x01);
	CHECK_EQ_I64(proto_dlt645.addr_parse("AAAAAAAA5518", &a), XQ_OK); /* short addressing */
	CHECK_EQ_I64(a.b[0], 0x18);
	CHECK_EQ_I64(a.b[1], 0x55);
	CHECK_EQ_I64(a.b[2], 0xAA);
	CHECK_EQ_I64(proto_dlt645.addr_parse("aaaaaaaaaaaa", &a), XQ_OK);
	CHECK_EQ_I64(proto_dlt645.addr_parse("", &a), XQ_EINVAL);
	CHECK_EQ_I64(proto_dlt645.addr_parse("1234567890123", &a), XQ_EINVAL); /* 13 digits */
	CHECK_EQ_I64(proto_dlt645.addr_parse("12345678901X", &a), XQ_EINVAL);
	CHECK_EQ_I64(proto_dlt645.addr_parse("A5AAAAAAAAAA", &a), XQ_EINVAL); /* half a wildcard */
	CHECK_EQ_I64(proto_dlt645.addr_parse("AA5518", &a), XQ_EINVAL); /* wildcards need all 12 */
	CHECK_EQ_I64(proto_dlt645.addr_parse("-12345678901", &a), XQ_EINVAL);
	CHECK_EQ_I64(proto_dlt645.addr_parse("220123456789", &a), XQ_OK);
	CHECK_EQ_I64(proto_dlt645.addr_format(&a, s, 12), XQ_ETOOBIG); /* no room for the NUL */
	CHECK_STR(s, "");
}

/* A meter at 220123456789 with a block of registers, for the simulator side. */
static void sim_meter(struct meter_req *self, struct meter_values *st)
{
	memset(self, 0, sizeof(*self));
	memset(st, 0, sizeof(*st));
	CHECK_EQ_I64(proto_dlt645.addr_parse("220123456789", &self->addr), XQ_OK);
	st->have = MV_HAVE_WH | MV_HAVE_STATUS;
	st->total_wh = 4321090;
	st->rate_wh[0] = 120000;
	st->rate_wh[1] = 1500000;
	st->rate_wh[2] = 1100000;
	st->rate_wh[3] = 1601090;
	st->have_rates = 0x0F;
	st->status_raw = 0x0010; /* relay open */
}

/* Collector request -> simulator reply -> collector decode. */
static int round_trip(const struct meter_proto *p, const struct meter_req *req,
                      const struct meter_req *self, const struct meter_values *st,
                      struct meter_values *got, size_t *reply_len)
{
	uint8_t wire[DLT645_FRAME_MAX], reply[DLT645_FRAME_MAX];
	struct meter_frame f;
	size_t n, m;
	int rc;

	*reply_len = 0;
	if ((rc = p->build_read(req, wire, sizeof(wire), &n)) != XQ_OK)
		return rc;
	if ((rc = p->parse(wire, n, METER_DIR_REQUEST, &f)) != XQ_OK)
		return rc;
	CHECK_EQ_I64(f.consumed, n);
	if ((rc = p->build_reply(self, &f, st, reply, sizeof(reply), &m)) != XQ_OK)
		return rc;
	*reply_len = m;
	if (m == 0)
		return XQ_OK;
	if ((rc = p->parse(reply, m, METER_DIR_REPLY, &f)) != XQ_OK)
		return rc;
	return p->decode(req, &f, got);
}

TEST(round_trip_2007)
{
	struct meter_req self, req;
	struct meter_values st, v;
	size_t m;

	sim_meter(&self, &st);
	req = self;
	req.item = METER_READ_TOTAL;
	CHECK_EQ_I64(round_trip(&proto_dlt645, &req, &self, &st, &v, &m), XQ_OK);
	CHECK_EQ_I64(v.total_wh, st.total_wh);
	for (int t = 1; t <= 4; t++) {
		req.tariff = (uint8_t)t;
		CHECK_EQ_I64(round_trip(&proto_dlt645, &req, &self, &st, &v, &m), XQ_OK);
		CHECK_EQ_I64(v.rate_wh[t - 1], st.rate_wh[t - 1]);
		CHECK_EQ_I64(v.have_rates, 1u << (t - 1));
	}
	req.tariff = METER_TARIFF_ALL;
	CHECK_EQ_I64(round_trip(&proto_dlt645, &req, &self, &st, &v, &m), XQ_OK);
	CHECK_EQ_I64(v.total_wh, st.total_wh);
	CHECK(memcmp(v.rate_wh, st.rate_wh, sizeof(v.rate_wh)) == 0);

	/* combined energy is signed: -12.34 kWh travels as 34 12 00 80 (doc 2.4) */
	req.item = METER_READ_COMBINED;
	req.tariff = 0;
	st.total_wh = -12340;
	CHECK_EQ_I64(round_trip(&proto_dlt645, &req, &self, &st, &v, &m), XQ_OK);
	CHECK_EQ_I64(v.total_wh, -12340);
	/* but forward energy cannot be negative, and the simulator refuses to say so */
	req.item = METER_READ_TOTAL;
	CHECK_EQ_I64(round_trip(&proto_dlt645, &req, &self, &st, &v, &m), XQ_EINVAL);

	/* the register edge: 999999.99 kWh, the value a rollover starts from */
	st.total_wh = 999999990;
	CHECK_EQ_I64(round_trip(&proto_dlt645, &req, &self, &st, &v, &m), XQ_OK);
	CHECK_EQ_I64(v.total_wh, 999999990);
	st.total_wh = 1000000000;
	CHECK_EQ_I64(round_trip(&proto_dlt645, &req, &self, &st, &v, &m), XQ_EOVERFLOW);
	st.total_wh = 4321090;

	req.item = METER_READ_STATUS;
	CHECK_EQ_I64(round_trip(&proto_dlt645, &req, &self, &st, &v, &m), XQ_OK);
	CHECK(v.have & MV_HAVE_STATUS);
	CHECK_EQ_I64(v.status, MV_ST_RELAY_OPEN);
	CHECK_EQ_I64(v.status_raw, 0x0010);

	req.item = METER_READ_ADDRESS;
	CHECK_EQ_I64(round_trip(&proto_dlt645, &req, &self, &st, &v, &m), XQ_OK);
	CHECK(meter_addr_match(&self.addr, &v.addr));

	/* short addressing reaches the meter too */
	req.item = METER_READ_TOTAL;
	CHECK_EQ_I64(proto_dlt645.addr_parse("AAAAAAAA6789", &req.addr), XQ_OK);
	CHECK_EQ_I64(round_trip(&proto_dlt645, &req, &self, &st, &v, &m), XQ_OK);
	CHECK_EQ_I64(v.total_wh, st.total_wh);
	{
		char s[16];

		CHECK_EQ_I64(proto_dlt645.addr_format(&v.addr, s, sizeof(s)), XQ_OK);
		CHECK_STR(s, "220123456789"); /* the full real address comes back */
	}

	/* another meter's address: the simulator stays silent */
	CHECK_EQ_I64(proto_dlt645.addr_parse("220123456788", &req.addr), XQ_OK);
	CHECK_EQ_I64(round_trip(&proto_dlt645, &req, &self, &st, &v, &m), XQ_OK);
	CHECK_EQ_I64(m, 0);

	/* a meter without tariffs answers a block read with ERR 02 */
	req.addr = self.addr;
	req.tariff = METER_TARIFF_ALL;
	st.have_rates = 0;
	CHECK_EQ_I64(round_trip(&proto_dlt645, &req, &self, &st, &v, &m), XQ_OK);
	CHECK_EQ_I64(v.err, DLT645_ERR_NO_DATA);

	/* forced error reply */
	req.tariff = 0;
	st.err = DLT645_ERR_PASSWORD;
	CHECK_EQ_I64(round_trip(&proto_dlt645, &req, &self, &st, &v, &m), XQ_OK);
	CHECK_EQ_I64(v.err, DLT645_ERR_PASSWORD);
	CHECK_EQ_I64(v.err_class, MV_ERR_AUTH);
}

TEST(round_trip_1997)
{
	struct meter_req self, req;
	struct meter_values st, v;
	uint8_t wire[64];
	size_t m;

	sim_meter(&self, &st);
	req = self;
	req.item = METER_READ_TOTAL;
	CHECK_EQ_I64(round_trip(&proto_dlt645_97, &req, &self, &st, &v, &m), XQ_OK);
	CHECK_EQ_I64(v.total_wh, st.total_wh);
	req.tariff = METER_TARIFF_ALL;
	CHECK_EQ_I64(round_trip(&proto_dlt645_97, &req, &self, &st, &v, &m), XQ_OK);
	CHECK_EQ_I64(v.rate_wh[3], st.rate_wh[3]);
	CHECK_EQ_I64(v.nrates, 4);
	req.tariff = 2;
	CHECK_EQ_I64(round_trip(&proto_dlt645_97, &req, &self, &st, &v, &m), XQ_OK);
	CHECK_EQ_I64(v.rate_wh[1], st.rate_wh[1]);
	/* last month is 0x9410: the simulator has no history and says DI error */
	req.tariff = 0;
	req.period = 1;
	CHECK_EQ_I64(round_trip(&proto_dlt645_97, &req, &self, &st, &v, &m), XQ_OK);
	CHECK_EQ_I64(v.err, DLT645_ERR_NO_DATA);
	CHECK_STR(v.err_en, "data identifier error (item not supported by this meter)");
	req.period = 3;
	CHECK_EQ_I64(proto_dlt645_97.build_read(&req, wire, sizeof(wire), &m), XQ_EINVAL);
	req.period = 0;
	req.item = METER_READ_ADDRESS;
	CHECK_EQ_I64(round_trip(&proto_dlt645_97, &req, &self, &st, &v, &m), XQ_OK);
	CHECK(meter_addr_match(&self.addr, &v.addr));
	CHECK_EQ_I64(v.raw, 220123456789);
	req.item = METER_READ_COMBINED; /* 1997 has no combined energy */
	CHECK_EQ_I64(proto_dlt645_97.build_read(&req, wire, sizeof(wire), &m), XQ_EINVAL);
}

TEST(simulator_edges)
{
	struct meter_req self;
	struct meter_values st;
	struct meter_frame f;
	uint8_t wire[DLT645_FRAME_MAX], reply[DLT645_FRAME_MAX];
	struct meter_time t = {2025, 3, 15, 8, 30, 0};
	size_t n, m;

	sim_meter(&self, &st);
	/* broadcast time: applied by the simulator, never answered */
	CHECK_EQ_I64(dlt645_build_time(wire, sizeof(wire), &n, 4, NULL, &t), XQ_OK);
	CHECK_EQ_I64(dlt645_parse(wire, n, METER_DIR_REQUEST, &f), XQ_OK);
	CHECK_EQ_I64(proto_dlt645.build_reply(&self, &f, &st, reply, sizeof(reply), &m), XQ_OK);
	CHECK_EQ_I64(m, 0);
	/* unknown DI: ERR 02, as the doc's simulator notes ask */
	CHECK_EQ_I64(dlt645_build_read(wire, sizeof(wire), &n, 4, self.addr.b, 0x02800002u), XQ_OK);
	CHECK_EQ_I64(dlt645_parse(wire, n, METER_DIR_REQUEST, &f), XQ_OK);
	CHECK_EQ_I64(proto_dlt645.build_reply(&self, &f, &st, reply, sizeof(reply), &m), XQ_OK);
	CHECK_EQ_I64(dlt645_parse(reply, m, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(f.control, 0xD1);
	CHECK_EQ_I64(f.data[0], DLT645_ERR_NO_DATA);
	/* replies with a configured preamble */
	self.preamble = 2;
	CHECK_EQ_I64(dlt645_build_read(wire, sizeof(wire), &n, 0, self.addr.b, DLT645_DI_METER_NO),
	             XQ_OK);
	CHECK_EQ_I64(dlt645_parse(wire, n, METER_DIR_REQUEST, &f), XQ_OK);
	CHECK_EQ_I64(proto_dlt645.build_reply(&self, &f, &st, reply, sizeof(reply), &m), XQ_OK);
	CHECK(m > 2 && reply[0] == 0xFE && reply[1] == 0xFE && reply[2] == 0x68);
	/* a reply handed to build_reply is refused */
	CHECK_EQ_I64(dlt645_parse(reply, m, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(proto_dlt645.build_reply(&self, &f, &st, reply, sizeof(reply), &m), XQ_EINVAL);
}

/* The doc's 2.10 reply: 4321.09 kWh from 220123456789. */
static size_t doc_reply(uint8_t *b, size_t cap)
{
	return unhex("68 89 67 45 23 01 22 68 91 08 33 33 34 33 3C 54 76 33 EA 16", b, cap);
}

static struct meter_req doc_req(void)
{
	struct meter_req req = {.item = METER_READ_TOTAL};

	CHECK_EQ_I64(proto_dlt645.addr_parse("220123456789", &req.addr), XQ_OK);
	return req;
}

TEST(garbage_before_frame)
{
	uint8_t buf[256], rx[2 * METER_FRAME_MAX];
	struct meter_req req = doc_req();
	struct meter_frame f;
	struct meter_values v;
	size_t n, off = 0;
	int nbad, agains;

	/* gateway heartbeat text, line noise, then wake-up bytes */
	memcpy(buf, "HB:DTU0042\r\n", 12);
	n = 12 + unhex("00 FF 16 68 00 E5 FE FE FE", buf + 12, sizeof(buf) - 12);
	n += doc_reply(buf + n, sizeof(buf) - n);
	CHECK_EQ_I64(parse_loop(&proto_dlt645, buf, n, METER_DIR_REPLY, &f, &off, &nbad), XQ_OK);
	CHECK_EQ_I64(off + f.consumed, n);
	CHECK_EQ_I64(proto_dlt645.decode(&req, &f, &v), XQ_OK);
	CHECK_EQ_I64(v.total_wh, 4321090);

	/* A stray 68 .. 68 header claiming L = 200 must not hide the whole
	 * frame behind it: one call finds the real frame. */
	n = unhex("68 11 22 33 44 55 66 68 91 C8", buf, sizeof(buf));
	n += doc_reply(buf + n, sizeof(buf) - n);
	CHECK_EQ_I64(dlt645_parse(buf, n, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(f.start, 10);
	CHECK_EQ_I64(f.consumed, n);

	/* the same, delivered byte by byte */
	CHECK_EQ_I64(
	    feed_bytewise(&proto_dlt645, buf, n, METER_DIR_REPLY, rx, sizeof(rx), &f, &agains),
	    XQ_OK);
	CHECK_EQ_I64(agains, (int)n - 1);
}

TEST(split_delivery)
{
	uint8_t buf[64], rx[2 * METER_FRAME_MAX];
	struct meter_req req = doc_req();
	struct meter_frame f;
	struct meter_values v;
	size_t n = unhex("FE FE FE FE", buf, sizeof(buf));
	int agains;

	n += doc_reply(buf + n, sizeof(buf) - n);
	/* every prefix is XQ_EAGAIN, the last byte completes it */
	CHECK_EQ_I64(
	    feed_bytewise(&proto_dlt645, buf, n, METER_DIR_REPLY, rx, sizeof(rx), &f, &agains),
	    XQ_OK);
	CHECK_EQ_I64(agains, (int)n - 1);
	CHECK_EQ_I64(proto_dlt645.decode(&req, &f, &v), XQ_OK);
	CHECK_EQ_I64(v.total_wh, 4321090);
	/* need counts exactly what is missing once L is known */
	for (size_t cut = 1; cut <= 10; cut++) {
		CHECK_EQ_I64(dlt645_parse(buf, n - cut, METER_DIR_REPLY, &f), XQ_EAGAIN);
		CHECK_EQ_I64(f.skip, 4); /* the FE preamble can go, the frame stays */
		CHECK_EQ_I64(f.need, cut);
	}
	/* before the second 68 arrives, at least a 12-byte frame is due */
	CHECK_EQ_I64(dlt645_parse(buf, 4 + 3, METER_DIR_REPLY, &f), XQ_EAGAIN);
	CHECK_EQ_I64(f.need, 12 - 3);
	CHECK_EQ_I64(dlt645_parse(buf, 0, METER_DIR_REPLY, &f), XQ_EAGAIN);
	CHECK_EQ_I64(f.skip, 0);
	CHECK(f.need >= 1);
}

TEST(truncated_and_oversize)
{
	uint8_t buf[300];
	struct meter_frame f;
	size_t n;

	/* truncated: never a frame, never a read past len (ASan) */
	n = doc_reply(buf, sizeof(buf));
	for (size_t k = 0; k < n; k++)
		CHECK_EQ_I64(dlt645_parse(buf, k, METER_DIR_ANY, &f), XQ_EAGAIN);

	/* L = 201 is over the read bound: rejected at once, not waited for */
	n = unhex("68 89 67 45 23 01 22 68 91 C9", buf, sizeof(buf));
	CHECK_EQ_I64(dlt645_parse(buf, n, METER_DIR_REPLY, &f), XQ_EPROTO);
	CHECK_STR(f.why, "length field over 200");
	CHECK_EQ_I64(f.skip, 1);
	n = unhex("68 89 67 45 23 01 22 68 91 FF", buf, sizeof(buf));
	CHECK_EQ_I64(dlt645_parse(buf, n, METER_DIR_REPLY, &f), XQ_EPROTO);

	/* L = 200 exactly is fine: a whole 212-byte frame parses */
	{
		uint8_t val[196] = {0};
		uint8_t addr[6] = {0x89, 0x67, 0x45, 0x23, 0x01, 0x22};

		CHECK_EQ_I64(
		    dlt645_reply_read(buf, sizeof(buf), &n, 0, addr, 0x04000403u, val, 196, 0),
		    XQ_OK);
		CHECK_EQ_I64(n, 212);
		CHECK_EQ_I64(dlt645_parse(buf, n, METER_DIR_REPLY, &f), XQ_OK);
		CHECK_EQ_I64(f.data_len, 200);
		CHECK_EQ_I64(
		    dlt645_reply_read(buf, sizeof(buf), &n, 0, addr, 0x04000403u, val, 197, 0),
		    XQ_EINVAL);
	}
}

TEST(bad_checksum_and_end)
{
	uint8_t buf[64];
	struct meter_req req = doc_req();
	struct meter_frame f;
	struct meter_values v;
	size_t n, off = 0;
	int nbad;

	n = doc_reply(buf, sizeof(buf));
	buf[n - 2] ^= 0x01;
	CHECK_EQ_I64(dlt645_parse(buf, n, METER_DIR_REPLY, &f), XQ_EPROTO);
	CHECK_STR(f.why, "bad checksum");
	buf[n - 2] ^= 0x01;
	buf[n - 1] = 0x17;
	CHECK_EQ_I64(dlt645_parse(buf, n, METER_DIR_REPLY, &f), XQ_EPROTO);
	CHECK_STR(f.why, "no end byte 0x16");
	buf[n - 1] = 0x16;
	/* a data byte flipped: the checksum catches it */
	buf[15] ^= 0x10;
	CHECK_EQ_I64(dlt645_parse(buf, n, METER_DIR_REPLY, &f), XQ_EPROTO);
	buf[15] ^= 0x10;

	/* a corrupted copy followed by the good one: the good one is found */
	memcpy(buf + n, buf, n);
	buf[12] ^= 0xFF;
	CHECK_EQ_I64(parse_loop(&proto_dlt645, buf, 2 * n, METER_DIR_REPLY, &f, &off, &nbad),
	             XQ_OK);
	CHECK_EQ_I64(nbad, 1);
	CHECK_EQ_I64(off + f.start, n);
	CHECK_EQ_I64(proto_dlt645.decode(&req, &f, &v), XQ_OK);
	CHECK_EQ_I64(v.total_wh, 4321090);
}

/* A correct checksum over wrong content: the decoder is the last guard. */
TEST(bad_bcd_and_mismatches)
{
	uint8_t buf[64], val[4] = {0x09, 0x21, 0x4A, 0x00}; /* 0x4A: not BCD */
	struct meter_req req = doc_req();
	struct meter_frame f;
	struct meter_values v;
	uint8_t other[6] = {0x88, 0x67, 0x45, 0x23, 0x01, 0x22};
	uint8_t bad_addr[6] = {0x8F, 0x67, 0x45, 0x23, 0x01, 0x22};
	size_t n;

	CHECK_EQ_I64(dlt645_reply_read(buf, sizeof(buf), &n, 0, req.addr.b, DLT645_DI_FORWARD_TOTAL,
	                               val, 4, 0),
	             XQ_OK);
	CHECK_EQ_I64(dlt645_parse(buf, n, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(proto_dlt645.decode(&req, &f, &v), XQ_EPROTO);
	CHECK_STR(v.err_en, "bad BCD in energy value");
	CHECK(v.have == 0 || !(v.have & MV_HAVE_WH));

	val[2] = 0x43;
	/* from another meter */
	CHECK_EQ_I64(
	    dlt645_reply_read(buf, sizeof(buf), &n, 0, other, DLT645_DI_FORWARD_TOTAL, val, 4, 0),
	    XQ_OK);
	CHECK_EQ_I64(dlt645_parse(buf, n, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(proto_dlt645.decode(&req, &f, &v), XQ_EPROTO);
	CHECK_STR(v.err_en, "reply from another meter");
	/* an address that is not BCD */
	CHECK_EQ_I64(dlt645_reply_read(buf, sizeof(buf), &n, 0, bad_addr, DLT645_DI_FORWARD_TOTAL,
	                               val, 4, 0),
	             XQ_OK);
	CHECK_EQ_I64(dlt645_parse(buf, n, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(proto_dlt645.decode(&req, &f, &v), XQ_EPROTO);
	CHECK_STR(v.err_en, "bad BCD in address");
	/* for another DI (a stale reply) */
	CHECK_EQ_I64(dlt645_reply_read(buf, sizeof(buf), &n, 0, req.addr.b, 0x00020000u, val, 4, 0),
	             XQ_OK);
	CHECK_EQ_I64(dlt645_parse(buf, n, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(proto_dlt645.decode(&req, &f, &v), XQ_EPROTO);
	CHECK_STR(v.err_en, "reply for another DI");
	/* wrong value length for a single item */
	CHECK_EQ_I64(dlt645_reply_read(buf, sizeof(buf), &n, 0, req.addr.b, DLT645_DI_FORWARD_TOTAL,
	                               val, 3, 0),
	             XQ_OK);
	CHECK_EQ_I64(dlt645_parse(buf, n, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(proto_dlt645.decode(&req, &f, &v), XQ_EPROTO);
	/* a block whose length is not 4 x (1 + k) */
	req.tariff = METER_TARIFF_ALL;
	{
		uint8_t blk[18] = {0};

		CHECK_EQ_I64(dlt645_reply_read(buf, sizeof(buf), &n, 0, req.addr.b,
		                               DLT645_DI_FORWARD_BLOCK, blk, 18, 0),
		             XQ_OK);
		CHECK_EQ_I64(dlt645_parse(buf, n, METER_DIR_REPLY, &f), XQ_OK);
		CHECK_EQ_I64(proto_dlt645.decode(&req, &f, &v), XQ_EPROTO);
		CHECK_STR(v.err_en, "energy value length is not 4 or 4 x (1 + k)");
	}
	/* a request handed to decode */
	req.tariff = 0;
	CHECK_EQ_I64(
	    dlt645_build_read(buf, sizeof(buf), &n, 0, req.addr.b, DLT645_DI_FORWARD_TOTAL), XQ_OK);
	CHECK_EQ_I64(dlt645_parse(buf, n, METER_DIR_ANY, &f), XQ_OK);
	CHECK_EQ_I64(proto_dlt645.decode(&req, &f, &v), XQ_EPROTO);
	CHECK_STR(v.err_en, "not a reply");
	/* asking a broadcast address for data is refused up front */
	CHECK_EQ_I64(proto_dlt645.addr_parse("999999999999", &req.addr), XQ_OK);
	CHECK_EQ_I64(proto_dlt645.build_read(&req, buf, sizeof(buf), &n), XQ_EINVAL);
	/* an abnormal reply must carry exactly one ERR byte */
	{
		uint8_t two[2] = {0x02, 0x00};

		req = doc_req();
		CHECK_EQ_I64(dlt645_encode(buf, sizeof(buf), &n, 0, req.addr.b, 0xD1, two, 2),
		             XQ_OK);
		CHECK_EQ_I64(dlt645_parse(buf, n, METER_DIR_REPLY, &f), XQ_OK);
		CHECK_EQ_I64(proto_dlt645.decode(&req, &f, &v), XQ_EPROTO);
	}
}

TEST(echo_is_skipped)
{
	uint8_t buf[128], rx[2 * METER_FRAME_MAX];
	struct meter_req req = doc_req();
	struct meter_frame f;
	struct meter_values v;
	size_t n, m;
	int agains;

	/* a half-duplex converter hands our request back before the reply */
	CHECK_EQ_I64(proto_dlt645.build_read(&req, buf, sizeof(buf), &n), XQ_OK);
	m = doc_reply(buf + n, sizeof(buf) - n);
	CHECK_EQ_I64(dlt645_parse(buf, n + m, METER_DIR_REPLY, &f), XQ_OK);
	CHECK_EQ_I64(f.start, n);
	CHECK_EQ_I64(proto_dlt645.decode(&req, &f, &v), XQ_OK);
	/* echo alone: dropped whole, nothing kept */
	CHECK_EQ_I64(dlt645_parse(buf, n, METER_DIR_REPLY, &f), XQ_EAGAIN);
	CHECK_EQ_I64(f.skip, n);
	CHECK_EQ_I64(
	    feed_bytewise(&proto_dlt645, buf, n + m, METER_DIR_REPLY, rx, sizeof(rx), &f, &agains),
	    XQ_OK);
}

TEST(error_texts)
{
	char s[256];

	CHECK_STR(dlt645_err_text(0x02, 0, 0),
	          "no requested data (item not supported by this meter)");
	CHECK_STR(dlt645_err_text(0x04, 0, 1), "密码错误或未授权");
	CHECK_STR(dlt645_err_text(0x01, 0, 0), "other error");
	CHECK_STR(dlt645_err_text(0x00, 0, 0), "other error");
	CHECK_STR(dlt645_err_text(0x01, 1, 0), "illegal data");
	CHECK_STR(dlt645_err_text(0x41, 0, 0), "too many tariffs"); /* tariffs outrank "other" */
	CHECK_EQ_I64(dlt645_err_describe(0x06, 0, 0, s, sizeof(s)), XQ_OK);
	CHECK_STR(s, "no requested data (item not supported by this meter); password wrong or not "
	             "authorised");
	CHECK_EQ_I64(dlt645_err_describe(0x06, 0, 1, s, sizeof(s)), XQ_OK);
	CHECK_STR(s, "无请求数据（电表不支持该数据项）; 密码错误或未授权");
	CHECK_EQ_I64(dlt645_err_describe(0x06, 0, 0, s, 10), XQ_OK); /* truncated, still a string */
	CHECK_STR(s, "no reques");
	for (int e = 0; e < 256; e++) {
		CHECK_EQ_I64(dlt645_err_describe((uint8_t)e, e & 1, e & 2, s, sizeof(s)), XQ_OK);
		CHECK(strlen(s) > 0);
	}
}

TEST(values)
{
	uint8_t b[4], t[8];
	int64_t x;
	char s[8];

	CHECK_EQ_I64(dlt645_encode_energy(-12340, 1, b), XQ_OK);
	CHECK(b[0] == 0x34 && b[1] == 0x12 && b[2] == 0x00 && b[3] == 0x80);
	CHECK_EQ_I64(dlt645_decode_number(b, 4, 1, &x), XQ_OK);
	CHECK_EQ_I64(x, -1234);
	CHECK_EQ_I64(dlt645_encode_energy(-10, 0, b), XQ_EINVAL);
	CHECK_EQ_I64(dlt645_encode_energy(799999990, 1, b), XQ_OK);
	CHECK_EQ_I64(dlt645_encode_energy(800000000, 1, b), XQ_EOVERFLOW);
	CHECK_EQ_I64(dlt645_encode_energy(INT64_MIN, 1, b), XQ_EOVERFLOW);
	CHECK_EQ_I64(dlt645_encode_energy(19, 0, b), XQ_OK); /* 19 Wh -> 0.01 kWh, truncated */
	CHECK(b[0] == 0x01 && b[1] == 0 && b[2] == 0 && b[3] == 0);
	/* an unsigned 85xxxxxx is a BCD digit 8, not a sign */
	memcpy(t, "\x00\x00\x00\x85", 4);
	CHECK_EQ_I64(dlt645_decode_number(t, 4, 0, &x), XQ_OK);
	CHECK_EQ_I64(x, 85000000);
	/* FF filler is not a number (doc 2.5) */
	memcpy(t, "\xFF\xFF\xFF\xFF", 4);
	CHECK_EQ_I64(dlt645_decode_number(t, 4, 0, &x), XQ_EPROTO);
	CHECK_EQ_I64(dlt645_decode_number(t, 0, 0, &x), XQ_EINVAL);
	CHECK_EQ_I64(dlt645_decode_number(t, 9, 0, &x), XQ_EINVAL);
	/* ASCII: padding only at the high end, printable only */
	memcpy(t, "\x00\x41\x30", 3);
	CHECK_EQ_I64(dlt645_decode_ascii(t, 3, s, sizeof(s)), XQ_OK);
	CHECK_STR(s, "0A");
	memcpy(t, "\x41\x00\x30", 3);
	CHECK_EQ_I64(dlt645_decode_ascii(t, 3, s, sizeof(s)), XQ_EPROTO);
	memcpy(t, "\x41\x07\x30", 3);
	CHECK_EQ_I64(dlt645_decode_ascii(t, 3, s, sizeof(s)), XQ_EPROTO);
	CHECK_EQ_I64(dlt645_decode_ascii(t, 3, s, 2), XQ_EPROTO);
	memcpy(t, "\x41\x42\x43", 3);
	CHECK_EQ_I64(dlt645_decode_ascii(t, 3, s, 3), XQ_ETOOBIG);
	/* daily freeze block decodes like a block */
	{
		struct meter_values v;
		uint8_t blk[8] = {0x00, 0x10, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00};

		memset(&v, 0, sizeof(v));
		CHECK_EQ_I64(dlt645_decode_energy(DLT645_DI_DAILY_FORWARD(1), blk, 8, &v), XQ_OK);
		CHECK_EQ_I64(v.total_wh, 10000);
		CHECK_EQ_I64(v.rate_wh[0], 5000);
		CHECK_EQ_I64(v.nrates, 1);
		CHECK_EQ_I64(dlt645_decode_energy(0x02010100u, blk, 4, &v), XQ_EPROTO);
	}
}

TEST(builder_arguments)
{
	uint8_t buf[DLT645_FRAME_MAX], addr[6] = {0x89, 0x67, 0x45, 0x23, 0x01, 0x22};
	struct dlt645_control c = {
	    .pa = 0x02, .cmd = DLT645_CTL_TRIP, .deadline = {2026, 1, 1, 0, 0, 0}};
	struct meter_time t = {2025, 2, 29, 0, 0, 0}; /* not a leap year */
	size_t n = 99;

	CHECK_EQ_I64(dlt645_build_read(buf, 19, &n, 4, addr, 0), XQ_ETOOBIG);
	CHECK_EQ_I64(n, 0);
	CHECK_EQ_I64(dlt645_build_read(buf, 20, &n, 4, addr, 0), XQ_OK);
	CHECK_EQ_I64(n, 20);
	CHECK_EQ_I64(dlt645_build_time(buf, sizeof(buf), &n, 4, NULL, &t), XQ_EINVAL);
	t.year = 2024;
	CHECK_EQ_I64(dlt645_build_time(buf, sizeof(buf), &n, 4, NULL, &t), XQ_OK);
	c.pa = 0x98;
	CHECK_EQ_I64(dlt645_build_control(buf, sizeof(buf), &n, 4, addr, &c), XQ_EINVAL);
	c.pa = 0x02;
	c.password = 1000000;
	CHECK_EQ_I64(dlt645_build_control(buf, sizeof(buf), &n, 4, addr, &c), XQ_EINVAL);
	c.password = 123456;
	c.cmd = 0x55;
	CHECK_EQ_I64(dlt645_build_control(buf, sizeof(buf), &n, 4, addr, &c), XQ_EINVAL);
	c.cmd = DLT645_CTL_CLOSE_ALLOW;
	c.deadline.hour = 24;
	CHECK_EQ_I64(dlt645_build_control(buf, sizeof(buf), &n, 4, addr, &c), XQ_EINVAL);
	c.deadline.hour = 23;
	CHECK_EQ_I64(dlt645_build_control(buf, sizeof(buf), &n, 4,
	                                  (const uint8_t *)"\x99\x99\x99\x99\x99\x99", &c),
	             XQ_EINVAL);
	/* and a good one decodes back to itself */
	c.op[0] = 0x78;
	c.op[3] = 0x12;
	CHECK_EQ_I64(dlt645_build_control(buf, sizeof(buf), &n, 4, addr, &c), XQ_OK);
	{
		struct meter_frame f;
		struct dlt645_control d;

		CHECK_EQ_I64(dlt645_parse(buf, n, METER_DIR_REQUEST, &f), XQ_OK);
		CHECK_EQ_I64(dlt645_decode_control(&f, &d), XQ_OK);
		CHECK_EQ_I64(d.password, 123456);
		CHECK_EQ_I64(d.cmd, DLT645_CTL_CLOSE_ALLOW);
		CHECK(memcmp(d.op, c.op, 4) == 0);
		CHECK_EQ_I64(d.deadline.hour, 23);
		/* password digits travel LE BCD: 56 34 12 */
		CHECK(f.data[1] == 0x56 && f.data[2] == 0x34 && f.data[3] == 0x12);
		CHECK_EQ_I64(dlt645_decode_time(&f, &t), XQ_EPROTO); /* not a time frame */
	}
}

TEST(hostile_input)
{
	uint8_t frame[64];
	struct meter_req req = doc_req();
	size_t n = doc_reply(frame, sizeof(frame));

	mutate_all_bytes(&proto_dlt645, frame, n);
	random_rounds(&proto_dlt645, &req, 20000, frame, n);
	req.tariff = METER_TARIFF_ALL;
	random_rounds(&proto_dlt645, &req, 5000, frame, n);
	random_rounds(&proto_dlt645_97, &req, 5000, frame, n);
}

int main(void)
{
	RUN(published_vectors);
	RUN(doc_worked_examples);
	RUN(proto_table);
	RUN(addresses);
	RUN(round_trip_2007);
	RUN(round_trip_1997);
	RUN(simulator_edges);
	RUN(garbage_before_frame);
	RUN(split_delivery);
	RUN(truncated_and_oversize);
	RUN(bad_checksum_and_end);
	RUN(bad_bcd_and_mismatches);
	RUN(echo_is_skipped);
	RUN(error_texts);
	RUN(values);
	RUN(builder_arguments);
	RUN(hostile_input);
	return test_report();
}
