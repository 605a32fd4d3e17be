UPDATE hammerwork_jobs
SET status = 'cancelled',
    error_message = 'cancelled',
    completed_at = ?2,
    lease_expires_at = NULL
WHERE id = ?1 AND status IN ('pending', 'retrying', 'running')
RETURNING id, status, workflow_id
