-- Params: queue.
SELECT status, COUNT(*) AS count
FROM hammerwork_jobs
WHERE queue_name = ?
GROUP BY status
