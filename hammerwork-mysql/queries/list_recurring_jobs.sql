-- Finished recurring jobs whose series advance_recurrence has not moved on,
-- after an id (NULL: from the start), in id order: cron_live is 1 only on each
-- series' newest occurrence, so hammerwork_jobs_cron_live (cron_live, and the
-- primary key after it) reads each series once, already in id order. The
-- index is forced: with ORDER BY id the optimizer may walk the primary key
-- instead.
-- Params: after, limit.
SELECT *
FROM hammerwork_jobs FORCE INDEX (hammerwork_jobs_cron_live)
WHERE cron_live = 1
  AND status IN ('completed', 'dead', 'cancelled', 'skipped')
  AND (?1 IS NULL OR id > ?1)
ORDER BY id
LIMIT ?2
