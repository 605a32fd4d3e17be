-- The earliest scheduled_at after $2 among the jobs of queue $1 that wait
-- only for their time: one seek of the claim index (queue, priority,
-- scheduled_at) per priority in $3, however many jobs are scheduled.
SELECT MIN(s.scheduled_at) AS due
FROM unnest($3::smallint[]) AS p(priority)
CROSS JOIN LATERAL (
    SELECT scheduled_at FROM hammerwork_jobs
    WHERE queue_name = $1
      AND priority = p.priority
      AND status IN ('pending', 'retrying')
      AND dependency_status IN ('none', 'satisfied')
      AND scheduled_at > $2
    ORDER BY scheduled_at
    LIMIT 1
) AS s
