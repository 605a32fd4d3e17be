-- The jobs a job depends on, declared or grafted: the edge table's job_id
-- index, then primary-key lookups.
-- Params: id.
SELECT j.* FROM hammerwork_job_dependencies AS d
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = d.parent_id
WHERE d.job_id = ?
ORDER BY j.id
