-- Adds the engine's counter changes to workflow rows, locked in id order
-- (the arrays are sorted by id).
WITH locked AS MATERIALIZED (
    SELECT id FROM hammerwork_workflows WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE
)
UPDATE hammerwork_workflows AS w
SET completed_jobs = w.completed_jobs + t.completed,
    failed_jobs = w.failed_jobs + t.failed,
    skipped_jobs = w.skipped_jobs + t.skipped,
    cancelled_jobs = w.cancelled_jobs + t.cancelled
FROM UNNEST($1::uuid[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[])
         AS t(id, completed, failed, skipped, cancelled),
     locked
WHERE w.id = t.id AND locked.id = t.id
