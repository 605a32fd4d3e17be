-- The held dependents (locked by graft_children_held.sql) wait for the children
-- too: their pending count grows by the number of children, and depends_on
-- gets the children's ids appended (graft_children_edges.sql writes the edges).
-- Params: dependents (JSON array of hex ids, sorted), number of children,
-- children (JSON array of ids as in depends_on).
UPDATE JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(t.id)
SET j.pending_dependencies = j.pending_dependencies + ?,
    j.depends_on = JSON_MERGE_PRESERVE(COALESCE(j.depends_on, JSON_ARRAY()), ?)
