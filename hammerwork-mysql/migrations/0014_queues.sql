-- One row per queue an operator paused (or paused and resumed): claims read
-- it by key, so a pause holds for every worker of every process.
CREATE TABLE IF NOT EXISTS hammerwork_queues (
    name      VARBINARY(255) NOT NULL PRIMARY KEY,
    paused_at DATETIME(6)    NULL
) ENGINE = InnoDB;
