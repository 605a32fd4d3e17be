WITH ready AS (
    SELECT id
    FROM hammerwork_jobs
    WHERE queue_name = $1
      AND status IN ('pending', 'retrying')
      AND dependency_status IN ('none', 'satisfied')
      AND scheduled_at <= $2
      -- A one-time check of the queue's row (it does not depend on the job).
      AND NOT EXISTS (
          SELECT 1 FROM hammerwork_queues
          WHERE name = $1 AND paused_at IS NOT NULL
      )
    ORDER BY priority DESC, scheduled_at ASC
    LIMIT $3
    FOR UPDATE SKIP LOCKED
)
UPDATE hammerwork_jobs AS j
SET status = 'running',
    attempts = j.attempts + 1,
    claims = j.claims + 1,
    started_at = $2,
    lease_expires_at = $4
FROM ready
WHERE j.id = ready.id
RETURNING j.*
