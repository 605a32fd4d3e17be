-- Finished runs of recurring workflows whose series has not moved on, after
-- id $1 (NULL: from the start), in id order (the partial index
-- hammerwork_workflows_cron_live is on id).
SELECT w.*, 0::bigint AS running_jobs FROM hammerwork_workflows AS w
WHERE cron_live IS NOT NULL
  AND (total_jobs = completed_jobs + failed_jobs + skipped_jobs + cancelled_jobs
       OR state = 'cancelled')
  AND ($1::uuid IS NULL OR id > $1)
ORDER BY id
LIMIT $2
