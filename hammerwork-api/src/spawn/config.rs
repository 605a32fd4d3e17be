use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::SpawnError;
use crate::{Error, Job, Result};

/// The payload key a job's spawn configuration is stored under.
pub const SPAWN_CONFIG_KEY: &str = "_spawn_config";

/// Children one spawn may write when `max_spawn_count` is not set.
pub const DEFAULT_MAX_SPAWN_COUNT: u64 = 10_000;

/// How deep spawn trees may grow when `max_depth` is not set (a root job is
/// depth 0, its children 1, ...).
pub const DEFAULT_MAX_SPAWN_DEPTH: u32 = 10;

/// How a job spawns: which handler, and the limits and inheritance rules its
/// children get. Stored in the job's payload under `_spawn_config` (the same
/// JSON a payload may carry by hand: `handler`, `max_spawn_count`,
/// `inherit_priority`, `inherit_queue`, `spawn_delay_ms`, `operation_id`,
/// `batch_size`, `metadata`, `max_depth`, `await_children`); an unknown key is an error, so a
/// typo does not pass silently.
///
/// ```
/// use std::time::Duration;
/// use hammerwork_api::spawn::SpawnConfig;
///
/// let config = SpawnConfig::new()
///     .with_handler("batch_processor")
///     .with_max_spawn_count(50)
///     .with_inherit_priority(true)
///     .with_spawn_delay(Duration::from_millis(100))
///     .with_batch_size(10);
/// assert_eq!(config.max_spawn_count, Some(50));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SpawnConfig {
    /// The registered [`SpawnHandler`](super::SpawnHandler) that builds the children.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handler: Option<String>,
    /// Most children one spawn may write (default [`DEFAULT_MAX_SPAWN_COUNT`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_spawn_count: Option<u64>,
    /// Children get the parent's priority.
    #[serde(default)]
    pub inherit_priority: bool,
    /// Children go to the parent's queue (otherwise each keeps its own).
    #[serde(default)]
    pub inherit_queue: bool,
    /// Child `i` is scheduled no earlier than `i x spawn_delay` after the spawn.
    #[serde(
        default,
        rename = "spawn_delay_ms",
        with = "millis",
        skip_serializing_if = "Option::is_none"
    )]
    pub spawn_delay: Option<Duration>,
    /// The operation's id (default: derived from the parent's id). Must be
    /// unique: a second operation with the same id is refused. On a recurring
    /// (cron) job, each occurrence's operation is `<id>-<job id>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
    /// Children are inserted this many per statement (default: all at once;
    /// always in the parent's one transaction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<usize>,
    /// Free-form data kept on the operation record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    /// Deepest spawn depth a child may have (default [`DEFAULT_MAX_SPAWN_DEPTH`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_depth: Option<u32>,
    /// The parent's dependents (e.g. the next stage of its workflow) wait for
    /// every descendant it spawns, at any depth, not only for the parent; see
    /// [`with_await_children`](Self::with_await_children).
    #[serde(default)]
    pub await_children: bool,
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_u64(d.as_millis().min(u64::MAX as u128) as u64),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}

impl SpawnConfig {
    /// No handler, default limits, nothing inherited.
    pub fn new() -> Self {
        Self::default()
    }

    /// Names the handler.
    pub fn with_handler(mut self, name: impl Into<String>) -> Self {
        self.handler = Some(name.into());
        self
    }

    /// Caps the number of children.
    pub fn with_max_spawn_count(mut self, n: u64) -> Self {
        self.max_spawn_count = Some(n);
        self
    }

    /// Children get the parent's priority.
    pub fn with_inherit_priority(mut self, inherit: bool) -> Self {
        self.inherit_priority = inherit;
        self
    }

    /// Children go to the parent's queue.
    pub fn with_inherit_queue(mut self, inherit: bool) -> Self {
        self.inherit_queue = inherit;
        self
    }

    /// Staggers the children's start by `delay` each.
    pub fn with_spawn_delay(mut self, delay: Duration) -> Self {
        self.spawn_delay = Some(delay);
        self
    }

    /// Sets the operation id.
    pub fn with_operation_id(mut self, id: impl Into<String>) -> Self {
        self.operation_id = Some(id.into());
        self
    }

    /// Inserts children `n` per statement.
    pub fn with_batch_size(mut self, n: usize) -> Self {
        self.batch_size = Some(n.max(1));
        self
    }

    /// Keeps `metadata` on the operation record.
    pub fn with_metadata(mut self, metadata: Value) -> Self {
        self.metadata = Some(metadata);
        self
    }

