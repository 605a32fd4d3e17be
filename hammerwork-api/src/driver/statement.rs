//! Statements by name: how the default primitives of [`Driver`](super::Driver)
//! and [`Transaction`](super::Transaction) reach a SQL backend's
//! `queries/<name>.sql`.
//!
//! A SQL backend implements `rows` and `run`, on its driver and on its
//! transaction: each looks the statement up (the [`statements!`](crate::statements) macro writes that
//! lookup), binds each [`Param`] in its own column encoding and maps the rows
//! with the given decoder. Every primitive it does not override then runs the
//! statement of the primitive's name with the parameters its rustdoc lists,
//! in that order.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::StoredRow;
use crate::{Error, JobId, Lease, Result, WorkflowId};

/// A parameter of a statement, as the default primitives pass them. Each
/// backend binds a variant in its own encoding: ids as `uuid`, hex or text,
/// lists of ids as an array or a JSON array, times as `timestamptz`,
/// `DATETIME(6)` or microseconds since the Unix epoch.
#[derive(Clone, Copy, Debug)]
pub enum Param<'a> {
    /// Text, or NULL.
    Text(Option<&'a str>),
    /// An integer, or NULL.
    Int(Option<i64>),
    /// A boolean.
    Bool(bool),
    /// A timestamp, or NULL.
    Time(Option<DateTime<Utc>>),
    /// A JSON document, or NULL.
    Json(Option<&'a Value>),
    /// A job id, or NULL.
    Job(Option<JobId>),
    /// A workflow id, or NULL.
    Workflow(Option<WorkflowId>),
    /// A list of job ids, each once (as the engine passes them). A backend
    /// may bind them in another order: a statement orders its rows itself.
    Jobs(&'a [JobId]),
    /// A list of workflow ids, as [`Param::Jobs`].
    Workflows(&'a [WorkflowId]),
    /// A list of integers, in the given order.
    Ints(&'a [i64]),
    /// Edges, `(parent, dependent)` pairs, in the given order. A backend may
    /// bind them as one value (a JSON array of pairs) or as two (PostgreSQL:
    /// an array of parents, then one of dependents).
    Edges(&'a [(JobId, JobId)]),
    /// `(job, decision)` pairs, in the given order, bound as one or two
    /// values as [`Param::Edges`] are.
    Decisions(&'a [(JobId, bool)]),
    /// Leases (job id and claim number), in the given order, bound as one or
    /// two values as [`Param::Edges`] are.
    Leases(&'a [Lease]),
}

/// How a default primitive decodes each row of its statement.
pub type FromRow<T> = fn(&dyn StoredRow) -> Result<T>;

macro_rules! param_from {
    ($($t:ty => $e:expr),* $(,)?) => {
        $(impl<'a> From<$t> for Param<'a> {
            fn from(value: $t) -> Self {
                ($e)(value)
            }
        })*
    };
}

param_from! {
    &'a str => |v| Param::Text(Some(v)),
    Option<&'a str> => Param::Text,
    i64 => |v| Param::Int(Some(v)),
    Option<i64> => Param::Int,
    bool => Param::Bool,
    DateTime<Utc> => |v| Param::Time(Some(v)),
    Option<DateTime<Utc>> => Param::Time,
    Option<&'a Value> => Param::Json,
    JobId => |v| Param::Job(Some(v)),
    Option<JobId> => Param::Job,
    WorkflowId => |v| Param::Workflow(Some(v)),
    Option<WorkflowId> => Param::Workflow,
    &'a [JobId] => Param::Jobs,
    &'a [WorkflowId] => Param::Workflows,
    &'a [i64] => Param::Ints,
    &'a [(JobId, JobId)] => Param::Edges,
    &'a [(JobId, bool)] => Param::Decisions,
    &'a [Lease] => Param::Leases,
}

/// The error of a default primitive on a driver that has no statement of
/// that name: such a driver implements the primitive itself.
pub fn no_statement(name: &str) -> Error {
    Error::backend(format!(
        "this driver has no statement `{name}`: it must implement the primitive `{name}` itself"
    ))
}

/// Writes `fn statement(name: &str) -> hammerwork_api::Result<&'static str>`
/// for a SQL backend: the text of `queries/<name>.sql` (in the calling
/// crate's directory) for each name listed, and
/// [`no_statement`](crate::driver::no_statement) for any other; and
/// `const STATEMENTS: &[&str]`, the names listed, for the backend's tests.
///
/// A name may read another's file (`"a" => "b"`: statement `a` is
/// `queries/b.sql`).
///
/// ```text
/// hammerwork_api::statements! { "get_jobs", "list_jobs", "cancel_job", "retry_job" => "reset_job" }
/// ```
#[macro_export]
macro_rules! statements {
    (@file $file:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/queries/", $file, ".sql"))
    };
    ($($name:literal $(=> $file:literal)?),* $(,)?) => {
        /// The names of the statements [`statement`] knows.
        #[allow(dead_code)]
        const STATEMENTS: &[&str] = &[$($name),*];

        /// The SQL of the statement `name`: `queries/<name>.sql`, or the
        /// file listed for it.
        fn statement(name: &str) -> $crate::Result<&'static str> {
            match name {
                $($name => Ok($crate::statements!(@file $($file)? $name)),)*
                _ => Err($crate::driver::no_statement(name)),
            }
        }
    };
    (@file $file:literal $name:literal) => {
        $crate::statements!(@file $file)
    };
}

/// A SQL backend's schema, which
/// `hammerwork_engine::Engine::migrate`
/// applies in one transaction of the driver: [`setup`](Self::setup), then
/// each step not yet recorded in `hammerwork_migrations` (statement
/// `applied_migrations` reads the recorded versions as column `version`;
/// `record_migration` records one: version, name, applied_at).
#[derive(Clone, Copy, Debug)]
pub struct Migrations {
    /// A script run first: waits for any other migrator (with a lock held
    /// until commit, unless the transaction's own begin took one) and
    /// creates `hammerwork_migrations` if it is missing.
    pub setup: &'static str,
    /// `(version, name, SQL)` of each migration, oldest first, as the
    /// [`migrations!`](crate::migrations) macro lists them. Append only: a
    /// migration that has shipped is never edited.
    pub steps: &'static [(i64, &'static str, &'static str)],
}

impl Migrations {
    /// No schema.
    pub const NONE: Migrations = Migrations {
        setup: "",
        steps: &[],
    };
}

/// `&[(version, name, SQL)]` of each `migrations/<name>.sql` listed (in the
/// calling crate's directory), for [`Migrations::steps`].
///
/// ```text
/// const STEPS: &[(i64, &str, &str)] = hammerwork_api::migrations![1 => "0001_jobs"];
/// ```
#[macro_export]
macro_rules! migrations {
    ($($version:literal => $name:literal),* $(,)?) => {
        &[$(($version, $name, include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"), "/migrations/", $name, ".sql"
        )))),*]
    };
}

/// `sql` as a database that binds plain `?` placeholders in order takes it
/// (MySQL, MariaDB), written with numbered ones as SQLite takes them: each
/// `?N` outside `--` comments and `'` quotes made a plain `?`, and the
/// parameter (from 0) each `?` binds, in order: N - 1, or for a plain `?`
/// the next in order. A statement numbered so may use a parameter twice, or
/// none of the last ones. It uses one kind or the other, numbered from 1;
/// the error says which rule it breaks.
pub fn positional(sql: &str) -> std::result::Result<(String, Vec<usize>), String> {
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

/// The parameters of a statement, each converted with [`Param::from`].
macro_rules! params {
    ($($value:expr),* $(,)?) => {
        &[$($crate::driver::Param::from($value)),*]
    };
}
pub(crate) use params;

#[cfg(test)]
mod tests {
    use super::positional;

    #[test]
    fn numbered_parameters_become_plain_ones_in_use_order() {
        let (sql, order) = positional(
            "-- ?9 in a comment\nSELECT '?3', x FROM t WHERE (?1 IS NULL OR a = ?1) AND b = ?12 LIMIT ?2",
        )
        .unwrap();
        assert_eq!(
            sql,
            "-- ?9 in a comment\nSELECT '?3', x FROM t WHERE (? IS NULL OR a = ?) AND b = ? LIMIT ?"
        );
        assert_eq!(order, [0, 0, 11, 1]);
        let (sql, order) = positional("UPDATE t SET a = ? WHERE b = ? AND c = 'it''s?'").unwrap();
        assert_eq!(sql, "UPDATE t SET a = ? WHERE b = ? AND c = 'it''s?'");
        assert_eq!(order, [0, 1]);
        assert!(positional("a = ?1 AND b = ?").is_err());
        assert!(positional("a = ?0").is_err());
    }

    use async_trait::async_trait;
    use chrono::{DateTime, Utc};

    use crate::driver::{Driver, Transaction, Transition};
    use crate::workflow::PlannedJob;
    use crate::{Capabilities, Error, Job, JobId, Result, Settlement, WakeupScope};

    /// A driver with no statements that implements no primitive with a
    /// default.
    struct Bare;

    #[async_trait]
    impl Driver for Bare {
        type Tx = Bare;

        fn capabilities(&self) -> Capabilities {
            Capabilities::new(WakeupScope::Process)
        }

        async fn begin(&self) -> Result<Bare> {
            Ok(Bare)
        }
    }

    #[async_trait]
    impl Transaction for Bare {
        async fn commit(self) -> Result<()> {
            Ok(())
        }

        async fn rollback(self) -> Result<()> {
            Ok(())
        }

        async fn wake(&mut self, _: &[String]) -> Result<()> {
            Ok(())
        }

        async fn insert_jobs(
            &mut self,
            _: &[Job],
            _: &[PlannedJob],
            _: DateTime<Utc>,
        ) -> Result<()> {
            Ok(())
        }

        async fn settle_attempts(
            &mut self,
            _: &[Settlement],
            _: DateTime<Utc>,
        ) -> Result<Vec<Transition>> {
            Ok(Vec::new())
        }
    }

    fn assert_names(result: Result<impl std::fmt::Debug>, statement: &str) {
        match result {
            Err(Error::Backend(e)) => assert!(
                e.to_string().contains(&format!("`{statement}`")),
                "{e} should name {statement}"
            ),
            other => panic!("expected an error naming {statement}, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_default_primitive_without_its_statement_names_it() {
        let id = JobId::new();
        assert_names(Bare.get_jobs(&[id]).await, "get_jobs");
        assert_names(Bare.heartbeat_jobs(&[], Utc::now()).await, "heartbeat_jobs");
        let mut tx = Bare.begin().await.unwrap();
        assert_names(tx.cancel_job(id, Utc::now()).await, "cancel_job");
        assert_names(
            tx.mark_job_recurrence(id, None).await,
            "mark_job_recurrence",
        );
        let edges = [(id, JobId::new())];
        assert_names(tx.insert_dependencies(&edges).await, "insert_dependencies");
        let decisions = [(id, true)];
        assert_names(
            tx.resolve_conditions(&decisions, Utc::now()).await,
            "resolve_conditions",
        );
        assert_names(tx.add_workflow_counts(&[]).await, "add_workflow_counts");
        assert_names(tx.run_script("SELECT 1").await, "run_script");
    }
}
