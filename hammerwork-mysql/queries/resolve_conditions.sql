-- Dependents whose parents all completed and whose condition was evaluated
-- (locked by release_dependents.sql): true -> satisfied (claimable), false
-- -> skipped.
-- Params: decisions (JSON array of {id (hex), runs (0 or 1)}), now.
UPDATE JSON_TABLE(?, '$[*]' COLUMNS (
           id   CHAR(32) PATH '$.id',
           runs INT      PATH '$.runs'
       )) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(t.id)
CROSS JOIN (SELECT CAST(? AS DATETIME(6)) AS now) AS n
SET j.dependency_status = 'satisfied',
    j.status = CASE WHEN t.runs = 1 THEN j.status ELSE 'skipped' END,
    j.error_message = CASE WHEN t.runs = 1 THEN j.error_message ELSE 'condition is false' END,
    j.completed_at = CASE WHEN t.runs = 1 THEN j.completed_at ELSE n.now END
