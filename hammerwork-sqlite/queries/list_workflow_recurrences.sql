-- Finished (no job pending or running) or cancelled live occurrences of
-- recurring workflows: read through the partial index
-- hammerwork_workflows_cron_live, whose size is the number of live series.
SELECT *
FROM hammerwork_workflows
WHERE cron_live = 1
  AND (pending_jobs + running_jobs = 0 OR state = 'cancelled')
LIMIT ?1
