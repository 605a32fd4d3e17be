-- Jobs found by reset_workflow_jobs_targets.sql (?1: a JSON array of ids)
-- start over at ?2 with no attempt made.
UPDATE hammerwork_jobs
SET status = 'pending',
    attempts = 0,
    error_message = NULL,
    failed_at = NULL,
    completed_at = NULL,
    lease_expires_at = NULL,
    scheduled_at = ?2
WHERE id IN (SELECT value FROM json_each(?1)) AND status IN ('dead', 'cancelled')
