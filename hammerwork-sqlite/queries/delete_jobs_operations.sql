-- The spawn operations that those of jobs ?1 (a JSON array of ids) that no
-- stored job depends on made.
DELETE FROM hammerwork_spawn_operations
WHERE parent_job_id IN (SELECT value FROM json_each(?1))
  AND NOT EXISTS (SELECT 1 FROM hammerwork_job_dependencies AS d
                  WHERE d.parent_id = hammerwork_spawn_operations.parent_job_id)
