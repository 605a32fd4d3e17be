-- Whether a spawn's children are awaited by the parent's dependents, so a
-- dependent enqueued after the parent completed waits for them too. Safe to
-- re-run: added only when missing.
SET @hammerwork_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.columns
     WHERE table_schema = DATABASE() AND table_name = 'hammerwork_spawn_operations'
       AND column_name = 'await_children') = 0,
    'ALTER TABLE hammerwork_spawn_operations ADD COLUMN await_children TINYINT NOT NULL DEFAULT 0',
    'DO 0');
PREPARE hammerwork_stmt FROM @hammerwork_ddl;
EXECUTE hammerwork_stmt;
DEALLOCATE PREPARE hammerwork_stmt;
