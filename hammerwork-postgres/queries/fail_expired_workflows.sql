-- Open workflows past their deadline with jobs left to run fail, locked in
-- id order.
WITH expired AS MATERIALIZED (
    SELECT id FROM hammerwork_workflows
    WHERE deadline_at < $1 AND state IN ('running', 'paused')
      AND total_jobs > completed_jobs + failed_jobs + skipped_jobs + cancelled_jobs
    ORDER BY id
    FOR UPDATE
)
UPDATE hammerwork_workflows AS w SET state = 'failed'
FROM expired
WHERE w.id = expired.id
RETURNING w.id
