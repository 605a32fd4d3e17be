-- Workflow counters are written by the engine (hammerwork-engine) once per
-- transaction, workflow rows in id order, instead of by a trigger per job
-- row in whatever order a statement visits jobs. Only the total and the
-- terminal counts are stored: running jobs are counted when a workflow is
-- read (through the partial index below, bounded by concurrency), pending
-- is what remains. A claim no longer writes the workflow row at all.
DROP TRIGGER hammerwork_jobs_workflow_counts ON hammerwork_jobs;
DROP FUNCTION hammerwork_count_workflow_transition();
DROP FUNCTION hammerwork_workflow_bucket(TEXT);
ALTER TABLE hammerwork_workflows DROP COLUMN pending_jobs, DROP COLUMN running_jobs;
CREATE INDEX hammerwork_jobs_workflow_running
    ON hammerwork_jobs (workflow_id)
    WHERE status = 'running' AND workflow_id IS NOT NULL;
