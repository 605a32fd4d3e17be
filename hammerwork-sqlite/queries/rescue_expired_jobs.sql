-- One statement under the write lock: concurrent rescuers run one after the
-- other, and the second finds these jobs no longer running.
UPDATE hammerwork_jobs
SET status = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'pending' END,
    scheduled_at = ?1,
    error_message = 'lease expired: the worker stopped heartbeating',
    failed_at = ?1,
    lease_expires_at = NULL
WHERE id IN (
    SELECT id
    FROM hammerwork_jobs
    WHERE status = 'running' AND lease_expires_at < ?1
    ORDER BY lease_expires_at
    LIMIT ?2
)
RETURNING id, status, workflow_id
