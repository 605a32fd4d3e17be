-- Flags the stored parents lock_stored_parents.sql just share-locked as
-- having dependents, so settling them follows the edge table from now on
-- (settle_independent skips a flagged job). Only the first enqueue to depend
-- on a job writes it; two doing so at once may deadlock on the upgrade of
-- their share locks, and the engine retries the loser.
UPDATE hammerwork_jobs
SET has_dependents = true
WHERE id = ANY($1::uuid[]) AND NOT has_dependents
