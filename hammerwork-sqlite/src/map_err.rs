use hammerwork_api::Error;

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
