-- The dependents of a job that are still waiting for their dependencies,
-- locked (in id order: the edge table's primary key range of the job) so none
-- is released or ended before graft_children_apply.sql has added its new
-- dependencies.
-- Params: job id, children (unused).
SELECT j.id, JSON_QUOTE(HEX(j.id)) AS to_apply
FROM hammerwork_job_dependencies AS d
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = d.job_id
WHERE d.parent_id = ?
  AND j.status IN ('pending', 'retrying')
  AND j.dependency_status = 'waiting'
ORDER BY j.id
FOR UPDATE
