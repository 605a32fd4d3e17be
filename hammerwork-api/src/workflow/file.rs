//! The workflow file: a workflow described as data, its jobs named and
//! `depends_on` naming them (the format of the workflow guide, which the
//! command line reads from JSON or YAML and the web API takes as JSON).
//!
//! ```
//! use hammerwork_api::workflow::WorkflowFile;
//! let file: WorkflowFile = serde_json::from_str(r#"{
//!     "name": "etl",
//!     "failure_policy": "continue_on_failure",
//!     "jobs": [
//!         {"name": "extract", "queue": "etl", "payload": {"source": "db"}},
//!         {"name": "load", "queue": "etl", "depends_on": ["extract"]}
//!     ]
//! }"#).unwrap();
//! let loaded = file.build().unwrap();
//! assert_eq!(loaded.group.jobs().len(), 2);
//! assert_eq!(loaded.names[&loaded.group.jobs()[0].id], "extract");
//! ```
//!
//! Every check (unknown fields, names given twice or empty, an unknown
//! `depends_on` name, a cycle, a bad condition, duration or priority) runs
//! before anything is written, and its message names jobs by their names.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::workflow::{Condition, FailurePolicy, JobGroup};
use crate::{Job, JobId, JobPriority};

/// A workflow as the file describes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowFile {
    /// The workflow's name.
    pub name: String,
    /// What it is for.
    #[serde(default)]
    pub description: Option<String>,
    /// What a failure does (default `fail_fast`).
    #[serde(default)]
    pub failure_policy: Option<FailurePolicy>,
    /// How long it may run, as `2h`, `30m`, `1h 30m`.
    #[serde(default)]
    pub timeout: Option<String>,
    /// Its jobs, in any order.
    pub jobs: Vec<JobEntry>,
}

/// One job of a [`WorkflowFile`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobEntry {
    /// Its name in the file, unique there.
    pub name: String,
    /// The queue it runs on.
    pub queue: String,
    /// Its payload (default `{}`).
    #[serde(default)]
    pub payload: Option<Value>,
    /// The names of the jobs it waits for.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// `background`, `low`, `normal` (default), `high` or `critical`.
    #[serde(default)]
    pub priority: Option<String>,
    /// Attempts before it is dead.
    #[serde(default)]
    pub max_attempts: Option<i32>,
    /// Runs only if this holds over the parents' results.
    #[serde(default)]
    pub condition: Option<String>,
    /// Not before this long after the workflow is enqueued.
    #[serde(default)]
    pub delay: Option<String>,
    /// Longest one attempt may run.
    #[serde(default)]
    pub timeout: Option<String>,
}

/// A checked workflow file: the group to enqueue, and each job's name.
#[derive(Debug, Clone)]
pub struct LoadedWorkflow {
    /// The group, ready for `enqueue_workflow`.
    pub group: JobGroup,
    /// The name the file gave each job.
    pub names: BTreeMap<JobId, String>,
}

impl WorkflowFile {
    /// Checks the file and builds its group, new ids for every job.
    /// [`Error::InvalidWorkflowFile`](crate::Error::InvalidWorkflowFile)
    /// names the first problem.
    pub fn build(self) -> crate::Result<LoadedWorkflow> {
        build(self).map_err(crate::Error::InvalidWorkflowFile)
    }
}

fn duration(what: &str, text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("{what}: {text:?} is not a duration: {e}"))
}

