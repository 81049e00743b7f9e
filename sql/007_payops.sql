-- 007_payops.sql - payment operations: retry and sync jobs, refunds,
-- reconciliation with WeChat's trade bill, payment alerts.
--
-- Jobs run from cron on several hosts at once. They claim work with a
-- committed UPDATE of a *_claim_until column (claimed while it lies in the
-- future, so a crashed job's claim simply expires) and then rely on the row
-- locks of the settling transaction; no GET_LOCK, no single leader.

-- xqctl pay-retry: an unprocessed notification (processed_at NULL, e.g. the
-- process died between storing and settling) is claimed here before it is
-- processed again from its stored headers and body.
ALTER TABLE wx_notify_inbox
	ADD COLUMN retry_claim_until DATETIME(3) NULL AFTER error,
	ADD COLUMN retries INT NOT NULL DEFAULT 0 AFTER retry_claim_until;

-- xqctl pay-sync: created orders are queried (and closed past their expiry)
-- once per claim; refunded_fen is the sum of successful refunds, so that
-- 'partially_refunded' and 'refunded' can be told apart.
ALTER TABLE wx_order
	MODIFY state VARCHAR(24) NOT NULL DEFAULT 'created'
		CHECK (state IN ('created', 'paid', 'closed', 'refunded', 'partially_refunded')),
	ADD COLUMN refunded_fen BIGINT NOT NULL DEFAULT 0 AFTER payer_total_fen,
	ADD COLUMN sync_claim_until DATETIME(3) NULL AFTER closed_at,
	ADD COLUMN sync_checks INT NOT NULL DEFAULT 0 AFTER sync_claim_until;

-- refunds waiting for WeChat (requested: the create call did not get an
-- answer; processing: no callback yet) are re-sent / queried by pay-sync.
ALTER TABLE refund
	ADD COLUMN out_trade_no VARCHAR(32) NULL AFTER house_id,
	ADD COLUMN error VARCHAR(255) NOT NULL DEFAULT '' AFTER user_received_account,
	ADD COLUMN sync_claim_until DATETIME(3) NULL AFTER success_at;

-- Payment alerts have no community when the order is unknown; the new kinds
-- are the payment ones (see docs/payments.md "Alerts").
ALTER TABLE alert
	MODIFY community_id BIGINT NULL,
	MODIFY kind VARCHAR(32) NOT NULL CHECK (kind IN ('usage_spike', 'zero_use', 'reading_flagged',
		'meter_offline', 'tamper', 'line_loss', 'low_balance', 'ev_fault',
		'pay_notify_unknown', 'pay_notify_mismatch', 'refund_abnormal', 'reconcile_diff'));

-- One row per bill date: the last run of xqctl reconcile for that day.
CREATE TABLE reconciliation (
	id BIGINT NOT NULL AUTO_INCREMENT,
	bill_date DATE NOT NULL, -- WeChat's bill day (Beijing time)
	status VARCHAR(16) NOT NULL CHECK (status IN ('ok', 'diff', 'failed', 'no_statement')),
	wx_trades INT NOT NULL DEFAULT 0, -- payment lines in the bill
	wx_refunds INT NOT NULL DEFAULT 0, -- refund lines in the bill
	wx_total_fen BIGINT NOT NULL DEFAULT 0, -- sum of 订单金额 of payment lines
	wx_refund_fen BIGINT NOT NULL DEFAULT 0, -- sum of 退款金额 of refund lines
	our_trades INT NOT NULL DEFAULT 0,
	our_refunds INT NOT NULL DEFAULT 0,
	our_total_fen BIGINT NOT NULL DEFAULT 0,
	our_refund_fen BIGINT NOT NULL DEFAULT 0,
	diffs INT NOT NULL DEFAULT 0,
	detail LONGTEXT NOT NULL, -- JSON: {"differences":[{kind, out_trade_no, ...}], "error"?}
	bill_sha1 CHAR(40) NOT NULL DEFAULT '',
	run_by VARCHAR(128) NOT NULL DEFAULT '',
	runs INT NOT NULL DEFAULT 1,
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	UNIQUE KEY reconciliation_date_uq (bill_date),
	CONSTRAINT reconciliation_detail_chk CHECK (JSON_VALID(detail))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='对账 daily comparison of WeChat''s trade bill with our payments and refunds';
