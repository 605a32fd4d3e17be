SELECT status, COUNT(*) AS count
FROM hammerwork_jobs
WHERE queue_name = ?1
GROUP BY status
