-- A workflow being retried runs again, whatever its state, and is no longer
-- finished.
UPDATE hammerwork_workflows SET state = 'running', finished_at = NULL WHERE id = $1 RETURNING id
