//! [`Driver`] on MySQL / MariaDB: claims, heartbeats, reads, in-process
//! wakeups, and the two one-statement shortcuts (independent jobs enqueued,
//! outcomes of jobs nothing depends on settled).

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use hammerwork_api::driver::{claimed_job_from_row, Driver, FromRow, Param, SettleRecord};
use hammerwork_api::validate::distinct_queues;
use hammerwork_api::workflow::PlannedJob;
use hammerwork_api::{
    Capabilities, ClaimParams, Error, Job, JobId, JobStatus, Outcome, Result, Settlement,
    WakeupListener, WakeupScope,
};
use hammerwork_engine::LocalWakeups;
use sqlx::MySqlPool;

use crate::insert;
use crate::keyed::Keyed;
use crate::map_err::explain_insert_error;
use crate::map_err::map_err;
use crate::row::{at, bound, fetch};
use crate::tx::MySqlTx;

/// Begins a transaction that locks only the rows it reads: claims and rescues
/// walk a secondary index with `FOR UPDATE SKIP LOCKED`, and under the default
/// REPEATABLE READ they would also lock the gaps between index entries,
/// blocking concurrent enqueues. `SET TRANSACTION` applies to the next
/// transaction only, so the pool's connections keep their own setting.
pub(crate) const BEGIN_READ_COMMITTED: &str =
    "SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION";

/// settle_attempts_apply.sql for outcomes that need nothing else done: jobs
/// outside any workflow that nothing depends on (has_dependents is set under
/// the job's row lock, so the restriction is checked against the latest row).
const SETTLE_INDEPENDENT: &str = concat!(
    include_str!("../queries/settle_attempts_apply.sql"),
    "  AND j.has_dependents = 0 AND j.workflow_id IS NULL\n"
);

/// settle_completed.sql, by key.
static SETTLE_COMPLETED: Keyed = Keyed::new(include_str!("../queries/settle_completed.sql"));

/// claim_jobs_apply.sql, by key.
static CLAIM_JOBS_APPLY: Keyed = Keyed::new(include_str!("../queries/claim_jobs_apply.sql"));

/// The MySQL / MariaDB driver: a pool and this process's wakeup channel.
/// Cheap to clone; clones share both.
#[derive(Clone, Debug)]
pub struct MySqlDriver {
    pub(crate) pool: MySqlPool,
    pub(crate) wakeups: LocalWakeups,
}

impl MySqlDriver {
    pub(crate) fn new(pool: MySqlPool) -> Self {
        let wakeups = LocalWakeups::default();
        MySqlDriver { pool, wakeups }
    }
}

#[async_trait]
impl Driver for MySqlDriver {
    type Tx = MySqlTx<'static>;

    fn capabilities(&self) -> Capabilities {
        Capabilities::new(WakeupScope::Process)
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

    async fn begin(&self) -> Result<MySqlTx<'static>> {
        let tx = self.pool.begin_with(BEGIN_READ_COMMITTED).await;
        Ok(MySqlTx::new(
            tx.map_err(map_err)?,
            Some(self.wakeups.clone()),
        ))
    }

    async fn enqueue_independent(&self, jobs: &[Job], plans: &[PlannedJob]) -> Result<bool> {
        if jobs.len() > insert::MAX_ROWS {
            return Ok(false);
        }
        let rows = insert::rows(jobs, plans)?;
        let [chunk] = &insert::chunks(&rows)[..] else {
            return Ok(false);
        };
        // One statement is atomic on its own: no BEGIN/COMMIT round trips.
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        let query = insert::query(&rows[chunk.clone()], Utc::now());
        if let Err(err) = query.execute(&mut *conn).await {
            return Err(explain_insert_error(&mut conn, jobs, err).await);
        }
        self.wakeups.wake(distinct_queues(jobs));
        Ok(true)
    }

