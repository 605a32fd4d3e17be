use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::workflow::{FailurePolicy, JobGroup, WorkflowId, WorkflowStats, WorkflowStatus};

/// A stored workflow: what [`JobGroup`] described, plus its live counters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Workflow {
    /// Its id.
    pub id: WorkflowId,
    /// Name given to the group.
    pub name: String,
    /// Description given to the group.
    pub description: Option<String>,
    /// What a failure does.
    pub failure_policy: FailurePolicy,
    /// Stored state: `Running`, or an operator / policy decision (`Paused`,
    /// `Cancelled`, `Failed`). [`Workflow::status`] derives the current status.
    pub state: WorkflowStatus,
    /// Job counts by status.
    pub stats: WorkflowStats,
    /// When it was enqueued.
    pub created_at: DateTime<Utc>,
    /// It fails (unfinished jobs cancelled) if not finished by then.
    pub deadline_at: Option<DateTime<Utc>>,
    /// How long each run may take (what `deadline_at` was computed from).
    pub timeout: Option<std::time::Duration>,
    /// Recurs on this cron schedule (see
    /// [`JobGroup::with_cron_schedule`]).
    pub cron_schedule: Option<String>,
    /// For a recurring workflow whose series has moved on: the occurrence
    /// enqueued after it (kept by the storage).
    pub next_occurrence: Option<WorkflowId>,
}

impl Workflow {
    /// The record a group is stored as: `Running`, counters zero (the backend
    /// counts the jobs it writes), deadline `timeout` after it starts
    /// (enqueue, or a recurring group's first scheduled time).
    pub fn from_group(group: &JobGroup) -> Self {
        Workflow {
            id: group.id,
            name: group.name.clone(),
            description: group.description.clone(),
            failure_policy: group.failure_policy,
            state: WorkflowStatus::Running,
            stats: WorkflowStats::default(),
            created_at: group.created_at,
            deadline_at: group.timeout.map(|t| crate::later(group.starts_at(), t)),
            timeout: group.timeout,
            cron_schedule: group.cron_schedule.clone(),
            next_occurrence: None,
        }
    }

    /// The workflow as operators read it (the command line's `--json`, the
    /// web API): its fields with the derived [`status`](Self::status) and
    /// completion percentage.
    pub fn summary(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "status": self.status(),
            "failure_policy": self.failure_policy,
            "stats": self.stats,
            "completion_percentage": self.stats.completion_percentage(),
            "created_at": self.created_at,
            "deadline_at": self.deadline_at,
            "cron_schedule": self.cron_schedule,
        })
    }

    /// The current status: a stored decision (`Paused`, `Cancelled`, `Failed`)
    /// stands; otherwise `Running` while any job is pending or running, then
    /// `Failed` if any job failed, `Cancelled` if any job was cancelled (an
    /// operator cancelled jobs one by one), else `Completed`. O(1): counters
    /// only.
    pub fn status(&self) -> WorkflowStatus {
        match self.state {
            WorkflowStatus::Running | WorkflowStatus::Completed => {
                if self.stats.pending_jobs + self.stats.running_jobs > 0 {
                    WorkflowStatus::Running
                } else if self.stats.failed_jobs > 0 {
                    WorkflowStatus::Failed
                } else if self.stats.cancelled_jobs > 0 {
                    WorkflowStatus::Cancelled
                } else {
                    WorkflowStatus::Completed
                }
            }
            decided => decided,
        }
    }
}
