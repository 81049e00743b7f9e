-- 001_init.sql - the state of xq-wxsim, the local imitation of WeChat, in its
-- own database (xiaoqu_wxsim; never the application's). Applied by
--   XQ_DB_NAME=xiaoqu_wxsim xqctl migrate --dir sim/wxsim/sql
-- Times are Unix milliseconds (*_ms), money is fen (*_fen). Append-only like
-- sql/: change the schema with 002_... files.

-- Mini-program side (api.weixin.qq.com) ------------------------------------

-- openids the sim has handed out for an appid (code2session, /sim/login-code)
CREATE TABLE sim_user (
	appid VARCHAR(32) NOT NULL,
	openid VARCHAR(128) NOT NULL,
	created_ms BIGINT NOT NULL,
	PRIMARY KEY (appid, openid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- wx.login() codes: valid 5 minutes, usable once (expires_ms 0: no expiry,
-- the deterministic test-<name> codes)
CREATE TABLE sim_login_code (
	code VARCHAR(128) NOT NULL PRIMARY KEY,
	appid VARCHAR(32) NOT NULL,
	openid VARCHAR(128) NOT NULL,
	created_ms BIGINT NOT NULL,
	expires_ms BIGINT NOT NULL,
	used_ms BIGINT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE sim_token (
	token VARCHAR(200) NOT NULL PRIMARY KEY,
	appid VARCHAR(32) NOT NULL,
	kind VARCHAR(8) NOT NULL, -- classic (/cgi-bin/token) or stable (/cgi-bin/stable_token)
	created_ms BIGINT NOT NULL,
	expires_ms BIGINT NOT NULL,
	KEY sim_token_latest (appid, kind, created_ms)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- subscribe-message templates of the mini-program: keywords are the data keys
CREATE TABLE sim_template (
	template_id VARCHAR(64) NOT NULL PRIMARY KEY,
	title VARCHAR(64) NOT NULL,
	keywords VARCHAR(255) NOT NULL -- comma-separated, e.g. thing1,amount2,time3
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

INSERT INTO sim_template (template_id, title, keywords) VALUES
	('XQ-BILL-DUE-REMINDER-DEMO-TEMPLATE-0000001', '账单缴费提醒', 'thing1,amount2,time3'),
	('XQ-PAYMENT-SUCCESS-DEMO-TEMPLATE-000000002', '缴费成功通知', 'character_string1,amount2,date3,thing4'),
	('XQ-ARREARS-NOTICE-DEMO-TEMPLATE-0000000003', '欠费提醒', 'thing1,amount2,date3,thing4');

-- one-time subscription acceptances (wx.requestSubscribeMessage): each send uses one
CREATE TABLE sim_subscription (
	appid VARCHAR(32) NOT NULL,
	openid VARCHAR(128) NOT NULL,
	template_id VARCHAR(64) NOT NULL,
	remaining INT NOT NULL,
	PRIMARY KEY (appid, openid, template_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- every subscribe message accepted for sending
CREATE TABLE sim_message (
	id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	msgid BIGINT NOT NULL,
	appid VARCHAR(32) NOT NULL,
	openid VARCHAR(128) NOT NULL,
	template_id VARCHAR(64) NOT NULL,
	page VARCHAR(512) NULL,
	miniprogram_state VARCHAR(16) NOT NULL,
	lang VARCHAR(8) NOT NULL,
	data LONGTEXT NOT NULL,
	created_ms BIGINT NOT NULL,
	KEY sim_message_openid (openid, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- getPhoneNumber codes (§17): valid 5 minutes, usable once
CREATE TABLE sim_phone_code (
	code VARCHAR(128) NOT NULL PRIMARY KEY,
	appid VARCHAR(32) NOT NULL,
	phone VARCHAR(32) NOT NULL,
	country_code VARCHAR(8) NOT NULL,
	openid VARCHAR(128) NULL,
	created_ms BIGINT NOT NULL,
	expires_ms BIGINT NOT NULL,
	used_ms BIGINT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Pay side (api.mch.weixin.qq.com) -------------------------------------------

CREATE TABLE sim_order (
	id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	mchid VARCHAR(32) NOT NULL,
	out_trade_no VARCHAR(32) NOT NULL,
	appid VARCHAR(32) NOT NULL,
	description VARCHAR(511) NOT NULL,
	attach VARCHAR(511) NULL,
	notify_url VARCHAR(255) NOT NULL,
	time_expire VARCHAR(64) NULL,
	time_expire_s BIGINT NULL,
	amount_total_fen BIGINT NOT NULL,
	currency VARCHAR(16) NOT NULL,
	openid VARCHAR(128) NOT NULL,
	device_id VARCHAR(64) NULL,
	params_hash CHAR(64) NOT NULL, -- SHA-256 of the canonical first request (§6.3)
	prepay_id VARCHAR(64) NOT NULL,
	prepay_expires_ms BIGINT NOT NULL,
	trade_state VARCHAR(16) NOT NULL, -- NOTPAY SUCCESS REFUND CLOSED
	transaction_id VARCHAR(32) NULL,
	bank_type VARCHAR(16) NULL,
	payer_total_fen BIGINT NULL,
	success_ms BIGINT NULL,
	created_ms BIGINT NOT NULL,
	closed_ms BIGINT NULL,
	refund_outcome VARCHAR(16) NOT NULL DEFAULT 'SUCCESS', -- SUCCESS ABNORMAL CLOSED HOLD
	refund_delay_ms BIGINT NULL,
	UNIQUE KEY sim_order_otn (mchid, out_trade_no),
	UNIQUE KEY sim_order_tid (transaction_id),
	UNIQUE KEY sim_order_prepay (prepay_id),
	KEY sim_order_success (mchid, success_ms)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE sim_refund (
	id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	mchid VARCHAR(32) NOT NULL,
	out_refund_no VARCHAR(64) NOT NULL,
	refund_id VARCHAR(32) NOT NULL,
	order_id BIGINT NOT NULL,
	reason VARCHAR(255) NULL,
	notify_url VARCHAR(256) NULL,
	refund_fen BIGINT NOT NULL,
	total_fen BIGINT NOT NULL,
	currency VARCHAR(16) NOT NULL,
	status VARCHAR(16) NOT NULL, -- PROCESSING SUCCESS ABNORMAL CLOSED
	outcome VARCHAR(16) NOT NULL, -- what PROCESSING turns into; HOLD: only /sim/refund/complete
	created_ms BIGINT NOT NULL,
	success_ms BIGINT NULL,
	complete_at_ms BIGINT NULL,
	UNIQUE KEY sim_refund_no (mchid, out_refund_no),
	UNIQUE KEY sim_refund_id (refund_id),
	KEY sim_refund_order (order_id),
	KEY sim_refund_created (mchid, created_ms),
	KEY sim_refund_due (status, complete_at_ms),
	CONSTRAINT sim_refund_order_fk FOREIGN KEY (order_id) REFERENCES sim_order (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- callbacks (§8.1 envelope, encrypted resource); body is identical on every send
CREATE TABLE sim_notification (
	id VARCHAR(36) NOT NULL PRIMARY KEY,
	kind VARCHAR(16) NOT NULL, -- transaction, refund
	event_type VARCHAR(32) NOT NULL,
	order_id BIGINT NOT NULL,
	out_trade_no VARCHAR(32) NOT NULL,
	out_refund_no VARCHAR(64) NULL,
	notify_url VARCHAR(256) NOT NULL,
	body LONGTEXT NOT NULL,
	plaintext LONGTEXT NOT NULL, -- the decrypted resource, for /sim/notifications
	fault VARCHAR(32) NULL,
	fault_attempts INT NOT NULL DEFAULT 0,
	fault_used INT NOT NULL DEFAULT 0,
	created_ms BIGINT NOT NULL,
	KEY sim_notification_otn (out_trade_no, created_ms)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- the outbox: one row per delivery series (first send + retries of §8.4)
CREATE TABLE sim_delivery (
	id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	notification_id VARCHAR(36) NOT NULL,
	reason VARCHAR(16) NOT NULL, -- first, repeat, replay
	state VARCHAR(16) NOT NULL, -- PENDING DELIVERED FAILED
	attempts INT NOT NULL DEFAULT 0,
	retry_scale BIGINT NOT NULL,
	next_ms BIGINT NOT NULL,
	last_status INT NULL,
	created_ms BIGINT NOT NULL,
	done_ms BIGINT NULL,
	KEY sim_delivery_due (state, next_ms),
	KEY sim_delivery_notification (notification_id),
	CONSTRAINT sim_delivery_notification_fk FOREIGN KEY (notification_id)
		REFERENCES sim_notification (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- every send: when, what the merchant answered, which fault it carried
CREATE TABLE sim_attempt (
	id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	delivery_id BIGINT NOT NULL,
	attempt INT NOT NULL,
	at_ms BIGINT NOT NULL,
	http_status INT NOT NULL, -- 0: no HTTP answer (refused, timeout)
	error VARCHAR(255) NULL,
	fault VARCHAR(32) NULL,
	duration_ms BIGINT NOT NULL,
	KEY sim_attempt_delivery (delivery_id, attempt)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- trade bills applied for (§12): the file is fixed when the download_url is issued
CREATE TABLE sim_bill (
	token VARCHAR(64) NOT NULL PRIMARY KEY,
	mchid VARCHAR(32) NOT NULL,
	bill_date CHAR(10) NOT NULL,
	bill_type VARCHAR(16) NOT NULL,
	tar_type VARCHAR(8) NOT NULL,
	content LONGTEXT NOT NULL,
	sha1 CHAR(40) NOT NULL,
	created_ms BIGINT NOT NULL,
	expires_ms BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- response faults armed by POST /sim/faults, consumed by the next matching answers
CREATE TABLE sim_fault (
	id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	fault VARCHAR(32) NOT NULL,
	path_prefix VARCHAR(255) NOT NULL,
	remaining INT NOT NULL,
	delay_ms BIGINT NOT NULL,
	created_ms BIGINT NOT NULL,
	KEY sim_fault_remaining (remaining)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
