-- Open workflows past their deadline with jobs left to run, locked in id
-- order (set_workflow_state.sql then fails them).
-- Params: now.
SELECT id
FROM hammerwork_workflows
WHERE deadline_at < ? AND state IN ('running', 'paused')
  AND total_jobs > completed_jobs + failed_jobs + skipped_jobs + cancelled_jobs
ORDER BY id
FOR UPDATE
