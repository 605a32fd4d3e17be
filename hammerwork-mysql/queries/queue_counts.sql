-- How many jobs of a queue are in each status, from hammerwork_jobs_phase
-- alone: a ready job's status is the entry's last column (grouped apart);
-- every other job's phase is its status, grouped in index order. A status
-- may come twice (pending ready, and pending waiting on a dependency): the
-- caller adds the rows up.
-- Params: queue.
SELECT status, COUNT(*) AS count
FROM hammerwork_jobs FORCE INDEX (hammerwork_jobs_phase)
WHERE queue_name = ?1 AND phase = 'ready'
GROUP BY status
UNION ALL
SELECT phase AS status, COUNT(*) AS count
FROM hammerwork_jobs FORCE INDEX (hammerwork_jobs_phase)
WHERE queue_name = ?1 AND phase <> 'ready'
GROUP BY phase
