//! The workflow file of `workflow create --file` (the workflow guide's
//! format): jobs named, `depends_on` by name, in JSON or YAML.
//!
//! ```yaml
//! name: data_pipeline
//! description: Daily data processing pipeline
//! failure_policy: continue_on_failure   # fail_fast (default) | continue_on_failure | manual
//! timeout: 2h                           # optional
//! jobs:
//!   - name: extract
//!     queue: etl_queue
//!     payload: { source: production_db }
//!   - name: transform
//!     queue: etl_queue
//!     depends_on: [extract]
//!     condition: "rows > 0"             # optional, over the parents' results
//! ```
//!
//! Every check (the syntax with its line and column, unknown fields, names
//! given twice, an unknown `depends_on` name, a cycle, a bad condition) runs
//! before anything is written.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

use hammerwork::workflow::{FailurePolicy, JobGroup};
use hammerwork::{Job, JobId};
use serde::Deserialize;
use serde_json::Value;

use crate::cli::PriorityArg;
use crate::error::{CliError, CliResult};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkflowFile {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    failure_policy: Option<FailurePolicy>,
    #[serde(default)]
    timeout: Option<String>,
    jobs: Vec<JobEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JobEntry {
    name: String,
    queue: String,
    #[serde(default)]
    payload: Option<Value>,
    #[serde(default)]
    depends_on: Vec<String>,
    #[serde(default)]
    priority: Option<String>,
    #[serde(default)]
    max_attempts: Option<i32>,
    #[serde(default)]
    condition: Option<String>,
    #[serde(default)]
    delay: Option<String>,
    #[serde(default)]
    timeout: Option<String>,
}

/// A workflow read from a file: the group to enqueue, and each job's name.
pub(crate) struct LoadedWorkflow {
    pub(crate) group: JobGroup,
    pub(crate) names: BTreeMap<JobId, String>,
}

/// Reads and checks the workflow file at `path` (`-`: standard input).
pub(crate) fn load(path: &Path) -> CliResult<LoadedWorkflow> {
    let text = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(path).map_err(|e| {
            CliError::invalid(format!("cannot read workflow file {}: {e}", path.display()))
        })?
    };
    let shown = path.display();
    let file = parse(path, &text).map_err(|e| CliError::invalid(format!("{shown}: {e}")))?;
    build(file).map_err(|e| CliError::invalid(format!("{shown}: {e}")))
}

fn parse(path: &Path, text: &str) -> Result<WorkflowFile, String> {
    let json = match path.extension().and_then(|e| e.to_str()) {
        Some("json") => true,
        Some("yaml" | "yml") => false,
        _ => text.trim_start().starts_with('{'),
    };
    if json {
        serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))
    } else {
        serde_yaml_ng::from_str(text).map_err(|e| format!("invalid YAML: {e}"))
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
            let priority =
                <PriorityArg as clap::ValueEnum>::from_str(priority, true).map_err(|_| {
                    format!(
                        "{}: {priority:?} is not one of background, low, normal, high, critical",
                        what("priority")
                    )
                })?;
            job = job.with_priority(priority.into());
        }
        if let Some(max_attempts) = entry.max_attempts {
            if max_attempts < 1 {
                return Err(format!("{}: must be at least 1", what("max_attempts")));
            }
            job = job.with_max_attempts(max_attempts);
        }
        if let Some(condition) = &entry.condition {
            hammerwork::workflow::Condition::parse(condition)
                .map_err(|e| format!("{}: {e}", what("condition")))?;
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

/// `message` with each job id of the file replaced by the job's name.
pub(crate) fn name_jobs(message: &str, names: &BTreeMap<JobId, String>) -> String {
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

    fn load_str(name: &str, text: &str) -> Result<LoadedWorkflow, String> {
        build(parse(Path::new(name), text)?)
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
    fn yaml_reads_the_same() {
        let yaml = "name: data_pipeline\nfailure_policy: manual\njobs:\n  - name: a\n    queue: q\n  - name: b\n    queue: q\n    depends_on: [a]\n    priority: high\n";
        let loaded = load_str("w.yaml", yaml).unwrap();
        assert_eq!(
            loaded.group.jobs()[1].depends_on,
            vec![loaded.group.jobs()[0].id]
        );
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

        let bad_json = "{\n  \"name\": \"w\",\n  \"jobs\": [,]\n}";
        let err = load_str("w.json", bad_json).err().unwrap();
        assert!(err.contains("line 3"), "{err}");

        let bad_yaml = "name: w\njobs:\n  - name: a\n    queue: [q\n";
        let err = load_str("w.yaml", bad_yaml).err().unwrap();
        assert!(err.contains("line"), "{err}");

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
