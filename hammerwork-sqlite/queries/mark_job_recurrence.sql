-- Marks a live recurring job continued (or ended, next_occurrence NULL);
-- changes no row when another scheduler got there first.
UPDATE hammerwork_jobs
SET cron_live = NULL, next_occurrence = ?2
WHERE id = ?1 AND cron_live = 1
