-- The jobs reset_workflow_jobs.sql starts over, with what they were: the
-- workflow's failed and cancelled jobs, and the failed and cancelled spawned
-- jobs outside it that one of its jobs awaits (grafted as its parents, see
-- graft_children.sql). Each branch is an index lookup: by workflow, then the
-- workflow job's parents through the edge table's job_id index.
SELECT id, status AS previous, workflow_id, queue_name FROM hammerwork_jobs
WHERE workflow_id = ?1 AND status IN ('dead', 'cancelled')
UNION
SELECT p.id, p.status AS previous, p.workflow_id, p.queue_name
FROM hammerwork_jobs AS w
JOIN hammerwork_job_dependencies AS d ON d.job_id = w.id
JOIN hammerwork_jobs AS p ON p.id = d.parent_id
WHERE w.workflow_id = ?1
  AND p.workflow_id IS NULL AND p.parent_job_id IS NOT NULL
  AND p.status IN ('dead', 'cancelled')
