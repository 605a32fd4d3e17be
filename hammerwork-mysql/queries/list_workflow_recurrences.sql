-- Recurring workflows whose run has finished (no job pending or running, or
-- the run was cancelled) and whose series advance_recurrence has not moved
-- on; reads hammerwork_workflows_cron_live for the live series only.
-- No ORDER BY: with one, the optimizer may walk the primary key instead.
-- Params: limit.
SELECT *
FROM hammerwork_workflows
WHERE cron_live = 1
  AND (pending_jobs + running_jobs = 0 OR state = 'cancelled')
LIMIT ?
