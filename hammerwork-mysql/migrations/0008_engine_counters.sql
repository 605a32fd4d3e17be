-- Workflow counters are written by the engine (hammerwork-engine) once per
-- transaction, workflow rows in id order, instead of by a trigger per job
-- row; creating the trigger needed the TRIGGER privilege (and SUPER or
-- log_bin_trust_function_creators with binary logging), which is no longer
-- asked for. Only the total and the terminal counts are stored: running
-- jobs are counted when a workflow is read, through the (workflow_id,
-- status) index, and pending is what remains. A claim no longer writes the
-- workflow row at all.
--
-- Safe to re-run (MySQL commits DDL as it goes and has no DROP COLUMN IF
-- EXISTS or ADD INDEX IF NOT EXISTS): each change runs only when the schema
-- still lacks it.
DROP TRIGGER IF EXISTS hammerwork_jobs_workflow_counts;

SET @hammerwork_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.columns
     WHERE table_schema = DATABASE() AND table_name = 'hammerwork_workflows'
       AND column_name = 'pending_jobs') > 0,
    'ALTER TABLE hammerwork_workflows DROP COLUMN pending_jobs, DROP COLUMN running_jobs',
    'DO 0');
PREPARE hammerwork_stmt FROM @hammerwork_ddl;
EXECUTE hammerwork_stmt;
DEALLOCATE PREPARE hammerwork_stmt;

SET @hammerwork_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.statistics
     WHERE table_schema = DATABASE() AND table_name = 'hammerwork_jobs'
       AND index_name = 'hammerwork_jobs_workflow_status') = 0,
    'ALTER TABLE hammerwork_jobs ADD INDEX hammerwork_jobs_workflow_status (workflow_id, status)',
    'DO 0');
PREPARE hammerwork_stmt FROM @hammerwork_ddl;
EXECUTE hammerwork_stmt;
DEALLOCATE PREPARE hammerwork_stmt;

-- The (workflow_id, status) index serves every look-up by workflow.
SET @hammerwork_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.statistics
     WHERE table_schema = DATABASE() AND table_name = 'hammerwork_jobs'
       AND index_name = 'hammerwork_jobs_workflow') > 0,
    'ALTER TABLE hammerwork_jobs DROP INDEX hammerwork_jobs_workflow',
    'DO 0');
PREPARE hammerwork_stmt FROM @hammerwork_ddl;
EXECUTE hammerwork_stmt;
DEALLOCATE PREPARE hammerwork_stmt;
