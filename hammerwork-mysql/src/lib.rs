//! MySQL 8 / MariaDB 10.6+ storage for the Hammerwork job queue.
//!
//! [`MySqlStorage`] implements [`hammerwork_api::Storage`] with sqlx: batch
//! claims with `FOR UPDATE SKIP LOCKED` over an index kept in claim order,
//! batched settlement and heartbeats (the common cases, a claim marked
//! running and completions without a result, as `id IN (...)` lists of
//! parameters; the others as one JSON document read with `JSON_TABLE`), bulk
//! enqueue with multi-row INSERTs, and in-process wakeups (MySQL has no LISTEN/NOTIFY;
//! other processes poll). Its migrations are embedded, run by
//! [`MySqlStorage::migrate`], and tracked in their own `hammerwork_migrations`
//! table, apart from your application's.
//!
//! It is Hammerwork's engine (`hammerwork-engine`) over [`MySqlDriver`],
//! whose primitives are the statements in `queries/`. Dependencies and
//! workflows follow `docs/design/workflows.md`: an edge table
//! `hammerwork_job_dependencies (parent_id, job_id)` finds a finished job's
//! dependents in O(1) per edge and waiting jobs stay out of the claim index.
//! Settling a job outside any workflow that nobody depends on (the common
//! case) stays one statement per batch and outcome kind.
//!
//! Recurring (cron) jobs and workflows carry a `cron_live` flag, 1 on the
//! newest occurrence of each series until the scheduler continues it, and
//! indexed, so listing the finished occurrences to continue reads only them;
//! continuing one clears the flag and enqueues the next occurrence in one
//! transaction, so two schedulers never fork a series.
//!
//! Dynamic spawning (`hammerwork_api::spawn`): a spawned job records its
//! parent, its operation and its depth, and
//! [`complete_and_spawn`](hammerwork_api::Storage::complete_and_spawn)
//! settles the parent (with everything `settle_jobs` would do), writes the
//! `hammerwork_spawn_operations` row and inserts the children in one
//! transaction. Spawn trees and lineage are one `WITH RECURSIVE` query each
//! over the indexed `parent_job_id`; MySQL stops recursive queries at
//! `cte_max_recursion_depth` (1000 by default), so trees are read to at most
//! 1000 levels.
//!
//! The same SQL runs on MySQL 8.0.4+ and MariaDB 10.6+, with no trigger or
//! stored routine (so no `TRIGGER` or `SUPER` privilege is needed).
//!
//! ```no_run
//! # async fn demo() -> hammerwork_api::Result<()> {
//! use hammerwork_api::{Job, DatabaseQueue};
//! use hammerwork_mysql::MySqlStorage;
//!
//! let storage = MySqlStorage::connect("mysql://root@127.0.0.1:3306/test").await?;
//! storage.migrate().await?;
//! storage.enqueue(Job::new("emails", serde_json::json!({"to": "a@example.com"}))).await?;
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
mod insert;
mod keyed;
mod map_err;
mod migrate;
mod row;
mod tx;
mod version;

use hammerwork_api::validate::distinct_queues;
use hammerwork_api::{Job, JobId, Result, Storage};
use hammerwork_engine::Engine;
use sqlx::mysql::MySqlPoolOptions;
use sqlx::{Connection, MySqlConnection, MySqlPool};

pub use driver::MySqlDriver;
pub use tx::MySqlTx;

use crate::map_err::map_err;
use crate::row::text;
use crate::version::check_server_version;

/// Default number of pooled connections for [`MySqlStorage::connect`].
const DEFAULT_MAX_CONNECTIONS: u32 = 20;

/// Hammerwork storage on MySQL 8 or MariaDB 10.6+.
///
/// Cheap to clone (a connection pool and a wakeup channel, both shared by the
/// clones). Tables live in the pool's default database.
///
/// MySQL has no LISTEN/NOTIFY: [`listen`](hammerwork_api::Storage::listen) delivers wakeups
/// for jobs enqueued through this storage or its clones (in this process),
/// and workers elsewhere find new jobs by polling
/// ([`WakeupScope::Process`](hammerwork_api::WakeupScope::Process)).
#[derive(Clone, Debug)]
pub struct MySqlStorage {
    engine: Engine<MySqlDriver>,
}

hammerwork_engine::forward_storage!(impl for MySqlStorage, engine);

/// Spawn handlers for this storage's workers implement
/// `SpawnHandler<sqlx::MySql>`.
impl hammerwork_api::StorageDatabase for MySqlStorage {
    type Database = sqlx::MySql;
}

