//! How MySQL and MariaDB return each kind of column (the mapping to domain
//! types is `hammerwork_api::driver::*_from_row`), and how ids are passed to
//! `JSON_TABLE`.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use chrono::{DateTime, Utc};
use hammerwork_api::driver::{positional, ColumnCursor, Param, StoredRow};
use hammerwork_api::{Error, JobId, Result};
use serde_json::json;
use serde_json::Value;
use sqlx::mysql::MySqlArguments;
use sqlx::mysql::MySqlRow;
use sqlx::query::Query;
use sqlx::MySql;
use sqlx::{Column, Row};
use uuid::Uuid;

use crate::map_err::map_err;

/// A MySQL row, read as [`StoredRow`].
pub(crate) struct Stored<'r> {
    row: &'r MySqlRow,
    cursor: ColumnCursor,
}

impl<'r> Stored<'r> {
    pub(crate) fn new(row: &'r MySqlRow) -> Self {
        Self {
            row,
            cursor: ColumnCursor::default(),
        }
    }

    /// Column `name`'s position.
    fn at(&self, name: &str) -> Result<usize> {
        let columns = self.row.columns();
        let at = self.cursor.find(
            name,
            |i| columns.get(i).map(|c| c.name()),
            || self.row.try_column(name).map(|c| c.ordinal()),
        );
        at.map_err(Error::backend)
    }

    /// Column `name` as `T` (an error names the column).
    fn get<T>(&self, name: &str) -> Result<T>
    where
        T: sqlx::Decode<'r, MySql> + sqlx::Type<MySql>,
    {
        let value = self.row.try_get(self.at(name)?);
        value.map_err(|e| Error::backend(format!("column {name}: {e}")))
    }
}

impl StoredRow for Stored<'_> {
    /// Read without sqlx's type check: the server flags columns with a binary
    /// collation (and our VARBINARY queue names) as binary, which sqlx
    /// refuses to decode as `String` although the bytes are UTF-8 we wrote.
    fn text(&self, column: &str) -> Result<Option<String>> {
        let value = self.row.try_get_unchecked(self.at(column)?);
        value.map_err(|e| Error::backend(format!("column {column}: {e}")))
    }

    fn int(&self, column: &str) -> Result<Option<i64>> {
        self.get(column)
    }

    fn uuid(&self, column: &str) -> Result<Option<Uuid>> {
        self.get(column)
    }

    /// Read as text: MySQL sends its JSON type and MariaDB a LONGTEXT, and
    /// both hold JSON text.
    fn json(&self, column: &str) -> Result<Option<Value>> {
        self.text(column)?
            .map(|t| serde_json::from_str(&t).map_err(|e| Error::backend(format!("{column}: {e}"))))
            .transpose()
    }

    fn time(&self, column: &str) -> Result<Option<DateTime<Utc>>> {
        self.get(column)
    }
}

/// Every row of `query` on `executor` (the pool or a transaction), mapped
/// with `from_row`.
pub(crate) async fn fetch<'e, 'c: 'e, 'q: 'e, T>(
    executor: impl sqlx::MySqlExecutor<'c> + 'e,
    query: Query<'q, MySql, MySqlArguments>,
    from_row: impl Fn(&dyn StoredRow) -> Result<T>,
) -> Result<Vec<T>> {
    let rows = query.fetch_all(executor).await.map_err(map_err)?;
    hammerwork_api::driver::decode_rows(&rows, |row| from_row(&Stored::new(row)))
}

/// Text column `column` of `row` (see [`Stored::text`]).
pub(crate) fn text(row: &MySqlRow, column: &str) -> Result<Option<String>> {
    Stored::new(row).text(column)
}

/// `["<32 hex digits>", ...]`, for `JSON_TABLE(? ... COLUMNS (id CHAR(32) PATH '$'))`.
pub(crate) fn hex_ids<'a>(ids: impl IntoIterator<Item = &'a JobId>) -> String {
    hex_list(ids.into_iter().map(|id| id.0))
}

/// `["<32 hex digits>", ...]` of any ids.
pub(crate) fn hex_list(ids: impl IntoIterator<Item = Uuid>) -> String {
    json!(ids.into_iter().map(hex).collect::<Vec<_>>()).to_string()
}

/// An id as 32 hex digits, as the queries' JSON_TABLE columns read it.
pub(crate) fn hex(id: uuid::Uuid) -> String {
    id.simple().to_string()
}

/// A time as bound to a `DATETIME(6)` column (UTC): as a `DATETIME`, whose
/// range ends with the year 9999. sqlx binds `DateTime<Utc>` as a
/// `TIMESTAMP`, which ends in 2038: a later time would be stored as NULL.
pub(crate) fn at(time: DateTime<Utc>) -> chrono::NaiveDateTime {
    time.naive_utc()
}

