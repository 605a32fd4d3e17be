use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hammerwork_api::schedule::{Recurrence, RecurrenceSource};
use hammerwork_api::spawn::{SpawnError, SpawnOperation, SpawnQuery, SpawnSet, SpawnStats};
use hammerwork_api::validate::validate_batch;
use hammerwork_api::workflow::{
    condition_context, external_dependencies, killed_in_other_workflows, plan_enqueue,
    plan_failures, validate_graph, Condition, FailurePolicy, PlannedJob, StoredParent, Workflow,
    WorkflowId,
};
use hammerwork_api::{
    Capabilities, ClaimParams, DependencyStatus, EnqueueBatch, Error, Job, JobId, JobStatus, Lease,
    ListJobsParams, ListWorkflowsParams, Outcome, QueueCounts, Result, Settlement, Storage,
    StorageDatabase, WakeupListener, WakeupScope,
};
use serde::Serialize;
use serde_json::Value;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow};
use sqlx::{Connection, Row, SqliteConnection, SqlitePool};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::map_err::{is_unique_violation, map_err};
use crate::migrate::migrate;
use crate::row::{job_from_row, parse_id, spawn_operation_from_row, to_micros, workflow_from_row};

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
/// this process are woken when jobs become claimable through this storage or
/// one of its clones (enqueued, released by their last dependency, or reset by
/// a workflow retry); other processes on the same file find them by polling.
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

/// Spawn handlers for this storage's workers are
/// [`SpawnHandler<sqlx::Sqlite>`](hammerwork_api::spawn::SpawnHandler).
impl StorageDatabase for SqliteStorage {
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
        let batch = EnqueueBatch::jobs(jobs);
        if is_one_statement(&batch) {
            // One statement is atomic on its own.
            self.write_batch(conn, batch).await?;
        } else {
            // Several statements: a transaction (a savepoint inside the
            // caller's) keeps them all-or-nothing; a new one takes the write
            // lock up front, as stored parents are read before the insert.
            let mut tx = if conn.is_in_transaction() {
                conn.begin().await
            } else {
                conn.begin_with(BEGIN_IMMEDIATE).await
            }
            .map_err(map_err)?;
            self.write_batch(&mut tx, batch).await?;
            tx.commit().await.map_err(map_err)?;
        }
        Ok(jobs.iter().map(|job| job.id).collect())
    }

    /// The whole enqueue, inside the caller's write transaction (or as one
    /// statement, see [`is_one_statement`]): checks, plan, workflow row, jobs,
    /// edges. Returns the queues that got a claimable job.
    async fn write_batch(
        &self,
        conn: &mut SqliteConnection,
        batch: EnqueueBatch<'_>,
    ) -> Result<HashSet<String>> {
        let jobs = batch.jobs;
        validate_batch(&batch)?;
        let external = external_dependencies(jobs);
        let stored = if external.is_empty() {
            HashMap::new()
        } else {
            stored_parents(conn, &external).await?
        };
        validate_graph(jobs, |id| stored.contains_key(&id))?;
        let plans = plan_enqueue(jobs, &stored);
        if let Some(workflow) = batch.workflow {
            insert_workflow(conn, workflow, &plans).await?;
        }
        for (chunk, plan_chunk) in jobs.chunks(ENQUEUE_CHUNK).zip(plans.chunks(ENQUEUE_CHUNK)) {
            self.insert_chunk(conn, chunk, plan_chunk).await?;
        }
        let edges: Vec<(Uuid, Uuid)> = jobs
            .iter()
            .flat_map(|job| job.depends_on.iter().map(|dep| (dep.0, job.id.0)))
            .collect();
        for chunk in edges.chunks(ENQUEUE_CHUNK * 4) {
            sqlx::query(include_str!("../queries/insert_dependencies.sql"))
                .bind(serde_json::to_string(chunk).expect("UUIDs serialise"))
                .execute(&mut *conn)
                .await
                .map_err(map_err)?;
        }
        // A job planned dead (a stored parent already failed) fails now: its
        // workflow's failure policy applies, as when a job dies later, and its
        // stored dependents (those of a spawned child grafted onto a held
        // stage, see `complete_and_spawn`) die with it.
        let dead: Vec<(String, Option<String>)> = jobs
            .iter()
            .zip(&plans)
            .filter(|(_, plan)| plan.status == JobStatus::Dead)
            .map(|(job, _)| (job.id.to_string(), job.workflow_id.map(|w| w.to_string())))
            .collect();
        if !dead.is_empty() {
            let now = batch.workflow.map_or_else(Utc::now, |w| w.created_at);
            apply_failure_policies(conn, &dead, to_micros(now)).await?;
        }
        // Likewise a job skipped or cancelled at once ends what already waits
        // on it.
        for (status, why) in [
            (JobStatus::Skipped, "a dependency was skipped"),
            (JobStatus::Cancelled, "a dependency was cancelled"),
        ] {
            let ended: Vec<String> = jobs
                .iter()
                .zip(&plans)
                .filter(|(_, plan)| plan.status == status)
                .map(|(job, _)| job.id.to_string())
                .collect();
            if !ended.is_empty() {
                propagate(conn, &ended, status.as_str(), why, to_micros(Utc::now())).await?;
            }
        }
        Ok(jobs
            .iter()
            .zip(&plans)
            .filter(|(_, plan)| is_claimable(plan))
            .map(|(job, _)| job.queue_name.clone())
            .collect())
    }

    async fn insert_chunk(
        &self,
        conn: &mut SqliteConnection,
        jobs: &[Job],
        plans: &[PlannedJob],
    ) -> Result<()> {
        let rows = jobs
            .iter()
            .zip(plans)
            .map(|(job, plan)| EnqueueRow::new(job, plan))
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

    /// Wakes this process's listeners of these queues. Call after commit.
    fn wake(&self, queues: HashSet<String>) {
        for queue in queues {
            // An error only means nobody is listening right now.
            let _ = self.wakeups.send(queue);
        }
    }

    /// Begins a write transaction: `BEGIN IMMEDIATE`.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.pool.begin_with(BEGIN_IMMEDIATE).await.map_err(map_err)
    }
}

