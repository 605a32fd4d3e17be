-- Flags the stored parents lock_stored_parents.sql just locked exclusively
-- as having dependents, so settling them follows the edge table from now on
-- (settle_independent skips a flagged job).
UPDATE hammerwork_jobs
SET has_dependents = true
WHERE id = ANY($1::uuid[]) AND NOT has_dependents
