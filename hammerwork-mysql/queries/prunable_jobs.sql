-- Up to `limit` jobs of a queue in a final status that ended before a time,
-- oldest first: outside workflows (phase_rank is 1 for a workflow's finished
-- jobs, which go with their workflow), not the occurrence a recurring series
-- continues from, not a parent of any stored job and not the spawner of any
-- stored job. One range of hammerwork_jobs_phase (queue, status, 0, ended).
-- Locked, skipping locked rows; the edge test is repeated once they are
-- locked (delete_jobs.sql). Params: queue, status, ended before, limit.
SELECT j.id
FROM hammerwork_jobs AS j FORCE INDEX (hammerwork_jobs_phase)
WHERE j.queue_name = ?
  AND j.phase = ?
  AND j.phase_rank = 0
  AND j.phase_at < ?
  AND j.cron_live IS NULL
  AND NOT EXISTS (SELECT 1 FROM hammerwork_job_dependencies AS d WHERE d.parent_id = j.id)
  AND NOT EXISTS (SELECT 1 FROM hammerwork_jobs AS c WHERE c.parent_job_id = j.id)
ORDER BY j.phase_at
LIMIT ?
FOR UPDATE SKIP LOCKED
