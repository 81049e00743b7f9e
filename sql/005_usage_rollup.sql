-- 005_usage_rollup.sql - daily and monthly usage per meter, kept up to date as
-- readings arrive, so that usage charts, reports and billing previews never
-- scan meter_reading (which grows by billions of rows).
--
-- Who writes them: every path that stores a reading (xq-collector batches,
-- manual entry, import, review/correction) calls the rollup refresh for the
-- (meter, day) pairs it touched (lib/rollup.h). A refresh recomputes the day
-- row from that day's raw readings of that one meter (a primary-key range) and
-- the last good reading before the day, then the month row from its day rows,
-- so it is idempotent: replaying readings or refreshing twice changes nothing.
--
-- Units: usage_* are register deltas after rollover and the meter multiplier,
-- in Wh (electric) or litres (water), i.e. what a bill would charge. Days and
-- months are Asia/Shanghai calendar dates. Flagged and rejected readings are
-- not used. A day's usage is last good value of the day minus the last good
-- value before the day (or the first of the day when there is none).

CREATE TABLE meter_usage_daily (
	meter_id BIGINT NOT NULL,
	day DATE NOT NULL, -- Asia/Shanghai
	first_read_at DATETIME(3) NOT NULL, -- UTC, first good reading of the day
	last_read_at DATETIME(3) NOT NULL, -- UTC, last good reading of the day
	last_value BIGINT NOT NULL, -- total register at last_read_at, Wh or L
	usage_total BIGINT NOT NULL DEFAULT 0, -- Wh or L, after rollover and multiplier
	usage_sharp BIGINT NULL, -- NULL when the meter has no rate registers
	usage_peak BIGINT NULL,
	usage_flat BIGINT NULL,
	usage_valley BIGINT NULL,
	readings INT NOT NULL DEFAULT 0, -- good readings in the day
	flagged INT NOT NULL DEFAULT 0, -- flagged readings in the day (not used above)
	updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
	PRIMARY KEY (meter_id, day),
	KEY meter_usage_daily_day_ix (day)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='日用量 daily usage per meter, maintained from meter_reading';

CREATE TABLE meter_usage_monthly (
	meter_id BIGINT NOT NULL,
	month CHAR(7) NOT NULL, -- YYYY-MM, Asia/Shanghai
	usage_total BIGINT NOT NULL DEFAULT 0, -- sum of the month's day rows
	usage_sharp BIGINT NULL,
	usage_peak BIGINT NULL,
	usage_flat BIGINT NULL,
	usage_valley BIGINT NULL,
	days INT NOT NULL DEFAULT 0, -- days with at least one good reading
	last_read_at DATETIME(3) NULL,
	last_value BIGINT NULL,
	updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
	PRIMARY KEY (meter_id, month),
	KEY meter_usage_monthly_month_ix (month)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='月用量 monthly usage per meter, the sum of meter_usage_daily';
