use hammerwork_api::Error;

/// Maps a driver error to Hammerwork's semantic error: the one place where
/// sqlx errors become [`Error`] variants.
pub(crate) fn map_err(err: sqlx::Error) -> Error {
    if let sqlx::Error::Database(db) = &err {
        // 22P05: a string PostgreSQL cannot store in JSONB (e.g. "\u0000").
        if db.code().as_deref() == Some("22P05") {
            return Error::InvalidPayload(db.message().to_string());
        }
    }
    Error::backend(err)
}
