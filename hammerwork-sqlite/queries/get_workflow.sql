SELECT * FROM hammerwork_workflows WHERE id = ?1
