SELECT w.*, (SELECT count(*) FROM hammerwork_jobs AS j
             WHERE j.workflow_id = w.id AND j.status = 'running') AS running_jobs
FROM hammerwork_workflows AS w
WHERE (?1 IS NULL OR w.id > ?1)
ORDER BY w.id
LIMIT ?2
