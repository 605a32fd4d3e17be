-- The parents of the jobs ?1 (a JSON array of ids) that ended without
-- completing, each once, read through the edge table's job_id index.
SELECT DISTINCT p.id, p.workflow_id, p.status
FROM hammerwork_job_dependencies AS d
JOIN hammerwork_jobs AS p ON p.id = d.parent_id
WHERE d.job_id IN (SELECT value FROM json_each(?1))
  AND p.status IN ('skipped', 'dead', 'cancelled')
ORDER BY p.id
