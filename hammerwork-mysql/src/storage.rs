use std::future::Future;

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use hammerwork_api::validate::{distinct_queues, validate_jobs};
use hammerwork_api::{
    Capabilities, ClaimParams, Error, Job, JobId, JobStatus, Lease, ListJobsParams, QueueCounts,
    Result, Settlement, Storage, WakeupListener, WakeupScope,
};
use sqlx::mysql::MySqlPoolOptions;
use sqlx::{MySqlConnection, MySqlPool, Row};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::batch::{id_array, lease_array, SettleBatches};
use crate::enqueue::{encode, insert_chunk, plan_chunks, EncodedJob};
use crate::map_err::{error_number, is_deadlock, map_err, ER_DUP_ENTRY};
use crate::migrate::migrate;
use crate::row::{job_from_row, required_text};
use crate::version::check_server_version;

/// Default number of pooled connections for [`MySqlStorage::connect`].
const DEFAULT_MAX_CONNECTIONS: u32 = 20;

/// Wakeups buffered per listener before it lags (and is told "any queue").
const WAKEUP_CAPACITY: usize = 1024;

/// How many times a transaction InnoDB picked as a deadlock victim is run.
const DEADLOCK_ATTEMPTS: u32 = 3;

/// Begins a transaction that locks only the rows it reads: claims and rescues
/// walk a secondary index with `FOR UPDATE SKIP LOCKED`, and under the default
/// REPEATABLE READ they would also lock the gaps between index entries,
/// blocking concurrent enqueues. `SET TRANSACTION` applies to the next
/// transaction only, so the pool's connections keep their own setting.
const BEGIN_READ_COMMITTED: &str =
    "SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION";

/// Hammerwork storage on MySQL 8 or MariaDB 10.6+.
///
/// Cheap to clone (a connection pool and a wakeup channel, both shared by the
/// clones). Tables live in the pool's default database.
///
/// MySQL has no LISTEN/NOTIFY: [`listen`](Storage::listen) delivers wakeups
/// for jobs enqueued through this storage or its clones (in this process),
/// and workers elsewhere find new jobs by polling
/// ([`WakeupScope::Process`]).
#[derive(Clone, Debug)]
pub struct MySqlStorage {
    pool: MySqlPool,
    /// Queue names that received jobs; a `broadcast::Sender` is itself a
    /// shared handle, so every clone of the storage sends on one channel.
    wakeups: broadcast::Sender<String>,
}

impl MySqlStorage {
    /// Connects a pool of 20 connections to `url` (e.g.
    /// `mysql://user:password@host/db`). Run [`migrate`](Self::migrate) once
    /// before use.
    ///
    /// Errors: [`Error::Config`] when the server is older than MySQL 8.0.4 or
    /// MariaDB 10.6 (no `SKIP LOCKED` or `JSON_TABLE`).
    pub async fn connect(url: &str) -> Result<Self> {
        let pool = MySqlPoolOptions::new()
            .max_connections(DEFAULT_MAX_CONNECTIONS)
            .connect(url)
            .await
            .map_err(map_err)?;
        Self::from_pool(pool).await
    }

    /// Uses an existing pool; its default database holds the tables.
    ///
    /// Errors: as [`connect`](Self::connect).
    pub async fn from_pool(pool: MySqlPool) -> Result<Self> {
        let row = sqlx::query("SELECT VERSION() AS version")
            .fetch_one(&pool)
            .await
            .map_err(map_err)?;
        check_server_version(&required_text(&row, "version")?)?;
        let (wakeups, _) = broadcast::channel(WAKEUP_CAPACITY);
        Ok(MySqlStorage { pool, wakeups })
    }