/// Whether `batch` is written by one `INSERT` and nothing else (no workflow
/// row, no dependency to read or store, one chunk): then it needs no
/// transaction of its own.
fn is_one_statement(batch: &EnqueueBatch<'_>) -> bool {
    batch.workflow.is_none()
        && batch.jobs.len() <= ENQUEUE_CHUNK
        && batch.jobs.iter().all(|job| job.depends_on.is_empty())
}

/// Whether a job planned so can be claimed (when due).
fn is_claimable(plan: &PlannedJob) -> bool {
    plan.status == JobStatus::Pending
        && matches!(
            plan.dependency_status,
            DependencyStatus::None | DependencyStatus::Satisfied
        )
}

/// A list of ids as the JSON array parameter of a `json_each(?)`.
fn id_list<T: Serialize>(ids: &[T]) -> String {
    serde_json::to_string(ids).expect("ids serialise")
}

/// Reads the stored jobs a batch depends on. Inside the batch's write
/// transaction: SQLite has one writer, so none of them can change before the
/// batch is inserted.
async fn stored_parents(
    conn: &mut SqliteConnection,
    ids: &[JobId],
) -> Result<HashMap<JobId, StoredParent>> {
    let ids: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
    let rows = sqlx::query(include_str!("../queries/stored_parents.sql"))
        .bind(id_list(&ids))
        .fetch_all(conn)
        .await
        .map_err(map_err)?;
    rows.iter()
        .map(|row| {
            let id = parse_id(row.try_get("id").map_err(Error::backend)?)?;
            let status = row
                .try_get::<&str, _>("status")
                .map_err(Error::backend)?
                .parse()?;
            let result = row
                .try_get::<Option<&str>, _>("result")
                .map_err(Error::backend)?
                .map(serde_json::from_str)
                .transpose()
                .map_err(|e| Error::backend(format!("stored result is not JSON: {e}")))?;
            Ok((id, StoredParent { status, result }))
        })
        .collect()
}

