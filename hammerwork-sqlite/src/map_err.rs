use hammerwork_api::{Error, Job, JobId};
use sqlx::SqliteConnection;

use crate::row::id_list;

/// SQLite's primary result codes after which the statement can simply run
/// again: `SQLITE_BUSY` (5; the busy timeout passed while another connection
/// held the write lock) and `SQLITE_LOCKED` (6).
const CONFLICTS: [i64; 2] = [5, 6];

/// Maps a driver error to Hammerwork's semantic error: the one place where
/// sqlx errors become [`Error`] variants.
pub(crate) fn map_err(err: sqlx::Error) -> Error {
    match err {
        // A URL or option SQLite cannot use (unknown `mode`, bad path, ...).
        sqlx::Error::Configuration(why) => Error::Config(why.to_string()),
        sqlx::Error::Database(db) if is_conflict(db.code().as_deref()) => {
            Error::Conflict(Box::new(sqlx::Error::Database(db)))
        }
        other => Error::backend(other),
    }
}

/// Whether an (extended) result code is one of [`CONFLICTS`].
fn is_conflict(code: Option<&str>) -> bool {
    code.and_then(|c| c.parse::<i64>().ok())
        .is_some_and(|c| CONFLICTS.contains(&(c & 0xff)))
}

/// Whether `err` is a primary-key (or unique) violation.
pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Turns an insert failure into the most useful error: a duplicate id names
/// the id (looked up only on this rare path). A failed statement leaves
/// SQLite's transaction usable, so the look-up sees uncommitted rows too.
pub(crate) async fn explain_insert_error(
    conn: &mut SqliteConnection,
    jobs: &[Job],
    err: sqlx::Error,
) -> Error {
    if !is_unique_violation(&err) {
        return map_err(err);
    }
    let ids: Vec<JobId> = jobs.iter().map(|job| job.id).collect();
    let found: Option<String> =
        sqlx::query_scalar(include_str!("../queries/find_existing_ids.sql"))
            .bind(id_list(&ids))
            .fetch_optional(conn)
            .await
            .ok()
            .flatten();
    match found.as_deref().map(str::parse) {
        Some(Ok(id)) => Error::DuplicateJob { id },
        _ => map_err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::is_conflict;

    #[test]
    fn busy_and_locked_are_conflicts() {
        assert!(is_conflict(Some("5")));
        assert!(is_conflict(Some("517")), "SQLITE_BUSY_SNAPSHOT");
        assert!(is_conflict(Some("6")));
        assert!(!is_conflict(Some("2067")), "a unique violation is not");
        assert!(!is_conflict(None));
    }
}
