use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::workflow::Condition;
use crate::{DependencyStatus, Job, JobId, JobStatus};

/// What a backend knows of a stored job that a new job depends on.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredParent {
    /// Its status when the batch is written (read under a share lock).
    pub status: JobStatus,
    /// Its result, for conditions.
    pub result: Option<Value>,
}

/// How a job of a batch is written: its initial status and dependency state.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PlannedJob {
    /// `Pending`, or at once `Dead` / `Cancelled` / `Skipped` when a parent
    /// already failed, was cancelled or skipped (or its condition is false).
    pub status: JobStatus,
    /// The dependency state to store.
    pub dependency_status: DependencyStatus,
    /// Parents not completed yet.
    pub pending_dependencies: i32,
    /// Why the job is not pending, if it is not.
    pub error: Option<String>,
    /// Whether some job depends on it when it is written (a job of the same
    /// batch, or a stage it is grafted onto): a backend may keep the flag to
    /// skip looking for dependents of jobs that have none.
    pub has_dependents: bool,
}

impl PlannedJob {
    /// Whether the job can be claimed once due: pending and not waiting on a
    /// dependency.
    pub fn is_claimable(&self) -> bool {
        self.status == JobStatus::Pending
            && matches!(
                self.dependency_status,
                DependencyStatus::None | DependencyStatus::Satisfied
            )
    }
}

/// Decides the initial state of every job of a validated batch (see
/// [`validate_graph`](crate::workflow::validate_graph)): a parent in the batch
/// is pending (or already failed, if the plan failed it); a stored parent
/// counts as done when `Completed`. A job whose parents are all completed
/// already has its condition evaluated now.
///
/// Returns one plan per job, in input order. The same rules in every backend.
pub fn plan_enqueue(jobs: &[Job], stored: &HashMap<JobId, StoredParent>) -> Vec<PlannedJob> {
    if jobs.iter().all(|job| job.depends_on.is_empty()) {
        // The common bulk case: nothing to order or look up.
        return jobs.iter().map(|job| plan_one(job, |_| None)).collect();
    }
    let index: HashMap<JobId, usize> = jobs.iter().enumerate().map(|(i, j)| (j.id, i)).collect();
    let mut plans: Vec<Option<PlannedJob>> = vec![None; jobs.len()];
    for i in topological_order(jobs, &index) {
        let job = &jobs[i];
        let plan = plan_one(job, |dep| match index.get(&dep) {
            Some(&p) => plans[p].as_ref().map(|plan| (plan.status, None)),
            None => stored.get(&dep).map(|s| (s.status, s.result.as_ref())),
        });
        plans[i] = Some(plan);
    }
    let parents: HashSet<JobId> = jobs
        .iter()
        .flat_map(|job| job.depends_on.iter().copied())
        .collect();
    plans
        .into_iter()
        .zip(jobs)
        .map(|(plan, job)| PlannedJob {
            has_dependents: parents.contains(&job.id),
            ..plan.expect("every job planned")
        })
        .collect()
}

fn plan_one<'a>(
    job: &Job,
    parent: impl Fn(JobId) -> Option<(JobStatus, Option<&'a Value>)>,
) -> PlannedJob {
    if job.depends_on.is_empty() {
        return PlannedJob {
            status: JobStatus::Pending,
            dependency_status: DependencyStatus::None,
            pending_dependencies: 0,
            error: None,
            has_dependents: false,
        };
    }
    let mut pending = 0;
    let mut results = Vec::new();
    let mut blocked: Option<(JobStatus, String)> = None;
    // A parent listed twice is one edge (backends store each edge once).
    let mut seen = HashSet::new();
    for &dep in job.depends_on.iter().filter(|dep| seen.insert(**dep)) {
        match parent(dep) {
            Some((JobStatus::Completed, result)) => results.extend(result),
            Some((JobStatus::Dead, _)) => {
                blocked = Some((JobStatus::Dead, format!("dependency {dep} failed")))
            }
            Some((JobStatus::Cancelled, _)) => {
                blocked.get_or_insert((
                    JobStatus::Cancelled,
                    format!("dependency {dep} was cancelled"),
                ));
            }
            Some((JobStatus::Skipped, _)) => {
                blocked
                    .get_or_insert((JobStatus::Skipped, format!("dependency {dep} was skipped")));
            }
            _ => pending += 1,
        }
    }
    if let Some((status, why)) = blocked {
        return PlannedJob {
            status,
            dependency_status: DependencyStatus::Failed,
            pending_dependencies: pending,
            error: Some(why),
            has_dependents: false,
        };
    }
    if pending > 0 {
        return PlannedJob {
            status: JobStatus::Pending,
            dependency_status: DependencyStatus::Waiting,
            pending_dependencies: pending,
            error: None,
            has_dependents: false,
        };
    }
    let runs = job
        .condition
        .as_deref()
        .is_none_or(|c| condition_holds(c, results.into_iter()));
    PlannedJob {
        status: if runs {
            JobStatus::Pending
        } else {
            JobStatus::Skipped
        },
        dependency_status: DependencyStatus::Satisfied,
        pending_dependencies: 0,
        error: (!runs).then(|| "condition is false".to_string()),
        has_dependents: false,
    }
}

