//! The driver layer: SQL-level primitives that `hammerwork-engine` composes
//! into every [`Storage`](crate::Storage) operation.
//!
//! A [`Driver`] runs single statements on a pool (claims, heartbeats, reads)
//! and [`begin`](Driver::begin)s a [`Transaction`], which offers the
//! primitives the engine composes: each one is what one SQL statement (or one
//! `.sql` file) does, and its rustdoc says what it locks and what it returns.
//! The driver never decides semantics (which dependents to release, which
//! policy applies, which timestamp a transition gets): the engine does, once,
//! for every database.
//!
//! To add a database, implement [`Driver`] and [`Transaction`], wrap the
//! driver in `hammerwork_engine::Engine`, and run `hammerwork-testkit`'s
//! conformance suite against it.
//!
//! # Statements
//! Most primitives have a default that runs the statement of the
//! primitive's name through [`Driver::rows`] / [`Driver::run`] (on the pool)
//! or [`Transaction::rows`] / [`Transaction::run`] (in the transaction), with
//! the primitive's arguments as [`Param`]s in the order of its signature
//! (where a default binds anything else, its rustdoc says so under
//! "Statement"), and reads the rows with the `*_from_row` function it names,
//! which reads the columns of Hammerwork's tables by name (the PostgreSQL
//! backend's `queries/` are the reference). A SQL backend implements those
//! four methods (look the statement up with [`statements!`](crate::statements),
//! bind each `Param` in its own encoding), writes `queries/<name>.sql` for
//! each default it keeps, and overrides the primitives its database does
//! differently (a shortcut, a lock order); a database without `RETURNING`
//! overrides [`Transaction::rows_changed`] once instead. A default whose
//! statement the driver lacks fails at run time with an error naming it, so
//! run the conformance suite, which calls every primitive.
//! `hammerwork-memory`, which has no statements, implements every primitive
//! itself.

//! # Conventions
//! - Ids given to a primitive that locks rows are sorted by the engine; a
//!   driver locks in that order (or says where its database cannot).
//! - `now` is the operation's clock: every transition a primitive makes is
//!   stamped with it.
//! - A transaction dropped without [`commit`](Transaction::commit) rolls back.
//! - Errors: a deadlock or serialization failure is [`Error::Conflict`]
//!   (the engine runs the whole transaction again); anything else the driver
//!   cannot name is [`Error::Backend`].
//!
//! [`Error::Conflict`]: crate::Error::Conflict
//! [`Error::Backend`]: crate::Error::Backend

mod record;
mod row;
mod statement;

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::spawn::{SpawnOperation, SpawnQuery, SpawnStats};
use crate::workflow::{FailurePolicy, PlannedJob, StoredParent, Workflow, WorkflowId};
use crate::{
    Capabilities, ClaimParams, Job, JobId, JobPriority, JobStatus, Lease, ListJobsParams,
    ListWorkflowsParams, QueueCounts, Result, Settlement, WakeupListener, WorkflowStatus,
};

pub use record::{json_array, micros, millis, short_name, JobRecord, SettleRecord};
pub use row::{
    claimed_job_from_row, dead_rows_from_row, decode_rows, job_from_row, job_id_from_row,
    job_id_pair_from_row, parent_result_from_row, policy_from_row, pruned_from_row,
    queue_count_from_row, released_from_row, reset_job_from_row, spawn_operation_from_row,
    spawn_stats_from_row, stored_parent_from_row, transition_from_row, workflow_from_row,
    workflow_id_from_row, ColumnCursor, StoredRow,
};
pub use statement::{no_statement, positional, FromRow, Migrations, Param};

use statement::params;

/// Edges written by one statement at most (the `insert_dependencies`
/// default; a driver's own edge inserts may take it too): about 1.4 MB of
/// ids as JSON text.
pub const EDGE_CHUNK: usize = 20_000;

/// Decodes a transition from a statement that does not return
/// `has_dependents`.
fn transition(row: &dyn StoredRow) -> Result<Transition> {
    transition_from_row(row, false)
}

/// Whether the statement `name` returned a row.
async fn exists<T: Transaction + ?Sized>(
    tx: &mut T,
    name: &'static str,
    params: &[Param<'_>],
) -> Result<bool> {
    Ok(!tx.rows(name, params, |_| Ok(())).await?.is_empty())
}

/// Puts claimed jobs in claim order (priority, then `scheduled_at`, then id),
/// for a database whose `UPDATE ... RETURNING` does not keep the order it
/// claimed them in.
pub fn sort_claimed(jobs: &mut [Job]) {
    jobs.sort_by(|a, b| {
        (b.priority, a.scheduled_at, a.id).cmp(&(a.priority, b.scheduled_at, b.id))
    });
}

/// How a primitive reports a job whose status it changed: enough for the
/// engine to follow the change (release or end its dependents, apply its
/// workflow's policy) and to count it in its workflow's counters.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Transition {
    /// The job.
    pub id: JobId,
    /// Its workflow, if any.
    pub workflow_id: Option<WorkflowId>,
    /// Its status now.
    pub status: JobStatus,
    /// `false` only when the driver knows that no job depends on this one
    /// (the engine then skips following it); `true` when unsure.
    pub may_have_dependents: bool,
}

impl Transition {
    /// A job that is now `status` and may have dependents.
    pub fn new(id: JobId, workflow_id: Option<WorkflowId>, status: JobStatus) -> Self {
        Transition {
            id,
            workflow_id,
            status,
            may_have_dependents: true,
        }
    }

