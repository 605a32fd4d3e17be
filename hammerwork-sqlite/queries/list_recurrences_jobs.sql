-- Finished live occurrences of recurring jobs: read through the partial index
-- hammerwork_jobs_cron_due, whose size is the number of live series.
SELECT *
FROM hammerwork_jobs
WHERE cron_live = 1
  AND status IN ('completed', 'dead', 'cancelled', 'skipped')
LIMIT ?1
