-- Params: after, after, limit.
SELECT *
FROM hammerwork_workflows
WHERE (? IS NULL OR id > ?)
ORDER BY id
LIMIT ?
