-- Makes every child a dependency of every dependent graft_children.sql
-- holds: one edge row per (child, dependent) pair, all in one statement. The
-- children are written later in the same transaction (the edge table has no
-- foreign key). Then the dependents wait for the children too: their pending
-- count grows by the number of children (depends_on keeps what was declared).
-- Params: job id (unused), children (JSON array of hex ids), dependents
-- (JSON array of hex ids, sorted).
INSERT INTO hammerwork_job_dependencies (parent_id, job_id)
SELECT UNHEX(c.id), UNHEX(h.id)
FROM JSON_TABLE(?2, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS c
CROSS JOIN JSON_TABLE(?3, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS h
;
UPDATE JSON_TABLE(?3, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(t.id)
SET j.pending_dependencies = j.pending_dependencies + JSON_LENGTH(?2)
