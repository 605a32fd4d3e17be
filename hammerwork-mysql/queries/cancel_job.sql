-- Params: now, id.
UPDATE hammerwork_jobs
SET status = 'cancelled',
    error_message = 'cancelled',
    completed_at = ?,
    lease_expires_at = NULL
WHERE id = ? AND status IN ('pending', 'retrying', 'running')
