-- Locks up to `limit` ready jobs of a queue, in claim order (priority first,
-- then earliest scheduled_at), skipping rows other claimers hold.
-- ready_queue is the queue name while a job is pending or retrying and not
-- waiting on a dependency, and NULL otherwise, so this walks hammerwork_jobs_ready from the front and stops
-- after `limit` rows: no filesort, which under FOR UPDATE would lock every
-- ready row and serialise claimers.
-- Params: queue, now, limit.
SELECT *
FROM hammerwork_jobs FORCE INDEX (hammerwork_jobs_ready)
WHERE ready_queue = ?
  AND scheduled_at <= ?
ORDER BY neg_priority, scheduled_at
LIMIT ?
FOR UPDATE SKIP LOCKED
