UPDATE hammerwork_workflows SET state = $2
WHERE id = ANY($1::uuid[]) AND state IN ('running', 'paused')
