/*
 * alerts.h - the alert kinds and the abnormal-usage detectors that
 * `xqctl daily` runs over the usage rollups (docs/dunning.md, "Alerts").
 *
 * Kinds raised here: usage_spike, zero_use, usage_while_vacant, water_leak,
 * line_loss. Other areas raise their own (meter_offline, reading_flagged,
 * tamper, low_balance, payment anomalies); the alert.kind column accepts any
 * short name since migration 011, and ALERT_KINDS lists the known ones for
 * the console's filter.
 *
 * Thresholds come from alert_rule: the row of the community for the kind,
 * else the default row (community_id NULL); a disabled rule raises nothing.
 * An alert is raised once: its dedup_key names kind, subject and day, and no
 * new alert of a kind is raised for a meter while one is still open or
 * acknowledged. Critical alerts write a staff_notification and, when
 * dunning.tpl_alert is set, a subscribe message to every staff openid
 * (wx_user.staff_id).
 */
#ifndef XQ_ALERTS_H
#define XQ_ALERTS_H

#include "xq.h"

#include <stdint.h>

struct config;
struct db;

#define ALERT_KINDS                                                                        \
	"usage_spike", "zero_use", "usage_while_vacant", "water_leak", "line_loss",         \
		"reading_flagged", "meter_offline", "tamper", "low_balance", "ev_fault"

struct alerts_summary {
	int64_t raised, critical, notifications;
	int64_t by_kind[5]; /* spike, zero, vacant, leak, loss */
};

/*
 * Runs every detector for the complete day before `day` (the daily job for
 * 2026-12-02 looks at 2026-12-01). Idempotent.
 */
int alerts_detect(struct db *db, const struct config *cfg, int32_t day,
		  struct alerts_summary *s /* OUT */);

#endif
