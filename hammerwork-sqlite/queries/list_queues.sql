-- The distinct queue names of the jobs, sorted: one seek of the queue index
-- per queue (a loose index scan, written as a recursive query), not a read
-- of every job.
WITH RECURSIVE queues(queue_name) AS (
    SELECT MIN(queue_name) FROM hammerwork_jobs
    UNION ALL
    SELECT (SELECT MIN(j.queue_name) FROM hammerwork_jobs AS j WHERE j.queue_name > q.queue_name)
    FROM queues AS q
    WHERE q.queue_name IS NOT NULL
)
SELECT queue_name FROM queues WHERE queue_name IS NOT NULL
