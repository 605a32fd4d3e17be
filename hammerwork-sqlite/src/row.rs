//! How SQLite stores each kind of column (ids and JSON as text, timestamps
//! as microseconds since the Unix epoch; the mapping to domain types is
//! `hammerwork_api::driver::*_from_row`), and how a batch is passed.

use chrono::{DateTime, Utc};
use hammerwork_api::driver::{micros, ColumnCursor, Param, StoredRow};
use hammerwork_api::{Error, Result};
use serde_json::{json, Value};
use sqlx::query::Query;
use sqlx::sqlite::SqliteArguments;
use sqlx::sqlite::SqliteRow;
use sqlx::Sqlite;
use sqlx::{Column, Row};
use uuid::Uuid;

use crate::map_err::map_err;

/// A SQLite row, read as [`StoredRow`].
pub(crate) struct Stored<'r> {
    row: &'r SqliteRow,
    cursor: ColumnCursor,
}

impl<'r> Stored<'r> {
    pub(crate) fn new(row: &'r SqliteRow) -> Self {
        Self {
            row,
            cursor: ColumnCursor::default(),
        }
    }

    /// Column `column` (an error names it).
    fn get<T>(&self, column: &str) -> Result<Option<T>>
    where
        T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
    {
        let columns = self.row.columns();
        let at = self.cursor.find(
            column,
            |i| columns.get(i).map(|c| c.name()),
            || self.row.try_column(column).map(|c| c.ordinal()),
        );
        let value = self.row.try_get(at.map_err(Error::backend)?);
        value.map_err(|e| Error::backend(format!("column {column}: {e}")))
    }
}

impl StoredRow for Stored<'_> {
    fn text(&self, column: &str) -> Result<Option<String>> {
        self.get(column)
    }

    fn int(&self, column: &str) -> Result<Option<i64>> {
        self.get(column)
    }

    fn uuid(&self, column: &str) -> Result<Option<Uuid>> {
        let text: Option<&str> = self.get(column)?;
        text.map(|t| Uuid::parse_str(t).map_err(|e| Error::backend(format!("{column}: {e}"))))
            .transpose()
    }

    fn json(&self, column: &str) -> Result<Option<Value>> {
        let text: Option<&str> = self.get(column)?;
        text.map(|t| serde_json::from_str(t).map_err(|e| Error::backend(format!("{column}: {e}"))))
            .transpose()
    }

    fn time(&self, column: &str) -> Result<Option<DateTime<Utc>>> {
        let micros: Option<i64> = self.get(column)?;
        micros
            .map(|m| {
                DateTime::from_timestamp_micros(m)
                    .ok_or_else(|| Error::backend(format!("{column}: {m} µs is out of range")))
            })
            .transpose()
    }
}

/// Every row of `query` on `executor` (the pool or a transaction), mapped
/// with `from_row`.
pub(crate) async fn fetch<'e, 'c: 'e, 'q: 'e, T>(
    executor: impl sqlx::SqliteExecutor<'c> + 'e,
    query: Query<'q, Sqlite, SqliteArguments<'q>>,
    from_row: impl Fn(&dyn StoredRow) -> Result<T>,
) -> Result<Vec<T>> {
    let rows = query.fetch_all(executor).await.map_err(map_err)?;
    hammerwork_api::driver::decode_rows(&rows, |row| from_row(&Stored::new(row)))
}

/// Jobs per `INSERT ... FROM json_each(?)` statement: large enough to amortise
/// the statement, small enough to keep one JSON parameter a few MiB.
pub(crate) const ENQUEUE_CHUNK: usize = 5_000;

/// A list of ids as the JSON array parameter of a `json_each(?)`.
pub(crate) fn id_list<T: ToString>(ids: &[T]) -> String {
    json!(ids.iter().map(ToString::to_string).collect::<Vec<_>>()).to_string()
}

hammerwork_api::statements! {
    "add_workflow_counts", "applied_migrations", "awaited_children", "cancel_job",
    "cancel_workflow", "cancel_workflow_jobs", "claim_jobs", "dependents", "end_dependents",
    "ended_parents", "fail_expired_workflows", "get_ancestors", "get_dependencies",
    "get_descendants", "get_jobs", "get_spawn_operation", "get_workflow", "heartbeat_jobs",
    "insert_dependencies", "insert_spawn_operation", "insert_workflow", "list_jobs", "list_queues",
    "list_recurring_jobs", "list_recurring_workflows", "list_spawn_operations", "list_workflows",
    "lock_running_attempt", "lock_stored_parents", "mark_finished_workflows", "mark_job_recurrence",
    "mark_workflow_recurrence", "next_due", "parent_results", "pause_queue", "paused_queues",
    "prunable_jobs", "prunable_workflows", "queue_counts", "record_migration",
    "recount_dependencies", "release_dependents", "reopen_workflow", "rescue_expired_jobs",
    "resolve_conditions", "resume_queue", "set_workflow_state", "spawn_stats", "workflow_policies",
}

/// The statement `name` with `params` bound as SQLite stores them (ids and
/// JSON as text, lists as JSON arrays, times as microseconds).
pub(crate) fn bound<'q>(
    name: &str,
    params: &[Param<'q>],
) -> Result<Query<'q, Sqlite, SqliteArguments<'q>>> {
    let mut query = sqlx::query(statement(name)?);
    for param in params {
        query = match *param {
            Param::Text(v) => query.bind(v),
            Param::Int(v) => query.bind(v),
            Param::Bool(v) => query.bind(v),
            Param::Time(v) => query.bind(v.map(micros)),
            Param::Json(v) => query.bind(v.map(Value::to_string)),
            Param::Job(v) => query.bind(v.map(|id| id.to_string())),
            Param::Workflow(v) => query.bind(v.map(|id| id.to_string())),
            Param::Jobs(ids) => query.bind(id_list(ids)),
            Param::Workflows(ids) => query.bind(id_list(ids)),
            Param::Ints(v) => query.bind(json!(v).to_string()),
            Param::Edges(edges) => query.bind(json!(edges).to_string()),
            Param::Decisions(pairs) => query.bind(json!(pairs).to_string()),
            Param::Leases(leases) => {
                let leases: Vec<_> = leases
                    .iter()
                    .map(|l| json!({"id": l.id, "claim": l.claim}))
                    .collect();
                query.bind(json!(leases).to_string())
            }
        };
    }
    Ok(query)
}
