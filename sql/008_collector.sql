-- 008_collector.sql - collector area: meter_reading partitioned by month,
-- and the permission for remote trip/close commands (docs/collector.md).
-- Same conventions as 001: no semicolon inside comments or strings.

-- Monthly RANGE COLUMNS partitions on read_at (UTC months: the partition key
-- is the stored column, and a month boundary only decides which file a row
-- lives in, never what it means). The primary key (meter_id, read_at)
-- contains the partition column, as MariaDB requires, and the table has no
-- foreign keys (001 left them out for this). p_old holds anything older
-- than 2024 (the demo loads at most 24 months back), p_max anything beyond
-- the last month: `xqctl partitions` (run by deploy/stack.sh start, and
-- meant for a daily cron) splits new months off p_max with REORGANIZE
-- PARTITION, so p_max stays empty and the split is instant.
ALTER TABLE meter_reading PARTITION BY RANGE COLUMNS (read_at) (
	PARTITION p_old VALUES LESS THAN ('2024-01-01'),
	PARTITION p202401 VALUES LESS THAN ('2024-02-01'),
	PARTITION p202402 VALUES LESS THAN ('2024-03-01'),
	PARTITION p202403 VALUES LESS THAN ('2024-04-01'),
	PARTITION p202404 VALUES LESS THAN ('2024-05-01'),
	PARTITION p202405 VALUES LESS THAN ('2024-06-01'),
	PARTITION p202406 VALUES LESS THAN ('2024-07-01'),
	PARTITION p202407 VALUES LESS THAN ('2024-08-01'),
	PARTITION p202408 VALUES LESS THAN ('2024-09-01'),
	PARTITION p202409 VALUES LESS THAN ('2024-10-01'),
	PARTITION p202410 VALUES LESS THAN ('2024-11-01'),
	PARTITION p202411 VALUES LESS THAN ('2024-12-01'),
	PARTITION p202412 VALUES LESS THAN ('2025-01-01'),
	PARTITION p202501 VALUES LESS THAN ('2025-02-01'),
	PARTITION p202502 VALUES LESS THAN ('2025-03-01'),
	PARTITION p202503 VALUES LESS THAN ('2025-04-01'),
	PARTITION p202504 VALUES LESS THAN ('2025-05-01'),
	PARTITION p202505 VALUES LESS THAN ('2025-06-01'),
	PARTITION p202506 VALUES LESS THAN ('2025-07-01'),
	PARTITION p202507 VALUES LESS THAN ('2025-08-01'),
	PARTITION p202508 VALUES LESS THAN ('2025-09-01'),
	PARTITION p202509 VALUES LESS THAN ('2025-10-01'),
	PARTITION p202510 VALUES LESS THAN ('2025-11-01'),
	PARTITION p202511 VALUES LESS THAN ('2025-12-01'),
	PARTITION p202512 VALUES LESS THAN ('2026-01-01'),
	PARTITION p202601 VALUES LESS THAN ('2026-02-01'),
	PARTITION p202602 VALUES LESS THAN ('2026-03-01'),
	PARTITION p202603 VALUES LESS THAN ('2026-04-01'),
	PARTITION p202604 VALUES LESS THAN ('2026-05-01'),
	PARTITION p202605 VALUES LESS THAN ('2026-06-01'),
	PARTITION p202606 VALUES LESS THAN ('2026-07-01'),
	PARTITION p202607 VALUES LESS THAN ('2026-08-01'),
	PARTITION p202608 VALUES LESS THAN ('2026-09-01'),
	PARTITION p202609 VALUES LESS THAN ('2026-10-01'),
	PARTITION p202610 VALUES LESS THAN ('2026-11-01'),
	PARTITION p202611 VALUES LESS THAN ('2026-12-01'),
	PARTITION p202612 VALUES LESS THAN ('2027-01-01'),
	PARTITION p202701 VALUES LESS THAN ('2027-02-01'),
	PARTITION p202702 VALUES LESS THAN ('2027-03-01'),
	PARTITION p202703 VALUES LESS THAN ('2027-04-01'),
	PARTITION p202704 VALUES LESS THAN ('2027-05-01'),
	PARTITION p202705 VALUES LESS THAN ('2027-06-01'),
	PARTITION p202706 VALUES LESS THAN ('2027-07-01'),
	PARTITION p202707 VALUES LESS THAN ('2027-08-01'),
	PARTITION p202708 VALUES LESS THAN ('2027-09-01'),
	PARTITION p202709 VALUES LESS THAN ('2027-10-01'),
	PARTITION p202710 VALUES LESS THAN ('2027-11-01'),
	PARTITION p202711 VALUES LESS THAN ('2027-12-01'),
	PARTITION p202712 VALUES LESS THAN ('2028-01-01'),
	PARTITION p_max VALUES LESS THAN (MAXVALUE)
);

-- Remote trip/close (meter_command): requesting and approving need this
-- permission, and the approver must be another staff user (the table's
-- four-eyes CHECK).
INSERT INTO permission (code, name_zh) VALUES ('meter.command', '远程拉合闸');
INSERT INTO role_permission (role_code, perm_code) VALUES ('admin', 'meter.command');

-- Quiet time on the bus after a reply or timeout before the next request,
-- per gateway port (meter-protocols.md 6.1: 50..100 ms for DL/T 645 buses,
-- 3.5 characters for Modbus RTU, 60 ms for SDM630-class meters). NULL: the
-- collector's collector.gap_ms.
ALTER TABLE gateway ADD COLUMN gap_ms INT NULL AFTER timeout_ms,
	ADD CONSTRAINT gateway_gap_chk CHECK (gap_ms IS NULL OR gap_ms BETWEEN 0 AND 10000);
