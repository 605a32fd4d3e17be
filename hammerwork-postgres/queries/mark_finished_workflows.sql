-- Stamps $2 on those of workflows $1 (locked by finish.sql in this
-- transaction) whose every job is now final, once.
UPDATE hammerwork_workflows
SET finished_at = $2
WHERE id = ANY($1::uuid[])
  AND finished_at IS NULL
  AND total_jobs = completed_jobs + failed_jobs + skipped_jobs + cancelled_jobs
