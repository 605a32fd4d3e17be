-- Retention (Storage::prune): the finished jobs outside workflows of a queue
-- and final status, in the order they ended. A pruning pass reads one range
-- of it per queue and status, oldest first; each job enters it once, when it
-- ends.
CREATE INDEX hammerwork_jobs_finished
    ON hammerwork_jobs (queue_name, status, COALESCE(completed_at, failed_at))
    WHERE workflow_id IS NULL AND status IN ('completed', 'skipped', 'cancelled', 'dead');