    /// Says whether the job may have dependents.
    pub fn with_dependents(mut self, may_have_dependents: bool) -> Self {
        self.may_have_dependents = may_have_dependents;
        self
    }
}

/// A waiting dependent that [`Transaction::release_dependents`] counted off.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Released {
    /// The dependent.
    pub id: JobId,
    /// Its workflow, if any.
    pub workflow_id: Option<WorkflowId>,
    /// Its queue (woken when it becomes claimable).
    pub queue_name: String,
    /// Parents not completed yet, after this count.
    pub pending_dependencies: i32,
    /// Its condition, if it has one.
    pub condition: Option<String>,
}

impl Released {
    /// A dependent as a driver read it back.
    pub fn new(
        id: JobId,
        workflow_id: Option<WorkflowId>,
        queue_name: String,
        pending_dependencies: i32,
        condition: Option<String>,
    ) -> Self {
        Released {
            id,
            workflow_id,
            queue_name,
            pending_dependencies,
            condition,
        }
    }
}

/// A job [`Transaction::reset_workflow_jobs`] put back to `Pending`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResetJob {
    /// The job.
    pub id: JobId,
    /// Its workflow (`None` for an awaited spawned job outside it).
    pub workflow_id: Option<WorkflowId>,
    /// Its queue.
    pub queue_name: String,
    /// What it was before: `Dead` or `Cancelled`.
    pub previous: JobStatus,
}

impl ResetJob {
    /// A job as a driver read it back.
    pub fn new(
        id: JobId,
        workflow_id: Option<WorkflowId>,
        queue_name: String,
        previous: JobStatus,
    ) -> Self {
        ResetJob {
            id,
            workflow_id,
            queue_name,
            previous,
        }
    }
}

/// What [`Driver::dead_rows`] reports of the jobs table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeadRows {
    /// Dead row versions, by the database's statistics.
    pub dead: i64,
    /// Live rows, by the same statistics.
    pub live: i64,
    /// Whether this connection may reclaim them (on PostgreSQL: its role
    /// owns the table, or is a superuser).
    pub allowed: bool,
    /// Whether a reclaim (a vacuum) of the table is running now.
    pub running: bool,
    /// Whether one ended in the last 2 seconds.
    pub recent: bool,
}

/// Changes to one workflow's stored counters (each may be negative).
///
/// A workflow row stores its total and its terminal counts; `running` is
/// counted from its running jobs and `pending` is the rest (see
/// [`WorkflowStats`](crate::WorkflowStats)). Serialises as
/// `{"id", "completed", "failed", "skipped", "cancelled"}`, for drivers that
/// pass a batch as one JSON array.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct WorkflowCounts {
    /// The workflow.
    pub id: WorkflowId,
    /// Change of `completed_jobs`.
    pub completed: i64,
    /// Change of `failed_jobs` (dead jobs).
    pub failed: i64,
    /// Change of `skipped_jobs`.
    pub skipped: i64,
    /// Change of `cancelled_jobs`.
    pub cancelled: i64,
}

impl WorkflowCounts {
    /// No change to workflow `id`.
    pub fn new(id: WorkflowId) -> Self {
        WorkflowCounts {
            id,
            ..WorkflowCounts::default()
        }
    }

    /// Adds `delta` jobs to the counter of `status` (non-terminal statuses
    /// are not stored and change nothing).
    pub fn add(&mut self, status: JobStatus, delta: i64) {
        match status {
            JobStatus::Completed => self.completed += delta,
            JobStatus::Dead => self.failed += delta,
            JobStatus::Skipped => self.skipped += delta,
            JobStatus::Cancelled => self.cancelled += delta,
            _ => {}
        }
    }

    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.completed == 0 && self.failed == 0 && self.skipped == 0 && self.cancelled == 0
    }
}

