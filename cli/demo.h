/*
 * demo.h - the demo data loader behind `xqctl demo`.
 *
 * Invariants: the data depends only on the options and on the current month
 * (Asia/Shanghai), never on rand() or on what else is in the database, so two
 * loads with the same seed in the same month produce the same rows (ids
 * aside). The load is one transaction: either the whole community is there
 * or nothing is.
 */
#ifndef XQ_DEMO_H
#define XQ_DEMO_H

struct db;

struct demo_opts {
	int houses;    /* default 200, 1..1000 */
	unsigned seed; /* deterministic PRNG seed, default 1 */
	int months;    /* of readings, default 12, 1..24 */
};

/*
 * Loads one demo community (code DEMO01, 阳光花园): buildings with a supply
 * meter each, houses with residents, an electric and a water meter per house,
 * and o->months months of readings ending at 00:00 Asia/Shanghai on the first
 * day of the current month, and an electric and a water tariff assigned to every
 * house from the first reading day. No bills or money.
 * Returns XQ_OK, XQ_ECONFLICT if community DEMO01 exists, XQ_EINVAL for
 * options out of range, or the database error. Prints progress to stderr.
 */
int demo_load(struct db *db, const struct demo_opts *o);

#endif
