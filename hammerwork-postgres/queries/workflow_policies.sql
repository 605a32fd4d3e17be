SELECT id, failure_policy FROM hammerwork_workflows WHERE id = ANY($1::uuid[])
