-- ?1: a JSON array of {"id", "attempt", "error", "retry_at"}; retry_at is in
-- microseconds since the epoch, absent for a permanent failure.
UPDATE hammerwork_jobs AS j
SET status = CASE
        WHEN t.retry_at IS NULL OR j.attempts >= j.max_attempts THEN 'dead'
        ELSE 'retrying'
    END,
    scheduled_at = COALESCE(t.retry_at, j.scheduled_at),
    error_message = t.error,
    failed_at = ?2,
    lease_expires_at = NULL
FROM (
    SELECT value ->> '$.id' AS id,
           value ->> '$.attempt' AS attempt,
           value ->> '$.error' AS error,
           value ->> '$.retry_at' AS retry_at
    FROM json_each(?1)
) AS t
WHERE j.id = t.id AND j.attempts = t.attempt AND j.status = 'running'
RETURNING id, status, workflow_id
