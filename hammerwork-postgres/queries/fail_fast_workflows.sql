-- FailFast: cancel every unfinished job of these workflows.
UPDATE hammerwork_jobs
SET status = 'cancelled',
    error_message = $2,
    completed_at = $3,
    lease_expires_at = NULL
WHERE workflow_id = ANY($1::uuid[]) AND status IN ('pending', 'retrying', 'running')
RETURNING id
