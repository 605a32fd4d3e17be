-- The spawn operations that jobs being pruned made. Params: ids (JSON array
-- of hex ids, sorted).
DELETE o
FROM JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_spawn_operations AS o ON o.parent_job_id = UNHEX(t.id)