/// What a condition is evaluated against: the parents' results merged into
/// one object (fields of later parents win). Results that are not objects
/// are ignored.
pub fn condition_context<'a>(parent_results: impl Iterator<Item = &'a Value>) -> Value {
    let mut merged = Map::new();
    for result in parent_results {
        if let Value::Object(fields) = result {
            merged.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    }
    Value::Object(merged)
}

/// Whether the stored condition `expression` holds over `parent_results`
/// (see [`condition_context`]). Conditions are parsed when their job is
/// enqueued, so one that no longer parses was edited by hand: it counts as
/// false rather than run the job.
pub fn condition_holds<'a>(
    expression: &str,
    parent_results: impl Iterator<Item = &'a Value>,
) -> bool {
    Condition::parse(expression).is_ok_and(|c| c.evaluate(&condition_context(parent_results)))
}

/// Kahn's algorithm over the batch's own edges (the batch is acyclic).
fn topological_order(jobs: &[Job], index: &HashMap<JobId, usize>) -> Vec<usize> {
    let mut indegree = vec![0usize; jobs.len()];
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); jobs.len()];
    for (i, job) in jobs.iter().enumerate() {
        for dep in &job.depends_on {
            if let Some(&p) = index.get(dep) {
                indegree[i] += 1;
                children[p].push(i);
            }
        }
    }
    let mut ready: Vec<usize> = (0..jobs.len()).filter(|&i| indegree[i] == 0).collect();
    let mut order = Vec::with_capacity(jobs.len());
    while let Some(i) = ready.pop() {
        order.push(i);
        for &c in &children[i] {
            indegree[c] -= 1;
            if indegree[c] == 0 {
                ready.push(c);
            }
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stored(status: JobStatus, result: Option<Value>) -> StoredParent {
        StoredParent { status, result }
    }

    #[test]
    fn plans_waiting_satisfied_and_failed() {
        let done = JobId::new();
        let dead = JobId::new();
        let open = JobId::new();
        let known = HashMap::from([
            (
                done,
                stored(JobStatus::Completed, Some(json!({"ok": true}))),
            ),
            (dead, stored(JobStatus::Dead, None)),
            (open, stored(JobStatus::Running, None)),
        ]);
        let root = Job::new("q", json!(1));
        let a = Job::new("q", json!(1)).depends_on(&done);
        let b = Job::new("q", json!(1))
            .depends_on(&done)
            .depends_on(&open)
            .depends_on(&root.id);
        let c = Job::new("q", json!(1)).depends_on(&dead);
        let d = Job::new("q", json!(1)).depends_on(&c.id);
        let e = Job::new("q", json!(1))
            .depends_on(&done)
            .with_condition("ok == false");
        let plans = plan_enqueue(&[d, c, b, a, root, e], &known);
        let summary: Vec<_> = plans
            .iter()
            .map(|p| (p.status, p.dependency_status, p.pending_dependencies))
            .collect();
        assert_eq!(
            summary,
            vec![
                (JobStatus::Dead, DependencyStatus::Failed, 0),
                (JobStatus::Dead, DependencyStatus::Failed, 0),
                (JobStatus::Pending, DependencyStatus::Waiting, 2),
                (JobStatus::Pending, DependencyStatus::Satisfied, 0),
                (JobStatus::Pending, DependencyStatus::None, 0),
                (JobStatus::Skipped, DependencyStatus::Satisfied, 0),
            ]
        );
    }

    #[test]
    fn a_parent_listed_twice_counts_once() {
        let parent = Job::new("q", json!(1));
        let mut child = Job::new("q", json!(1));
        child.depends_on = vec![parent.id, parent.id];
        let plans = plan_enqueue(&[parent, child], &HashMap::new());
        assert_eq!(plans[1].pending_dependencies, 1);
    }

    #[test]
    fn context_merges_object_results() {
        let a = json!({"x": 1, "y": 1});
        let b = json!({"y": 2});
        let c = json!("not an object");
        assert_eq!(
            condition_context([&a, &b, &c].into_iter()),
            json!({"x": 1, "y": 2})
        );
    }
}
