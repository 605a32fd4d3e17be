-- Writes what the caller decided for dependents_to_release.sql's rows (which
-- it still locks): the remaining count, the dependency status, and whether
-- the job is skipped (its condition was false).
-- Params: decisions (JSON array of {id, pending, dependency_status, skip}), now.
UPDATE JSON_TABLE(?, '$[*]' COLUMNS (
           id                CHAR(32)    PATH '$.id',
           pending           INT         PATH '$.pending',
           dependency_status VARCHAR(16) PATH '$.dependency_status',
           skip              INT         PATH '$.skip'
       )) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(t.id)
CROSS JOIN (SELECT CAST(? AS DATETIME(6)) AS now) AS n
SET j.pending_dependencies = t.pending,
    j.dependency_status = t.dependency_status,
    j.status = CASE WHEN t.skip = 1 THEN 'skipped' ELSE j.status END,
    j.error_message = CASE WHEN t.skip = 1 THEN 'condition is false' ELSE j.error_message END,
    j.completed_at = CASE WHEN t.skip = 1 THEN n.now ELSE j.completed_at END