/// Inserts the workflow row with counters from the batch's plan.
async fn insert_workflow(
    conn: &mut SqliteConnection,
    workflow: &Workflow,
    plans: &[PlannedJob],
) -> Result<()> {
    let count = |status: JobStatus| plans.iter().filter(|p| p.status == status).count() as i64;
    sqlx::query(include_str!("../queries/insert_workflow.sql"))
        .bind(workflow.id.to_string())
        .bind(&workflow.name)
        .bind(&workflow.description)
        .bind(workflow.failure_policy.as_str())
        .bind(to_micros(workflow.created_at))
        .bind(workflow.deadline_at.map(to_micros))
        .bind(plans.len() as i64)
        .bind(count(JobStatus::Pending))
        .bind(count(JobStatus::Dead))
        .bind(count(JobStatus::Skipped))
        .bind(count(JobStatus::Cancelled))
        .bind(&workflow.cron_schedule)
        .bind(workflow.timeout.map(duration_ms))
        .execute(conn)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// Jobs that just reached an end state, whose dependents must follow (ids as
/// stored text).
#[derive(Default)]
struct Finished {
    completed: Vec<String>,
    /// Dead jobs with their workflow.
    dead: Vec<(String, Option<String>)>,
    cancelled: Vec<String>,
}

impl Finished {
    /// Collects the `RETURNING id, status, workflow_id` rows of a statement.
    fn add_rows(&mut self, rows: &[SqliteRow]) -> Result<()> {
        for row in rows {
            let id: String = row.try_get("id").map_err(Error::backend)?;
            let status: &str = row.try_get("status").map_err(Error::backend)?;
            match status {
                "completed" => self.completed.push(id),
                "dead" => self
                    .dead
                    .push((id, row.try_get("workflow_id").map_err(Error::backend)?)),
                "cancelled" => self.cancelled.push(id),
                _ => {}
            }
        }
        Ok(())
    }
}

/// Settles `settlements` and moves the dependents of the jobs they finish on,
/// inside the caller's write transaction. Returns how many settlements applied
/// and the queues of released jobs, to wake after commit.
async fn settle_in(
    conn: &mut SqliteConnection,
    settlements: &[Settlement],
    now: i64,
) -> Result<(u64, HashSet<String>)> {
    let statements = SettleBatches::new(settlements).statements();
    let mut finished = Finished::default();
    let mut changed = 0;
    for (sql, rows) in &statements {
        let rows = sqlx::query(sql)
            .bind(rows)
            .bind(now)
            .fetch_all(&mut *conn)
            .await
            .map_err(map_err)?;
        changed += rows.len() as u64;
        finished.add_rows(&rows)?;
    }
    let wake = follow_dependents(conn, finished, now).await?;
    Ok((changed, wake))
}

/// Moves the dependents of finished jobs on, inside the caller's write
/// transaction: releases (or skips, by condition) the dependents of completed
/// jobs, applies failure policies for dead ones, cancels the dependents of
/// cancelled ones. Returns the queues of released jobs, to wake after commit.
async fn follow_dependents(
    conn: &mut SqliteConnection,
    finished: Finished,
    now: i64,
) -> Result<HashSet<String>> {
    let mut wake = HashSet::new();
    let mut skipped = Vec::new();
    if !finished.completed.is_empty() {
        let rows = sqlx::query(include_str!("../queries/release_dependents.sql"))
            .bind(id_list(&finished.completed))
            .fetch_all(&mut *conn)
            .await
            .map_err(map_err)?;
        let mut conditional: Vec<(String, String)> = Vec::new();
        for row in &rows {
            let pending: i64 = row
                .try_get("pending_dependencies")
                .map_err(Error::backend)?;
            if pending > 0 {
                continue;
            }
            match row
                .try_get::<Option<String>, _>("condition")
                .map_err(Error::backend)?
            {
                Some(condition) => {
                    conditional.push((row.try_get("id").map_err(Error::backend)?, condition))
                }
                None => {
                    wake.insert(row.try_get("queue_name").map_err(Error::backend)?);
                }
            }
        }
        if !conditional.is_empty() {
            skipped = resolve_conditions(conn, &conditional, now, &mut wake).await?;
        }
    }
    if !skipped.is_empty() {
        propagate(conn, &skipped, "skipped", "a dependency was skipped", now).await?;
    }
    if !finished.dead.is_empty() {
        apply_failure_policies(conn, &finished.dead, now).await?;
    }
    if !finished.cancelled.is_empty() {
        propagate(
            conn,
            &finished.cancelled,
            "cancelled",
            "a dependency was cancelled",
            now,
        )
        .await?;
    }
    Ok(wake)
}

/// Evaluates the conditions of jobs whose parents all completed; returns the
/// ids of those skipped (false), adds the queues of those released (true) to
/// `wake`.
async fn resolve_conditions(
    conn: &mut SqliteConnection,
    jobs: &[(String, String)],
    now: i64,
    wake: &mut HashSet<String>,
) -> Result<Vec<String>> {
    let ids: Vec<&str> = jobs.iter().map(|(id, _)| id.as_str()).collect();
    let rows = sqlx::query(include_str!("../queries/parent_results.sql"))
        .bind(id_list(&ids))
        .fetch_all(&mut *conn)
        .await
        .map_err(map_err)?;
    let mut results: HashMap<String, Vec<Value>> = HashMap::new();
    for row in &rows {
        let job: String = row.try_get("job_id").map_err(Error::backend)?;
        let result = row
            .try_get::<Option<&str>, _>("result")
            .map_err(Error::backend)?
            .map(serde_json::from_str::<Value>)
            .transpose()
            .map_err(|e| Error::backend(format!("stored result is not JSON: {e}")))?;
        results.entry(job).or_default().extend(result);
    }
    let runs: Vec<(&str, bool)> = jobs
        .iter()
        .map(|(id, condition)| {
            // Parsed when enqueued, so a parse error here means the row was
            // edited by hand: treat it as false rather than run the job.
            let context = condition_context(results.get(id).into_iter().flatten());
            let runs = Condition::parse(condition).is_ok_and(|c| c.evaluate(&context));
            (id.as_str(), runs)
        })
        .collect();
    let rows = sqlx::query(include_str!("../queries/resolve_conditions.sql"))
        .bind(serde_json::to_string(&runs).expect("ids and flags serialise"))
        .bind(now)
        .fetch_all(&mut *conn)
        .await
        .map_err(map_err)?;
    let mut skipped = Vec::new();
    for row in &rows {
        let status: &str = row.try_get("status").map_err(Error::backend)?;
        if status == "skipped" {
            skipped.push(row.try_get("id").map_err(Error::backend)?);
        } else {
            wake.insert(row.try_get("queue_name").map_err(Error::backend)?);
        }
    }
    Ok(skipped)
}

/// Ends every transitive dependent of `parents` that has not started as
/// `status`, with `why` as its error. Returns the jobs it ended, with their
/// workflow.
async fn propagate(
    conn: &mut SqliteConnection,
    parents: &[String],
    status: &str,
    why: &str,
    now: i64,
) -> Result<Vec<(String, Option<String>)>> {
    let rows = sqlx::query(include_str!("../queries/propagate_to_dependents.sql"))
        .bind(id_list(parents))
        .bind(status)
        .bind(why)
        .bind(now)
        .fetch_all(&mut *conn)
        .await
        .map_err(map_err)?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("id").map_err(Error::backend)?,
                row.try_get("workflow_id").map_err(Error::backend)?,
            ))
        })
        .collect()
}

