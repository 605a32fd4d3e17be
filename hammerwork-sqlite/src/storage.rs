use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hammerwork_api::validate::{distinct_queues, validate_jobs};
use hammerwork_api::{
    Capabilities, ClaimParams, Error, Job, JobId, JobStatus, Lease, ListJobsParams, Outcome,
    QueueCounts, Result, Settlement, Storage, WakeupListener, WakeupScope,
};
use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{Connection, Row, SqliteConnection, SqlitePool};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::map_err::{is_unique_violation, map_err};
use crate::migrate::migrate;
use crate::row::{job_from_row, parse_id, to_micros};

/// Jobs per `INSERT ... FROM json_each(?)` statement: large enough to amortise
/// the statement, small enough to keep one JSON parameter a few MiB.
const ENQUEUE_CHUNK: usize = 5_000;

/// Default number of pooled connections for a database file. SQLite runs one
/// writer at a time whatever the pool size; more connections let reads run
/// beside it (WAL readers never block the writer).
const DEFAULT_MAX_CONNECTIONS: u32 = 8;

/// How long a statement waits for another connection's write lock before it
/// fails with `SQLITE_BUSY` ("database is locked").
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Wakeups buffered per listener; a listener that falls further behind is told
/// "any queue" instead.
const WAKEUP_CAPACITY: usize = 1_024;

/// Oldest SQLite this backend's SQL runs on: `->>` (3.38), STRICT tables
/// (3.37), `RETURNING` (3.35), `UPDATE ... FROM` (3.33). Only matters with
/// sqlx's `sqlite-unbundled` feature; the bundled library is newer.
const MIN_SQLITE_VERSION: (u32, u32, u32) = (3, 38, 0);

/// `BEGIN IMMEDIATE` takes the write lock up front (waiting up to the busy
/// timeout). A deferred transaction that reads before it writes fails at once
/// with `SQLITE_BUSY` when another writer committed in between; one that starts
/// with the write lock cannot.
const BEGIN_IMMEDIATE: &str = "BEGIN IMMEDIATE";

/// Hammerwork storage on an embedded SQLite database.
///
/// Cheap to clone (it holds a connection pool and a wakeup channel, both
/// shared by clones). Tables live in the pool's `main` database. Workers of
/// this process are woken when jobs are enqueued through this storage or one
/// of its clones; other processes on the same file find the jobs by polling.
///
/// The database admits one writer at a time: claims, settlements and enqueues
/// queue up for SQLite's write lock (each waits up to 5 s, the busy timeout,
/// before failing), while reads run beside them.
#[derive(Clone, Debug)]
pub struct SqliteStorage {
    pool: SqlitePool,
    /// Queue names that just received jobs. A `broadcast::Sender` is already a
    /// shared handle: every clone of the storage sends into the same channel.
    wakeups: broadcast::Sender<String>,
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
        let (wakeups, _) = broadcast::channel(WAKEUP_CAPACITY);
        Ok(SqliteStorage { pool, wakeups })
    }

    /// The underlying pool.
    pub fn pool(&self) -> &SqlitePool {
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
    /// transaction commits. All of `jobs` or none is written, even outside a
    /// transaction.
    ///
    /// SQLite cannot tell this storage when your transaction commits, so no
    /// wakeup is sent: workers pick these jobs up at their next poll.
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
        validate_jobs(jobs)?;
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        if jobs.len() <= ENQUEUE_CHUNK {
            // One statement is atomic on its own.
            self.insert_chunk(conn, jobs).await?;
        } else {
            // Several statements: a transaction (a savepoint inside the
            // caller's) keeps them all-or-nothing.
            let mut tx = conn.begin().await.map_err(map_err)?;
            for chunk in jobs.chunks(ENQUEUE_CHUNK) {
                self.insert_chunk(&mut tx, chunk).await?;
            }
            tx.commit().await.map_err(map_err)?;
        }
        Ok(jobs.iter().map(|job| job.id).collect())
    }

    async fn insert_chunk(&self, conn: &mut SqliteConnection, jobs: &[Job]) -> Result<()> {
        let rows = jobs
            .iter()
            .map(EnqueueRow::new)
            .collect::<Result<Vec<_>>>()?;
        let rows =
            serde_json::to_string(&rows).map_err(|e| Error::InvalidPayload(e.to_string()))?;
        let inserted = sqlx::query(include_str!("../queries/enqueue_jobs.sql"))
            .bind(rows)
            .execute(&mut *conn)
            .await;
        match inserted {
            Ok(_) => Ok(()),
            Err(err) => Err(self.explain_insert_error(conn, jobs, err).await),
        }
    }

    /// Turns an insert failure into the most useful error: a duplicate id names
    /// the id (looked up only on this rare path).
    async fn explain_insert_error(
        &self,
        conn: &mut SqliteConnection,
        jobs: &[Job],
        err: sqlx::Error,
    ) -> Error {
        if !is_unique_violation(&err) {
            return map_err(err);
        }
        let ids: Vec<Uuid> = jobs.iter().map(|job| job.id.0).collect();
        let ids = serde_json::to_string(&ids).expect("UUIDs serialise");
        // Unlike PostgreSQL, a failed statement leaves SQLite's transaction
        // usable (only the statement is undone), so look on the same
        // connection: it sees the caller's uncommitted rows too.
        let found: Option<String> =
            match sqlx::query_scalar(include_str!("../queries/find_existing_ids.sql"))
                .bind(ids)
                .fetch_optional(conn)
                .await
            {
                Ok(found) => found,
                Err(_) => return map_err(err),
            };
        match found.as_deref().map(parse_id) {
            Some(Ok(id)) => Error::DuplicateJob { id },
            _ => map_err(err),
        }
    }

    /// Wakes this process's listeners of every queue `jobs` went to.
    fn wake(&self, jobs: &[Job]) {
        for queue in distinct_queues(jobs) {
            // An error only means nobody is listening right now.
            let _ = self.wakeups.send(queue);
        }
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

/// One job as an element of `enqueue_jobs.sql`'s JSON array parameter.
#[derive(Serialize)]
struct EnqueueRow<'a> {
    id: Uuid,
    queue_name: &'a str,
    /// The payload's JSON text, carried as a string so SQLite stores exactly it.
    payload: String,
    priority: i16,
    max_attempts: i32,
    created_at: i64,
    scheduled_at: i64,
    timeout_ms: Option<i64>,
    retry_policy: Option<String>,
    trace_id: Option<&'a str>,
    correlation_id: Option<&'a str>,
}

