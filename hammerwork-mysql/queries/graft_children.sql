-- The held dependents (locked by graft_children_held.sql) wait for the children
-- too: their pending count grows by the number of children
-- (graft_children_edges.sql writes the edges; depends_on keeps what was
-- declared).
-- Params: dependents (JSON array of hex ids, sorted), number of children.
UPDATE JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(t.id)
SET j.pending_dependencies = j.pending_dependencies + ?
