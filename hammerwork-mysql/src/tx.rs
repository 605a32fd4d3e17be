//! [`Transaction`] on MySQL / MariaDB. MySQL has no `UPDATE ... RETURNING`,
//! so a primitive that must report the rows it changes goes through
//! [`rows_changed`](Transaction::rows_changed): it locks and reads them first
//! (`queries/<primitive>.sql`, as the change will leave them), then changes
//! exactly those (`<primitive>_apply.sql`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hammerwork_api::driver::{
    job_id_from_row, transition_from_row, FromRow, Param, StoredRow, Transaction, Transition,
};
use hammerwork_api::spawn::SpawnOperation;
use hammerwork_api::workflow::PlannedJob;
use hammerwork_api::{Job, JobId, JobStatus, Result, WorkflowId};
use serde_json::Value;
use sqlx::mysql::MySqlArguments;
use sqlx::query::Query;
use sqlx::{MySql, Row};

use hammerwork_engine::LocalWakeups;

use crate::insert;
use crate::keyed::Keyed;
use crate::map_err::{error_number, explain_insert_error, map_err, ER_DUP_ENTRY};
use crate::row::{at, bound, bound_parts, fetch, hex_ids, text, Stored};

/// rescue_expired_jobs.sql, by key.
static RESCUE_EXPIRED_JOBS: Keyed = Keyed::new(include_str!("../queries/rescue_expired_jobs.sql"));

/// A transaction of [`MySqlDriver`] (READ COMMITTED), or a savepoint in the
/// caller's own transaction. Wakeups go out after commit, to this process's
/// listeners.
pub struct MySqlTx<'c> {
    tx: sqlx::Transaction<'c, MySql>,
    /// `None` inside the caller's transaction: its commit is not ours to see.
    wakeups: Option<LocalWakeups>,
    wake: Vec<String>,
}

fn transition(row: &dyn StoredRow) -> Result<Transition> {
    transition_from_row(row, true)
}

impl<'c> MySqlTx<'c> {
    pub(crate) fn new(tx: sqlx::Transaction<'c, MySql>, wakeups: Option<LocalWakeups>) -> Self {
        let wake = Vec::new();
        MySqlTx { tx, wakeups, wake }
    }

    /// Runs `query`; how many rows it changed.
    async fn execute<'q>(&mut self, query: Query<'q, MySql, MySqlArguments>) -> Result<u64> {
        let done = query.execute(&mut *self.tx).await.map_err(map_err)?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl Transaction for MySqlTx<'_> {
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

    /// `name` as a locking read of the rows as the change leaves them (or
    /// several, one after the other: parts of the statement), then
    /// `<name>_apply` with the same parameters and, after them, a JSON array
    /// of the rows' `to_apply` column (where the reads have one), part by part.
    async fn rows_changed<T: Send + 'static>(
        &mut self,
        name: &'static str,
        params: &[Param<'_>],
        from_row: FromRow<T>,
    ) -> Result<Vec<T>> {
        let mut rows = Vec::new();
        for part in bound_parts(name, params)? {
            rows.extend(part.fetch_all(&mut *self.tx).await.map_err(map_err)?);
        }
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        // A read without the column (a part that only counts) passes
        // nothing; a value that cannot be read is an error, never skipped.
        let mut to_apply = Vec::new();
        for row in rows.iter().filter(|row| row.try_column("to_apply").is_ok()) {
            to_apply.extend(text(row, "to_apply")?);
        }
        let to_apply = format!("[{}]", to_apply.join(","));
        let mut params = params.to_vec();
        params.push(to_apply.as_str().into());
        for part in bound_parts(&format!("{name}_apply"), &params)? {
            self.execute(part).await?;
        }
        hammerwork_api::driver::decode_rows(&rows, |row| from_row(&Stored::new(row)))
    }

    async fn wake(&mut self, queues: &[String]) -> Result<()> {
        self.wake.extend_from_slice(queues);
        Ok(())
    }

    async fn run_script(&mut self, sql: &str) -> Result<()> {
        let conn: &mut sqlx::MySqlConnection = &mut self.tx;
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
        let rows = insert::rows(jobs, plans)?;
        for chunk in insert::chunks(&rows) {
            let query = insert::query(&rows[chunk.clone()], now);
            if let Err(err) = query.execute(&mut *self.tx).await {
                // Earlier chunks of the batch are in: look for the id in this one.
                return Err(explain_insert_error(&mut self.tx, &jobs[chunk], err).await);
            }
        }
        Ok(())
    }

    async fn rescue_expired_jobs(
        &mut self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Transition>> {
        let candidates = sql!("rescue_candidates", at(now), limit);
        let candidates = fetch(&mut *self.tx, candidates, |row| job_id_from_row(row, "id")).await?;
        let mut expired = Vec::new();
        for query in RESCUE_EXPIRED_JOBS.over(&candidates, |q| q.bind(at(now))) {
            expired.extend(fetch(&mut *self.tx, query, transition).await?);
        }
        if !expired.is_empty() {
            let ids = hex_ids(expired.iter().map(|t| &t.id));
            let query = sql!("rescue_expired_jobs_apply", ids, at(now), at(now));
            self.execute(query).await?;
        }
        Ok(expired)
    }

    async fn end_dependents(
        &mut self,
        parents: &[JobId],
        status: JobStatus,
        why: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Transition>> {
        // Walk the edges without waiting for locks, then lock what is still
        // unstarted (in id order) and end exactly that.
        let walk = sql!("end_dependents_walk", hex_ids(parents));
        let down = fetch(&mut *self.tx, walk, |row| job_id_from_row(row, "id")).await?;
        if down.is_empty() {
            return Ok(Vec::new());
        }
        let ending = fetch(
            &mut *self.tx,
            sql!("end_dependents_lock", hex_ids(&down)),
            |row| {
                let id = job_id_from_row(row, "id")?;
                Ok(Transition::new(
                    id,
                    row.uuid("workflow_id")?.map(WorkflowId),
                    status,
                ))
            },
        )
        .await?;
        if !ending.is_empty() {
            let ids = hex_ids(ending.iter().map(|t| &t.id));
            let query = sql!("end_dependents", ids, status.as_str(), why, at(now));
            self.execute(query).await?;
        }
        Ok(ending)
    }

    async fn insert_spawn_operation(&mut self, op: &SpawnOperation) -> Result<bool> {
        let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let metadata = op.metadata.as_ref().map(Value::to_string);
        let query = sql!(
            "insert_spawn_operation",
            op.id.as_bytes(),
            op.parent_job_id.0
        )
        .bind(op.queue_name.as_bytes())
        .bind(&op.handler)
        .bind(count(op.child_count))
        .bind(count(op.batch_count))
        .bind(metadata)
        .bind(at(op.created_at))
        .bind(op.await_children);
        match query.execute(&mut *self.tx).await {
            Ok(_) => Ok(true),
            Err(err) if error_number(&err) == Some(ER_DUP_ENTRY) => Ok(false),
            Err(err) => Err(map_err(err)),
        }
    }
}
