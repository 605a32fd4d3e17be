-- Marks a recurring workflow's series as moved on, once: changes no row when
-- another scheduler got there first.
-- Params: next_occurrence (NULL when the series ends), id.
UPDATE hammerwork_workflows
SET cron_live = NULL, next_occurrence = ?
WHERE id = ? AND cron_live = 1
