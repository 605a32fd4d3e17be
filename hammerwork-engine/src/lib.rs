//! Hammerwork's semantics, written once: [`Engine`] implements
//! [`Storage`](hammerwork_api::Storage) over any
//! [`Driver`](hammerwork_api::driver::Driver).
//!
//! A driver supplies SQL-level primitives; the engine composes them into
//! each operation's one transaction and owns the rules that must not differ
//! between databases:
//! - the enqueue write path (checks, stored parents locked in id order, each
//!   job's initial state, workflow row, jobs, edges);
//! - the follow-up of every job that ends, to a fixpoint: dependents released
//!   (or skipped by their condition), skipped / dead / cancelled jobs ending
//!   their unstarted dependents, failure policies applied, including a
//!   workflow's own policy for a job killed across workflows;
//! - workflow counters, written once per transaction in workflow-id order;
//! - lock order (ids sorted, parents before dependents, workflow rows in id
//!   order) and one timestamp per operation;
//! - transient conflicts (deadlocks, serialization failures, SQLite's busy
//!   timeout): the whole transaction runs again with jittered backoff, up to
//!   five times, each retry logged by `tracing`.
//!
//! ```
//! # async fn demo<D: hammerwork_api::driver::Driver>(driver: D) -> hammerwork_api::Result<()> {
//! use hammerwork_api::{Job, DatabaseQueue};
//! use hammerwork_engine::Engine;
//!
//! let storage = Engine::new(driver);
//! storage.enqueue(Job::new("emails", serde_json::json!({"to": "a@example.com"}))).await?;
//! # Ok(()) }
//! ```

mod coalesce;
mod enqueue;
mod follow;
mod migrate;
mod retry;
mod storage;
mod wakeups;

use std::sync::atomic::AtomicI64;
use std::sync::Arc;

use chrono::Utc;
use coalesce::Coalescer;
use hammerwork_api::driver::{Driver, Transaction};
use hammerwork_api::{EnqueueBatch, Job, JobId, Limits, Result};

pub use migrate::apply_migrations;
pub use wakeups::LocalWakeups;

#[doc(hidden)]
pub use async_trait::async_trait as __async_trait;
#[doc(hidden)]
pub use chrono as __chrono;
#[doc(hidden)]
pub use hammerwork_api as __api;
#[doc(hidden)]
pub use serde_json as __serde_json;

/// [`Storage`](hammerwork_api::Storage) over the driver `D`.
///
/// Cheap to clone; clones share the driver and the enqueue coalescer
/// (concurrent single-job enqueues through any of them share a commit).
#[derive(Debug)]
pub struct Engine<D> {
    driver: Arc<D>,
    limits: Limits,
    coalescer: Arc<Coalescer>,
    /// Dead row versions the last reclaim left (see `reclaim_space`).
    dead_after_reclaim: Arc<AtomicI64>,
}

impl<D> Clone for Engine<D> {
    fn clone(&self) -> Self {
        Engine {
            driver: self.driver.clone(),
            limits: self.limits,
            coalescer: self.coalescer.clone(),
            dead_after_reclaim: self.dead_after_reclaim.clone(),
        }
    }
}

impl<D: Driver> Engine<D> {
    /// The storage of `driver`, with the default [`Limits`].
    pub fn new(driver: D) -> Self {
        Engine {
            driver: Arc::new(driver),
            limits: Limits::default(),
            coalescer: Arc::default(),
            dead_after_reclaim: Arc::default(),
        }
    }

    /// This storage enforcing `limits` instead.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The driver.
    pub fn driver(&self) -> &D {
        &self.driver
    }
}

