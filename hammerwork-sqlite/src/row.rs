//! How SQLite stores each kind of column (ids and JSON as text, timestamps
//! as microseconds since the Unix epoch; the mapping to domain types is
//! `hammerwork_api::driver::*_from_row`), and how a batch is passed.

use chrono::{DateTime, Utc};
use hammerwork_api::driver::StoredRow;
use hammerwork_api::{Error, Result};
use serde_json::{json, Value};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use uuid::Uuid;

/// A SQLite row, read as [`StoredRow`].
pub(crate) struct Stored<'r>(pub(crate) &'r SqliteRow);

impl Stored<'_> {
    fn get<'r, T>(&'r self, column: &str) -> Result<Option<T>>
    where
        T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
    {
        self.0.try_get(column).map_err(Error::backend)
    }
}

impl StoredRow for Stored<'_> {
    fn text(&self, column: &str) -> Result<Option<String>> {
        self.get(column)
    }

    fn int(&self, column: &str) -> Result<Option<i64>> {
        self.get(column)
    }

    fn uuid(&self, column: &str) -> Result<Option<Uuid>> {
        let text: Option<&str> = self.get(column)?;
        text.map(|t| Uuid::parse_str(t).map_err(|e| Error::backend(format!("{column}: {e}"))))
            .transpose()
    }

    fn json(&self, column: &str) -> Result<Option<Value>> {
        let text: Option<&str> = self.get(column)?;
        text.map(|t| serde_json::from_str(t).map_err(|e| Error::backend(format!("{column}: {e}"))))
            .transpose()
    }

    fn time(&self, column: &str) -> Result<Option<DateTime<Utc>>> {
        let micros: Option<i64> = self.get(column)?;
        micros
            .map(|m| {
                DateTime::from_timestamp_micros(m)
                    .ok_or_else(|| Error::backend(format!("{column}: {m} µs is out of range")))
            })
            .transpose()
    }
}

/// Maps every row with `from_row`.
pub(crate) fn all<T>(
    rows: &[SqliteRow],
    from_row: impl Fn(&dyn StoredRow) -> Result<T>,
) -> Result<Vec<T>> {
    rows.iter().map(|row| from_row(&Stored(row))).collect()
}

/// Jobs per `INSERT ... FROM json_each(?)` statement: large enough to amortise
/// the statement, small enough to keep one JSON parameter a few MiB.
pub(crate) const ENQUEUE_CHUNK: usize = 5_000;

/// A list of ids as the JSON array parameter of a `json_each(?)`.
pub(crate) fn id_list<T: ToString>(ids: &[T]) -> String {
    json!(ids.iter().map(ToString::to_string).collect::<Vec<_>>()).to_string()
}
