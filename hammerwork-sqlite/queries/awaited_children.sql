-- The children of the parents ?1 (a JSON array of ids) whose spawn their
-- dependents await: the spawn record by its parent (unique), the children by
-- parent_job_id.
SELECT c.parent_job_id, c.id
FROM hammerwork_spawn_operations AS o
JOIN hammerwork_jobs AS c ON c.parent_job_id = o.parent_job_id
WHERE o.parent_job_id IN (SELECT value FROM json_each(?1)) AND o.await_children <> 0
ORDER BY c.id
