-- Recurring (cron) jobs and workflows. `cron_live` is 1 on the occurrence a
-- series continues from and NULL everywhere else, so the scheduler's listing
-- reads only the few live occurrences that have finished.
ALTER TABLE hammerwork_jobs
    ADD COLUMN cron_schedule   TEXT,
    ADD COLUMN cron_live       SMALLINT,
    ADD COLUMN next_occurrence UUID;

CREATE INDEX hammerwork_jobs_cron_due
    ON hammerwork_jobs (status)
    WHERE cron_live IS NOT NULL;

ALTER TABLE hammerwork_workflows
    ADD COLUMN cron_schedule   TEXT,
    ADD COLUMN timeout_ms      BIGINT,
    ADD COLUMN cron_live       SMALLINT,
    ADD COLUMN next_occurrence UUID;

CREATE INDEX hammerwork_workflows_cron_live
    ON hammerwork_workflows (id)
    WHERE cron_live IS NOT NULL;
