-- Stamps ?2 (microseconds) on those of workflows ?1 (a JSON array of ids)
-- whose every job is now final, once.
UPDATE hammerwork_workflows
SET finished_at = ?2
WHERE id IN (SELECT value FROM json_each(?1))
  AND finished_at IS NULL
  AND total_jobs = completed_jobs + failed_jobs + skipped_jobs + cancelled_jobs
