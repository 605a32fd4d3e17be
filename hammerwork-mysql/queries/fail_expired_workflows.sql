-- Open workflows past their deadline with jobs left to run, locked in id
-- order, as fail_expired_workflows_apply.sql leaves them.
-- Params: now.
SELECT id, JSON_QUOTE(HEX(id)) AS to_apply
FROM hammerwork_workflows
WHERE deadline_at < ? AND state IN ('running', 'paused')
  AND total_jobs > completed_jobs + failed_jobs + skipped_jobs + cancelled_jobs
ORDER BY id
FOR UPDATE