    /// Limits the spawn tree's depth.
    pub fn with_max_depth(mut self, depth: u32) -> Self {
        self.max_depth = Some(depth);
        self
    }

    /// Holds the parent's dependents until every child has finished, and,
    /// when a child awaits its own children, until those have, at any depth.
    ///
    /// Each waiting dependent gets every child as one more dependency, in the
    /// transaction that writes the children, so the wait costs O(1) per child
    /// and dependent and uses the dependency rules unchanged: a child that
    /// dies fails the held dependents and applies their workflow's failure
    /// policy (FailFast fails the workflow, Manual pauses it); a skipped or
    /// cancelled child skips or cancels them. The parent itself completes as
    /// usual.
    pub fn with_await_children(mut self, await_children: bool) -> Self {
        self.await_children = await_children;
        self
    }

    /// The configuration `job`'s payload carries, if any;
    /// [`SpawnError::InvalidConfig`] when it does not parse.
    pub fn from_job(job: &Job) -> Result<Option<SpawnConfig>> {
        let Some(raw) = job.payload.get(SPAWN_CONFIG_KEY) else {
            return Ok(None);
        };
        serde_json::from_value(raw.clone()).map(Some).map_err(|e| {
            Error::Spawn(SpawnError::InvalidConfig {
                reason: e.to_string(),
            })
        })
    }
}

/// Spawn configuration on [`Job`]: stored in the payload under
/// [`SPAWN_CONFIG_KEY`], where a handler written by hand is read the same way.
///
/// A spawning job's payload must be a JSON object (a `null` payload becomes an
/// empty one).
///
/// ```
/// use hammerwork_api::spawn::{JobSpawnExt, SpawnConfig};
/// use hammerwork_api::Job;
/// use serde_json::json;
///
/// let job = Job::new("large_dataset", json!({"dataset_id": "ds-123"}))
///     .with_spawn_handler("data_processor")
///     .with_spawn_config(SpawnConfig::new().with_max_spawn_count(20));
/// let config = SpawnConfig::from_job(&job).unwrap().unwrap();
/// assert_eq!(config.handler.as_deref(), Some("data_processor"));
/// assert_eq!(config.max_spawn_count, Some(20));
/// ```
pub trait JobSpawnExt: Sized {
    /// Spawns with the handler registered as `name`.
    ///
    /// The configuration is stored in the payload, which must be a JSON
    /// object (`null` becomes one). On any other payload the job is left as
    /// it was and enqueueing it fails with
    /// [`Error::InvalidJob`](crate::Error::InvalidJob) naming the problem.
    fn with_spawn_handler(self, name: impl Into<String>) -> Self;

    /// Spawns under `config`; a handler already named is kept when `config`
    /// names none.
    ///
    /// The configuration is stored in the payload, which must be a JSON
    /// object (`null` becomes one). On any other payload the job is left as
    /// it was and enqueueing it fails with
    /// [`Error::InvalidJob`](crate::Error::InvalidJob) naming the problem.
    fn with_spawn_config(self, config: SpawnConfig) -> Self;
}

impl JobSpawnExt for Job {
    fn with_spawn_handler(self, name: impl Into<String>) -> Self {
        let name = name.into();
        update_config(self, |config| config.handler = Some(name))
    }

    fn with_spawn_config(self, config: SpawnConfig) -> Self {
        update_config(self, |current| {
            let handler = config.handler.clone().or(current.handler.take());
            *current = SpawnConfig { handler, ..config };
        })
    }
}

fn update_config(mut job: Job, change: impl FnOnce(&mut SpawnConfig)) -> Job {
    let mut config = SpawnConfig::from_job(&job)
        .ok()
        .flatten()
        .unwrap_or_default();
    change(&mut config);
    if job.payload.is_null() {
        job.payload = Value::Object(Default::default());
    }
    let Some(object) = job.payload.as_object_mut() else {
        let kind = match job.payload {
            Value::Array(_) => "an array",
            Value::String(_) => "a string",
            Value::Number(_) => "a number",
            _ => "a boolean",
        };
        return job.reject(format!(
            "a spawning job's payload must be a JSON object (its spawn \
             configuration is stored under `{SPAWN_CONFIG_KEY}`), got {kind}"
        ));
    };
    object.insert(
        SPAWN_CONFIG_KEY.into(),
        serde_json::to_value(&config).expect("SpawnConfig serialises"),
    );
    job
}
