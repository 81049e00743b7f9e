-- 001_init.sql - the first schema of Xiaoqu (MariaDB 10.11, InnoDB, utf8mb4).
--
-- Applied once by `xqctl migrate` as one multi-statement script (the runner
-- creates and fills schema_migrations itself). Conventions, for every table:
--   * money is BIGINT fen (*_fen), prices BIGINT in 0.0001 yuan (*_hao),
--     energy BIGINT Wh (*_wh), water BIGINT litres (*_l)
--   * quantities on bills are *_milli: 1/1000 of the billing unit, i.e. Wh for
--     kWh and litres for m3, so that 90 % drainage volumes stay exact
--   * times are DATETIME(3) in UTC (the connection sets time_zone +00:00),
--     calendar dates (due dates, move-in) are DATE in Asia/Shanghai
--   * every table has a primary key (Galera needs one) and foreign keys are
--     RESTRICT unless stated, so deleting a referenced row gives XQ_EINUSE
--   * no semicolon appears in comments or strings, so even a naive
--     statement splitter can apply this file
--   * enumerations are VARCHAR + CHECK, not ENUM, so adding a value is a plain
--     ALTER of the constraint.

-- ---------------------------------------------------------------- estate

CREATE TABLE community (
	id BIGINT NOT NULL AUTO_INCREMENT,
	code VARCHAR(32) NOT NULL,
	name VARCHAR(100) NOT NULL,
	address VARCHAR(255) NOT NULL DEFAULT '',
	company VARCHAR(100) NOT NULL DEFAULT '', -- property-management company (物业公司), free text
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	UNIQUE KEY community_code_uq (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='小区 residential community';

CREATE TABLE building (
	id BIGINT NOT NULL AUTO_INCREMENT,
	community_id BIGINT NOT NULL,
	name VARCHAR(64) NOT NULL, -- e.g. 3号楼
	floors INT NOT NULL DEFAULT 0,
	units INT NOT NULL DEFAULT 1, -- number of 单元 (stairwells)
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	UNIQUE KEY building_name_uq (community_id, name),
	CONSTRAINT building_community_fk FOREIGN KEY (community_id) REFERENCES community (id),
	CONSTRAINT building_floors_chk CHECK (floors >= 0),
	CONSTRAINT building_units_chk CHECK (units >= 1)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='楼栋 building of a community';

CREATE TABLE house (
	id BIGINT NOT NULL AUTO_INCREMENT,
	building_id BIGINT NOT NULL,
	unit_no VARCHAR(16) NOT NULL DEFAULT '1', -- 单元号
	room VARCHAR(32) NOT NULL, -- 门牌号, e.g. 502
	floor INT NOT NULL DEFAULT 0, -- negative for basements
	area_m2 DECIMAL(10,2) NOT NULL DEFAULT 0, -- 建筑面积, the base of area apportionment
	status VARCHAR(16) NOT NULL DEFAULT 'occupied'
		CHECK (status IN ('occupied', 'vacant', 'decorating')),
	billing_mode VARCHAR(16) NOT NULL DEFAULT 'postpaid'
		CHECK (billing_mode IN ('postpaid', 'prepaid')),
	household_size INT NOT NULL DEFAULT 1, -- persons, for large-household tier bounds
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	UNIQUE KEY house_room_uq (building_id, unit_no, room),
	CONSTRAINT house_building_fk FOREIGN KEY (building_id) REFERENCES building (id),
	CONSTRAINT house_area_chk CHECK (area_m2 >= 0),
	CONSTRAINT house_size_chk CHECK (household_size >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='房屋 a dwelling: the unit that is billed';

CREATE TABLE resident (
	id BIGINT NOT NULL AUTO_INCREMENT,
	community_id BIGINT NOT NULL,
	code VARCHAR(32) NOT NULL, -- 客户代码, unique inside the community
	name VARCHAR(64) NOT NULL,
	phone VARCHAR(32) NOT NULL DEFAULT '', -- landline
	mobile VARCHAR(20) NOT NULL DEFAULT '',
	email VARCHAR(128) NOT NULL DEFAULT '',
	credit_rating INT NOT NULL DEFAULT 100, -- 信誉度
	note VARCHAR(255) NOT NULL DEFAULT '',
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	UNIQUE KEY resident_code_uq (community_id, code),
	KEY resident_mobile_ix (mobile),
	CONSTRAINT resident_community_fk FOREIGN KEY (community_id) REFERENCES community (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='住户/业主 a person known to the property company';

CREATE TABLE house_resident (
	id BIGINT NOT NULL AUTO_INCREMENT,
	house_id BIGINT NOT NULL,
	resident_id BIGINT NOT NULL,
	relation VARCHAR(16) NOT NULL CHECK (relation IN ('owner', 'tenant', 'family')),
	move_in DATE NOT NULL,
	move_out DATE NULL, -- NULL while the person still lives there
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	UNIQUE KEY house_resident_uq (house_id, resident_id, relation, move_in),
	KEY house_resident_resident_ix (resident_id),
	CONSTRAINT house_resident_house_fk FOREIGN KEY (house_id) REFERENCES house (id),
	CONSTRAINT house_resident_resident_fk FOREIGN KEY (resident_id) REFERENCES resident (id),
	CONSTRAINT house_resident_dates_chk CHECK (move_out IS NULL OR move_out >= move_in)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='who lives in or owns a house, and when (入住/迁出)';

-- ---------------------------------------------------------------- meters

CREATE TABLE meter (
	id BIGINT NOT NULL AUTO_INCREMENT,
	community_id BIGINT NOT NULL,
	house_id BIGINT NULL, -- NULL for supply and public meters
	parent_meter_id BIGINT NULL, -- the supply (master) meter this sub-meter hangs under
	utility VARCHAR(16) NOT NULL CHECK (utility IN ('electric', 'water')),
	kind VARCHAR(16) NOT NULL DEFAULT 'household' CHECK (kind IN ('household', 'supply', 'public')),
	meter_no VARCHAR(32) NOT NULL, -- number printed on the meter (表号)
	model VARCHAR(64) NOT NULL DEFAULT '',
	digits INT NOT NULL DEFAULT 6, -- integer register digits: wraps at 10^digits kWh or m3
	multiplier INT NOT NULL DEFAULT 1, -- 倍率 = CT ratio x PT ratio, applied to register deltas
	protocol VARCHAR(16) NOT NULL DEFAULT 'manual'
		CHECK (protocol IN ('manual', 'dlt645', 'modbus', 'cjt188')),
	address VARCHAR(32) NOT NULL DEFAULT '', -- bus address: 12 digits DL/T 645, 14 CJ/T 188, unit id Modbus
	smart TINYINT(1) NOT NULL DEFAULT 0 CHECK (smart IN (0, 1)),
	has_relay TINYINT(1) NOT NULL DEFAULT 0 CHECK (has_relay IN (0, 1)), -- can trip/close remotely
	status VARCHAR(16) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'removed')),
	installed_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	initial_reading BIGINT NOT NULL DEFAULT 0, -- register at installation, Wh or L
	removed_at DATETIME(3) NULL,
	final_reading BIGINT NULL, -- register at removal, Wh or L
	replaced_by BIGINT NULL, -- the meter installed in place of this one (换表)
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	UNIQUE KEY meter_no_uq (meter_no),
	KEY meter_community_ix (community_id, utility, kind),
	KEY meter_house_ix (house_id),
	KEY meter_parent_ix (parent_meter_id),
	CONSTRAINT meter_community_fk FOREIGN KEY (community_id) REFERENCES community (id),
	CONSTRAINT meter_house_fk FOREIGN KEY (house_id) REFERENCES house (id),
	CONSTRAINT meter_parent_fk FOREIGN KEY (parent_meter_id) REFERENCES meter (id),
	CONSTRAINT meter_replaced_by_fk FOREIGN KEY (replaced_by) REFERENCES meter (id),
	CONSTRAINT meter_digits_chk CHECK (digits BETWEEN 4 AND 10),
	CONSTRAINT meter_multiplier_chk CHECK (multiplier >= 1),
	CONSTRAINT meter_initial_chk CHECK (initial_reading >= 0),
	CONSTRAINT meter_final_chk CHECK (final_reading IS NULL OR final_reading >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='电表/水表 electricity and water meters, household, supply and public';

-- value* are raw register values (before the multiplier): Wh for electric, L for water.
CREATE TABLE meter_reading (
	meter_id BIGINT NOT NULL,
	read_at DATETIME(3) NOT NULL, -- when the meter was read (UTC)
	value BIGINT NOT NULL, -- total register
	value_sharp BIGINT NULL, -- 尖 register, NULL when the meter has none
	value_peak BIGINT NULL, -- 峰
	value_flat BIGINT NULL, -- 平
	value_valley BIGINT NULL, -- 谷
	source VARCHAR(16) NOT NULL DEFAULT 'auto' CHECK (source IN ('auto', 'manual', 'import', 'estimate')),
	status VARCHAR(16) NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'flagged', 'rejected', 'corrected')),
	flag_reason VARCHAR(64) NOT NULL DEFAULT '', -- rollover, backwards, spike, zero_use ...
	entered_by BIGINT NULL, -- staff_user.id of a manual entry (no FK, see table comment)
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (meter_id, read_at),
	KEY meter_reading_review_ix (status, read_at),
	CONSTRAINT meter_reading_value_chk CHECK (value >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='表计读数. Deliberately no foreign keys: this table will be partitioned by month and MariaDB does not allow FKs on partitioned tables';

-- ---------------------------------------------------------------- staff, roles, audit

CREATE TABLE role (
	code VARCHAR(16) NOT NULL,
	name_zh VARCHAR(32) NOT NULL,
	PRIMARY KEY (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='staff role (管理员, 财务, 抄表员, 客服)';

CREATE TABLE permission (
	code VARCHAR(32) NOT NULL, -- the string named in the route table, e.g. billing.run
	name_zh VARCHAR(64) NOT NULL,
	PRIMARY KEY (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='permission checked by the router on every staff route';

CREATE TABLE role_permission (
	role_code VARCHAR(16) NOT NULL,
	perm_code VARCHAR(32) NOT NULL,
	PRIMARY KEY (role_code, perm_code),
	KEY role_permission_perm_ix (perm_code),
	CONSTRAINT role_permission_role_fk FOREIGN KEY (role_code) REFERENCES role (code),
	CONSTRAINT role_permission_perm_fk FOREIGN KEY (perm_code) REFERENCES permission (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='which role holds which permission';

CREATE TABLE staff_user (
	id BIGINT NOT NULL AUTO_INCREMENT,
	username VARCHAR(64) NOT NULL,
	display_name VARCHAR(64) NOT NULL DEFAULT '',
	password_hash VARCHAR(255) NOT NULL, -- argon2id encoded string
	role_code VARCHAR(16) NOT NULL,
	totp_secret VARCHAR(64) NULL, -- base32 TOTP seed, NULL when 2FA is off
	active TINYINT(1) NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
	must_change_password TINYINT(1) NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1)),
	last_login_at DATETIME(3) NULL,
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	UNIQUE KEY staff_user_username_uq (username),
	CONSTRAINT staff_user_role_fk FOREIGN KEY (role_code) REFERENCES role (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='员工账号 console user';

CREATE TABLE staff_session (
	token_hash CHAR(64) NOT NULL, -- hex SHA-256 of the cookie token, never the token itself
	staff_id BIGINT NOT NULL,
	csrf_token CHAR(64) NOT NULL,
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	expires_at DATETIME(3) NOT NULL, -- sliding: moved forward on each use
	last_seen_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	ip VARCHAR(45) NOT NULL DEFAULT '',
	user_agent VARCHAR(255) NOT NULL DEFAULT '',
	PRIMARY KEY (token_hash),
	KEY staff_session_expires_ix (expires_at),
	KEY staff_session_staff_ix (staff_id),
	CONSTRAINT staff_session_staff_fk FOREIGN KEY (staff_id) REFERENCES staff_user (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='console login session (kept in the DB so any xq-api host can serve it)';

CREATE TABLE login_attempt (
	id BIGINT NOT NULL AUTO_INCREMENT,
	username VARCHAR(64) NOT NULL, -- as typed, the account may not exist
	ip VARCHAR(45) NOT NULL,
	ok TINYINT(1) NOT NULL CHECK (ok IN (0, 1)),
	at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	KEY login_attempt_user_ix (username, at),
	KEY login_attempt_ip_ix (ip, at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='staff login attempts, the base of login throttling';

CREATE TABLE audit_log (
	id BIGINT NOT NULL AUTO_INCREMENT,
	at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	staff_id BIGINT NULL, -- no FK: the log outlives deleted staff accounts
	actor VARCHAR(64) NOT NULL DEFAULT '', -- username or program (xqctl, collector) at the time
	action VARCHAR(32) NOT NULL, -- create, update, delete, login, trip ...
	entity VARCHAR(32) NOT NULL, -- table or object name
	entity_id BIGINT NULL,
	before_json LONGTEXT NULL,
	after_json LONGTEXT NULL,
	ip VARCHAR(45) NOT NULL DEFAULT '',
	request_id VARCHAR(32) NOT NULL DEFAULT '',
	PRIMARY KEY (id),
	KEY audit_log_entity_ix (entity, entity_id),
	KEY audit_log_at_ix (at),
	KEY audit_log_staff_ix (staff_id, at),
	CONSTRAINT audit_log_before_chk CHECK (before_json IS NULL OR JSON_VALID(before_json)),
	CONSTRAINT audit_log_after_chk CHECK (after_json IS NULL OR JSON_VALID(after_json))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='审计日志: one row per staff change to money, meters or master data (append-only)';

-- Remote relay commands need a second person: the collector only executes
-- approved rows, and the requester cannot approve their own command.
CREATE TABLE meter_command (
	id BIGINT NOT NULL AUTO_INCREMENT,
	meter_id BIGINT NOT NULL,
	command VARCHAR(16) NOT NULL CHECK (command IN ('trip', 'close')),
	reason VARCHAR(255) NOT NULL DEFAULT '',
	state VARCHAR(16) NOT NULL DEFAULT 'requested'
		CHECK (state IN ('requested', 'approved', 'rejected', 'sent', 'done', 'failed', 'cancelled')),
	requested_by BIGINT NULL, -- NULL when raised by the system (low balance)
	approved_by BIGINT NULL, -- staff who approved or rejected it
	requested_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	decided_at DATETIME(3) NULL,
	sent_at DATETIME(3) NULL,
	done_at DATETIME(3) NULL,
	collector VARCHAR(64) NOT NULL DEFAULT '', -- collector instance that executed it
	result VARCHAR(255) NOT NULL DEFAULT '', -- meter answer or error text
	PRIMARY KEY (id),
	KEY meter_command_state_ix (state, requested_at),
	KEY meter_command_meter_ix (meter_id, requested_at),
	CONSTRAINT meter_command_meter_fk FOREIGN KEY (meter_id) REFERENCES meter (id),
	CONSTRAINT meter_command_req_fk FOREIGN KEY (requested_by) REFERENCES staff_user (id),
	CONSTRAINT meter_command_appr_fk FOREIGN KEY (approved_by) REFERENCES staff_user (id),
	CONSTRAINT meter_command_4eyes_chk CHECK (approved_by IS NULL OR requested_by IS NULL
						  OR approved_by <> requested_by)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='远程拉闸/合闸 remote trip/close commands with approval';

-- ---------------------------------------------------------------- tariffs

CREATE TABLE tariff (
	id BIGINT NOT NULL AUTO_INCREMENT,
	community_id BIGINT NULL, -- NULL: a regional tariff any community may use
	code VARCHAR(32) NOT NULL, -- e.g. ZJ-RES-1P (浙江 一户一表)
	name VARCHAR(100) NOT NULL,
	utility VARCHAR(16) NOT NULL CHECK (utility IN ('electric', 'water', 'ev')),
	customer_class VARCHAR(16) NOT NULL DEFAULT 'single'
		CHECK (customer_class IN ('single', 'shared', 'commercial')), -- 一户一表 / 合表 / 非居民
	region VARCHAR(32) NOT NULL DEFAULT '', -- province or city the prices come from
	active TINYINT(1) NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
	note VARCHAR(255) NOT NULL DEFAULT '',
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	UNIQUE KEY tariff_code_uq (code),
	UNIQUE KEY tariff_utility_uq (id, utility), -- target of house_tariff's composite FK
	CONSTRAINT tariff_community_fk FOREIGN KEY (community_id) REFERENCES community (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='电价/水价 a named tariff, its prices live in tariff_version';

-- The version in force on day D is the one with the greatest effective_from <= D.
-- Published versions are immutable: bills point at them.
CREATE TABLE tariff_version (
	id BIGINT NOT NULL AUTO_INCREMENT,
	tariff_id BIGINT NOT NULL,
	effective_from DATE NOT NULL, -- first day (Asia/Shanghai) the prices apply
	status VARCHAR(16) NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
	rules LONGTEXT NOT NULL, -- basis, tier bounds, TOU windows, components, late fee (tariff-rules.md 11)
	source_url VARCHAR(255) NOT NULL DEFAULT '', -- where the prices were published
	source_checked_on DATE NULL,
	created_by BIGINT NULL,
	published_at DATETIME(3) NULL,
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	UNIQUE KEY tariff_version_from_uq (tariff_id, effective_from),
	CONSTRAINT tariff_version_tariff_fk FOREIGN KEY (tariff_id) REFERENCES tariff (id),
	CONSTRAINT tariff_version_staff_fk FOREIGN KEY (created_by) REFERENCES staff_user (id),
	CONSTRAINT tariff_version_rules_chk CHECK (JSON_VALID(rules))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='effective-dated prices and rules of a tariff (JSON)';

CREATE TABLE house_tariff (
	id BIGINT NOT NULL AUTO_INCREMENT,
	house_id BIGINT NOT NULL,
	utility VARCHAR(16) NOT NULL CHECK (utility IN ('electric', 'water')),
	tariff_id BIGINT NOT NULL, -- must be a tariff of the same utility (composite FK)
	valid_from DATE NOT NULL,
	valid_to DATE NULL, -- last day, inclusive. NULL: open-ended
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	UNIQUE KEY house_tariff_from_uq (house_id, utility, valid_from),
	KEY house_tariff_tariff_ix (tariff_id, utility),
	CONSTRAINT house_tariff_house_fk FOREIGN KEY (house_id) REFERENCES house (id),
	CONSTRAINT house_tariff_tariff_fk FOREIGN KEY (tariff_id, utility) REFERENCES tariff (id, utility),
	CONSTRAINT house_tariff_dates_chk CHECK (valid_to IS NULL OR valid_to >= valid_from)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='which tariff a house pays, per utility, over which dates';

-- ---------------------------------------------------------------- accounts and bills

-- One account per house. balance_fen is a cache of SUM(ledger_entry.amount_fen),
-- written in the same transaction as each entry (this is the hot row that
-- scale-out.md routes through one node). xqctl audit re-derives it.
CREATE TABLE account (
	id BIGINT NOT NULL AUTO_INCREMENT,
	house_id BIGINT NOT NULL,
	balance_fen BIGINT NOT NULL DEFAULT 0, -- credit available. Negative only in prepaid overdraft
	alarm1_fen BIGINT NOT NULL DEFAULT 2000, -- 报警金额1: first low-balance warning
	alarm2_fen BIGINT NOT NULL DEFAULT 1000, -- 报警金额2: second warning
	overdraft_limit_fen BIGINT NOT NULL DEFAULT 0, -- 透支金额限值, 0 = no overdraft
	hoard_limit_fen BIGINT NULL, -- 囤积金额限值: largest balance accepted, NULL = none
	close_permit_fen BIGINT NOT NULL DEFAULT 0, -- 合闸允许金额: balance needed before closing the relay
	prepaid_state VARCHAR(16) NOT NULL DEFAULT 'normal'
		CHECK (prepaid_state IN ('normal', 'alarm1', 'alarm2', 'overdraft', 'cutoff')),
	late_fee_waived TINYINT(1) NOT NULL DEFAULT 0 CHECK (late_fee_waived IN (0, 1)),
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	UNIQUE KEY account_house_uq (house_id),
	CONSTRAINT account_house_fk FOREIGN KEY (house_id) REFERENCES house (id),
	CONSTRAINT account_limits_chk CHECK (alarm1_fen >= alarm2_fen AND alarm2_fen >= 0
					     AND overdraft_limit_fen >= 0 AND close_permit_fen >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='账户 money account of a house (postpaid credit and prepaid balance)';

CREATE TABLE job (
	id BIGINT NOT NULL AUTO_INCREMENT,
	kind VARCHAR(32) NOT NULL, -- bill, daily, dunning, reconcile ...
	community_id BIGINT NOT NULL DEFAULT 0, -- 0: not per community (no FK for that reason)
	period VARCHAR(10) NOT NULL DEFAULT '', -- YYYY-MM or YYYY-MM-DD, '' if none
	state VARCHAR(16) NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done', 'failed')),
	owner VARCHAR(128) NOT NULL DEFAULT '', -- host:pid that holds the claim
	attempt INT NOT NULL DEFAULT 1, -- bumped when a failed or stale claim is taken over
	progress_done BIGINT NOT NULL DEFAULT 0,
	progress_total BIGINT NOT NULL DEFAULT 0,
	message VARCHAR(255) NOT NULL DEFAULT '', -- last progress line, shown in the console
	error VARCHAR(255) NOT NULL DEFAULT '',
	started_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	heartbeat_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), -- stale after a timeout: may be taken over
	finished_at DATETIME(3) NULL,
	PRIMARY KEY (id),
	UNIQUE KEY job_claim_uq (kind, community_id, period),
	KEY job_state_ix (state, heartbeat_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='job claim row (not GET_LOCK, which Galera does not replicate) with progress';

-- Bills are never deleted. A voided bill keeps its row, so the period's slot in
-- bill_period_uq stays taken: re-billing a voided period reuses the row with
-- revision + 1 and new lines. Later corrections (退补) are adjust lines.
CREATE TABLE bill (
	id BIGINT NOT NULL AUTO_INCREMENT,
	house_id BIGINT NOT NULL,
	period CHAR(7) NOT NULL, -- billing month YYYY-MM (电费年月)
	utility VARCHAR(16) NOT NULL CHECK (utility IN ('electric', 'water')),
	status VARCHAR(16) NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'issued', 'paid', 'void')),
	revision INT NOT NULL DEFAULT 1,
	qty_milli BIGINT NOT NULL DEFAULT 0, -- billed quantity, Wh or L
	ytd_before_milli BIGINT NULL, -- tier-year usage before this bill (annual tiers only)
	amount_fen BIGINT NOT NULL DEFAULT 0, -- sum of the rounded lines, never rounded itself
	paid_fen BIGINT NOT NULL DEFAULT 0, -- cache of -SUM(settle entries) for this bill
	late_fee_fen BIGINT NOT NULL DEFAULT 0, -- late fee charged so far (accrual is computed)
	due_date DATE NULL, -- last day to pay on time. Set on issue
	issued_at DATETIME(3) NULL,
	paid_at DATETIME(3) NULL,
	voided_at DATETIME(3) NULL,
	voided_by BIGINT NULL,
	void_reason VARCHAR(255) NOT NULL DEFAULT '',
	job_id BIGINT NULL, -- billing run that last wrote it
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	UNIQUE KEY bill_period_uq (house_id, period, utility),
	KEY bill_status_due_ix (status, due_date),
	KEY bill_period_ix (period, utility),
	CONSTRAINT bill_house_fk FOREIGN KEY (house_id) REFERENCES house (id),
	CONSTRAINT bill_voided_by_fk FOREIGN KEY (voided_by) REFERENCES staff_user (id),
	CONSTRAINT bill_job_fk FOREIGN KEY (job_id) REFERENCES job (id),
	CONSTRAINT bill_period_chk CHECK (period REGEXP '^[0-9]{4}-(0[1-9]|1[0-2])$'),
	CONSTRAINT bill_money_chk CHECK (paid_fen >= 0 AND late_fee_fen >= 0 AND qty_milli >= 0),
	CONSTRAINT bill_void_chk CHECK ((status = 'void') = (voided_at IS NOT NULL))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='账单 one bill per house, month and utility';

-- The readings a bill used, one row per register, so a resident can redo
-- (curr - prev [+ 10^digits on rollover]) x multiplier by hand.
CREATE TABLE bill_usage (
	id BIGINT NOT NULL AUTO_INCREMENT,
	bill_id BIGINT NOT NULL,
	meter_id BIGINT NOT NULL,
	register VARCHAR(8) NOT NULL DEFAULT 'total'
		CHECK (register IN ('total', 'sharp', 'peak', 'flat', 'valley')),
	prev_read_at DATETIME(3) NOT NULL, -- installed_at when there is no earlier reading
	prev_value BIGINT NOT NULL,
	curr_read_at DATETIME(3) NOT NULL,
	curr_value BIGINT NOT NULL,
	rollover TINYINT(1) NOT NULL DEFAULT 0 CHECK (rollover IN (0, 1)),
	multiplier INT NOT NULL DEFAULT 1,
	qty_milli BIGINT NOT NULL, -- after multiplier and rollover, Wh or L
	PRIMARY KEY (id),
	UNIQUE KEY bill_usage_uq (bill_id, meter_id, register),
	KEY bill_usage_meter_ix (meter_id),
	CONSTRAINT bill_usage_bill_fk FOREIGN KEY (bill_id) REFERENCES bill (id),
	CONSTRAINT bill_usage_meter_fk FOREIGN KEY (meter_id) REFERENCES meter (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='meter readings behind a bill';

CREATE TABLE bill_line (
	id BIGINT NOT NULL AUTO_INCREMENT,
	bill_id BIGINT NOT NULL,
	line_no INT NOT NULL, -- display order inside the bill
	kind VARCHAR(16) NOT NULL CHECK (kind IN ('energy', 'component', 'fixed', 'public_share',
						  'loss_share', 'subsidy', 'late_fee', 'adjust')),
	tier TINYINT NULL, -- 1..n for tiered lines
	tou_window VARCHAR(8) NULL CHECK (tou_window IN ('sharp', 'peak', 'flat', 'valley')),
	component VARCHAR(32) NOT NULL DEFAULT '', -- water fee part: water, sewage, resource ...
	label_zh VARCHAR(128) NOT NULL, -- the text the resident reads, e.g. 第二档 峰时电量
	qty_milli BIGINT NULL, -- Wh or L, NULL for fixed amounts
	unit_price_hao BIGINT NULL,
	amount_fen BIGINT NOT NULL, -- qty x price rounded half-up once, or a fixed amount
	tariff_version_id BIGINT NULL,
	rule_id VARCHAR(32) NOT NULL DEFAULT '', -- RULE: id from docs/billing.md
	seg_from DATE NULL, -- price-change segment this line covers (both ends inclusive)
	seg_to DATE NULL,
	PRIMARY KEY (id),
	UNIQUE KEY bill_line_no_uq (bill_id, line_no),
	KEY bill_line_version_ix (tariff_version_id),
	CONSTRAINT bill_line_bill_fk FOREIGN KEY (bill_id) REFERENCES bill (id),
	CONSTRAINT bill_line_version_fk FOREIGN KEY (tariff_version_id) REFERENCES tariff_version (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='账单明细 one priced line of a bill (tier, window, component, fee)';

-- ---------------------------------------------------------------- WeChat users and orders

CREATE TABLE wx_user (
	id BIGINT NOT NULL AUTO_INCREMENT,
	openid VARCHAR(64) NOT NULL,
	unionid VARCHAR(64) NULL, -- only when the app is bound to an Open Platform account
	session_key VARCHAR(64) NULL, -- from code2session. Secret: never sent to clients or logged
	session_key_at DATETIME(3) NULL,
	nickname VARCHAR(64) NOT NULL DEFAULT '',
	mobile VARCHAR(20) NOT NULL DEFAULT '', -- verified through the phone-number API
	staff_id BIGINT NULL, -- set for meter readers: enables reader mode
	last_login_at DATETIME(3) NULL,
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	UNIQUE KEY wx_user_openid_uq (openid),
	KEY wx_user_unionid_ix (unionid),
	UNIQUE KEY wx_user_staff_uq (staff_id),
	CONSTRAINT wx_user_staff_fk FOREIGN KEY (staff_id) REFERENCES staff_user (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='mini-program user (one openid)';

-- A resident sees only the houses bound here with status active.
CREATE TABLE wx_binding (
	id BIGINT NOT NULL AUTO_INCREMENT,
	wx_user_id BIGINT NOT NULL,
	house_id BIGINT NOT NULL,
	resident_id BIGINT NULL, -- the resident record matched when binding
	relation VARCHAR(16) NOT NULL CHECK (relation IN ('owner', 'tenant', 'family')),
	status VARCHAR(16) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'active', 'revoked')),
	verified_by VARCHAR(16) NOT NULL DEFAULT '', -- mobile, code, staff
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	UNIQUE KEY wx_binding_uq (wx_user_id, house_id),
	KEY wx_binding_house_ix (house_id),
	CONSTRAINT wx_binding_user_fk FOREIGN KEY (wx_user_id) REFERENCES wx_user (id),
	CONSTRAINT wx_binding_house_fk FOREIGN KEY (house_id) REFERENCES house (id),
	CONSTRAINT wx_binding_resident_fk FOREIGN KEY (resident_id) REFERENCES resident (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='绑定房屋 which houses a WeChat user may see and pay for';

CREATE TABLE resident_session (
	token_hash CHAR(64) NOT NULL, -- hex SHA-256 of the bearer token
	wx_user_id BIGINT NOT NULL,
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	expires_at DATETIME(3) NOT NULL,
	last_seen_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	ip VARCHAR(45) NOT NULL DEFAULT '',
	user_agent VARCHAR(255) NOT NULL DEFAULT '',
	PRIMARY KEY (token_hash),
	KEY resident_session_expires_ix (expires_at),
	KEY resident_session_user_ix (wx_user_id),
	CONSTRAINT resident_session_user_fk FOREIGN KEY (wx_user_id) REFERENCES wx_user (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='mini-program session (our token, not the WeChat session_key)';

-- State machine: created -> paid -> refunded, created -> closed. Only the
-- transition to paid credits money, once, keyed by out_trade_no.
CREATE TABLE wx_order (
	id BIGINT NOT NULL AUTO_INCREMENT,
	out_trade_no VARCHAR(32) NOT NULL, -- ours: [0-9A-Za-z_-|*], 6..32 chars
	house_id BIGINT NOT NULL, -- account credited
	wx_user_id BIGINT NOT NULL,
	openid VARCHAR(64) NOT NULL, -- payer openid sent with the order
	purpose VARCHAR(16) NOT NULL CHECK (purpose IN ('bill', 'topup', 'ev')),
	amount_fen BIGINT NOT NULL,
	description VARCHAR(127) NOT NULL, -- shown in WeChat, e.g. 阳光花园-3号楼502-2025年6月电费
	state VARCHAR(16) NOT NULL DEFAULT 'created' CHECK (state IN ('created', 'paid', 'closed', 'refunded')),
	prepay_id VARCHAR(64) NULL,
	prepay_expires_at DATETIME(3) NULL, -- prepay_id lives 2 hours
	time_expire DATETIME(3) NULL, -- last moment the user may pay
	transaction_id VARCHAR(32) NULL, -- WeChat order number, set when paid
	payer_total_fen BIGINT NULL, -- what the payer paid after coupons
	success_time DATETIME(3) NULL,
	closed_at DATETIME(3) NULL,
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	UNIQUE KEY wx_order_otn_uq (out_trade_no),
	UNIQUE KEY wx_order_txn_uq (transaction_id),
	KEY wx_order_state_ix (state, created_at),
	KEY wx_order_house_ix (house_id, created_at),
	CONSTRAINT wx_order_house_fk FOREIGN KEY (house_id) REFERENCES house (id),
	CONSTRAINT wx_order_user_fk FOREIGN KEY (wx_user_id) REFERENCES wx_user (id),
	CONSTRAINT wx_order_amount_chk CHECK (amount_fen > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='微信支付订单 WeChat Pay JSAPI order';

CREATE TABLE wx_order_item (
	wx_order_id BIGINT NOT NULL,
	bill_id BIGINT NOT NULL,
	amount_fen BIGINT NOT NULL, -- part of the order that goes to this bill
	PRIMARY KEY (wx_order_id, bill_id),
	KEY wx_order_item_bill_ix (bill_id),
	CONSTRAINT wx_order_item_order_fk FOREIGN KEY (wx_order_id) REFERENCES wx_order (id),
	CONSTRAINT wx_order_item_bill_fk FOREIGN KEY (bill_id) REFERENCES bill (id),
	CONSTRAINT wx_order_item_amount_chk CHECK (amount_fen > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='bills paid by a purpose=bill order (several bills in one payment)';

-- Every POST to /wxpay/notify is stored before it is believed, so a
-- notification can be replayed and disputes checked.
CREATE TABLE wx_notify_inbox (
	id BIGINT NOT NULL AUTO_INCREMENT,
	received_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	notify_id VARCHAR(64) NOT NULL DEFAULT '', -- body.id, the same on every retry
	event_type VARCHAR(32) NOT NULL DEFAULT '', -- TRANSACTION.SUCCESS, REFUND.SUCCESS ...
	headers LONGTEXT NOT NULL, -- Wechatpay-* headers as a JSON object
	body LONGBLOB NOT NULL, -- raw body bytes (binary: junk must still be stored)
	remote_ip VARCHAR(45) NOT NULL DEFAULT '',
	out_trade_no VARCHAR(32) NULL, -- after decryption
	processed_at DATETIME(3) NULL,
	result VARCHAR(16) NULL CHECK (result IN ('credited', 'duplicate', 'ignored', 'bad_signature', 'error')),
	error VARCHAR(255) NOT NULL DEFAULT '',
	PRIMARY KEY (id),
	KEY wx_notify_inbox_nid_ix (notify_id),
	KEY wx_notify_inbox_otn_ix (out_trade_no),
	KEY wx_notify_inbox_pending_ix (processed_at),
	CONSTRAINT wx_notify_inbox_headers_chk CHECK (JSON_VALID(headers))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='raw WeChat Pay notifications as received';

-- A receipt for money that came in. Channel balance = a bill paid from the
-- account credit (no new money, so no payment ledger entry).
CREATE TABLE payment (
	id BIGINT NOT NULL AUTO_INCREMENT,
	house_id BIGINT NOT NULL,
	channel VARCHAR(16) NOT NULL CHECK (channel IN ('wechat', 'cash', 'bank', 'balance')),
	purpose VARCHAR(16) NOT NULL CHECK (purpose IN ('bill', 'topup', 'ev')),
	amount_fen BIGINT NOT NULL,
	external_ref VARCHAR(64) NULL, -- wechat: out_trade_no. bank: serial. cash: console idempotency key
	wx_order_id BIGINT NULL,
	receipt_no VARCHAR(32) NULL, -- 收据号 printed on the receipt
	status VARCHAR(16) NOT NULL DEFAULT 'success' CHECK (status IN ('success', 'reversed')),
	paid_at DATETIME(3) NOT NULL, -- when the money was received (WeChat success_time)
	recorded_by BIGINT NULL, -- staff for cash and bank
	note VARCHAR(255) NOT NULL DEFAULT '',
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	UNIQUE KEY payment_ref_uq (channel, external_ref),
	UNIQUE KEY payment_order_uq (wx_order_id),
	UNIQUE KEY payment_receipt_uq (receipt_no),
	KEY payment_house_ix (house_id, paid_at),
	KEY payment_paid_at_ix (paid_at),
	CONSTRAINT payment_house_fk FOREIGN KEY (house_id) REFERENCES house (id),
	CONSTRAINT payment_order_fk FOREIGN KEY (wx_order_id) REFERENCES wx_order (id),
	CONSTRAINT payment_staff_fk FOREIGN KEY (recorded_by) REFERENCES staff_user (id),
	CONSTRAINT payment_amount_chk CHECK (amount_fen > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='收款 payment received (WeChat, cash, bank) or paid from balance';

CREATE TABLE refund (
	id BIGINT NOT NULL AUTO_INCREMENT,
	out_refund_no VARCHAR(64) NOT NULL, -- ours, reused on every retry so nothing refunds twice
	payment_id BIGINT NOT NULL,
	house_id BIGINT NOT NULL,
	amount_fen BIGINT NOT NULL,
	reason VARCHAR(80) NOT NULL DEFAULT '', -- shown to the payer by WeChat
	state VARCHAR(16) NOT NULL DEFAULT 'requested'
		CHECK (state IN ('requested', 'rejected', 'processing', 'success', 'closed', 'abnormal')),
	wx_refund_id VARCHAR(32) NULL, -- WeChat refund_id
	user_received_account VARCHAR(64) NOT NULL DEFAULT '',
	requested_by BIGINT NULL,
	approved_by BIGINT NULL,
	success_at DATETIME(3) NULL,
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	UNIQUE KEY refund_no_uq (out_refund_no),
	UNIQUE KEY refund_wx_uq (wx_refund_id),
	KEY refund_payment_ix (payment_id),
	KEY refund_state_ix (state, created_at),
	CONSTRAINT refund_payment_fk FOREIGN KEY (payment_id) REFERENCES payment (id),
	CONSTRAINT refund_house_fk FOREIGN KEY (house_id) REFERENCES house (id),
	CONSTRAINT refund_req_fk FOREIGN KEY (requested_by) REFERENCES staff_user (id),
	CONSTRAINT refund_appr_fk FOREIGN KEY (approved_by) REFERENCES staff_user (id),
	CONSTRAINT refund_amount_chk CHECK (amount_fen > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='退款 refund of a payment';

-- ---------------------------------------------------------------- EV charging

CREATE TABLE ev_pile (
	id BIGINT NOT NULL AUTO_INCREMENT,
	community_id BIGINT NOT NULL,
	pile_no VARCHAR(32) NOT NULL, -- OCPP charge box identity, also printed on the QR code
	name VARCHAR(64) NOT NULL DEFAULT '',
	location VARCHAR(128) NOT NULL DEFAULT '', -- e.g. 地下车库B区
	connectors INT NOT NULL DEFAULT 1,
	max_power_w INT NOT NULL DEFAULT 7000,
	vendor VARCHAR(20) NOT NULL DEFAULT '',
	model VARCHAR(20) NOT NULL DEFAULT '',
	firmware VARCHAR(50) NOT NULL DEFAULT '',
	auth_hash VARCHAR(255) NULL, -- OCPP basic-auth password hash
	tariff_id BIGINT NULL, -- an ev tariff: TOU energy price + service fee
	status VARCHAR(16) NOT NULL DEFAULT 'offline'
		CHECK (status IN ('available', 'charging', 'reserved', 'fault', 'unavailable', 'offline')),
	enabled TINYINT(1) NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
	last_seen_at DATETIME(3) NULL,
	owner_instance VARCHAR(64) NOT NULL DEFAULT '', -- xq-ocpp instance holding the socket
	conn_gen BIGINT NOT NULL DEFAULT 0, -- bumped on each connect. Stale owners lose
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	UNIQUE KEY ev_pile_no_uq (pile_no),
	KEY ev_pile_community_ix (community_id),
	CONSTRAINT ev_pile_community_fk FOREIGN KEY (community_id) REFERENCES community (id),
	CONSTRAINT ev_pile_tariff_fk FOREIGN KEY (tariff_id) REFERENCES tariff (id),
	CONSTRAINT ev_pile_connectors_chk CHECK (connectors BETWEEN 1 AND 16)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='充电桩 EV charging pile';

-- id is the OCPP transactionId: positive, never reused, kept below 2^31.
CREATE TABLE ev_session (
	id BIGINT NOT NULL AUTO_INCREMENT,
	pile_id BIGINT NOT NULL,
	connector_id INT NOT NULL,
	house_id BIGINT NULL, -- account charged, NULL for an unknown card
	wx_user_id BIGINT NULL,
	id_tag VARCHAR(20) NOT NULL, -- card or one-time order tag, upper case
	state VARCHAR(16) NOT NULL DEFAULT 'pending'
		CHECK (state IN ('pending', 'charging', 'finished', 'estimated', 'cancelled', 'failed')),
	start_at DATETIME(3) NULL,
	stop_at DATETIME(3) NULL,
	meter_start_wh BIGINT NULL,
	meter_stop_wh BIGINT NULL,
	energy_wh BIGINT NULL,
	energy_fen BIGINT NULL, -- electricity part at TOU prices
	service_fen BIGINT NULL, -- service fee part
	amount_fen BIGINT NULL, -- energy_fen + service_fen
	hold_fen BIGINT NOT NULL DEFAULT 0, -- prepaid amount held or paid before starting
	pay_mode VARCHAR(16) NOT NULL DEFAULT 'balance' CHECK (pay_mode IN ('balance', 'wechat')),
	wx_order_id BIGINT NULL,
	tariff_version_id BIGINT NULL,
	stop_reason VARCHAR(32) NOT NULL DEFAULT '',
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	UNIQUE KEY ev_session_start_uq (pile_id, connector_id, id_tag, start_at, meter_start_wh),
	KEY ev_session_state_ix (state, pile_id),
	KEY ev_session_house_ix (house_id, created_at),
	CONSTRAINT ev_session_pile_fk FOREIGN KEY (pile_id) REFERENCES ev_pile (id),
	CONSTRAINT ev_session_house_fk FOREIGN KEY (house_id) REFERENCES house (id),
	CONSTRAINT ev_session_user_fk FOREIGN KEY (wx_user_id) REFERENCES wx_user (id),
	CONSTRAINT ev_session_order_fk FOREIGN KEY (wx_order_id) REFERENCES wx_order (id),
	CONSTRAINT ev_session_version_fk FOREIGN KEY (tariff_version_id) REFERENCES tariff_version (id),
	CONSTRAINT ev_session_hold_chk CHECK (hold_fen >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='充电记录 one charging session (OCPP transaction)';

-- ---------------------------------------------------------------- ledger

-- Immutable: rows are only inserted (the app user should have no UPDATE or
-- DELETE on this table). Signs, from the house's point of view:
--   payment +  money received (wechat, cash, bank)
--   settle  -  credit applied to a bill (bill_id, and payment_id of the receipt)
--   reverse +  a settle undone (bill voided after payment)
--   refund  -  money paid back (refund_id)
--   ev      -  a charging session paid from the balance (ev_session_id)
--   adjust  +/- staff correction, always with an audit_log row
-- idem_key names the cause, e.g. pay:<payment_id>, settle:<bill_id>:<payment_id>,
-- so repeating a step (a repeated notification, a re-run) cannot post twice.
CREATE TABLE ledger_entry (
	id BIGINT NOT NULL AUTO_INCREMENT,
	account_id BIGINT NOT NULL,
	kind VARCHAR(16) NOT NULL CHECK (kind IN ('payment', 'settle', 'reverse', 'refund', 'ev', 'adjust')),
	amount_fen BIGINT NOT NULL, -- signed, see above
	idem_key VARCHAR(96) NOT NULL,
	bill_id BIGINT NULL,
	payment_id BIGINT NULL,
	refund_id BIGINT NULL,
	ev_session_id BIGINT NULL,
	staff_id BIGINT NULL,
	note VARCHAR(255) NOT NULL DEFAULT '',
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	UNIQUE KEY ledger_entry_idem_uq (idem_key),
	KEY ledger_entry_account_ix (account_id, id),
	KEY ledger_entry_bill_ix (bill_id),
	KEY ledger_entry_payment_ix (payment_id),
	KEY ledger_entry_created_ix (created_at),
	CONSTRAINT ledger_entry_account_fk FOREIGN KEY (account_id) REFERENCES account (id),
	CONSTRAINT ledger_entry_bill_fk FOREIGN KEY (bill_id) REFERENCES bill (id),
	CONSTRAINT ledger_entry_payment_fk FOREIGN KEY (payment_id) REFERENCES payment (id),
	CONSTRAINT ledger_entry_refund_fk FOREIGN KEY (refund_id) REFERENCES refund (id),
	CONSTRAINT ledger_entry_ev_fk FOREIGN KEY (ev_session_id) REFERENCES ev_session (id),
	CONSTRAINT ledger_entry_staff_fk FOREIGN KEY (staff_id) REFERENCES staff_user (id),
	CONSTRAINT ledger_entry_sign_chk CHECK (
		(kind IN ('payment', 'reverse') AND amount_fen > 0) OR
		(kind IN ('settle', 'refund', 'ev') AND amount_fen < 0) OR
		(kind = 'adjust' AND amount_fen <> 0)),
	CONSTRAINT ledger_entry_refs_chk CHECK (
		(kind <> 'payment' OR payment_id IS NOT NULL) AND
		(kind NOT IN ('settle', 'reverse') OR bill_id IS NOT NULL) AND
		(kind <> 'refund' OR refund_id IS NOT NULL) AND
		(kind <> 'ev' OR ev_session_id IS NOT NULL) AND
		(kind <> 'adjust' OR staff_id IS NOT NULL))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='流水 the one ledger: every movement of money, append-only';

-- ---------------------------------------------------------------- alerts, dunning, notices, tickets

CREATE TABLE alert_rule (
	id BIGINT NOT NULL AUTO_INCREMENT,
	community_id BIGINT NULL, -- NULL: default for every community
	kind VARCHAR(32) NOT NULL, -- same values as alert.kind
	level VARCHAR(16) NOT NULL CHECK (level IN ('info', 'warning', 'critical')),
	params LONGTEXT NOT NULL, -- thresholds, e.g. {"loss_pct_x100": 1000}
	enabled TINYINT(1) NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	KEY alert_rule_kind_ix (kind, community_id),
	CONSTRAINT alert_rule_community_fk FOREIGN KEY (community_id) REFERENCES community (id),
	CONSTRAINT alert_rule_params_chk CHECK (JSON_VALID(params))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='告警规则 alert thresholds and levels';

CREATE TABLE alert (
	id BIGINT NOT NULL AUTO_INCREMENT,
	community_id BIGINT NOT NULL,
	kind VARCHAR(32) NOT NULL CHECK (kind IN ('usage_spike', 'zero_use', 'reading_flagged',
		'meter_offline', 'tamper', 'line_loss', 'low_balance', 'ev_fault')),
	level VARCHAR(16) NOT NULL CHECK (level IN ('info', 'warning', 'critical')),
	meter_id BIGINT NULL,
	house_id BIGINT NULL,
	ev_pile_id BIGINT NULL,
	message VARCHAR(255) NOT NULL, -- Chinese, for staff
	detail LONGTEXT NULL, -- JSON facts behind the alert (values, threshold)
	dedup_key VARCHAR(96) NOT NULL, -- e.g. line_loss:<meter>:2025-06-01, so re-runs raise it once
	status VARCHAR(16) NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acked', 'closed')),
	raised_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	acked_by BIGINT NULL,
	acked_at DATETIME(3) NULL,
	closed_at DATETIME(3) NULL,
	PRIMARY KEY (id),
	UNIQUE KEY alert_dedup_uq (dedup_key),
	KEY alert_open_ix (community_id, status, raised_at),
	KEY alert_meter_ix (meter_id),
	CONSTRAINT alert_community_fk FOREIGN KEY (community_id) REFERENCES community (id),
	CONSTRAINT alert_meter_fk FOREIGN KEY (meter_id) REFERENCES meter (id),
	CONSTRAINT alert_house_fk FOREIGN KEY (house_id) REFERENCES house (id),
	CONSTRAINT alert_pile_fk FOREIGN KEY (ev_pile_id) REFERENCES ev_pile (id),
	CONSTRAINT alert_staff_fk FOREIGN KEY (acked_by) REFERENCES staff_user (id),
	CONSTRAINT alert_detail_chk CHECK (detail IS NULL OR JSON_VALID(detail))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='告警 raised alert (abnormal usage, offline meter, tamper, line loss, low balance)';

CREATE TABLE dunning_event (
	id BIGINT NOT NULL AUTO_INCREMENT,
	bill_id BIGINT NOT NULL,
	house_id BIGINT NOT NULL,
	step INT NOT NULL, -- escalation step, 1 = first reminder
	channel VARCHAR(24) NOT NULL
		CHECK (channel IN ('wx_subscribe', 'sms', 'letter', 'call', 'disconnect_notice')),
	recipient VARCHAR(64) NOT NULL DEFAULT '', -- openid or mobile, '' for letters
	status VARCHAR(16) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
	scheduled_for DATE NOT NULL,
	sent_at DATETIME(3) NULL,
	error VARCHAR(255) NOT NULL DEFAULT '',
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	UNIQUE KEY dunning_event_uq (bill_id, step, channel, recipient),
	KEY dunning_event_pending_ix (status, scheduled_for),
	KEY dunning_event_house_ix (house_id),
	CONSTRAINT dunning_event_bill_fk FOREIGN KEY (bill_id) REFERENCES bill (id),
	CONSTRAINT dunning_event_house_fk FOREIGN KEY (house_id) REFERENCES house (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='催缴 one reminder or notice sent (or due) for an unpaid bill';

CREATE TABLE notice (
	id BIGINT NOT NULL AUTO_INCREMENT,
	community_id BIGINT NULL, -- NULL: every community
	title VARCHAR(100) NOT NULL,
	body MEDIUMTEXT NOT NULL,
	status VARCHAR(16) NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'withdrawn')),
	pinned TINYINT(1) NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),
	publish_at DATETIME(3) NULL,
	expire_at DATETIME(3) NULL,
	created_by BIGINT NULL,
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	KEY notice_list_ix (community_id, status, publish_at),
	CONSTRAINT notice_community_fk FOREIGN KEY (community_id) REFERENCES community (id),
	CONSTRAINT notice_staff_fk FOREIGN KEY (created_by) REFERENCES staff_user (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='公告 notice shown in the mini-program';

CREATE TABLE ticket (
	id BIGINT NOT NULL AUTO_INCREMENT,
	community_id BIGINT NOT NULL,
	house_id BIGINT NULL,
	wx_user_id BIGINT NULL, -- resident who opened it, NULL when staff opened it
	ev_pile_id BIGINT NULL,
	kind VARCHAR(16) NOT NULL CHECK (kind IN ('feedback', 'repair', 'complaint', 'billing', 'ev_fault')),
	title VARCHAR(100) NOT NULL,
	content MEDIUMTEXT NOT NULL,
	contact_mobile VARCHAR(20) NOT NULL DEFAULT '',
	status VARCHAR(16) NOT NULL DEFAULT 'open'
		CHECK (status IN ('open', 'assigned', 'in_progress', 'resolved', 'closed')),
	assigned_to BIGINT NULL,
	resolution MEDIUMTEXT NULL,
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
	closed_at DATETIME(3) NULL,
	PRIMARY KEY (id),
	KEY ticket_queue_ix (community_id, status, created_at),
	KEY ticket_user_ix (wx_user_id),
	CONSTRAINT ticket_community_fk FOREIGN KEY (community_id) REFERENCES community (id),
	CONSTRAINT ticket_house_fk FOREIGN KEY (house_id) REFERENCES house (id),
	CONSTRAINT ticket_user_fk FOREIGN KEY (wx_user_id) REFERENCES wx_user (id),
	CONSTRAINT ticket_pile_fk FOREIGN KEY (ev_pile_id) REFERENCES ev_pile (id),
	CONSTRAINT ticket_staff_fk FOREIGN KEY (assigned_to) REFERENCES staff_user (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='工单 feedback or repair request';

-- ---------------------------------------------------------------- seed: roles and permissions

INSERT INTO role (code, name_zh) VALUES
	('admin', '管理员'),
	('finance', '财务'),
	('reader', '抄表员'),
	('service', '客服');

INSERT INTO permission (code, name_zh) VALUES
	('estate.read', '查看小区档案'),
	('estate.edit', '编辑小区档案'),
	('resident.edit', '编辑住户'),
	('meter.edit', '管理表计'),
	('reading.read', '查看抄表数据'),
	('reading.entry', '录入抄表数据'),
	('reading.review', '审核抄表数据'),
	('tariff.edit', '设置价格'),
	('billing.run', '执行计费'),
	('payment.read', '查看收费记录'),
	('payment.record', '登记收款'),
	('refund', '办理退款'),
	('report.read', '查看报表'),
	('audit.read', '查看审计日志'),
	('staff.admin', '管理员工账号'),
	('ticket.handle', '处理工单'),
	('notice.edit', '发布公告'),
	('alert.handle', '处理告警');

INSERT INTO role_permission (role_code, perm_code) SELECT 'admin', code FROM permission;

INSERT INTO role_permission (role_code, perm_code) VALUES
	('finance', 'estate.read'),
	('finance', 'reading.read'),
	('finance', 'billing.run'),
	('finance', 'payment.read'),
	('finance', 'payment.record'),
	('finance', 'refund'),
	('finance', 'report.read'),
	('finance', 'audit.read'),
	('finance', 'tariff.edit'),
	('reader', 'estate.read'),
	('reader', 'reading.read'),
	('reader', 'reading.entry'),
	('service', 'estate.read'),
	('service', 'resident.edit'),
	('service', 'reading.read'),
	('service', 'payment.read'),
	('service', 'ticket.handle'),
	('service', 'notice.edit'),
	('service', 'alert.handle');
