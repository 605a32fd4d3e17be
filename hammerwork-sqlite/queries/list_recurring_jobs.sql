-- Finished live occurrences of recurring jobs after id ?1 (NULL: from the
-- start), in id order: read through the partial index hammerwork_jobs_cron_due,
-- whose size is the number of live series; the sort is over the due ones.
SELECT *
FROM hammerwork_jobs
WHERE cron_live = 1
  AND status IN ('completed', 'dead', 'cancelled', 'skipped')
  AND (?1 IS NULL OR id > ?1)
ORDER BY id
LIMIT ?2
