-- Finished occurrences of recurring jobs whose series has not moved on, after
-- id $1 (NULL: from the start), in id order. cron_live is set only on each
-- series' newest occurrence, so the partial index hammerwork_jobs_cron_live
-- (in id order) reads the live series and nothing else.
SELECT * FROM hammerwork_jobs
WHERE cron_live IS NOT NULL AND status IN ('completed', 'dead', 'cancelled', 'skipped')
  AND ($1::uuid IS NULL OR id > $1)
ORDER BY id
LIMIT $2
