-- Workflow counters are written by the engine (hammerwork-engine) once per
-- transaction instead of by a trigger per job row. Only the total and the
-- terminal counts are stored: running jobs are counted when a workflow is
-- read (through the partial index below, bounded by concurrency), pending is
-- what remains. A claim no longer writes the workflow row at all.
DROP TRIGGER hammerwork_jobs_workflow_counts;
ALTER TABLE hammerwork_workflows DROP COLUMN pending_jobs;
ALTER TABLE hammerwork_workflows DROP COLUMN running_jobs;
CREATE INDEX hammerwork_jobs_workflow_running
    ON hammerwork_jobs (workflow_id)
    WHERE status = 'running' AND workflow_id IS NOT NULL;