    async fn settle_independent(
        &self,
        settlements: &[Settlement],
        now: DateTime<Utc>,
    ) -> Result<u64> {
        // Completions without a result (the common outcome) by key; the
        // others as records.
        let (plain, others): (Vec<&Settlement>, Vec<&Settlement>) = settlements
            .iter()
            .partition(|s| matches!(s.outcome, Outcome::Completed { result: None }));
        let records = (!others.is_empty())
            .then(|| SettleRecord::encode(others))
            .transpose()?;
        // One statement per claim number (nearly always one: the first).
        let mut by_claim: BTreeMap<i64, Vec<JobId>> = BTreeMap::new();
        for s in plain {
            by_claim.entry(s.lease.claim).or_default().push(s.lease.id);
        }
        let mut statements = Vec::new();
        for (claim, ids) in &by_claim {
            statements.extend(SETTLE_COMPLETED.over(ids, |q| q.bind(at(now)).bind(claim)));
        }
        if let Some(records) = &records {
            statements.push(
                sqlx::query(SETTLE_INDEPENDENT)
                    .bind(records.as_str())
                    .bind(at(now)),
            );
        }
        let mut applied = 0;
        for query in statements {
            match query.execute(&self.pool).await {
                Ok(done) => applied += done.rows_affected(),
                // What was applied stays counted: the engine settles the
                // rest in a transaction (and meets the error there).
                Err(err) if applied > 0 => {
                    tracing::warn!(error = %err, applied, "settling by key stopped part way; the rest go through a transaction");
                    return Ok(applied);
                }
                Err(err) => return Err(map_err(err)),
            }
        }
        Ok(applied)
    }

    async fn database_time(&self) -> Result<DateTime<Utc>> {
        // DATETIME, not TIMESTAMP: no session time zone applies.
        let query = sqlx::query_scalar("SELECT UTC_TIMESTAMP(6)");
        let time: chrono::NaiveDateTime = query.fetch_one(&self.pool).await.map_err(map_err)?;
        Ok(time.and_utc())
    }

    async fn claim_jobs(&self, p: &ClaimParams) -> Result<Vec<Job>> {
        let begin = self.pool.begin_with(BEGIN_READ_COMMITTED);
        let mut tx = begin.await.map_err(map_err)?;
        let queue = p.queue.as_bytes();
        let query = sql!("claim_jobs", queue, at(p.now), queue, p.limit);
        let mut jobs = fetch(&mut *tx, query, claimed_job_from_row).await?;
        if !jobs.is_empty() {
            let ids: Vec<JobId> = jobs.iter().map(|job| job.id).collect();
            let mut marked = 0;
            for query in CLAIM_JOBS_APPLY.over(&ids, |q| q.bind(at(p.now)).bind(at(p.lease_until)))
            {
                marked += query
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?
                    .rows_affected();
            }
            if marked != jobs.len() as u64 {
                // Cannot happen while the rows are locked; never hand out a
                // job that is not marked running.
                return Err(Error::backend(format!(
                    "claim locked {} jobs but marked {} running",
                    jobs.len(),
                    marked
                )));
            }
        }
        tx.commit().await.map_err(map_err)?;
        // The rows are as read plus the update above, which is exactly this
        // (sqlx sends timestamps truncated to the microsecond).
        for job in &mut jobs {
            job.status = JobStatus::Running;
            job.attempts += 1;
            job.claims += 1;
            job.started_at = Some(p.now.trunc_subsecs(6));
            job.lease_expires_at = Some(p.lease_until.trunc_subsecs(6));
        }
        Ok(jobs)
    }

    async fn try_lead(&self, role: &str, holder: &str, ttl: std::time::Duration) -> Result<bool> {
        let micros = i64::try_from(ttl.as_micros()).unwrap_or(i64::MAX);
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let upsert = bound("try_lead", &[role.into(), holder.into(), micros.into()])?;
        upsert.execute(&mut *tx).await.map_err(map_err)?;
        let leader: String =
            sqlx::query_scalar("SELECT holder FROM hammerwork_leaders WHERE role = ?")
                .bind(role)
                .fetch_one(&mut *tx)
                .await
                .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(leader == holder)
    }

    async fn resign(&self, role: &str, holder: &str) -> Result<()> {
        let query = sql!("resign", role, holder);
        query.execute(&self.pool).await.map_err(map_err)?;
        Ok(())
    }

    async fn listen(&self) -> Result<Option<Box<dyn WakeupListener>>> {
        Ok(Some(self.wakeups.listen()))
    }
}
