-- SQLite has one writer at a time, so there is nothing to skip: this one
-- statement holds the write lock while it picks the ready jobs (from the
-- partial index, already in claim order) and marks them running. Concurrent
-- claimers wait for the lock (busy_timeout) and then see these jobs running.
-- Its WHERE repeats the index's, so jobs waiting on a dependency are never
-- read.
UPDATE hammerwork_jobs
SET status = 'running',
    attempts = attempts + 1,
    claims = claims + 1,
    started_at = ?2,
    lease_expires_at = ?4
WHERE id IN (
    SELECT id
    FROM hammerwork_jobs
    WHERE queue_name = ?1
      AND status IN ('pending', 'retrying')
      AND dependency_status IN ('none', 'satisfied')
      AND scheduled_at <= ?2
      AND NOT EXISTS (
          SELECT 1 FROM hammerwork_queues
          WHERE name = ?1 AND paused_at IS NOT NULL
      )
    ORDER BY priority DESC, scheduled_at ASC
    LIMIT ?3
)
RETURNING *
