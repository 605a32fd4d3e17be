-- Recurring (cron) jobs and workflows, in SQLite's dialect of the PostgreSQL
-- migration. `cron_live` is 1 on the occurrence a series continues from and
-- NULL everywhere else (set at insert when the row has a schedule, cleared by
-- advance_recurrence), so the scheduler's listing reads only the few live
-- occurrences, through the partial indexes below, whatever the number of
-- finished ones. next_occurrence links an occurrence to the one enqueued
-- after it (ids as TEXT, like every id).
ALTER TABLE hammerwork_jobs ADD COLUMN cron_schedule TEXT;
ALTER TABLE hammerwork_jobs ADD COLUMN cron_live INTEGER;
ALTER TABLE hammerwork_jobs ADD COLUMN next_occurrence TEXT;

CREATE INDEX hammerwork_jobs_cron_due
    ON hammerwork_jobs (status)
    WHERE cron_live IS NOT NULL;

ALTER TABLE hammerwork_workflows ADD COLUMN cron_schedule TEXT;
ALTER TABLE hammerwork_workflows ADD COLUMN timeout_ms INTEGER;
ALTER TABLE hammerwork_workflows ADD COLUMN cron_live INTEGER;
ALTER TABLE hammerwork_workflows ADD COLUMN next_occurrence TEXT;

CREATE INDEX hammerwork_workflows_cron_live
    ON hammerwork_workflows (id)
    WHERE cron_live IS NOT NULL;
