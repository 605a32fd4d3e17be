-- Whether any of these stored jobs (ids distinct) is not yet flagged as
-- having dependents, or not visible yet: read without a lock, so only "all
-- exist and are flagged" is trusted (a flag, once set, stays). A parent that
-- commits between this read and the lock that follows is counted as
-- unflagged here, and locked exclusively and flagged.
SELECT count(*) FILTER (WHERE has_dependents) < cardinality($1::uuid[]) AS unflagged
FROM hammerwork_jobs
WHERE id = ANY($1::uuid[])
