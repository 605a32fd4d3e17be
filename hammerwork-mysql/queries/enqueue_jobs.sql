-- The head of the bulk insert; enqueue_jobs_row.sql is repeated once per job
-- after it (see MySqlStorage::enqueue_jobs_in for the chunk sizes).
INSERT INTO hammerwork_jobs (
    id, queue_name, payload, status, priority, attempts, max_attempts,
    created_at, scheduled_at, timeout_ms, retry_policy, trace_id, correlation_id
) VALUES
