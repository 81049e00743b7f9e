-- 013_readings.sql - readings area: what readers and reviewers need beyond
-- 001 (docs/readings.md). Same conventions as 001: no semicolon inside
-- comments or strings.

-- Which communities (or single buildings) a meter reader walks. The route
-- of a reader is the manual meters of these. building_id NULL: the whole
-- community.
CREATE TABLE reader_assignment (
	id BIGINT NOT NULL AUTO_INCREMENT,
	staff_user_id BIGINT NOT NULL,
	community_id BIGINT NOT NULL,
	building_id BIGINT NULL,
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	KEY reader_assignment_staff_ix (staff_user_id),
	KEY reader_assignment_community_ix (community_id),
	CONSTRAINT reader_assignment_staff_fk FOREIGN KEY (staff_user_id) REFERENCES staff_user (id),
	CONSTRAINT reader_assignment_community_fk FOREIGN KEY (community_id) REFERENCES community (id),
	CONSTRAINT reader_assignment_building_fk FOREIGN KEY (building_id) REFERENCES building (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='抄表员负责范围 the communities or buildings a reader reads';

-- The offline queue of the mini-program sends each entry with an id the
-- client made. The first sync stores the reading and this row in one
-- transaction, a repeat finds the row and answers the stored result, so a
-- batch synced twice stores every reading once.
CREATE TABLE reader_sync (
	staff_user_id BIGINT NOT NULL,
	client_id VARCHAR(64) NOT NULL,
	meter_id BIGINT NOT NULL,
	read_at DATETIME(3) NOT NULL,
	result LONGTEXT NOT NULL, -- the per-entry answer given the first time (JSON)
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (staff_user_id, client_id),
	CONSTRAINT reader_sync_result_chk CHECK (JSON_VALID(result))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='抄表同步幂等 idempotency of the reader offline queue';

-- A photo of the dial taken with a reading (reader mode). The file is
-- readings.photo_dir/<sha256>.<ext>, so the same picture is stored once.
CREATE TABLE reading_photo (
	meter_id BIGINT NOT NULL,
	read_at DATETIME(3) NOT NULL,
	sha256 CHAR(64) NOT NULL,
	mime VARCHAR(16) NOT NULL CHECK (mime IN ('image/jpeg', 'image/png')),
	bytes INT NOT NULL,
	staff_user_id BIGINT NULL,
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (meter_id, read_at, sha256)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='抄表照片 photo of a meter dial linked to a reading (no FK: meter_reading is partitioned)';

-- Reviewing flagged readings: admin has every permission already, service
-- (客服) reviews too. Readers only enter.
INSERT INTO role_permission (role_code, perm_code) VALUES ('service', 'reading.review');
