-- Locks up to `limit` ready jobs of a queue, in claim order (priority first,
-- then earliest scheduled_at), skipping rows other claimers hold.
-- ready_queue is the queue name while a job is pending or retrying and not
-- waiting on a dependency, and NULL otherwise, so this walks hammerwork_jobs_ready from the front and stops
-- after `limit` rows: no filesort, which under FOR UPDATE would lock every
-- ready row and serialise claimers.
-- A paused queue (a row of hammerwork_queues, read by key and not locked:
-- FOR UPDATE does not reach a subquery) gives nothing.
-- Params: queue, now, queue, limit.
SELECT *
FROM hammerwork_jobs FORCE INDEX (hammerwork_jobs_ready)
WHERE ready_queue = ?
  AND scheduled_at <= ?
  AND NOT EXISTS (
      SELECT 1 FROM hammerwork_queues
      WHERE name = ? AND paused_at IS NOT NULL
  )
ORDER BY neg_priority, scheduled_at
LIMIT ?
FOR UPDATE SKIP LOCKED
