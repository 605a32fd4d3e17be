-- The workflow's dead and cancelled jobs, locked, with their queues; then
-- the spawned jobs it awaits (reset_job_apply.sql then resets them all).
-- Params: workflow id, now.
-- Through hammerwork_jobs_workflow_status, forced: with ORDER BY id the
-- optimizer may walk the primary key instead, reading (and locking) every job.
SELECT id, status AS previous, workflow_id, queue_name, JSON_QUOTE(HEX(id)) AS to_apply
FROM hammerwork_jobs FORCE INDEX (hammerwork_jobs_workflow_status)
WHERE workflow_id = ? AND workflow_status IN ('dead', 'cancelled')
ORDER BY id
FOR UPDATE
;
-- The dead and cancelled spawned jobs outside the workflow that one of its
-- jobs awaits (edges grafted by graft_children_apply.sql), locked, with their queues:
-- they start over with the workflow. The edges are found by index (workflow,
-- then the edge table's job_id) in a derived table the lock does not reach
-- (DISTINCT keeps it from being merged); only the spawned jobs, read by
-- primary key, are locked. FORCE INDEX: with few spawned jobs, the
-- optimizer would rather range-scan the parent or status index per edge.
-- Params: workflow id.
SELECT p.id, p.status AS previous, p.workflow_id, p.queue_name, JSON_QUOTE(HEX(p.id)) AS to_apply
FROM (
    SELECT DISTINCT d.parent_id
    FROM hammerwork_jobs AS w
    STRAIGHT_JOIN hammerwork_job_dependencies AS d ON d.job_id = w.id
    WHERE w.workflow_id = ?
) AS e
STRAIGHT_JOIN hammerwork_jobs AS p FORCE INDEX (PRIMARY) ON p.id = e.parent_id
WHERE p.workflow_id IS NULL AND p.parent_job_id IS NOT NULL
  AND p.status IN ('dead', 'cancelled')
ORDER BY p.id
FOR UPDATE
