-- Failed and cancelled jobs of the workflow start over.
UPDATE hammerwork_jobs
SET status = 'pending',
    attempts = 0,
    error_message = NULL,
    failed_at = NULL,
    completed_at = NULL,
    lease_expires_at = NULL,
    scheduled_at = ?2
WHERE workflow_id = ?1 AND status IN ('dead', 'cancelled')
RETURNING id, queue_name
