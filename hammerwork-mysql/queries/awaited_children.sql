-- The children of the parents ? (a JSON array of hex ids) whose spawn their
-- dependents await: the spawn record by its parent (unique), the children by
-- parent_job_id.
-- Params: parents.
SELECT c.parent_job_id, c.id
FROM JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_spawn_operations AS o ON o.parent_job_id = UNHEX(t.id)
STRAIGHT_JOIN hammerwork_jobs AS c ON c.parent_job_id = o.parent_job_id
WHERE o.await_children <> 0
ORDER BY c.id
