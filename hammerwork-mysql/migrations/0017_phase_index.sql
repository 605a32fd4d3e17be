-- One index for a job's place in its queue, in place of three.
--
-- hammerwork_jobs_ready (claims), hammerwork_jobs_queue_status (listing,
-- counting, the rescuer's running jobs) and hammerwork_jobs_finished
-- (retention) each held an entry for every job, and a plain job's life moved
-- four of them: its claim moved the ready and queue_status entries, its
-- completion the queue_status and finished ones. InnoDB moves an entry (marks
-- it deleted, inserts another, purges the old one later) whenever one of its
-- columns changes; a moved entry cost about as much as the rest of the
-- row's update (measured on MariaDB 10.11: 6 us for an UPDATE by key that
-- moves no entry, 12 us with one moved, 18 us with two).
--
-- hammerwork_jobs_phase is (queue_name, phase, phase_rank, phase_at, status):
--   phase       'ready' for a job that can be claimed (pending or retrying,
--               with no dependency left to wait for); otherwise its status.
--   phase_rank  claim order for a ready job (-priority: ascending, so one
--               ascending index serves `priority DESC`); for a finished job
--               1 inside a workflow and 0 outside (retention prunes a
--               workflow's jobs with their workflow only); NULL otherwise.
--   phase_at    scheduled_at for a ready job, when it ended for a finished
--               one, NULL otherwise.
-- So a claim walks (queue, 'ready') in claim order and stops after `limit`
-- entries, the rescuer reads (queue, 'running'), retention reads (queue,
-- status, 0) oldest first, and counting a queue reads its entries only. A
-- claim moves the job's one entry, and so does its completion; an insert
-- writes one entry instead of three. The entry of a running job holds no
-- lease, so a heartbeat moves nothing.
--
-- Listing a queue's jobs of one status in id order now sorts that status's
-- entries of the queue (the index is not in id order within them): the cost
-- of a page is the number of such jobs, read from the index alone.
--
-- The three columns are STORED. Built VIRTUAL first, reads through the
-- index on MariaDB 10.11 missed rows now and then while other transactions
-- ran: a list of a queue's 200 completed jobs gave 198, then 200 a moment
-- later (retention_and_counts_read_the_phase_index, about one run in two
-- with the other tests beside it; never with STORED columns). Stored, they
-- take row bytes a claim's room accounts for (claim_jobs_apply.sql).
--
-- Stop every process of an earlier version before running this migration:
-- their claims, rescues and pruning name the dropped indexes and fail.
-- Adding stored columns rebuilds the table: it takes a while on a large one.
--
-- One ALTER TABLE (one rebuild), atomic on MySQL 8 and MariaDB 10.6+; it
-- runs only while the phase column is missing, so the migration is safe to
-- re-run.
SET @hammerwork_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.columns
     WHERE table_schema = DATABASE() AND table_name = 'hammerwork_jobs'
       AND column_name = 'phase') = 0,
    'ALTER TABLE hammerwork_jobs
         ADD COLUMN phase VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin
             GENERATED ALWAYS AS (
                 CASE WHEN status IN (''pending'', ''retrying'') AND dependency_status IN (''none'', ''satisfied'')
                      THEN ''ready''
                      ELSE status END
             ) STORED,
         ADD COLUMN phase_rank SMALLINT
             GENERATED ALWAYS AS (
                 CASE WHEN status IN (''pending'', ''retrying'') AND dependency_status IN (''none'', ''satisfied'')
                      THEN -priority
                      WHEN status IN (''completed'', ''skipped'', ''cancelled'', ''dead'')
                      THEN workflow_id IS NOT NULL
                 END
             ) STORED,
         ADD COLUMN phase_at DATETIME(6)
             GENERATED ALWAYS AS (
                 CASE WHEN status IN (''pending'', ''retrying'') AND dependency_status IN (''none'', ''satisfied'')
                      THEN scheduled_at
                      WHEN status IN (''completed'', ''skipped'', ''cancelled'', ''dead'')
                      THEN COALESCE(completed_at, failed_at)
                 END
             ) STORED,
         ADD INDEX hammerwork_jobs_phase (queue_name, phase, phase_rank, phase_at, status),
         DROP INDEX hammerwork_jobs_ready,
         DROP INDEX hammerwork_jobs_queue_status,
         DROP INDEX hammerwork_jobs_finished,
         DROP COLUMN finished_queue,
         DROP COLUMN finished_status,
         DROP COLUMN finished_at,
         DROP COLUMN ready_queue,
         DROP COLUMN neg_priority',
    'DO 0');
PREPARE hammerwork_stmt FROM @hammerwork_ddl;
EXECUTE hammerwork_stmt;
DEALLOCATE PREPARE hammerwork_stmt;
