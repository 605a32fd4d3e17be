//! [`Driver`] on PostgreSQL: claims, heartbeats, reads, LISTEN, and the
//! one-statement enqueue and settle of independent jobs.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hammerwork_api::driver::{
    claimed_job_from_row, job_from_row, queue_count_from_row, sort_claimed,
    spawn_operation_from_row, spawn_stats_from_row, workflow_from_row, Driver, StoredRow,
};
use hammerwork_api::spawn::{SpawnOperation, SpawnQuery, SpawnStats};
use hammerwork_api::workflow::{PlannedJob, Workflow};
use hammerwork_api::{
    Capabilities, ClaimParams, DependencyStatus, Error, Job, JobId, JobPriority, JobStatus, Lease,
    ListJobsParams, ListWorkflowsParams, QueueCounts, Result, Settlement, WakeupListener,
    WakeupScope, WorkflowId,
};
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::{PgPool, Postgres};
use uuid::Uuid;

use crate::listen::Listen;
use crate::map_err::explain_insert_error;
use crate::map_err::map_err;
use crate::row::{all, bind_jobs, uuids, ENQUEUE_CHUNK};
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
    /// Dead row versions of the jobs table right after this driver's last
    /// vacuum of it.
    dead_after_vacuum: Arc<AtomicI64>,
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
            dead_after_vacuum: Arc::default(),
        })
    }
}

/// reclaim_space.sql's row.
struct VacuumStats {
    dead: i64,
    live: i64,
    allowed: bool,
    running: bool,
    recent: bool,
}

impl PgDriver {
    /// The jobs table's vacuum statistics (`None` before it has any).
    async fn vacuum_stats(&self) -> Result<Option<VacuumStats>> {
        let rows = self.fetch(sql!("reclaim_space"), |row| {
            let int = |column| -> Result<i64> { Ok(row.int(column)?.unwrap_or(0)) };
            Ok(VacuumStats {
                dead: int("dead")?,
                live: int("live")?,
                allowed: int("allowed")? != 0,
                running: int("running")? != 0,
                recent: int("recent")? != 0,
            })
        });
        Ok(rows.await?.pop())
    }

    /// Every row of `query` on the pool, mapped with `from_row`.
    async fn fetch<T>(
        &self,
        query: Query<'_, Postgres, PgArguments>,
        from_row: impl Fn(&dyn StoredRow) -> Result<T>,
    ) -> Result<Vec<T>> {
        all(
            &query.fetch_all(&self.pool).await.map_err(map_err)?,
            from_row,
        )
    }
}

#[async_trait]
impl Driver for PgDriver {
    type Tx = PgTx<'static>;

    fn capabilities(&self) -> Capabilities {
        Capabilities::new(WakeupScope::Cluster)
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
        let query = SettleColumns::of(settlements).bind(sqlx::query(SETTLE_INDEPENDENT), now);
        let done = query.execute(&self.pool).await.map_err(map_err)?;
        Ok(done.rows_affected())
    }

    async fn database_time(&self) -> Result<DateTime<Utc>> {
        let query = sqlx::query_scalar("SELECT clock_timestamp()");
        query.fetch_one(&self.pool).await.map_err(map_err)
    }

    async fn claim_jobs(&self, p: &ClaimParams) -> Result<Vec<Job>> {
        let limit = i64::from(p.limit);
        let query = sql!("claim_jobs", &p.queue, p.now, limit, p.lease_until);
        let mut jobs = self.fetch(query, claimed_job_from_row).await?;
        sort_claimed(&mut jobs);
        Ok(jobs)
    }

    async fn heartbeat_jobs(&self, leases: &[Lease], lease_until: DateTime<Utc>) -> Result<u64> {
        let ids: Vec<Uuid> = leases.iter().map(|l| l.id.0).collect();
        let claims: Vec<i64> = leases.iter().map(|l| l.claim).collect();
        let query = sql!("heartbeat_jobs", ids, claims, lease_until);
        let done = query.execute(&self.pool).await.map_err(map_err)?;
        Ok(done.rows_affected())
    }

