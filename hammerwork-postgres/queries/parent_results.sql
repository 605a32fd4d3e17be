-- Parents in id (creation) order: when results are merged for a condition,
-- a later parent's field wins.
SELECT d.job_id, p.result
FROM hammerwork_job_dependencies AS d
JOIN hammerwork_jobs AS p ON p.id = d.parent_id
WHERE d.job_id = ANY($1::uuid[]) AND p.result IS NOT NULL
ORDER BY d.job_id, d.parent_id
