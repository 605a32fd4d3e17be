-- Those of the jobs being pruned (locked) that a stored job now depends on:
-- an enqueue that added the edge committed before the lock (it locks its
-- stored parents first), and this statement's read view, taken after the
-- lock, sees it. They stay. Params: ids (JSON array of hex ids, sorted).
SELECT DISTINCT d.parent_id AS id
FROM JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_job_dependencies AS d ON d.parent_id = UNHEX(t.id)
