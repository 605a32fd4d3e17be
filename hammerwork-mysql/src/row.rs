//! How MySQL and MariaDB return each kind of column (the mapping to domain
//! types is `hammerwork_api::driver::*_from_row`), and how ids are passed to
//! `JSON_TABLE`.

use chrono::{DateTime, Utc};
use hammerwork_api::driver::StoredRow;
use hammerwork_api::{Error, JobId, Result};
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

/// A time as bound to a `DATETIME(6)` column (UTC): as a `DATETIME`, whose
/// range ends with the year 9999. sqlx binds `DateTime<Utc>` as a
/// `TIMESTAMP`, which ends in 2038: a later time would be stored as NULL.
pub(crate) fn at(time: DateTime<Utc>) -> chrono::NaiveDateTime {
    time.naive_utc()
}
