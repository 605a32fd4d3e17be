-- The earliest scheduled_at after ?2 among the jobs of queue ?1 that wait
-- only for their time: one seek of the claim index (queue, priority,
-- scheduled_at) per priority in ?3 (a JSON array), however many jobs are
-- scheduled.
SELECT MIN((
    SELECT scheduled_at FROM hammerwork_jobs
    WHERE queue_name = ?1
      AND priority = p.value
      AND status IN ('pending', 'retrying')
      AND dependency_status IN ('none', 'satisfied')
      AND scheduled_at > ?2
    ORDER BY scheduled_at
    LIMIT 1
)) AS due
FROM json_each(?3) AS p
