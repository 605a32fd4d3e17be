//! MySQL 8 / MariaDB 10.6+ storage for the Hammerwork job queue.
//!
//! [`MySqlStorage`] implements [`hammerwork_api::Storage`] with sqlx: batch
//! claims with `FOR UPDATE SKIP LOCKED` over an index kept in claim order,
//! batched settlement and heartbeats (one statement per outcome kind, the
//! batch passed as one JSON document read with `JSON_TABLE`), bulk enqueue
//! with multi-row INSERTs, and in-process wakeups (MySQL has no LISTEN/NOTIFY;
//! other processes poll). Its migrations are embedded, run by
//! [`MySqlStorage::migrate`], and tracked in their own `hammerwork_migrations`
//! table, apart from your application's.
//!
//! Dependencies and workflows follow `docs/design/workflows.md`: an edge
//! table `hammerwork_job_dependencies (parent_id, job_id)` finds a finished
//! job's dependents in O(1) per edge, waiting jobs stay out of the claim
//! index, and a trigger keeps each workflow's counters in step with its jobs'
//! statuses. Settling a job nobody depends on (the common case) stays one
//! statement.
//!
//! Recurring (cron) jobs and workflows carry a `cron_live` flag, 1 on the
//! newest occurrence of each series until the scheduler continues it, and
//! indexed, so listing the finished occurrences to continue reads only them;
//! continuing one clears the flag and enqueues the next occurrence in one
//! transaction, so two schedulers never fork a series.
//!
//! Dynamic spawning (`hammerwork_api::spawn`): a spawned job records its
//! parent, its operation and its depth, and
//! [`complete_and_spawn`](hammerwork_api::Storage::complete_and_spawn)
//! settles the parent (with everything `settle_jobs` would do), writes the
//! `hammerwork_spawn_operations` row and inserts the children in one
//! transaction. Spawn trees and lineage are one `WITH RECURSIVE` query each
//! over the indexed `parent_job_id`; MySQL stops recursive queries at
//! `cte_max_recursion_depth` (1000 by default), so trees are read to at most
//! 1000 levels.
//!
//! The same SQL runs on MySQL 8.0.4+ and MariaDB 10.6+. Creating the trigger
//! needs the `TRIGGER` privilege; a MySQL server with binary logging may
//! also ask for `SUPER` or `log_bin_trust_function_creators`.
//!
//! ```no_run
//! # async fn demo() -> hammerwork_api::Result<()> {
//! use hammerwork_api::{Job, StorageExt};
//! use hammerwork_mysql::MySqlStorage;
//!
//! let storage = MySqlStorage::connect("mysql://root@127.0.0.1:3306/test").await?;
//! storage.migrate().await?;
//! storage.enqueue(Job::new("emails", serde_json::json!({"to": "a@example.com"}))).await?;
//! # Ok(()) }
//! ```

mod batch;
mod enqueue;
mod follow;
mod map_err;
mod migrate;
mod row;
mod storage;
mod version;

pub use storage::MySqlStorage;
