-- Recurring workflows whose run has finished (no job pending or running, or
-- the run was cancelled) and whose series advance_recurrence has not moved
-- on; reads hammerwork_workflows_cron_live for the live series only.
-- No ORDER BY: with one, the optimizer may walk the primary key instead.
-- Params: limit.
SELECT *, 0 AS running_jobs
FROM hammerwork_workflows
WHERE cron_live = 1
  AND (total_jobs = completed_jobs + failed_jobs + skipped_jobs + cancelled_jobs
       OR state = 'cancelled')
LIMIT ?
