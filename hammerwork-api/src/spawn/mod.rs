//! Dynamic job spawning: a job whose payload carries `_spawn_config` (see
//! [`JobSpawnExt`]) is processed, then its registered [`SpawnHandler`]
//! returns child jobs. The parent's completion, the children and a
//! [`SpawnOperation`] record are written in one transaction
//! ([`Storage::complete_and_spawn`](crate::Storage::complete_and_spawn)):
//! after a crash either all exist or none, and a rerun never spawns twice.
//!
//! This module holds the types and the pure checks ([`plan_spawn`]); the
//! runtime (`SpawnManager`, `Worker::with_spawn_manager`) is in the
//! `hammerwork` crate.

mod config;
mod tree;

use std::marker::PhantomData;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Error, Job, JobId, Result, Storage};

pub use config::{
    JobSpawnExt, SpawnConfig, DEFAULT_MAX_SPAWN_COUNT, DEFAULT_MAX_SPAWN_DEPTH, SPAWN_CONFIG_KEY,
};
pub use tree::{Lineage, SpawnTree, SpawnTreeNode};

/// Why a spawn was refused. Nothing is written when one of these is returned;
/// the runtime fails the parent with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpawnError {
    /// The job names a handler no [`SpawnHandler`] is registered under (or
    /// the worker has no spawn manager).
    #[error("no spawn handler is registered as {name:?}")]
    UnknownHandler {
        /// The name the job asked for.
        name: String,
    },
    /// `_spawn_config` does not parse, or names no handler.
    #[error("invalid spawn config: {reason}")]
    InvalidConfig {
        /// What is wrong with it.
        reason: String,
    },
    /// The handler returned more children than `max_spawn_count` allows.
    #[error("{count} children exceed max_spawn_count {max}")]
    TooManyChildren {
        /// How many the handler returned.
        count: u64,
        /// The limit.
        max: u64,
    },
    /// The children would be deeper in the spawn tree than allowed.
    #[error("children at spawn depth {depth} exceed the depth limit {max}")]
    TooDeep {
        /// The children's depth (the root job is depth 0).
        depth: u32,
        /// The limit.
        max: u32,
    },
    /// The handler's `validate_spawn` refused.
    #[error("spawn rejected: {reason}")]
    Rejected {
        /// The handler's reason.
        reason: String,
    },
    /// The handler's `spawn_jobs` failed (the parent's attempt fails and is
    /// retried like a handler error).
    #[error("spawn handler failed: {reason}")]
    Failed {
        /// The handler's error.
        reason: String,
    },
    /// Another operation already has this operation id.
    #[error("spawn operation {id:?} already exists")]
    DuplicateOperation {
        /// The id.
        id: String,
    },
}

impl SpawnError {
    /// [`SpawnError::Rejected`] as an [`Error`], for `validate_spawn`.
    pub fn rejected(reason: impl std::fmt::Display) -> Error {
        Error::Spawn(SpawnError::Rejected {
            reason: reason.to_string(),
        })
    }

    /// [`SpawnError::Failed`] as an [`Error`], for `spawn_jobs`.
    pub fn failed(reason: impl std::fmt::Display) -> Error {
        Error::Spawn(SpawnError::Failed {
            reason: reason.to_string(),
        })
    }
}

/// What a [`SpawnHandler`] gets: the parent (already processed by its job
/// handler) and the effective configuration. `DB` is the backend's database
/// type (`sqlx::Postgres`, `sqlx::MySql`, `sqlx::Sqlite`); a handler that
/// does not care implements [`SpawnHandler<DB>`] for every `DB`.
#[non_exhaustive]
pub struct SpawnContext<DB> {
    /// The job that spawns.
    pub parent_job: Job,
    /// Its spawn configuration.
    pub config: SpawnConfig,
    /// The storage, for handlers that look things up.
    pub storage: Arc<dyn Storage>,
    _database: PhantomData<fn() -> DB>,
}

impl<DB> SpawnContext<DB> {
    /// A context for `parent_job` under `config`.
    pub fn new(parent_job: Job, config: SpawnConfig, storage: Arc<dyn Storage>) -> Self {
        SpawnContext {
            parent_job,
            config,
            storage,
            _database: PhantomData,
        }
    }
}

