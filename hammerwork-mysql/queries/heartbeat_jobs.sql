-- Extends the leases of attempts that are still current. Rows are visited
-- (and locked) in the order of the JSON array, which the caller sorts by id so
-- that concurrent batches lock in one order.
-- Params: leases (JSON array of {id, claim}), lease_until.
UPDATE JSON_TABLE(?, '$[*]' COLUMNS (
           id      CHAR(32) PATH '$.id',
           claim   BIGINT   PATH '$.claim'
       )) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(t.id)
SET j.lease_expires_at = ?
WHERE j.claims = t.claim AND j.status = 'running'
