-- Finished runs of recurring workflows whose series has not moved on.
SELECT * FROM hammerwork_workflows
WHERE cron_live IS NOT NULL AND (pending_jobs + running_jobs = 0 OR state = 'cancelled')
LIMIT $1
