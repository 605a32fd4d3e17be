-- Adds the engine's counter changes to the workflow rows, in the array's
-- (id) order.
-- Params: counts (JSON array of hammerwork_api::driver::WorkflowCounts).
UPDATE JSON_TABLE(?, '$[*]' COLUMNS (
           id        CHAR(36) PATH '$.id',
           completed BIGINT   PATH '$.completed',
           failed    BIGINT   PATH '$.failed',
           skipped   BIGINT   PATH '$.skipped',
           cancelled BIGINT   PATH '$.cancelled'
       )) AS t
STRAIGHT_JOIN hammerwork_workflows AS w ON w.id = UNHEX(REPLACE(t.id, '-', ''))
SET w.completed_jobs = w.completed_jobs + t.completed,
    w.failed_jobs = w.failed_jobs + t.failed,
    w.skipped_jobs = w.skipped_jobs + t.skipped,
    w.cancelled_jobs = w.cancelled_jobs + t.cancelled
