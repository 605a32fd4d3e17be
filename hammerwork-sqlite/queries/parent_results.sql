-- The parents' results of these jobs (?1: a JSON array of ids), through the
-- edge table's job_id index, O(1) per edge. Parents in id (creation) order:
-- when results are merged for a condition, a later parent's field wins.
SELECT d.job_id AS job_id, p.result
FROM hammerwork_job_dependencies AS d
JOIN hammerwork_jobs AS p ON p.id = d.parent_id
WHERE d.job_id IN (SELECT value FROM json_each(?1)) AND p.result IS NOT NULL
ORDER BY d.job_id, d.parent_id
