use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;

use async_trait::async_trait;
use hammerwork_api::{BoxError, Job, JobId, Result, Storage};
use serde_json::Value;

/// A handler's error: any error type converts into it with `?`.
pub type HandlerError = BoxError;

/// What a handler returns: `Ok(Some(value))` stores `value` as the job's result,
/// `Ok(None)` completes without one, `Err` fails the attempt (it is retried
/// after its backoff while attempts remain).
pub type HandlerResult = Result<Option<Value>, HandlerError>;

/// What a handler receives: the claimed job (read its fields through `Deref`)
/// and access to what it depends on.
#[derive(Clone)]
#[non_exhaustive]
pub struct JobContext {
    /// The job being processed.
    pub job: Job,
    storage: Arc<dyn Storage>,
}

impl JobContext {
    pub(crate) fn new(job: Job, storage: Arc<dyn Storage>) -> Self {
        JobContext { job, storage }
    }

    /// The results of the jobs this one depends on, keyed by their ids (a
    /// parent that completed without a result maps to `None`): those it
    /// declared and, when a parent awaited its spawned children, those
    /// children ([`Storage::get_dependencies`]). One query, however many
    /// parents: the fan-in step of a workflow aggregates with it.
    ///
    /// ```no_run
    /// # async fn demo(ctx: hammerwork::JobContext) -> hammerwork::HandlerResult {
    /// let total: i64 = ctx
    ///     .parent_results()
    ///     .await?
    ///     .values()
    ///     .flatten()
    ///     .filter_map(|r| r["rows"].as_i64())
    ///     .sum();
    /// Ok(Some(serde_json::json!({ "rows": total })))
    /// # }
    /// ```
    pub async fn parent_results(&self) -> Result<HashMap<JobId, Option<Value>>> {
        if self.job.depends_on.is_empty() {
            return Ok(HashMap::new());
        }
        let parents = self.storage.get_dependencies(self.job.id).await?;
        Ok(parents.into_iter().map(|p| (p.id, p.result)).collect())
    }
}

impl fmt::Debug for JobContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobContext")
            .field("job", &self.job)
            .finish_non_exhaustive()
    }
}

impl Deref for JobContext {
    type Target = Job;

    fn deref(&self) -> &Job {
        &self.job
    }
}

/// Processes the jobs of a queue.
///
/// Implemented for every `Fn(JobContext) -> impl Future<Output = HandlerResult>`,
/// so an async closure is a handler; implement it on a struct for handlers that
/// carry state.
#[async_trait]
pub trait JobHandler: Send + Sync + 'static {
    /// Runs one attempt of `ctx.job`.
    async fn handle(&self, ctx: JobContext) -> HandlerResult;
}

#[async_trait]
impl<F, Fut> JobHandler for F
where
    F: Fn(JobContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HandlerResult> + Send + 'static,
{
    async fn handle(&self, ctx: JobContext) -> HandlerResult {
        self(ctx).await
    }
}
