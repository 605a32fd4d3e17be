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

    /// `(sql, outcomes)` for each outcome kind present, in a fixed order; each
    /// statement binds its outcomes, then `now`.
    pub(crate) fn statements(self) -> Vec<(&'static str, String)> {
        [
            (
                include_str!("../queries/settle_jobs_completed.sql"),
                self.completed,
            ),
            (
                include_str!("../queries/settle_jobs_failed.sql"),
                self.failed,
            ),
            (
                include_str!("../queries/settle_jobs_cancelled.sql"),
                self.cancelled,
            ),
            (
                include_str!("../queries/settle_jobs_given_back.sql"),
                self.given_back,
            ),
        ]
        .into_iter()
        .filter(|(_, rows)| !rows.is_empty())
        .map(|(sql, rows)| (sql, sorted_array(rows)))
        .collect()
    }
}

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

fn hex(id: Uuid) -> String {
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
        let statements = batches.statements();
        assert_eq!(statements.len(), 3);
        let completed: Value = serde_json::from_str(&statements[0].1).unwrap();
        assert_eq!(
            completed,
            json!([
                {"id": hex(Uuid::from_u128(1)), "attempt": 1, "result": "null"},
                {"id": hex(Uuid::from_u128(2)), "attempt": 1},
            ])
        );
        let failed: Value = serde_json::from_str(&statements[1].1).unwrap();
        assert_eq!(failed[0]["retry_at"], "2024-05-01 12:00:00.000000");
        let given_back: Value = serde_json::from_str(&statements[2].1).unwrap();
        assert_eq!(given_back[0]["started"], 1);
    }
}
