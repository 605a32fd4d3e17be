-- Everything spawned under ?1, to depth ?2 (children are depth 1; depth 0
-- returns nothing), level by level, each level in id (creation) order.
WITH RECURSIVE tree AS (
    SELECT j.*, 1 AS tree_level FROM hammerwork_jobs j
    WHERE j.parent_job_id = ?1 AND ?2 >= 1
    UNION ALL
    SELECT j.*, tree.tree_level + 1 FROM hammerwork_jobs j
    JOIN tree ON j.parent_job_id = tree.id
    WHERE tree.tree_level < ?2
)
SELECT * FROM tree ORDER BY tree_level, id
