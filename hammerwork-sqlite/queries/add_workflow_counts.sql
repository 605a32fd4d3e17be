-- Adds the engine's counter changes (?1: a JSON array of {id, completed,
-- failed, skipped, cancelled}) to the workflow rows.
UPDATE hammerwork_workflows AS w
SET completed_jobs = w.completed_jobs + t.completed,
    failed_jobs = w.failed_jobs + t.failed,
    skipped_jobs = w.skipped_jobs + t.skipped,
    cancelled_jobs = w.cancelled_jobs + t.cancelled
FROM (
    SELECT value ->> '$.id' AS id, value ->> '$.completed' AS completed,
           value ->> '$.failed' AS failed, value ->> '$.skipped' AS skipped,
           value ->> '$.cancelled' AS cancelled
    FROM json_each(?1)
) AS t
WHERE w.id = t.id
