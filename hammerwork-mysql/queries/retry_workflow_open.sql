-- How many parents of each pending job of the workflow have not completed.
-- Params: workflow id.
SELECT d.job_id, CAST(SUM(p.status <> 'completed') AS SIGNED) AS open_parents
FROM hammerwork_jobs AS child
STRAIGHT_JOIN hammerwork_job_dependencies AS d ON d.job_id = child.id
STRAIGHT_JOIN hammerwork_jobs AS p ON p.id = d.parent_id
WHERE child.workflow_id = ? AND child.status IN ('pending', 'retrying')
GROUP BY d.job_id
