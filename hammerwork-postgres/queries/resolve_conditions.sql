-- Jobs whose parents all completed and whose condition was evaluated:
-- true -> satisfied (claimable), false -> skipped.
UPDATE hammerwork_jobs AS j
SET dependency_status = 'satisfied',
    status = CASE WHEN t.runs THEN j.status ELSE 'skipped' END,
    error_message = CASE WHEN t.runs THEN j.error_message ELSE 'condition is false' END,
    completed_at = CASE WHEN t.runs THEN j.completed_at ELSE $3 END
FROM UNNEST($1::uuid[], $2::bool[]) AS t(id, runs)
WHERE j.id = t.id
