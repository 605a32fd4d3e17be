//! Hammerwork's core vocabulary: the [`Job`] and its lifecycle types, the
//! [`Storage`] trait every backend implements, and the one [`Error`] type.
//!
//! This crate does no I/O. Backends (`hammerwork-postgres`, `hammerwork-mysql`, or
//! your own) implement [`Storage`]; the runtime in the `hammerwork` crate drives it.
//! Shared pure logic (input validation, retry backoff) lives here once so that
//! every backend behaves the same way.

pub mod driver;
mod error;
mod job;
pub mod limits;
mod params;
mod priority;
pub mod retention;
mod retry;
pub mod schedule;
pub mod spawn;
mod status;
mod storage;
mod trace;
pub mod validate;
pub mod workflow;

pub use error::{BoxError, Error, Result};
pub use job::{later, latest_time, Job, JobId, RetryState, DEFAULT_MAX_ATTEMPTS};
pub use limits::{Limits, Oversized};
pub use params::{
    Capabilities, ClaimParams, EnqueueBatch, Lease, ListJobsParams, ListWorkflowsParams, Outcome,
    QueueCounts, QueueSummary, Settlement, WakeupScope,
};
pub use priority::JobPriority;
pub use retry::RetryPolicy;
pub use status::{DependencyStatus, JobStatus};
pub use storage::{DatabaseQueue, Storage, StorageDatabase, WakeupListener};
pub use trace::{CorrelationId, TraceId};
pub use workflow::{FailurePolicy, JobGroup, WorkflowId, WorkflowStats, WorkflowStatus};
