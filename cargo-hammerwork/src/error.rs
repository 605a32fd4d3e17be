//! The one error the commands return, and the exit code each kind gives.

use std::fmt;
use std::process::ExitCode;

/// What went wrong, as far as a script calling the tool cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Anything else (exit 1).
    Failed,
    /// The command line lacks something clap cannot see: a database URL, or
    /// one of a scheme no backend takes (exit 2, as clap's own errors).
    Usage,
    /// No such job, workflow or spawn tree (exit 3).
    NotFound,
    /// A bad workflow file, payload or argument value the parser could not
    /// check (exit 4). Nothing was written.
    Invalid,
    /// The database could not be reached or refused the operation (exit 5).
    Database,
    /// Stopped with Ctrl-C before it was done (exit 130, as a shell reports
    /// SIGINT).
    Interrupted,
}

/// One line for the operator, and its kind.
#[derive(Debug)]
pub(crate) struct CliError {
    kind: Kind,
    message: String,
}

impl CliError {
    pub(crate) fn new(kind: Kind, message: impl Into<String>) -> Self {
        CliError {
            kind,
            message: message.into(),
        }
    }

    /// The same kind, another message.
    pub(crate) fn with_message(self, message: String) -> Self {
        CliError { message, ..self }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(Kind::Invalid, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(Kind::NotFound, message)
    }

    /// Adds what to do when the database lacks Hammerwork's tables (the
    /// drivers' messages: PostgreSQL "does not exist", MySQL "doesn't
    /// exist", SQLite "no such table").
    pub(crate) fn with_hint_if_unmigrated(mut self) -> Self {
        let m = &self.message;
        if self.kind == Kind::Database
            && m.contains("hammerwork_")
            && ["does not exist", "doesn't exist", "no such table"]
                .iter()
                .any(|s| m.contains(s))
        {
            self.message.push_str(
                " (are Hammerwork's tables there? `cargo hammerwork migrate` creates them)",
            );
        }
        self
    }

    /// The process exit code: 1 failed, 2 usage, 3 not found,
    /// 4 invalid input, 5 database.
    pub(crate) fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self.kind {
            Kind::Failed => 1,
            Kind::Usage => 2,
            Kind::NotFound => 3,
            Kind::Invalid => 4,
            Kind::Database => 5,
            Kind::Interrupted => 130,
        })
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<hammerwork::Error> for CliError {
    fn from(err: hammerwork::Error) -> Self {
        use hammerwork::Error as E;
        let kind = match &err {
            E::NotFound { .. } | E::WorkflowNotFound { .. } => Kind::NotFound,
            E::InvalidJob { .. }
            | E::TooLarge { .. }
            | E::InvalidPayload(_)
            | E::DuplicateJob { .. }
            | E::Cycle { .. }
            | E::MissingDependency { .. }
            | E::InvalidCondition { .. }
            | E::InvalidCron { .. }
            | E::Spawn(_)
            | E::InvalidWorkflowFile(_)
            | E::Config(_) => Kind::Invalid,
            E::Backend(_) | E::Migration { .. } | E::Conflict(_) => Kind::Database,
            E::NotApplicable(_) => Kind::Failed,
            _ => Kind::Failed,
        };
        let message = match &err {
            E::NotFound { id } => format!("no job {id}"),
            E::WorkflowNotFound { id } => format!("no workflow {id}"),
            _ => one_line(&err),
        };
        CliError::new(kind, message)
    }
}

impl From<std::io::Error> for CliError {
    fn from(err: std::io::Error) -> Self {
        CliError::new(Kind::Failed, err.to_string())
    }
}

/// `err` and its sources on one line: "a: b: c".
pub(crate) fn one_line(err: &dyn std::error::Error) -> String {
    let mut line = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    line.replace('\n', " ")
}

/// What the commands return.
pub(crate) type CliResult<T = ()> = std::result::Result<T, CliError>;
