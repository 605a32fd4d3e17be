use chrono::Utc;
use hammerwork_api::{Error, Result};
use sqlx::SqlitePool;

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
    9 => "0009_dependency_parents",
    10 => "0010_retention",
    11 => "0011_workflow_retention",
    12 => "0012_queues",
];

/// Applies every migration not yet recorded in `hammerwork_migrations`, all in
/// one transaction: a failure leaves the schema as it was.
///
/// `BEGIN IMMEDIATE` takes the write lock before reading which versions are
/// applied, so concurrent migrators (other connections or processes) run one
/// after the other and the later ones find nothing left to do.
pub(crate) async fn migrate(pool: &SqlitePool) -> Result<()> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(map_err)?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS hammerwork_migrations (
            version    INTEGER NOT NULL PRIMARY KEY,
            name       TEXT    NOT NULL,
            applied_at INTEGER NOT NULL -- microseconds since the Unix epoch
        ) STRICT",
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
        sqlx::query(
            "INSERT INTO hammerwork_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
        )
        .bind(version)
        .bind(name)
        .bind(Utc::now().timestamp_micros())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    }
    tx.commit().await.map_err(map_err)
}
