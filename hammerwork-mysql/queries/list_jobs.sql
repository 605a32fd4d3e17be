-- Params: queue, status, after, limit, workflow, dependency status.
-- With a queue and a status, the jobs are read from hammerwork_jobs_phase:
-- (queue, status), and for a pending or retrying job also (queue, 'ready')
-- with the status its last column (migration 17); the page is then the
-- first `limit` of them in id order.
SELECT *
FROM hammerwork_jobs
WHERE (?1 IS NULL OR queue_name = ?1)
  AND (?2 IS NULL OR status = ?2)
  AND (?1 IS NULL OR ?2 IS NULL
       OR phase IN (?2, CASE WHEN ?2 IN ('pending', 'retrying') THEN 'ready' END))
  AND (?3 IS NULL OR id > ?3)
  AND (?5 IS NULL OR workflow_id = ?5)
  AND (?6 IS NULL OR dependency_status = ?6)
ORDER BY id
LIMIT ?4
