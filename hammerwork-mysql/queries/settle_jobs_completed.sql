-- `result` arrives as JSON text inside a JSON string (absent for no result),
-- so JSON null and "no result" stay apart on both MySQL and MariaDB.
-- Params: outcomes (JSON array of {id, attempt, result?}, sorted by id), now.
UPDATE JSON_TABLE(?, '$[*]' COLUMNS (
           id      CHAR(32) PATH '$.id',
           attempt INT      PATH '$.attempt',
           result  LONGTEXT PATH '$.result'
       )) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(t.id)
SET j.status = 'completed',
    j.result = t.result,
    j.completed_at = ?,
    j.lease_expires_at = NULL
WHERE j.attempts = t.attempt AND j.status = 'running'