fn build(file: WorkflowFile) -> Result<LoadedWorkflow, String> {
    if file.jobs.is_empty() {
        return Err("the workflow has no jobs".into());
    }
    if file.name.trim().is_empty() {
        return Err("the workflow's name is empty".into());
    }
    for (i, entry) in file.jobs.iter().enumerate() {
        if entry.name.trim().is_empty() {
            return Err(format!("job {} (counting from 1) has an empty name", i + 1));
        }
        if entry.queue.trim().is_empty() {
            return Err(format!("job {:?}: queue is empty", entry.name));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(twice) = entry.depends_on.iter().find(|p| !seen.insert(*p)) {
            return Err(format!(
                "job {:?} lists {twice:?} twice in depends_on",
                entry.name
            ));
        }
    }
    let mut ids: HashMap<String, JobId> = HashMap::new();
    for entry in &file.jobs {
        if ids.insert(entry.name.clone(), JobId::new()).is_some() {
            return Err(format!("job name {:?} is given twice", entry.name));
        }
    }
    for entry in &file.jobs {
        for parent in &entry.depends_on {
            if !ids.contains_key(parent) {
                return Err(format!(
                    "job {:?} depends on {parent:?}, which is not a job of this workflow",
                    entry.name
                ));
            }
        }
    }
    if let Some(cycle) = find_cycle(&file.jobs) {
        return Err(format!(
            "the dependencies form a cycle: {}",
            cycle.join(" -> ")
        ));
    }

    let mut group = JobGroup::new(&file.name);
    if let Some(description) = &file.description {
        group = group.with_description(description);
    }
    if let Some(policy) = file.failure_policy {
        group = group.with_failure_policy(policy);
    }
    if let Some(timeout) = &file.timeout {
        group = group.with_timeout(duration("timeout", timeout)?);
    }
    let mut names = BTreeMap::new();
    for entry in file.jobs {
        let what = |field: &str| format!("job {:?}: {field}", entry.name);
        let mut job = Job::new(
            &entry.queue,
            entry
                .payload
                .clone()
                .unwrap_or_else(|| Value::Object(Default::default())),
        );
        job.id = ids[&entry.name];
        job = job.depends_on_jobs(entry.depends_on.iter().map(|p| ids[p]));
        if let Some(priority) = &entry.priority {
            let priority: JobPriority = priority.parse().map_err(|_| {
                format!(
                    "{}: {priority:?} is not one of background, low, normal, high, critical",
                    what("priority")
                )
            })?;
            job = job.with_priority(priority);
        }
        if let Some(max_attempts) = entry.max_attempts {
            if max_attempts < 1 {
                return Err(format!("{}: must be at least 1", what("max_attempts")));
            }
            job = job.with_max_attempts(max_attempts);
        }
        if let Some(condition) = &entry.condition {
            Condition::parse(condition).map_err(|e| format!("{}: {e}", what("condition")))?;
            job = job.with_condition(condition);
        }
        if let Some(delay) = &entry.delay {
            job = job.with_delay(duration(&what("delay"), delay)?);
        }
        if let Some(timeout) = &entry.timeout {
            job = job.with_timeout(duration(&what("timeout"), timeout)?);
        }
        names.insert(job.id, entry.name);
        group = group.add_job(job);
    }
    group
        .validate()
        .map_err(|e| name_jobs(&e.to_string(), &names))?;
    Ok(LoadedWorkflow { group, names })
}

/// `message` with each job id of a loaded file replaced by the job's name
/// (for an error the storage gave when the group was enqueued).
pub fn name_jobs(message: &str, names: &BTreeMap<JobId, String>) -> String {
    names.iter().fold(message.to_string(), |text, (id, name)| {
        text.replace(&id.to_string(), &format!("{name:?}"))
    })
}

/// A cycle among the jobs' `depends_on` names, first name repeated at the
/// end, if there is one (depth-first search, O(jobs + edges)).
fn find_cycle(jobs: &[JobEntry]) -> Option<Vec<String>> {
    let index: HashMap<&str, usize> = jobs
        .iter()
        .enumerate()
        .map(|(i, j)| (j.name.as_str(), i))
        .collect();
    // 0 unvisited, 1 on the current path, 2 done.
    let mut state = vec![0u8; jobs.len()];
    let mut path: Vec<usize> = Vec::new();
    for start in 0..jobs.len() {
        if state[start] != 0 {
            continue;
        }
        // Each frame: a job and how many of its parents were looked at.
        let mut stack = vec![(start, 0usize)];
        state[start] = 1;
        path.push(start);
        while let Some((job, next)) = stack.last_mut() {
            let parents = &jobs[*job].depends_on;
            if *next == parents.len() {
                state[*job] = 2;
                path.pop();
                stack.pop();
                continue;
            }
            let parent = index[parents[*next].as_str()];
            *next += 1;
            match state[parent] {
                0 => {
                    state[parent] = 1;
                    path.push(parent);
                    stack.push((parent, 0));
                }
                1 => {
                    let from = path.iter().position(|&j| j == parent).unwrap_or(0);
                    // path runs from dependents to parents; show parents first.
                    let mut cycle: Vec<String> = path[from..]
                        .iter()
                        .rev()
                        .map(|&j| jobs[j].name.clone())
                        .collect();
                    cycle.push(cycle[0].clone());
                    return Some(cycle);
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

    fn load_str(_name: &str, text: &str) -> Result<LoadedWorkflow, String> {
        let file: WorkflowFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        build(file)
    }

    const SPEC_JSON: &str = r#"{
      "name": "data_pipeline",
      "description": "Daily data processing pipeline",
      "failure_policy": "continue_on_failure",
      "jobs": [
        {"name": "extract", "queue": "etl_queue", "payload": {"source": "production_db"}, "depends_on": []},
        {"name": "transform", "queue": "etl_queue", "payload": {"rules": "business_logic.json"}, "depends_on": ["extract"]},
        {"name": "load", "queue": "etl_queue", "payload": {"destination": "data_warehouse"}, "depends_on": ["transform"]}
      ]
    }"#;

    #[test]
    fn reads_the_guides_file() {
        let loaded = load_str("w.json", SPEC_JSON).unwrap();
        let jobs = loaded.group.jobs();
        assert_eq!(jobs.len(), 3);
        assert_eq!(loaded.names[&jobs[0].id], "extract");
        assert_eq!(jobs[1].depends_on, vec![jobs[0].id]);
        assert_eq!(jobs[2].depends_on, vec![jobs[1].id]);
        assert_eq!(jobs[0].payload["source"], "production_db");
    }

    #[test]
    fn names_the_problem() {
        let cycle = r#"{"name":"w","jobs":[{"name":"a","queue":"q","depends_on":["c"]},{"name":"b","queue":"q","depends_on":["a"]},{"name":"c","queue":"q","depends_on":["b"]}]}"#;
        let err = load_str("w.json", cycle).err().unwrap();
        assert!(err.contains("cycle"), "{err}");
        assert!(
            err.contains("a -> b -> c -> a")
                || err.contains("c -> a -> b -> c")
                || err.contains("b -> c -> a -> b"),
            "{err}"
        );

        let missing = r#"{"name":"w","jobs":[{"name":"a","queue":"q","depends_on":["nope"]}]}"#;
        let err = load_str("w.json", missing).err().unwrap();
        assert!(err.contains("\"nope\""), "{err}");

        let unknown = r#"{"name":"w","jobs":[{"name":"a","queue":"q","depend_on":[]}]}"#;
        let err = load_str("w.json", unknown).err().unwrap();
        assert!(err.contains("depend_on"), "{err}");

        let empty_queue = r#"{"name":"w","jobs":[{"name":"a","queue":""}]}"#;
        let err = load_str("w.json", empty_queue).err().unwrap();
        assert!(err.contains("\"a\": queue is empty"), "{err}");
        let listed_twice = r#"{"name":"w","jobs":[{"name":"a","queue":"q"},{"name":"b","queue":"q","depends_on":["a","a"]}]}"#;
        assert!(load_str("w.json", listed_twice)
            .err()
            .unwrap()
            .contains("twice"));

        let twice = r#"{"name":"w","jobs":[{"name":"a","queue":"q"},{"name":"a","queue":"q"}]}"#;
        assert!(load_str("w.json", twice).err().unwrap().contains("twice"));

        let condition = r#"{"name":"w","jobs":[{"name":"a","queue":"q","condition":"x =="}]}"#;
        assert!(load_str("w.json", condition)
            .err()
            .unwrap()
            .contains("condition"));
    }
}
