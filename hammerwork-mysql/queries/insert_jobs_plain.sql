-- The head of the bulk insert of jobs without dependencies, workflow,
-- condition, cron schedule or spawn parent (the common case: fewer
-- parameters, column defaults for the rest); insert_jobs_plain_row.sql is
-- repeated once per job after it.
INSERT INTO hammerwork_jobs (
    id, queue_name, payload, status, priority, attempts, max_attempts,
    created_at, scheduled_at, timeout_ms, retry_policy, trace_id, correlation_id
) VALUES
