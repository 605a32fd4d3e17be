use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hammerwork_api::validate::validate_jobs;
use hammerwork_api::{
    Capabilities, ClaimParams, Error, Job, JobId, JobStatus, Lease, ListJobsParams, Outcome,
    QueueCounts, Result, Settlement, Storage, WakeupListener, WakeupScope,
};
use serde_json::Value;
use sqlx::postgres::{PgListener, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool, Row};
use uuid::Uuid;

use crate::map_err::map_err;
use crate::migrate::migrate;
use crate::row::job_from_row;

/// Rows per `INSERT ... UNNEST` statement: large enough to amortise the round
/// trip, small enough to keep one message a few MiB.
const ENQUEUE_CHUNK: usize = 5_000;

/// Default number of pooled connections for [`PostgresStorage::connect`].
const DEFAULT_MAX_CONNECTIONS: u32 = 20;

/// Hammerwork storage on PostgreSQL.
///
/// Cheap to clone (it holds a connection pool). Tables live in the pool's
/// `search_path` schema (normally `public`); LISTEN/NOTIFY wakeups use a
/// channel named after that schema, so separate schemas do not wake each other.
#[derive(Clone, Debug)]
pub struct PostgresStorage {
    pool: PgPool,
    channel: Arc<str>,
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
        let pool = PgPoolOptions::new()
            .max_connections(DEFAULT_MAX_CONNECTIONS)
            .connect(url)
            .await
            .map_err(map_err)?;
        Self::from_pool(pool).await
    }

    /// Uses an existing pool (its `search_path` picks the schema).
    pub async fn from_pool(pool: PgPool) -> Result<Self> {
        let schema: Option<String> = sqlx::query_scalar("SELECT current_schema()::text")
            .fetch_one(&pool)
            .await
            .map_err(map_err)?;
        let schema = schema.ok_or_else(|| {
            Error::Config("the connection's search_path names no existing schema".into())
        })?;
        Ok(PostgresStorage {
            pool,
            channel: channel_for(&schema).into(),
        })
    }

    /// The underlying pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Creates or upgrades Hammerwork's tables. Idempotent and safe to run from
    /// several processes at once; recorded in `hammerwork_migrations`, never in
    /// your application's `_sqlx_migrations`.
    pub async fn migrate(&self) -> Result<()> {
        migrate(&self.pool).await
    }

    /// Enqueues `jobs` on the caller's connection, typically inside the
    /// caller's own transaction: the jobs are stored if and only if that
    /// transaction commits, and workers are woken only then.
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
        validate_jobs(jobs)?;
        for chunk in jobs.chunks(ENQUEUE_CHUNK) {
            if let Err(err) = self.insert_chunk(conn, chunk).await {
                return Err(self.explain_insert_error(conn, chunk, err).await);
            }
        }
        Ok(jobs.iter().map(|job| job.id).collect())
    }

    async fn insert_chunk(
        &self,
        conn: &mut PgConnection,
        jobs: &[Job],
    ) -> std::result::Result<(), sqlx::Error> {
        let n = jobs.len();
        let mut ids = Vec::with_capacity(n);
        let mut queues = Vec::with_capacity(n);
        let mut payloads = Vec::with_capacity(n);
        let mut priorities = Vec::with_capacity(n);
        let mut max_attempts = Vec::with_capacity(n);
        let mut created = Vec::with_capacity(n);
        let mut scheduled = Vec::with_capacity(n);
        let mut timeouts = Vec::with_capacity(n);
        let mut policies = Vec::with_capacity(n);
        let mut traces = Vec::with_capacity(n);
        let mut correlations = Vec::with_capacity(n);
        for job in jobs {
            ids.push(job.id.0);
            queues.push(job.queue_name.as_str());
            payloads.push(&job.payload);
            priorities.push(job.priority.as_i16());
            max_attempts.push(job.max_attempts);
            created.push(job.created_at);
            scheduled.push(job.scheduled_at);
            timeouts.push(
                job.timeout
                    .map(|t| t.as_millis().min(i64::MAX as u128) as i64),
            );
            policies.push(
                job.retry_policy
                    .as_ref()
                    .map(|p| serde_json::to_value(p).expect("RetryPolicy serialises")),
            );
            traces.push(job.trace_id.as_deref());
            correlations.push(job.correlation_id.as_deref());
        }
        sqlx::query(include_str!("../queries/enqueue_jobs.sql"))
            .bind(ids)
            .bind(queues)
            .bind(payloads)
            .bind(priorities)
            .bind(max_attempts)
            .bind(created)
            .bind(scheduled)
            .bind(timeouts)
            .bind(policies)
            .bind(traces)
            .bind(correlations)
            .bind(&*self.channel)
            .execute(conn)
            .await
            .map(drop)
    }

    /// Turns an insert failure into the most useful error: a duplicate id names
    /// the id (looked up only on this rare path).
    async fn explain_insert_error(
        &self,
        conn: &mut PgConnection,
        jobs: &[Job],
        err: sqlx::Error,
    ) -> Error {
        let unique_violation =
            matches!(&err, sqlx::Error::Database(db) if db.code().as_deref() == Some("23505"));
        if !unique_violation {
            return map_err(err);
        }
        let ids: Vec<Uuid> = jobs.iter().map(|job| job.id.0).collect();
        // Inside a failed transaction no query runs: fall back to the pool.
        let found: Option<Uuid> =
            match sqlx::query_scalar(include_str!("../queries/find_existing_ids.sql"))
                .bind(&ids)
                .fetch_optional(&mut *conn)
                .await
            {
                Ok(found) => found,
                Err(_) => sqlx::query_scalar(include_str!("../queries/find_existing_ids.sql"))
                    .bind(&ids)
                    .fetch_optional(&self.pool)
                    .await
                    .ok()
                    .flatten(),
            };
        match found {
            Some(id) => Error::DuplicateJob { id: JobId(id) },
            None => map_err(err),
        }
    }
}

