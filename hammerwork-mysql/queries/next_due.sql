-- The earliest scheduled_at after a time among the jobs of a queue that wait
-- only for their time: one seek of hammerwork_jobs_ready (ready_queue,
-- neg_priority, scheduled_at) per priority, however many jobs are scheduled.
-- Params: queue, after, priorities (JSON array).
SELECT MIN((
    SELECT j.scheduled_at
    FROM hammerwork_jobs AS j FORCE INDEX (hammerwork_jobs_ready)
    WHERE j.ready_queue = ?
      AND j.neg_priority = -p.priority
      AND j.scheduled_at > ?
    ORDER BY j.scheduled_at
    LIMIT 1
)) AS due
FROM JSON_TABLE(?, '$[*]' COLUMNS (priority SMALLINT PATH '$')) AS p
