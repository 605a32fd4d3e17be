//! SQLite's schema, which `Engine::migrate` applies in one transaction: a
//! failure leaves the schema as it was.

use hammerwork_api::driver::Migrations;

/// The schema. The driver's transactions begin with `BEGIN IMMEDIATE`, which
/// takes the write lock before the applied versions are read, so concurrent
/// migrators (other connections or processes) run one after the other and
/// the later ones find nothing left to do.
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
        9 => "0009_dependency_parents",
        10 => "0010_retention",
        11 => "0011_workflow_retention",
        12 => "0012_queues",
    ],
};
