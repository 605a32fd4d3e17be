-- A parent ?1 that awaits its children ?2 (a JSON array of ids): every
-- dependent of ?1 still waiting gets the children as dependencies too (the
-- pending count; graft_children_edges.sql writes the edges; its depends_on
-- keeps what was declared), so it is released only when they have finished
-- as well.
UPDATE hammerwork_jobs
SET pending_dependencies = pending_dependencies + json_array_length(?2)
WHERE id IN (SELECT job_id FROM hammerwork_job_dependencies WHERE parent_id = ?1)
  AND status IN ('pending', 'retrying')
  AND dependency_status = 'waiting'
RETURNING id
