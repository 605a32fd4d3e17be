use hammerwork_api::{Error, Job, JobId};
use sqlx::MySqlConnection;

use crate::row::hex_ids;
use sqlx::mysql::MySqlDatabaseError;

/// MySQL's duplicate-key error number (`ER_DUP_ENTRY`).
pub(crate) const ER_DUP_ENTRY: u16 = 1062;
/// `ER_LOCK_DEADLOCK` (InnoDB chose this transaction as a deadlock victim and
/// rolled all of it back) and `ER_LOCK_WAIT_TIMEOUT` (a lock wait timed out;
/// the engine then rolls the transaction back): running it again is safe.
const CONFLICTS: [u16; 2] = [1213, 1205];

/// Errors meaning "this JSON cannot be stored": 3140 `ER_INVALID_JSON_TEXT`
/// and 3157 `ER_JSON_DOCUMENT_TOO_DEEP` (MySQL, nesting deeper than 100), 4025
/// `ER_CONSTRAINT_FAILED` (MariaDB, whose JSON columns are a `JSON_VALID` check
/// that also rejects nesting of 32 levels or more; our only CHECKs are those).
const INVALID_JSON: [u16; 3] = [3140, 3157, 4025];

/// Maps a driver error to Hammerwork's semantic error: the one place where
/// sqlx errors become [`Error`] variants. (A duplicate id needs a look-up to
/// name the id, so `enqueue_jobs_in` turns [`ER_DUP_ENTRY`] into
/// [`Error::DuplicateJob`] before falling back to this.)
pub(crate) fn map_err(err: sqlx::Error) -> Error {
    match mysql_error(&err).map(|db| (db.number(), db.message())) {
        Some((number, message)) if INVALID_JSON.contains(&number) => {
            Error::InvalidPayload(message.to_string())
        }
        Some((number, _)) if CONFLICTS.contains(&number) => Error::Conflict(Box::new(err)),
        _ => Error::backend(err),
    }
}

/// The MySQL error number of `err`, when the server sent one.
pub(crate) fn error_number(err: &sqlx::Error) -> Option<u16> {
    mysql_error(err).map(MySqlDatabaseError::number)
}

fn mysql_error(err: &sqlx::Error) -> Option<&MySqlDatabaseError> {
    match err {
        sqlx::Error::Database(db) => db.try_downcast_ref::<MySqlDatabaseError>(),
        _ => None,
    }
}

/// Turns an insert failure into the most useful error: a duplicate id names
/// the id (looked up only on this rare path). MySQL undoes only the failed
/// statement, so the connection (and the transaction, which may hold the
/// other copy of the id) still serves.
pub(crate) async fn explain_insert_error(
    conn: &mut MySqlConnection,
    jobs: &[Job],
    err: sqlx::Error,
) -> Error {
    if error_number(&err) != Some(ER_DUP_ENTRY) {
        return map_err(err);
    }
    let ids = hex_ids(jobs.iter().map(|job| &job.id));
    let found: Option<uuid::Uuid> = sql!("find_existing_ids", ids)
        .try_map(|row: sqlx::mysql::MySqlRow| sqlx::Row::try_get(&row, "id"))
        .fetch_optional(conn)
        .await
        .ok()
        .flatten();
    match found {
        Some(id) => Error::DuplicateJob { id: JobId(id) },
        None => map_err(err),
    }
}
