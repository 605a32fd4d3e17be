-- Whether a spawn's children are awaited by the parent's dependents, so a
-- dependent enqueued after the parent completed waits for them too.
ALTER TABLE hammerwork_spawn_operations
    ADD COLUMN await_children INTEGER NOT NULL DEFAULT 0;
