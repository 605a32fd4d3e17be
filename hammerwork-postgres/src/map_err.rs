use hammerwork_api::{Error, Job, JobId};
use sqlx::PgPool;
use uuid::Uuid;

/// SQLSTATEs after which PostgreSQL has rolled the transaction back and
/// running it again is safe: 40P01 `deadlock_detected`, 40001
/// `serialization_failure`.
const CONFLICTS: [&str; 2] = ["40P01", "40001"];

/// Maps a driver error to Hammerwork's semantic error: the one place where
/// sqlx errors become [`Error`] variants.
pub(crate) fn map_err(err: sqlx::Error) -> Error {
    if let sqlx::Error::Database(db) = &err {
        let code = db.code();
        // 22P05: a string PostgreSQL cannot store in JSONB (e.g. "\u0000").
        if code.as_deref() == Some("22P05") {
            return Error::InvalidPayload(db.message().to_string());
        }
        if code.as_deref().is_some_and(|c| CONFLICTS.contains(&c)) {
            return Error::Conflict(Box::new(err));
        }
    }
    Error::backend(err)
}

/// Whether `err` is a unique violation (SQLSTATE 23505).
pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.code().as_deref() == Some("23505"))
}

/// Turns an insert failure into the most useful error: a duplicate id names
/// the id, looked up (only on this rare path) on the pool, as a failed
/// statement leaves PostgreSQL's transaction unusable.
pub(crate) async fn explain_insert_error(pool: &PgPool, jobs: &[Job], err: sqlx::Error) -> Error {
    if !is_unique_violation(&err) {
        return map_err(err);
    }
    let ids: Vec<Uuid> = jobs.iter().map(|job| job.id.0).collect();
    let found = sql!("find_existing_ids", ids).fetch_optional(pool).await;
    match found
        .ok()
        .flatten()
        .map(|row| sqlx::Row::try_get(&row, "id"))
    {
        Some(Ok(id)) => Error::DuplicateJob { id: JobId(id) },
        _ => map_err(err),
    }
}
