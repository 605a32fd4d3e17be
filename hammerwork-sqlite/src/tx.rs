//! [`Transaction`] on SQLite: each primitive is the statement of
//! `queries/<primitive>.sql`, under the write lock `BEGIN IMMEDIATE` took
//! (SQLite admits one writer, so nothing a transaction read can change
//! before it ends).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hammerwork_api::driver::{
    job_id_from_row, micros, reset_job_from_row, transition_from_row, FromRow, JobRecord, Param,
    ResetJob, SettleRecord, StoredRow, Transaction, Transition,
};
use hammerwork_api::retention::Pruned;
use hammerwork_api::workflow::PlannedJob;
use hammerwork_api::{Job, JobId, Outcome, Result, Settlement, WorkflowId};
use sqlx::query::Query;
use sqlx::sqlite::SqliteArguments;
use sqlx::Sqlite;

use hammerwork_engine::LocalWakeups;

use crate::map_err::{explain_insert_error, map_err};
use crate::row::{bound, fetch, id_list, ENQUEUE_CHUNK};

/// A transaction of [`SqliteDriver`], or a savepoint in the caller's own
/// transaction. Wakeups go out after commit, to this process's listeners.
pub struct SqliteTx<'c> {
    tx: sqlx::Transaction<'c, Sqlite>,
    /// `None` inside the caller's transaction: its commit is not ours to see.
    wakeups: Option<LocalWakeups>,
    wake: Vec<String>,
}

fn transition(row: &dyn StoredRow) -> Result<Transition> {
    transition_from_row(row, false)
}

impl<'c> SqliteTx<'c> {
    pub(crate) fn new(tx: sqlx::Transaction<'c, Sqlite>, wakeups: Option<LocalWakeups>) -> Self {
        let wake = Vec::new();
        SqliteTx { tx, wakeups, wake }
    }

    /// Runs `query`; how many rows it changed.
    async fn execute<'q>(&mut self, query: Query<'q, Sqlite, SqliteArguments<'q>>) -> Result<u64> {
        let done = query.execute(&mut *self.tx).await.map_err(map_err)?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl Transaction for SqliteTx<'_> {
    async fn commit(self) -> Result<()> {
        self.tx.commit().await.map_err(map_err)?;
        if let Some(wakeups) = self.wakeups {
            wakeups.wake(self.wake);
        }
        Ok(())
    }

    async fn rollback(self) -> Result<()> {
        self.tx.rollback().await.map_err(map_err)
    }

    async fn rows<T: Send + 'static>(
        &mut self,
        name: &'static str,
        params: &[Param<'_>],
        from_row: FromRow<T>,
    ) -> Result<Vec<T>> {
        fetch(&mut *self.tx, bound(name, params)?, from_row).await
    }

    async fn run(&mut self, name: &'static str, params: &[Param<'_>]) -> Result<u64> {
        self.execute(bound(name, params)?).await
    }

    async fn wake(&mut self, queues: &[String]) -> Result<()> {
        self.wake.extend_from_slice(queues);
        Ok(())
    }

    async fn run_script(&mut self, sql: &str) -> Result<()> {
        let conn: &mut sqlx::SqliteConnection = &mut self.tx;
        sqlx::Executor::execute(conn, sqlx::raw_sql(sql))
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn insert_jobs(
        &mut self,
        jobs: &[Job],
        plans: &[PlannedJob],
        now: DateTime<Utc>,
    ) -> Result<()> {
        for (chunk, plan_chunk) in jobs.chunks(ENQUEUE_CHUNK).zip(plans.chunks(ENQUEUE_CHUNK)) {
            let query = sql!(
                "insert_jobs",
                JobRecord::encode(chunk, plan_chunk)?,
                micros(now)
            );
            if let Err(err) = query.execute(&mut *self.tx).await {
                return Err(explain_insert_error(&mut self.tx, chunk, err).await);
            }
        }
        Ok(())
    }

    async fn settle_attempts(
        &mut self,
        settlements: &[Settlement],
        now: DateTime<Utc>,
    ) -> Result<Vec<Transition>> {
        let outcomes = SettleRecord::encode(settlements)?;
        let completed = |s: &Settlement| matches!(s.outcome, Outcome::Completed { .. });
        let query = if settlements.iter().all(completed) {
            sql!("settle_attempts_completed", outcomes, micros(now))
        } else {
            sql!("settle_attempts", outcomes, micros(now))
        };
        fetch(&mut *self.tx, query, transition).await
    }

    async fn reset_job(&mut self, id: JobId, now: DateTime<Utc>) -> Result<Option<ResetJob>> {
        let found = fetch(
            &mut *self.tx,
            sql!("reset_job", id.to_string()),
            reset_job_from_row,
        );
        let Some(job) = found.await?.pop() else {
            return Ok(None);
        };
        let ids = id_list(&[job.id]);
        self.execute(sql!("reset_workflow_jobs", ids, micros(now)))
            .await?;
        Ok(Some(job))
    }

    async fn delete_jobs(&mut self, ids: &[JobId]) -> Result<Pruned> {
        let ids = id_list(ids);
        let spawn_operations = self.execute(sql!("delete_jobs_operations", &ids)).await?;
        let jobs = self.execute(sql!("delete_jobs", &ids)).await?;
        self.execute(sql!("delete_jobs_edges", &ids)).await?;
        Ok(Pruned {
            jobs,
            workflows: 0,
            spawn_operations,
        })
    }

    async fn delete_workflows(&mut self, ids: &[WorkflowId]) -> Result<Pruned> {
        let workflows = id_list(ids);
        let jobs = fetch(
            &mut *self.tx,
            sql!("delete_workflows_jobs", &workflows),
            |row| job_id_from_row(row, "id"),
        );
        let jobs = id_list(&jobs.await?);
        // Their edges first, either way: then no stored job depends on them
        // and the statements of delete_jobs take them all.
        self.execute(sql!("delete_workflow_edges", &jobs)).await?;
        let spawn_operations = self.execute(sql!("delete_jobs_operations", &jobs)).await?;
        let jobs = self.execute(sql!("delete_jobs", &jobs)).await?;
        let workflows = self.execute(sql!("delete_workflows", &workflows)).await?;
        Ok(Pruned {
            jobs,
            workflows,
            spawn_operations,
        })
    }

    async fn reset_workflow_jobs(
        &mut self,
        id: WorkflowId,
        now: DateTime<Utc>,
    ) -> Result<Vec<ResetJob>> {
        let targets = sql!("reset_workflow_jobs_targets", id.to_string());
        let reset = fetch(&mut *self.tx, targets, reset_job_from_row).await?;
        let ids: Vec<JobId> = reset.iter().map(|job| job.id).collect();
        self.execute(sql!("reset_workflow_jobs", id_list(&ids), micros(now)))
            .await?;
        Ok(reset)
    }

    async fn graft_children(&mut self, parent: JobId, children: &[JobId]) -> Result<Vec<JobId>> {
        let (parent, children) = (parent.to_string(), id_list(children));
        self.execute(sql!("graft_children_edges", &parent, &children))
            .await?;
        let query = sql!("graft_children", &parent, &children);
        let mut held = fetch(&mut *self.tx, query, |row| job_id_from_row(row, "id")).await?;
        held.sort_unstable();
        Ok(held)
    }
}
