//! PostgreSQL storage for the Hammerwork job queue.
//!
//! [`PostgresStorage`] is Hammerwork's engine (`hammerwork-engine`) over
//! [`PgDriver`], whose primitives are the statements in `queries/`: batch
//! claims with `FOR UPDATE SKIP LOCKED`, batched settlement and enqueue with
//! `UNNEST`, dependents found through an edge table, and LISTEN/NOTIFY
//! wakeups. Its migrations are embedded, run by [`PostgresStorage::migrate`],
//! and tracked in their own `hammerwork_migrations` table, apart from your
//! application's.
//!
//! ```no_run
//! # async fn demo() -> hammerwork_api::Result<()> {
//! use hammerwork_api::{Job, DatabaseQueue};
//! use hammerwork_postgres::PostgresStorage;
//!
//! let storage = PostgresStorage::connect("postgres://postgres@127.0.0.1/test").await?;
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
mod listen;
mod map_err;
mod migrate;
mod row;
mod tx;

use hammerwork_api::{Job, JobId, Result, Storage};
use hammerwork_engine::Engine;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};

pub use driver::PgDriver;
pub use tx::PgTx;

use crate::map_err::map_err;

/// Default number of pooled connections for [`PostgresStorage::connect`].
const DEFAULT_MAX_CONNECTIONS: u32 = 20;

/// Hammerwork storage on PostgreSQL.
///
/// Cheap to clone (it holds a connection pool). Tables live in the pool's
/// `search_path` schema (normally `public`); LISTEN/NOTIFY wakeups use a
/// channel named after that schema, so separate schemas do not wake each other.
#[derive(Clone, Debug)]
pub struct PostgresStorage {
    engine: Engine<PgDriver>,
}

hammerwork_engine::forward_storage!(impl for PostgresStorage, engine);

impl hammerwork_api::StorageDatabase for PostgresStorage {
    type Database = sqlx::Postgres;
}

impl PostgresStorage {
    /// Connects a pool of 20 connections to `url` (e.g.
    /// `postgres://user@host/db`). Run [`migrate`](Self::migrate) once before use.
    ///
    /// A server that cannot be reached fails at once with the driver's reason
    /// (connection refused, bad password, unknown database, ...).
    pub async fn connect(url: &str) -> Result<Self> {
        // One plain connection first: the pool would retry until its acquire
        // timeout and then report only "timed out".
        PgConnection::connect(url)
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
    pub fn pool_options() -> PgPoolOptions {
        PgPoolOptions::new()
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

    /// Uses an existing pool (its `search_path` picks the schema).
    pub async fn from_pool(pool: PgPool) -> Result<Self> {
        Ok(PostgresStorage {
            engine: Engine::new(PgDriver::from_pool(pool).await?),
        })
    }

    /// The underlying pool.
    pub fn pool(&self) -> &PgPool {
        &self.engine.driver().pool
    }

    /// Creates or upgrades Hammerwork's tables. Idempotent and safe to run from
    /// several processes at once; recorded in `hammerwork_migrations`, never in
    /// your application's `_sqlx_migrations`.
    pub async fn migrate(&self) -> Result<()> {
        self.engine.migrate().await
    }

    /// Enqueues `jobs` on the caller's connection, typically inside the
    /// caller's own transaction (as a savepoint of it): the jobs are stored if
    /// and only if that transaction commits, and workers are woken only then.
    /// Dependencies are handled as by `enqueue_jobs` (their stored parents
    /// stay locked until your transaction ends). On an error nothing of the
    /// batch remains and your transaction can go on.
    ///
    /// ```no_run
    /// # async fn demo(storage: hammerwork_postgres::PostgresStorage) -> Result<(), Box<dyn std::error::Error>> {
    /// use hammerwork_api::Job;
    ///
    /// let mut tx = storage.pool().begin().await?;
    /// sqlx::query("INSERT INTO orders (id) VALUES (42)").execute(&mut *tx).await?;
    /// storage
    ///     .enqueue_jobs_in(&mut tx, &[Job::new("receipts", serde_json::json!({"order": 42}))])
    ///     .await?;
    /// tx.commit().await?;
    /// # Ok(()) }
    /// ```
    pub async fn enqueue_jobs_in(
        &self,
        conn: &mut PgConnection,
        jobs: &[Job],
    ) -> Result<Vec<JobId>> {
        let tx = conn.begin().await.map_err(map_err)?;
        let driver = self.engine.driver();
        let tx = PgTx::new(tx, driver.pool.clone(), driver.channel.clone());
        hammerwork_engine::enqueue_in(tx, jobs, &Storage::limits(self)).await
    }
}
