-- Up to `limit` running jobs whose lease ended, read without locking:
-- rescue_expired_jobs.sql then locks them by key. Running jobs are read per
-- queue from hammerwork_jobs_phase, (queue, 'running') (the queues: a loose
-- index scan of it, one look-up per queue), so the cost is the number of
-- queues and of running jobs, never of finished ones, and no index of a
-- lease moves at each claim, settle and heartbeat. Read under FOR UPDATE,
-- every running job it passed would stay locked until the rescue commits:
-- MariaDB keeps the locks of rows it read through a secondary index and then
-- rejected.
-- Params: now, limit.
SELECT j.id
FROM (SELECT DISTINCT queue_name FROM hammerwork_jobs) AS q
STRAIGHT_JOIN hammerwork_jobs AS j FORCE INDEX (hammerwork_jobs_phase)
    ON j.queue_name = q.queue_name AND j.phase = 'running'
WHERE j.lease_expires_at < ?
LIMIT ?
