//! Embedded SQLite storage for the Hammerwork job queue: no database server.
//!
//! [`SqliteStorage`] implements [`hammerwork_api::Storage`] with sqlx on a
//! SQLite file (or an in-memory database): batch claims in one
//! `UPDATE ... RETURNING` statement under SQLite's single write lock, batched
//! settlement, bulk enqueue from one JSON array parameter, and in-process
//! wakeups. Its migrations are embedded, run by [`SqliteStorage::migrate`], and
//! tracked in their own `hammerwork_migrations` table, apart from your
//! application's.
//!
//! Job dependencies and workflows work as on PostgreSQL: an edge table
//! (`hammerwork_job_dependencies`, keyed by parent) finds the dependents of a
//! finished job in O(1) per edge, a trigger keeps each workflow's counters in
//! step with its jobs, and every multi-statement write (an enqueue with
//! dependencies, a settlement and the dependents it releases) runs in one
//! `BEGIN IMMEDIATE` transaction. Jobs waiting on a dependency are not in the
//! claim index, so they cost claims nothing.
//!
//! Dynamic spawning works as on PostgreSQL too:
//! [`complete_and_spawn`](hammerwork_api::Storage::complete_and_spawn)
//! completes the parent (releasing its dependents), records the operation in
//! `hammerwork_spawn_operations` and writes the children, all in one
//! `BEGIN IMMEDIATE` transaction; trees and lineage are `WITH RECURSIVE` walks
//! over the indexed `parent_job_id` column. Spawn handlers for this backend's
//! workers implement `SpawnHandler<sqlx::Sqlite>`.
//!
//! SQLite admits one writer at a time and its WAL mode needs memory shared
//! between processes, so this backend suits one machine: any number of workers
//! in one or several processes on it, not a fleet of machines or a network
//! filesystem. Wakeups reach only this process
//! ([`WakeupScope::Process`](hammerwork_api::WakeupScope)); other processes
//! find new jobs by polling.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> hammerwork_api::Result<()> {
//! use chrono::Utc;
//! use hammerwork_api::{ClaimParams, Job, Storage, DatabaseQueue};
//! use hammerwork_sqlite::SqliteStorage;
//!
//! // Or a file: "sqlite://hammerwork.db", created when missing.
//! let storage = SqliteStorage::connect("sqlite::memory:").await?;
//! storage.migrate().await?;
//! storage.enqueue(Job::new("emails", serde_json::json!({"to": "a@example.com"}))).await?;
//!
//! let now = Utc::now();
//! let claimed = storage
//!     .claim_jobs(ClaimParams::new("emails", 10, now, now + chrono::Duration::seconds(30)))
//!     .await?;
//! assert_eq!(claimed.len(), 1);
//! # Ok(()) }
//! ```

/// `sqlx::query` of `queries/<name>.sql` with `args` bound in order: the
/// primitive, its SQL file and its statement share one name.
macro_rules! sql {
    ($name:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query(include_str!(concat!("../queries/", $name, ".sql")))$(.bind($arg))*
    };
}

mod driver;
mod map_err;
mod migrate;
mod row;
mod tx;

use std::str::FromStr;
use std::time::Duration;

use hammerwork_api::{Error, Job, JobId, Result, Storage};
use hammerwork_engine::Engine;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{Connection, SqliteConnection, SqlitePool};

pub use driver::SqliteDriver;
pub use tx::SqliteTx;

use crate::driver::BEGIN_IMMEDIATE;
use crate::map_err::map_err;

/// Default number of pooled connections for a database file. SQLite runs one
/// writer at a time whatever the pool size; more connections let reads run
/// beside it (WAL readers never block the writer).
const DEFAULT_MAX_CONNECTIONS: u32 = 8;

/// How long a statement waits for another connection's write lock before it
/// fails with `SQLITE_BUSY` ("database is locked").
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Oldest SQLite this backend's SQL runs on: `->>` (3.38), STRICT tables
/// (3.37), `RETURNING` (3.35), `UPDATE ... FROM` (3.33). Only matters with
/// sqlx's `sqlite-unbundled` feature; the bundled library is newer.
const MIN_SQLITE_VERSION: (u32, u32, u32) = (3, 38, 0);

