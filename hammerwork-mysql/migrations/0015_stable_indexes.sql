-- Indexes whose entries for a job outside workflows and cron series never
-- change: every status change used to move the entry of such a job in
-- (workflow_id, status) and (cron_live, status) too (a NULL first column
-- still keys the entry by status), two secondary-index writes per claim and
-- per settle that nothing reads.
-- workflow_status is the status of a workflow's job and NULL for the others;
-- the look-ups by workflow read it. A series' live occurrences are few, so
-- the cron index keys them by cron_live alone (its rows in id order).
-- Virtual column added alone (MySQL adds a virtual column in place only when
-- it is the only change), then each index. Safe to re-run: each change runs
-- only when missing.
SET @hammerwork_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.columns
     WHERE table_schema = DATABASE() AND table_name = 'hammerwork_jobs'
       AND column_name = 'workflow_status') = 0,
    'ALTER TABLE hammerwork_jobs
         ADD COLUMN workflow_status VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin
             GENERATED ALWAYS AS (CASE WHEN workflow_id IS NOT NULL THEN status END) VIRTUAL',
    'DO 0');
PREPARE hammerwork_stmt FROM @hammerwork_ddl;
EXECUTE hammerwork_stmt;
DEALLOCATE PREPARE hammerwork_stmt;

SET @hammerwork_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.statistics
     WHERE table_schema = DATABASE() AND table_name = 'hammerwork_jobs'
       AND index_name = 'hammerwork_jobs_workflow_status' AND column_name = 'status') > 0,
    'ALTER TABLE hammerwork_jobs
         DROP INDEX hammerwork_jobs_workflow_status,
         ADD INDEX hammerwork_jobs_workflow_status (workflow_id, workflow_status)',
    'DO 0');
PREPARE hammerwork_stmt FROM @hammerwork_ddl;
EXECUTE hammerwork_stmt;
DEALLOCATE PREPARE hammerwork_stmt;

SET @hammerwork_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.statistics
     WHERE table_schema = DATABASE() AND table_name = 'hammerwork_jobs'
       AND index_name = 'hammerwork_jobs_cron_live' AND column_name = 'status') > 0,
    'ALTER TABLE hammerwork_jobs
         DROP INDEX hammerwork_jobs_cron_live,
         ADD INDEX hammerwork_jobs_cron_live (cron_live)',
    'DO 0');
PREPARE hammerwork_stmt FROM @hammerwork_ddl;
EXECUTE hammerwork_stmt;
DEALLOCATE PREPARE hammerwork_stmt;
