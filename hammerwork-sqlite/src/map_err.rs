use hammerwork_api::Error;

/// Maps a driver error to Hammerwork's semantic error: the one place where
/// sqlx errors become [`Error`] variants.
///
/// A duplicate id is a unique violation whose message does not name the row;
/// `SqliteStorage::enqueue_jobs_in` looks the id up and returns
/// [`Error::DuplicateJob`] instead of calling this.
pub(crate) fn map_err(err: sqlx::Error) -> Error {
    match err {
        // A URL or option SQLite cannot use (unknown `mode`, bad path, ...).
        sqlx::Error::Configuration(why) => Error::Config(why.to_string()),
        other => Error::backend(other),
    }
}

/// Whether `err` is a primary-key (or unique) violation.
pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}
