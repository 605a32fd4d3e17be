-- Sets the state of those of the workflows $1 still open, locked in id order.
WITH locked AS MATERIALIZED (
    SELECT id FROM hammerwork_workflows
    WHERE id = ANY($1::uuid[]) AND state IN ('running', 'paused')
    ORDER BY id
    FOR UPDATE
)
UPDATE hammerwork_workflows AS w SET state = $2
FROM locked
WHERE w.id = locked.id AND w.state IN ('running', 'paused')
