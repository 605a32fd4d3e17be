-- Params: queue, status, after, limit, workflow, dependency status.
SELECT *
FROM hammerwork_jobs
WHERE (?1 IS NULL OR queue_name = ?1)
  AND (?2 IS NULL OR status = ?2)
  AND (?3 IS NULL OR id > ?3)
  AND (?5 IS NULL OR workflow_id = ?5)
  AND (?6 IS NULL OR dependency_status = ?6)
ORDER BY id
LIMIT ?4
