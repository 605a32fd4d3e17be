-- A workflow being retried runs again, whatever its state.
UPDATE hammerwork_workflows SET state = 'running' WHERE id = ?1 RETURNING id