impl<'a> EnqueueRow<'a> {
    fn new(job: &'a Job) -> Result<Self> {
        Ok(EnqueueRow {
            id: job.id.0,
            queue_name: &job.queue_name,
            payload: to_json(&job.payload)?,
            priority: job.priority.as_i16(),
            max_attempts: job.max_attempts,
            created_at: to_micros(job.created_at),
            scheduled_at: to_micros(job.scheduled_at),
            timeout_ms: job
                .timeout
                .map(|t| t.as_millis().min(i64::MAX as u128) as i64),
            retry_policy: job.retry_policy.as_ref().map(to_json).transpose()?,
            trace_id: job.trace_id.as_deref(),
            correlation_id: job.correlation_id.as_deref(),
        })
    }
}

/// JSON text for a TEXT column.
fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::InvalidPayload(e.to_string()))
}

/// One attempt as an element of the JSON array parameter of
/// `heartbeat_jobs.sql` and the `settle_jobs_*.sql` statements; each statement
/// reads the fields of its outcome (an absent field reads as NULL).
#[derive(Serialize)]
struct AttemptRow<'a> {
    id: Uuid,
    attempt: i32,
    /// The handler's result as JSON text.
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    /// Microseconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    started: Option<bool>,
}

impl AttemptRow<'_> {
    fn new(lease: &Lease) -> Self {
        AttemptRow {
            id: lease.id.0,
            attempt: lease.attempt,
            result: None,
            error: None,
            retry_at: None,
            reason: None,
            started: None,
        }
    }
}

/// Splits settlements by outcome into the parameter of each settle statement.
#[derive(Default)]
struct SettleBatches<'a> {
    completed: Vec<AttemptRow<'a>>,
    failed: Vec<AttemptRow<'a>>,
    cancelled: Vec<AttemptRow<'a>>,
    given_back: Vec<AttemptRow<'a>>,
}

impl<'a> SettleBatches<'a> {
    fn new(settlements: &'a [Settlement]) -> Self {
        let mut b = SettleBatches::default();
        for s in settlements {
            let row = AttemptRow::new(&s.lease);
            match &s.outcome {
                Outcome::Completed { result } => b.completed.push(AttemptRow {
                    result: result.as_ref().map(|v| v.to_string()),
                    ..row
                }),
                Outcome::Failed { error, retry_at } => b.failed.push(AttemptRow {
                    error: Some(error),
                    retry_at: retry_at.map(to_micros),
                    ..row
                }),
                Outcome::Cancelled { reason } => b.cancelled.push(AttemptRow {
                    reason: Some(reason),
                    ..row
                }),
                Outcome::GiveBack { started } => b.given_back.push(AttemptRow {
                    started: Some(*started),
                    ..row
                }),
                _ => unreachable!("every Outcome variant is handled"),
            }
        }
        b
    }

    /// Each non-empty batch with its statement: (SQL, JSON array parameter).
    fn statements(&self) -> Vec<(&'static str, String)> {
        [
            (
                include_str!("../queries/settle_jobs_completed.sql"),
                &self.completed,
            ),
            (
                include_str!("../queries/settle_jobs_failed.sql"),
                &self.failed,
            ),
            (
                include_str!("../queries/settle_jobs_cancelled.sql"),
                &self.cancelled,
            ),
            (
                include_str!("../queries/settle_jobs_given_back.sql"),
                &self.given_back,
            ),
        ]
        .into_iter()
        .filter(|(_, rows)| !rows.is_empty())
        .map(|(sql, rows)| {
            (
                sql,
                serde_json::to_string(rows).expect("attempt rows serialise"),
            )
        })
        .collect()
    }
}

