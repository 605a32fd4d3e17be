-- One row per queue an operator paused (or paused and resumed): claims read
-- it by key, so a pause holds for every worker of every process.
CREATE TABLE hammerwork_queues (
    name      TEXT    PRIMARY KEY,
    paused_at INTEGER
);
