-- Cancels every unfinished job of these workflows (?1: a JSON array of ids);
-- returns their ids, whose dependents the caller then cancels.
UPDATE hammerwork_jobs
SET status = 'cancelled',
    error_message = ?2,
    completed_at = ?3,
    lease_expires_at = NULL
WHERE workflow_id IN (SELECT value FROM json_each(?1))
  AND status IN ('pending', 'retrying', 'running')
RETURNING id
