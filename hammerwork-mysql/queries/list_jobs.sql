-- Params: queue, queue, status, status, after, after, workflow, workflow,
-- dependency status, dependency status, limit.
SELECT *
FROM hammerwork_jobs
WHERE (? IS NULL OR queue_name = ?)
  AND (? IS NULL OR status = ?)
  AND (? IS NULL OR id > ?)
  AND (? IS NULL OR workflow_id = ?)
  AND (? IS NULL OR dependency_status = ?)
ORDER BY id
LIMIT ?
