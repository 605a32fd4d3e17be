//! Batches as one JSON document per statement, read back by the queries with
//! `JSON_TABLE(?, '$[*]' ...)`: one bind parameter and one cached prepared
//! statement whatever the batch size (MySQL has no array parameters, and an
//! `IN (?, ?, ...)` list would prepare a new statement for every size).

use chrono::{DateTime, Utc};
use hammerwork_api::{Lease, Outcome, Settlement};
use serde_json::{json, Value};
use uuid::Uuid;

/// `["<32 hex digits>", ...]`, for `COLUMNS (id CHAR(32) PATH '$')`.
pub(crate) fn id_array(ids: impl IntoIterator<Item = Uuid>) -> String {
    let ids: Vec<Value> = ids.into_iter().map(|id| json!(hex(id))).collect();
    Value::Array(ids).to_string()
}

/// `[{"id": .., "attempt": ..}, ...]` sorted by id, for heartbeat_jobs.sql.
pub(crate) fn lease_array(leases: &[Lease]) -> String {
    let rows = leases
        .iter()
        .map(|lease| (lease.id.0, lease_object(lease)))
        .collect();
    sorted_array(rows)
}

/// A DATETIME(6) literal of `at` in UTC, e.g. `2024-05-01 12:00:00.250000`,
/// for a JSON_TABLE column the query CASTs to DATETIME(6).
pub(crate) fn datetime_text(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
}

/// A batch of settlements split by outcome, each kind one JSON document for
/// its `settle_jobs_*.sql` statement.
#[derive(Default)]
pub(crate) struct SettleBatches {
    completed: Vec<(Uuid, Value)>,
    failed: Vec<(Uuid, Value)>,
    cancelled: Vec<(Uuid, Value)>,
    given_back: Vec<(Uuid, Value)>,
}

impl SettleBatches {
    pub(crate) fn new(settlements: &[Settlement]) -> Self {
        let mut b = SettleBatches::default();
        for s in settlements {
            let mut row = lease_object(&s.lease);
            let (kind, fields) = match &s.outcome {
                // The result travels as JSON text in a JSON string: a JSON
                // null result and no result at all must stay distinct.
                Outcome::Completed { result } => (
                    &mut b.completed,
                    result.as_ref().map(|r| json!({ "result": r.to_string() })),
                ),
                Outcome::Failed { error, retry_at } => (
                    &mut b.failed,
                    Some(match retry_at {
                        Some(at) => json!({ "error": error, "retry_at": datetime_text(*at) }),
                        None => json!({ "error": error }),
                    }),
                ),
                Outcome::Cancelled { reason } => {
                    (&mut b.cancelled, Some(json!({ "reason": reason })))
                }
                Outcome::GiveBack { started } => (
                    &mut b.given_back,
                    Some(json!({ "started": i32::from(*started) })),
                ),
                _ => unreachable!("every Outcome variant is handled"),
            };
            if let (Value::Object(row), Some(Value::Object(fields))) = (&mut row, fields) {
                row.extend(fields);
            }
            kind.push((s.lease.id.0, row));
        }
        b
    }

    /// One [`SettleStatement`] for each outcome kind present, in a fixed
    /// order, and every lease of the batch (sorted by id, for lock_running.sql).
    pub(crate) fn statements(self) -> (Vec<SettleStatement>, String) {
        let mut all = Vec::new();
        let statements = [
            (COMPLETED_FAST, COMPLETED, self.completed),
            (FAILED_FAST, FAILED, self.failed),
            (CANCELLED_FAST, CANCELLED, self.cancelled),
            (GIVEN_BACK_FAST, GIVEN_BACK, self.given_back),
        ]
        .into_iter()
        .filter(|(_, _, rows)| !rows.is_empty())
        .map(|(fast, full, rows)| {
            all.extend(
                rows.iter()
                    .map(|(id, row)| (*id, json!({ "id": row["id"], "attempt": row["attempt"] }))),
            );
            SettleStatement {
                fast,
                full,
                count: rows.len() as u64,
                outcomes: sorted_array(rows),
            }
        })
        .collect();
        (statements, sorted_array(all))
    }
}

/// The settle statements of one outcome kind; each binds its outcomes, then
/// `now`.
pub(crate) struct SettleStatement {
    /// Changes only the attempts whose outcome needs nothing else done: the
    /// job has no dependents, and a job of a workflow does not die. One
    /// statement, so it runs without a transaction.
    pub(crate) fast: &'static str,
    /// Changes every current attempt; the caller then follows dependents.
    pub(crate) full: &'static str,
    /// The outcomes, a JSON array sorted by id.
    pub(crate) outcomes: String,
    /// How many outcomes.
    pub(crate) count: u64,
}

