use std::collections::{HashMap, HashSet};
use std::future::Future;

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use hammerwork_api::schedule::{Recurrence, RecurrenceSource};
use hammerwork_api::spawn::{SpawnError, SpawnOperation, SpawnQuery, SpawnSet, SpawnStats};
use hammerwork_api::validate::{distinct_queues, validate_batch};
use hammerwork_api::workflow::{
    external_dependencies, plan_enqueue, validate_graph, PlannedJob, StoredParent, Workflow,
    WorkflowId,
};
use hammerwork_api::{
    Capabilities, ClaimParams, EnqueueBatch, Error, Job, JobId, JobStatus, Lease, ListJobsParams,
    ListWorkflowsParams, Outcome, QueueCounts, Result, Settlement, Storage, StorageDatabase,
    WakeupListener, WakeupScope,
};
use serde_json::{json, Value};
use sqlx::mysql::MySqlPoolOptions;
use sqlx::{MySqlConnection, MySqlPool, Row};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::batch::{hex, id_array, lease_array, SettleBatches, SettleStatement};
use crate::enqueue::{encode, insert_chunk, plan_chunks, EncodedJob};
use crate::follow::{
    apply_failure_policies, cancel_unfinished, follow_dependents, set_workflow_state, Finished,
};
use crate::map_err::{error_number, is_deadlock, map_err, ER_DUP_ENTRY};
use crate::migrate::migrate;
use crate::row::{
    duration_to_ms, job_from_row, json, required_text, spawn_operation_from_row, workflow_from_row,
};
use crate::version::check_server_version;

/// Edges per INSERT into the edge table (about 70 bytes each).
const EDGE_CHUNK: usize = 20_000;

/// Default number of pooled connections for [`MySqlStorage::connect`].
const DEFAULT_MAX_CONNECTIONS: u32 = 20;

/// Wakeups buffered per listener before it lags (and is told "any queue").
const WAKEUP_CAPACITY: usize = 1024;

/// How many times a transaction InnoDB picked as a deadlock victim is run.
const DEADLOCK_ATTEMPTS: u32 = 3;

/// Deepest spawn tree level [`get_descendants`](Storage::get_descendants)
/// reads: each level is one iteration of a recursive query, and MySQL stops
/// those at `cte_max_recursion_depth` (1000 by default).
const MAX_SPAWN_TREE_LEVELS: u32 = 1000;

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

