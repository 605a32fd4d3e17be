-- The workflow being retried, locked (reopen_workflow_apply.sql then marks
-- it running).
-- Params: id.
SELECT id FROM hammerwork_workflows WHERE id = ? FOR UPDATE
