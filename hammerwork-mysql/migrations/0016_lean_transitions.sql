-- Cheaper claims and settles on InnoDB.
--
-- Fewer secondary-index writes per claim, settle and heartbeat. InnoDB moves
-- a job's entry in a secondary index (delete-marks it, inserts another, and
-- purges the old one later) whenever a column of that index changes, NULL
-- or not: MySQL has no partial index to leave a job out.
--
-- The rescuer's index (status, lease_expires_at) moved at every claim,
-- settle and heartbeat. It goes: running jobs are few (those being worked on
-- or held by a worker), and rescue_expired_jobs.sql reaches them through
-- hammerwork_jobs_queue_status, one range per queue (rescue_candidates.sql).
--
-- Stop every process of an earlier version before running this migration:
-- their rescue query names the dropped index (it fails), and their pruning
-- query cannot use the re-keyed finished index (it reads and, on MariaDB,
-- locks every finished job of a queue).
--
-- hammerwork_jobs_finished keyed every job by status, so every claim moved
-- the entry of a job that had not finished. finished_status is the status of
-- a finished job outside workflows (where finished_queue is set) and NULL
-- for the others, whose entries now stay put until the job ends.
--
-- Room for the claim's writes. A first claim sets started_at and
-- lease_expires_at, NULL until then (no bytes), so the row grew by 16
-- bytes; rows are inserted in id order into full pages, so each grown row
-- split or reorganised its page (an UPDATE of the claim took twice as long
-- as one that keeps the row's size, measured). A new row holds 24 bytes of
-- room: a first claim leaves 8 of them, a later claim (which sets only the
-- lease) the rest (claim_jobs_apply.sql), so the row keeps its size and
-- fits where it was; a completion by key empties it (settle_completed.sql).
-- Added as a column with a default: MySQL 8 and MariaDB add it without
-- rebuilding the table, and every insert fills it.
--
-- Columns added alone (MySQL adds a virtual column in place only when it is
-- the only change), then each index. Safe to re-run: each change runs only
-- when missing.
SET @hammerwork_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.columns
     WHERE table_schema = DATABASE() AND table_name = 'hammerwork_jobs'
       AND column_name = 'finished_status') = 0,
    'ALTER TABLE hammerwork_jobs
         ADD COLUMN finished_status VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin
             GENERATED ALWAYS AS (
                 CASE WHEN workflow_id IS NULL AND status IN (''completed'', ''skipped'', ''cancelled'', ''dead'')
                      THEN status END
             ) VIRTUAL',
    'DO 0');
PREPARE hammerwork_stmt FROM @hammerwork_ddl;
EXECUTE hammerwork_stmt;
DEALLOCATE PREPARE hammerwork_stmt;

SET @hammerwork_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.statistics
     WHERE table_schema = DATABASE() AND table_name = 'hammerwork_jobs'
       AND index_name = 'hammerwork_jobs_finished' AND column_name = 'status') > 0,
    'ALTER TABLE hammerwork_jobs
         DROP INDEX hammerwork_jobs_finished,
         ADD INDEX hammerwork_jobs_finished (finished_queue, finished_status, finished_at)',
    'DO 0');
PREPARE hammerwork_stmt FROM @hammerwork_ddl;
EXECUTE hammerwork_stmt;
DEALLOCATE PREPARE hammerwork_stmt;

SET @hammerwork_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.statistics
     WHERE table_schema = DATABASE() AND table_name = 'hammerwork_jobs'
       AND index_name = 'hammerwork_jobs_lease') > 0,
    'ALTER TABLE hammerwork_jobs DROP INDEX hammerwork_jobs_lease',
    'DO 0');
PREPARE hammerwork_stmt FROM @hammerwork_ddl;
EXECUTE hammerwork_stmt;
DEALLOCATE PREPARE hammerwork_stmt;

SET @hammerwork_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.columns
     WHERE table_schema = DATABASE() AND table_name = 'hammerwork_jobs'
       AND column_name = 'room') = 0,
    'ALTER TABLE hammerwork_jobs ADD COLUMN room VARBINARY(24) NULL DEFAULT ''........................''',
    'DO 0');
PREPARE hammerwork_stmt FROM @hammerwork_ddl;
EXECUTE hammerwork_stmt;
DEALLOCATE PREPARE hammerwork_stmt;
