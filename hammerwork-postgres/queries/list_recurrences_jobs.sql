-- Finished occurrences of recurring jobs whose series has not moved on.
SELECT * FROM hammerwork_jobs
WHERE cron_live IS NOT NULL AND status IN ('completed', 'dead', 'cancelled', 'skipped')
LIMIT $1
