//! Embedded SQLite storage for the Hammerwork job queue: no database server.
//!
//! [`SqliteStorage`] implements [`hammerwork_api::Storage`] with sqlx on a
//! SQLite file (or an in-memory database): batch claims in one
//! `UPDATE ... RETURNING` statement under SQLite's single write lock, batched
//! settlement, bulk enqueue from one JSON array parameter, and in-process
//! wakeups. Its migrations are embedded, run by [`SqliteStorage::migrate`], and
//! tracked in their own `hammerwork_migrations` table, apart from your
//! application's.
//!
//! Job dependencies and workflows work as on PostgreSQL: an edge table
//! (`hammerwork_job_dependencies`, keyed by parent) finds the dependents of a
//! finished job in O(1) per edge, a trigger keeps each workflow's counters in
//! step with its jobs, and every multi-statement write (an enqueue with
//! dependencies, a settlement and the dependents it releases) runs in one
//! `BEGIN IMMEDIATE` transaction. Jobs waiting on a dependency are not in the
//! claim index, so they cost claims nothing.
//!
//! Dynamic spawning works as on PostgreSQL too:
//! [`complete_and_spawn`](hammerwork_api::Storage::complete_and_spawn)
//! completes the parent (releasing its dependents), records the operation in
//! `hammerwork_spawn_operations` and writes the children, all in one
//! `BEGIN IMMEDIATE` transaction; trees and lineage are `WITH RECURSIVE` walks
//! over the indexed `parent_job_id` column. Spawn handlers for this backend's
//! workers implement `SpawnHandler<sqlx::Sqlite>`.
//!
//! SQLite admits one writer at a time and its WAL mode needs memory shared
//! between processes, so this backend suits one machine: any number of workers
//! in one or several processes on it, not a fleet of machines or a network
//! filesystem. Wakeups reach only this process
//! ([`WakeupScope::Process`](hammerwork_api::WakeupScope)); other processes
//! find new jobs by polling.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> hammerwork_api::Result<()> {
//! use chrono::Utc;
//! use hammerwork_api::{ClaimParams, Job, Storage, StorageExt};
//! use hammerwork_sqlite::SqliteStorage;
//!
//! // Or a file: "sqlite://hammerwork.db", created when missing.
//! let storage = SqliteStorage::connect("sqlite::memory:").await?;
//! storage.migrate().await?;
//! storage.enqueue(Job::new("emails", serde_json::json!({"to": "a@example.com"}))).await?;
//!
//! let now = Utc::now();
//! let claimed = storage
//!     .claim_jobs(ClaimParams::new("emails", 10, now, now + chrono::Duration::seconds(30)))
//!     .await?;
//! assert_eq!(claimed.len(), 1);
//! # Ok(()) }
//! ```

mod map_err;
mod migrate;
mod row;
mod storage;

pub use storage::SqliteStorage;
