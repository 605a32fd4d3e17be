-- Writes the counts left of release_dependents.sql's rows (which the
-- transaction still locks): a dependent at zero without a condition is
-- satisfied; one with a condition stays waiting for resolve_conditions.sql.
-- Params: parents (unused), dependents (JSON array of {id (hex), pending}).
UPDATE JSON_TABLE(?2, '$[*]' COLUMNS (
           id      CHAR(32) PATH '$.id',
           pending INT      PATH '$.pending'
       )) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(t.id)
SET j.pending_dependencies = t.pending,
    j.dependency_status = CASE
        WHEN t.pending <= 0 AND j.`condition` IS NULL THEN 'satisfied'
        ELSE j.dependency_status
    END