#[async_trait]
impl Storage for SqliteStorage {
    fn capabilities(&self) -> Capabilities {
        Capabilities::new(WakeupScope::Process)
    }

    async fn enqueue_jobs(&self, jobs: &[Job]) -> Result<Vec<JobId>> {
        validate_jobs(jobs)?;
        let ids = if jobs.len() <= ENQUEUE_CHUNK {
            // One statement is atomic on its own: no BEGIN/COMMIT round trips.
            let mut conn = self.pool.acquire().await.map_err(map_err)?;
            self.enqueue_jobs_in(&mut conn, jobs).await?
        } else {
            let mut tx = self
                .pool
                .begin_with(BEGIN_IMMEDIATE)
                .await
                .map_err(map_err)?;
            let ids = self.enqueue_jobs_in(&mut tx, jobs).await?;
            tx.commit().await.map_err(map_err)?;
            ids
        };
        self.wake(jobs);
        Ok(ids)
    }

    async fn claim_jobs(&self, params: ClaimParams) -> Result<Vec<Job>> {
        if params.limit == 0 {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(include_str!("../queries/claim_jobs.sql"))
            .bind(&params.queue)
            .bind(to_micros(params.now))
            .bind(i64::from(params.limit))
            .bind(to_micros(params.lease_until))
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        let mut jobs = rows.iter().map(job_from_row).collect::<Result<Vec<_>>>()?;
        // RETURNING does not keep the subquery's order.
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
        let statements = SettleBatches::new(settlements).statements();
        let now = to_micros(now);
        if let [(sql, rows)] = statements.as_slice() {
            // One statement is atomic on its own: no BEGIN/COMMIT round trips.
            let done = sqlx::query(sql)
                .bind(rows)
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(map_err)?;
            return Ok(done.rows_affected());
        }
        let mut tx = self
            .pool
            .begin_with(BEGIN_IMMEDIATE)
            .await
            .map_err(map_err)?;
        let mut changed = 0;
        for (sql, rows) in &statements {
            changed += sqlx::query(sql)
                .bind(rows)
                .bind(now)
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
        let rows: Vec<AttemptRow> = leases.iter().map(AttemptRow::new).collect();
        let rows = serde_json::to_string(&rows).expect("attempt rows serialise");
        let done = sqlx::query(include_str!("../queries/heartbeat_jobs.sql"))
            .bind(rows)
            .bind(to_micros(lease_until))
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected())
    }

    async fn rescue_expired_jobs(&self, now: DateTime<Utc>) -> Result<u64> {
        let done = sqlx::query(include_str!("../queries/rescue_expired_jobs.sql"))
            .bind(to_micros(now))
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected())
    }

    async fn get_job(&self, id: JobId) -> Result<Option<Job>> {
        let row = sqlx::query(include_str!("../queries/get_job.sql"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn list_jobs(&self, params: ListJobsParams) -> Result<Vec<Job>> {
        let rows = sqlx::query(include_str!("../queries/list_jobs.sql"))
            .bind(params.queue)
            .bind(params.status.map(JobStatus::as_str))
            .bind(params.after.map(|id| id.to_string()))
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
        let cancelled: Option<String> =
            sqlx::query_scalar(include_str!("../queries/cancel_job.sql"))
                .bind(id.to_string())
                .bind(to_micros(now))
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
        Ok(Some(Box::new(SqliteWakeups {
            wakeups: self.wakeups.subscribe(),
        })))
    }
}

/// A subscription to this process's enqueue wakeups; each message is a queue name.
struct SqliteWakeups {
    wakeups: broadcast::Receiver<String>,
}

#[async_trait]
impl WakeupListener for SqliteWakeups {
    async fn recv(&mut self) -> Option<String> {
        match self.wakeups.recv().await {
            Ok(queue) => Some(queue),
            // Wakeups were dropped while this listener lagged. "" means "any queue".
            Err(broadcast::error::RecvError::Lagged(_)) => Some(String::new()),
            // Every clone of the storage is gone.
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
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

    #[test]
    fn absent_settle_fields_are_omitted() {
        let lease = Lease {
            id: JobId::new(),
            attempt: 2,
        };
        let settlements = [
            Settlement::new(lease, Outcome::Completed { result: None }),
            Settlement::new(
                lease,
                Outcome::Completed {
                    result: Some(serde_json::Value::Null),
                },
            ),
        ];
        let statements = SettleBatches::new(&settlements).statements();
        assert_eq!(statements.len(), 1);
        let rows: serde_json::Value = serde_json::from_str(&statements[0].1).unwrap();
        assert_eq!(rows[0].get("result"), None, "no result reads as NULL");
        assert_eq!(rows[1]["result"], "null", "a JSON null result is kept");
        assert_eq!(rows[1]["attempt"], 2);
    }
}
