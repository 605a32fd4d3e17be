//! How MySQL and MariaDB return each kind of column (the mapping to domain
//! types is `hammerwork_api::driver::*_from_row`), and how ids are passed to
//! `JSON_TABLE`.

use chrono::{DateTime, Utc};
use hammerwork_api::driver::{Param, StoredRow};
use hammerwork_api::{Error, JobId, Result};
use serde_json::json;
use serde_json::Value;
use sqlx::mysql::MySqlArguments;
use sqlx::mysql::MySqlRow;
use sqlx::query::Query;
use sqlx::MySql;
use sqlx::Row;
use uuid::Uuid;

use crate::map_err::map_err;

/// A MySQL row, read as [`StoredRow`].
pub(crate) struct Stored<'r>(pub(crate) &'r MySqlRow);

impl StoredRow for Stored<'_> {
    /// Read without sqlx's type check: the server flags columns with a binary
    /// collation (and our VARBINARY queue names) as binary, which sqlx
    /// refuses to decode as `String` although the bytes are UTF-8 we wrote.
    fn text(&self, column: &str) -> Result<Option<String>> {
        self.0.try_get_unchecked(column).map_err(Error::backend)
    }

    fn int(&self, column: &str) -> Result<Option<i64>> {
        self.0.try_get(column).map_err(Error::backend)
    }

    fn uuid(&self, column: &str) -> Result<Option<Uuid>> {
        self.0.try_get(column).map_err(Error::backend)
    }

    /// Read as text: MySQL sends its JSON type and MariaDB a LONGTEXT, and
    /// both hold JSON text.
    fn json(&self, column: &str) -> Result<Option<Value>> {
        self.text(column)?
            .map(|t| serde_json::from_str(&t).map_err(|e| Error::backend(format!("{column}: {e}"))))
            .transpose()
    }

    fn time(&self, column: &str) -> Result<Option<DateTime<Utc>>> {
        self.0.try_get(column).map_err(Error::backend)
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
    rows.iter().map(|row| from_row(&Stored(row))).collect()
}

/// Text column `column` of `row` (see [`Stored::text`]).
pub(crate) fn text(row: &MySqlRow, column: &str) -> Result<Option<String>> {
    Stored(row).text(column)
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
    "add_workflow_counts", "awaited_children", "dependents", "ended_parents", "get_ancestors",
    "get_dependencies", "get_jobs", "get_workflow", "insert_dependencies", "list_queues",
    "lock_running_attempt", "mark_finished_workflows", "parent_results", "paused_queues",
    "prunable_jobs", "prunable_workflows", "resolve_conditions", "set_workflow_state",
    "workflow_policies",
}

/// The statement `name` with `params` bound as MySQL takes them (ids as
/// `BINARY(16)`, lists as JSON arrays of hex ids, sorted and distinct).
pub(crate) fn bound<'q>(
    name: &str,
    params: &[Param<'q>],
) -> Result<Query<'q, MySql, MySqlArguments>> {
    let mut query = sqlx::query(statement(name)?);
    for param in params {
        query = match *param {
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
            Param::Decisions(pairs) => {
                let pairs: Vec<_> = pairs
                    .iter()
                    .map(|(id, runs)| json!({"id": hex(id.0), "runs": i32::from(*runs)}))
                    .collect();
                query.bind(json!(pairs).to_string())
            }
        };
    }
    Ok(query)
}

/// `ids` sorted, each once.
fn distinct<T: Ord + Copy>(ids: &[T]) -> Vec<T> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids
}