/// Builds the children of a parent job.
///
/// ```
/// use async_trait::async_trait;
/// use hammerwork_api::spawn::{SpawnContext, SpawnHandler};
/// use hammerwork_api::{Job, Result};
/// use serde_json::json;
///
/// struct Chunker;
///
/// #[async_trait]
/// impl<DB: 'static> SpawnHandler<DB> for Chunker {
///     async fn spawn_jobs(&self, ctx: SpawnContext<DB>) -> Result<Vec<Job>> {
///         let size = ctx.parent_job.payload["size"].as_u64().unwrap_or(0);
///         Ok((0..size.div_ceil(1000))
///             .map(|i| Job::new("process_chunk", json!({"chunk": i})))
///             .collect())
///     }
/// }
/// ```
#[async_trait]
pub trait SpawnHandler<DB>: Send + Sync + 'static {
    /// The children to write with the parent's completion. An error fails
    /// the parent's attempt (retried like a handler error).
    async fn spawn_jobs(&self, context: SpawnContext<DB>) -> Result<Vec<Job>>;

    /// Checked before `spawn_jobs`; an error ([`SpawnError::Rejected`] is
    /// made of its message) fails the parent for good. Accepts everything by
    /// default.
    async fn validate_spawn(&self, parent_job: &Job, config: &SpawnConfig) -> Result<()> {
        let _ = (parent_job, config);
        Ok(())
    }
}

/// The record of one spawn: written with the parent's completion and its
/// children.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpawnOperation {
    /// Its id: `SpawnConfig::operation_id`, or derived from the parent's id.
    pub id: String,
    /// The job that spawned.
    pub parent_job_id: JobId,
    /// The parent's queue.
    pub queue_name: String,
    /// The handler that built the children.
    pub handler: String,
    /// How many children were written.
    pub child_count: u64,
    /// In how many insert batches (`SpawnConfig::batch_size`).
    pub batch_count: u64,
    /// The configuration's metadata.
    pub metadata: Option<Value>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// Whether the parent's dependents wait for these children
    /// ([`SpawnConfig::with_await_children`]), those enqueued after it
    /// completed too.
    #[serde(default)]
    pub await_children: bool,
}

/// What [`Storage::complete_and_spawn`](crate::Storage::complete_and_spawn)
/// writes with the parent's completion (made by [`plan_spawn`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SpawnSet {
    /// The operation record.
    pub operation: SpawnOperation,
    /// The children, tagged with parent, operation and depth.
    pub children: Vec<Job>,
    /// Children are written this many at a time (each write validated and
    /// inserted like one `enqueue_jobs` call), all in the one transaction.
    pub batch_size: usize,
    /// Before the parent completes, every dependent of it that is still
    /// waiting gets each child as one more dependency
    /// ([`SpawnConfig::with_await_children`]).
    pub await_children: bool,
}

/// Spawn figures over a time window
/// ([`Storage::spawn_stats`](crate::Storage::spawn_stats)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SpawnStats {
    /// Operations in the window.
    pub operations: u64,
    /// Children they wrote.
    pub children: u64,
    /// Of those children, how many are `Dead`.
    pub failed_children: u64,
}

impl SpawnStats {
    /// Figures as a backend counted them.
    pub fn new(operations: u64, children: u64, failed_children: u64) -> Self {
        SpawnStats {
            operations,
            children,
            failed_children,
        }
    }

    /// Children per operation (0 when there was none).
    pub fn mean_children_per_operation(&self) -> f64 {
        if self.operations == 0 {
            0.0
        } else {
            self.children as f64 / self.operations as f64
        }
    }
}

/// Which operations [`Storage::list_spawn_operations`](crate::Storage::list_spawn_operations)
/// and [`Storage::spawn_stats`](crate::Storage::spawn_stats) look at.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SpawnQuery {
    /// Only parents of this queue.
    pub queue: Option<String>,
    /// Only operations written at or after this.
    pub since: Option<DateTime<Utc>>,
    /// Only operations written before this.
    pub until: Option<DateTime<Utc>>,
    /// At most this many operations (listing only; default 100).
    pub limit: Option<u32>,
}

