use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::{
    Capabilities, ClaimParams, Job, JobId, Lease, ListJobsParams, QueueCounts, Result, Settlement,
};

/// The one seam between the Hammerwork runtime and a database.
///
/// Each method is one atomic operation: it runs in one transaction (or one
/// statement) and either fully happens or not at all. The runtime never
/// composes two calls and hopes nothing happened in between. Methods that
/// compare with the clock take `now`, so behaviour is testable without sleeping.
///
/// To add a database, implement this trait and run `hammerwork-testkit`'s
/// conformance suite against it: passing it means the runtime can rely on
/// your backend exactly as on the built-in ones.
#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// What this backend can do (e.g. push wakeups).
    fn capabilities(&self) -> Capabilities;

    /// Validates then writes `jobs` as `Pending`, in one transaction: either every
    /// job is stored or none is. Returns their ids in input order.
    ///
    /// Errors: [`Error::InvalidJob`](crate::Error::InvalidJob) (checked by
    /// [`validate_jobs`](crate::validate::validate_jobs) before any write),
    /// [`Error::DuplicateJob`](crate::Error::DuplicateJob).
    /// Wakes listeners of every queue written to once the transaction commits.
    async fn enqueue_jobs(&self, jobs: &[Job]) -> Result<Vec<JobId>>;

    /// Claims up to `limit` ready jobs of a queue, in one statement: status
    /// `Pending` or `Retrying`, `scheduled_at <= now`, highest priority first,
    /// then earliest `scheduled_at`. Each becomes `Running` with `attempts`
    /// incremented and a lease until `lease_until`.
    ///
    /// Concurrent claimers never receive the same job (rows are locked with
    /// `SKIP LOCKED` semantics, so claimers do not wait on each other).
    /// The returned jobs are in claim order.
    async fn claim_jobs(&self, params: ClaimParams) -> Result<Vec<Job>>;

    /// Applies a batch of attempt outcomes in one transaction.
    ///
    /// Only an attempt that is still the job's current running attempt (same
    /// `attempts`, status `Running`) is changed; stale ones are ignored. A
    /// failure with a `retry_at` and attempts left becomes `Retrying` at
    /// `retry_at`, otherwise `Dead`. Returns how many jobs changed.
    async fn settle_jobs(&self, settlements: &[Settlement], now: DateTime<Utc>) -> Result<u64>;

    /// Extends the leases of these running attempts to `lease_until`, in one
    /// statement. Returns how many were still running and got extended.
    async fn heartbeat_jobs(&self, leases: &[Lease], lease_until: DateTime<Utc>) -> Result<u64>;

    /// Returns running jobs whose lease ended before `now` to `Pending` (their
    /// attempt counted), or makes them `Dead` when no attempt is left. Safe to
    /// run from many processes at once. Returns how many jobs it rescued.
    async fn rescue_expired_jobs(&self, now: DateTime<Utc>) -> Result<u64>;

    /// The job with this id, if any.
    async fn get_job(&self, id: JobId) -> Result<Option<Job>>;

    /// Jobs matching `params`, ordered by id.
    async fn list_jobs(&self, params: ListJobsParams) -> Result<Vec<Job>>;

    /// How many jobs of `queue` are in each status.
    async fn queue_counts(&self, queue: &str) -> Result<QueueCounts>;

    /// Cancels a job that has not finished. Returns `true` when it was cancelled,
    /// `false` when it had already finished, and
    /// [`Error::NotFound`](crate::Error::NotFound) when there is no such job.
    /// A running attempt's later outcome is then ignored.
    async fn cancel_job(&self, id: JobId, now: DateTime<Utc>) -> Result<bool>;

    /// Subscribes to enqueue wakeups, when
    /// [`Capabilities::wakeups`](crate::Capabilities) is not `None`. The default
    /// has none: workers then poll.
    async fn listen(&self) -> Result<Option<Box<dyn WakeupListener>>> {
        Ok(None)
    }
}

/// A subscription to "new work in queue X" notifications.
#[async_trait]
pub trait WakeupListener: Send {
    /// The next queue that received work, or `None` when the subscription ended
    /// (the runtime then re-subscribes and meanwhile polls).
    async fn recv(&mut self) -> Option<String>;
}

/// Conveniences over [`Storage`], for every backend.
#[async_trait]
pub trait StorageExt: Storage {
    /// Enqueues one job; returns its id.
    async fn enqueue(&self, job: Job) -> Result<JobId> {
        let ids = self.enqueue_jobs(std::slice::from_ref(&job)).await?;
        Ok(ids[0])
    }

    /// Enqueues many jobs in one transaction; returns their ids in order.
    async fn enqueue_many(&self, jobs: Vec<Job>) -> Result<Vec<JobId>> {
        self.enqueue_jobs(&jobs).await
    }
}

impl<S: Storage + ?Sized> StorageExt for S {}

#[async_trait]
impl<S: Storage + ?Sized> Storage for Arc<S> {
    fn capabilities(&self) -> Capabilities {
        (**self).capabilities()
    }
    async fn enqueue_jobs(&self, jobs: &[Job]) -> Result<Vec<JobId>> {
        (**self).enqueue_jobs(jobs).await
    }
    async fn claim_jobs(&self, params: ClaimParams) -> Result<Vec<Job>> {
        (**self).claim_jobs(params).await
    }
    async fn settle_jobs(&self, settlements: &[Settlement], now: DateTime<Utc>) -> Result<u64> {
        (**self).settle_jobs(settlements, now).await
    }
    async fn heartbeat_jobs(&self, leases: &[Lease], lease_until: DateTime<Utc>) -> Result<u64> {
        (**self).heartbeat_jobs(leases, lease_until).await
    }
    async fn rescue_expired_jobs(&self, now: DateTime<Utc>) -> Result<u64> {
        (**self).rescue_expired_jobs(now).await
    }
    async fn get_job(&self, id: JobId) -> Result<Option<Job>> {
        (**self).get_job(id).await
    }
    async fn list_jobs(&self, params: ListJobsParams) -> Result<Vec<Job>> {
        (**self).list_jobs(params).await
    }
    async fn queue_counts(&self, queue: &str) -> Result<QueueCounts> {
        (**self).queue_counts(queue).await
    }
    async fn cancel_job(&self, id: JobId, now: DateTime<Utc>) -> Result<bool> {
        (**self).cancel_job(id, now).await
    }
    async fn listen(&self) -> Result<Option<Box<dyn WakeupListener>>> {
        (**self).listen().await
    }
}
