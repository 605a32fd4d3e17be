UPDATE hammerwork_workflows
SET state = 'failed'
WHERE deadline_at < ?1 AND state IN ('running', 'paused') AND pending_jobs + running_jobs > 0
RETURNING id