/// Spawn handlers for this storage's workers implement
/// `SpawnHandler<sqlx::MySql>`.
impl StorageDatabase for MySqlStorage {
    type Database = sqlx::MySql;
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
    /// Dependencies are handled as by [`enqueue_jobs`](Storage::enqueue_jobs)
    /// (the stored parents are locked until your transaction ends).
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
        validate_batch(&EnqueueBatch::jobs(jobs))?;
        self.write_batch(conn, EnqueueBatch::jobs(jobs), false)
            .await?;
        Ok(jobs.iter().map(|job| job.id).collect())
    }

    /// The whole enqueue of a batch with dependencies or a workflow: checks,
    /// plan, workflow row, jobs, edges. `grafted`: every job of the batch is
    /// already a dependency of some stored job (spawned children a parent
    /// awaits, see [`graft_children`]), so each is written as having
    /// dependents, and one that ends at once ends those as well. Returns the
    /// queues that got a claimable job.
    async fn write_batch(
        &self,
        conn: &mut MySqlConnection,
        batch: EnqueueBatch<'_>,
        grafted: bool,
    ) -> Result<HashSet<String>> {
        let jobs = batch.jobs;
        let mut external = external_dependencies(jobs);
        external.sort_unstable();
        let stored = if external.is_empty() {
            HashMap::new()
        } else {
            lock_stored_parents(conn, &external).await?
        };
        validate_graph(jobs, |id| stored.contains_key(&id))?;
        if !stored.is_empty() {
            sqlx::query(include_str!("../queries/mark_parents.sql"))
                .bind(id_array(external.iter().map(|id| id.0)))
                .execute(&mut *conn)
                .await
                .map_err(map_err)?;
        }
        let plans = plan_enqueue(jobs, &stored);
        if let Some(workflow) = batch.workflow {
            insert_workflow(conn, workflow, &plans).await?;
        }
        let mut parents: HashSet<JobId> = jobs
            .iter()
            .flat_map(|job| job.depends_on.iter().copied())
            .collect();
        if grafted {
            parents.extend(jobs.iter().map(|job| job.id));
        }
        let encoded = encode(jobs, Some(&plans), &parents)?;
        self.insert_encoded(conn, &encoded).await?;
        let edges: Vec<Value> = jobs
            .iter()
            .flat_map(|job| {
                job.depends_on
                    .iter()
                    .map(move |dep| json!([hex(dep.0), hex(job.id.0)]))
            })
            .collect();
        for chunk in edges.chunks(EDGE_CHUNK) {
            sqlx::query(include_str!("../queries/insert_dependencies.sql"))
                .bind(Value::Array(chunk.to_vec()).to_string())
                .execute(&mut *conn)
                .await
                .map_err(map_err)?;
        }
        if let Some(workflow) = batch.workflow {
            // A job dead at enqueue (a stored parent already failed) applies
            // its workflow's failure policy, as if it had just failed (at its
            // creation time, which is when it is stored as ended).
            let dead: Vec<&Job> = jobs
                .iter()
                .zip(&plans)
                .filter(|(_, plan)| plan.status == JobStatus::Dead)
                .map(|(job, _)| job)
                .collect();
            if let Some(at) = dead.iter().map(|job| job.created_at).max() {
                let dead: Vec<(Uuid, Option<Uuid>)> = dead
                    .iter()
                    .map(|job| (job.id.0, Some(workflow.id.0)))
                    .collect();
                apply_failure_policies(conn, &dead, at).await?;
            }
        } else if grafted {
            // A child that ends at once (a stored parent ended, or its
            // condition is false) ends the dependents it was grafted onto,
            // as if it had just ended.
            let ended: Vec<(&Job, JobStatus)> = jobs
                .iter()
                .zip(&plans)
                .filter(|(_, plan)| plan.status != JobStatus::Pending)
                .map(|(job, plan)| (job, plan.status))
                .collect();
            if let Some(at) = ended.iter().map(|(job, _)| job.created_at).max() {
                let with = |status: JobStatus| {
                    ended
                        .iter()
                        .filter(move |(_, s)| *s == status)
                        .map(|(job, _)| *job)
                };
                let finished = Finished::ended_at_once(
                    with(JobStatus::Dead)
                        .map(|job| (job.id.0, job.workflow_id.map(|w| w.0)))
                        .collect(),
                    with(JobStatus::Skipped).map(|job| job.id.0).collect(),
                    with(JobStatus::Cancelled).map(|job| job.id.0).collect(),
                );
                follow_dependents(conn, finished, at).await?;
            }
        }
        Ok(encoded
            .iter()
            .filter(|job| job.claimable())
            .map(|job| job.queue().to_string())
            .collect())
    }

    /// Sends a wakeup for each of `queues`.
    fn wake(&self, queues: impl IntoIterator<Item = String>) {
        for queue in queues {
            // An error only means nobody is listening.
            let _ = self.wakeups.send(queue);
        }
    }

    /// Wakes this process's listeners (workers of this storage and its clones)
    /// for every queue of `jobs`. [`enqueue_jobs`](Storage::enqueue_jobs) does
    /// this itself; call it after committing a transaction in which you used
    /// [`enqueue_jobs_in`](Self::enqueue_jobs_in).
    pub fn notify_enqueued(&self, jobs: &[Job]) {
        self.wake(distinct_queues(jobs));
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

    /// Applies the outcomes whose jobs need nothing else done (see
    /// [`SettleStatement::fast`]): one statement per outcome kind, without a
    /// transaction when there is one kind.
    async fn settle_fast(&self, statements: &[SettleStatement], now: DateTime<Utc>) -> Result<u64> {
        if let [statement] = statements {
            let done = sqlx::query(statement.fast)
                .bind(&statement.outcomes)
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(map_err)?;
            return Ok(done.rows_affected());
        }
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let mut changed = 0;
        for statement in statements {
            changed += sqlx::query(statement.fast)
                .bind(&statement.outcomes)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected();
        }
        tx.commit().await.map_err(map_err)?;
        Ok(changed)
    }

    /// Applies the outcomes [`settle_fast`](Self::settle_fast) left (those
    /// already applied are no longer current and change nothing), and their
    /// consequences for dependents and workflows, in one transaction.
    async fn settle_slow(
        &self,
        statements: &[SettleStatement],
        leases: &str,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let mut tx = self
            .pool
            .begin_with(BEGIN_READ_COMMITTED)
            .await
            .map_err(map_err)?;
        let (changed, wake) = settle_in(&mut tx, statements, leases, now).await?;
        tx.commit().await.map_err(map_err)?;
        self.wake(wake);
        Ok(changed)
    }

    /// One run of [`complete_and_spawn`](Storage::complete_and_spawn): with
    /// `spawn.await_children`, the children grafted onto the parent's waiting
    /// dependents (see [`graft_children`]); the parent's completion
    /// (`lease`, as `statements` and `leases`, one completed outcome, settled
    /// by [`settle_in`]), the operation row and the children, in one
    /// transaction. Returns `None`, writing nothing, when the attempt is no
    /// longer current, else the queues to wake.
    async fn complete_and_spawn_once(
        &self,
        lease: Lease,
        statements: &[SettleStatement],
        leases: &str,
        spawn: &SpawnSet,
        metadata: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<HashSet<String>>> {
        let mut tx = self
            .pool
            .begin_with(BEGIN_READ_COMMITTED)
            .await
            .map_err(map_err)?;
        let mut grafted = false;
        if spawn.await_children && !spawn.children.is_empty() {
            // Hold the parent's dependents before its completion releases them.
            let current: Option<Uuid> =
                sqlx::query_scalar(include_str!("../queries/lock_running_attempt.sql"))
                    .bind(lease.id.0)
                    .bind(lease.attempt)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_err)?;
            if current.is_none() {
                tx.rollback().await.map_err(map_err)?;
                return Ok(None);
            }
            grafted = graft_children(&mut tx, lease.id.0, &spawn.children).await?;
        }
        let (changed, mut wake) = settle_in(&mut tx, statements, leases, now).await?;
        if changed == 0 {
            tx.rollback().await.map_err(map_err)?;
            return Ok(None);
        }
        let op = &spawn.operation;
        let inserted = sqlx::query(include_str!("../queries/insert_spawn_operation.sql"))
            .bind(op.id.as_bytes())
            .bind(op.parent_job_id.0)
            .bind(op.queue_name.as_bytes())
            .bind(&op.handler)
            .bind(i64::try_from(op.child_count).unwrap_or(i64::MAX))
            .bind(i64::try_from(op.batch_count).unwrap_or(i64::MAX))
            .bind(metadata)
            .bind(op.created_at)
            .execute(&mut *tx)
            .await;
        match inserted {
            Ok(_) => {}
            // On any error the transaction is dropped, which rolls the
            // parent's completion back too.
            Err(err) if error_number(&err) == Some(ER_DUP_ENTRY) => {
                return Err(Error::Spawn(SpawnError::DuplicateOperation {
                    id: op.id.clone(),
                }));
            }
            Err(err) => return Err(map_err(err)),
        }
        // Each batch is checked and written as enqueue_jobs would.
        for chunk in spawn.children.chunks(spawn.batch_size.max(1)) {
            let batch = EnqueueBatch::jobs(chunk);
            validate_batch(&batch)?;
            wake.extend(self.write_batch(&mut tx, batch, grafted).await?);
        }
        tx.commit().await.map_err(map_err)?;
        Ok(Some(wake))
    }

    async fn rescue_once(&self, now: DateTime<Utc>) -> Result<u64> {
        let mut tx = self
            .pool
            .begin_with(BEGIN_READ_COMMITTED)
            .await
            .map_err(map_err)?;
        let rows = sqlx::query(include_str!("../queries/rescue_expired_jobs.sql"))
            .bind(now)
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
        if rows.is_empty() {
            tx.commit().await.map_err(map_err)?;
            return Ok(0);
        }
        let mut expired = Vec::with_capacity(rows.len());
        // Jobs that may die here with something to follow.
        let mut followed = Vec::new();
        for row in &rows {
            let id: Uuid = row.try_get("id").map_err(Error::backend)?;
            let has_dependents: i8 = row.try_get("has_dependents").map_err(Error::backend)?;
            let workflow: Option<Uuid> = row.try_get("workflow_id").map_err(Error::backend)?;
            if has_dependents != 0 || workflow.is_some() {
                followed.push(id);
            }
            expired.push(id);
        }
        let rescued = sqlx::query(include_str!("../queries/rescue_expired_jobs_update.sql"))
            .bind(id_array(expired))
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
        let mut wake = HashSet::new();
        if !followed.is_empty() {
            let rows = sqlx::query(include_str!("../queries/finished_jobs.sql"))
                .bind(id_array(followed))
                .fetch_all(&mut *tx)
                .await
                .map_err(map_err)?;
            let mut finished = Finished::default();
            finished.add_rows(&rows)?;
            wake = follow_dependents(&mut tx, finished, now).await?;
        }
        tx.commit().await.map_err(map_err)?;
        self.wake(wake);
        Ok(rescued)
    }
}

