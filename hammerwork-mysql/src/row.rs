//! How MySQL and MariaDB return each kind of column (the mapping to domain
//! types is `hammerwork_api::driver::*_from_row`), and how ids and batches
//! are passed to `JSON_TABLE`.

use chrono::{DateTime, Utc};
use hammerwork_api::driver::JobRecord;
use hammerwork_api::driver::StoredRow;
use hammerwork_api::workflow::PlannedJob;
use hammerwork_api::{Error, Job, JobId, Result};
use serde_json::json;
use serde_json::Value;
use sqlx::mysql::MySqlRow;
use sqlx::Row;
use uuid::Uuid;

/// A MySQL row, read as [`StoredRow`].
pub(crate) struct Stored<'r>(pub(crate) &'r MySqlRow);

impl StoredRow for Stored<'_> {
    /// Read without sqlx's type check: the server flags columns with a binary
    /// collation (and our VARBINARY queue names) as binary, which sqlx
    /// refuses to decode as `String` although the bytes are UTF-8 we wrote.
    fn text(&self, column: &str) -> Result<Option<String>> {
        self.0.try_get_unchecked(column).map_err(Error::backend)
    }

    fn int(&self, column: &str) -> Result<Option<i64>> {
        self.0.try_get(column).map_err(Error::backend)
    }

    fn uuid(&self, column: &str) -> Result<Option<Uuid>> {
        self.0.try_get(column).map_err(Error::backend)
    }

    /// Read as text: MySQL sends its JSON type and MariaDB a LONGTEXT, and
    /// both hold JSON text.
    fn json(&self, column: &str) -> Result<Option<Value>> {
        self.text(column)?
            .map(|t| serde_json::from_str(&t).map_err(|e| Error::backend(format!("{column}: {e}"))))
            .transpose()
    }

    fn time(&self, column: &str) -> Result<Option<DateTime<Utc>>> {
        self.0.try_get(column).map_err(Error::backend)
    }
}

/// Maps every row with `from_row`.
pub(crate) fn all<T>(
    rows: &[MySqlRow],
    from_row: impl Fn(&dyn StoredRow) -> Result<T>,
) -> Result<Vec<T>> {
    rows.iter().map(|row| from_row(&Stored(row))).collect()
}

/// Text column `column` of `row` (see [`Stored::text`]).
pub(crate) fn text(row: &MySqlRow, column: &str) -> Result<Option<String>> {
    Stored(row).text(column)
}

/// `["<32 hex digits>", ...]`, for `JSON_TABLE(? ... COLUMNS (id CHAR(32) PATH '$'))`.
pub(crate) fn hex_ids<'a>(ids: impl IntoIterator<Item = &'a JobId>) -> String {
    json!(ids.into_iter().map(|id| hex(id.0)).collect::<Vec<_>>()).to_string()
}

/// An id as 32 hex digits, as the queries' JSON_TABLE columns read it.
pub(crate) fn hex(id: uuid::Uuid) -> String {
    id.simple().to_string()
}

/// Bytes of JSON above which an insert is split (a statement must fit
/// `max_allowed_packet`: 16 MiB by default on MariaDB, 64 MiB on MySQL 8).
const MAX_CHUNK_BYTES: usize = 4 << 20;

/// The JSON arrays of `insert_jobs.sql` for `jobs` as `plans` plan them,
/// each under [`MAX_CHUNK_BYTES`] (unless one record alone is larger).
pub(crate) fn job_chunks(jobs: &[Job], plans: &[PlannedJob]) -> Result<Vec<String>> {
    let mut chunks = Vec::new();
    let mut chunk = String::from("[");
    for (job, plan) in jobs.iter().zip(plans) {
        let record = serde_json::to_string(&JobRecord::new(job, plan)?)
            .map_err(|e| Error::InvalidPayload(e.to_string()))?;
        if chunk.len() > 1 && chunk.len() + record.len() > MAX_CHUNK_BYTES {
            chunks.push(std::mem::replace(&mut chunk, String::from("[")) + "]");
        }
        if chunk.len() > 1 {
            chunk.push(',');
        }
        chunk.push_str(&record);
    }
    if chunk.len() > 1 {
        chunks.push(chunk + "]");
    }
    Ok(chunks)
}
