WITH expired AS (
    SELECT id
    FROM hammerwork_jobs
    WHERE lease_expires_at < $1 AND status = 'running'
    ORDER BY lease_expires_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE hammerwork_jobs AS j
SET status = CASE WHEN j.attempts >= j.max_attempts THEN 'dead' ELSE 'pending' END,
    scheduled_at = $1,
    error_message = 'lease expired: the worker stopped heartbeating',
    failed_at = $1,
    lease_expires_at = NULL
FROM expired
WHERE j.id = expired.id
RETURNING j.id, j.status, j.workflow_id