    async fn next_due(&self, queue: &str, after: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
        let priorities: Vec<i16> = JobPriority::ALL.iter().map(|p| p.as_i16()).collect();
        let query = sql!("next_due", queue, after, priorities);
        let due = self.fetch(query, |row| row.time("due")).await?;
        Ok(due.into_iter().next().flatten())
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

    async fn reclaim_space(&self) -> Result<bool> {
        let Some(stats) = self.vacuum_stats().await? else {
            return Ok(false);
        };
        // Dead versions a vacuum could not remove (an old snapshot holds
        // them) count again only once as many more have piled up.
        // Fewer than that: someone else vacuumed since, from there on.
        let baseline = self
            .dead_after_vacuum
            .fetch_min(stats.dead, Ordering::Relaxed);
        let piled_up = stats.dead - baseline.min(stats.dead);
        if !stats.allowed || stats.running || stats.recent || piled_up < 50_000 + stats.live / 10 {
            return Ok(false);
        }
        // SKIP_LOCKED: when autovacuum (or another leader) holds the table,
        // leave it to them rather than wait or cancel it.
        let vacuum = sqlx::raw_sql("VACUUM (SKIP_LOCKED) hammerwork_jobs");
        vacuum.execute(&self.pool).await.map_err(map_err)?;
        let left = self.vacuum_stats().await?.map_or(0, |after| after.dead);
        self.dead_after_vacuum.store(left, Ordering::Relaxed);
        Ok(true)
    }

    async fn listen(&self) -> Result<Option<Box<dyn WakeupListener>>> {
        self.listen.subscribe().await.map(Some)
    }

    async fn list_queues(&self) -> Result<Vec<String>> {
        let queues = self.fetch(sql!("list_queues"), |row| row.text("queue_name"));
        Ok(queues.await?.into_iter().flatten().collect())
    }

    async fn paused_queues(&self) -> Result<Vec<String>> {
        let queues = self.fetch(sql!("paused_queues"), |row| row.text("name"));
        Ok(queues.await?.into_iter().flatten().collect())
    }

    async fn get_jobs(&self, ids: &[JobId]) -> Result<Vec<Job>> {
        self.fetch(sql!("get_jobs", uuids(ids)), job_from_row).await
    }

    async fn list_jobs(&self, p: &ListJobsParams) -> Result<Vec<Job>> {
        let (status, limit) = (p.status.map(JobStatus::as_str), p.limit.unwrap_or(100));
        let (after, workflow) = (p.after.map(|id| id.0), p.workflow.map(|w| w.0));
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
        let found = self.fetch(sql!("get_workflow", id.0), workflow_from_row);
        Ok(found.await?.pop())
    }

    async fn list_workflows(&self, p: &ListWorkflowsParams) -> Result<Vec<Workflow>> {
        let limit = i64::from(p.limit.unwrap_or(100));
        let query = sql!("list_workflows", p.after.map(|w| w.0), limit);
        self.fetch(query, workflow_from_row).await
    }

    async fn list_recurring_jobs(&self, after: Option<JobId>, limit: u32) -> Result<Vec<Job>> {
        let query = sql!(
            "list_recurrences_jobs",
            i64::from(limit),
            after.map(|id| id.0)
        );
        self.fetch(query, job_from_row).await
    }

    async fn list_recurring_workflows(
        &self,
        after: Option<WorkflowId>,
        limit: u32,
    ) -> Result<Vec<Workflow>> {
        let after = after.map(|id| id.0);
        let query = sql!("list_recurrences_workflows", i64::from(limit), after);
        self.fetch(query, workflow_from_row).await
    }

    async fn get_spawn_operation(&self, id: &str) -> Result<Option<SpawnOperation>> {
        let found = self.fetch(sql!("get_spawn_operation", id), spawn_operation_from_row);
        Ok(found.await?.pop())
    }

    async fn list_spawn_operations(&self, q: &SpawnQuery) -> Result<Vec<SpawnOperation>> {
        let limit = i64::from(q.limit.unwrap_or(100));
        let query = sql!(
            "list_spawn_operations",
            q.queue.as_deref(),
            q.since,
            q.until,
            limit
        );
        self.fetch(query, spawn_operation_from_row).await
    }

    async fn spawn_stats(&self, q: &SpawnQuery) -> Result<SpawnStats> {
        let query = sql!("spawn_stats", q.queue.as_deref(), q.since, q.until);
        Ok(self
            .fetch(query, spawn_stats_from_row)
            .await?
            .pop()
            .unwrap_or_default())
    }

    async fn get_descendants(&self, id: JobId, max_depth: u32) -> Result<Vec<Job>> {
        let depth = max_depth.min(i32::MAX as u32) as i32;
        self.fetch(sql!("get_descendants", id.0, depth), job_from_row)
            .await
    }

    async fn get_ancestors(&self, id: JobId) -> Result<Vec<Job>> {
        self.fetch(sql!("get_ancestors", id.0), job_from_row).await
    }

    async fn get_dependencies(&self, id: JobId) -> Result<Vec<Job>> {
        self.fetch(sql!("get_dependencies", id.0), job_from_row)
            .await
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
