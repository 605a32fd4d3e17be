//! How PostgreSQL returns each kind of column (the mapping to domain types
//! is `hammerwork_api::driver::*_from_row`), and how a batch is bound as
//! column arrays.

use chrono::{DateTime, Utc};
use hammerwork_api::driver::{millis, ColumnCursor, Param, StoredRow};
use hammerwork_api::workflow::PlannedJob;
use hammerwork_api::{Error, Job, JobId, Result};
use serde_json::Value;
use sqlx::postgres::{PgArguments, PgColumn, PgRow};
use sqlx::query::Query;
use sqlx::{Column, Postgres, Row, TypeInfo};
use uuid::Uuid;

use crate::map_err::map_err;

/// A PostgreSQL row, read as [`StoredRow`].
pub(crate) struct Stored<'r> {
    row: &'r PgRow,
    cursor: ColumnCursor,
}

impl<'r> Stored<'r> {
    pub(crate) fn new(row: &'r PgRow) -> Self {
        Self {
            row,
            cursor: ColumnCursor::default(),
        }
    }

    /// Column `name`.
    fn column(&self, name: &str) -> Result<&'r PgColumn> {
        let columns = self.row.columns();
        let at = self.cursor.find(
            name,
            |i| columns.get(i).map(|c| c.name()),
            || self.row.try_column(name).map(|c| c.ordinal()),
        );
        Ok(&columns[at.map_err(Error::backend)?])
    }

    /// Column `name` as `T`.
    fn get<T>(&self, name: &str) -> Result<T>
    where
        T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
    {
        self.read(self.column(name)?, name)
    }

    /// `column` (named `name`) as `T`.
    fn read<T>(&self, column: &PgColumn, name: &str) -> Result<T>
    where
        T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
    {
        let value = self.row.try_get(column.ordinal());
        value.map_err(|e| Error::backend(format!("column {name}: {e}")))
    }
}

impl StoredRow for Stored<'_> {
    fn text(&self, column: &str) -> Result<Option<String>> {
        self.get(column)
    }

    fn int(&self, column: &str) -> Result<Option<i64>> {
        let name = column;
        let column = self.column(name)?;
        Ok(match column.type_info().name() {
            "INT2" => self.read::<Option<i16>>(column, name)?.map(i64::from),
            "INT4" => self.read::<Option<i32>>(column, name)?.map(i64::from),
            "BOOL" => self.read::<Option<bool>>(column, name)?.map(i64::from),
            _ => self.read(column, name)?,
        })
    }

    fn uuid(&self, column: &str) -> Result<Option<Uuid>> {
        self.get(column)
    }

    fn json(&self, column: &str) -> Result<Option<Value>> {
        self.get(column)
    }

    fn time(&self, column: &str) -> Result<Option<DateTime<Utc>>> {
        self.get(column)
    }
}

/// Every row of `query` on `executor` (the pool or a transaction), mapped
/// with `from_row`.
pub(crate) async fn fetch<'e, 'c: 'e, 'q: 'e, T>(
    executor: impl sqlx::PgExecutor<'c> + 'e,
    query: Query<'q, Postgres, PgArguments>,
    from_row: impl Fn(&dyn StoredRow) -> Result<T>,
) -> Result<Vec<T>> {
    let rows = query.fetch_all(executor).await.map_err(map_err)?;
    hammerwork_api::driver::decode_rows(&rows, |row| from_row(&Stored::new(row)))
}

/// Rows per `INSERT ... UNNEST` statement: large enough to amortise the round
/// trip, small enough to keep one message a few MiB.
pub(crate) const ENQUEUE_CHUNK: usize = 5_000;

pub(crate) fn uuids(ids: &[JobId]) -> Vec<Uuid> {
    ids.iter().map(|id| id.0).collect()
}

