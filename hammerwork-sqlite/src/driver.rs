//! [`Driver`] on SQLite: claims, heartbeats, reads, in-process wakeups, and
//! the one-statement enqueue of independent jobs.

use async_trait::async_trait;
use chrono::Utc;
use hammerwork_api::driver::{micros, Driver, FromRow, JobRecord, Migrations, Param};
use hammerwork_api::validate::distinct_queues;
use hammerwork_api::workflow::PlannedJob;
use hammerwork_api::{Capabilities, Job, Result, WakeupListener, WakeupScope};
use hammerwork_engine::LocalWakeups;
use sqlx::SqlitePool;

use crate::map_err::explain_insert_error;
use crate::map_err::map_err;
use crate::row::{bound, fetch, ENQUEUE_CHUNK};
use crate::tx::SqliteTx;

/// `BEGIN IMMEDIATE` takes the write lock up front (waiting up to the busy
/// timeout). A deferred transaction that reads before it writes fails at once
/// with `SQLITE_BUSY` when another writer committed in between; one that starts
/// with the write lock cannot.
pub(crate) const BEGIN_IMMEDIATE: &str = "BEGIN IMMEDIATE";

/// The SQLite driver: a pool and this process's wakeup channel. Cheap to
/// clone; clones share both.
#[derive(Clone, Debug)]
pub struct SqliteDriver {
    pub(crate) pool: SqlitePool,
    pub(crate) wakeups: LocalWakeups,
}

impl SqliteDriver {
    pub(crate) fn new(pool: SqlitePool) -> Self {
        let wakeups = LocalWakeups::default();
        SqliteDriver { pool, wakeups }
    }
}

#[async_trait]
impl Driver for SqliteDriver {
    type Tx = SqliteTx<'static>;

    fn capabilities(&self) -> Capabilities {
        Capabilities::new(WakeupScope::Process)
    }

    fn migrations(&self) -> Migrations {
        crate::migrate::MIGRATIONS
    }

    async fn rows<T: Send + 'static>(
        &self,
        name: &'static str,
        params: &[Param<'_>],
        from_row: FromRow<T>,
    ) -> Result<Vec<T>> {
        fetch(&self.pool, bound(name, params)?, from_row).await
    }

    async fn run(&self, name: &'static str, params: &[Param<'_>]) -> Result<u64> {
        let done = bound(name, params)?.execute(&self.pool).await;
        Ok(done.map_err(map_err)?.rows_affected())
    }

    async fn begin(&self) -> Result<SqliteTx<'static>> {
        let tx = self
            .pool
            .begin_with(BEGIN_IMMEDIATE)
            .await
            .map_err(map_err)?;
        Ok(SqliteTx::new(tx, Some(self.wakeups.clone())))
    }

    async fn enqueue_independent(&self, jobs: &[Job], plans: &[PlannedJob]) -> Result<bool> {
        if jobs.len() > ENQUEUE_CHUNK {
            return Ok(false);
        }
        // One statement is atomic on its own: no BEGIN/COMMIT round trips.
        let query = sql!(
            "insert_jobs",
            JobRecord::encode(jobs, plans)?,
            micros(Utc::now())
        );
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        if let Err(err) = query.execute(&mut *conn).await {
            return Err(explain_insert_error(&mut conn, jobs, err).await);
        }
        self.wakeups.wake(distinct_queues(jobs));
        Ok(true)
    }

    async fn try_lead(&self, role: &str, holder: &str, ttl: std::time::Duration) -> Result<bool> {
        let now = Utc::now();
        let until = hammerwork_api::later(now, ttl);
        let query = sql!("try_lead", role, holder, micros(now), micros(until));
        let led = query.fetch_optional(&self.pool).await.map_err(map_err)?;
        Ok(led.is_some())
    }

    async fn resign(&self, role: &str, holder: &str) -> Result<()> {
        let query = sql!("resign", role, holder);
        query.execute(&self.pool).await.map_err(map_err)?;
        Ok(())
    }

    async fn listen(&self) -> Result<Option<Box<dyn WakeupListener>>> {
        Ok(Some(self.wakeups.listen()))
    }
}
