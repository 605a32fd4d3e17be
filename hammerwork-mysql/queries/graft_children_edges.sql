-- Makes every child a dependency of every held dependent: one edge row per
-- (child, dependent) pair, all in one statement. The children are written
-- later in the same transaction (the edge table has no foreign key).
-- Params: children (JSON array of hex ids), dependents (JSON array of hex ids).
INSERT INTO hammerwork_job_dependencies (parent_id, job_id)
SELECT UNHEX(c.id), UNHEX(h.id)
FROM JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS c
CROSS JOIN JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS h
