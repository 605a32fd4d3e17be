-- Everything spawned under a job, to a depth (its children are level 1),
-- level by level, each level in id (creation) order. The recursive part
-- holds no LIMIT, ORDER BY or aggregate (neither MySQL nor MariaDB allows
-- them there); each level is one more iteration, so the depth is capped at
-- MySQL's cte_max_recursion_depth (1000 by default).
-- Params: id, depth.
WITH RECURSIVE tree AS (
    SELECT j.*, 1 AS tree_level
    FROM hammerwork_jobs AS j
    WHERE j.parent_job_id = ?1 AND ?2 >= 1
    UNION ALL
    SELECT j.*, tree.tree_level + 1
    FROM tree
    JOIN hammerwork_jobs AS j ON j.parent_job_id = tree.id
    WHERE tree.tree_level < LEAST(?2, 1000)
)
SELECT * FROM tree ORDER BY tree_level, id
