-- Retention of whole workflows (Storage::prune): when a workflow finished
-- (every job final), stamped by the engine in the transaction that ended
-- its last job, cleared by a retry. Pruning reads the index oldest first
-- (NULLs, the unfinished, sit apart at its start). Workflows already
-- finished get the time their last job ended. Safe to re-run: each change
-- runs only when missing.
SET @hammerwork_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.columns
     WHERE table_schema = DATABASE() AND table_name = 'hammerwork_workflows'
       AND column_name = 'finished_at') = 0,
    'ALTER TABLE hammerwork_workflows ADD COLUMN finished_at DATETIME(6) NULL',
    'DO 0');
PREPARE hammerwork_stmt FROM @hammerwork_ddl;
EXECUTE hammerwork_stmt;
DEALLOCATE PREPARE hammerwork_stmt;

UPDATE hammerwork_workflows AS w
SET w.finished_at = (SELECT MAX(COALESCE(j.completed_at, j.failed_at))
                     FROM hammerwork_jobs AS j WHERE j.workflow_id = w.id)
WHERE w.finished_at IS NULL
  AND w.total_jobs = w.completed_jobs + w.failed_jobs + w.skipped_jobs + w.cancelled_jobs;

SET @hammerwork_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.statistics
     WHERE table_schema = DATABASE() AND table_name = 'hammerwork_workflows'
       AND index_name = 'hammerwork_workflows_finished') = 0,
    'ALTER TABLE hammerwork_workflows ADD INDEX hammerwork_workflows_finished (finished_at)',
    'DO 0');
PREPARE hammerwork_stmt FROM @hammerwork_ddl;
EXECUTE hammerwork_stmt;
DEALLOCATE PREPARE hammerwork_stmt;
