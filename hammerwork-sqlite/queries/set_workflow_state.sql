UPDATE hammerwork_workflows SET state = ?2
WHERE id IN (SELECT value FROM json_each(?1)) AND state IN ('running', 'paused')
