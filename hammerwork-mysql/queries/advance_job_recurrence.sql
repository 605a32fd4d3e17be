-- Marks a recurring job's series as moved on, once: changes no row when
-- another scheduler got there first. (The status does not change, so the
-- workflow counter trigger does nothing.)
-- Params: next_occurrence (NULL when the series ends), id.
UPDATE hammerwork_jobs
SET cron_live = NULL, next_occurrence = ?
WHERE id = ? AND cron_live = 1
