use std::future::Future;
use std::ops::Deref;

use async_trait::async_trait;
use hammerwork_api::{BoxError, Job};
use serde_json::Value;

/// A handler's error: any error type converts into it with `?`.
pub type HandlerError = BoxError;

/// What a handler returns: `Ok(Some(value))` stores `value` as the job's result,
/// `Ok(None)` completes without one, `Err` fails the attempt (it is retried
/// after its backoff while attempts remain).
pub type HandlerResult = Result<Option<Value>, HandlerError>;

/// What a handler receives: the claimed job (read its fields through `Deref`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct JobContext {
    /// The job being processed.
    pub job: Job,
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