/// Hammerwork storage on an embedded SQLite database.
///
/// Cheap to clone (it holds a connection pool and a wakeup channel, both
/// shared by clones). Tables live in the pool's `main` database. Workers of
/// this process are woken when jobs become claimable through this storage or
/// one of its clones (enqueued, released by their last dependency, or reset by
/// a workflow retry); other processes on the same file find them by polling.
///
/// The database admits one writer at a time: claims, settlements and enqueues
/// queue up for SQLite's write lock (each waits up to 5 s, the busy timeout,
/// before failing), while reads run beside them.
#[derive(Clone, Debug)]
pub struct SqliteStorage {
    engine: Engine<SqliteDriver>,
}

hammerwork_engine::forward_storage!(impl for SqliteStorage, engine);

/// Spawn handlers for this storage's workers are
/// [`SpawnHandler<sqlx::Sqlite>`](hammerwork_api::spawn::SpawnHandler).
impl hammerwork_api::StorageDatabase for SqliteStorage {
    type Database = sqlx::Sqlite;
}

impl SqliteStorage {
    /// Opens the SQLite database at `url`, creating the file when missing, and
    /// pools connections to it. Run [`migrate`](Self::migrate) once before use.
    ///
    /// - `sqlite://hammerwork.db` (or `sqlite:hammerwork.db`, or an absolute
    ///   `sqlite:///var/lib/app/hammerwork.db`): a file, in WAL journal mode so
    ///   readers never block the writer, with a pool of 8 connections.
    /// - `sqlite::memory:`: an in-memory database of this storage's own, gone
    ///   when its last clone is dropped. It lives on exactly one connection, so
    ///   every operation (and any transaction you hold from
    ///   [`pool`](Self::pool)) takes turns.
    ///
    /// Every connection waits up to 5 s for another's write lock instead of
    /// failing at once with `SQLITE_BUSY`. To choose other options (pool size,
    /// `synchronous`, ...), build a pool and use [`from_pool`](Self::from_pool).
    ///
    /// Errors: [`Error::Config`] for a URL SQLite cannot use,
    /// [`Error::Backend`] when the file cannot be opened.
    pub async fn connect(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(map_err)?
            .create_if_missing(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = if is_in_memory(url) {
            // An in-memory database lives as long as a connection to it: keep
            // exactly one, and never let the pool retire it.
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await
        } else {
            // synchronous stays FULL (SQLite's default): an enqueue that
            // returned survives a power cut.
            SqlitePoolOptions::new()
                .max_connections(DEFAULT_MAX_CONNECTIONS)
                .connect_with(options.journal_mode(SqliteJournalMode::Wal))
                .await
        }
        .map_err(map_err)?;
        Self::from_pool(pool).await
    }

    /// Uses an existing pool. For concurrent workers, open it in WAL journal
    /// mode with a busy timeout, as [`connect`](Self::connect) does; for an
    /// in-memory database, give it a single connection that is never retired.
    ///
    /// Errors: [`Error::Config`] when the SQLite library is older than 3.38.
    pub async fn from_pool(pool: SqlitePool) -> Result<Self> {
        let version: String = sqlx::query_scalar("SELECT sqlite_version()")
            .fetch_one(&pool)
            .await
            .map_err(map_err)?;
        check_version(&version)?;
        Ok(SqliteStorage {
            engine: Engine::new(SqliteDriver::new(pool)),
        })
    }

    /// The underlying pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.engine.driver().pool
    }

    /// Creates or upgrades Hammerwork's tables. Idempotent and safe to run from
    /// several processes at once; recorded in `hammerwork_migrations`, never in
    /// your application's `_sqlx_migrations`.
    pub async fn migrate(&self) -> Result<()> {
        self.engine.migrate().await
    }

