use crate::JobId;

/// A boxed error from a backend driver or a job handler.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The result type of every fallible Hammerwork operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in Hammerwork, by what a caller can do about it.
///
/// Backends map their driver errors into [`Error::Backend`] (or a more specific
/// variant when the database tells us what happened) in one place, so no driver
/// type leaks through the API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A job failed validation before anything was written; `reason` names the problem.
    #[error("invalid job {id}: {reason}")]
    InvalidJob {
        /// The offending job.
        id: JobId,
        /// What is wrong with it.
        reason: String,
    },
    /// Something is over its size limit ([`Limits`](crate::Limits)); nothing
    /// of the call was written.
    #[error("{what} is {bytes} bytes, over the limit of {limit}")]
    TooLarge {
        /// What is too large.
        what: crate::Oversized,
        /// Its size in bytes of JSON.
        bytes: usize,
        /// The limit it is over.
        limit: usize,
    },
    /// A payload could not be turned into (or stored as) JSON.
    #[error("invalid payload: {0}")]
    InvalidPayload(String),
    /// A job with this id already exists.
    #[error("job {id} already exists")]
    DuplicateJob {
        /// The id that is taken.
        id: JobId,
    },
    /// No job with this id exists.
    #[error("job {id} not found")]
    NotFound {
        /// The id that was looked up.
        id: JobId,
    },
    /// A workflow's dependencies form a cycle; `path` lists it in dependency
    /// order, the first id repeated at the end.
    #[error("dependency cycle: {}", path.iter().map(ToString::to_string).collect::<Vec<_>>().join(" -> "))]
    Cycle {
        /// The jobs on the cycle.
        path: Vec<JobId>,
    },
    /// A job depends on an id that is neither in its batch nor stored.
    #[error("job {job} depends on {id}, which does not exist")]
    MissingDependency {
        /// The job that declared the dependency.
        job: JobId,
        /// The id that was not found.
        id: JobId,
    },
    /// A job condition does not parse; `pos` is the byte offset of the problem.
    #[error("invalid condition at position {pos}: {msg}")]
    InvalidCondition {
        /// Byte offset in the expression.
        pos: usize,
        /// What is wrong there.
        msg: String,
    },
    /// A cron expression does not parse (or names no future time).
    #[error("invalid cron schedule {expression:?}: {reason}")]
    InvalidCron {
        /// The expression as given.
        expression: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A spawn was refused or failed; nothing of it was written.
    #[error(transparent)]
    Spawn(#[from] crate::spawn::SpawnError),
    /// No workflow with this id exists.
    #[error("workflow {id} not found")]
    WorkflowNotFound {
        /// The id that was looked up.
        id: crate::workflow::WorkflowId,
    },
    /// A workflow file ([`WorkflowFile`](crate::workflow::WorkflowFile)) is
    /// not a valid workflow; the message names the problem and the jobs by
    /// their names in the file. Nothing was written.
    #[error("invalid workflow file: {0}")]
    InvalidWorkflowFile(String),
    /// A configuration value (URL, schema name, option) is unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// Applying the schema migrations failed.
    #[error("migration {version} failed: {source}")]
    Migration {
        /// The migration that failed.
        version: i64,
        /// Why.
        #[source]
        source: BoxError,
    },
    /// An operation does not apply to the record as it stands (retrying a job
    /// that is not dead or cancelled, ...); the message says why and what
    /// to do instead. Nothing was changed.
    #[error("{0}")]
    NotApplicable(String),
    /// The database or its driver failed (connection lost, timeout, ...).
    #[error("backend: {0}")]
    Backend(#[source] BoxError),
    /// The transaction lost a deadlock or a serialization conflict (or, on
    /// SQLite, waited too long for the write lock) and was rolled back as a
    /// whole: running it again is safe. The engine does so a few times before
    /// returning this.
    #[error("conflict with a concurrent transaction: {0}")]
    Conflict(#[source] BoxError),
}

impl Error {
    /// Wraps any driver error as [`Error::Backend`].
    pub fn backend(err: impl Into<BoxError>) -> Self {
        Error::Backend(err.into())
    }

    /// Whether running the failed transaction again may succeed
    /// ([`Error::Conflict`]).
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Conflict(_))
    }
}
