-- Recurring workflows: one ALTER TABLE, applied atomically (see migration 4).
--
-- timeout_ms is the group's timeout (what deadline_at was computed from), so
-- the next occurrence gets the same one; cron_schedule, next_occurrence and
-- cron_live are as on hammerwork_jobs.
ALTER TABLE hammerwork_workflows
    ADD COLUMN cron_schedule   TEXT       NULL,
    ADD COLUMN timeout_ms      BIGINT     NULL,
    ADD COLUMN next_occurrence BINARY(16) NULL,
    ADD COLUMN cron_live       TINYINT    NULL,
    ADD INDEX hammerwork_workflows_cron_live (cron_live);
