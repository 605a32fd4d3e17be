-- Stores the counts recount_dependencies.sql found. A job with a condition
-- stays 'waiting' at zero until the caller has evaluated it.
-- Params: workflow id and reset spawned jobs (unused), counts (JSON array of
-- {id, open, conditional}).
UPDATE JSON_TABLE(?3, '$[*]' COLUMNS (
           id           CHAR(32) PATH '$.id',
           open_parents INT      PATH '$.open',
           conditional  INT      PATH '$.conditional'
       )) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(t.id)
SET j.pending_dependencies = t.open_parents,
    j.dependency_status = CASE
        WHEN t.open_parents > 0 OR t.conditional = 1 THEN 'waiting'
        ELSE 'satisfied'
    END
