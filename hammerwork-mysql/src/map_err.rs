use hammerwork_api::Error;
use sqlx::mysql::MySqlDatabaseError;

/// MySQL's duplicate-key error number (`ER_DUP_ENTRY`).
pub(crate) const ER_DUP_ENTRY: u16 = 1062;
/// `ER_LOCK_DEADLOCK`: InnoDB chose this transaction as a deadlock victim and
/// rolled all of it back, so running it again is safe.
const ER_LOCK_DEADLOCK: u16 = 1213;

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
    if let Some(db) = mysql_error(&err) {
        if INVALID_JSON.contains(&db.number()) {
            return Error::InvalidPayload(db.message().to_string());
        }
    }
    Error::backend(err)
}

/// The MySQL error number of `err`, when the server sent one.
pub(crate) fn error_number(err: &sqlx::Error) -> Option<u16> {
    mysql_error(err).map(MySqlDatabaseError::number)
}

/// Whether `err` (as returned by [`map_err`]) is a deadlock, after which the
/// whole transaction was rolled back and may simply run again.
pub(crate) fn is_deadlock(err: &Error) -> bool {
    match err {
        Error::Backend(source) => source
            .downcast_ref::<sqlx::Error>()
            .and_then(error_number)
            .is_some_and(|n| n == ER_LOCK_DEADLOCK),
        _ => false,
    }
}

fn mysql_error(err: &sqlx::Error) -> Option<&MySqlDatabaseError> {
    match err {
        sqlx::Error::Database(db) => db.try_downcast_ref::<MySqlDatabaseError>(),
        _ => None,
    }
}
