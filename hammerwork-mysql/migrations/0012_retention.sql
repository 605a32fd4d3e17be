-- Retention (Storage::prune): the finished jobs outside workflows of a queue
-- and final status, in the order they ended. MySQL has no partial index:
-- finished_queue is NULL unless the job is finished and outside any
-- workflow, so the others sit apart at the start of the index. Virtual
-- columns, added alone (MySQL adds a virtual column in place only when it
-- is the only change), then the index. Safe to re-run: each change runs only
-- when missing.
SET @hammerwork_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.columns
     WHERE table_schema = DATABASE() AND table_name = 'hammerwork_jobs'
       AND column_name = 'finished_queue') = 0,
    'ALTER TABLE hammerwork_jobs
         ADD COLUMN finished_queue VARBINARY(255) GENERATED ALWAYS AS (
             CASE WHEN workflow_id IS NULL AND status IN (''completed'', ''skipped'', ''cancelled'', ''dead'')
                  THEN queue_name END
         ) VIRTUAL,
         ADD COLUMN finished_at DATETIME(6) GENERATED ALWAYS AS (COALESCE(completed_at, failed_at)) VIRTUAL',
    'DO 0');
PREPARE hammerwork_stmt FROM @hammerwork_ddl;
EXECUTE hammerwork_stmt;
DEALLOCATE PREPARE hammerwork_stmt;

SET @hammerwork_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.statistics
     WHERE table_schema = DATABASE() AND table_name = 'hammerwork_jobs'
       AND index_name = 'hammerwork_jobs_finished') = 0,
    'ALTER TABLE hammerwork_jobs ADD INDEX hammerwork_jobs_finished (finished_queue, status, finished_at)',
    'DO 0');
PREPARE hammerwork_stmt FROM @hammerwork_ddl;
EXECUTE hammerwork_stmt;
DEALLOCATE PREPARE hammerwork_stmt;
