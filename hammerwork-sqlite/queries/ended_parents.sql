-- The parents of the jobs ?1 (a JSON array of ids) that ended without
-- completing, each once, read through each job's depends_on array.
SELECT DISTINCT p.id, p.workflow_id, p.status
FROM hammerwork_jobs AS child, json_each(child.depends_on) AS d
JOIN hammerwork_jobs AS p ON p.id = d.value
WHERE child.id IN (SELECT value FROM json_each(?1))
  AND p.status IN ('skipped', 'dead', 'cancelled')
ORDER BY p.id
