use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a job is in its lifecycle.
///
/// `Pending` -> `Running` (leased to one worker) -> `Completed` | `Retrying`
/// (back to claimable after its backoff) | `Dead` (out of attempts) | `Cancelled`
/// | `Skipped`. A running job whose lease expires is rescued back to `Pending`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum JobStatus {
    /// Waiting to be claimed (maybe not before `scheduled_at`).
    Pending,
    /// Leased to a worker until `lease_expires_at`.
    Running,
    /// Finished successfully.
    Completed,
    /// Failed an attempt; claimable again from `scheduled_at`.
    Retrying,
    /// Failed its last attempt (or failed permanently).
    Dead,
    /// Cancelled by an operator.
    Cancelled,
    /// Not run because its condition was false.
    Skipped,
}

impl JobStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [JobStatus; 7] = [
        JobStatus::Pending,
        JobStatus::Running,
        JobStatus::Completed,
        JobStatus::Retrying,
        JobStatus::Dead,
        JobStatus::Cancelled,
        JobStatus::Skipped,
    ];

    /// The stored name, e.g. `"pending"`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Running => "running",
            JobStatus::Completed => "completed",
            JobStatus::Retrying => "retrying",
            JobStatus::Dead => "dead",
            JobStatus::Cancelled => "cancelled",
            JobStatus::Skipped => "skipped",
        }
    }

    /// Whether the job will never run again.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobStatus::Completed | JobStatus::Dead | JobStatus::Cancelled | JobStatus::Skipped
        )
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobStatus {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| crate::Error::backend(format!("unknown job status {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for status in JobStatus::ALL {
            assert_eq!(status.as_str().parse::<JobStatus>().unwrap(), status);
        }
        assert!("nope".parse::<JobStatus>().is_err());
    }
}

/// Where a job stands with respect to the jobs it depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DependencyStatus {
    /// No dependencies: runnable as soon as it is due.
    #[default]
    None,
    /// Some dependency has not completed yet; the job is never claimed.
    Waiting,
    /// Every dependency completed.
    Satisfied,
    /// A dependency failed, was cancelled or was skipped.
    Failed,
}

impl DependencyStatus {
    /// Every dependency status.
    pub const ALL: [DependencyStatus; 4] = [
        DependencyStatus::None,
        DependencyStatus::Waiting,
        DependencyStatus::Satisfied,
        DependencyStatus::Failed,
    ];

    /// The stored name, e.g. `"waiting"`.
    pub fn as_str(self) -> &'static str {
        match self {
            DependencyStatus::None => "none",
            DependencyStatus::Waiting => "waiting",
            DependencyStatus::Satisfied => "satisfied",
            DependencyStatus::Failed => "failed",
        }
    }
}

impl fmt::Display for DependencyStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DependencyStatus {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DependencyStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| crate::Error::backend(format!("unknown dependency status {s:?}")))
    }
}
