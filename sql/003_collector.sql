-- 003_collector.sql - what xq-collector needs beyond 001/002 (docs/collector.md).
-- Same conventions as 001: no semicolon inside comments or strings,
-- enumerations as CHECK.

-- A serial-to-TCP gateway port: one RS-485 (or M-Bus) segment with meters of
-- one protocol at one line speed. The collector holds one TCP connection per
-- row and sends one request at a time over it. shard picks the collector
-- process that owns the port (collector.shard), so ports can be split
-- between several collectors without two of them talking on one bus.
CREATE TABLE gateway (
	id BIGINT NOT NULL AUTO_INCREMENT,
	community_id BIGINT NOT NULL,
	name VARCHAR(64) NOT NULL DEFAULT '', -- e.g. 3号楼 electric
	host VARCHAR(64) NOT NULL,
	port INT NOT NULL,
	protocol VARCHAR(16) NOT NULL CHECK (protocol IN ('dlt645', 'cjt188', 'modbus-rtu')),
	baud INT NOT NULL DEFAULT 2400, -- the gateway's serial speed, for timeouts and pacing
	timeout_ms INT NOT NULL DEFAULT 2000, -- reply timeout per request (meter-protocols.md 6.1)
	shard INT NOT NULL DEFAULT 0,
	enabled TINYINT(1) NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	UNIQUE KEY gateway_endpoint_uq (host, port),
	KEY gateway_shard_ix (shard, enabled),
	CONSTRAINT gateway_community_fk FOREIGN KEY (community_id) REFERENCES community (id),
	CONSTRAINT gateway_port_chk CHECK (port BETWEEN 1 AND 65535),
	CONSTRAINT gateway_baud_chk CHECK (baud BETWEEN 300 AND 115200),
	CONSTRAINT gateway_timeout_chk CHECK (timeout_ms BETWEEN 50 AND 60000)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='采集网关 serial-to-TCP gateway port polled by xq-collector';

-- The bus a smart meter hangs on. NULL: not polled automatically.
ALTER TABLE meter ADD COLUMN gateway_id BIGINT NULL AFTER address,
	ADD KEY meter_gateway_ix (gateway_id),
	ADD CONSTRAINT meter_gateway_fk FOREIGN KEY (gateway_id) REFERENCES gateway (id);
