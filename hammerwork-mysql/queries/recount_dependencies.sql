-- How many parents of each pending job of the workflow, and of each spawned
-- job outside it that reset_workflow_jobs.sql found (its second part) and that was just
-- reset, have not completed. Each branch of the UNION is an index lookup (by
-- workflow; by primary key); UNION drops a job listed by both. The rows read are share-locked: a parent
-- completing concurrently is waited for and then read as completed (its own
-- release may have skipped the dependent, dead until this retry), so no
-- dependent is left counting a parent that finished. LOCK IN SHARE MODE is the
-- spelling both MySQL 8 and MariaDB accept. The recounted jobs' own columns
-- are read inside the derived table, which the locking clause does not reach:
-- only parents are share-locked (a dependent share-locked here and then
-- updated would deadlock with a parent's settle releasing it).
-- Params: workflow id, reset spawned jobs (JSON array of hex ids).
-- Through hammerwork_jobs_workflow_status, forced: with ORDER BY id the
-- optimizer may walk the primary key instead, reading (and locking) every job.
SELECT d.job_id AS id, CAST(SUM(p.status <> 'completed') AS SIGNED) AS pending_dependencies,
       JSON_OBJECT('id', HEX(d.job_id), 'open', CAST(SUM(p.status <> 'completed') AS SIGNED),
                   'conditional', MIN(child.`condition`) IS NOT NULL) AS to_apply,
       MIN(child.workflow_id) AS workflow_id, MIN(child.queue_name) AS queue_name,
       MIN(child.`condition`) AS `condition`
FROM (
    SELECT id, workflow_id, queue_name, `condition`
    FROM hammerwork_jobs FORCE INDEX (hammerwork_jobs_workflow_status)
    WHERE workflow_id = ? AND workflow_status IN ('pending', 'retrying')
    UNION
    SELECT j.id, j.workflow_id, j.queue_name, j.`condition`
    FROM JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
    STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(t.id)
) AS child
STRAIGHT_JOIN hammerwork_job_dependencies AS d ON d.job_id = child.id
STRAIGHT_JOIN hammerwork_jobs AS p ON p.id = d.parent_id
GROUP BY d.job_id
LOCK IN SHARE MODE
