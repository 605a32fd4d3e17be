-- Finished (no job left to run) or cancelled live occurrences of recurring
-- workflows after id ?1 (NULL: from the start), in id order: read through the
-- partial index hammerwork_workflows_cron_live (on id), whose size is the
-- number of live series.
SELECT *, 0 AS running_jobs
FROM hammerwork_workflows
WHERE cron_live = 1
  AND (total_jobs = completed_jobs + failed_jobs + skipped_jobs + cancelled_jobs
       OR state = 'cancelled')
  AND (?1 IS NULL OR id > ?1)
ORDER BY id
LIMIT ?2
