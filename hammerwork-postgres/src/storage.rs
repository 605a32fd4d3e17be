use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hammerwork_api::schedule::{Recurrence, RecurrenceSource};
use hammerwork_api::spawn::{
    check_awaiting_cycle, SpawnError, SpawnOperation, SpawnQuery, SpawnSet, SpawnStats,
};
use hammerwork_api::validate::validate_batch;
use hammerwork_api::workflow::{
    condition_context, external_dependencies, killed_in_other_workflows, plan_enqueue,
    plan_failures, validate_graph, Condition, FailurePolicy, PlannedJob, StoredParent, Workflow,
    WorkflowId,
};
use hammerwork_api::{
    Capabilities, ClaimParams, EnqueueBatch, Error, Job, JobId, JobStatus, Lease, ListJobsParams,
    ListWorkflowsParams, Outcome, QueueCounts, Result, Settlement, Storage, WakeupListener,
    WakeupScope,
};
use serde_json::Value;
use sqlx::postgres::{PgListener, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool, Row};
use uuid::Uuid;

use crate::map_err::map_err;
use crate::migrate::migrate;
use crate::row::{job_from_row, spawn_operation_from_row, workflow_from_row};

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
        self.write_batch(conn, EnqueueBatch::jobs(jobs)).await
    }

    /// The whole enqueue: checks, plan, workflow row, jobs, edges.
    async fn write_batch(
        &self,
        conn: &mut PgConnection,
        batch: EnqueueBatch<'_>,
    ) -> Result<Vec<JobId>> {
        let jobs = batch.jobs;
        validate_batch(&batch)?;
        let external = external_dependencies(jobs);
        let stored = if external.is_empty() {
            HashMap::new()
        } else {
            lock_stored_parents(conn, &external).await?
        };
        validate_graph(jobs, |id| stored.contains_key(&id))?;
        let plans = plan_enqueue(jobs, &stored);
        if let Some(workflow) = batch.workflow {
            insert_workflow(conn, workflow, &plans).await?;
        }
        // Jobs dead at once (a stored parent failed) apply their workflow's
        // policy once the batch is written.
        let dead_at_once: Vec<(Uuid, Option<Uuid>)> = jobs
            .iter()
            .zip(&plans)
            .filter(|(_, plan)| plan.status == JobStatus::Dead)
            .map(|(job, _)| (job.id.0, job.workflow_id.map(|w| w.0)))
            .collect();
        for (chunk, plan_chunk) in jobs.chunks(ENQUEUE_CHUNK).zip(plans.chunks(ENQUEUE_CHUNK)) {
            if let Err(err) = self.insert_chunk(conn, chunk, plan_chunk).await {
                return Err(self.explain_insert_error(conn, chunk, err).await);
            }
        }
        let (parents, children): (Vec<Uuid>, Vec<Uuid>) = jobs
            .iter()
            .flat_map(|job| job.depends_on.iter().map(|dep| (dep.0, job.id.0)))
            .unzip();
        for (parents, children) in parents
            .chunks(ENQUEUE_CHUNK * 4)
            .zip(children.chunks(ENQUEUE_CHUNK * 4))
        {
            sqlx::query(include_str!("../queries/insert_dependencies.sql"))
                .bind(parents)
                .bind(children)
                .execute(&mut *conn)
                .await
                .map_err(map_err)?;
        }
        if !dead_at_once.is_empty() {
            apply_failure_policies(conn, &dead_at_once, Utc::now()).await?;
        }
        // A job skipped or cancelled at once ends whatever already waits on
        // it (a stage grafted onto spawned children).
        for (status, why) in [
            (JobStatus::Skipped, "a dependency was skipped"),
            (JobStatus::Cancelled, "a dependency was cancelled"),
        ] {
            let ended: Vec<Uuid> = jobs
                .iter()
                .zip(&plans)
                .filter(|(_, plan)| plan.status == status)
                .map(|(job, _)| job.id.0)
                .collect();
            if !ended.is_empty() {
                propagate(conn, &ended, status.as_str(), why, Utc::now()).await?;
            }
        }
        Ok(jobs.iter().map(|job| job.id).collect())
    }

    /// Settles `settlements` and follows their consequences on `conn` (the
    /// caller's transaction). Returns how many applied.
    async fn settle_in(
        &self,
        tx: &mut PgConnection,
        settlements: &[Settlement],
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let b = SettleBatches::new(settlements);
        let mut finished = Finished::default();
        let mut changed = 0;
        if !b.completed.ids.is_empty() {
            let rows = sqlx::query(include_str!("../queries/settle_jobs_completed.sql"))
                .bind(&b.completed.ids)
                .bind(&b.completed.attempts)
                .bind(&b.completed.extra)
                .bind(now)
                .fetch_all(&mut *tx)
                .await
                .map_err(map_err)?;
            changed += rows.len() as u64;
            finished.add_rows(&rows)?;
        }
        if !b.failed.ids.is_empty() {
            let rows = sqlx::query(include_str!("../queries/settle_jobs_failed.sql"))
                .bind(&b.failed.ids)
                .bind(&b.failed.attempts)
                .bind(&b.failed.extra.0)
                .bind(now)
                .bind(&b.failed.extra.1)
                .fetch_all(&mut *tx)
                .await
                .map_err(map_err)?;
            changed += rows.len() as u64;
            finished.add_rows(&rows)?;
        }
        if !b.cancelled.ids.is_empty() {
            let rows = sqlx::query(include_str!("../queries/settle_jobs_cancelled.sql"))
                .bind(&b.cancelled.ids)
                .bind(&b.cancelled.attempts)
                .bind(&b.cancelled.extra)
                .bind(now)
                .fetch_all(&mut *tx)
                .await
                .map_err(map_err)?;
            changed += rows.len() as u64;
            finished.add_rows(&rows)?;
        }
        if !b.given_back.ids.is_empty() {
            let rows = sqlx::query(include_str!("../queries/settle_jobs_given_back.sql"))
                .bind(&b.given_back.ids)
                .bind(&b.given_back.attempts)
                .bind(now)
                .bind(&b.given_back.extra)
                .fetch_all(&mut *tx)
                .await
                .map_err(map_err)?;
            changed += rows.len() as u64;
            finished.add_rows(&rows)?;
        }
        follow_dependents(&mut *tx, &self.channel, finished, now).await?;
        Ok(changed)
    }

    async fn insert_chunk(
        &self,
        conn: &mut PgConnection,
        jobs: &[Job],
        plans: &[PlannedJob],
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
        let mut depends_on = Vec::with_capacity(n);
        let mut dependency_status = Vec::with_capacity(n);
        let mut pending = Vec::with_capacity(n);
        let mut workflows = Vec::with_capacity(n);
        let mut conditions = Vec::with_capacity(n);
        let mut errors = Vec::with_capacity(n);
        let mut statuses = Vec::with_capacity(n);
        let mut crons = Vec::with_capacity(n);
        let mut parents = Vec::with_capacity(n);
        let mut operations = Vec::with_capacity(n);
        let mut depths = Vec::with_capacity(n);
        for (job, plan) in jobs.iter().zip(plans) {
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
            depends_on.push(serde_json::to_value(&job.depends_on).expect("ids serialise"));
            dependency_status.push(plan.dependency_status.as_str());
            pending.push(plan.pending_dependencies);
            workflows.push(job.workflow_id.map(|w| w.0));
            conditions.push(job.condition.as_deref());
            errors.push(plan.error.as_deref());
            statuses.push(plan.status.as_str());
            crons.push(job.cron_schedule.as_deref());
            parents.push(job.parent_job_id.map(|p| p.0));
            operations.push(job.spawn_operation_id.as_deref());
            depths.push(job.spawn_depth.min(i32::MAX as u32) as i32);
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
            .bind(depends_on)
            .bind(dependency_status)
            .bind(pending)
            .bind(workflows)
            .bind(conditions)
            .bind(errors)
            .bind(statuses)
            .bind(crons)
            .bind(parents)
            .bind(operations)
            .bind(depths)
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

/// Reads (and share-locks) the stored jobs a batch depends on.
async fn lock_stored_parents(
    conn: &mut PgConnection,
    ids: &[JobId],
) -> Result<HashMap<JobId, StoredParent>> {
    let ids: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
    let rows = sqlx::query(include_str!("../queries/lock_stored_parents.sql"))
        .bind(ids)
        .fetch_all(conn)
        .await
        .map_err(map_err)?;
    rows.iter()
        .map(|row| {
            let id = JobId(row.try_get("id").map_err(Error::backend)?);
            let status = row
                .try_get::<String, _>("status")
                .map_err(Error::backend)?
                .parse()?;
            let result = row.try_get("result").map_err(Error::backend)?;
            Ok((id, StoredParent { status, result }))
        })
        .collect()
}

/// Inserts the workflow row with counters from the batch's plan.
async fn insert_workflow(
    conn: &mut PgConnection,
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
        .bind(
            workflow
                .timeout
                .map(|t| t.as_millis().min(i64::MAX as u128) as i64),
        )
        .execute(conn)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// Jobs that just reached an end state, whose dependents must follow.
#[derive(Default)]
struct Finished {
    completed: Vec<Uuid>,
    dead: Vec<(Uuid, Option<Uuid>)>,
    cancelled: Vec<Uuid>,
}

impl Finished {
    /// Collects `RETURNING id, status, workflow_id` rows of a statement.
    fn add_rows(&mut self, rows: &[sqlx::postgres::PgRow]) -> Result<()> {
        for row in rows {
            let id: Uuid = row.try_get("id").map_err(Error::backend)?;
            let status: String = row.try_get("status").map_err(Error::backend)?;
            match status.as_str() {
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

/// Moves the dependents of finished jobs on, inside the caller's transaction:
/// releases (or skips, by condition) the dependents of completed jobs, applies
/// failure policies for dead ones, cancels the dependents of cancelled ones,
/// and wakes the queues of released jobs.
async fn follow_dependents(
    conn: &mut PgConnection,
    channel: &str,
    finished: Finished,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut wake: HashSet<String> = HashSet::new();
    let mut skipped: Vec<Uuid> = Vec::new();
    if !finished.completed.is_empty() {
        let edges = sqlx::query(include_str!("../queries/find_dependents.sql"))
            .bind(&finished.completed)
            .fetch_all(&mut *conn)
            .await
            .map_err(map_err)?;
        let mut dependents = Vec::with_capacity(edges.len());
        let mut counts = Vec::with_capacity(edges.len());
        for edge in &edges {
            dependents.push(edge.try_get::<Uuid, _>("job_id").map_err(Error::backend)?);
            counts.push(edge.try_get::<i32, _>("n").map_err(Error::backend)?);
        }
        // Two statements, not one join: with the edge counts as a literal
        // list the planner updates dependents by primary key, never by a scan.
        let rows = if dependents.is_empty() {
            Vec::new()
        } else {
            sqlx::query(include_str!("../queries/release_dependents.sql"))
                .bind(&dependents)
                .bind(&counts)
                .fetch_all(&mut *conn)
                .await
                .map_err(map_err)?
        };
        let mut conditional: Vec<(Uuid, String)> = Vec::new();
        for row in &rows {
            let pending: i32 = row
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
    if !wake.is_empty() {
        let queues: Vec<String> = wake.into_iter().collect();
        sqlx::query("SELECT pg_notify($1, q) FROM UNNEST($2::text[]) AS t(q)")
            .bind(channel)
            .bind(queues)
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
    }
    Ok(())
}

/// Evaluates the conditions of jobs whose parents all completed; returns the
/// ids of those skipped (false), wakes the queues of those released (true).
async fn resolve_conditions(
    conn: &mut PgConnection,
    jobs: &[(Uuid, String)],
    now: DateTime<Utc>,
    wake: &mut HashSet<String>,
) -> Result<Vec<Uuid>> {
    let ids: Vec<Uuid> = jobs.iter().map(|(id, _)| *id).collect();
    let rows = sqlx::query(include_str!("../queries/parent_results.sql"))
        .bind(&ids)
        .fetch_all(&mut *conn)
        .await
        .map_err(map_err)?;
    let mut results: HashMap<Uuid, Vec<Value>> = HashMap::new();
    for row in &rows {
        let job: Uuid = row.try_get("job_id").map_err(Error::backend)?;
        let result: Option<Value> = row.try_get("result").map_err(Error::backend)?;
        results.entry(job).or_default().extend(result);
    }
    let runs: Vec<bool> = jobs
        .iter()
        .map(|(id, condition)| {
            // Parsed when enqueued, so a parse error here means the row was
            // edited by hand: treat it as false rather than run the job.
            let context = condition_context(results.get(id).into_iter().flatten());
            Condition::parse(condition).is_ok_and(|c| c.evaluate(&context))
        })
        .collect();
    let rows = sqlx::query(include_str!("../queries/resolve_conditions.sql"))
        .bind(&ids)
        .bind(&runs)
        .bind(now)
        .fetch_all(&mut *conn)
        .await
        .map_err(map_err)?;
    let mut skipped = Vec::new();
    for row in &rows {
        let status: String = row.try_get("status").map_err(Error::backend)?;
        if status == "skipped" {
            skipped.push(row.try_get("id").map_err(Error::backend)?);
        } else {
            wake.insert(row.try_get("queue_name").map_err(Error::backend)?);
        }
    }
    Ok(skipped)
}

/// Ends every transitive dependent of `parents` that has not started as `status`.
///
/// Repeats from the jobs each round ended until a round ends nothing: a
/// dependent committed by a concurrent enqueue while this walk waited on its
/// parent's row lock is only visible to the next statement.
async fn propagate(
    conn: &mut PgConnection,
    parents: &[Uuid],
    status: &str,
    why: &str,
    now: DateTime<Utc>,
) -> Result<Vec<(Uuid, Option<Uuid>)>> {
    let mut frontier = parents.to_vec();
    let mut ended = Vec::new();
    while !frontier.is_empty() {
        let rows = sqlx::query(include_str!("../queries/propagate_to_dependents.sql"))
            .bind(&frontier)
            .bind(status)
            .bind(why)
            .bind(now)
            .fetch_all(&mut *conn)
            .await
            .map_err(map_err)?;
        frontier.clear();
        for row in &rows {
            let id: Uuid = row.try_get("id").map_err(Error::backend)?;
            frontier.push(id);
            ended.push((id, row.try_get("workflow_id").map_err(Error::backend)?));
        }
    }
    Ok(ended)
}

/// Applies each dead job's workflow failure policy (outside a workflow, its
/// dependents die with it, as under `ContinueOnFailure`).
async fn apply_failure_policies(
    conn: &mut PgConnection,
    dead: &[(Uuid, Option<Uuid>)],
    now: DateTime<Utc>,
) -> Result<()> {
    let workflow_ids: Vec<Uuid> = dead
        .iter()
        .filter_map(|(_, w)| *w)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut policies: HashMap<Uuid, FailurePolicy> = HashMap::new();
    if !workflow_ids.is_empty() {
        let rows = sqlx::query(include_str!("../queries/workflow_policies.sql"))
            .bind(&workflow_ids)
            .fetch_all(&mut *conn)
            .await
            .map_err(map_err)?;
        for row in &rows {
            let id: Uuid = row.try_get("id").map_err(Error::backend)?;
            let policy: String = row.try_get("failure_policy").map_err(Error::backend)?;
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
    if !plan.fail_fast.is_empty() {
        sqlx::query(include_str!("../queries/set_workflow_state.sql"))
            .bind(&plan.fail_fast)
            .bind("failed")
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
        cancel_unfinished(
            conn,
            &plan.fail_fast,
            "cancelled: another job of the workflow failed",
            now,
        )
        .await?;
    }
    if !plan.pause.is_empty() {
        sqlx::query(include_str!("../queries/set_workflow_state.sql"))
            .bind(&plan.pause)
            .bind("paused")
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
    }
    Ok(())
}

/// Cancels every unfinished job of these workflows, and the jobs outside them
/// that wait on those.
async fn cancel_unfinished(
    conn: &mut PgConnection,
    workflows: &[Uuid],
    why: &str,
    now: DateTime<Utc>,
) -> Result<u64> {
    let cancelled: Vec<Uuid> =
        sqlx::query_scalar(include_str!("../queries/fail_fast_workflows.sql"))
            .bind(workflows)
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

    async fn enqueue_jobs(&self, batch: EnqueueBatch<'_>) -> Result<Vec<JobId>> {
        let simple = batch.workflow.is_none()
            && batch.jobs.len() <= ENQUEUE_CHUNK
            && batch.jobs.iter().all(|job| job.depends_on.is_empty());
        if simple {
            // One statement is atomic on its own: no BEGIN/COMMIT round trips.
            let mut conn = self.pool.acquire().await.map_err(map_err)?;
            return self.write_batch(&mut conn, batch).await;
        }
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let ids = self.write_batch(&mut tx, batch).await?;
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
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let changed = self.settle_in(&mut tx, settlements, now).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(changed)
    }

    async fn complete_and_spawn(
        &self,
        lease: Lease,
        result: Option<Value>,
        spawn: &SpawnSet,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
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
                return Ok(false);
            }
            let children: Vec<Uuid> = spawn.children.iter().map(|c| c.id.0).collect();
            let held: Vec<Uuid> = sqlx::query_scalar(include_str!("../queries/graft_children.sql"))
                .bind(lease.id.0)
                .bind(&children)
                .fetch_all(&mut *tx)
                .await
                .map_err(map_err)?;
            let held: Vec<JobId> = held.into_iter().map(JobId).collect();
            check_awaiting_cycle(&spawn.children, &held)?;
        }
        let completed = Settlement::new(lease, Outcome::Completed { result });
        if self.settle_in(&mut tx, &[completed], now).await? == 0 {
            return Ok(false);
        }
        let op = &spawn.operation;
        let inserted = sqlx::query(include_str!("../queries/insert_spawn_operation.sql"))
            .bind(&op.id)
            .bind(op.parent_job_id.0)
            .bind(&op.queue_name)
            .bind(&op.handler)
            .bind(op.child_count as i64)
            .bind(op.batch_count as i64)
            .bind(&op.metadata)
            .bind(op.created_at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
        if inserted == 0 {
            return Err(Error::Spawn(SpawnError::DuplicateOperation {
                id: op.id.clone(),
            }));
        }
        for chunk in spawn.children.chunks(spawn.batch_size.max(1)) {
            self.write_batch(&mut tx, EnqueueBatch::jobs(chunk)).await?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn get_spawn_operation(&self, id: &str) -> Result<Option<SpawnOperation>> {
        sqlx::query(include_str!("../queries/get_spawn_operation.sql"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?
            .map(|row| spawn_operation_from_row(&row))
            .transpose()
    }

    async fn list_spawn_operations(&self, query: SpawnQuery) -> Result<Vec<SpawnOperation>> {
        sqlx::query(include_str!("../queries/list_spawn_operations.sql"))
            .bind(&query.queue)
            .bind(query.since)
            .bind(query.until)
            .bind(i64::from(query.limit.unwrap_or(100)))
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?
            .iter()
            .map(spawn_operation_from_row)
            .collect()
    }

    async fn spawn_stats(&self, query: SpawnQuery) -> Result<SpawnStats> {
        let row = sqlx::query(include_str!("../queries/spawn_stats.sql"))
            .bind(&query.queue)
            .bind(query.since)
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

    async fn get_descendants(&self, id: JobId, max_depth: u32) -> Result<Vec<Job>> {
        sqlx::query(include_str!("../queries/get_descendants.sql"))
            .bind(id.0)
            .bind(max_depth.min(i32::MAX as u32) as i32)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?
            .iter()
            .map(job_from_row)
            .collect()
    }

    async fn get_ancestors(&self, id: JobId) -> Result<Vec<Job>> {
        sqlx::query(include_str!("../queries/get_ancestors.sql"))
            .bind(id.0)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?
            .iter()
            .map(job_from_row)
            .collect()
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
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let rows = sqlx::query(include_str!("../queries/rescue_expired_jobs.sql"))
            .bind(now)
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
        let mut finished = Finished::default();
        finished.add_rows(&rows)?;
        follow_dependents(&mut tx, &self.channel, finished, now).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(rows.len() as u64)
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
        let ids: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
        let rows = sqlx::query(include_str!("../queries/get_jobs.sql"))
            .bind(ids)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(job_from_row).collect()
    }

    async fn list_jobs(&self, params: ListJobsParams) -> Result<Vec<Job>> {
        let rows = sqlx::query(include_str!("../queries/list_jobs.sql"))
            .bind(params.queue)
            .bind(params.status.map(JobStatus::as_str))
            .bind(params.after.map(|id| id.0))
            .bind(i64::from(params.limit.unwrap_or(100)))
            .bind(params.workflow.map(|w| w.0))
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
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let cancelled: Option<Uuid> = sqlx::query_scalar(include_str!("../queries/cancel_job.sql"))
            .bind(id.0)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
        if let Some(cancelled) = cancelled {
            let finished = Finished {
                cancelled: vec![cancelled],
                ..Finished::default()
            };
            follow_dependents(&mut tx, &self.channel, finished, now).await?;
            tx.commit().await.map_err(map_err)?;
            return Ok(true);
        }
        drop(tx);
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
        let rows = sqlx::query(include_str!("../queries/list_workflows.sql"))
            .bind(params.after.map(|w| w.0))
            .bind(i64::from(params.limit.unwrap_or(100)))
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(workflow_from_row).collect()
    }

    async fn cancel_workflow(&self, id: WorkflowId, now: DateTime<Utc>) -> Result<bool> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let cancelled: Option<Uuid> =
            sqlx::query_scalar(include_str!("../queries/cancel_workflow.sql"))
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
        if cancelled.is_none() {
            drop(tx);
            return match self.get_workflow(id).await? {
                Some(_) => Ok(false),
                None => Err(Error::WorkflowNotFound { id }),
            };
        }
        cancel_unfinished(&mut tx, &[id.0], "cancelled with its workflow", now).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn retry_workflow(&self, id: WorkflowId, now: DateTime<Utc>) -> Result<u64> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let exists: Option<Uuid> =
            sqlx::query_scalar("SELECT id FROM hammerwork_workflows WHERE id = $1 FOR UPDATE")
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
        if exists.is_none() {
            return Err(Error::WorkflowNotFound { id });
        }
        let reset = sqlx::query(include_str!("../queries/retry_workflow_reset.sql"))
            .bind(id.0)
            .bind(now)
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
        let reset_ids: Vec<Uuid> = reset
            .iter()
            .map(|row| row.try_get("id").map_err(Error::backend))
            .collect::<Result<_>>()?;
        sqlx::query(include_str!("../queries/retry_workflow_recount.sql"))
            .bind(id.0)
            .bind(&reset_ids)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        sqlx::query("UPDATE hammerwork_workflows SET state = 'running' WHERE id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let queues: Vec<String> = reset
            .iter()
            .map(|row| row.try_get("queue_name").map_err(Error::backend))
            .collect::<Result<HashSet<String>>>()?
            .into_iter()
            .collect();
        sqlx::query("SELECT pg_notify($1, q) FROM UNNEST($2::text[]) AS t(q)")
            .bind(&*self.channel)
            .bind(queues)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(reset.len() as u64)
    }

    async fn expire_workflows(&self, now: DateTime<Utc>) -> Result<u64> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let expired: Vec<Uuid> =
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
        let limit = i64::from(limit);
        let jobs = sqlx::query(include_str!("../queries/list_recurring_jobs.sql"))
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        let workflows = sqlx::query(include_str!("../queries/list_recurring_workflows.sql"))
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        let jobs = jobs
            .iter()
            .map(|row| job_from_row(row).map(Recurrence::Job));
        let workflows = workflows
            .iter()
            .map(|row| workflow_from_row(row).map(Recurrence::Workflow));
        jobs.chain(workflows).collect()
    }

    async fn advance_recurrence(
        &self,
        source: RecurrenceSource,
        next: Option<EnqueueBatch<'_>>,
    ) -> Result<bool> {
        let (query, id, next_id) = match source {
            RecurrenceSource::Job(id) => (
                include_str!("../queries/advance_job_recurrence.sql"),
                id.0,
                next.as_ref().and_then(|b| b.jobs.first()).map(|j| j.id.0),
            ),
            RecurrenceSource::Workflow(id) => (
                include_str!("../queries/advance_workflow_recurrence.sql"),
                id.0,
                next.as_ref().and_then(|b| b.workflow).map(|w| w.id.0),
            ),
        };
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let marked = sqlx::query(query)
            .bind(id)
            .bind(next_id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
        if marked == 0 {
            return Ok(false);
        }
        if let Some(batch) = next {
            self.write_batch(&mut tx, batch).await?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(true)
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
