SELECT *
FROM hammerwork_workflows
WHERE (?1 IS NULL OR id > ?1)
ORDER BY id
LIMIT ?2
