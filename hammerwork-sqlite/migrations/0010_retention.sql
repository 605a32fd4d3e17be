-- Retention (Storage::prune): the finished jobs outside workflows of a queue
-- and final status, in the order they ended. A pruning pass reads one range
-- of it per queue and status, oldest first; each job enters it once, when it
-- ends. The scheduler's listing of live cron occurrences gets an index in
-- its own (id) order, as on PostgreSQL.
CREATE INDEX hammerwork_jobs_finished
    ON hammerwork_jobs (queue_name, status, COALESCE(completed_at, failed_at))
    WHERE workflow_id IS NULL AND status IN ('completed', 'skipped', 'cancelled', 'dead');
