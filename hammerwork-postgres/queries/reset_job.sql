-- Job $1 starts over at $2 with no attempt made, if it is dead or cancelled,
-- outside any workflow, and its dependencies (if any) all completed; its row
-- is locked (and the conditions checked again once it is).
WITH target AS (
    SELECT id, status FROM hammerwork_jobs
    WHERE id = $1
      AND status IN ('dead', 'cancelled')
      AND workflow_id IS NULL
      AND dependency_status IN ('none', 'satisfied')
    FOR UPDATE
)
UPDATE hammerwork_jobs AS j
SET status = 'pending',
    attempts = 0,
    error_message = NULL,
    failed_at = NULL,
    completed_at = NULL,
    lease_expires_at = NULL,
    scheduled_at = $2
FROM target
WHERE j.id = target.id
RETURNING j.id, j.queue_name, j.workflow_id, target.status AS previous
