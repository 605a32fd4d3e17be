-- Every unfinished job of these workflows, locked until the transaction ends
-- (cancel_workflow_jobs_apply.sql then cancels exactly these), as it leaves them.
-- Params: workflow ids (JSON array of hex ids, sorted), why, now.
-- Through hammerwork_jobs_workflow_status, forced: with ORDER BY id the
-- optimizer may walk the primary key instead, reading (and locking) every job.
SELECT j.id, j.workflow_id, 'cancelled' AS status, JSON_QUOTE(HEX(j.id)) AS to_apply
FROM JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_jobs AS j FORCE INDEX (hammerwork_jobs_workflow_status)
    ON j.workflow_id = UNHEX(t.id)
WHERE j.workflow_status IN ('pending', 'retrying', 'running')
ORDER BY j.id
FOR UPDATE
;
-- The unfinished spawned jobs outside these workflows that one of their jobs
-- awaits (edges grafted by graft_children_apply.sql), locked in id order so
-- cancel_workflow_jobs_apply.sql then cancels exactly these. Run after
-- cancel_workflow_jobs.sql locked the workflows' jobs: a graft onto one of them
-- has committed by then, and this new statement sees its edges. The edges
-- are found by index (workflow, then the edge table's job_id) in a derived
-- table the lock does not reach (DISTINCT keeps it from being merged); only
-- the spawned jobs, read by primary key, are locked. FORCE INDEX: with few
-- spawned jobs, the optimizer would rather range-scan the parent or status
-- index per edge.
SELECT p.id, p.workflow_id, 'cancelled' AS status, JSON_QUOTE(HEX(p.id)) AS to_apply
FROM (
    SELECT DISTINCT d.parent_id
    FROM JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
    STRAIGHT_JOIN hammerwork_jobs AS w ON w.workflow_id = UNHEX(t.id)
    STRAIGHT_JOIN hammerwork_job_dependencies AS d ON d.job_id = w.id
) AS e
STRAIGHT_JOIN hammerwork_jobs AS p FORCE INDEX (PRIMARY) ON p.id = e.parent_id
WHERE p.workflow_id IS NULL AND p.parent_job_id IS NOT NULL
  AND p.status IN ('pending', 'retrying', 'running')
ORDER BY p.id
FOR UPDATE
