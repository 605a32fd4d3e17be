-- Marks a recurring job's series as continued (by $2, or ended when NULL),
-- once: a second scheduler finds cron_live already cleared.
UPDATE hammerwork_jobs SET cron_live = NULL, next_occurrence = $2
WHERE id = $1 AND cron_live IS NOT NULL
