-- Marks a recurring workflow's series as moved on, once: changes no row when
-- another scheduler got there first.
-- Params: id, next_occurrence (NULL when the series ends).
UPDATE hammerwork_workflows
SET cron_live = NULL, next_occurrence = ?2
WHERE id = ?1 AND cron_live = 1
