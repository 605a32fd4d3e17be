//! How MySQL and MariaDB return each kind of column (the mapping to domain
//! types is `hammerwork_api::driver::*_from_row`), and how ids are passed to
//! `JSON_TABLE`.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

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
    "add_workflow_counts", "applied_migrations", "awaited_children", "cancel_workflow",
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
/// use one twice (see [`numbered`]), or takes them in order with plain `?`.
pub(crate) fn bound<'q>(
    name: &'static str,
    params: &[Param<'q>],
) -> Result<Query<'q, MySql, MySqlArguments>> {
    let (sql, order) = numbered(name)?;
    let mut query = sqlx::query(sql);
    for &n in order {
        let param = params.get(n).ok_or_else(|| {
            Error::backend(format!(
                "statement `{name}` takes parameter {}, given {}",
                n + 1,
                params.len()
            ))
        })?;
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
        };
    }
    Ok(query)
}

/// The statement `name` as MySQL takes it (each `?N` made a plain `?`), and
/// which parameter (from 0) each `?` binds, in order; worked out once per
/// statement.
fn numbered(name: &'static str) -> Result<(&'static str, &'static [usize])> {
    type Forms = Mutex<HashMap<&'static str, (&'static str, &'static [usize])>>;
    static FORMS: OnceLock<Forms> = OnceLock::new();
    let forms = FORMS.get_or_init(Forms::default);
    if let Some(form) = forms.lock().unwrap_or_else(|e| e.into_inner()).get(name) {
        return Ok(*form);
    }
    let (sql, order) = renumber(statement(name)?)
        .map_err(|why| Error::backend(format!("statement `{name}`: {why}")))?;
    let form: (&'static str, &'static [usize]) = (sql.leak(), order.leak());
    let mut forms = forms.lock().unwrap_or_else(|e| e.into_inner());
    Ok(*forms.entry(name).or_insert(form))
}

/// `sql` with each `?N` (outside `--` comments and `'` quotes) made a plain
/// `?`, and the parameter each `?` binds: N - 1, or for a plain `?` the next
/// in order. A statement uses one kind or the other, and numbers from 1.
fn renumber(sql: &str) -> std::result::Result<(String, Vec<usize>), String> {
    let bytes = sql.as_bytes();
    let (mut text, mut order) = (String::with_capacity(sql.len()), Vec::new());
    let (mut numbered, mut plain) = (false, false);
    let (mut i, mut copied) = (0, 0);
    while i < bytes.len() {
        let skip_to = |from: usize, pat: char, past: usize| {
            sql[from..]
                .find(pat)
                .map_or(bytes.len(), |n| from + n + past)
        };
        match bytes[i] {
            b'-' if bytes.get(i + 1) == Some(&b'-') => i = skip_to(i, '\n', 0),
            b'\'' => i = skip_to(i + 1, '\'', 1),
            b'?' => {
                let digits = bytes[i + 1..].iter().take_while(|b| b.is_ascii_digit());
                let end = i + 1 + digits.count();
                text.push_str(&sql[copied..=i]);
                order.push(match sql[i + 1..end].parse::<usize>() {
                    Ok(0) => return Err("parameters are numbered from ?1".into()),
                    Ok(n) => {
                        numbered = true;
                        n - 1
                    }
                    Err(_) => {
                        plain = true;
                        order.len()
                    }
                });
                (i, copied) = (end, end);
            }
            _ => i += 1,
        }
    }
    if numbered && plain {
        return Err("mixes numbered (?1) and plain (?) parameters".into());
    }
    text.push_str(&sql[copied..]);
    Ok((text, order))
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
    use super::{numbered, renumber, STATEMENTS};

    #[test]
    fn every_statement_takes_its_parameters_in_one_way() {
        for name in STATEMENTS {
            numbered(name).unwrap();
        }
        assert!(renumber("a = ?1 AND b = ?").is_err());
        assert!(renumber("a = ?0").is_err());
    }

    #[test]
    fn numbered_parameters_become_plain_ones_in_use_order() {
        let (sql, order) = renumber(
            "-- ?9 in a comment\nSELECT '?3', x FROM t WHERE (?1 IS NULL OR a = ?1) AND b = ?12 LIMIT ?2",
        )
        .unwrap();
        assert_eq!(
            sql,
            "-- ?9 in a comment\nSELECT '?3', x FROM t WHERE (? IS NULL OR a = ?) AND b = ? LIMIT ?"
        );
        assert_eq!(order, [0, 0, 11, 1]);
        let (sql, order) = renumber("UPDATE t SET a = ? WHERE b = ? AND c = 'it''s?'").unwrap();
        assert_eq!(sql, "UPDATE t SET a = ? WHERE b = ? AND c = 'it''s?'");
        assert_eq!(order, [0, 1]);
    }
}
