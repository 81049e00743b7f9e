-- 011_dunning.sql - late fees, dunning, alerts and their notifications
-- (docs/dunning.md). Same conventions as 001: no semicolon inside comments or
-- strings, enumerations as CHECK.

-- Late fees (docs/dunning.md). A late fee is a charge on the bill, like the
-- bill itself: bill.late_fee_fen is part of what the resident owes
-- (amount + late_fee - paid, as the payment code settles it), so accrual is
-- not a movement of money and does not touch ledger_entry or the wallet.
-- Each day's accrual is one row here, keyed latefee:<bill_id>:<YYYY-MM-DD>,
-- and a staff waiver one reversing row keyed waive:<bill_id>. bill.late_fee_fen
-- is the cache of SUM(amount_fen) over a bill's rows, written in the same
-- transaction. A waived fee that was already paid goes back to the wallet as
-- a ledger 'reverse' entry (reverse:<bill_id>:waive).
CREATE TABLE late_fee_entry (
	id BIGINT NOT NULL AUTO_INCREMENT,
	bill_id BIGINT NOT NULL,
	kind VARCHAR(16) NOT NULL CHECK (kind IN ('accrue', 'waive')),
	day DATE NOT NULL, -- the overdue day accrued, or the day of the waiver (Asia/Shanghai)
	amount_fen BIGINT NOT NULL, -- accrue > 0, waive < 0
	cum_fen BIGINT NOT NULL, -- the bill's late fee after this row
	idem_key VARCHAR(96) NOT NULL,
	staff_id BIGINT NULL, -- who waived
	note VARCHAR(255) NOT NULL DEFAULT '',
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	UNIQUE KEY late_fee_entry_idem_uq (idem_key),
	KEY late_fee_entry_bill_ix (bill_id, day),
	CONSTRAINT late_fee_entry_bill_fk FOREIGN KEY (bill_id) REFERENCES bill (id),
	CONSTRAINT late_fee_entry_staff_fk FOREIGN KEY (staff_id) REFERENCES staff_user (id),
	CONSTRAINT late_fee_entry_sign_chk CHECK ((kind = 'accrue' AND amount_fen > 0) OR
		(kind = 'waive' AND amount_fen < 0 AND staff_id IS NOT NULL))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='违约金明细 daily late-fee accruals and waivers of a bill';

-- How far a bill's late fee has been posted, and its waiver.
ALTER TABLE bill
	ADD COLUMN late_fee_through DATE NULL, -- last overdue day posted (Asia/Shanghai)
	ADD COLUMN late_fee_waived_at DATETIME(3) NULL, -- no accrual after a waiver
	ADD COLUMN late_fee_waived_by BIGINT NULL,
	ADD COLUMN late_fee_waived_fen BIGINT NOT NULL DEFAULT 0,
	ADD COLUMN late_fee_waive_reason VARCHAR(255) NOT NULL DEFAULT '',
	ADD CONSTRAINT bill_waived_by_fk FOREIGN KEY (late_fee_waived_by) REFERENCES staff_user (id);

-- A staff task for an arrears case is a ticket of kind 'billing'.
ALTER TABLE dunning_event
	MODIFY COLUMN channel VARCHAR(24) NOT NULL
		CHECK (channel IN ('wx_subscribe', 'sms', 'letter', 'call', 'disconnect_notice', 'staff_task'));

-- The steps of a community's dunning policy. Rows with community_id NULL are
-- the default policy, used by every community that has no row of its own.
CREATE TABLE dunning_step (
	id BIGINT NOT NULL AUTO_INCREMENT,
	community_id BIGINT NULL,
	step INT NOT NULL, -- 1, 2, 3 ... escalation order
	days_after_due INT NOT NULL, -- overdue days at which the step is taken
	channel VARCHAR(24) NOT NULL CHECK (channel IN ('wx_subscribe', 'sms', 'staff_task')),
	template VARCHAR(16) NOT NULL DEFAULT 'reminder' CHECK (template IN ('reminder', 'arrears')),
	enabled TINYINT(1) NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	UNIQUE KEY dunning_step_uq (community_id, step, channel),
	CONSTRAINT dunning_step_community_fk FOREIGN KEY (community_id) REFERENCES community (id),
	CONSTRAINT dunning_step_days_chk CHECK (days_after_due >= 1 AND step >= 1)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='催缴策略 steps of the dunning policy per community (NULL: default)';

INSERT INTO dunning_step (community_id, step, days_after_due, channel, template) VALUES
	(NULL, 1, 1, 'wx_subscribe', 'reminder'),
	(NULL, 2, 7, 'wx_subscribe', 'arrears'),
	(NULL, 2, 7, 'sms', 'arrears'),
	(NULL, 3, 30, 'staff_task', 'arrears');

-- The SMS sink of sms.gateway = table (local development and tests): every
-- message the gateway interface was asked to send.
CREATE TABLE sms_outbox (
	id BIGINT NOT NULL AUTO_INCREMENT,
	mobile VARCHAR(20) NOT NULL,
	content VARCHAR(500) NOT NULL,
	ref VARCHAR(96) NOT NULL DEFAULT '', -- what caused it, e.g. dunning:<bill>:<step>
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	KEY sms_outbox_mobile_ix (mobile, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='短信 messages handed to the local SMS sink';

-- The mini-program access token, shared by every host (xq-api and xqctl are
-- stateless). Refreshed when less than 10 minutes remain or WeChat says 40001/42001.
CREATE TABLE wx_access_token (
	appid VARCHAR(32) NOT NULL,
	token VARCHAR(1024) NOT NULL, -- secret: never logged
	expires_at DATETIME(3) NOT NULL,
	updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
	PRIMARY KEY (appid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='WeChat access_token cache (stable_token)';

-- Alert kinds: the list lives in lib/alerts.h (several areas raise alerts and
-- add kinds), so the column takes any short name.
ALTER TABLE alert
	MODIFY COLUMN kind VARCHAR(32) NOT NULL,
	ADD COLUMN closed_by BIGINT NULL,
	ADD COLUMN close_note VARCHAR(255) NOT NULL DEFAULT '',
	ADD CONSTRAINT alert_closed_by_fk FOREIGN KEY (closed_by) REFERENCES staff_user (id),
	ADD KEY alert_kind_ix (kind, status),
	ADD KEY alert_level_ix (level, status);

-- A console notification for staff (critical alerts). staff_id NULL: everyone.
CREATE TABLE staff_notification (
	id BIGINT NOT NULL AUTO_INCREMENT,
	staff_id BIGINT NULL,
	community_id BIGINT NULL,
	alert_id BIGINT NULL,
	message VARCHAR(255) NOT NULL,
	wx_sent INT NOT NULL DEFAULT 0, -- subscribe messages delivered to staff openids
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	read_at DATETIME(3) NULL,
	PRIMARY KEY (id),
	UNIQUE KEY staff_notification_alert_uq (alert_id, staff_id),
	KEY staff_notification_staff_ix (staff_id, read_at),
	CONSTRAINT staff_notification_alert_fk FOREIGN KEY (alert_id) REFERENCES alert (id),
	CONSTRAINT staff_notification_staff_fk FOREIGN KEY (staff_id) REFERENCES staff_user (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='控制台通知 notification shown to staff in the console';

-- Default thresholds of the detectors of `xqctl daily` (community_id NULL).
-- A community overrides a kind with its own row.
INSERT INTO alert_rule (community_id, kind, level, params) VALUES
	(NULL, 'usage_spike', 'warning', '{"factor_pct": 300, "min_history_days": 7, "min_wh": 2000, "min_l": 200}'),
	(NULL, 'zero_use', 'warning', '{"days": 3}'),
	(NULL, 'usage_while_vacant', 'warning', '{"min_wh": 500, "min_l": 50}'),
	(NULL, 'water_leak', 'critical', '{"min_readings": 3, "min_l": 5}'),
	(NULL, 'line_loss', 'warning', '{"loss_pct_x100": 1000, "min_wh": 10000}');

-- IGNORE: other areas may grant the same pairs in their own migrations
INSERT IGNORE INTO permission (code, name_zh) VALUES ('latefee.waive', '减免违约金');
INSERT IGNORE INTO role_permission (role_code, perm_code) VALUES
	('admin', 'latefee.waive'),
	('finance', 'latefee.waive'),
	('finance', 'alert.handle');
