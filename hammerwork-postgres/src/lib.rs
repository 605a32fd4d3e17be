//! PostgreSQL storage for the Hammerwork job queue.
//!
//! [`PostgresStorage`] implements [`hammerwork_api::Storage`] with sqlx:
//! batch claims with `FOR UPDATE SKIP LOCKED`, batched settlement, bulk
//! enqueue with `UNNEST`, and LISTEN/NOTIFY wakeups. Its migrations are
//! embedded, run by [`PostgresStorage::migrate`], and tracked in their own
//! `hammerwork_migrations` table, apart from your application's.
//!
//! ```no_run
//! # async fn demo() -> hammerwork_api::Result<()> {
//! use hammerwork_api::{Job, StorageExt};
//! use hammerwork_postgres::PostgresStorage;
//!
//! let storage = PostgresStorage::connect("postgres://postgres@127.0.0.1/test").await?;
//! storage.migrate().await?;
//! storage.enqueue(Job::new("emails", serde_json::json!({"to": "a@example.com"}))).await?;
//! # Ok(()) }
//! ```

mod map_err;
mod migrate;
mod row;
mod storage;

pub use storage::PostgresStorage;
