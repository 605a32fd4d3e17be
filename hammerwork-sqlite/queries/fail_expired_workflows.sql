-- Open workflows past their deadline with jobs left to run fail.
UPDATE hammerwork_workflows
SET state = 'failed'
WHERE deadline_at < ?1 AND state IN ('running', 'paused')
  AND total_jobs > completed_jobs + failed_jobs + skipped_jobs + cancelled_jobs
RETURNING id
