-- The distinct queue names of the jobs, sorted: a loose index scan of
-- hammerwork_jobs_phase (one look-up per queue), not a read of every job.
SELECT DISTINCT queue_name FROM hammerwork_jobs ORDER BY queue_name
