-- The dead and cancelled spawned jobs outside the workflow that one of its
-- jobs awaits (edges grafted by graft_children_edges.sql), locked, with their queues:
-- they start over with the workflow. The edges are found by index (workflow,
-- then the edge table's job_id) in a derived table the lock does not reach
-- (DISTINCT keeps it from being merged); only the spawned jobs, read by
-- primary key, are locked. FORCE INDEX: with few spawned jobs, the
-- optimizer would rather range-scan the parent or status index per edge.
-- Params: workflow id.
SELECT p.id, p.status AS previous, p.workflow_id, p.queue_name
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
