-- An open workflow with jobs left to run becomes cancelled.
-- Params: id.
UPDATE hammerwork_workflows SET state = 'cancelled'
WHERE id = ? AND state IN ('running', 'paused')
  AND total_jobs > completed_jobs + failed_jobs + skipped_jobs + cancelled_jobs
