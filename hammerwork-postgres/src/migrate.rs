//! PostgreSQL's schema, which `Engine::migrate` applies in one transaction:
//! a failure leaves the schema as it was.

use hammerwork_api::driver::Migrations;

/// The schema. Concurrent migrators (any process, any schema) wait on one
/// transaction-scoped advisory lock (queries/setup_migrations.sql).
pub(crate) const MIGRATIONS: Migrations = Migrations {
    setup: include_str!("../queries/setup_migrations.sql"),
    steps: hammerwork_api::migrations![
        1 => "0001_jobs",
        2 => "0002_workflows",
        3 => "0003_recurrence",
        4 => "0004_spawn",
        5 => "0005_engine_counters",
        6 => "0006_lease_claims",
        7 => "0007_leaders",
        8 => "0008_spawn_await",
        9 => "0009_flat_history",
        10 => "0010_retention",
        11 => "0011_workflow_retention",
        12 => "0012_queues",
        13 => "0013_has_dependents",
    ],
};
