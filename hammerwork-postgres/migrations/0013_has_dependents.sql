-- has_dependents is set on a job once some job depends on it: at its insert
-- when its own batch depends on it, or by the enqueue that locks it as a
-- stored parent (lock_stored_parents_mark.sql). A job outside any workflow
-- without it is settled by one statement and no transaction
-- (PgDriver::settle_independent): nothing waits on it.
-- Stop every process of an earlier version that enqueues (workers and
-- producers) before running this migration: they add edges without setting
-- the flag.
ALTER TABLE hammerwork_jobs ADD COLUMN has_dependents BOOLEAN NOT NULL DEFAULT false;
UPDATE hammerwork_jobs AS j
SET has_dependents = true
WHERE EXISTS (SELECT 1 FROM hammerwork_job_dependencies AS d WHERE d.parent_id = j.id);