    /// Enqueues `jobs` on the caller's connection, typically inside the
    /// caller's own transaction: the jobs are stored if and only if that
    /// transaction commits. All of `jobs` or none is written, even outside a
    /// transaction. Jobs may depend on each other and on stored jobs, as with
    /// [`Storage::enqueue_jobs`].
    ///
    /// SQLite cannot tell this storage when your transaction commits, so no
    /// wakeup is sent: workers pick these jobs up at their next poll. Start
    /// your transaction with `BEGIN IMMEDIATE` (as below) when the jobs depend
    /// on stored jobs: their parents are read before the jobs are written, and
    /// a deferred transaction that reads first may fail with `SQLITE_BUSY`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use hammerwork_api::{Job, Storage};
    /// use hammerwork_sqlite::SqliteStorage;
    ///
    /// let storage = SqliteStorage::connect("sqlite::memory:").await?;
    /// storage.migrate().await?;
    /// sqlx::raw_sql("CREATE TABLE orders (id INTEGER PRIMARY KEY)").execute(storage.pool()).await?;
    ///
    /// let mut tx = storage.pool().begin_with("BEGIN IMMEDIATE").await?;
    /// sqlx::query("INSERT INTO orders (id) VALUES (42)").execute(&mut *tx).await?;
    /// let job = Job::new("receipts", serde_json::json!({"order": 42}));
    /// let ids = storage.enqueue_jobs_in(&mut tx, &[job]).await?;
    /// tx.commit().await?;
    /// assert!(storage.get_job(ids[0]).await?.is_some());
    /// # Ok(()) }
    /// ```
    pub async fn enqueue_jobs_in(
        &self,
        conn: &mut SqliteConnection,
        jobs: &[Job],
    ) -> Result<Vec<JobId>> {
        // A savepoint inside the caller's transaction keeps the batch
        // all-or-nothing; a new transaction takes the write lock up front,
        // as stored parents are read before the insert.
        let tx = if conn.is_in_transaction() {
            conn.begin().await
        } else {
            conn.begin_with(BEGIN_IMMEDIATE).await
        }
        .map_err(map_err)?;
        let tx = SqliteTx::new(tx, None);
        hammerwork_engine::enqueue_in(tx, jobs, &Storage::limits(self)).await
    }
}

/// Whether `url` names an in-memory database (`sqlite::memory:`,
/// `sqlite://:memory:`, `?mode=memory`), read as sqlx's URL parser reads it
/// (its options do not say, and their `to_url_lossy` panics on memory names).
fn is_in_memory(url: &str) -> bool {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
    database == ":memory:" || params.split('&').any(|pair| pair == "mode=memory")
}

/// Fails unless `version` (e.g. `"3.46.0"`) is at least [`MIN_SQLITE_VERSION`].
fn check_version(version: &str) -> Result<()> {
    let mut parts = version
        .split('.')
        .map(|part| part.parse::<u32>().unwrap_or(0));
    let found = (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    );
    if found < MIN_SQLITE_VERSION {
        let (major, minor, patch) = MIN_SQLITE_VERSION;
        return Err(Error::Config(format!(
            "SQLite {version} is too old: hammerwork-sqlite needs {major}.{minor}.{patch} or newer"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_sqlite_is_a_config_error() {
        assert!(check_version("3.46.0").is_ok());
        assert!(check_version("3.38.0").is_ok());
        assert!(check_version("4.0").is_ok());
        assert!(matches!(check_version("3.37.2"), Err(Error::Config(_))));
        assert!(matches!(check_version("garbage"), Err(Error::Config(_))));
    }

    #[test]
    fn memory_urls_are_recognised() {
        let memory = |url: &str| {
            // Only URLs sqlx accepts matter.
            url.parse::<SqliteConnectOptions>().expect("a valid URL");
            is_in_memory(url)
        };
        assert!(memory("sqlite::memory:"));
        assert!(memory("sqlite://:memory:"));
        assert!(memory("sqlite://?mode=memory"));
        assert!(memory("sqlite://named?cache=shared&mode=memory"));
        assert!(!memory("sqlite://hammerwork.db"));
        assert!(!memory("sqlite:/tmp/hammerwork.db?mode=rwc"));
    }
}
