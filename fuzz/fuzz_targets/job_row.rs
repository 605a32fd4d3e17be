//! Any stored row of `hammerwork_jobs` (a JSON object of column -> value, as
//! any database might return it: missing columns, wrong types, values a newer
//! version wrote): decoding gives a job or an error, never a panic; the
//! lenient decode a claim uses gives a job whenever id, attempts and claims
//! read.
#![no_main]

use chrono::{DateTime, Utc};
use hammerwork_api::driver::{claimed_job_from_row, job_from_row, StoredRow};
use hammerwork_api::{Error, Result};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use uuid::Uuid;

/// A row whose columns are the members of a JSON object: text from strings,
/// integers from numbers, ids from UUID strings, times from microseconds;
/// anything else is a read error, as a driver reports a column of the wrong
/// type.
struct Row(Map<String, Value>);

impl Row {
    fn get<T>(&self, column: &str, read: impl Fn(&Value) -> Option<T>) -> Result<Option<T>> {
        match self.0.get(column) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => read(value)
                .map(Some)
                .ok_or_else(|| Error::backend(format!("column {column}: wrong type"))),
        }
    }
}

impl StoredRow for Row {
    fn text(&self, column: &str) -> Result<Option<String>> {
        self.get(column, |v| v.as_str().map(str::to_string))
    }
    fn int(&self, column: &str) -> Result<Option<i64>> {
        self.get(column, Value::as_i64)
    }
    fn uuid(&self, column: &str) -> Result<Option<Uuid>> {
        self.get(column, |v| v.as_str().and_then(|s| s.parse().ok()))
    }
    fn json(&self, column: &str) -> Result<Option<Value>> {
        self.get(column, |v| Some(v.clone()))
    }
    fn time(&self, column: &str) -> Result<Option<DateTime<Utc>>> {
        self.get(column, |v| v.as_i64().and_then(DateTime::from_timestamp_micros))
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(Value::Object(columns)) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let row = Row(columns);
    let strict = job_from_row(&row);
    let lenient = claimed_job_from_row(&row);
    if strict.is_ok() {
        let job = lenient.expect("a row that reads strictly reads leniently");
        assert!(job.rejection().is_none(), "a readable row was rejected");
    }
});
