-- 004_residents.sql - what the mini-program residents need beyond 001:
-- binding codes issued by staff and the binding attempts that throttle
-- guessing (docs/payments.md). Same conventions as 001: no semicolon inside
-- comments or strings, enumerations as CHECK.

-- A short code staff hand a resident (printed or read out) to bind one house.
-- Only the SHA-256 of the code is stored. Single use, expires.
CREATE TABLE binding_code (
	id BIGINT NOT NULL AUTO_INCREMENT,
	code_hash CHAR(64) NOT NULL, -- hex SHA-256 of the code as typed (upper case)
	house_id BIGINT NOT NULL,
	relation VARCHAR(16) NOT NULL DEFAULT 'owner' CHECK (relation IN ('owner', 'tenant', 'family')),
	expires_at DATETIME(3) NOT NULL,
	used_at DATETIME(3) NULL,
	used_by BIGINT NULL, -- wx_user that consumed it
	created_by BIGINT NULL, -- staff
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	UNIQUE KEY binding_code_hash_uq (code_hash),
	KEY binding_code_house_ix (house_id),
	CONSTRAINT binding_code_house_fk FOREIGN KEY (house_id) REFERENCES house (id),
	CONSTRAINT binding_code_user_fk FOREIGN KEY (used_by) REFERENCES wx_user (id),
	CONSTRAINT binding_code_staff_fk FOREIGN KEY (created_by) REFERENCES staff_user (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='绑定码 one-time code that binds a WeChat user to a house';

-- Every POST /api/v1/bindings, the base of binding throttling (like login_attempt).
CREATE TABLE binding_attempt (
	id BIGINT NOT NULL AUTO_INCREMENT,
	wx_user_id BIGINT NOT NULL,
	ok TINYINT(1) NOT NULL CHECK (ok IN (0, 1)),
	at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	KEY binding_attempt_user_ix (wx_user_id, at),
	CONSTRAINT binding_attempt_user_fk FOREIGN KEY (wx_user_id) REFERENCES wx_user (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='resident binding attempts, the base of binding throttling';