/// The NOTIFY channel of a schema. Channel names are identifiers (at most 63
/// bytes): a long schema name is replaced by a stable hash of it.
fn channel_for(schema: &str) -> String {
    let channel = format!("hammerwork.{schema}");
    if channel.len() <= 63 {
        return channel;
    }
    // FNV-1a: stable across processes and releases, unlike std's hasher.
    let hash = schema.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("hammerwork.{hash:016x}")
}

/// The leases of one outcome kind, as the id and attempt columns of its
/// settle statement, plus that kind's own columns in `extra`.
#[derive(Default)]
struct LeaseColumns<T> {
    ids: Vec<Uuid>,
    attempts: Vec<i32>,
    extra: T,
}

impl<T> LeaseColumns<T> {
    fn push(&mut self, lease: Lease) -> &mut T {
        self.ids.push(lease.id.0);
        self.attempts.push(lease.attempt);
        &mut self.extra
    }
}

/// A failure's error message and retry time, per failed lease.
type FailedColumns = (Vec<String>, Vec<Option<DateTime<Utc>>>);

/// Settlements split by outcome, one settle statement each.
#[derive(Default)]
struct SettleBatches {
    completed: LeaseColumns<Vec<Option<Value>>>,
    failed: LeaseColumns<FailedColumns>,
    cancelled: LeaseColumns<Vec<String>>,
    given_back: LeaseColumns<Vec<bool>>,
}

impl SettleBatches {
    fn new(settlements: &[Settlement]) -> Self {
        let mut b = SettleBatches::default();
        for s in settlements {
            match &s.outcome {
                Outcome::Completed { result } => b.completed.push(s.lease).push(result.clone()),
                Outcome::Failed { error, retry_at } => {
                    let (errors, retry_ats) = b.failed.push(s.lease);
                    errors.push(error.clone());
                    retry_ats.push(*retry_at);
                }
                Outcome::Cancelled { reason } => b.cancelled.push(s.lease).push(reason.clone()),
                Outcome::GiveBack { started } => b.given_back.push(s.lease).push(*started),
                _ => unreachable!("every Outcome variant is handled"),
            }
        }
        b
    }
}

#[async_trait]
impl Storage for PostgresStorage {
    fn capabilities(&self) -> Capabilities {
        Capabilities::new(WakeupScope::Cluster)
    }

    async fn enqueue_jobs(&self, jobs: &[Job]) -> Result<Vec<JobId>> {
        validate_jobs(jobs)?;
        if jobs.len() <= ENQUEUE_CHUNK {
            // One statement is atomic on its own: no BEGIN/COMMIT round trips.
            let mut conn = self.pool.acquire().await.map_err(map_err)?;
            return self.enqueue_jobs_in(&mut conn, jobs).await;
        }
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let ids = self.enqueue_jobs_in(&mut tx, jobs).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(ids)
    }

