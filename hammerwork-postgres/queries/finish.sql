-- The last writes of a transaction, in one statement: the engine's counter
-- changes (workflow rows locked in id order), the time $8 stamped once on a
-- workflow whose every job is now final (NULL: none stamped), and the
-- wakeups of queues $7 on channel $6 (delivered on commit).
WITH locked AS MATERIALIZED (
    SELECT id FROM hammerwork_workflows WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE
), counted AS (
    UPDATE hammerwork_workflows AS w
    SET completed_jobs = w.completed_jobs + t.completed,
        failed_jobs = w.failed_jobs + t.failed,
        skipped_jobs = w.skipped_jobs + t.skipped,
        cancelled_jobs = w.cancelled_jobs + t.cancelled,
        finished_at = CASE
            WHEN w.finished_at IS NULL AND $8::timestamptz IS NOT NULL
                 AND w.total_jobs = w.completed_jobs + t.completed + w.failed_jobs + t.failed
                                    + w.skipped_jobs + t.skipped + w.cancelled_jobs + t.cancelled
            THEN $8::timestamptz
            ELSE w.finished_at
        END
    FROM UNNEST($1::uuid[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[])
             AS t(id, completed, failed, skipped, cancelled),
         locked
    WHERE w.id = t.id AND locked.id = t.id
    RETURNING w.id
)
SELECT pg_notify($6, q) FROM UNNEST($7::text[]) AS t(q)