hammerwork_api::statements! {
    "add_workflow_counts", "applied_migrations", "awaited_children", "cancel_job",
    "cancel_job_apply", "cancel_workflow", "fail_expired_workflows", "fail_expired_workflows_apply",
    "release_dependents", "release_dependents_apply", "recount_dependencies",
    "recount_dependencies_apply", "reopen_workflow", "reopen_workflow_apply", "reset_job",
    "reset_job_apply", "settle_attempts", "settle_attempts_apply", "lock_stored_parents",
    "lock_stored_parents_apply", "cancel_workflow_jobs", "cancel_workflow_jobs_apply",
    "reset_workflow_jobs", "reset_workflow_jobs_apply" => "reset_job_apply", "graft_children",
    "graft_children_apply", "delete_jobs", "delete_jobs_apply", "delete_workflows",
    "delete_workflows_apply", "pause_queue", "pause_queue_apply",
    "dependents", "ended_parents", "get_ancestors", "get_dependencies", "get_descendants",
    "get_jobs", "get_spawn_operation", "get_workflow", "heartbeat_jobs", "insert_dependencies",
    "insert_workflow", "list_jobs", "list_queues", "list_recurring_jobs",
    "list_recurring_workflows", "list_spawn_operations", "list_workflows", "lock_running_attempt",
    "mark_finished_workflows", "mark_job_recurrence", "mark_workflow_recurrence", "next_due",
    "parent_results", "paused_queues", "prunable_jobs", "prunable_workflows", "queue_counts",
    "record_migration", "resolve_conditions", "resume_queue", "set_workflow_state", "spawn_stats",
    "try_lead", "workflow_policies",
}

/// The statement `name` with `params` bound as MySQL takes them (ids as
/// `BINARY(16)`, lists as JSON arrays of hex ids, sorted and distinct).
/// A statement names its parameters `?1`, `?2`, ... as on SQLite, so it may
/// use one twice, or takes them in order with plain `?` (see
/// [`positional`]).
pub(crate) fn bound<'q>(
    name: &str,
    params: &[Param<'q>],
) -> Result<Query<'q, MySql, MySqlArguments>> {
    let mut parts = bound_parts(name, params)?;
    match parts.len() {
        1 => Ok(parts.remove(0)),
        n => Err(Error::backend(format!("statement `{name}` has {n} parts"))),
    }
}

/// The statement `name`, each of its parts (separated by a line holding
/// only `;`) with `params` bound as [`bound`] binds them.
pub(crate) fn bound_parts<'q>(
    name: &str,
    params: &[Param<'q>],
) -> Result<Vec<Query<'q, MySql, MySqlArguments>>> {
    let mut parts = Vec::new();
    for &(sql, order) in numbered(name)? {
        let mut query = sqlx::query(sql);
        for &n in order {
            let param = params.get(n).ok_or_else(|| {
                Error::backend(format!(
                    "statement `{name}` takes parameter {}, given {}",
                    n + 1,
                    params.len()
                ))
            })?;
            query = bind(query, param);
        }
        parts.push(query);
    }
    Ok(parts)
}

/// `query` with `param` bound as MySQL takes it.
fn bind<'q>(
    query: Query<'q, MySql, MySqlArguments>,
    param: &Param<'q>,
) -> Query<'q, MySql, MySqlArguments> {
    match *param {
        Param::Text(v) => query.bind(v),
        Param::Int(v) => query.bind(v),
        Param::Bool(v) => query.bind(v),
        Param::Time(v) => query.bind(v.map(at)),
        Param::Json(v) => query.bind(v.map(Value::to_string)),
        Param::Job(v) => query.bind(v.map(|id| id.0)),
        Param::Workflow(v) => query.bind(v.map(|id| id.0)),
        Param::Jobs(ids) => query.bind(hex_ids(&distinct(ids))),
        Param::Workflows(ids) => query.bind(hex_list(distinct(ids).iter().map(|id| id.0))),
        Param::Ints(v) => query.bind(json!(v).to_string()),
        Param::Edges(edges) => {
            let edges: Vec<_> = edges.iter().map(|(p, d)| [hex(p.0), hex(d.0)]).collect();
            query.bind(json!(edges).to_string())
        }
        Param::Leases(leases) => {
            let leases: Vec<_> = leases
                .iter()
                .map(|l| json!({"id": hex(l.id.0), "claim": l.claim}))
                .collect();
            query.bind(json!(leases).to_string())
        }
        Param::Decisions(pairs) => {
            let pairs: Vec<_> = pairs
                .iter()
                .map(|(id, runs)| json!({"id": hex(id.0), "runs": i32::from(*runs)}))
                .collect();
            query.bind(json!(pairs).to_string())
        }
    }
}

/// The parts of statement `name` as MySQL takes them (see [`positional`]);
/// worked out once per statement.
fn numbered(name: &str) -> Result<&'static [(&'static str, &'static [usize])]> {
    type Parts = &'static [(&'static str, &'static [usize])];
    static FORMS: OnceLock<Mutex<HashMap<String, Parts>>> = OnceLock::new();
    let forms = FORMS.get_or_init(Mutex::default);
    if let Some(parts) = forms.lock().unwrap_or_else(|e| e.into_inner()).get(name) {
        return Ok(parts);
    }
    let mut parts = Vec::new();
    for part in statement(name)?.split("\n;\n") {
        let (sql, order) =
            positional(part).map_err(|why| Error::backend(format!("statement `{name}`: {why}")))?;
        parts.push((&*sql.leak(), &*order.leak()));
    }
    let parts: Parts = parts.leak();
    let mut forms = forms.lock().unwrap_or_else(|e| e.into_inner());
    Ok(forms.entry(name.to_owned()).or_insert(parts))
}

/// `ids` sorted, each once.
fn distinct<T: Ord + Copy>(ids: &[T]) -> Vec<T> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids
}

#[cfg(test)]
mod tests {
    use super::{numbered, STATEMENTS};

    #[test]
    fn every_statement_takes_its_parameters_in_one_way() {
        for name in STATEMENTS {
            numbered(name).unwrap();
        }
    }
}
