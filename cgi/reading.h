/*
 * reading.h - storing one manual or imported reading, shared by the
 * console (admin_reading.c: entry, import) and the reader mode of the
 * mini-program (api_reader.c). Rules: lib/valid.h, docs/readings.md.
 */
#ifndef XQ_READING_H
#define XQ_READING_H

#include "audit.h"
#include "db.h"
#include "rollup.h"

#include <cjson/cJSON.h>

struct config;

struct reading_in {
	int64_t meter_id; /* 0: look it up by meter_no */
	const char *meter_no;
	int64_t at_ms, value; /* UTC ms; raw register, Wh or L */
	int has_rate[4];      /* sharp, peak, flat, valley */
	int64_t rate[4];
	const char *source; /* "manual" or "import" */
	const char *note;   /* kept in the audit row; NULL for none */
	int64_t reader_id;  /* > 0: the meter must be in this reader's assignments */
	int64_t now_ms;
};

struct reading_out {
	int stored;    /* written */
	int duplicate; /* the same value is already stored at read_at: nothing written */
	int flagged;
	const char *reason; /* flag_reason, "" for none */
	cJSON *warnings;    /* Chinese strings; the caller owns it (may be NULL when none) */
	cJSON *row;         /* the stored row; the caller owns it */
	char code[32];      /* a refused entry: stable code, Chinese message, field */
	char msg[256];
	char field[32];
	int64_t meter_id, community_id;
	struct rollup_key key; /* (meter, day) to refresh after commit */
};

/*
 * Checks and stores one reading inside the caller's transaction: the meter
 * (locked), its neighbours in time, the history, the rate registers; a
 * flagged reading raises a reading_flagged alert; the audit row is written.
 * XQ_OK when stored or a duplicate of the same value; a refusal returns
 * XQ_EINVAL / XQ_ECONFLICT / XQ_ENOTFOUND with out->code/msg set and
 * nothing written; db errors otherwise. Resets out first (retries).
 */
int reading_store(struct db *db, const struct audit_actor *who, const struct config *cfg,
                  const struct reading_in *in, struct reading_out *out /* OUT */);
/* Releases out->warnings and out->row. */
void reading_out_release(struct reading_out *out);
/* Refreshes the rollups of keys[0..n) after commit; logs a failure (backfill repairs). */
void reading_refresh(struct db *db, const struct rollup_key *keys, size_t n);

#endif
