-- $1's parent, grandparent, ... nearest first.
WITH RECURSIVE chain AS (
    SELECT p.*, 1 AS chain_level FROM hammerwork_jobs p
    WHERE p.id = (SELECT parent_job_id FROM hammerwork_jobs WHERE id = $1)
    UNION ALL
    SELECT p.*, chain.chain_level + 1 FROM hammerwork_jobs p
    JOIN chain ON p.id = chain.parent_job_id
    WHERE chain.chain_level < 1000
)
SELECT * FROM chain ORDER BY chain_level
