//! [`Driver`] on PostgreSQL: claims, heartbeats, reads, LISTEN, and the
//! one-statement enqueue and settle of independent jobs.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hammerwork_api::driver::{
    dead_rows_from_row, short_name, DeadRows, Driver, FromRow, Migrations, Param,
};
use hammerwork_api::workflow::PlannedJob;
use hammerwork_api::{Capabilities, Error, Job, Result, Settlement, WakeupListener, WakeupScope};
use sqlx::PgPool;

use crate::listen::Listen;
use crate::map_err::explain_insert_error;
use crate::map_err::map_err;
use crate::row::{bind_jobs, bound, fetch, ENQUEUE_CHUNK};
use crate::tx::{PgTx, SettleColumns};

/// insert_jobs.sql, waking the queues it filled in the same statement.
const ENQUEUE_INDEPENDENT: &str = concat!(
    "WITH inserted AS (\n",
    include_str!("../queries/insert_jobs.sql"),
    ")\nSELECT pg_notify($25, queue_name) FROM (SELECT DISTINCT queue_name FROM inserted) AS q"
);

/// settle_attempts.sql for the jobs that need nothing else done: outside any
/// workflow and with no dependents (has_dependents is set, under the job's
/// row lock, by whatever adds an edge from it; see migration 13).
const SETTLE_INDEPENDENT: &str = concat!(
    include_str!("../queries/settle_attempts.sql"),
    "    AND NOT j.has_dependents AND j.workflow_id IS NULL THEN true ELSE false END\n"
);

/// The PostgreSQL driver: a pool and the NOTIFY channel of its schema.
/// Cheap to clone.
#[derive(Clone, Debug)]
pub struct PgDriver {
    pub(crate) pool: PgPool,
    pub(crate) channel: Arc<str>,
    listen: Arc<Listen>,
}

impl PgDriver {
    /// The driver of `pool`; its `search_path` picks the schema.
    pub async fn from_pool(pool: PgPool) -> Result<Self> {
        let schema: Option<String> = sqlx::query_scalar("SELECT current_schema()::text")
            .fetch_one(&pool)
            .await
            .map_err(map_err)?;
        let schema = schema.ok_or_else(|| {
            Error::Config("the connection's search_path names no existing schema".into())
        })?;
        let channel: Arc<str> = channel_for(&schema).into();
        let listen = Listen::new(pool.clone(), channel.clone());
        Ok(PgDriver {
            pool,
            channel,
            listen,
        })
    }
}

#[async_trait]
impl Driver for PgDriver {
    type Tx = PgTx<'static>;

    fn capabilities(&self) -> Capabilities {
        // Two batches of outcomes at once: processing of no-op jobs rose
        // from a median 32.9k to 41.7k jobs/s (README, "Benchmarks").
        Capabilities::new(WakeupScope::Cluster).with_settle_batches(2)
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

    async fn begin(&self) -> Result<PgTx<'static>> {
        let tx = self.pool.begin().await.map_err(map_err)?;
        Ok(PgTx::new(tx, self.pool.clone(), self.channel.clone()))
    }

    async fn enqueue_independent(&self, jobs: &[Job], plans: &[PlannedJob]) -> Result<bool> {
        if jobs.len() > ENQUEUE_CHUNK {
            return Ok(false);
        }
        let query = bind_jobs(sqlx::query(ENQUEUE_INDEPENDENT), jobs, plans, Utc::now());
        match query.bind(&*self.channel).execute(&self.pool).await {
            Ok(_) => Ok(true),
            Err(err) => Err(explain_insert_error(&self.pool, jobs, err).await),
        }
    }

    async fn settle_independent(
        &self,
        settlements: &[Settlement],
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let query = SettleColumns::of(settlements)?.bind(sqlx::query(SETTLE_INDEPENDENT), now);
        let done = query.execute(&self.pool).await.map_err(map_err)?;
        Ok(done.rows_affected())
    }

    async fn database_time(&self) -> Result<DateTime<Utc>> {
        let query = sqlx::query_scalar("SELECT clock_timestamp()");
        query.fetch_one(&self.pool).await.map_err(map_err)
    }

    async fn try_lead(&self, role: &str, holder: &str, ttl: std::time::Duration) -> Result<bool> {
        let micros = i64::try_from(ttl.as_micros()).unwrap_or(i64::MAX);
        let query = sql!("try_lead", role, holder, micros);
        let led = query.fetch_optional(&self.pool).await.map_err(map_err)?;
        Ok(led.is_some())
    }

    async fn resign(&self, role: &str, holder: &str) -> Result<()> {
        let query = sql!("resign", role, holder);
        query.execute(&self.pool).await.map_err(map_err)?;
        Ok(())
    }

    async fn dead_rows(&self) -> Result<Option<DeadRows>> {
        let stats = fetch(&self.pool, sql!("dead_rows"), dead_rows_from_row);
        Ok(stats.await?.pop())
    }

    async fn reclaim_space(&self) -> Result<()> {
        // SKIP_LOCKED: when autovacuum (or another leader) holds the table,
        // leave it to them rather than wait or cancel it.
        let vacuum = sqlx::raw_sql("VACUUM (SKIP_LOCKED) hammerwork_jobs");
        vacuum.execute(&self.pool).await.map_err(map_err).map(drop)
    }

    async fn listen(&self) -> Result<Option<Box<dyn WakeupListener>>> {
        self.listen.subscribe().await.map(Some)
    }
}

/// The NOTIFY channel of a schema. Channel names are identifiers (at most 63
/// bytes): a long schema name is replaced by a stable hash of it.
fn channel_for(schema: &str) -> String {
    short_name("hammerwork.", schema, 63)
}

#[cfg(test)]
mod tests {
    use super::channel_for;

    #[test]
    fn channel_names_fit_an_identifier() {
        assert_eq!(channel_for("public"), "hammerwork.public");
        let long = channel_for(&"s".repeat(80));
        assert!(long.len() <= 63);
        assert_eq!(long, channel_for(&"s".repeat(80)));
        assert_ne!(long, channel_for(&"t".repeat(80)));
    }
}
