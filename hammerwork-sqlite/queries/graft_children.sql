-- A parent ?1 that awaits its children ?2 (a JSON array of ids): every
-- dependent of ?1 still waiting gets the children as dependencies too
-- (depends_on, pending count; graft_children_edges.sql writes the edges), so
-- it is released only when they have finished as well.
UPDATE hammerwork_jobs
SET pending_dependencies = pending_dependencies + json_array_length(?2),
    depends_on = (
        SELECT json_group_array(value) FROM (
            SELECT 0 AS part, key, value FROM json_each(hammerwork_jobs.depends_on)
            UNION ALL
            SELECT 1 AS part, key, value FROM json_each(?2)
            ORDER BY part, key
        )
    )
WHERE id IN (SELECT job_id FROM hammerwork_job_dependencies WHERE parent_id = ?1)
  AND status IN ('pending', 'retrying')
  AND dependency_status = 'waiting'
RETURNING id
