use hammerwork_api::driver::{Migrations, Transaction};
use hammerwork_api::{Error, Result};
use sqlx::{Connection, MySqlConnection, MySqlPool};

use crate::map_err::map_err;
use crate::row::text;
use crate::tx::MySqlTx;

/// The schema: the setup script, then the migrations (version, name, SQL).
/// Append only; never edit one that has shipped.
///
/// MySQL commits each DDL statement as it runs, so a migration cannot be
/// rolled back: a crash between its statements and its record in
/// `hammerwork_migrations` would run it again. Every migration must therefore
/// be safe to re-run (`CREATE TABLE IF NOT EXISTS`, and on MySQL 8, which has
/// no `ADD COLUMN IF NOT EXISTS`, one change per migration).
const MIGRATIONS: Migrations = Migrations {
    setup: include_str!("../queries/setup_migrations.sql"),
    steps: hammerwork_api::migrations![
        1 => "0001_jobs",
        2 => "0002_job_dependencies",
        3 => "0003_workflows",
        4 => "0004_job_recurrence",
        5 => "0005_workflow_recurrence",
        6 => "0006_job_spawn",
        7 => "0007_spawn_operations",
        8 => "0008_engine_counters",
        9 => "0009_lease_claims",
        10 => "0010_leaders",
        11 => "0011_spawn_await",
        12 => "0012_retention",
        13 => "0013_workflow_retention",
        14 => "0014_queues",
        15 => "0015_stable_indexes",
        16 => "0016_lean_transitions",
        17 => "0017_phase_index",
    ],
};

/// Longest wait for another process's migration to finish, in seconds.
const LOCK_TIMEOUT_SECS: i64 = 300;

/// Applies every migration not yet recorded in `hammerwork_migrations`.
///
/// Concurrent migrators (any process) are serialised with a named lock,
/// `GET_LOCK`, scoped to the connection's database. The lock belongs to the
/// session, so the connection is closed rather than returned to the pool:
/// however this future ends (even dropped mid-way), the lock goes with it.
pub(crate) async fn migrate(pool: &MySqlPool) -> Result<()> {
    let mut pooled = pool.acquire().await.map_err(map_err)?;
    pooled.close_on_drop();
    // Plain `&mut MySqlConnection` from here on: executing on `&mut *pooled`
    // directly makes the future fail the `Send` check of `tokio::spawn`.
    let conn: &mut MySqlConnection = &mut pooled;
    let row = sqlx::query("SELECT DATABASE() AS name")
        .fetch_one(&mut *conn)
        .await
        .map_err(map_err)?;
    let database = text(&row, "name")?.ok_or_else(|| {
        Error::Config("the MySQL connection has no default database; name one in the URL".into())
    })?;
    let lock = lock_name(&database);
    let locked: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, ?)")
        .bind(&lock)
        .bind(LOCK_TIMEOUT_SECS)
        .fetch_one(&mut *conn)
        .await
        .map_err(map_err)?;
    if locked != Some(1) {
        return Err(Error::Config(format!(
            "timed out after {LOCK_TIMEOUT_SECS} s waiting for lock {lock:?} \
             held by another hammerwork migration"
        )));
    }
    let applied = apply(conn).await;
    let released = sqlx::query("SELECT RELEASE_LOCK(?)")
        .bind(&lock)
        .execute(&mut *conn)
        .await
        .map_err(map_err);
    applied.and(released.map(drop))
}

/// The migrations, in a transaction of `conn` (which commits at each DDL
/// statement: MySQL's DDL is not transactional).
async fn apply(conn: &mut MySqlConnection) -> Result<()> {
    let tx = conn.begin().await.map_err(map_err)?;
    let mut tx = MySqlTx::new(tx, None);
    hammerwork_engine::apply_migrations(&mut tx, MIGRATIONS).await?;
    tx.commit().await
}

/// The `GET_LOCK` name for migrating `database`. MySQL caps lock names at 64
/// characters: a long database name is replaced by a stable hash of it.
fn lock_name(database: &str) -> String {
    hammerwork_api::driver::short_name("hammerwork.migrate.", database, 64)
}

#[cfg(test)]
mod tests {
    use super::lock_name;

    #[test]
    fn lock_names_fit_mysql_limit() {
        assert_eq!(lock_name("app"), "hammerwork.migrate.app");
        let long = lock_name(&"d".repeat(64));
        assert!(long.len() <= 64);
        assert_eq!(long, lock_name(&"d".repeat(64)));
        assert_ne!(long, lock_name(&"e".repeat(64)));
    }
}
