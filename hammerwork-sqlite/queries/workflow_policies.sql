SELECT id, failure_policy FROM hammerwork_workflows WHERE id IN (SELECT value FROM json_each(?1))
