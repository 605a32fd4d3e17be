-- Whether any of these stored jobs is not yet flagged as having dependents.
-- Read without a lock: a flag, once set, stays, so all flagged here means
-- all flagged under the lock that follows.
SELECT EXISTS (
    SELECT 1 FROM hammerwork_jobs WHERE id = ANY($1::uuid[]) AND NOT has_dependents
)
