-- The distinct queue names of the jobs, sorted: one descent of the queue
-- index per queue (a loose index scan, written as a recursive query), not a
-- read of every job.
WITH RECURSIVE queues AS (
    (SELECT queue_name FROM hammerwork_jobs ORDER BY queue_name LIMIT 1)
    UNION ALL
    SELECT (SELECT j.queue_name FROM hammerwork_jobs AS j
            WHERE j.queue_name > q.queue_name
            ORDER BY j.queue_name LIMIT 1)
    FROM queues AS q
    WHERE q.queue_name IS NOT NULL
)
SELECT queue_name FROM queues WHERE queue_name IS NOT NULL
