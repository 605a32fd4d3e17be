-- Locks up to 1,000 running jobs whose lease ended, skipping rows a worker is
-- settling or heartbeating right now. Running jobs are read per queue from
-- hammerwork_jobs_queue_status (the queues: a loose index scan of it, one
-- look-up per queue), so the cost is the number of queues and of running
-- jobs, never of finished ones; no index of a lease moves at each claim,
-- settle and heartbeat.
-- Params: now, limit.
SELECT j.id, j.has_dependents, j.workflow_id
FROM (SELECT DISTINCT queue_name FROM hammerwork_jobs) AS q
STRAIGHT_JOIN hammerwork_jobs AS j FORCE INDEX (hammerwork_jobs_queue_status)
    ON j.queue_name = q.queue_name AND j.status = 'running'
WHERE j.lease_expires_at < ?
LIMIT ?
FOR UPDATE SKIP LOCKED
