//! What each command does, over the `Storage` API only.

mod job;
mod queue;
mod spawn;
mod workflow;

use std::sync::Arc;

use hammerwork::Storage;

use crate::cli::{Cli, Command};
use crate::error::{CliError, CliResult, Kind};
use crate::output::outln;

/// What every command gets: the storage, and whether to print JSON.
pub(crate) struct Ctx {
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) json: bool,
}

/// Connects to the database the command line names and runs its command.
pub(crate) async fn run(cli: Cli) -> CliResult {
    let url = cli.database_url.as_deref().ok_or_else(|| {
        CliError::new(
            Kind::Usage,
            "no database: pass --database-url or set DATABASE_URL \
             (e.g. sqlite://hammerwork.db, postgres://user@host/db, mysql://user@host/db)",
        )
    })?;
    // Only `migrate` may create a SQLite file: a mistyped path in any other
    // command is an error, not a new empty database.
    let creates = matches!(cli.command, Command::Migrate);
    let backend = crate::backend::connect(url, creates).await?;
    let ctx = Ctx {
        storage: backend.storage(),
        json: cli.json,
    };
    let result = match cli.command {
        Command::Migrate => {
            backend.migrate().await?;
            if ctx.json {
                crate::output::print_json(&serde_json::json!({ "migrated": true }))
            } else {
                outln!("{}: Hammerwork's tables are up to date", backend.backend());
                Ok(())
            }
        }
        Command::Queue(command) => queue::run(&ctx, command).await,
        Command::Job(command) => job::run(&ctx, command).await,
        Command::Workflow(command) => workflow::run(&ctx, command).await,
        Command::Spawn(command) => spawn::run(&ctx, command).await,
    };
    result.map_err(|err| err.with_hint_if_unmigrated())
}

/// Ctrl-C, watched from the moment it is made: a press that comes before the
/// first wait (or between two waits) is not lost and does not kill the
/// process, which is what a lazily polled `tokio::signal::ctrl_c()` allows.
pub(crate) struct Interrupt {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
    #[cfg(windows)]
    signal: Option<tokio::signal::windows::CtrlC>,
}

impl Interrupt {
    /// Installs the handler now (if the signal cannot be watched, `pressed`
    /// never resolves and Ctrl-C keeps its default effect).
    pub(crate) fn watch() -> Self {
        #[cfg(unix)]
        let signal = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
        #[cfg(windows)]
        let signal = tokio::signal::windows::ctrl_c().ok();
        Self { signal }
    }

    /// Resolves at the next Ctrl-C, or at once for one pressed since the last
    /// call.
    pub(crate) async fn pressed(&mut self) {
        match self.signal.as_mut() {
            Some(signal) => {
                signal.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    }
}
