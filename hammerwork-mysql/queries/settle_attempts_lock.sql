-- The attempts of a settle batch that are still current, locked (in id
-- order) so settle_attempts.sql then changes exactly these.
-- Params: outcomes (JSON array of SettleRecord, sorted by id).
SELECT j.id
FROM JSON_TABLE(?, '$[*]' COLUMNS (
         id      CHAR(36) PATH '$.id',
         claim   BIGINT   PATH '$.claim'
     )) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(REPLACE(t.id, '-', ''))
WHERE j.claims = t.claim AND j.status = 'running'
FOR UPDATE