/// Enqueues `jobs` in `tx`, a savepoint of a transaction the caller holds
/// (and commits), as [`Storage::enqueue_jobs`](hammerwork_api::Storage::enqueue_jobs)
/// would, then commits `tx` (releases the savepoint; on an error it is
/// dropped, which rolls back to it): for a backend's `enqueue_jobs_in`, which
/// writes jobs in the user's own transaction. Wakeups are asked of `tx` and
/// delivered as its commit delivers them. `limits` are the storage's.
pub async fn enqueue_in<T: Transaction>(
    mut tx: T,
    jobs: &[Job],
    limits: &Limits,
) -> Result<Vec<JobId>> {
    let batch = EnqueueBatch::jobs(jobs);
    hammerwork_api::validate::validate_batch(&batch, limits)?;
    let mut work = follow::Work::new(&mut tx, Utc::now());
    enqueue::write_batch(&mut work, batch, false).await?;
    work.finish().await?;
    tx.commit().await?;
    Ok(jobs.iter().map(|job| job.id).collect())
}

/// Implements [`Storage`](hammerwork_api::Storage) for a backend's storage
/// type by forwarding every method to its [`Engine`] field, so the type
/// keeps its own name and conveniences (`connect`, `migrate`, ...), and gives
/// the type a `with_limits` builder setting the engine's [`Limits`]:
///
/// ```
/// # use hammerwork_api::driver::Driver;
/// pub struct MyStorage<D> {
///     engine: hammerwork_engine::Engine<D>,
/// }
/// hammerwork_engine::forward_storage!(impl<D: Driver> for MyStorage<D>, engine);
/// ```
#[macro_export]
macro_rules! forward_storage {
    (impl $(<$($gen:ident : $bound:path),*>)? for $ty:ty, $field:ident) => {
        impl $(<$($gen: $bound),*>)? $ty {
            /// This storage enforcing `limits` (payload, batch, result and
            /// error sizes) instead of the defaults; see
            /// [`Limits`](hammerwork_api::Limits).
            pub fn with_limits(mut self, limits: $crate::__api::Limits) -> Self {
                self.$field = self.$field.with_limits(limits);
                self
            }
        }

        #[$crate::__async_trait]
        impl $(<$($gen: $bound),*>)? $crate::__api::Storage for $ty {
            fn capabilities(&self) -> $crate::__api::Capabilities {
                $crate::__api::Storage::capabilities(&self.$field)
            }
            fn limits(&self) -> $crate::__api::Limits {
                $crate::__api::Storage::limits(&self.$field)
            }
            async fn database_time(
                &self,
            ) -> $crate::__api::Result<$crate::__chrono::DateTime<$crate::__chrono::Utc>> {
                $crate::__api::Storage::database_time(&self.$field).await
            }
            async fn enqueue_jobs(
                &self,
                batch: $crate::__api::EnqueueBatch<'_>,
            ) -> $crate::__api::Result<::std::vec::Vec<$crate::__api::JobId>> {
                $crate::__api::Storage::enqueue_jobs(&self.$field, batch).await
            }
            async fn claim_jobs(
                &self,
                params: $crate::__api::ClaimParams,
            ) -> $crate::__api::Result<::std::vec::Vec<$crate::__api::Job>> {
                $crate::__api::Storage::claim_jobs(&self.$field, params).await
            }
            async fn next_due(
                &self,
                queue: &str,
                after: $crate::__chrono::DateTime<$crate::__chrono::Utc>,
            ) -> $crate::__api::Result<
                ::std::option::Option<$crate::__chrono::DateTime<$crate::__chrono::Utc>>,
            > {
                $crate::__api::Storage::next_due(&self.$field, queue, after).await
            }
            async fn settle_jobs(
                &self,
                settlements: &[$crate::__api::Settlement],
                now: $crate::__chrono::DateTime<$crate::__chrono::Utc>,
            ) -> $crate::__api::Result<u64> {
                $crate::__api::Storage::settle_jobs(&self.$field, settlements, now).await
            }
            async fn heartbeat_jobs(
                &self,
                leases: &[$crate::__api::Lease],
                lease_until: $crate::__chrono::DateTime<$crate::__chrono::Utc>,
            ) -> $crate::__api::Result<u64> {
                $crate::__api::Storage::heartbeat_jobs(&self.$field, leases, lease_until).await
            }
            async fn rescue_expired_jobs(
                &self,
                now: $crate::__chrono::DateTime<$crate::__chrono::Utc>,
            ) -> $crate::__api::Result<u64> {
                $crate::__api::Storage::rescue_expired_jobs(&self.$field, now).await
            }
            async fn get_job(
                &self,
                id: $crate::__api::JobId,
            ) -> $crate::__api::Result<::std::option::Option<$crate::__api::Job>> {
                $crate::__api::Storage::get_job(&self.$field, id).await
            }
            async fn get_jobs(
                &self,
                ids: &[$crate::__api::JobId],
            ) -> $crate::__api::Result<::std::vec::Vec<$crate::__api::Job>> {
                $crate::__api::Storage::get_jobs(&self.$field, ids).await
            }
            async fn list_jobs(
                &self,
                params: $crate::__api::ListJobsParams,
            ) -> $crate::__api::Result<::std::vec::Vec<$crate::__api::Job>> {
                $crate::__api::Storage::list_jobs(&self.$field, params).await
            }
            async fn queue_counts(
                &self,
                queue: &str,
            ) -> $crate::__api::Result<$crate::__api::QueueCounts> {
                $crate::__api::Storage::queue_counts(&self.$field, queue).await
            }
            async fn cancel_job_at(
                &self,
                id: $crate::__api::JobId,
                now: $crate::__chrono::DateTime<$crate::__chrono::Utc>,
            ) -> $crate::__api::Result<bool> {
                $crate::__api::Storage::cancel_job_at(&self.$field, id, now).await
            }
            async fn get_workflow(
                &self,
                id: $crate::__api::WorkflowId,
            ) -> $crate::__api::Result<::std::option::Option<$crate::__api::workflow::Workflow>>
            {
                $crate::__api::Storage::get_workflow(&self.$field, id).await
            }
            async fn list_workflows(
                &self,
                params: $crate::__api::ListWorkflowsParams,
            ) -> $crate::__api::Result<::std::vec::Vec<$crate::__api::workflow::Workflow>> {
                $crate::__api::Storage::list_workflows(&self.$field, params).await
            }
            async fn cancel_workflow_at(
                &self,
                id: $crate::__api::WorkflowId,
                now: $crate::__chrono::DateTime<$crate::__chrono::Utc>,
            ) -> $crate::__api::Result<bool> {
                $crate::__api::Storage::cancel_workflow_at(&self.$field, id, now).await
            }
            async fn retry_workflow_at(
                &self,
                id: $crate::__api::WorkflowId,
                now: $crate::__chrono::DateTime<$crate::__chrono::Utc>,
            ) -> $crate::__api::Result<u64> {
                $crate::__api::Storage::retry_workflow_at(&self.$field, id, now).await
            }
            async fn expire_workflows(
                &self,
                now: $crate::__chrono::DateTime<$crate::__chrono::Utc>,
            ) -> $crate::__api::Result<u64> {
                $crate::__api::Storage::expire_workflows(&self.$field, now).await
            }
            async fn list_recurrences(
                &self,
                cursor: $crate::__api::schedule::RecurrenceCursor,
                limit: u32,
            ) -> $crate::__api::Result<::std::vec::Vec<$crate::__api::schedule::Recurrence>> {
                $crate::__api::Storage::list_recurrences(&self.$field, cursor, limit).await
            }
            async fn advance_recurrence(
                &self,
                source: $crate::__api::schedule::RecurrenceSource,
                next: ::std::option::Option<$crate::__api::EnqueueBatch<'_>>,
            ) -> $crate::__api::Result<bool> {
                $crate::__api::Storage::advance_recurrence(&self.$field, source, next).await
            }
            async fn complete_and_spawn(
                &self,
                lease: $crate::__api::Lease,
                result: ::std::option::Option<$crate::__serde_json::Value>,
                spawn: &$crate::__api::spawn::SpawnSet,
                now: $crate::__chrono::DateTime<$crate::__chrono::Utc>,
            ) -> $crate::__api::Result<bool> {
                $crate::__api::Storage::complete_and_spawn(&self.$field, lease, result, spawn, now).await
            }
            async fn get_spawn_operation(
                &self,
                id: &str,
            ) -> $crate::__api::Result<::std::option::Option<$crate::__api::spawn::SpawnOperation>>
            {
                $crate::__api::Storage::get_spawn_operation(&self.$field, id).await
            }
            async fn list_spawn_operations(
                &self,
                query: $crate::__api::spawn::SpawnQuery,
            ) -> $crate::__api::Result<::std::vec::Vec<$crate::__api::spawn::SpawnOperation>> {
                $crate::__api::Storage::list_spawn_operations(&self.$field, query).await
            }
            async fn spawn_stats(
                &self,
                query: $crate::__api::spawn::SpawnQuery,
            ) -> $crate::__api::Result<$crate::__api::spawn::SpawnStats> {
                $crate::__api::Storage::spawn_stats(&self.$field, query).await
            }
            async fn get_descendants(
                &self,
                id: $crate::__api::JobId,
                max_depth: u32,
            ) -> $crate::__api::Result<::std::vec::Vec<$crate::__api::Job>> {
                $crate::__api::Storage::get_descendants(&self.$field, id, max_depth).await
            }
            async fn get_ancestors(
                &self,
                id: $crate::__api::JobId,
            ) -> $crate::__api::Result<::std::vec::Vec<$crate::__api::Job>> {
                $crate::__api::Storage::get_ancestors(&self.$field, id).await
            }
            async fn get_dependencies(
                &self,
                id: $crate::__api::JobId,
            ) -> $crate::__api::Result<::std::vec::Vec<$crate::__api::Job>> {
                $crate::__api::Storage::get_dependencies(&self.$field, id).await
            }
            async fn get_dependents(
                &self,
                id: $crate::__api::JobId,
            ) -> $crate::__api::Result<::std::vec::Vec<$crate::__api::Job>> {
                $crate::__api::Storage::get_dependents(&self.$field, id).await
            }
            async fn try_lead(
                &self,
                role: &str,
                holder: &str,
                ttl: ::std::time::Duration,
            ) -> $crate::__api::Result<bool> {
                $crate::__api::Storage::try_lead(&self.$field, role, holder, ttl).await
            }
            async fn retry_job_at(
                &self,
                id: $crate::__api::JobId,
                now: $crate::__chrono::DateTime<$crate::__chrono::Utc>,
            ) -> $crate::__api::Result<()> {
                $crate::__api::Storage::retry_job_at(&self.$field, id, now).await
            }
            async fn list_queues(
                &self,
            ) -> $crate::__api::Result<::std::vec::Vec<::std::string::String>> {
                $crate::__api::Storage::list_queues(&self.$field).await
            }
            async fn pause_queue(&self, queue: &str) -> $crate::__api::Result<bool> {
                $crate::__api::Storage::pause_queue(&self.$field, queue).await
            }
            async fn resume_queue(&self, queue: &str) -> $crate::__api::Result<bool> {
                $crate::__api::Storage::resume_queue(&self.$field, queue).await
            }
            async fn paused_queues(
                &self,
            ) -> $crate::__api::Result<::std::vec::Vec<::std::string::String>> {
                $crate::__api::Storage::paused_queues(&self.$field).await
            }
            async fn prune_at(
                &self,
                policy: &$crate::__api::retention::RetentionPolicy,
                now: $crate::__chrono::DateTime<$crate::__chrono::Utc>,
                limit: u32,
            ) -> $crate::__api::Result<$crate::__api::retention::Pruned> {
                $crate::__api::Storage::prune_at(&self.$field, policy, now, limit).await
            }
            async fn reclaim_space(&self) -> $crate::__api::Result<bool> {
                $crate::__api::Storage::reclaim_space(&self.$field).await
            }
            async fn resign(&self, role: &str, holder: &str) -> $crate::__api::Result<()> {
                $crate::__api::Storage::resign(&self.$field, role, holder).await
            }
            async fn listen(
                &self,
            ) -> $crate::__api::Result<
                ::std::option::Option<::std::boxed::Box<dyn $crate::__api::WakeupListener>>,
            > {
                $crate::__api::Storage::listen(&self.$field).await
            }
        }
    };
}