/// The columns of insert_jobs.sql ($1-$11, $13-$24) for `jobs` as `plans`
/// plan them, bound to `query` ($12, the clock, is the caller's).
pub(crate) fn bind_jobs<'q>(
    query: Query<'q, Postgres, PgArguments>,
    jobs: &'q [Job],
    plans: &'q [PlannedJob],
    now: DateTime<Utc>,
) -> Query<'q, Postgres, PgArguments> {
    let rows = Rows(jobs, plans);
    query
        .bind(rows.col(|j, _| j.id.0))
        .bind(rows.col(|j, _| j.queue_name.as_str()))
        .bind(rows.col(|j, _| &j.payload))
        .bind(rows.col(|j, _| j.priority.as_i16()))
        .bind(rows.col(|j, _| j.max_attempts))
        .bind(rows.col(|j, _| j.created_at))
        .bind(rows.col(|j, _| j.scheduled_at))
        .bind(rows.col(|j, _| j.timeout.map(millis)))
        .bind(rows.col(|j, _| j.retry_policy.as_ref().map(|p| serde_json::json!(p))))
        .bind(rows.col(|j, _| j.trace_id.as_deref()))
        .bind(rows.col(|j, _| j.correlation_id.as_deref()))
        .bind(now)
        .bind(rows.col(|j, _| serde_json::json!(j.depends_on)))
        .bind(rows.col(|_, p| p.dependency_status.as_str()))
        .bind(rows.col(|_, p| p.pending_dependencies))
        .bind(rows.col(|j, _| j.workflow_id.map(|w| w.0)))
        .bind(rows.col(|j, _| j.condition.as_deref()))
        .bind(rows.col(|_, p| p.error.as_deref()))
        .bind(rows.col(|_, p| p.status.as_str()))
        .bind(rows.col(|j, _| j.cron_schedule.as_deref()))
        .bind(rows.col(|j, _| j.parent_job_id.map(|p| p.0)))
        .bind(rows.col(|j, _| j.spawn_operation_id.as_deref()))
        .bind(rows.col(|j, _| j.spawn_depth.min(i32::MAX as u32) as i32))
        .bind(rows.col(|_, p| p.has_dependents))
}

/// The jobs of a batch with their plans, read column by column.
struct Rows<'q>(&'q [Job], &'q [PlannedJob]);

impl<'q> Rows<'q> {
    fn col<T>(&self, f: impl Fn(&'q Job, &'q PlannedJob) -> T) -> Vec<T> {
        self.0.iter().zip(self.1).map(|(j, p)| f(j, p)).collect()
    }
}

hammerwork_api::statements! {
    "applied_migrations", "awaited_children", "cancel_job", "cancel_workflow",
    "cancel_workflow_jobs", "claim_jobs", "delete_jobs", "delete_workflows", "dependents",
    "end_dependents", "ended_parents", "fail_expired_workflows", "get_ancestors",
    "get_dependencies", "get_descendants", "get_jobs", "get_spawn_operation", "get_workflow",
    "graft_children", "heartbeat_jobs", "insert_dependencies", "insert_spawn_operation",
    "insert_workflow", "list_jobs", "list_queues", "list_recurring_jobs",
    "list_recurring_workflows", "list_spawn_operations", "list_workflows", "lock_running_attempt",
    "lock_stored_parents_mark", "unflagged_parents",
    "mark_finished_workflows", "mark_job_recurrence", "mark_workflow_recurrence", "next_due",
    "parent_results", "pause_queue", "paused_queues", "prunable_jobs", "prunable_workflows",
    "queue_counts", "record_migration", "recount_dependencies", "reopen_workflow",
    "rescue_expired_jobs", "reset_job", "reset_workflow_jobs", "resolve_conditions", "resume_queue",
    "set_workflow_state", "spawn_stats", "workflow_policies",
}

/// The statement `name` with `params` bound as PostgreSQL takes them (ids as
/// `uuid`, lists as arrays).
pub(crate) fn bound<'q>(
    name: &str,
    params: &[Param<'q>],
) -> Result<Query<'q, Postgres, PgArguments>> {
    let mut query = sqlx::query(statement(name)?);
    for param in params {
        query = match *param {
            Param::Text(v) => query.bind(v),
            Param::Int(v) => query.bind(v),
            Param::Bool(v) => query.bind(v),
            Param::Time(v) => query.bind(v),
            Param::Json(v) => query.bind(v),
            Param::Job(v) => query.bind(v.map(|id| id.0)),
            Param::Workflow(v) => query.bind(v.map(|id| id.0)),
            Param::Jobs(ids) => query.bind(uuids(ids)),
            Param::Workflows(ids) => query.bind(ids.iter().map(|id| id.0).collect::<Vec<_>>()),
            Param::Ints(v) => query.bind(v),
            Param::Edges(edges) => {
                let (parents, dependents): (Vec<Uuid>, Vec<Uuid>) =
                    edges.iter().map(|(p, d)| (p.0, d.0)).unzip();
                query.bind(parents).bind(dependents)
            }
            Param::Leases(leases) => {
                let (ids, claims): (Vec<Uuid>, Vec<i64>) =
                    leases.iter().map(|l| (l.id.0, l.claim)).unzip();
                query.bind(ids).bind(claims)
            }
            Param::Decisions(pairs) => {
                let (ids, flags): (Vec<Uuid>, Vec<bool>) =
                    pairs.iter().map(|(id, f)| (id.0, *f)).unzip();
                query.bind(ids).bind(flags)
            }
        };
    }
    Ok(query)
}