/// A database as the engine sees it: single-statement operations on a pool,
/// and transactions that offer the composable primitives.
///
/// Cheap to clone is not required: the engine holds one driver.
#[async_trait]
pub trait Driver: Send + Sync + 'static {
    /// A transaction of this driver.
    type Tx: Transaction;

    /// What this database can do (push wakeups or not).
    fn capabilities(&self) -> Capabilities;

    /// The schema this driver's database needs, as
    /// `hammerwork_engine::Engine::migrate` applies it. By default none: a
    /// driver without a schema (hammerwork-memory).
    fn migrations(&self) -> Migrations {
        Migrations::NONE
    }

    /// Runs the statement `name` with `params` on the pool and maps each row
    /// it returns with `from_row` (see [`Param`]); every read below with a
    /// default runs the statement of its name through it. By default
    /// [`no_statement`]: a driver without statements (hammerwork-memory)
    /// implements those reads itself.
    async fn rows<T: Send + 'static>(
        &self,
        name: &'static str,
        params: &[Param<'_>],
        from_row: FromRow<T>,
    ) -> Result<Vec<T>> {
        let _ = (params, from_row);
        Err(no_statement(name))
    }

    /// Runs the statement `name` with `params` on the pool; returns how many
    /// rows it changed. By default [`no_statement`].
    async fn run(&self, name: &'static str, params: &[Param<'_>]) -> Result<u64> {
        let _ = params;
        Err(no_statement(name))
    }

    /// The database server's clock (by default the local one, right for an
    /// embedded database): see [`Storage::database_time`](crate::Storage::database_time).
    async fn database_time(&self) -> Result<DateTime<Utc>> {
        Ok(Utc::now())
    }

    /// Takes or renews the leadership of `role` for `holder` until `ttl`
    /// from now by the database's clock: one upsert of the role's row in
    /// `hammerwork_leaders` (locks that row), taking it only when it is
    /// absent, already `holder`'s, or expired. Returns whether `holder`
    /// leads now. By default every caller leads (see
    /// [`Storage::try_lead`](crate::Storage::try_lead)).
    async fn try_lead(&self, role: &str, holder: &str, ttl: std::time::Duration) -> Result<bool> {
        let _ = (role, holder, ttl);
        Ok(true)
    }

    /// The distinct queue names of the stored jobs, sorted: a walk of the
    /// queue index that visits each queue once (PostgreSQL and SQLite: a
    /// recursive `min(queue_name) > previous`; MySQL: a loose index scan).
    async fn list_queues(&self) -> Result<Vec<String>> {
        let queues = self.rows("list_queues", &[], |row| row.text("queue_name"));
        Ok(queues.await?.into_iter().flatten().collect())
    }

    /// The names of the paused queues, sorted (a read of the queues table).
    async fn paused_queues(&self) -> Result<Vec<String>> {
        let queues = self.rows("paused_queues", &[], |row| row.text("name"));
        Ok(queues.await?.into_iter().flatten().collect())
    }

    /// The jobs table's dead and live row versions and whether it may be
    /// vacuumed now, by which the engine decides when to call
    /// [`reclaim_space`](Self::reclaim_space) (see
    /// [`Storage::reclaim_space`](crate::Storage::reclaim_space)). `None`,
    /// the default, for a database that reclaims on its own (InnoDB's purge,
    /// SQLite's free pages, memory).
    async fn dead_rows(&self) -> Result<Option<DeadRows>> {
        Ok(None)
    }

    /// Gives the database back the space of the jobs table's dead row
    /// versions (on PostgreSQL a `VACUUM`); the engine calls it when
    /// [`dead_rows`](Self::dead_rows) says enough has piled up. By default
    /// nothing.
    async fn reclaim_space(&self) -> Result<()> {
        Ok(())
    }

    /// Gives up `role` if `holder` leads it (one delete of its row), so
    /// another process can take over at once. By default nothing.
    async fn resign(&self, role: &str, holder: &str) -> Result<()> {
        let _ = (role, holder);
        Ok(())
    }

    /// Begins a transaction that locks only the rows it reads (READ COMMITTED
    /// or stronger; SQLite takes its write lock up front).
    async fn begin(&self) -> Result<Self::Tx>;

    /// Writes jobs that depend on nothing, outside any workflow, as one
    /// statement (atomic on its own) and wakes their queues; `plans` are
    /// their initial states. Returns `false`, writing nothing, when it cannot
    /// (too many rows for one statement, or no such shortcut): the engine
    /// then writes them in a transaction. The default has no shortcut.
    async fn enqueue_independent(&self, jobs: &[Job], plans: &[PlannedJob]) -> Result<bool> {
        let _ = (jobs, plans);
        Ok(false)
    }

    /// Applies, without a transaction (in statements each atomic on its own,
    /// usually one), the outcomes of the `settlements` (sorted by id, one per
    /// attempt) whose jobs need nothing else done: outside any workflow and
    /// known to have no dependents. Returns how many it applied; the engine settles all of
    /// them again in a transaction when that is fewer than all (an applied
    /// claim is no longer the running one, so it changes nothing the second
    /// time). The default applies none.
    async fn settle_independent(
        &self,
        settlements: &[Settlement],
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let _ = (settlements, now);
        Ok(0)
    }

    /// Claims up to `limit` ready jobs of a queue, as
    /// [`Storage::claim_jobs`](crate::Storage::claim_jobs) describes: one
    /// statement (or one short transaction), `SKIP LOCKED`, claim order.
    /// Claims nothing from a paused queue (the pause is read in the same
    /// statement, without locking the queue's row).
    ///
    /// Statement `claim_jobs`: queue, now, limit, lease_until; returns the claimed rows.
    async fn claim_jobs(&self, params: &ClaimParams) -> Result<Vec<Job>> {
        let p = params;
        let params = params![p.queue.as_str(), p.now, i64::from(p.limit), p.lease_until];
        let mut jobs = self
            .rows("claim_jobs", params, claimed_job_from_row)
            .await?;
        sort_claimed(&mut jobs);
        Ok(jobs)
    }

    /// Extends the leases of these running attempts (sorted by id) to
    /// `lease_until`; returns how many were still current.
    ///
    /// Statement `heartbeat_jobs`: the leases ([`Param::Leases`]), lease_until.
    async fn heartbeat_jobs(&self, leases: &[Lease], lease_until: DateTime<Utc>) -> Result<u64> {
        self.run("heartbeat_jobs", params![leases, lease_until])
            .await
    }

    /// The earliest `scheduled_at` later than `after` among the jobs of
    /// `queue` that are pending or retrying and not held by a dependency:
    /// one seek of the claim index per priority in
    /// [`JobPriority::ALL`](crate::JobPriority::ALL). Locks nothing.
    ///
    /// Statement `next_due`: queue, after, the priorities; returns `due`.
    async fn next_due(&self, queue: &str, after: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
        let priorities: Vec<i64> = JobPriority::ALL.iter().map(|p| p.as_i16().into()).collect();
        let params = params![queue, after, &priorities[..]];
        let due = self.rows("next_due", params, |row| row.time("due"));
        Ok(due.await?.into_iter().next().flatten())
    }

    /// Subscribes to wakeups, when [`capabilities`](Self::capabilities)
    /// says there are any.
    async fn listen(&self) -> Result<Option<Box<dyn WakeupListener>>> {
        Ok(None)
    }

    /// The job with this id (by default, through [`get_jobs`](Self::get_jobs)).
    async fn get_job(&self, id: JobId) -> Result<Option<Job>> {
        Ok(self.get_jobs(&[id]).await?.pop())
    }

    /// The jobs with these ids that exist, ordered by id.
    async fn get_jobs(&self, ids: &[JobId]) -> Result<Vec<Job>> {
        self.rows("get_jobs", params![ids], job_from_row).await
    }

    /// Jobs matching `params`, ordered by id.
    ///
    /// Statement `list_jobs`: queue, status, after, limit (100 if none), workflow, dependency
    /// status, each NULL when not given.
    async fn list_jobs(&self, params: &ListJobsParams) -> Result<Vec<Job>> {
        let p = params;
        let params = params![
            p.queue.as_deref(),
            p.status.map(JobStatus::as_str),
            p.after,
            i64::from(p.limit.unwrap_or(100)),
            p.workflow,
            p.dependency_status.map(crate::DependencyStatus::as_str),
        ];
        self.rows("list_jobs", params, job_from_row).await
    }

    /// How many jobs of `queue` are in each status.
    async fn queue_counts(&self, queue: &str) -> Result<QueueCounts> {
        let params = params![queue];
        let counts = self.rows("queue_counts", params, queue_count_from_row);
        Ok(counts.await?.into_iter().collect())
    }

    /// The workflow with its counters: the stored ones, `running_jobs`
    /// counted from its running jobs (an index range over those only),
    /// `pending_jobs` the rest.
    async fn get_workflow(&self, id: WorkflowId) -> Result<Option<Workflow>> {
        let params = params![id];
        let found = self.rows("get_workflow", params, workflow_from_row);
        Ok(found.await?.pop())
    }

    /// Workflows in id order, counted as [`get_workflow`](Self::get_workflow).
    ///
    /// Statement `list_workflows`: after, limit (100 if none).
    async fn list_workflows(&self, params: &ListWorkflowsParams) -> Result<Vec<Workflow>> {
        let limit = i64::from(params.limit.unwrap_or(100));
        let params = params![params.after, limit];
        self.rows("list_workflows", params, workflow_from_row).await
    }

    /// Up to `limit` finished occurrences of recurring jobs whose series has
    /// not been continued (`cron_live` set, status terminal), with ids after
    /// `after`, in id order, read through an index of live occurrences only.
    async fn list_recurring_jobs(&self, after: Option<JobId>, limit: u32) -> Result<Vec<Job>> {
        let params = params![after, i64::from(limit)];
        self.rows("list_recurring_jobs", params, job_from_row).await
    }

    /// Up to `limit` recurring workflows whose run has finished (no job left
    /// to run, or cancelled) and whose series has not been continued, with
    /// ids after `after`, in id order.
    async fn list_recurring_workflows(
        &self,
        after: Option<WorkflowId>,
        limit: u32,
    ) -> Result<Vec<Workflow>> {
        let params = params![after, i64::from(limit)];
        self.rows("list_recurring_workflows", params, workflow_from_row)
            .await
    }

    /// The spawn operation with this id.
    async fn get_spawn_operation(&self, id: &str) -> Result<Option<SpawnOperation>> {
        let params = params![id];
        let found = self.rows("get_spawn_operation", params, spawn_operation_from_row);
        Ok(found.await?.pop())
    }

    /// Spawn operations matching `query`, newest first.
    ///
    /// Statement `list_spawn_operations`: queue, since, until, limit (100 if none).
    async fn list_spawn_operations(&self, query: &SpawnQuery) -> Result<Vec<SpawnOperation>> {
        let limit = i64::from(query.limit.unwrap_or(100));
        let params = params![query.queue.as_deref(), query.since, query.until, limit];
        self.rows("list_spawn_operations", params, spawn_operation_from_row)
            .await
    }

    /// Figures over the operations matching `query`.
    ///
    /// Statement `spawn_stats`: queue, since, until.
    async fn spawn_stats(&self, query: &SpawnQuery) -> Result<SpawnStats> {
        let params = params![query.queue.as_deref(), query.since, query.until];
        let stats = self.rows("spawn_stats", params, spawn_stats_from_row);
        Ok(stats.await?.pop().unwrap_or_default())
    }

    /// Everything spawned under `id`, to `max_depth` levels, level by level.
    async fn get_descendants(&self, id: JobId, max_depth: u32) -> Result<Vec<Job>> {
        let params = params![id, i64::from(max_depth)];
        self.rows("get_descendants", params, job_from_row).await
    }

    /// The jobs that spawned `id`, its parent first.
    async fn get_ancestors(&self, id: JobId) -> Result<Vec<Job>> {
        self.rows("get_ancestors", params![id], job_from_row).await
    }

    /// The jobs `id` depends on, read through the edge table (declared and
    /// grafted parents), ordered by id.
    async fn get_dependencies(&self, id: JobId) -> Result<Vec<Job>> {
        self.rows("get_dependencies", params![id], job_from_row)
            .await
    }
}