impl SpawnQuery {
    /// Every operation.
    pub fn new() -> Self {
        Self::default()
    }
    /// Only parents of `queue`.
    pub fn queue(mut self, queue: impl Into<String>) -> Self {
        self.queue = Some(queue.into());
        self
    }
    /// Only operations written in `[since, until)`.
    pub fn between(mut self, since: DateTime<Utc>, until: DateTime<Utc>) -> Self {
        self.since = Some(since);
        self.until = Some(until);
        self
    }
    /// At most `limit` operations.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }
}

/// For a parent that awaits its children: refuses children that depend on
/// one of the dependents they are grafted onto (`held`), which would wait on
/// each other forever. [`Error::Cycle`] names the loop.
pub fn check_awaiting_cycle(children: &[Job], held: &[JobId]) -> Result<()> {
    for child in children {
        if let Some(stage) = child.depends_on.iter().find(|d| held.contains(d)) {
            return Err(Error::Cycle {
                path: vec![*stage, child.id, *stage],
            });
        }
    }
    Ok(())
}

/// Checks a handler's children against `config` and prepares them for
/// writing: the count against `max_spawn_count`, the depth against
/// `max_depth`, each child valid (as for enqueue) and, where the config says
/// so, given the parent's priority and queue; children are tagged with the
/// parent, the operation and their depth, and staggered by `spawn_delay`
/// from `now`. A child may depend on the parent, on stored jobs and on
/// siblings in its own or an earlier batch (`batch_size`); the storage checks
/// those dependencies (missing ids, cycles) when it writes them.
pub fn plan_spawn(
    parent: &Job,
    config: &SpawnConfig,
    mut children: Vec<Job>,
    now: DateTime<Utc>,
) -> Result<SpawnSet> {
    let handler = config.handler.clone().ok_or_else(|| {
        Error::Spawn(SpawnError::InvalidConfig {
            reason: "no handler named".into(),
        })
    })?;
    let max = config.max_spawn_count.unwrap_or(DEFAULT_MAX_SPAWN_COUNT);
    let count = children.len() as u64;
    if count > max {
        return Err(Error::Spawn(SpawnError::TooManyChildren { count, max }));
    }
    let depth = parent.spawn_depth + 1;
    let max_depth = config.max_depth.unwrap_or(DEFAULT_MAX_SPAWN_DEPTH);
    if depth > max_depth {
        return Err(Error::Spawn(SpawnError::TooDeep {
            depth,
            max: max_depth,
        }));
    }
    // A recurring job's occurrences share their payload: each gets its own id.
    let operation_id = match (&config.operation_id, &parent.cron_schedule) {
        (Some(id), None) => id.clone(),
        (Some(id), Some(_)) => format!("{id}-{}", parent.id),
        (None, _) => format!("spawn-{}", parent.id),
    };
    for (i, child) in children.iter_mut().enumerate() {
        child.parent_job_id = Some(parent.id);
        child.spawn_operation_id = Some(operation_id.clone());
        child.spawn_depth = depth;
        if config.inherit_priority {
            child.priority = parent.priority;
        }
        if config.inherit_queue {
            child.queue_name = parent.queue_name.clone();
        }
        if let Some(delay) = config.spawn_delay {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            child.scheduled_at = child
                .scheduled_at
                .max(crate::later(now, delay.saturating_mul(i)));
        }
    }
    crate::validate::validate_jobs(&children)?;
    let batch_size = config.batch_size.unwrap_or(children.len()).max(1);
    let batch_of: std::collections::HashMap<JobId, usize> = children
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id, i / batch_size))
        .collect();
    for (i, child) in children.iter().enumerate() {
        if let Some(later) = child
            .depends_on
            .iter()
            .find(|d| batch_of.get(d).is_some_and(|&b| b > i / batch_size))
        {
            return Err(Error::Spawn(SpawnError::InvalidConfig {
                reason: format!(
                    "child {} depends on {later}, which is in a later batch of {batch_size}; \
                     list parents before their dependents",
                    child.id
                ),
            }));
        }
    }
    let operation = SpawnOperation {
        id: operation_id,
        parent_job_id: parent.id,
        queue_name: parent.queue_name.clone(),
        handler,
        child_count: children.len() as u64,
        batch_count: children.len().div_ceil(batch_size) as u64,
        metadata: config.metadata.clone(),
        created_at: now,
        await_children: config.await_children,
    };
    Ok(SpawnSet {
        operation,
        children,
        batch_size,
        await_children: config.await_children,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::JobPriority;
    use serde_json::json;
    use std::time::Duration;

    fn parent() -> Job {
        Job::new("parents", json!({})).with_priority(JobPriority::High)
    }

    #[test]
    fn config_round_trips_through_the_payload_and_rejects_unknown_keys() {
        let job = Job::new("q", json!({"k": 1}))
            .with_spawn_handler("h")
            .with_spawn_config(
                SpawnConfig::new()
                    .with_spawn_delay(Duration::from_millis(200))
                    .with_await_children(true),
            );
        assert_eq!(job.payload["_spawn_config"]["spawn_delay_ms"], json!(200));
        assert_eq!(job.payload["k"], json!(1));
        let config = SpawnConfig::from_job(&job).unwrap().unwrap();
        assert_eq!(config.handler.as_deref(), Some("h"), "handler kept");
        assert!(config.await_children);

        let typo = Job::new("q", json!({"_spawn_config": {"handlr": "h"}}));
        let err = SpawnConfig::from_job(&typo).unwrap_err();
        assert!(err.to_string().contains("handlr"), "{err}");
        assert!(SpawnConfig::from_job(&Job::new("q", json!({})))
            .unwrap()
            .is_none());
    }

    #[test]
    fn plan_enforces_count_and_depth_and_tags_children() {
        let config = SpawnConfig::new().with_handler("h").with_max_spawn_count(2);
        let three = (0..3).map(|_| Job::new("c", json!({}))).collect();
        assert!(matches!(
            plan_spawn(&parent(), &config, three, Utc::now()),
            Err(Error::Spawn(SpawnError::TooManyChildren {
                count: 3,
                max: 2
            }))
        ));

        let mut deep = parent();
        deep.spawn_depth = DEFAULT_MAX_SPAWN_DEPTH;
        assert!(matches!(
            plan_spawn(&deep, &config, vec![], Utc::now()),
            Err(Error::Spawn(SpawnError::TooDeep { .. }))
        ));

        let config = config
            .with_inherit_priority(true)
            .with_inherit_queue(true)
            .with_spawn_delay(Duration::from_secs(2));
        let now = Utc::now();
        let p = parent();
        let set = plan_spawn(
            &p,
            &config,
            vec![Job::new("c", json!(0)), Job::new("c", json!(1))],
            now,
        )
        .unwrap();
        assert_eq!(set.operation.id, format!("spawn-{}", p.id));
        assert_eq!(set.operation.child_count, 2);
        for (i, child) in set.children.iter().enumerate() {
            assert_eq!(child.parent_job_id, Some(p.id));
            assert_eq!(child.spawn_depth, 1);
            assert_eq!(child.priority, JobPriority::High);
            assert_eq!(child.queue_name, "parents");
            assert!(child.scheduled_at >= now + chrono::Duration::seconds(2 * i as i64));
        }
    }

    #[test]
    fn plan_rejects_a_dependency_on_a_later_batch() {
        let later = Job::new("c", json!("later"));
        let early = Job::new("c", json!("early")).depends_on(&later.id);
        let config = SpawnConfig::new().with_handler("h").with_batch_size(1);
        assert!(matches!(
            plan_spawn(
                &parent(),
                &config,
                vec![early.clone(), later.clone()],
                Utc::now()
            ),
            Err(Error::Spawn(SpawnError::InvalidConfig { .. }))
        ));
        let set = plan_spawn(&parent(), &config, vec![later, early], Utc::now()).unwrap();
        assert_eq!(set.operation.batch_count, 2);
    }

    #[test]
    fn tree_renders_text_json_and_mermaid() {
        let root = parent();
        let mut child = Job::new("c", json!({}));
        child.parent_job_id = Some(root.id);
        child.spawn_depth = 1;
        let mut grandchild = Job::new("g", json!({}));
        grandchild.parent_job_id = Some(child.id);
        grandchild.spawn_depth = 2;
        let tree = SpawnTree::build(root.clone(), vec![grandchild.clone(), child.clone()]);
        assert_eq!(tree.len(), 3);
        let text = tree.to_text();
        assert!(text.lines().nth(2).unwrap().starts_with("    "), "{text}");
        assert_eq!(
            tree.to_json()["children"][0]["children"][0]["id"],
            json!(grandchild.id.to_string())
        );
        assert_eq!(tree.to_mermaid().matches("-->").count(), 2);
    }
}
