-- The dependents of a batch of completed jobs and how many of their parents
-- are in the batch: one edge-table range scan per parent. Ordered by id so
-- concurrent settles lock dependents in the same order.
SELECT job_id, COUNT(*)::int AS n
FROM hammerwork_job_dependencies
WHERE parent_id = ANY($1::uuid[])
GROUP BY job_id
ORDER BY job_id