/// A transaction of a [`Driver`]: the primitives the engine composes.
///
/// Dropping one without [`commit`](Self::commit) rolls it back.
#[async_trait]
pub trait Transaction: Send {
    /// Commits, and delivers the wakeups asked for with [`wake`](Self::wake).
    async fn commit(self) -> Result<()>
    where
        Self: Sized;

    /// Rolls back; the wakeups are dropped.
    async fn rollback(self) -> Result<()>
    where
        Self: Sized;

    /// Asks that listeners of these queues be woken once this transaction
    /// commits.
    async fn wake(&mut self, queues: &[String]) -> Result<()>;

    /// Runs `sql`, a script of several statements and no parameters: a
    /// schema migration, or [`Migrations::setup`]. By default
    /// [`no_statement`]: a driver without a schema runs none.
    async fn run_script(&mut self, sql: &str) -> Result<()> {
        let _ = sql;
        Err(no_statement("run_script"))
    }

    /// Runs the statement `name` with `params` in this transaction and maps
    /// each row it returns with `from_row` (see [`Param`]). By default
    /// [`no_statement`], as [`Driver::rows`].
    async fn rows<T: Send + 'static>(
        &mut self,
        name: &'static str,
        params: &[Param<'_>],
        from_row: FromRow<T>,
    ) -> Result<Vec<T>> {
        let _ = (params, from_row);
        Err(no_statement(name))
    }

