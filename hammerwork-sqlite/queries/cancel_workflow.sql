-- A running workflow with jobs left to run, or a paused one, becomes cancelled.
UPDATE hammerwork_workflows SET state = 'cancelled'
WHERE id = ?1
  AND (state = 'paused' OR state = 'running' AND total_jobs > completed_jobs + failed_jobs + skipped_jobs + cancelled_jobs)
