use std::collections::HashMap;
use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::{Job, JobId};

/// A job and what it spawned, to a depth: built from the job and its
/// descendants (as [`Storage::get_descendants`](crate::Storage::get_descendants)
/// returns them), rendered as text, JSON or Mermaid.
#[derive(Debug, Clone)]
pub struct SpawnTree {
    /// The root of the tree.
    pub root: SpawnTreeNode,
}

/// One job of a [`SpawnTree`] and its children, in id (creation) order.
#[derive(Debug, Clone)]
pub struct SpawnTreeNode {
    /// The job.
    pub job: Job,
    /// What it spawned.
    pub children: Vec<SpawnTreeNode>,
}

impl SpawnTree {
    /// The tree under `root` made of `descendants` (jobs that do not descend
    /// from `root` are ignored).
    pub fn build(root: Job, descendants: Vec<Job>) -> Self {
        let mut by_parent: HashMap<JobId, Vec<Job>> = HashMap::new();
        for job in descendants {
            if let Some(parent) = job.parent_job_id {
                by_parent.entry(parent).or_default().push(job);
            }
        }
        for children in by_parent.values_mut() {
            children.sort_by_key(|j| j.id);
        }
        SpawnTree {
            root: node(root, &mut by_parent),
        }
    }

    /// How many jobs the tree holds, root included.
    pub fn len(&self) -> usize {
        fn count(n: &SpawnTreeNode) -> usize {
            1 + n.children.iter().map(count).sum::<usize>()
        }
        count(&self.root)
    }

    /// Never: a tree holds at least its root.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// One line per job, indented by depth: `<id> <queue> [<status>]`.
    pub fn to_text(&self) -> String {
        fn walk(n: &SpawnTreeNode, depth: usize, out: &mut String) {
            let _ = writeln!(
                out,
                "{}{} {} [{}]",
                "  ".repeat(depth),
                n.job.id,
                n.job.queue_name,
                n.job.status
            );
            for c in &n.children {
                walk(c, depth + 1, out);
            }
        }
        let mut out = String::new();
        walk(&self.root, 0, &mut out);
        out
    }

    /// Nested JSON: `{"id", "queue", "status", "depth", "children": [...]}`.
    pub fn to_json(&self) -> Value {
        fn walk(n: &SpawnTreeNode) -> Value {
            json!({
                "id": n.job.id.to_string(),
                "queue": n.job.queue_name,
                "status": n.job.status.as_str(),
                "depth": n.job.spawn_depth,
                "children": n.children.iter().map(walk).collect::<Vec<_>>(),
            })
        }
        walk(&self.root)
    }

    /// A Mermaid flowchart: one node per job, one edge per parent -> child.
    pub fn to_mermaid(&self) -> String {
        fn walk(n: &SpawnTreeNode, out: &mut String) {
            let _ = writeln!(
                out,
                "    {}[\"{} ({})\"]",
                node_id(n.job.id),
                n.job.queue_name.replace('"', "'"),
                n.job.status
            );
            for c in &n.children {
                let _ = writeln!(out, "    {} --> {}", node_id(n.job.id), node_id(c.job.id));
                walk(c, out);
            }
        }
        let mut out = String::from("graph TD\n");
        walk(&self.root, &mut out);
        out
    }
}

fn node(job: Job, by_parent: &mut HashMap<JobId, Vec<Job>>) -> SpawnTreeNode {
    let children = by_parent
        .remove(&job.id)
        .unwrap_or_default()
        .into_iter()
        .map(|c| node(c, by_parent))
        .collect();
    SpawnTreeNode { job, children }
}

fn node_id(id: JobId) -> String {
    format!("j{}", id.0.simple())
}

/// A job's place in its spawn tree: who spawned it (nearest first) and what
/// descends from it.
#[derive(Debug, Clone)]
pub struct Lineage {
    /// The job.
    pub job: Job,
    /// Its parent, grandparent, ... up to the root.
    pub ancestors: Vec<Job>,
    /// Everything it spawned, to the depth asked for.
    pub descendants: Vec<Job>,
}