impl MySqlStorage {
    /// Connects a pool of 20 connections to `url` (e.g.
    /// `mysql://user:password@host/db`). Run [`migrate`](Self::migrate) once
    /// before use.
    ///
    /// A server that cannot be reached fails at once with the driver's reason
    /// (connection refused, bad password, unknown database, ...).
    ///
    /// Errors: [`Error::Config`] when the server is older than MySQL 8.0.4 or
    /// MariaDB 10.6 (no `SKIP LOCKED` or `JSON_TABLE`).
    pub async fn connect(url: &str) -> Result<Self> {
        // One plain connection first: the pool would retry until its acquire
        // timeout and then report only "timed out".
        MySqlConnection::connect(url)
            .await
            .map_err(map_err)?
            .close()
            .await
            .map_err(map_err)?;
        let pool = Self::pool_options().connect(url).await.map_err(map_err)?;
        Self::from_pool(pool).await
    }

    /// The pool settings [`connect`](Self::connect) uses, to build a pool of
    /// your own with them (`connect_with` for options beyond the URL):
    /// 20 connections, and a connection is pinged before it is handed
    /// out only when it sat idle for a second or more. sqlx's default pings
    /// every time, a round trip per transaction; a connection in steady use
    /// has just answered, and one that broke since fails its statement, which
    /// the caller sees as any other database error.
    pub fn pool_options() -> MySqlPoolOptions {
        MySqlPoolOptions::new()
            .max_connections(DEFAULT_MAX_CONNECTIONS)
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= std::time::Duration::from_secs(1) {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
    }

    /// Uses an existing pool; its default database holds the tables.
    ///
    /// Errors: as [`connect`](Self::connect).
    pub async fn from_pool(pool: MySqlPool) -> Result<Self> {
        let row = sqlx::query("SELECT VERSION() AS version")
            .fetch_one(&pool)
            .await
            .map_err(map_err)?;
        check_server_version(&text(&row, "version")?.unwrap_or_default())?;
        Ok(MySqlStorage {
            engine: Engine::new(MySqlDriver::new(pool)),
        })
    }

    /// The underlying pool.
    pub fn pool(&self) -> &MySqlPool {
        &self.engine.driver().pool
    }

    /// Creates or upgrades Hammerwork's tables. Idempotent and safe to run from
    /// several processes at once (they take turns on a `GET_LOCK` named after
    /// the database); recorded in `hammerwork_migrations`, never in your
    /// application's `_sqlx_migrations`.
    ///
    /// Not through `Engine::migrate` (which does nothing for this driver):
    /// DDL commits as it goes and the migration lock (`GET_LOCK`) belongs to
    /// a session, so the engine's `apply_migrations` runs on a connection
    /// holding that lock.
    pub async fn migrate(&self) -> Result<()> {
        migrate::migrate(self.pool()).await
    }

    /// Enqueues `jobs` on the caller's connection, typically inside the
    /// caller's own transaction: the jobs are stored if and only if that
    /// transaction commits.
    ///
    /// Dependencies are handled as by [`enqueue_jobs`](hammerwork_api::Storage::enqueue_jobs)
    /// (the stored parents are locked until your transaction ends).
    ///
    /// The batch is written under a savepoint of your transaction: on an
    /// error nothing of it remains, and your transaction goes on.
    ///
    /// Nothing here knows when your transaction commits, so no worker is woken:
    /// workers find the jobs at their next poll. To wake this process's workers
    /// at once, call [`notify_enqueued`](Self::notify_enqueued) after the commit.
    ///
    /// ```no_run
    /// # async fn demo(storage: hammerwork_mysql::MySqlStorage) -> Result<(), Box<dyn std::error::Error>> {
    /// use hammerwork_api::Job;
    ///
    /// let jobs = [Job::new("receipts", serde_json::json!({"order": 42}))];
    /// let mut tx = storage.pool().begin().await?;
    /// sqlx::query("INSERT INTO orders (id) VALUES (42)").execute(&mut *tx).await?;
    /// storage.enqueue_jobs_in(&mut tx, &jobs).await?;
    /// tx.commit().await?;
    /// storage.notify_enqueued(&jobs);
    /// # Ok(()) }
    /// ```
    pub async fn enqueue_jobs_in(
        &self,
        conn: &mut MySqlConnection,
        jobs: &[Job],
    ) -> Result<Vec<JobId>> {
        let tx = conn.begin().await.map_err(map_err)?;
        let tx = MySqlTx::new(tx, None);
        hammerwork_engine::enqueue_in(tx, jobs, &Storage::limits(self)).await
    }

    /// Wakes this process's listeners (workers of this storage and its clones)
    /// for every queue of `jobs`. [`enqueue_jobs`](hammerwork_api::Storage::enqueue_jobs) does
    /// this itself; call it after committing a transaction in which you used
    /// [`enqueue_jobs_in`](Self::enqueue_jobs_in).
    pub fn notify_enqueued(&self, jobs: &[Job]) {
        self.engine.driver().wakeups.wake(distinct_queues(jobs));
    }
}
