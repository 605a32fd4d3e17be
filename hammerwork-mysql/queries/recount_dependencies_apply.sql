-- Stores the counts recount_dependencies.sql found.
-- Params: counts (JSON array of {id, open}).
UPDATE JSON_TABLE(?, '$[*]' COLUMNS (
           id           CHAR(32) PATH '$.id',
           open_parents INT      PATH '$.open'
       )) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(t.id)
SET j.pending_dependencies = t.open_parents,
    j.dependency_status = CASE WHEN t.open_parents > 0 THEN 'waiting' ELSE 'satisfied' END
