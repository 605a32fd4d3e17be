use std::collections::{HashMap, HashSet};

use crate::workflow::Condition;
use crate::{Error, Job, JobId, Result};

/// Checks a set of jobs written together: every dependency is one of `jobs`
/// or an id for which `stored(id)` is true, no job depends on itself or on a
/// cycle, and every condition parses.
///
/// A cycle is reported as [`Error::Cycle`] with its job ids in dependency
/// order, the first repeated at the end (`a -> b -> c -> a`). Iterative, so a
/// chain of any length is fine.
pub fn validate_graph(jobs: &[Job], stored: impl Fn(JobId) -> bool) -> Result<()> {
    let index: HashMap<JobId, usize> = jobs.iter().enumerate().map(|(i, j)| (j.id, i)).collect();
    for job in jobs {
        if let Some(condition) = &job.condition {
            Condition::parse(condition)?;
        }
        for dep in &job.depends_on {
            if *dep == job.id {
                return Err(Error::Cycle {
                    path: vec![job.id, job.id],
                });
            }
            if !index.contains_key(dep) && !stored(*dep) {
                return Err(Error::MissingDependency {
                    job: job.id,
                    id: *dep,
                });
            }
        }
    }
    if let Some(path) = find_cycle(jobs, &index) {
        return Err(Error::Cycle { path });
    }
    Ok(())
}

/// The dependencies of `jobs` that are not among `jobs` (ids a backend must
/// find already stored), each once.
pub fn external_dependencies(jobs: &[Job]) -> Vec<JobId> {
    let own: HashSet<JobId> = jobs.iter().map(|j| j.id).collect();
    let mut seen = HashSet::new();
    jobs.iter()
        .flat_map(|j| j.depends_on.iter().copied())
        .filter(|id| !own.contains(id) && seen.insert(*id))
        .collect()
}

/// Depth-first search with an explicit stack; returns the first cycle found.
fn find_cycle(jobs: &[Job], index: &HashMap<JobId, usize>) -> Option<Vec<JobId>> {
    const NEW: u8 = 0;
    const ON_PATH: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![NEW; jobs.len()];
    for root in 0..jobs.len() {
        if state[root] != NEW {
            continue;
        }
        // (node, next dependency to visit)
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        state[root] = ON_PATH;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            let deps = &jobs[node].depends_on;
            if *next == deps.len() {
                state[node] = DONE;
                stack.pop();
                continue;
            }
            let dep = deps[*next];
            *next += 1;
            let Some(&child) = index.get(&dep) else {
                continue;
            };
            match state[child] {
                NEW => {
                    state[child] = ON_PATH;
                    stack.push((child, 0));
                }
                ON_PATH => {
                    // The path from `child` to `node` on the stack, then back to `child`:
                    // each job depends on the next one.
                    let start = stack
                        .iter()
                        .position(|&(n, _)| n == child)
                        .expect("on path");
                    let mut path: Vec<JobId> =
                        stack[start..].iter().map(|&(n, _)| jobs[n].id).collect();
                    path.push(jobs[child].id);
                    return Some(path);
                }
                _ => {}
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn job() -> Job {
        Job::new("q", json!({}))
    }

    #[test]
    fn accepts_a_dag() {
        let a = job();
        let b = job().depends_on(&a.id);
        let c = job().depends_on(&a.id);
        let d = job().depends_on(&b.id).depends_on(&c.id);
        assert!(validate_graph(&[d, c, b, a], |_| false).is_ok());
    }

    #[test]
    fn reports_the_cycle_in_order() {
        let mut a = job();
        let b = job().depends_on(&a.id);
        let c = job().depends_on(&b.id);
        a = a.depends_on(&c.id);
        let (ia, ib, ic) = (a.id, b.id, c.id);
        match validate_graph(&[a, b, c], |_| false) {
            Err(Error::Cycle { path }) => assert_eq!(path, vec![ia, ic, ib, ia]),
            other => panic!("expected a cycle, got {other:?}"),
        }
        let selfish = job();
        let id = selfish.id;
        let selfish = selfish.depends_on(&id);
        assert!(
            matches!(validate_graph(&[selfish], |_| false), Err(Error::Cycle { path }) if path == vec![id, id])
        );
    }

    #[test]
    fn missing_dependency_names_both_ids() {
        let ghost = JobId::new();
        let j = job().depends_on(&ghost);
        let jid = j.id;
        match validate_graph(std::slice::from_ref(&j), |_| false) {
            Err(Error::MissingDependency { job, id }) => assert_eq!((job, id), (jid, ghost)),
            other => panic!("expected missing dependency, got {other:?}"),
        }
        assert!(
            validate_graph(std::slice::from_ref(&j), |id| id == ghost).is_ok(),
            "a stored dependency is fine"
        );
        assert_eq!(external_dependencies(&[j]), vec![ghost]);
    }

    #[test]
    fn long_chain_does_not_overflow() {
        let mut jobs = vec![job()];
        for _ in 0..100_000 {
            let prev = jobs.last().unwrap().id;
            jobs.push(job().depends_on(&prev));
        }
        assert!(validate_graph(&jobs, |_| false).is_ok());
    }

    #[test]
    fn bad_condition_is_rejected() {
        let j = job().with_condition("status ==");
        assert!(matches!(
            validate_graph(&[j], |_| false),
            Err(Error::InvalidCondition { pos: 9, .. })
        ));
    }
}
