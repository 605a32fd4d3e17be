use hammerwork_api::{Error, Result};
use sqlx::PgPool;

use crate::map_err::map_err;

/// `(version, file name, SQL)` of each `migrations/<file>.sql`.
macro_rules! migrations {
    ($($version:literal => $file:literal),* $(,)?) => {
        &[$(($version, $file, include_str!(concat!("../migrations/", $file, ".sql")))),*]
    };
}

/// Embedded migrations: (version, name, SQL). Append only; never edit one
/// that has shipped.
const MIGRATIONS: &[(i64, &str, &str)] = migrations![
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
];

/// Serialises concurrent migrators (any process, any schema) on one key.
const MIGRATION_LOCK_KEY: i64 = 0x6861_6d6d_6572;

/// Applies every migration not yet recorded in `hammerwork_migrations`, all in
/// one transaction: a failure leaves the schema as it was.
pub(crate) async fn migrate(pool: &PgPool) -> Result<()> {
    let mut tx = pool.begin().await.map_err(map_err)?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK_KEY)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS hammerwork_migrations (
            version BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )",
    )
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM hammerwork_migrations")
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
    for &(version, name, sql) in MIGRATIONS {
        if applied.contains(&version) {
            continue;
        }
        tracing::info!(version, name, "applying hammerwork migration");
        sqlx::raw_sql(sql)
            .execute(&mut *tx)
            .await
            .map_err(|e| Error::Migration {
                version,
                source: Box::new(e),
            })?;
        sqlx::query("INSERT INTO hammerwork_migrations (version, name) VALUES ($1, $2)")
            .bind(version)
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
    }
    tx.commit().await.map_err(map_err)
}
