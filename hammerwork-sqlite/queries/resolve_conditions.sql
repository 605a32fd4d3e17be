-- Jobs whose parents all completed and whose condition was evaluated
-- (?1: a JSON array of [id, runs]): true -> satisfied (claimable), false ->
-- skipped.
UPDATE hammerwork_jobs AS j
SET dependency_status = 'satisfied',
    status = CASE WHEN t.runs THEN j.status ELSE 'skipped' END,
    error_message = CASE WHEN t.runs THEN j.error_message ELSE 'condition is false' END,
    completed_at = CASE WHEN t.runs THEN j.completed_at ELSE ?2 END
FROM (
    SELECT value ->> '$[0]' AS id, value ->> '$[1]' AS runs
    FROM json_each(?1)
) AS t
WHERE j.id = t.id
