//! Dynamic job spawning: [`SpawnManager`] holds the registered
//! [`SpawnHandler`]s; a [`Worker`](crate::Worker) given one with
//! [`with_spawn_manager`](crate::Worker::with_spawn_manager) runs the handler
//! of every job that carries a spawn configuration after the job's own
//! handler succeeds, and writes the parent's completion, the children and the
//! operation record in one transaction.
//!
//! ```no_run
//! use async_trait::async_trait;
//! use hammerwork::spawn::{JobSpawnExt, SpawnConfig, SpawnContext, SpawnHandler, SpawnManager};
//! use hammerwork::{HandlerResult, Job, JobContext, Result, Worker};
//! use serde_json::json;
//!
//! struct Splitter;
//!
//! #[async_trait]
//! impl<DB: 'static> SpawnHandler<DB> for Splitter {
//!     async fn spawn_jobs(&self, ctx: SpawnContext<DB>) -> Result<Vec<Job>> {
//!         Ok((0..4).map(|i| Job::new("part", json!({"part": i}))).collect())
//!     }
//! }
//!
//! # async fn demo(storage: hammerwork::SqliteStorage) {
//! let mut manager = SpawnManager::new();
//! manager.register_handler("splitter", Splitter);
//! let worker = Worker::new(storage, "split", |_: JobContext| async { HandlerResult::Ok(None) })
//!     .with_spawn_manager(manager);
//! let job = Job::new("split", json!({})).with_spawn_handler("splitter");
//! # }
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
pub use hammerwork_api::spawn::*;
use hammerwork_api::{Error, Job, Storage};

/// The registered spawn handlers of one database type `DB` (see
/// [`StorageDatabase`](hammerwork_api::StorageDatabase)).
pub struct SpawnManager<DB> {
    handlers: HashMap<String, Arc<dyn SpawnHandler<DB>>>,
}

impl<DB> Default for SpawnManager<DB> {
    fn default() -> Self {
        SpawnManager {
            handlers: HashMap::new(),
        }
    }
}

impl<DB: 'static> SpawnManager<DB> {
    /// No handlers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `handler` as `name` (replacing one of the same name).
    pub fn register_handler(&mut self, name: impl Into<String>, handler: impl SpawnHandler<DB>) {
        self.handlers.insert(name.into(), Arc::new(handler));
    }

    /// Whether a handler is registered as `name`.
    pub fn has_handler(&self, name: &str) -> bool {
        self.handlers.contains_key(name)
    }
}

/// What the worker does with a job's spawn configuration.
pub(crate) enum SpawnPlan {
    /// The job does not spawn.
    None,
    /// Write these with the parent's completion.
    Spawn(SpawnSet),
}

/// A [`SpawnManager`] with its database type erased, as a worker holds it.
#[async_trait]
pub(crate) trait Spawner: Send + Sync {
    /// Runs `parent`'s spawn handler. `Err((error, retryable))`: the parent
    /// fails; retryable only for the handler's own errors.
    async fn plan(
        &self,
        parent: &Job,
        storage: Arc<dyn Storage>,
        now: DateTime<Utc>,
    ) -> std::result::Result<SpawnPlan, (Error, bool)>;
}

#[async_trait]
impl<DB: 'static> Spawner for SpawnManager<DB> {
    async fn plan(
        &self,
        parent: &Job,
        storage: Arc<dyn Storage>,
        now: DateTime<Utc>,
    ) -> std::result::Result<SpawnPlan, (Error, bool)> {
        plan_with(Some(self), parent, storage, now).await
    }
}

/// Plans `parent`'s spawn with `manager` (none: a job that asks to spawn
/// fails with [`SpawnError::UnknownHandler`]).
pub(crate) async fn plan_with<DB: 'static>(
    manager: Option<&SpawnManager<DB>>,
    parent: &Job,
    storage: Arc<dyn Storage>,
    now: DateTime<Utc>,
) -> std::result::Result<SpawnPlan, (Error, bool)> {
    let permanent = |e: Error| (e, false);
    let Some(config) = SpawnConfig::from_job(parent).map_err(permanent)? else {
        return Ok(SpawnPlan::None);
    };
    let name = config.handler.clone().ok_or_else(|| {
        permanent(Error::Spawn(SpawnError::InvalidConfig {
            reason: "no handler named".into(),
        }))
    })?;
    let handler = manager.and_then(|m| m.handlers.get(&name)).ok_or_else(|| {
        permanent(Error::Spawn(SpawnError::UnknownHandler {
            name: name.clone(),
        }))
    })?;
    handler.validate_spawn(parent, &config).await.map_err(|e| {
        permanent(match e {
            Error::Spawn(e) => Error::Spawn(e),
            other => Error::Spawn(SpawnError::Rejected {
                reason: other.to_string(),
            }),
        })
    })?;
    let children = handler
        .spawn_jobs(SpawnContext::new(parent.clone(), config.clone(), storage))
        .await
        .map_err(|e| match e {
            Error::Spawn(e) => (Error::Spawn(e), true),
            other => (SpawnError::failed(other), true),
        })?;
    let set = plan_spawn(parent, &config, children, now).map_err(permanent)?;
    Ok(SpawnPlan::Spawn(set))
}
