//! Workflows: job dependencies, groups, failure policies and conditions.

mod condition;
mod group;
mod validate;

pub use condition::Condition;
pub use group::{FailurePolicy, JobGroup, WorkflowId, WorkflowStats, WorkflowStatus};
pub use validate::{external_dependencies, validate_graph};
