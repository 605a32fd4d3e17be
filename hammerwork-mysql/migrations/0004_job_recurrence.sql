-- Recurring jobs: one ALTER TABLE, which InnoDB applies atomically (MySQL 8
-- has no ADD COLUMN IF NOT EXISTS, so this migration holds this one change
-- only; the workflows' columns are migration 5).
--
-- cron_schedule is the job's cron expression (NULL for a job that does not
-- recur); next_occurrence links a finished occurrence to the one enqueued
-- after it. cron_live is 1 while the series is to be continued from this row
-- (set at insert for a recurring job) and NULL otherwise, including once
-- advance_recurrence has continued or ended the series: MySQL has no partial
-- index, so (cron_live, status) stands in for PostgreSQL's `WHERE cron_live`,
-- and listing the finished occurrences to continue costs O(result).
ALTER TABLE hammerwork_jobs
    ADD COLUMN cron_schedule   TEXT       NULL,
    ADD COLUMN next_occurrence BINARY(16) NULL,
    ADD COLUMN cron_live       TINYINT    NULL,
    ADD INDEX hammerwork_jobs_cron_live (cron_live, status);
