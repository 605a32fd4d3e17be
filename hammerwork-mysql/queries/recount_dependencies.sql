-- How many parents of each pending job of the workflow, and of each spawned
-- job outside it that reset_workflow_jobs_awaited.sql found and that was just
-- reset, have not completed. Each branch of the UNION is an index lookup (by
-- workflow; by primary key). The rows read are share-locked: a parent
-- completing concurrently is waited for and then read as completed (its own
-- release may have skipped the dependent, dead until this retry), so no
-- dependent is left counting a parent that finished. LOCK IN SHARE MODE is the
-- spelling both MySQL 8 and MariaDB accept.
-- Params: workflow id, reset spawned jobs (JSON array of hex ids).
SELECT d.job_id, CAST(SUM(p.status <> 'completed') AS SIGNED) AS open_parents,
       MIN(c.workflow_id) AS workflow_id, MIN(c.queue_name) AS queue_name,
       MIN(c.`condition`) AS `condition`
FROM (
    SELECT id
    FROM hammerwork_jobs
    WHERE workflow_id = ? AND status IN ('pending', 'retrying')
    UNION
    SELECT UNHEX(t.id)
    FROM JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
) AS child
STRAIGHT_JOIN hammerwork_job_dependencies AS d ON d.job_id = child.id
STRAIGHT_JOIN hammerwork_jobs AS p ON p.id = d.parent_id
STRAIGHT_JOIN hammerwork_jobs AS c ON c.id = d.job_id
GROUP BY d.job_id
LOCK IN SHARE MODE