    /// The underlying pool.
    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }

    /// Creates or upgrades Hammerwork's tables. Idempotent and safe to run from
    /// several processes at once (they take turns on a `GET_LOCK` named after
    /// the database); recorded in `hammerwork_migrations`, never in your
    /// application's `_sqlx_migrations`.
    pub async fn migrate(&self) -> Result<()> {
        migrate(&self.pool).await
    }

    /// Enqueues `jobs` on the caller's connection, typically inside the
    /// caller's own transaction: the jobs are stored if and only if that
    /// transaction commits.
    ///
    /// A large batch takes several INSERT statements. MySQL keeps the
    /// statements that succeeded when a later one fails, so on an error roll
    /// the transaction back (as on any error) rather than commit it.
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
        validate_jobs(jobs)?;
        let encoded = encode(jobs)?;
        self.insert_encoded(conn, &encoded).await?;
        Ok(jobs.iter().map(|job| job.id).collect())
    }

    /// Wakes this process's listeners (workers of this storage and its clones)
    /// for every queue of `jobs`. [`enqueue_jobs`](Storage::enqueue_jobs) does
    /// this itself; call it after committing a transaction in which you used
    /// [`enqueue_jobs_in`](Self::enqueue_jobs_in).
    pub fn notify_enqueued(&self, jobs: &[Job]) {
        for queue in distinct_queues(jobs) {
            // An error only means nobody is listening.
            let _ = self.wakeups.send(queue);
        }
    }

    async fn insert_encoded(
        &self,
        conn: &mut MySqlConnection,
        encoded: &[EncodedJob<'_>],
    ) -> Result<()> {
        for range in plan_chunks(encoded) {
            let chunk = &encoded[range];
            if let Err(err) = insert_chunk(conn, chunk).await {
                return Err(self.explain_insert_error(conn, chunk, err).await);
            }
        }
        Ok(())
    }

    /// Turns an insert failure into the most useful error: a duplicate id names
    /// the id (looked up only on this rare path).
    async fn explain_insert_error(
        &self,
        conn: &mut MySqlConnection,
        chunk: &[EncodedJob<'_>],
        err: sqlx::Error,
    ) -> Error {
        if error_number(&err) != Some(ER_DUP_ENTRY) {
            return map_err(err);
        }
        let ids = id_array(chunk.iter().map(|job| job.id().0));
        let query = include_str!("../queries/find_existing_ids.sql");
        // MySQL undoes only the failed statement, so the connection (and the
        // transaction, which may hold the other copy of the id) still serves.
        let found: Option<Uuid> = match sqlx::query_scalar(query)
            .bind(&ids)
            .fetch_optional(&mut *conn)
            .await
        {
            Ok(found) => found,
            Err(_) => sqlx::query_scalar(query)
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

    async fn claim_once(&self, params: &ClaimParams) -> Result<Vec<Job>> {
        let mut tx = self
            .pool
            .begin_with(BEGIN_READ_COMMITTED)
            .await
            .map_err(map_err)?;
        let rows = sqlx::query(include_str!("../queries/claim_jobs.sql"))
            .bind(params.queue.as_bytes())
            .bind(params.now)
            .bind(params.limit)
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
        if rows.is_empty() {
            tx.commit().await.map_err(map_err)?;
            return Ok(Vec::new());
        }
        let mut jobs = rows.iter().map(job_from_row).collect::<Result<Vec<_>>>()?;
        let marked = sqlx::query(include_str!("../queries/claim_jobs_update.sql"))
            .bind(id_array(jobs.iter().map(|job| job.id.0)))
            .bind(params.now)
            .bind(params.lease_until)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
        if marked != jobs.len() as u64 {
            // Cannot happen while the rows are locked; never hand out a job
            // that is not marked running.
            return Err(Error::backend(format!(
                "claim locked {} jobs but marked {marked} running",
                jobs.len()
            )));
        }
        tx.commit().await.map_err(map_err)?;
        // The rows are as read plus the update above, which is exactly this
        // (sqlx sends timestamps truncated to the microsecond).
        for job in &mut jobs {
            job.status = JobStatus::Running;
            job.attempts += 1;
            job.started_at = Some(params.now.trunc_subsecs(6));
            job.lease_expires_at = Some(params.lease_until.trunc_subsecs(6));
        }
        Ok(jobs)
    }

    async fn settle_once(
        &self,
        statements: &[(&'static str, String)],
        now: DateTime<Utc>,
    ) -> Result<u64> {
        if let [(sql, outcomes)] = statements {
            // One statement is atomic on its own: no BEGIN/COMMIT round trips.
            let done = sqlx::query(sql)
                .bind(outcomes)
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(map_err)?;
            return Ok(done.rows_affected());
        }
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let mut changed = 0;
        for (sql, outcomes) in statements {
            changed += sqlx::query(sql)
                .bind(outcomes)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected();
        }
        tx.commit().await.map_err(map_err)?;
        Ok(changed)
    }

    async fn rescue_once(&self, now: DateTime<Utc>) -> Result<u64> {
        let mut tx = self
            .pool
            .begin_with(BEGIN_READ_COMMITTED)
            .await
            .map_err(map_err)?;
        let expired: Vec<Uuid> =
            sqlx::query_scalar(include_str!("../queries/rescue_expired_jobs.sql"))
                .bind(now)
                .fetch_all(&mut *tx)
                .await
                .map_err(map_err)?;
        let mut rescued = 0;
        if !expired.is_empty() {
            rescued = sqlx::query(include_str!("../queries/rescue_expired_jobs_update.sql"))
                .bind(id_array(expired))
                .bind(now)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected();
        }
        tx.commit().await.map_err(map_err)?;
        Ok(rescued)
    }
}

/// Runs `op` again when InnoDB aborted it to break a deadlock (it rolled the
/// whole transaction back, so nothing of the failed run remains).
async fn retry_deadlocks<T, F, Fut>(what: &str, mut op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut attempt = 1;
    loop {
        match op().await {
            Err(err) if attempt < DEADLOCK_ATTEMPTS && is_deadlock(&err) => {
                tracing::debug!(
                    attempt,
                    "hammerwork {what} hit a deadlock; running it again"
                );
                attempt += 1;
            }
            result => return result,
        }
    }
}

#[async_trait]
impl Storage for MySqlStorage {
    fn capabilities(&self) -> Capabilities {
        Capabilities::new(WakeupScope::Process)
    }

    async fn enqueue_jobs(&self, jobs: &[Job]) -> Result<Vec<JobId>> {
        validate_jobs(jobs)?;
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        let encoded = encode(jobs)?;
        if plan_chunks(&encoded).len() == 1 {
            // One statement is atomic on its own: no BEGIN/COMMIT round trips.
            let mut conn = self.pool.acquire().await.map_err(map_err)?;
            self.insert_encoded(&mut conn, &encoded).await?;
        } else {
            let mut tx = self.pool.begin().await.map_err(map_err)?;
            self.insert_encoded(&mut tx, &encoded).await?;
            tx.commit().await.map_err(map_err)?;
        }
        self.notify_enqueued(jobs);
        Ok(jobs.iter().map(|job| job.id).collect())
    }

    async fn claim_jobs(&self, params: ClaimParams) -> Result<Vec<Job>> {
        if params.limit == 0 {
            return Ok(Vec::new());
        }
        retry_deadlocks("claim", || self.claim_once(&params)).await
    }

    async fn settle_jobs(&self, settlements: &[Settlement], now: DateTime<Utc>) -> Result<u64> {
        if settlements.is_empty() {
            return Ok(0);
        }
        let statements = SettleBatches::new(settlements).statements();
        retry_deadlocks("settle", || self.settle_once(&statements, now)).await
    }

    async fn heartbeat_jobs(&self, leases: &[Lease], lease_until: DateTime<Utc>) -> Result<u64> {
        if leases.is_empty() {
            return Ok(0);
        }
        let leases = lease_array(leases);
        retry_deadlocks("heartbeat", || async {
            let done = sqlx::query(include_str!("../queries/heartbeat_jobs.sql"))
                .bind(&leases)
                .bind(lease_until)
                .execute(&self.pool)
                .await
                .map_err(map_err)?;
            Ok(done.rows_affected())
        })
        .await
    }

    async fn rescue_expired_jobs(&self, now: DateTime<Utc>) -> Result<u64> {
        retry_deadlocks("rescue", || self.rescue_once(now)).await
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
        let queue = params.queue.as_deref().map(str::as_bytes);
        let status = params.status.map(JobStatus::as_str);
        let after = params.after.map(|id| id.0);
        let rows = sqlx::query(include_str!("../queries/list_jobs.sql"))
            .bind(queue)
            .bind(queue)
            .bind(status)
            .bind(status)
            .bind(after)
            .bind(after)
            .bind(params.limit.unwrap_or(100))
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(job_from_row).collect()
    }

    async fn queue_counts(&self, queue: &str) -> Result<QueueCounts> {
        let rows = sqlx::query(include_str!("../queries/queue_counts.sql"))
            .bind(queue.as_bytes())
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        let mut counts = QueueCounts::default();
        for row in rows {
            let status = required_text(&row, "status")?;
            let count: i64 = row.try_get("count").map_err(Error::backend)?;
            counts.add(status.parse()?, count as u64);
        }
        Ok(counts)
    }

    async fn cancel_job(&self, id: JobId, now: DateTime<Utc>) -> Result<bool> {
        let done = sqlx::query(include_str!("../queries/cancel_job.sql"))
            .bind(now)
            .bind(id.0)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        if done.rows_affected() > 0 {
            return Ok(true);
        }
        match self.get_job(id).await? {
            Some(_) => Ok(false),
            None => Err(Error::NotFound { id }),
        }
    }

    async fn listen(&self) -> Result<Option<Box<dyn WakeupListener>>> {
        Ok(Some(Box::new(MySqlWakeups {
            receiver: self.wakeups.subscribe(),
        })))
    }
}

/// A subscription to the storage's in-process wakeup channel.
struct MySqlWakeups {
    receiver: broadcast::Receiver<String>,
}

#[async_trait]
impl WakeupListener for MySqlWakeups {
    async fn recv(&mut self) -> Option<String> {
        match self.receiver.recv().await {
            Ok(queue) => Some(queue),
            // Wakeups were dropped while this listener lagged: "" means "any queue".
            Err(broadcast::error::RecvError::Lagged(_)) => Some(String::new()),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}
