-- The workflow being retried runs again and is no longer finished.
-- Params: id.
UPDATE hammerwork_workflows SET state = 'running', finished_at = NULL WHERE id = ?
