//! How PostgreSQL returns each kind of column; the mapping to domain types
//! is `hammerwork_api::driver::*_from_row`.

use chrono::{DateTime, Utc};
use hammerwork_api::driver::StoredRow;
use hammerwork_api::{Error, Result};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{Column, Postgres, Row, TypeInfo};
use uuid::Uuid;

/// A PostgreSQL row, read as [`StoredRow`].
pub(crate) struct Stored<'r>(pub(crate) &'r PgRow);

/// Column `name` of `row`.
pub(crate) fn get<'r, T>(row: &'r PgRow, name: &str) -> Result<T>
where
    T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    row.try_get(name).map_err(Error::backend)
}

impl StoredRow for Stored<'_> {
    fn text(&self, column: &str) -> Result<Option<String>> {
        get(self.0, column)
    }

    fn int(&self, column: &str) -> Result<Option<i64>> {
        let kind = self.0.try_column(column).map_err(Error::backend)?;
        Ok(match kind.type_info().name() {
            "INT2" => get::<Option<i16>>(self.0, column)?.map(i64::from),
            "INT4" => get::<Option<i32>>(self.0, column)?.map(i64::from),
            _ => get(self.0, column)?,
        })
    }

    fn uuid(&self, column: &str) -> Result<Option<Uuid>> {
        get(self.0, column)
    }

    fn json(&self, column: &str) -> Result<Option<Value>> {
        get(self.0, column)
    }

    fn time(&self, column: &str) -> Result<Option<DateTime<Utc>>> {
        get(self.0, column)
    }
}

/// Maps every row with `from_row`.
pub(crate) fn all<T>(
    rows: &[PgRow],
    from_row: impl Fn(&dyn StoredRow) -> Result<T>,
) -> Result<Vec<T>> {
    rows.iter().map(|row| from_row(&Stored(row))).collect()
}