const COMPLETED: &str = include_str!("../queries/settle_jobs_completed.sql");
const FAILED: &str = include_str!("../queries/settle_jobs_failed.sql");
const CANCELLED: &str = include_str!("../queries/settle_jobs_cancelled.sql");
const GIVEN_BACK: &str = include_str!("../queries/settle_jobs_given_back.sql");

// The fast variants: the same statements, restricted to jobs nobody depends
// on (has_dependents is set under the job's row lock, so the restriction is
// checked against the latest row) and, for outcomes that can make a job
// dead, outside any workflow (its failure policy would apply).
const COMPLETED_FAST: &str = concat!(
    include_str!("../queries/settle_jobs_completed.sql"),
    "  AND j.has_dependents = 0\n"
);
const FAILED_FAST: &str = concat!(
    include_str!("../queries/settle_jobs_failed.sql"),
    "  AND j.has_dependents = 0\n",
    "  AND (j.workflow_id IS NULL OR (t.retry_at IS NOT NULL AND j.attempts < j.max_attempts))\n"
);
const CANCELLED_FAST: &str = concat!(
    include_str!("../queries/settle_jobs_cancelled.sql"),
    "  AND j.has_dependents = 0\n"
);
const GIVEN_BACK_FAST: &str = concat!(
    include_str!("../queries/settle_jobs_given_back.sql"),
    "  AND j.has_dependents = 0\n",
    "  AND (j.workflow_id IS NULL OR t.started = 0 OR j.attempts < j.max_attempts)\n"
);

fn lease_object(lease: &Lease) -> Value {
    json!({ "id": hex(lease.id.0), "attempt": lease.attempt })
}

/// Rows sorted by id: statements lock rows in array order, and one order for
/// every batch keeps concurrent batches (a settle and a heartbeat of the same
/// worker) from deadlocking.
fn sorted_array(mut rows: Vec<(Uuid, Value)>) -> String {
    rows.sort_by_key(|(id, _)| *id);
    Value::Array(rows.into_iter().map(|(_, row)| row).collect()).to_string()
}

/// The id as 32 hex digits, as the queries' JSON_TABLE columns read it.
pub(crate) fn hex(id: Uuid) -> String {
    id.simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use hammerwork_api::JobId;

    fn lease(n: u128, attempt: i32) -> Lease {
        Lease {
            id: JobId(Uuid::from_u128(n)),
            attempt,
        }
    }

    #[test]
    fn ids_are_plain_hex() {
        assert_eq!(
            id_array([Uuid::from_u128(0xab)]),
            r#"["000000000000000000000000000000ab"]"#
        );
    }

    #[test]
    fn datetimes_keep_microseconds() {
        let at = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap()
            + chrono::Duration::microseconds(250_001);
        assert_eq!(datetime_text(at), "2024-05-01 12:00:00.250001");
    }

    #[test]
    fn settlements_split_by_kind_and_sort_by_id() {
        let at = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
        let batches = SettleBatches::new(&[
            Settlement::new(lease(2, 1), Outcome::Completed { result: None }),
            Settlement::new(
                lease(1, 1),
                Outcome::Completed {
                    result: Some(Value::Null),
                },
            ),
            Settlement::new(
                lease(3, 2),
                Outcome::Failed {
                    error: "boom".into(),
                    retry_at: Some(at),
                },
            ),
            Settlement::new(lease(4, 1), Outcome::GiveBack { started: true }),
        ]);
        let (statements, all) = batches.statements();
        assert_eq!(statements.len(), 3);
        assert_eq!(
            serde_json::from_str::<Value>(&all)
                .unwrap()
                .as_array()
                .unwrap()
                .len(),
            4
        );
        assert!(statements
            .iter()
            .all(|s| s.fast.ends_with("has_dependents = 0\n")
                || s.fast.contains("j.workflow_id IS NULL")));
        let completed: Value = serde_json::from_str(&statements[0].outcomes).unwrap();
        assert_eq!(
            completed,
            json!([
                {"id": hex(Uuid::from_u128(1)), "attempt": 1, "result": "null"},
                {"id": hex(Uuid::from_u128(2)), "attempt": 1},
            ])
        );
        let failed: Value = serde_json::from_str(&statements[1].outcomes).unwrap();
        assert_eq!(failed[0]["retry_at"], "2024-05-01 12:00:00.000000");
        let given_back: Value = serde_json::from_str(&statements[2].outcomes).unwrap();
        assert_eq!(given_back[0]["started"], 1);
    }
}
