-- The parents of the jobs $1 that ended without completing, each once.
SELECT DISTINCT p.id, p.workflow_id, p.status
FROM hammerwork_job_dependencies AS d
JOIN hammerwork_jobs AS p ON p.id = d.parent_id
WHERE d.job_id = ANY($1::uuid[]) AND p.status IN ('skipped', 'dead', 'cancelled')
ORDER BY p.id
