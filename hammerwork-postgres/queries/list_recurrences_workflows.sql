-- Finished runs of recurring workflows whose series has not moved on.
SELECT w.*, 0::bigint AS running_jobs FROM hammerwork_workflows AS w
WHERE cron_live IS NOT NULL
  AND (total_jobs = completed_jobs + failed_jobs + skipped_jobs + cancelled_jobs
       OR state = 'cancelled')
LIMIT $1