/// Applies each dead job's workflow failure policy (outside a workflow, its
/// dependents die with it, as under `ContinueOnFailure`).
async fn apply_failure_policies(
    conn: &mut SqliteConnection,
    dead: &[(String, Option<String>)],
    now: i64,
) -> Result<()> {
    let workflow_ids: Vec<&str> = dead
        .iter()
        .filter_map(|(_, w)| w.as_deref())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut policies: HashMap<String, FailurePolicy> = HashMap::new();
    if !workflow_ids.is_empty() {
        let rows = sqlx::query(include_str!("../queries/workflow_policies.sql"))
            .bind(id_list(&workflow_ids))
            .fetch_all(&mut *conn)
            .await
            .map_err(map_err)?;
        for row in &rows {
            let id: String = row.try_get("id").map_err(Error::backend)?;
            let policy: &str = row.try_get("failure_policy").map_err(Error::backend)?;
            policies.insert(id, policy.parse()?);
        }
    }
    let plan = plan_failures(dead, &policies);
    if !plan.cascade.is_empty() {
        let killed = propagate(conn, &plan.cascade, "dead", "a dependency failed", now).await?;
        let others = killed_in_other_workflows(killed, &policies);
        if !others.is_empty() {
            Box::pin(apply_failure_policies(conn, &others, now)).await?;
        }
    }
    let fail_fast: Vec<&str> = plan.fail_fast.iter().map(String::as_str).collect();
    if !fail_fast.is_empty() {
        set_workflow_state(conn, &fail_fast, "failed").await?;
        cancel_unfinished(
            conn,
            &fail_fast,
            "cancelled: another job of the workflow failed",
            now,
        )
        .await?;
    }
    let pause: Vec<&str> = plan.pause.iter().map(String::as_str).collect();
    if !pause.is_empty() {
        set_workflow_state(conn, &pause, "paused").await?;
    }
    Ok(())
}

