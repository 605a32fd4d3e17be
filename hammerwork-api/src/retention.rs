//! Keeping the database small and fast as finished work piles up: how long
//! finished jobs are kept ([`RetentionPolicy`]), what a pruning pass removed
//! ([`Pruned`]), and the maintenance role that one worker at a time holds.
//!
//! ```
//! use std::time::Duration;
//! use hammerwork_api::retention::{Retention, RetentionPolicy};
//!
//! // Completed jobs 24 h, skipped 24 h, cancelled and dead 7 days (the
//! // default); the `audit` queue keeps everything for 90 days.
//! let ninety_days = Some(Duration::from_secs(90 * 24 * 3600));
//! let policy = RetentionPolicy::default().with_queue(
//!     "audit",
//!     Retention { completed: ninety_days, skipped: ninety_days, cancelled: ninety_days, dead: ninety_days },
//! );
//! assert_eq!(policy.for_queue("audit").completed, ninety_days);
//! assert_eq!(policy.for_queue("emails").completed, Some(Duration::from_secs(24 * 3600)));
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use crate::JobStatus;

/// The role ([`Storage::try_lead`](crate::Storage::try_lead)) of the one
/// process at a time that maintains the database: it prunes finished jobs
/// past their retention ([`Storage::prune`](crate::Storage::prune)) and gives
/// back the space of finished rows
/// ([`Storage::reclaim_space`](crate::Storage::reclaim_space)).
pub const MAINTENANCE_ROLE: &str = "maintenance";

/// Jobs one pruning transaction deletes at most, in
/// [`Storage::prune`](crate::Storage::prune) and in the workers' maintenance.
pub const PRUNE_BATCH: u32 = 5_000;

const DAY: Duration = Duration::from_secs(24 * 3600);

/// How long jobs that ended in each final status are kept after they ended
/// (`None`: for ever). The default keeps completed and skipped jobs 24 hours
/// and cancelled and dead ones 7 days, as River does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    /// [`JobStatus::Completed`] jobs.
    pub completed: Option<Duration>,
    /// [`JobStatus::Skipped`] jobs (a condition that did not hold, or a
    /// parent that did not complete).
    pub skipped: Option<Duration>,
    /// [`JobStatus::Cancelled`] jobs.
    pub cancelled: Option<Duration>,
    /// [`JobStatus::Dead`] jobs (out of attempts, or failed for good).
    pub dead: Option<Duration>,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            completed: Some(DAY),
            skipped: Some(DAY),
            cancelled: Some(7 * DAY),
            dead: Some(7 * DAY),
        }
    }
}

impl Retention {
    /// Keeps every finished job for ever.
    pub fn forever() -> Self {
        Retention {
            completed: None,
            skipped: None,
            cancelled: None,
            dead: None,
        }
    }

    /// How long jobs that ended in `status` are kept; `None` for ever, and
    /// for a status that is not final (such jobs are never pruned).
    pub fn of(&self, status: JobStatus) -> Option<Duration> {
        match status {
            JobStatus::Completed => self.completed,
            JobStatus::Skipped => self.skipped,
            JobStatus::Cancelled => self.cancelled,
            JobStatus::Dead => self.dead,
            _ => None,
        }
    }
}

/// How long finished jobs are kept: one [`Retention`] for every queue, and
/// optionally another for some queues.
///
/// Pruning ([`Storage::prune`](crate::Storage::prune)) deletes a finished
/// job once its retention has passed since it ended, with its dependency
/// edges and the spawn records it made, unless something may still read it:
/// a job another stored job depends on stays until that dependent is pruned
/// (so a chain goes from its last job back to its first), a job that spawned
/// others stays until the last of them is pruned, and the occurrence a
/// recurring series continues from stays. A workflow is pruned whole, by
/// [`workflows`](Self::workflows), once finished, unless it is a recurring
/// workflow's live run or a job outside it depends on one of its jobs or was
/// spawned by one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// For queues without their own.
    pub default: Retention,
    /// Per queue, overriding `default`.
    pub queues: BTreeMap<String, Retention>,
    /// How long a finished workflow (every job in a final status) is kept
    /// after its last job ended, whole: its jobs follow this, not their
    /// queues' retention. `None`: for ever. By default 7 days.
    pub workflows: Option<Duration>,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy {
            default: Retention::default(),
            queues: BTreeMap::new(),
            workflows: Some(7 * DAY),
        }
    }
}

impl RetentionPolicy {
    /// Keeps every finished job for ever: pruning does nothing.
    pub fn keep_everything() -> Self {
        RetentionPolicy {
            default: Retention::forever(),
            queues: BTreeMap::new(),
            workflows: None,
        }
    }

    /// The same policy, with `retention` for `queue`.
    pub fn with_queue(mut self, queue: impl Into<String>, retention: Retention) -> Self {
        self.queues.insert(queue.into(), retention);
        self
    }

    /// The retention of `queue`.
    pub fn for_queue(&self, queue: &str) -> Retention {
        self.queues.get(queue).copied().unwrap_or(self.default)
    }
}

/// What pruning deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Jobs deleted (those of pruned workflows included).
    pub jobs: u64,
    /// Workflows deleted, whole.
    pub workflows: u64,
    /// Spawn operation records deleted with the jobs that made them.
    pub spawn_operations: u64,
}

impl std::ops::AddAssign for Pruned {
    fn add_assign(&mut self, other: Pruned) {
        self.jobs += other.jobs;
        self.workflows += other.workflows;
        self.spawn_operations += other.spawn_operations;
    }
}

impl std::iter::Sum for Pruned {
    fn sum<I: Iterator<Item = Pruned>>(iter: I) -> Pruned {
        let mut total = Pruned::default();
        for pruned in iter {
            total += pruned;
        }
        total
    }
}
