-- The earliest scheduled_at after a time among the jobs of a queue that wait
-- only for their time: one seek of hammerwork_jobs_phase (queue, 'ready',
-- -priority, scheduled_at) per priority, however many jobs are scheduled.
-- Params: queue, after, priorities (JSON array).
SELECT MIN((
    SELECT j.phase_at
    FROM hammerwork_jobs AS j FORCE INDEX (hammerwork_jobs_phase)
    WHERE j.queue_name = ?
      AND j.phase = 'ready'
      AND j.phase_rank = -p.priority
      AND j.phase_at > ?
    ORDER BY j.phase_at
    LIMIT 1
)) AS due
FROM JSON_TABLE(?, '$[*]' COLUMNS (priority SMALLINT PATH '$')) AS p
