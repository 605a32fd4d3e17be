-- Params: id.
UPDATE hammerwork_workflows SET state = 'running' WHERE id = ?
