-- The attempts of a settle batch that are still current, locked (in id
-- order) so the settle statements that follow change exactly these.
-- Params: leases (JSON array of {id, attempt}, sorted by id).
SELECT j.id
FROM JSON_TABLE(?, '$[*]' COLUMNS (
         id      CHAR(32) PATH '$.id',
         attempt INT      PATH '$.attempt'
     )) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(t.id)
WHERE j.attempts = t.attempt AND j.status = 'running'
FOR UPDATE
