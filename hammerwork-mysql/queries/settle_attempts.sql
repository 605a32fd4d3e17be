-- The attempts of a settle batch (hammerwork_api::driver::SettleRecord,
-- sorted by id) that are still current, locked in id order, with the status
-- settle_attempts_apply.sql then gives each (the same CASE, on the row as it
-- is before the change).
-- Params: outcomes (JSON array, sorted by id), now (unused).
SELECT j.id, j.workflow_id, j.has_dependents,
       CASE t.kind
           WHEN 'failed' THEN
               CASE WHEN t.retry_at IS NULL OR j.attempts >= j.max_attempts THEN 'dead' ELSE 'retrying' END
           WHEN 'given_back' THEN
               CASE WHEN t.started = 'true' AND j.attempts >= j.max_attempts THEN 'dead' ELSE 'pending' END
           ELSE t.kind
       END AS status
FROM JSON_TABLE(?, '$[*]' COLUMNS (
         id       CHAR(36)    PATH '$.id',
         claim    BIGINT      PATH '$.claim',
         kind     VARCHAR(16) PATH '$.kind',
         retry_at BIGINT      PATH '$.retry_at',
         started  VARCHAR(5)  PATH '$.started'
     )) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(REPLACE(t.id, '-', ''))
WHERE j.claims = t.claim AND j.status = 'running'
FOR UPDATE