/// Sets the state of these workflows, unless they already ended.
async fn set_workflow_state(
    conn: &mut SqliteConnection,
    workflows: &[&str],
    state: &str,
) -> Result<()> {
    sqlx::query(include_str!("../queries/set_workflow_state.sql"))
        .bind(id_list(workflows))
        .bind(state)
        .execute(conn)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// Cancels every unfinished job of these workflows and the unfinished spawned
/// jobs outside them that one of their jobs awaits (grafted children), then
/// the dependents of all those jobs (as [`Storage::cancel_job`] does). Returns
/// how many jobs it cancelled.
async fn cancel_unfinished<T: Serialize>(
    conn: &mut SqliteConnection,
    workflows: &[T],
    why: &str,
    now: i64,
) -> Result<u64> {
    let cancelled: Vec<String> =
        sqlx::query_scalar(include_str!("../queries/cancel_unfinished.sql"))
            .bind(id_list(workflows))
            .bind(why)
            .bind(now)
            .fetch_all(&mut *conn)
            .await
            .map_err(map_err)?;
    if !cancelled.is_empty() {
        propagate(
            conn,
            &cancelled,
            "cancelled",
            "a dependency was cancelled",
            now,
        )
        .await?;
    }
    Ok(cancelled.len() as u64)
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
    /// Planned by `plan_enqueue`: `pending`, or already finished.
    status: &'static str,
    /// The JSON text of the parent ids.
    depends_on: String,
    dependency_status: &'static str,
    pending_dependencies: i32,
    workflow_id: Option<Uuid>,
    condition: Option<&'a str>,
    error_message: Option<&'a str>,
    /// Also makes the row its series' live occurrence (`cron_live = 1`).
    cron_schedule: Option<&'a str>,
    /// The job that spawned this one.
    parent_job_id: Option<Uuid>,
    spawn_operation_id: Option<&'a str>,
    spawn_depth: u32,
}

impl<'a> EnqueueRow<'a> {
    fn new(job: &'a Job, plan: &'a PlannedJob) -> Result<Self> {
        Ok(EnqueueRow {
            id: job.id.0,
            queue_name: &job.queue_name,
            payload: to_json(&job.payload)?,
            priority: job.priority.as_i16(),
            max_attempts: job.max_attempts,
            created_at: to_micros(job.created_at),
            scheduled_at: to_micros(job.scheduled_at),
            timeout_ms: job.timeout.map(duration_ms),
            retry_policy: job.retry_policy.as_ref().map(to_json).transpose()?,
            trace_id: job.trace_id.as_deref(),
            correlation_id: job.correlation_id.as_deref(),
            status: plan.status.as_str(),
            depends_on: to_json(&job.depends_on)?,
            dependency_status: plan.dependency_status.as_str(),
            pending_dependencies: plan.pending_dependencies,
            workflow_id: job.workflow_id.map(|w| w.0),
            condition: job.condition.as_deref(),
            error_message: plan.error.as_deref(),
            cron_schedule: job.cron_schedule.as_deref(),
            parent_job_id: job.parent_job_id.map(|p| p.0),
            spawn_operation_id: job.spawn_operation_id.as_deref(),
            spawn_depth: job.spawn_depth,
        })
    }
}

/// A duration as stored in a `timeout_ms` column: whole milliseconds,
/// saturating at `i64::MAX`.
fn duration_ms(duration: Duration) -> i64 {
    duration.as_millis().min(i64::MAX as u128) as i64
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

    async fn enqueue_jobs(&self, batch: EnqueueBatch<'_>) -> Result<Vec<JobId>> {
        let ids: Vec<JobId> = batch.jobs.iter().map(|job| job.id).collect();
        let wake = if is_one_statement(&batch) {
            // One statement is atomic on its own: no BEGIN/COMMIT round trips.
            let mut conn = self.pool.acquire().await.map_err(map_err)?;
            self.write_batch(&mut conn, batch).await?
        } else {
            // The stored parents are read and the batch written under one
            // write lock: none of them can finish in between.
            let mut tx = self.begin_write().await?;
            let wake = self.write_batch(&mut tx, batch).await?;
            tx.commit().await.map_err(map_err)?;
            wake
        };
        self.wake(wake);
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
        // A transaction even for one statement: the dependents of the jobs it
        // finishes move on with it, all or nothing.
        let mut tx = self.begin_write().await?;
        let (changed, wake) = settle_in(&mut tx, settlements, to_micros(now)).await?;
        tx.commit().await.map_err(map_err)?;
        self.wake(wake);
        Ok(changed)
    }

    async fn complete_and_spawn(
        &self,
        lease: Lease,
        result: Option<Value>,
        spawn: &SpawnSet,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        // The graft of awaited children onto the parent's waiting dependents,
        // the parent's completion (and everything it releases), the operation
        // row and the children share one write lock: all or nothing. An error
        // returns before commit: dropping `tx` rolls everything back.
        let mut tx = self.begin_write().await?;
        if spawn.await_children && !spawn.children.is_empty() {
            // Hold the parent's dependents before its completion releases them.
            let current: Option<String> =
                sqlx::query_scalar(include_str!("../queries/running_attempt.sql"))
                    .bind(lease.id.to_string())
                    .bind(lease.attempt)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_err)?;
            if current.is_none() {
                tx.rollback().await.map_err(map_err)?;
                return Ok(false);
            }
            let children: Vec<Uuid> = spawn.children.iter().map(|c| c.id.0).collect();
            let children = id_list(&children);
            sqlx::query(include_str!("../queries/graft_children_edges.sql"))
                .bind(lease.id.to_string())
                .bind(&children)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            let held: Vec<String> =
                sqlx::query_scalar(include_str!("../queries/graft_children.sql"))
                    .bind(lease.id.to_string())
                    .bind(&children)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(map_err)?;
            let held = held
                .iter()
                .map(|id| id.parse::<JobId>())
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(Error::backend)?;
            hammerwork_api::spawn::check_awaiting_cycle(&spawn.children, &held)?;
        }
        let completed = Settlement::new(lease, Outcome::Completed { result });
        let (changed, mut wake) = settle_in(&mut tx, &[completed], to_micros(now)).await?;
        if changed == 0 {
            // The attempt is no longer current: nothing to spawn.
            tx.rollback().await.map_err(map_err)?;
            return Ok(false);
        }
        let op = &spawn.operation;
        let metadata = op.metadata.as_ref().map(to_json).transpose()?;
        let inserted = sqlx::query(include_str!("../queries/insert_spawn_operation.sql"))
            .bind(&op.id)
            .bind(op.parent_job_id.to_string())
            .bind(&op.queue_name)
            .bind(&op.handler)
            .bind(i64::try_from(op.child_count).unwrap_or(i64::MAX))
            .bind(i64::try_from(op.batch_count).unwrap_or(i64::MAX))
            .bind(metadata)
            .bind(to_micros(op.created_at))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        if inserted.rows_affected() == 0 {
            return Err(Error::Spawn(SpawnError::DuplicateOperation {
                id: op.id.clone(),
            }));
        }
        for chunk in spawn.children.chunks(spawn.batch_size.max(1)) {
            wake.extend(self.write_batch(&mut tx, EnqueueBatch::jobs(chunk)).await?);
        }
        tx.commit().await.map_err(map_err)?;
        self.wake(wake);
        Ok(true)
    }

    async fn get_spawn_operation(&self, id: &str) -> Result<Option<SpawnOperation>> {
        let row = sqlx::query(include_str!("../queries/get_spawn_operation.sql"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref().map(spawn_operation_from_row).transpose()
    }

    async fn list_spawn_operations(&self, query: SpawnQuery) -> Result<Vec<SpawnOperation>> {
        let rows = sqlx::query(include_str!("../queries/list_spawn_operations.sql"))
            .bind(query.queue)
            .bind(query.since.map(to_micros))
            .bind(query.until.map(to_micros))
            .bind(i64::from(query.limit.unwrap_or(100)))
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(spawn_operation_from_row).collect()
    }

    async fn spawn_stats(&self, query: SpawnQuery) -> Result<SpawnStats> {
        let row = sqlx::query(include_str!("../queries/spawn_stats.sql"))
            .bind(query.queue)
            .bind(query.since.map(to_micros))
            .bind(query.until.map(to_micros))
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        let count = |name: &str| -> Result<u64> {
            Ok(row.try_get::<i64, _>(name).map_err(Error::backend)?.max(0) as u64)
        };
        Ok(SpawnStats::new(
            count("operations")?,
            count("children")?,
            count("failed_children")?,
        ))
    }

    async fn get_descendants(&self, id: JobId, max_depth: u32) -> Result<Vec<Job>> {
        let rows = sqlx::query(include_str!("../queries/get_descendants.sql"))
            .bind(id.to_string())
            .bind(i64::from(max_depth))
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(job_from_row).collect()
    }

    async fn get_ancestors(&self, id: JobId) -> Result<Vec<Job>> {
        let rows = sqlx::query(include_str!("../queries/get_ancestors.sql"))
            .bind(id.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(job_from_row).collect()
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
        let now = to_micros(now);
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(include_str!("../queries/rescue_expired_jobs.sql"))
            .bind(now)
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
        let mut finished = Finished::default();
        finished.add_rows(&rows)?;
        let wake = follow_dependents(&mut tx, finished, now).await?;
        tx.commit().await.map_err(map_err)?;
        self.wake(wake);
        Ok(rows.len() as u64)
    }

    async fn get_job(&self, id: JobId) -> Result<Option<Job>> {
        let row = sqlx::query(include_str!("../queries/get_job.sql"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn get_jobs(&self, ids: &[JobId]) -> Result<Vec<Job>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
        let rows = sqlx::query(include_str!("../queries/get_jobs.sql"))
            .bind(id_list(&ids))
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(job_from_row).collect()
    }

    async fn list_jobs(&self, params: ListJobsParams) -> Result<Vec<Job>> {
        let rows = sqlx::query(include_str!("../queries/list_jobs.sql"))
            .bind(params.queue)
            .bind(params.status.map(JobStatus::as_str))
            .bind(params.after.map(|id| id.to_string()))
            .bind(i64::from(params.limit.unwrap_or(100)))
            .bind(params.workflow.map(|w| w.to_string()))
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
        let now = to_micros(now);
        let mut tx = self.begin_write().await?;
        let cancelled: Option<String> =
            sqlx::query_scalar(include_str!("../queries/cancel_job.sql"))
                .bind(id.to_string())
                .bind(now)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
        if let Some(cancelled) = cancelled {
            let finished = Finished {
                cancelled: vec![cancelled],
                ..Finished::default()
            };
            follow_dependents(&mut tx, finished, now).await?;
            tx.commit().await.map_err(map_err)?;
            return Ok(true);
        }
        tx.rollback().await.map_err(map_err)?;
        match self.get_job(id).await? {
            Some(_) => Ok(false),
            None => Err(Error::NotFound { id }),
        }
    }

    async fn get_workflow(&self, id: WorkflowId) -> Result<Option<Workflow>> {
        let row = sqlx::query(include_str!("../queries/get_workflow.sql"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref().map(workflow_from_row).transpose()
    }

    async fn list_workflows(&self, params: ListWorkflowsParams) -> Result<Vec<Workflow>> {
        let rows = sqlx::query(include_str!("../queries/list_workflows.sql"))
            .bind(params.after.map(|w| w.to_string()))
            .bind(i64::from(params.limit.unwrap_or(100)))
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(workflow_from_row).collect()
    }

    async fn cancel_workflow(&self, id: WorkflowId, now: DateTime<Utc>) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let cancelled: Option<String> =
            sqlx::query_scalar(include_str!("../queries/cancel_workflow.sql"))
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
        let Some(cancelled) = cancelled else {
            tx.rollback().await.map_err(map_err)?;
            return match self.get_workflow(id).await? {
                Some(_) => Ok(false),
                None => Err(Error::WorkflowNotFound { id }),
            };
        };
        cancel_unfinished(
            &mut tx,
            &[cancelled],
            "cancelled with its workflow",
            to_micros(now),
        )
        .await?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn retry_workflow(&self, id: WorkflowId, now: DateTime<Utc>) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let exists: Option<String> =
            sqlx::query_scalar("SELECT id FROM hammerwork_workflows WHERE id = ?1")
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
        if exists.is_none() {
            return Err(Error::WorkflowNotFound { id });
        }
        let reset = sqlx::query(include_str!("../queries/retry_workflow_reset.sql"))
            .bind(id.to_string())
            .bind(to_micros(now))
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
        let reset_ids = reset
            .iter()
            .map(|row| row.try_get("id").map_err(Error::backend))
            .collect::<Result<Vec<String>>>()?;
        sqlx::query(include_str!("../queries/retry_workflow_recount.sql"))
            .bind(id.to_string())
            .bind(id_list(&reset_ids))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        sqlx::query("UPDATE hammerwork_workflows SET state = 'running' WHERE id = ?1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let queues = reset
            .iter()
            .map(|row| row.try_get("queue_name").map_err(Error::backend))
            .collect::<Result<HashSet<String>>>()?;
        tx.commit().await.map_err(map_err)?;
        self.wake(queues);
        Ok(reset.len() as u64)
    }

    async fn expire_workflows(&self, now: DateTime<Utc>) -> Result<u64> {
        let now = to_micros(now);
        let mut tx = self.begin_write().await?;
        let expired: Vec<String> =
            sqlx::query_scalar(include_str!("../queries/expire_workflows.sql"))
                .bind(now)
                .fetch_all(&mut *tx)
                .await
                .map_err(map_err)?;
        if !expired.is_empty() {
            cancel_unfinished(&mut tx, &expired, "cancelled: the workflow timed out", now).await?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(expired.len() as u64)
    }

    async fn list_recurrences(&self, limit: u32) -> Result<Vec<Recurrence>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let jobs = sqlx::query(include_str!("../queries/list_job_recurrences.sql"))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        let mut due = jobs
            .iter()
            .map(|row| job_from_row(row).map(Recurrence::Job))
            .collect::<Result<Vec<_>>>()?;
        // Up to `limit` of each kind: jobs waiting for a recurring parent
        // (listed again and again until it moves on) never crowd workflows out.
        let workflows = sqlx::query(include_str!("../queries/list_workflow_recurrences.sql"))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        for row in &workflows {
            due.push(Recurrence::Workflow(workflow_from_row(row)?));
        }
        Ok(due)
    }

    async fn advance_recurrence(
        &self,
        source: RecurrenceSource,
        next: Option<EnqueueBatch<'_>>,
    ) -> Result<bool> {
        let (sql, id, next_id) = match source {
            RecurrenceSource::Job(id) => (
                include_str!("../queries/advance_job_recurrence.sql"),
                id.to_string(),
                next.as_ref()
                    .and_then(|batch| batch.jobs.first())
                    .map(|job| job.id.to_string()),
            ),
            RecurrenceSource::Workflow(id) => (
                include_str!("../queries/advance_workflow_recurrence.sql"),
                id.to_string(),
                next.as_ref()
                    .and_then(|batch| batch.workflow)
                    .map(|workflow| workflow.id.to_string()),
            ),
        };
        // Marking the source continued and writing its successor share one
        // write lock: a racing scheduler finds the source continued and
        // writes nothing, and a failed write leaves the source live.
        let mut tx = self.begin_write().await?;
        let marked = sqlx::query(sql)
            .bind(id)
            .bind(next_id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        if marked.rows_affected() == 0 {
            tx.rollback().await.map_err(map_err)?;
            return Ok(false);
        }
        // An error returns before commit: dropping `tx` rolls the mark back.
        let wake = match next {
            Some(batch) => self.write_batch(&mut tx, batch).await?,
            None => HashSet::new(),
        };
        tx.commit().await.map_err(map_err)?;
        self.wake(wake);
        Ok(true)
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
