-- The jobs ?1 depends on, declared or grafted: the edge table's job_id index.
SELECT j.* FROM hammerwork_job_dependencies AS d
JOIN hammerwork_jobs AS j ON j.id = d.parent_id
WHERE d.job_id = ?1
ORDER BY j.id
