-- The dependents of a job that are still waiting for their dependencies,
-- locked (in id order: the edge table's primary key range of the job) so none
-- is released or ended before graft_children.sql has added its new
-- dependencies.
-- Params: job id.
SELECT j.id
FROM hammerwork_job_dependencies AS d
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = d.job_id
WHERE d.parent_id = ?
  AND j.status IN ('pending', 'retrying')
  AND j.dependency_status = 'waiting'
ORDER BY j.id
FOR UPDATE
