-- The spawn operations that jobs ?1 (a JSON array of ids) of workflows being
-- pruned made.
DELETE FROM hammerwork_spawn_operations WHERE parent_job_id IN (SELECT value FROM json_each(?1))