/// Applies every outcome of `statements` whose attempt is still current, and
/// their consequences for dependents and workflows, on `conn` (the caller's
/// transaction, which should be READ COMMITTED like the others that lock
/// jobs): locks the current attempts of `leases` (in id order), runs each
/// statement's full variant, then follows the finished jobs. Returns how
/// many outcomes applied and the queues that got a claimable job, to wake
/// once the caller commits.
async fn settle_in(
    conn: &mut MySqlConnection,
    statements: &[SettleStatement],
    leases: &str,
    now: DateTime<Utc>,
) -> Result<(u64, HashSet<String>)> {
    let current: Vec<Uuid> = sqlx::query_scalar(include_str!("../queries/lock_running.sql"))
        .bind(leases)
        .fetch_all(&mut *conn)
        .await
        .map_err(map_err)?;
    if current.is_empty() {
        return Ok((0, HashSet::new()));
    }
    let mut changed = 0;
    for statement in statements {
        changed += sqlx::query(statement.full)
            .bind(&statement.outcomes)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map_err(map_err)?
            .rows_affected();
    }
    let rows = sqlx::query(include_str!("../queries/finished_jobs.sql"))
        .bind(id_array(current))
        .fetch_all(&mut *conn)
        .await
        .map_err(map_err)?;
    let mut finished = Finished::default();
    finished.add_rows(&rows)?;
    let wake = follow_dependents(conn, finished, now).await?;
    Ok((changed, wake))
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

/// Reads and locks the stored jobs a batch depends on.
async fn lock_stored_parents(
    conn: &mut MySqlConnection,
    ids: &[JobId],
) -> Result<HashMap<JobId, StoredParent>> {
    let rows = sqlx::query(include_str!("../queries/lock_stored_parents.sql"))
        .bind(id_array(ids.iter().map(|id| id.0)))
        .fetch_all(&mut *conn)
        .await
        .map_err(map_err)?;
    rows.iter()
        .map(|row| {
            let id = JobId(row.try_get("id").map_err(Error::backend)?);
            let status = required_text(row, "status")?.parse()?;
            let result = json(row, "result")?;
            Ok((id, StoredParent { status, result }))
        })
        .collect()
}

/// Makes `children` (about to be written) dependencies of every dependent of
/// `parent` still waiting (locked), so those are released only once the
/// children have finished too: edges, `depends_on` entries and pending
/// counts, in set-based statements (the edges O(children x dependents) rows,
/// in chunks of about [`EDGE_CHUNK`]). Returns whether any dependent was held:
/// the children then have dependents.
async fn graft_children(
    conn: &mut MySqlConnection,
    parent: Uuid,
    children: &[Job],
) -> Result<bool> {
    let held: Vec<Uuid> = sqlx::query_scalar(include_str!("../queries/held_dependents.sql"))
        .bind(parent)
        .fetch_all(&mut *conn)
        .await
        .map_err(map_err)?;
    if held.is_empty() {
        return Ok(false);
    }
    let stages: Vec<JobId> = held.iter().copied().map(JobId).collect();
    hammerwork_api::spawn::check_awaiting_cycle(children, &stages)?;
    let held_ids = id_array(held.iter().copied());
    for chunk in children.chunks((EDGE_CHUNK / held.len()).max(1)) {
        sqlx::query(include_str!("../queries/graft_edges.sql"))
            .bind(id_array(chunk.iter().map(|child| child.id.0)))
            .bind(&held_ids)
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
    }
    let child_ids: Vec<JobId> = children.iter().map(|child| child.id).collect();
    let depends_on = serde_json::to_string(&child_ids).map_err(Error::backend)?;
    sqlx::query(include_str!("../queries/graft_children.sql"))
        .bind(held_ids)
        .bind(i32::try_from(children.len()).unwrap_or(i32::MAX))
        .bind(depends_on)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    Ok(true)
}

/// Inserts the workflow row with counters from the batch's plan.
async fn insert_workflow(
    conn: &mut MySqlConnection,
    workflow: &Workflow,
    plans: &[PlannedJob],
) -> Result<()> {
    let count = |status: JobStatus| plans.iter().filter(|p| p.status == status).count() as i64;
    sqlx::query(include_str!("../queries/insert_workflow.sql"))
        .bind(workflow.id.0)
        .bind(&workflow.name)
        .bind(&workflow.description)
        .bind(workflow.failure_policy.as_str())
        .bind(workflow.created_at)
        .bind(workflow.deadline_at)
        .bind(plans.len() as i64)
        .bind(count(JobStatus::Pending))
        .bind(count(JobStatus::Dead))
        .bind(count(JobStatus::Skipped))
        .bind(count(JobStatus::Cancelled))
        .bind(&workflow.cron_schedule)
        .bind(workflow.timeout.map(duration_to_ms))
        .bind(workflow.cron_schedule.is_some().then_some(1_i8))
        .execute(conn)
        .await
        .map_err(map_err)?;
    Ok(())
}

impl MySqlStorage {
    async fn enqueue_once(&self, batch: EnqueueBatch<'_>) -> Result<HashSet<String>> {
        let mut tx = self
            .pool
            .begin_with(BEGIN_READ_COMMITTED)
            .await
            .map_err(map_err)?;
        let wake = self.write_batch(&mut tx, batch, false).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(wake)
    }

    /// One run of [`advance_recurrence`](Storage::advance_recurrence): marks
    /// `source` continued and writes `next` as
    /// [`write_batch`](Self::write_batch) does for
    /// [`enqueue_jobs`](Storage::enqueue_jobs), in one transaction. Returns
    /// `None`, writing nothing, when `source` was already continued, else the
    /// queues that got a claimable job.
    async fn advance_once(
        &self,
        source: RecurrenceSource,
        next: Option<EnqueueBatch<'_>>,
    ) -> Result<Option<HashSet<String>>> {
        let (query, id, next_id) = match source {
            RecurrenceSource::Job(id) => (
                include_str!("../queries/advance_job_recurrence.sql"),
                id.0,
                next.and_then(|batch| batch.jobs.first())
                    .map(|job| job.id.0),
            ),
            RecurrenceSource::Workflow(id) => (
                include_str!("../queries/advance_workflow_recurrence.sql"),
                id.0,
                next.and_then(|batch| batch.workflow).map(|w| w.id.0),
            ),
        };
        let mut tx = self
            .pool
            .begin_with(BEGIN_READ_COMMITTED)
            .await
            .map_err(map_err)?;
        let marked = sqlx::query(query)
            .bind(next_id)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
        if marked == 0 {
            tx.rollback().await.map_err(map_err)?;
            return Ok(None);
        }
        // On an error the transaction is dropped, which rolls it back.
        let wake = match next {
            Some(batch) => self.write_batch(&mut tx, batch, false).await?,
            None => HashSet::new(),
        };
        tx.commit().await.map_err(map_err)?;
        Ok(Some(wake))
    }

    async fn cancel_once(&self, id: JobId, now: DateTime<Utc>) -> Result<bool> {
        let mut tx = self
            .pool
            .begin_with(BEGIN_READ_COMMITTED)
            .await
            .map_err(map_err)?;
        let done = sqlx::query(include_str!("../queries/cancel_job.sql"))
            .bind(now)
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        if done.rows_affected() == 0 {
            tx.commit().await.map_err(map_err)?;
            return Ok(false);
        }
        follow_dependents(&mut tx, Finished::cancelled(vec![id.0]), now).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn cancel_workflow_once(&self, id: WorkflowId, now: DateTime<Utc>) -> Result<bool> {
        let mut tx = self
            .pool
            .begin_with(BEGIN_READ_COMMITTED)
            .await
            .map_err(map_err)?;
        let done = sqlx::query(include_str!("../queries/cancel_workflow.sql"))
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        if done.rows_affected() == 0 {
            tx.commit().await.map_err(map_err)?;
            return Ok(false);
        }
        cancel_unfinished(&mut tx, &[id.0], "cancelled with its workflow", now).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn retry_workflow_once(&self, id: WorkflowId, now: DateTime<Utc>) -> Result<u64> {
        let mut tx = self
            .pool
            .begin_with(BEGIN_READ_COMMITTED)
            .await
            .map_err(map_err)?;
        let exists: Option<Uuid> =
            sqlx::query_scalar("SELECT id FROM hammerwork_workflows WHERE id = ? FOR UPDATE")
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
        if exists.is_none() {
            return Err(Error::WorkflowNotFound { id });
        }
        let mut failed = sqlx::query(include_str!("../queries/retry_workflow_failed.sql"))
            .bind(id.0)
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
        // The spawned jobs a held stage of the workflow awaits start over too
        // (they belong to no workflow, so the two sets are disjoint).
        let awaited = sqlx::query(include_str!("../queries/retry_workflow_awaited.sql"))
            .bind(id.0)
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
        let awaited_ids = awaited
            .iter()
            .map(|row| row.try_get("id").map_err(Error::backend))
            .collect::<Result<Vec<Uuid>>>()?;
        failed.extend(awaited);
        let mut reset_ids = failed
            .iter()
            .map(|row| row.try_get("id").map_err(Error::backend))
            .collect::<Result<Vec<Uuid>>>()?;
        reset_ids.sort_unstable();
        let reset = if reset_ids.is_empty() {
            0
        } else {
            // Locked above, so every one of them is still dead or cancelled.
            sqlx::query(include_str!("../queries/retry_workflow_reset.sql"))
                .bind(id_array(reset_ids))
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected()
        };
        let open = sqlx::query(include_str!("../queries/retry_workflow_open.sql"))
            .bind(id.0)
            .bind(id_array(awaited_ids))
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
        if !open.is_empty() {
            let counts = open
                .iter()
                .map(|row| {
                    let job: Uuid = row.try_get("job_id").map_err(Error::backend)?;
                    let open: i64 = row.try_get("open_parents").map_err(Error::backend)?;
                    Ok(json!({ "id": hex(job), "open": open }))
                })
                .collect::<Result<Vec<Value>>>()?;
            sqlx::query(include_str!("../queries/retry_workflow_recount.sql"))
                .bind(Value::Array(counts).to_string())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        sqlx::query("UPDATE hammerwork_workflows SET state = 'running' WHERE id = ?")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let queues = failed
            .iter()
            .map(|row| required_text(row, "queue_name"))
            .collect::<Result<HashSet<String>>>()?;
        tx.commit().await.map_err(map_err)?;
        self.wake(queues);
        Ok(reset)
    }

    async fn expire_workflows_once(&self, now: DateTime<Utc>) -> Result<u64> {
        let mut tx = self
            .pool
            .begin_with(BEGIN_READ_COMMITTED)
            .await
            .map_err(map_err)?;
        let mut expired: Vec<Uuid> =
            sqlx::query_scalar(include_str!("../queries/expire_workflows.sql"))
                .bind(now)
                .fetch_all(&mut *tx)
                .await
                .map_err(map_err)?;
        if !expired.is_empty() {
            expired.sort_unstable();
            set_workflow_state(&mut tx, &expired, "failed").await?;
            cancel_unfinished(&mut tx, &expired, "cancelled: the workflow timed out", now).await?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(expired.len() as u64)
    }
}

#[async_trait]
impl Storage for MySqlStorage {
    fn capabilities(&self) -> Capabilities {
        Capabilities::new(WakeupScope::Process)
    }

    async fn enqueue_jobs(&self, batch: EnqueueBatch<'_>) -> Result<Vec<JobId>> {
        let jobs = batch.jobs;
        validate_batch(&batch)?;
        let ids = jobs.iter().map(|job| job.id).collect();
        let plain = batch.workflow.is_none() && jobs.iter().all(|job| job.depends_on.is_empty());
        if !plain {
            let wake = retry_deadlocks("enqueue", || self.enqueue_once(batch)).await?;
            self.wake(wake);
            return Ok(ids);
        }
        if jobs.is_empty() {
            return Ok(ids);
        }
        let encoded = encode(jobs, None, &HashSet::new())?;
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
        Ok(ids)
    }

    async fn claim_jobs(&self, params: ClaimParams) -> Result<Vec<Job>> {
        if params.limit == 0 {
            return Ok(Vec::new());
        }
        retry_deadlocks("claim", || self.claim_once(&params)).await
    }

    /// Outcomes of jobs nobody depends on (and that do not die in a
    /// workflow) are applied by one statement per outcome kind, as without
    /// dependencies; the others, with everything they set off, in one
    /// transaction after those (so a batch mixing both commits in two steps).
    async fn settle_jobs(&self, settlements: &[Settlement], now: DateTime<Utc>) -> Result<u64> {
        if settlements.is_empty() {
            return Ok(0);
        }
        let (statements, leases) = SettleBatches::new(settlements).statements();
        let fast = retry_deadlocks("settle", || self.settle_fast(&statements, now)).await?;
        let total: u64 = statements.iter().map(|s| s.count).sum();
        if fast == total {
            return Ok(fast);
        }
        let slow =
            retry_deadlocks("settle", || self.settle_slow(&statements, &leases, now)).await?;
        Ok(fast + slow)
    }

    /// The parent's completion is settled as [`settle_jobs`](Storage::settle_jobs)
    /// settles its outcomes that have something to follow, on the
    /// transaction that then writes the operation row and the children.
    async fn complete_and_spawn(
        &self,
        lease: Lease,
        result: Option<Value>,
        spawn: &SpawnSet,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let metadata = spawn.operation.metadata.as_ref().map(Value::to_string);
        let completed = Settlement::new(lease, Outcome::Completed { result });
        let (statements, leases) = SettleBatches::new(&[completed]).statements();
        let spawned = retry_deadlocks("complete and spawn", || {
            self.complete_and_spawn_once(
                lease,
                &statements,
                &leases,
                spawn,
                metadata.as_deref(),
                now,
            )
        })
        .await?;
        match spawned {
            Some(wake) => {
                self.wake(wake);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn get_spawn_operation(&self, id: &str) -> Result<Option<SpawnOperation>> {
        let row = sqlx::query(include_str!("../queries/get_spawn_operation.sql"))
            .bind(id.as_bytes())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref().map(spawn_operation_from_row).transpose()
    }

    async fn list_spawn_operations(&self, query: SpawnQuery) -> Result<Vec<SpawnOperation>> {
        let queue = query.queue.as_deref().map(str::as_bytes);
        let rows = sqlx::query(include_str!("../queries/list_spawn_operations.sql"))
            .bind(queue)
            .bind(queue)
            .bind(query.since)
            .bind(query.since)
            .bind(query.until)
            .bind(query.until)
            .bind(query.limit.unwrap_or(100))
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(spawn_operation_from_row).collect()
    }

    async fn spawn_stats(&self, query: SpawnQuery) -> Result<SpawnStats> {
        let queue = query.queue.as_deref().map(str::as_bytes);
        let row = sqlx::query(include_str!("../queries/spawn_stats.sql"))
            .bind(queue)
            .bind(queue)
            .bind(query.since)
            .bind(query.since)
            .bind(query.until)
            .bind(query.until)
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

    /// Reads at most 1000 levels (MySQL's default `cte_max_recursion_depth`).
    async fn get_descendants(&self, id: JobId, max_depth: u32) -> Result<Vec<Job>> {
        if max_depth == 0 {
            return Ok(Vec::new());
        }
        let depth = max_depth.min(MAX_SPAWN_TREE_LEVELS);
        let rows = sqlx::query(include_str!("../queries/get_descendants.sql"))
            .bind(id.0)
            .bind(depth)
            .bind(depth)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(job_from_row).collect()
    }

    async fn get_ancestors(&self, id: JobId) -> Result<Vec<Job>> {
        let rows = sqlx::query(include_str!("../queries/get_ancestors.sql"))
            .bind(id.0)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(job_from_row).collect()
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

    async fn get_jobs(&self, ids: &[JobId]) -> Result<Vec<Job>> {
        let mut ids: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(include_str!("../queries/get_jobs.sql"))
            .bind(id_array(ids))
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(job_from_row).collect()
    }

    async fn list_jobs(&self, params: ListJobsParams) -> Result<Vec<Job>> {
        let queue = params.queue.as_deref().map(str::as_bytes);
        let status = params.status.map(JobStatus::as_str);
        let after = params.after.map(|id| id.0);
        let workflow = params.workflow.map(|w| w.0);
        let rows = sqlx::query(include_str!("../queries/list_jobs.sql"))
            .bind(queue)
            .bind(queue)
            .bind(status)
            .bind(status)
            .bind(after)
            .bind(after)
            .bind(workflow)
            .bind(workflow)
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
        if retry_deadlocks("cancel", || self.cancel_once(id, now)).await? {
            return Ok(true);
        }
        match self.get_job(id).await? {
            Some(_) => Ok(false),
            None => Err(Error::NotFound { id }),
        }
    }

    async fn get_workflow(&self, id: WorkflowId) -> Result<Option<Workflow>> {
        let row = sqlx::query(include_str!("../queries/get_workflow.sql"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref().map(workflow_from_row).transpose()
    }

    async fn list_workflows(&self, params: ListWorkflowsParams) -> Result<Vec<Workflow>> {
        let after = params.after.map(|w| w.0);
        let rows = sqlx::query(include_str!("../queries/list_workflows.sql"))
            .bind(after)
            .bind(after)
            .bind(params.limit.unwrap_or(100))
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(workflow_from_row).collect()
    }

    async fn cancel_workflow(&self, id: WorkflowId, now: DateTime<Utc>) -> Result<bool> {
        if retry_deadlocks("cancel workflow", || self.cancel_workflow_once(id, now)).await? {
            return Ok(true);
        }
        match self.get_workflow(id).await? {
            Some(_) => Ok(false),
            None => Err(Error::WorkflowNotFound { id }),
        }
    }

    async fn retry_workflow(&self, id: WorkflowId, now: DateTime<Utc>) -> Result<u64> {
        retry_deadlocks("retry workflow", || self.retry_workflow_once(id, now)).await
    }

    async fn expire_workflows(&self, now: DateTime<Utc>) -> Result<u64> {
        retry_deadlocks("expire workflows", || self.expire_workflows_once(now)).await
    }

    async fn list_recurrences(&self, limit: u32) -> Result<Vec<Recurrence>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(include_str!("../queries/list_job_recurrences.sql"))
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        let mut due = rows
            .iter()
            .map(|row| job_from_row(row).map(Recurrence::Job))
            .collect::<Result<Vec<_>>>()?;
        // Up to `limit` of each kind: jobs that cannot move yet must not
        // keep workflows from being listed.
        let rows = sqlx::query(include_str!("../queries/list_workflow_recurrences.sql"))
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        for row in &rows {
            due.push(Recurrence::Workflow(workflow_from_row(row)?));
        }
        Ok(due)
    }

    async fn advance_recurrence(
        &self,
        source: RecurrenceSource,
        next: Option<EnqueueBatch<'_>>,
    ) -> Result<bool> {
        if let Some(batch) = &next {
            validate_batch(batch)?;
        }
        let advanced =
            retry_deadlocks("advance recurrence", || self.advance_once(source, next)).await?;
        match advanced {
            Some(wake) => {
                self.wake(wake);
                Ok(true)
            }
            None => Ok(false),
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
