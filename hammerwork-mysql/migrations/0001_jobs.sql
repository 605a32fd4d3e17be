-- The jobs table. MySQL commits DDL as it goes, so this migration is written
-- to be re-runnable: CREATE TABLE IF NOT EXISTS with its indexes inline.
--
-- Types: ids are UUIDv7 as BINARY(16) (byte order is time order); timestamps
-- are DATETIME(6) holding UTC (no session time zone applies to DATETIME);
-- queue names are VARBINARY so they compare byte for byte, like PostgreSQL's
-- text (a _bin collation would still ignore trailing spaces); JSON columns are
-- native JSON on MySQL and LONGTEXT checked by JSON_VALID on MariaDB.
CREATE TABLE IF NOT EXISTS hammerwork_jobs (
    id               BINARY(16)     NOT NULL,
    queue_name       VARBINARY(255) NOT NULL,
    payload          JSON           NOT NULL,
    status           VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    priority         SMALLINT       NOT NULL,
    attempts         INT            NOT NULL DEFAULT 0,
    max_attempts     INT            NOT NULL,
    created_at       DATETIME(6)    NOT NULL,
    scheduled_at     DATETIME(6)    NOT NULL,
    started_at       DATETIME(6)    NULL,
    completed_at     DATETIME(6)    NULL,
    failed_at        DATETIME(6)    NULL,
    lease_expires_at DATETIME(6)    NULL,
    timeout_ms       BIGINT         NULL,
    error_message    LONGTEXT       NULL,
    result           JSON           NULL,
    retry_policy     JSON           NULL,
    trace_id         TEXT           NULL,
    correlation_id   TEXT           NULL,
    -- MySQL has no partial index. These two columns stand in for PostgreSQL's
    -- `(queue_name, priority DESC, scheduled_at) WHERE status IN ('pending',
    -- 'retrying')`: ready_queue is NULL once a job cannot be claimed, so
    -- finished jobs sit apart from the claimable ones, and ascending
    -- neg_priority lets one ascending index serve `priority DESC, scheduled_at
    -- ASC` (MariaDB before 10.8 ignores DESC in index definitions).
    ready_queue      VARBINARY(255) GENERATED ALWAYS AS (
                         CASE WHEN status IN ('pending', 'retrying') THEN queue_name END
                     ) STORED,
    neg_priority     SMALLINT GENERATED ALWAYS AS (-priority) STORED,
    PRIMARY KEY (id),
    -- Claims walk this index in claim order and stop after `limit` rows.
    INDEX hammerwork_jobs_ready (ready_queue, neg_priority, scheduled_at),
    -- The rescuer reads only running jobs, oldest lease first.
    INDEX hammerwork_jobs_lease (status, lease_expires_at),
    -- Listing and counting by queue and status.
    INDEX hammerwork_jobs_queue_status (queue_name, status, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
