//! A workflow's dependency graph as DOT, Mermaid or JSON, for people and tools.

use serde_json::{json, Value};

use crate::Job;

/// A short label for a job: its queue and the last 8 characters of its id
/// (the random part of a UUIDv7; its first characters are the timestamp).
fn label(job: &Job) -> String {
    let id = job.id.to_string();
    format!("{} {}", job.queue_name, &id[id.len() - 8..])
}

/// Graphviz DOT: one node per job (labelled queue, short id and status), one
/// edge per dependency, parent -> dependent.
///
/// ```
/// use hammerwork_api::{workflow::{to_dot, JobGroup}, Job};
/// let group = JobGroup::new("etl").add_job(Job::new("extract", serde_json::json!({}))).then(Job::new("load", serde_json::json!({})));
/// let dot = to_dot(group.jobs());
/// assert!(dot.starts_with("digraph workflow {"));
/// assert_eq!(dot.matches(" -> ").count(), 1);
/// ```
pub fn to_dot(jobs: &[Job]) -> String {
    let mut out = String::from("digraph workflow {\n  rankdir=LR;\n");
    for job in jobs {
        out.push_str(&format!(
            "  \"{}\" [label=\"{}\\n{}\"];\n",
            job.id,
            label(job),
            job.status
        ));
    }
    for job in jobs {
        for dep in &job.depends_on {
            out.push_str(&format!("  \"{dep}\" -> \"{}\";\n", job.id));
        }
    }
    out.push_str("}\n");
    out
}

/// Mermaid flowchart: the same graph, for Markdown renderers.
pub fn to_mermaid(jobs: &[Job]) -> String {
    let node = |id: &crate::JobId| format!("j{}", id.0.simple());
    let mut out = String::from("flowchart LR\n");
    for job in jobs {
        out.push_str(&format!(
            "  {}[\"{} ({})\"]\n",
            node(&job.id),
            label(job),
            job.status
        ));
    }
    for job in jobs {
        for dep in &job.depends_on {
            out.push_str(&format!("  {} --> {}\n", node(dep), node(&job.id)));
        }
    }
    out
}

/// JSON: `{"nodes": [{id, queue, status, dependency_status, condition}],
/// "edges": [{from, to}]}`; a node's `condition` (null when it has none) is
/// the expression over its parents that decides whether it runs.
pub fn to_json(jobs: &[Job]) -> Value {
    let nodes: Vec<Value> = jobs
        .iter()
        .map(|job| {
            json!({
                "id": job.id,
                "queue": job.queue_name,
                "status": job.status,
                "dependency_status": job.dependency_status,
                "condition": job.condition,
            })
        })
        .collect();
    let edges: Vec<Value> = jobs
        .iter()
        .flat_map(|job| {
            job.depends_on
                .iter()
                .map(move |dep| json!({"from": dep, "to": job.id}))
        })
        .collect();
    json!({"nodes": nodes, "edges": edges})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::JobGroup;

    #[test]
    fn renders_every_node_and_edge() {
        let group = JobGroup::new("fan")
            .add_job(Job::new("split", json!({})))
            .add_parallel_jobs(vec![Job::new("work", json!(1)), Job::new("work", json!(2))])
            .then(Job::new("merge", json!({})));
        let jobs = group.jobs();
        let mermaid = to_mermaid(jobs);
        assert!(mermaid.starts_with("flowchart LR\n"));
        // `merge` waits for everything before it: split and both works.
        assert_eq!(mermaid.matches(" --> ").count(), 3);
        let graph = to_json(jobs);
        assert_eq!(graph["nodes"].as_array().unwrap().len(), 4);
        assert_eq!(graph["edges"].as_array().unwrap().len(), 3);
        assert_eq!(graph["edges"][0]["to"], json!(jobs[3].id));
        assert_eq!(to_dot(jobs).matches(" -> ").count(), 3);
    }
}
