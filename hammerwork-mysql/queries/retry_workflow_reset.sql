-- Failed and cancelled jobs of the workflow start over.
-- Params: now, workflow id.
UPDATE hammerwork_jobs
SET status = 'pending',
    attempts = 0,
    error_message = NULL,
    failed_at = NULL,
    completed_at = NULL,
    lease_expires_at = NULL,
    scheduled_at = ?
WHERE workflow_id = ? AND status IN ('dead', 'cancelled')