    async fn claim_jobs(&self, params: ClaimParams) -> Result<Vec<Job>> {
        if params.limit == 0 {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(include_str!("../queries/claim_jobs.sql"))
            .bind(&params.queue)
            .bind(params.now)
            .bind(i64::from(params.limit))
            .bind(params.lease_until)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        let mut jobs = rows.iter().map(job_from_row).collect::<Result<Vec<_>>>()?;
        // UPDATE ... RETURNING does not keep the CTE's order.
        jobs.sort_by(|a, b| {
            b.priority
                .cmp(&a.priority)
                .then(a.scheduled_at.cmp(&b.scheduled_at))
                .then(a.id.cmp(&b.id))
        });
        Ok(jobs)
    }

    async fn settle_jobs(&self, settlements: &[Settlement], now: DateTime<Utc>) -> Result<u64> {
        if settlements.is_empty() {
            return Ok(0);
        }
        let b = SettleBatches::new(settlements);
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let mut changed = 0;
        if !b.completed.ids.is_empty() {
            changed += sqlx::query(include_str!("../queries/settle_jobs_completed.sql"))
                .bind(&b.completed.ids)
                .bind(&b.completed.attempts)
                .bind(&b.completed.extra)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected();
        }
        if !b.failed.ids.is_empty() {
            changed += sqlx::query(include_str!("../queries/settle_jobs_failed.sql"))
                .bind(&b.failed.ids)
                .bind(&b.failed.attempts)
                .bind(&b.failed.extra.0)
                .bind(now)
                .bind(&b.failed.extra.1)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected();
        }
        if !b.cancelled.ids.is_empty() {
            changed += sqlx::query(include_str!("../queries/settle_jobs_cancelled.sql"))
                .bind(&b.cancelled.ids)
                .bind(&b.cancelled.attempts)
                .bind(&b.cancelled.extra)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected();
        }
        if !b.given_back.ids.is_empty() {
            changed += sqlx::query(include_str!("../queries/settle_jobs_given_back.sql"))
                .bind(&b.given_back.ids)
                .bind(&b.given_back.attempts)
                .bind(now)
                .bind(&b.given_back.extra)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected();
        }
        tx.commit().await.map_err(map_err)?;
        Ok(changed)
    }

    async fn heartbeat_jobs(&self, leases: &[Lease], lease_until: DateTime<Utc>) -> Result<u64> {
        if leases.is_empty() {
            return Ok(0);
        }
        let ids: Vec<Uuid> = leases.iter().map(|l| l.id.0).collect();
        let attempts: Vec<i32> = leases.iter().map(|l| l.attempt).collect();
        let done = sqlx::query(include_str!("../queries/heartbeat_jobs.sql"))
            .bind(ids)
            .bind(attempts)
            .bind(lease_until)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected())
    }

    async fn rescue_expired_jobs(&self, now: DateTime<Utc>) -> Result<u64> {
        let done = sqlx::query(include_str!("../queries/rescue_expired_jobs.sql"))
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected())
    }

    async fn get_job(&self, id: JobId) -> Result<Option<Job>> {
        let row = sqlx::query(include_str!("../queries/get_job.sql"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn list_jobs(&self, params: ListJobsParams) -> Result<Vec<Job>> {
        let rows = sqlx::query(include_str!("../queries/list_jobs.sql"))
            .bind(params.queue)
            .bind(params.status.map(JobStatus::as_str))
            .bind(params.after.map(|id| id.0))
            .bind(i64::from(params.limit.unwrap_or(100)))
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(job_from_row).collect()
    }

    async fn queue_counts(&self, queue: &str) -> Result<QueueCounts> {
        let rows = sqlx::query(include_str!("../queries/queue_counts.sql"))
            .bind(queue)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        let mut counts = QueueCounts::default();
        for row in rows {
            let status: String = row.try_get("status").map_err(Error::backend)?;
            let count: i64 = row.try_get("count").map_err(Error::backend)?;
            counts.add(status.parse()?, count as u64);
        }
        Ok(counts)
    }

    async fn cancel_job(&self, id: JobId, now: DateTime<Utc>) -> Result<bool> {
        let cancelled: Option<Uuid> = sqlx::query_scalar(include_str!("../queries/cancel_job.sql"))
            .bind(id.0)
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        if cancelled.is_some() {
            return Ok(true);
        }
        match self.get_job(id).await? {
            Some(_) => Ok(false),
            None => Err(Error::NotFound { id }),
        }
    }

    async fn listen(&self) -> Result<Option<Box<dyn WakeupListener>>> {
        let mut listener = PgListener::connect_with(&self.pool)
            .await
            .map_err(map_err)?;
        listener.listen(&self.channel).await.map_err(map_err)?;
        Ok(Some(Box::new(PgWakeups { listener })))
    }
}

/// LISTEN on the storage's channel; each notification's payload is a queue name.
struct PgWakeups {
    listener: PgListener,
}

#[async_trait]
impl WakeupListener for PgWakeups {
    async fn recv(&mut self) -> Option<String> {
        match self.listener.try_recv().await {
            Ok(Some(notification)) => Some(notification.payload().to_string()),
            // The connection dropped and notifications may have been missed; the
            // listener reconnects on the next call. "" means "any queue".
            Ok(None) => Some(String::new()),
            Err(err) => {
                tracing::warn!(error = %err, "hammerwork listener failed");
                None
            }
        }
    }
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
