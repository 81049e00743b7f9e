/*
 * billrun.h - a billing run: every house of a community (or all), one
 * calendar month, from meter readings in MariaDB to issued bills, lines,
 * usage rows and credit settlements. The prices come from lib/billing.h;
 * this file only gathers its inputs and writes its outputs. The rules
 * (readings chosen, skips, re-runs, ledger) are in docs/billing.md,
 * "Billing runs".
 *
 * Contract:
 *   - one database transaction per house: its bills of both utilities,
 *     usage, lines, the account row and credit settlements appear together
 *     or not at all;
 *   - re-running a period writes nothing for a house whose usage is the
 *     same; a changed usage (a corrected reading) appends one 'adjust' line
 *     and an audit row, never changes an existing line;
 *   - a house whose needed reading is flagged, missing or stale, or that
 *     has no tariff, is skipped and listed with a stable code, never guessed;
 *   - a run holds the job row (kind 'bill', community, period); a claim
 *     whose heartbeat is older than BILLRUN_STALE_S may be taken over.
 */
#ifndef XQ_BILLRUN_H
#define XQ_BILLRUN_H

#include "xq.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

struct db;

#define BILLRUN_STALE_S 120      /* a running claim without heartbeat this long is stale */
#define BILLRUN_STALE_READING_DAYS 7 /* closing reading older than this before period end */
#define BILLRUN_DUE_MDAY 20      /* due date: this day of the month after the period */
#define BILLRUN_SKIPS_KEPT 1000  /* skipped houses listed in a summary; the count is exact */
#define BILLRUN_ESTIMATE_PERIODS 3 /* an estimate averages this many earlier bills */
#define BILLRUN_ESTIMATE_MAX 1000    /* houses one run may estimate */
#define BILLRUN_BATCH 1000       /* houses read with one set of queries and written in one
				  * transaction (each house whole) */

/* Why a house was not billed: a stable code for programs and a Chinese reason. */
struct billrun_skip {
	int64_t house_id;
	char utility[12];
	char code[24];      /* no_tariff, no_version, reading_flagged, opening_missing, ... */
	char reason_zh[160];
};

struct billrun_summary {
	int64_t job_id;
	char period[8];
	int64_t community_id;       /* 0: all communities */
	int64_t houses;             /* houses looked at */
	int64_t bills_new;          /* bills issued by this run */
	int64_t bills_adjusted;     /* existing bills given an adjust line */
	int64_t bills_unchanged;    /* existing bills with the same usage: nothing written */
	int64_t skipped;            /* (house, utility) pairs skipped; skips[] holds the first ones */
	int64_t total_fen;          /* amount of the bills issued by this run */
	int64_t adjust_fen;         /* sum of the adjust lines written by this run */
	int64_t settled_fen;        /* paid from account credit */
	int64_t estimated;          /* bills issued or adjusted on a staff-chosen estimate */
	int64_t compute_us, db_read_us, db_write_us; /* where the time went */
	size_t n_skips;
	struct billrun_skip *skips; /* owned */
};

/* Progress callback: done of total houses, called at the start, after each batch and at the end. */
typedef void (*billrun_progress_fn)(void *arg, int64_t done, int64_t total);

struct billrun_opts {
	const char *period;       /* "YYYY-MM", Asia/Shanghai calendar month */
	int64_t community_id;     /* 0: every community */
	const char *owner;        /* host:pid, stored in job.owner */
	int64_t staff_id;         /* who started it (audit rows), 0 for xqctl */
	const char *actor;        /* username or "xqctl" */
	billrun_progress_fn progress;
	void *progress_arg;
	/* houses staff chose to bill on an estimate when a closing reading is
	 * missing, stale or flagged (RULE: BILL-ESTIMATE-01); not owned */
	const int64_t *estimate_house_ids;
	size_t n_estimate;
};

/*
 * Parses "YYYY-MM" (2000..2199) into the period's local first and last day
 * (billing_day numbers) and its UTC bounds as DATETIME text
 * ("2026-09-30 16:00:00.000"): start inclusive, end exclusive of later
 * readings. XQ_EINVAL for anything else.
 */
int billrun_period(const char *period, int *year /* OUT */, int *month /* OUT */,
		   int32_t *first_day /* OUT */, int32_t *last_day /* OUT */,
		   char start_utc[24] /* OUT */, char end_utc[24] /* OUT */);

/*
 * Claims the job row for (bill, community, period): creates it, or takes it
 * over when it is done, failed or stale (attempt + 1). XQ_ECONFLICT when
 * another owner's claim is live; *job_id is then that job.
 */
int billrun_claim(struct db *db, const struct billrun_opts *o, int64_t *job_id /* OUT */);

/*
 * Runs the claimed job to the end: bills, progress in the job row, and the
 * summary (stored as JSON in job.summary and returned in *s, which the
 * caller releases). Marks the job done, or failed with the error text.
 */
int billrun_run(struct db *db, int64_t job_id, const struct billrun_opts *o,
		struct billrun_summary *s /* OUT */);

/* Frees s->skips and zeroes *s. */
void billrun_summary_release(struct billrun_summary *s);

/* The summary as a JSON object (what GET /billing/runs/{id} shows). */
cJSON *billrun_summary_json(const struct billrun_summary *s);

/* Add 10^digits units (x1000 milli) when a register passed its top (RULE: METER-ROLLOVER-01). */
int billrun_register_delta(int64_t prev, int64_t curr, int digits, int64_t *delta /* OUT */,
			   int *rollover /* OUT */);

#endif
