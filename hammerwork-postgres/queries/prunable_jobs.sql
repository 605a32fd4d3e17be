-- Up to $4 jobs of queue $1 in final status $2 that ended before $3, oldest
-- first: outside workflows, not the occurrence a recurring series continues
-- from, not a parent of any stored job and not the spawner of any stored
-- job. One range of hammerwork_jobs_finished (the status list repeats its
-- predicate, so a generic plan can use it too). Locked, skipping locked rows.
-- The edge test reads this statement's snapshot: delete_jobs.sql tests it
-- again once the rows are locked.
SELECT j.id
FROM hammerwork_jobs AS j
WHERE j.queue_name = $1
  AND j.status = $2
  AND j.status IN ('completed', 'skipped', 'cancelled', 'dead')
  AND j.workflow_id IS NULL
  AND COALESCE(j.completed_at, j.failed_at) < $3
  AND j.cron_live IS NULL
  AND NOT EXISTS (SELECT 1 FROM hammerwork_job_dependencies AS d WHERE d.parent_id = j.id)
  AND NOT EXISTS (SELECT 1 FROM hammerwork_jobs AS c WHERE c.parent_job_id = j.id)
ORDER BY COALESCE(j.completed_at, j.failed_at)
LIMIT $4
FOR UPDATE OF j SKIP LOCKED
