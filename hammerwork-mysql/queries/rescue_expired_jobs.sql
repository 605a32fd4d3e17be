-- Locks up to 1,000 running jobs whose lease ended, oldest lease first,
-- skipping rows a worker is settling or heartbeating right now.
-- Params: now, limit.
SELECT id, has_dependents, workflow_id
FROM hammerwork_jobs FORCE INDEX (hammerwork_jobs_lease)
WHERE status = 'running' AND lease_expires_at < ?
ORDER BY lease_expires_at
LIMIT ?
FOR UPDATE SKIP LOCKED
