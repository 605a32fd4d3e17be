-- The parents' results of these jobs (?1: a JSON array of ids), read through
-- each job's depends_on array: primary-key lookups, O(1) per edge (the edge
-- table is keyed by parent, not by dependent).
SELECT j.id AS job_id, p.result
FROM hammerwork_jobs AS j, json_each(j.depends_on) AS d
JOIN hammerwork_jobs AS p ON p.id = d.value
WHERE j.id IN (SELECT value FROM json_each(?1)) AND p.result IS NOT NULL
ORDER BY j.id, p.id
