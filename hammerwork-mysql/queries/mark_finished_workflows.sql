-- Stamps a time on those of the workflows (locked by add_workflow_counts.sql
-- in this transaction) whose every job is now final, once.
-- Params: ids (JSON array of hex ids, sorted), time.
UPDATE JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_workflows AS w ON w.id = UNHEX(t.id)
SET w.finished_at = ?
WHERE w.finished_at IS NULL
  AND w.total_jobs = w.completed_jobs + w.failed_jobs + w.skipped_jobs + w.cancelled_jobs
