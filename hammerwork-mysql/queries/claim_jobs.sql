-- Locks up to `limit` ready jobs of a queue, in claim order (priority first,
-- then earliest scheduled_at), skipping rows other claimers hold.
-- A job's entry in hammerwork_jobs_phase is (queue, 'ready', -priority,
-- scheduled_at) while it can be claimed (migration 17), so this walks the
-- queue's ready entries from the front and stops after `limit` rows: no
-- filesort, which under FOR UPDATE would lock every ready row and serialise
-- claimers.
-- A paused queue (a row of hammerwork_queues, read by key and not locked:
-- FOR UPDATE does not reach a subquery) gives nothing.
-- Params: queue, now, queue, limit.
SELECT *
FROM hammerwork_jobs FORCE INDEX (hammerwork_jobs_phase)
WHERE queue_name = ?
  AND phase = 'ready'
  AND phase_at <= ?
  AND NOT EXISTS (
      SELECT 1 FROM hammerwork_queues
      WHERE name = ? AND paused_at IS NOT NULL
  )
ORDER BY phase_rank, phase_at
LIMIT ?
FOR UPDATE SKIP LOCKED
