//! Workflows: job dependencies, groups, failure policies and conditions.

mod condition;
mod failure;
mod file;
mod graph;
mod group;
mod plan;
mod record;
mod validate;

pub use condition::Condition;
pub use failure::{killed_in_other_workflows, plan_failures, FailurePlan};
pub use file::{name_jobs, JobEntry, LoadedWorkflow, WorkflowFile};
pub use graph::{to_dot, to_json, to_mermaid};
pub use group::{FailurePolicy, JobGroup, WorkflowId, WorkflowStats, WorkflowStatus};
pub use plan::{condition_context, condition_holds, plan_enqueue, PlannedJob, StoredParent};
pub use record::Workflow;
pub use validate::{external_dependencies, validate_graph};
