//! Hammerwork: a database-driven job queue for Rust.
//!
//! Durable background jobs on the PostgreSQL or MySQL you already run, with no
//! broker. This crate is the one you depend on: it re-exports the domain types
//! and the [`Storage`] trait from `hammerwork-api`, provides the runtime
//! ([`Worker`], [`WorkerPool`], [`spawn::SpawnManager`], and the cron
//! scheduler one worker at a time runs) and, behind Cargo features, the backends:
//! `sqlite` (on by default, embedded: `SqliteStorage`), `postgres`
//! (`PostgresStorage`), `mysql` (`MySqlStorage`, MySQL 8 and MariaDB 10.6+)
//! and `memory` (`MemoryStorage`, for unit tests). Each is one engine
//! (`hammerwork-engine`) over a driver of SQL primitives, and every backend
//! passes the same conformance suite (`hammerwork-testkit`).
//!
//! ```no_run
//! use hammerwork::{Job, JobContext, HandlerResult, Storage, DatabaseQueue, Worker};
//! use serde_json::json;
//!
//! # async fn demo(storage: impl Storage + Clone) -> hammerwork::Result<()> {
//! // storage: SqliteStorage, PostgresStorage or MySqlStorage, connected and migrated.
//! storage.enqueue(Job::new("emails", json!({"to": "a@example.com"}))).await?;
//!
//! let worker = Worker::new(storage.clone(), "emails", |ctx: JobContext| async move {
//!     println!("sending to {}", ctx.payload["to"]);
//!     HandlerResult::Ok(None)
//! });
//! let running = worker.start();
//! // ... later, on SIGTERM:
//! running.shutdown().await;
//! # Ok(()) }
//! ```

#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
mod any;
mod claim_size;
mod clock;
mod handler;
pub mod metrics;
mod pool;

/// The queue as an application uses it, under the name the workflow guide
/// uses: `use hammerwork::queue::DatabaseQueue;`.
pub mod queue {
    pub use hammerwork_api::DatabaseQueue;
}
pub mod spawn;
mod worker;

pub use async_trait::async_trait;
pub use chrono::{DateTime, Utc};
pub use hammerwork_api::*;
pub use handler::{HandlerError, HandlerResult, JobContext, JobHandler};
pub use pool::{WorkerPool, WorkerPoolHandle};
pub use spawn::JobSpawnExt;
pub use worker::Worker;

#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
pub use any::AnyStorage;

#[cfg(feature = "memory")]
pub use hammerwork_memory::MemoryStorage;
#[cfg(feature = "mysql")]
pub use hammerwork_mysql::MySqlStorage;
#[cfg(feature = "postgres")]
pub use hammerwork_postgres::PostgresStorage;
#[cfg(feature = "sqlite")]
pub use hammerwork_sqlite::SqliteStorage;