    /// Runs the statement `name` with `params` in this transaction; returns
    /// how many rows it changed. By default [`no_statement`].
    async fn run(&mut self, name: &'static str, params: &[Param<'_>]) -> Result<u64> {
        let _ = params;
        Err(no_statement(name))
    }

    /// Runs the statement `name`, which changes rows and returns them as
    /// they are after the change; maps each with `from_row`. Every default
    /// primitive that changes rows and reports them goes through here
    /// (settling attempts, cancelling, resetting, reopening and failing,
    /// counting off and recounting dependents, locking stored parents,
    /// grafting children, pausing a queue, pruning).
    ///
    /// By default [`rows`](Self::rows): one `UPDATE ... RETURNING`. A
    /// database without `RETURNING` overrides this once rather than each of
    /// those primitives: `<name>.sql` is then a locking read of the rows the
    /// change will make, as they will be, and `<name>_apply.sql` the change,
    /// given the same parameters and then what the read returned (MySQL's
    /// driver passes a JSON array of each row's `to_apply` column).
    async fn rows_changed<T: Send + 'static>(
        &mut self,
        name: &'static str,
        params: &[Param<'_>],
        from_row: FromRow<T>,
    ) -> Result<Vec<T>> {
        self.rows(name, params, from_row).await
    }

    /// Reads the stored jobs `ids` (sorted) that a batch depends on, locking
    /// each so that none can finish until this transaction ends (a parent
    /// settled later sees the new edges). Returns those that exist. A driver
    /// that overrides [`Driver::settle_independent`] also flags them here as
    /// having dependents, under the same lock.
    async fn lock_stored_parents(&mut self, ids: &[JobId]) -> Result<Vec<(JobId, StoredParent)>> {
        self.rows_changed("lock_stored_parents", params![ids], stored_parent_from_row)
            .await
    }

    /// Inserts the workflow row, `Running`, with `total_jobs` jobs and every
    /// counter at zero (the engine adds the jobs that end at once).
    ///
    /// Statement `insert_workflow`: id, name, description, failure policy, created_at, deadline_at,
    /// total_jobs, cron schedule, timeout in milliseconds.
    async fn insert_workflow(&mut self, workflow: &Workflow, total_jobs: i64) -> Result<()> {
        let w = workflow;
        let params = params![
            w.id,
            w.name.as_str(),
            w.description.as_deref(),
            w.failure_policy.as_str(),
            w.created_at,
            w.deadline_at,
            total_jobs,
            w.cron_schedule.as_deref(),
            w.timeout.map(millis),
        ];
        self.run("insert_workflow", params).await.map(drop)
    }

    /// Inserts `jobs` in the states `plans` give them (a job already ended is
    /// stamped `now`; a recurring job becomes its series' live occurrence).
    /// A taken id is [`Error::DuplicateJob`](crate::Error::DuplicateJob)
    /// naming it.
    async fn insert_jobs(
        &mut self,
        jobs: &[Job],
        plans: &[PlannedJob],
        now: DateTime<Utc>,
    ) -> Result<()>;

    /// Inserts one edge row per `(parent, dependent)` (a repeated edge once).
    ///
    /// Statement `insert_dependencies`: the edges ([`Param::Edges`]), at most
    /// [`EDGE_CHUNK`] per statement.
    async fn insert_dependencies(&mut self, edges: &[(JobId, JobId)]) -> Result<()> {
        for chunk in edges.chunks(EDGE_CHUNK) {
            self.run("insert_dependencies", params![chunk]).await?;
        }
        Ok(())
    }

    /// Applies each settlement (sorted by id) whose attempt is still the
    /// job's current running one, locking those jobs in id order: completed
    /// (result stored), failed (`Retrying` at `retry_at` with attempts left,
    /// else `Dead`), cancelled, or given back (`Pending`; an unstarted
    /// attempt not counted, one started on the last attempt `Dead`). Stale
    /// ones change nothing. Returns a transition per job changed.
    ///
    /// Statement `settle_attempts` (through [`rows_changed`](Self::rows_changed)):
    /// the settlements as [`SettleRecord::encode`] writes them (text), then
    /// `now`; returns `id, status, workflow_id, has_dependents` of each job
    /// changed.
    async fn settle_attempts(
        &mut self,
        settlements: &[Settlement],
        now: DateTime<Utc>,
    ) -> Result<Vec<Transition>> {
        let outcomes = SettleRecord::encode(settlements)?;
        let params = params![outcomes.as_str(), now];
        let transition = |row: &dyn StoredRow| transition_from_row(row, true);
        self.rows_changed("settle_attempts", params, transition)
            .await
    }

    /// Up to `limit` running jobs whose lease ended before `now` (locked,
    /// skipping locked ones) go back to `Pending` at `now`, their attempt
    /// counted, or become `Dead` with no attempt left.
    async fn rescue_expired_jobs(
        &mut self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Transition>> {
        let params = params![now, i64::from(limit)];
        self.rows("rescue_expired_jobs", params, transition).await
    }

    /// Counts the completed `parents` (sorted) off each dependent still
    /// waiting, locking those dependents in id order (the lock serialises
    /// concurrent parents, so exactly one sees a count reach zero). A
    /// dependent at zero without a condition becomes claimable; one with a
    /// condition stays waiting for [`resolve_conditions`](Self::resolve_conditions).
    /// Returns every dependent counted, with its count left.
    async fn release_dependents(&mut self, parents: &[JobId]) -> Result<Vec<Released>> {
        self.rows_changed("release_dependents", params![parents], released_from_row)
            .await
    }

    /// The results of the parents of each of `jobs`, per job in parent-id
    /// order (a parent with no result is left out).
    async fn parent_results(&mut self, jobs: &[JobId]) -> Result<Vec<(JobId, Value)>> {
        self.rows("parent_results", params![jobs], parent_result_from_row)
            .await
    }

    /// For dependents [`release_dependents`](Self::release_dependents) left
    /// waiting at zero (still locked): `true` makes one claimable, `false`
    /// `Skipped` at `now` ("condition is false").
    ///
    /// Statement `resolve_conditions`: the decisions ([`Param::Decisions`]),
    /// now.
    async fn resolve_conditions(
        &mut self,
        decisions: &[(JobId, bool)],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let params = params![decisions, now];
        self.run("resolve_conditions", params).await.map(drop)
    }

    /// Ends every transitive dependent of `parents` that has not started
    /// (`Pending` or `Retrying`) as `status` (`Dead`, `Skipped` or
    /// `Cancelled`) with `why` as its error and its dependency failed, at
    /// `now`. One statement where the database can walk the edges
    /// recursively; the engine calls it again from the jobs it ended until it
    /// ends nothing, so a driver may also end one level per call.
    async fn end_dependents(
        &mut self,
        parents: &[JobId],
        status: JobStatus,
        why: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Transition>> {
        let params = params![parents, status.as_str(), why, now];
        self.rows("end_dependents", params, transition).await
    }

    /// The failure policies of these workflows (those that exist).
    async fn workflow_policies(
        &mut self,
        ids: &[WorkflowId],
    ) -> Result<HashMap<WorkflowId, FailurePolicy>> {
        let params = params![ids];
        let policies = self.rows("workflow_policies", params, policy_from_row);
        Ok(policies.await?.into_iter().collect())
    }

    /// Sets `state` on those of the workflows `ids` (sorted) that are still
    /// open (`Running` or `Paused`), locking them in id order.
    async fn set_workflow_state(
        &mut self,
        ids: &[WorkflowId],
        state: WorkflowStatus,
    ) -> Result<()> {
        let params = params![ids, state.as_str()];
        self.run("set_workflow_state", params).await.map(drop)
    }

    /// Adds `counts` (sorted by workflow id) to the workflow rows' counters,
    /// locking them in that order.
    ///
    /// Statement `add_workflow_counts`: the counts as one JSON array of
    /// [`WorkflowCounts`] (text).
    async fn add_workflow_counts(&mut self, counts: &[WorkflowCounts]) -> Result<()> {
        let counts = json_array(counts)?;
        let params = params![counts.as_str()];
        self.run("add_workflow_counts", params).await.map(drop)
    }

    /// The last writes of a transaction before its commit:
    /// [`add_workflow_counts`](Self::add_workflow_counts),
    /// [`mark_finished_workflows`](Self::mark_finished_workflows) of those
    /// workflows at `now`, and [`wake`](Self::wake), either of `counts` and
    /// `queues` empty. A database that can do it in one statement overrides
    /// it (PostgreSQL).
    async fn finish(
        &mut self,
        counts: &[WorkflowCounts],
        queues: &[String],
        now: DateTime<Utc>,
    ) -> Result<()> {
        if !counts.is_empty() {
            self.add_workflow_counts(counts).await?;
            let ids: Vec<WorkflowId> = counts.iter().map(|c| c.id).collect();
            self.mark_finished_workflows(&ids, now).await?;
        }
        if !queues.is_empty() {
            self.wake(queues).await?;
        }
        Ok(())
    }

    /// Cancels job `id` at `now` if it has not finished (its lease ends, so a
    /// running attempt's outcome is then ignored). Returns its transition.
    async fn cancel_job(&mut self, id: JobId, now: DateTime<Utc>) -> Result<Option<Transition>> {
        Ok(self
            .rows_changed("cancel_job", params![id, now], transition)
            .await?
            .pop())
    }

    /// Marks workflow `id` `Cancelled` if it is open and has jobs left to
    /// run, locking its row. Returns whether it did.
    async fn cancel_workflow(&mut self, id: WorkflowId) -> Result<bool> {
        Ok(self.run("cancel_workflow", params![id]).await? > 0)
    }

    /// Puts job `id` back to `Pending` at `now` (attempts 0, error, failure
    /// and completion times and lease cleared) if it is `Dead` or
    /// `Cancelled`, belongs to no workflow and its dependencies are none or
    /// all completed, locking its row. Returns it when it did.
    async fn reset_job(&mut self, id: JobId, now: DateTime<Utc>) -> Result<Option<ResetJob>> {
        let params = params![id, now];
        let reset = self.rows_changed("reset_job", params, reset_job_from_row);
        Ok(reset.await?.pop())
    }

    /// Marks `queue` paused since `now` (adding its row to the queues table
    /// if it has none) unless it is paused already, locking the row.
    /// Returns whether it changed.
    async fn pause_queue(&mut self, queue: &str, now: DateTime<Utc>) -> Result<bool> {
        let params = params![queue, now];
        let changed = self.rows_changed("pause_queue", params, |_| Ok(()));
        Ok(!changed.await?.is_empty())
    }

    /// Clears the pause of `queue`, locking its row. Returns whether it was
    /// paused.
    async fn resume_queue(&mut self, queue: &str) -> Result<bool> {
        Ok(self.run("resume_queue", params![queue]).await? > 0)
    }

    /// Cancels, at `now` with `why`, every unfinished job of the workflows
    /// `ids` (sorted) and every unfinished spawned job outside them that one
    /// of their jobs awaits (an edge grafted by
    /// [`graft_children`](Self::graft_children)), locking them. A driver that
    /// locks the workflows' jobs first and then the awaited ones in a new
    /// statement also cancels children grafted by a spawn that committed in
    /// between.
    async fn cancel_workflow_jobs(
        &mut self,
        ids: &[WorkflowId],
        why: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Transition>> {
        let params = params![ids, why, now];
        self.rows_changed("cancel_workflow_jobs", params, transition)
            .await
    }

    /// Up to `limit` jobs of `queue` in the final `status` that ended
    /// (`completed_at`, else `failed_at`) before `ended_before`, oldest
    /// first, that are in no workflow, are not the occurrence a recurring
    /// series continues from (`cron_live`), that no stored job depends on
    /// (no edge from them) and that spawned no stored job: one range of the
    /// index of finished jobs outside workflows. Locks them, skipping locked
    /// rows. The tests may read a snapshot older than the locks:
    /// [`delete_jobs`](Self::delete_jobs) repeats the edge test.
    async fn prunable_jobs(
        &mut self,
        queue: &str,
        status: JobStatus,
        ended_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<JobId>> {
        let params = params![queue, status.as_str(), ended_before, i64::from(limit)];
        self.rows("prunable_jobs", params, |row| job_id_from_row(row, "id"))
            .await
    }

    /// Deletes those of jobs `ids` (locked by
    /// [`prunable_jobs`](Self::prunable_jobs)) that no stored job depends on,
    /// as read after the locks (an enqueue that added an edge to one of them
    /// committed before, since it locks its stored parents first), with
    /// their edges as dependents and the spawn operation records they made;
    /// returns how many jobs and records it deleted.
    async fn delete_jobs(&mut self, ids: &[JobId]) -> Result<crate::retention::Pruned> {
        let params = params![ids];
        // One row of counts (PostgreSQL) or one per thing deleted (MySQL).
        let rows = self.rows_changed("delete_jobs", params, pruned_from_row);
        Ok(rows.await?.into_iter().sum())
    }

    /// Stamps `now` as the time those of workflows `ids` (sorted, locked by
    /// [`add_workflow_counts`](Self::add_workflow_counts) in this
    /// transaction) finished, when every one of their jobs is now in a final
    /// status and they were not stamped yet; called by the default
    /// [`finish`](Self::finish).
    async fn mark_finished_workflows(
        &mut self,
        ids: &[WorkflowId],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let params = params![ids, now];
        self.run("mark_finished_workflows", params).await.map(drop)
    }

    /// Up to `limit` workflows that finished before `ended_before`, oldest
    /// first: not a recurring workflow's live run, and none of whose jobs a
    /// job outside it depends on or was spawned by. Locks them, skipping
    /// locked rows.
    async fn prunable_workflows(
        &mut self,
        ended_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<WorkflowId>> {
        let params = params![ended_before, i64::from(limit)];
        self.rows("prunable_workflows", params, workflow_id_from_row)
            .await
    }

    /// Deletes workflows `ids` (locked) whole: their jobs, the jobs' edges
    /// and spawn operation records, and the workflow rows; returns how many
    /// of each it deleted.
    async fn delete_workflows(&mut self, ids: &[WorkflowId]) -> Result<crate::retention::Pruned> {
        let params = params![ids];
        // One row of counts (PostgreSQL) or one per thing deleted (MySQL).
        let rows = self.rows_changed("delete_workflows", params, pruned_from_row);
        Ok(rows.await?.into_iter().sum())
    }

    /// Marks `Failed` the open workflows whose deadline is before `now` and
    /// that have jobs left to run, locking them in id order; returns them.
    async fn fail_expired_workflows(&mut self, now: DateTime<Utc>) -> Result<Vec<WorkflowId>> {
        let params = params![now];
        let expired = self.rows_changed("fail_expired_workflows", params, workflow_id_from_row);
        let mut expired = expired.await?;
        expired.sort_unstable();
        Ok(expired)
    }

    /// Marks workflow `id` `Running` whatever its state, locking its row;
    /// `false` when there is no such workflow.
    async fn reopen_workflow(&mut self, id: WorkflowId) -> Result<bool> {
        let params = params![id];
        let found = self.rows_changed("reopen_workflow", params, |_| Ok(()));
        Ok(!found.await?.is_empty())
    }

    /// Puts workflow `id`'s `Dead` and `Cancelled` jobs, and the `Dead` and
    /// `Cancelled` spawned jobs outside it that one of its jobs awaits, back
    /// to `Pending` at `now` with no attempt made, locking them.
    async fn reset_workflow_jobs(
        &mut self,
        id: WorkflowId,
        now: DateTime<Utc>,
    ) -> Result<Vec<ResetJob>> {
        let params = params![id, now];
        self.rows_changed("reset_workflow_jobs", params, reset_job_from_row)
            .await
    }

    /// Recounts the parents not completed of workflow `id`'s pending jobs and
    /// of the jobs `also`, storing each count (waiting above zero, satisfied
    /// at zero), locking the parents read so none completes unseen. Returns
    /// every job recounted, with its new count and its condition.
    async fn recount_dependencies(
        &mut self,
        id: WorkflowId,
        also: &[JobId],
    ) -> Result<Vec<Released>> {
        let params = params![id, also];
        self.rows_changed("recount_dependencies", params, released_from_row)
            .await
    }

    /// The edges out of `parents`, as `(parent, dependent)`, in parent
    /// order; reads only (the edge table by its primary key's prefix).
    async fn dependents(&mut self, parents: &[JobId]) -> Result<Vec<(JobId, JobId)>> {
        let pair = |row: &dyn StoredRow| job_id_pair_from_row(row, "parent_id", "job_id");
        self.rows("dependents", params![parents], pair).await
    }

    /// The children of `parents` whose spawn their dependents await
    /// ([`SpawnOperation::await_children`](crate::spawn::SpawnOperation)),
    /// as `(parent, child)`; reads only.
    async fn awaited_children(&mut self, parents: &[JobId]) -> Result<Vec<(JobId, JobId)>> {
        let pair = |row: &dyn StoredRow| job_id_pair_from_row(row, "parent_job_id", "id");
        self.rows("awaited_children", params![parents], pair).await
    }

    /// The parents of `jobs` that ended without completing (skipped, dead,
    /// cancelled), each once, with their status; reads only.
    async fn ended_parents(&mut self, jobs: &[JobId]) -> Result<Vec<Transition>> {
        self.rows("ended_parents", params![jobs], transition).await
    }

    /// Whether `lease` is still job's current running attempt, locking the
    /// job if so.
    ///
    /// Statement `lock_running_attempt`: the job id, the claim.
    async fn lock_running_attempt(&mut self, lease: Lease) -> Result<bool> {
        exists(self, "lock_running_attempt", params![lease.id, lease.claim]).await
    }

    /// Makes each of `children` (ids not written yet) one more dependency of
    /// every dependent of `parent` still waiting, locking those dependents in
    /// id order: edge rows and pending counts (a dependent's `depends_on`
    /// keeps what was declared). Returns the dependents held.
    async fn graft_children(&mut self, parent: JobId, children: &[JobId]) -> Result<Vec<JobId>> {
        let params = params![parent, children];
        self.rows_changed("graft_children", params, |row| job_id_from_row(row, "id"))
            .await
    }

    /// Inserts the spawn operation row; `false`, writing nothing, when its id
    /// is taken.
    ///
    /// Statement `insert_spawn_operation`: id, parent job, queue, handler, child count, batch
    /// count, metadata, created_at, await_children; it changes no row when the id is taken.
    async fn insert_spawn_operation(&mut self, operation: &SpawnOperation) -> Result<bool> {
        let op = operation;
        let count = |n: u64| n.min(i64::MAX as u64) as i64;
        let params = params![
            op.id.as_str(),
            op.parent_job_id,
            op.queue_name.as_str(),
            op.handler.as_str(),
            count(op.child_count),
            count(op.batch_count),
            op.metadata.as_ref(),
            op.created_at,
            op.await_children,
        ];
        Ok(self.run("insert_spawn_operation", params).await? > 0)
    }

    /// Marks recurring job `id` continued by `next` (ended when `None`) if it
    /// is still its series' live occurrence, locking it. Returns whether it was.
    async fn mark_job_recurrence(&mut self, id: JobId, next: Option<JobId>) -> Result<bool> {
        Ok(self.run("mark_job_recurrence", params![id, next]).await? > 0)
    }

    /// Marks recurring workflow `id` continued by `next` (ended when `None`)
    /// if it is still its series' live occurrence, locking it. Returns
    /// whether it was.
    async fn mark_workflow_recurrence(
        &mut self,
        id: WorkflowId,
        next: Option<WorkflowId>,
    ) -> Result<bool> {
        Ok(self
            .run("mark_workflow_recurrence", params![id, next])
            .await?
            > 0)
    }
}
