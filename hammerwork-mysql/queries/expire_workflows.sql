-- Unfinished workflows past their deadline, locked.
-- Params: now.
SELECT id
FROM hammerwork_workflows
WHERE deadline_at < ? AND state IN ('running', 'paused') AND pending_jobs + running_jobs > 0
ORDER BY id
FOR UPDATE
