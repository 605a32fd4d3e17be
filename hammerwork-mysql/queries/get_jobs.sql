-- Params: ids (JSON array of distinct hex ids, sorted).
SELECT j.*
FROM JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(t.id)
ORDER BY j.id
