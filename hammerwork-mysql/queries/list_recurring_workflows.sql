-- Recurring workflows whose run has finished (no job pending or running, or
-- the run was cancelled) and whose series advance_recurrence has not moved
-- on, after an id (NULL: from the start), in id order; reads
-- hammerwork_workflows_cron_live for the live series only (forced, as in
-- list_recurrences_jobs.sql).
-- Params: after, limit.
SELECT *, 0 AS running_jobs
FROM hammerwork_workflows FORCE INDEX (hammerwork_workflows_cron_live)
WHERE cron_live = 1
  AND (total_jobs = completed_jobs + failed_jobs + skipped_jobs + cancelled_jobs
       OR state = 'cancelled')
  AND (?1 IS NULL OR id > ?1)
ORDER BY id
LIMIT ?2
