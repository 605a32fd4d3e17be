-- A parent ?1 that awaits its children ?2 (a JSON array of ids): every
-- dependent of ?1 still waiting gets an edge from each child, so the child's
-- end reaches it. Run before graft_children.sql, under the same write lock
-- (neither changes which dependents are waiting).
INSERT OR IGNORE INTO hammerwork_job_dependencies (parent_id, job_id)
SELECT c.value, j.id
FROM hammerwork_job_dependencies AS d
JOIN hammerwork_jobs AS j ON j.id = d.job_id
CROSS JOIN json_each(?2) AS c
WHERE d.parent_id = ?1
  AND j.status IN ('pending', 'retrying')
  AND j.dependency_status = 'waiting'
