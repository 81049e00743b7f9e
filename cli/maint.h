/*
 * maint.h - xqctl maintenance commands of the collector area: usage rollup
 * backfill (lib/rollup.h) and meter_reading partitions (sql/008).
 */
#ifndef XQ_MAINT_H
#define XQ_MAINT_H

#include "xq.h"

struct db;
struct config;

/* Refreshes the rollups of every reading day from..to (day numbers; 0 = earliest / today). */
int maint_rollup(struct db *db, int64_t from, int64_t to, int64_t meter_id);
/* xqctl rollup [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--meter ID] */
int cmd_rollup(int argc, char **argv);
/* xqctl partitions [--ahead N]: monthly partitions of meter_reading up to N months ahead */
int cmd_partitions(int argc, char **argv);
/* The configuration xqctl loaded (set by main before a command runs). */
extern struct config *maint_cfg;

#endif
