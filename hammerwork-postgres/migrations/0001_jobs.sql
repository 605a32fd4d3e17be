-- The jobs table. Statuses are stored as text for readability in psql.
CREATE TABLE hammerwork_jobs (
    id               UUID        PRIMARY KEY,
    queue_name       TEXT        NOT NULL,
    payload          JSONB       NOT NULL,
    status           TEXT        NOT NULL,
    priority         SMALLINT    NOT NULL,
    attempts         INTEGER     NOT NULL DEFAULT 0,
    max_attempts     INTEGER     NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    scheduled_at     TIMESTAMPTZ NOT NULL,
    started_at       TIMESTAMPTZ,
    completed_at     TIMESTAMPTZ,
    failed_at        TIMESTAMPTZ,
    lease_expires_at TIMESTAMPTZ,
    timeout_ms       BIGINT,
    error_message    TEXT,
    result           JSONB,
    retry_policy     JSONB,
    trace_id         TEXT,
    correlation_id   TEXT
);

-- Claims read only this partial index: its size is the number of claimable
-- jobs, whatever the number of finished ones.
CREATE INDEX hammerwork_jobs_ready
    ON hammerwork_jobs (queue_name, priority DESC, scheduled_at)
    WHERE status IN ('pending', 'retrying');

-- The rescuer reads only running jobs.
CREATE INDEX hammerwork_jobs_lease
    ON hammerwork_jobs (lease_expires_at)
    WHERE status = 'running';

-- Listing and counting by queue and status.
CREATE INDEX hammerwork_jobs_queue_status
    ON hammerwork_jobs (queue_name, status, id);
