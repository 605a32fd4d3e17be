use std::collections::{BTreeSet, HashMap};

use crate::workflow::FailurePolicy;

/// What a batch of jobs that just died asks of the backend, by their
/// workflows' [`FailurePolicy`]. Generic over the backend's id types.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FailurePlan<J, W> {
    /// Jobs whose transitive dependents die with them (`ContinueOnFailure`,
    /// and jobs outside any workflow).
    pub cascade: Vec<J>,
    /// Workflows to fail, cancelling their unfinished jobs (`FailFast`), in
    /// id order so backends lock them in one order.
    pub fail_fast: Vec<W>,
    /// Workflows to pause (`Manual`), in id order.
    pub pause: Vec<W>,
}

/// Splits dead jobs (`(job, its workflow)`) by their workflow's policy; a
/// workflow missing from `policies` counts as `ContinueOnFailure`. The same
/// rules in every backend.
pub fn plan_failures<J: Clone, W: Clone + Ord + std::hash::Hash>(
    dead: &[(J, Option<W>)],
    policies: &HashMap<W, FailurePolicy>,
) -> FailurePlan<J, W> {
    let mut cascade = Vec::new();
    let mut fail_fast = BTreeSet::new();
    let mut pause = BTreeSet::new();
    for (job, workflow) in dead {
        let policy = workflow
            .as_ref()
            .and_then(|w| policies.get(w).copied())
            .unwrap_or(FailurePolicy::ContinueOnFailure);
        match (policy, workflow) {
            (FailurePolicy::FailFast, Some(w)) => {
                fail_fast.insert(w.clone());
            }
            (FailurePolicy::Manual, Some(w)) => {
                pause.insert(w.clone());
            }
            _ => cascade.push(job.clone()),
        }
    }
    FailurePlan {
        cascade,
        fail_fast: fail_fast.into_iter().collect(),
        pause: pause.into_iter().collect(),
    }
}

/// Of the jobs a cascade just killed (`(job, its workflow)`), those that still
/// apply their own workflow's policy: jobs of a workflow other than the ones
/// whose policies were just applied (`applied`), reached by a dependency
/// across workflows or as a stage held on a spawned descendant. Their
/// dependents are already dead (the cascade is transitive), so applying
/// [`plan_failures`] to them again ends.
pub fn killed_in_other_workflows<J, W: Eq + std::hash::Hash>(
    killed: Vec<(J, Option<W>)>,
    applied: &HashMap<W, FailurePolicy>,
) -> Vec<(J, Option<W>)> {
    killed
        .into_iter()
        .filter(|(_, w)| w.as_ref().is_some_and(|w| !applied.contains_key(w)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_by_policy() {
        let policies = HashMap::from([
            ("ff", FailurePolicy::FailFast),
            ("man", FailurePolicy::Manual),
            ("cof", FailurePolicy::ContinueOnFailure),
        ]);
        let dead = [
            (1, Some("ff")),
            (2, Some("man")),
            (3, Some("cof")),
            (4, None),
            (5, Some("unknown")),
            (6, Some("ff")),
        ];
        let plan = plan_failures(&dead, &policies);
        assert_eq!(plan.cascade, vec![3, 4, 5]);
        assert_eq!(plan.fail_fast, vec!["ff"]);
        assert_eq!(plan.pause, vec!["man"]);
    }
}
