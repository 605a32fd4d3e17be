-- Finished recurring jobs whose series advance_recurrence has not moved on:
-- cron_live is 1 only on each series' newest occurrence, so this reads
-- hammerwork_jobs_cron_live for exactly the result.
-- No ORDER BY: with one, the optimizer may walk the primary key instead.
-- Params: limit.
SELECT *
FROM hammerwork_jobs
WHERE cron_live = 1
  AND status IN ('completed', 'dead', 'cancelled', 'skipped')
LIMIT ?
