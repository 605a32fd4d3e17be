UPDATE hammerwork_jobs AS j
SET status = 'completed',
    result = t.result,
    completed_at = $4,
    lease_expires_at = NULL
FROM UNNEST($1::uuid[], $2::int[], $3::jsonb[]) AS t(id, attempt, result)
WHERE j.id = t.id AND j.attempts = t.attempt AND j.status = 'running'
RETURNING j.id, j.status, j.workflow_id
