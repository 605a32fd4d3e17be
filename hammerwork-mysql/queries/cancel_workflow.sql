-- Params: id.
UPDATE hammerwork_workflows SET state = 'cancelled'
WHERE id = ? AND state IN ('running', 'paused') AND pending_jobs + running_jobs > 0
