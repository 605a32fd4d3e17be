-- The jobs of workflows ?1 (a JSON array of ids) being pruned.
SELECT id FROM hammerwork_jobs
WHERE workflow_id IN (SELECT value FROM json_each(?1))
ORDER BY id
