/*
 * dunning.h - the daily job (`xqctl daily`): late fees posted to the bills,
 * the dunning policy's reminders, and the alert detectors (alerts.h), for
 * one Asia/Shanghai calendar day. The rules are in docs/dunning.md.
 *
 * Contract:
 *   - a run holds the job row (kind 'daily', community 0, period the date);
 *     a live claim of another owner makes daily_claim() return XQ_ECONFLICT;
 *   - late fees (RULE: LATEFEE-POST-01): for every overdue bill the job posts
 *     each overdue day not yet posted (bill.late_fee_through + 1 .. date) as
 *     one late_fee_entry row keyed latefee:<bill_id>:<YYYY-MM-DD> (a charge
 *     on the bill, not a wallet movement: no ledger_entry),
 *     amount = cumulative fee through that day (billing_late_fee_policy, so
 *     rounded once) minus what was posted before; so running twice, or after
 *     missed days, posts exactly the entries a run on every day would have;
 *   - reminders (RULE: DUNNING-ONCE-01): every (bill, step, channel,
 *     recipient) is a dunning_event row inserted before the message is
 *     sent, so nothing is sent twice even across hosts; a bill that is paid
 *     or void gets nothing more.
 */
#ifndef XQ_DUNNING_H
#define XQ_DUNNING_H

#include "tariff.h"
#include "xq.h"

#include <stddef.h>
#include <stdint.h>

struct config;
struct db;

#define DAILY_STALE_S 300 /* a running claim without heartbeat this long may be taken over */

struct daily_summary {
	int64_t job_id;
	char date[11];
	/* late fees */
	int64_t bills_checked;    /* overdue bills looked at */
	int64_t bills_accrued;    /* bills given at least one entry */
	int64_t latefee_entries;  /* late_fee_entry rows posted */
	int64_t latefee_fen;      /* their total */
	/* dunning */
	int64_t reminders_sent;   /* wx + sms delivered */
	int64_t reminders_failed; /* refused or unreachable (recorded, not retried) */
	int64_t reminders_skipped; /* superseded steps, no recipient */
	int64_t staff_tasks;      /* tickets opened */
	/* alerts */
	int64_t alerts_raised;
	int64_t alerts_critical;
	int64_t notifications;    /* staff notifications written */
};

typedef void (*daily_progress_fn)(void *arg, const char *phase, int64_t done, int64_t total);

struct daily_opts {
	const struct config *cfg;
	int32_t day;            /* billing_day() number of the date processed */
	const char *owner;      /* host:pid for job.owner */
	daily_progress_fn progress;
	void *progress_arg;
};

/* "YYYY-MM-DD" -> day number; XQ_EINVAL otherwise. */
int daily_parse_date(const char *s, int32_t *day /* OUT */);
/* Day number -> "YYYY-MM-DD". */
void daily_date_text(int32_t day, char out[11]);
/* Today in Asia/Shanghai (UTC+8, no DST) from the wall clock. */
int32_t daily_today(void);

/* Claims (daily, 0, date); XQ_ECONFLICT with *job_id when another owner's claim is live. */
int daily_claim(struct db *db, const struct daily_opts *o, int64_t *job_id /* OUT */);

/* Runs the claimed job: late fees, dunning, alerts; marks it done or failed. */
int daily_run(struct db *db, int64_t job_id, const struct daily_opts *o,
	      struct daily_summary *s /* OUT */);

/* One portion of a bill's principal settled on day paid_day (0: still unpaid). */
struct latefee_portion {
	int64_t principal_fen;
	int32_t paid_day;
};

/*
 * The late fee a bill has accrued through `day` (RULE: LATEFEE-POST-01):
 * every portion accrues for min(paid_day, day) - due_day overdue days (an
 * unpaid portion for day - due_day), under policy, rounded once. Pure.
 */
int latefee_through(const struct tariff_late_fee *policy, int32_t due_day,
		    const struct latefee_portion *p, size_t n, int32_t day, int64_t *fen /* OUT */);

#endif
