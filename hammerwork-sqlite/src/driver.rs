//! [`Driver`] on SQLite: claims, heartbeats, reads, in-process wakeups, and
//! the one-statement enqueue of independent jobs.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hammerwork_api::driver::{
    claimed_job_from_row, job_from_row, json_array, micros, queue_count_from_row, sort_claimed,
    spawn_operation_from_row, spawn_stats_from_row, workflow_from_row, Driver, JobRecord,
    StoredRow,
};
use hammerwork_api::spawn::{SpawnOperation, SpawnQuery, SpawnStats};
use hammerwork_api::validate::distinct_queues;
use hammerwork_api::workflow::{PlannedJob, Workflow};
use hammerwork_api::{
    Capabilities, ClaimParams, DependencyStatus, Error, Job, JobId, JobPriority, JobStatus, Lease,
    ListJobsParams, ListWorkflowsParams, QueueCounts, Result, WakeupListener, WakeupScope,
    WorkflowId,
};
use hammerwork_engine::LocalWakeups;
use serde_json::json;
use sqlx::query::Query;
use sqlx::sqlite::SqliteArguments;
use sqlx::{Sqlite, SqlitePool};

use crate::map_err::explain_insert_error;
use crate::map_err::map_err;
use crate::row::{all, id_list, ENQUEUE_CHUNK};
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

    /// Every row of `query` on the pool, mapped with `from_row`.
    async fn fetch<'q, T>(
        &self,
        query: Query<'q, Sqlite, SqliteArguments<'q>>,
        from_row: impl Fn(&dyn StoredRow) -> Result<T>,
    ) -> Result<Vec<T>> {
        all(
            &query.fetch_all(&self.pool).await.map_err(map_err)?,
            from_row,
        )
    }
}

#[async_trait]
impl Driver for SqliteDriver {
    type Tx = SqliteTx<'static>;

    fn capabilities(&self) -> Capabilities {
        Capabilities::new(WakeupScope::Process)
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

    async fn claim_jobs(&self, p: &ClaimParams) -> Result<Vec<Job>> {
        let (now, until) = (micros(p.now), micros(p.lease_until));
        let query = sql!("claim_jobs", &p.queue, now, i64::from(p.limit), until);
        let mut jobs = self.fetch(query, claimed_job_from_row).await?;
        sort_claimed(&mut jobs);
        Ok(jobs)
    }

    async fn heartbeat_jobs(&self, leases: &[Lease], lease_until: DateTime<Utc>) -> Result<u64> {
        let leases: Vec<_> = leases
            .iter()
            .map(|l| json!({"id": l.id, "claim": l.claim}))
            .collect();
        let query = sql!("heartbeat_jobs", json_array(&leases)?, micros(lease_until));
        let done = query.execute(&self.pool).await.map_err(map_err)?;
        Ok(done.rows_affected())
    }

    async fn next_due(&self, queue: &str, after: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
        let priorities: Vec<i16> = JobPriority::ALL.iter().map(|p| p.as_i16()).collect();
        let priorities = serde_json::to_string(&priorities).map_err(Error::backend)?;
        let query = sql!("next_due", queue, micros(after), priorities);
        let due = self.fetch(query, |row| row.time("due")).await?;
        Ok(due.into_iter().next().flatten())
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

    async fn get_jobs(&self, ids: &[JobId]) -> Result<Vec<Job>> {
        self.fetch(sql!("get_jobs", id_list(ids)), job_from_row)
            .await
    }

    async fn list_jobs(&self, p: &ListJobsParams) -> Result<Vec<Job>> {
        let (status, limit) = (p.status.map(JobStatus::as_str), p.limit.unwrap_or(100));
        let after = p.after.map(|id| id.to_string());
        let workflow = p.workflow.map(|w| w.to_string());
        let query = sql!(
            "list_jobs",
            p.queue.as_deref(),
            status,
            after,
            i64::from(limit),
            workflow
        )
        .bind(p.dependency_status.map(DependencyStatus::as_str));
        self.fetch(query, job_from_row).await
    }

    async fn queue_counts(&self, queue: &str) -> Result<QueueCounts> {
        let counts = self.fetch(sql!("queue_counts", queue), queue_count_from_row);
        Ok(counts.await?.into_iter().collect())
    }

    async fn get_workflow(&self, id: WorkflowId) -> Result<Option<Workflow>> {
        let found = self.fetch(sql!("get_workflow", id.to_string()), workflow_from_row);
        Ok(found.await?.pop())
    }

    async fn list_workflows(&self, p: &ListWorkflowsParams) -> Result<Vec<Workflow>> {
        let limit = i64::from(p.limit.unwrap_or(100));
        let query = sql!("list_workflows", p.after.map(|w| w.to_string()), limit);
        self.fetch(query, workflow_from_row).await
    }

    async fn list_queues(&self) -> Result<Vec<String>> {
        let queues = self.fetch(sql!("list_queues"), |row| row.text("queue_name"));
        Ok(queues.await?.into_iter().flatten().collect())
    }

    async fn paused_queues(&self) -> Result<Vec<String>> {
        let queues = self.fetch(sql!("paused_queues"), |row| row.text("name"));
        Ok(queues.await?.into_iter().flatten().collect())
    }

    async fn list_recurring_jobs(&self, after: Option<JobId>, limit: u32) -> Result<Vec<Job>> {
        let after = after.map(|id| id.to_string());
        let query = sql!("list_recurrences_jobs", i64::from(limit), after);
        self.fetch(query, job_from_row).await
    }

    async fn list_recurring_workflows(
        &self,
        after: Option<WorkflowId>,
        limit: u32,
    ) -> Result<Vec<Workflow>> {
        let after = after.map(|id| id.to_string());
        let query = sql!("list_recurrences_workflows", i64::from(limit), after);
        self.fetch(query, workflow_from_row).await
    }

    async fn get_spawn_operation(&self, id: &str) -> Result<Option<SpawnOperation>> {
        let found = self.fetch(sql!("get_spawn_operation", id), spawn_operation_from_row);
        Ok(found.await?.pop())
    }

    async fn list_spawn_operations(&self, q: &SpawnQuery) -> Result<Vec<SpawnOperation>> {
        let (since, until) = (q.since.map(micros), q.until.map(micros));
        let limit = i64::from(q.limit.unwrap_or(100));
        let query = sql!(
            "list_spawn_operations",
            q.queue.as_deref(),
            since,
            until,
            limit
        );
        self.fetch(query, spawn_operation_from_row).await
    }

    async fn spawn_stats(&self, q: &SpawnQuery) -> Result<SpawnStats> {
        let (since, until) = (q.since.map(micros), q.until.map(micros));
        let query = sql!("spawn_stats", q.queue.as_deref(), since, until);
        Ok(self
            .fetch(query, spawn_stats_from_row)
            .await?
            .pop()
            .unwrap_or_default())
    }

    async fn get_descendants(&self, id: JobId, max_depth: u32) -> Result<Vec<Job>> {
        let query = sql!("get_descendants", id.to_string(), i64::from(max_depth));
        self.fetch(query, job_from_row).await
    }

    async fn get_ancestors(&self, id: JobId) -> Result<Vec<Job>> {
        self.fetch(sql!("get_ancestors", id.to_string()), job_from_row)
            .await
    }

    async fn get_dependencies(&self, id: JobId) -> Result<Vec<Job>> {
        self.fetch(sql!("get_dependencies", id.to_string()), job_from_row)
            .await
    }
}
